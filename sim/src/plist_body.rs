//! Reading and writing the plist bodies the simulated devices exchange with the server.

pub use mdm_profiles::limits::to_xml;

/// Parses a body the server sent (within the document limits) as a dictionary.
pub fn parse_dict(body: &[u8]) -> Result<plist::Dictionary, String> {
    mdm_profiles::limits::parse_plist(body).map_err(|e| e.to_string())?.into_dictionary().ok_or_else(|| "the plist is not a dictionary".to_string())
}
