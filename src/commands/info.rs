//! Queries: DeviceInformation, the list commands (ProfileList, CertificateList,
//! ProvisioningProfileList, InstalledApplicationList, ManagedApplicationList, Restrictions) and
//! the commands without keys (SecurityInfo, AvailableOSUpdates, DeviceConfigured, ShutDownDevice).

use serde::{Deserialize, Serialize};

use super::convert::{encode, Data, Text};
use super::{de, CommandError};

/// The queries a `DeviceInformation` command asks for when its payload leaves out `Queries`
/// (Apple requires the key, so the builder fills it in): identity, OS, model, storage, battery,
/// radios and management state. Queries a device does not support are simply not answered.
pub const DEFAULT_DEVICE_INFORMATION_QUERIES: &[&str] = &[
    "UDID",
    "DeviceName",
    "OSVersion",
    "BuildVersion",
    "ModelName",
    "Model",
    "ProductName",
    "SerialNumber",
    "IMEI",
    "MEID",
    "DeviceCapacity",
    "AvailableDeviceCapacity",
    "BatteryLevel",
    "WiFiMAC",
    "BluetoothMAC",
    "IsSupervised",
    "IsMultiUser",
];

/// Longest `DeviceAttestationNonce` Apple accepts, in bytes.
const MAX_NONCE_LEN: usize = 32;

/// The query that `DeviceAttestationNonce` goes with.
const ATTESTATION_QUERY: &str = "DevicePropertiesAttestation";

/// `DeviceInformation` payload.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct DeviceInformation {
    /// Query names (`UDID`, `OSVersion`, ...); omitted means [`DEFAULT_DEVICE_INFORMATION_QUERIES`].
    pub queries: Option<Vec<Text>>,
    /// Freshness code for `DevicePropertiesAttestation`, at most 32 bytes (base64 in JSON).
    pub device_attestation_nonce: Option<Data>,
}

/// Builds `DeviceInformation`: fills in the default queries and checks the attestation nonce.
pub(crate) fn device_information(payload: &serde_json::Value) -> Result<plist::Dictionary, CommandError> {
    let mut p: DeviceInformation = de::from_value(payload, "")?;
    match &p.queries {
        None => {
            p.queries = Some(DEFAULT_DEVICE_INFORMATION_QUERIES.iter().map(|q| Text(q.to_string())).collect());
        }
        Some(q) if q.is_empty() => {
            return Err(CommandError::invalid("Queries", "must list at least one query; leave Queries out to ask for the default set"));
        }
        Some(_) => {}
    }
    if let Some(nonce) = &p.device_attestation_nonce {
        if nonce.0.len() > MAX_NONCE_LEN {
            return Err(CommandError::invalid("DeviceAttestationNonce", format!("is {} bytes; Apple allows at most {MAX_NONCE_LEN}", nonce.0.len())));
        }
        let asks = p.queries.iter().flatten().any(|q| q.0 == ATTESTATION_QUERY);
        if !asks {
            return Err(CommandError::invalid("DeviceAttestationNonce", format!("only makes sense when Queries contains {ATTESTATION_QUERY}")));
        }
    }
    encode(&p)
}

/// Payload of commands that take no keys (`SecurityInfo`, `AvailableOSUpdates`,
/// `DeviceConfigured`, `ShutDownDevice`): only `{}` is accepted.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoKeys {}

/// `ProfileList`, `CertificateList` and `ProvisioningProfileList` payload.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct ManagedOnly {
    /// Only list items installed by MDM.
    pub managed_only: Option<bool>,
}

/// `InstalledApplicationList` payload.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct InstalledApplicationList {
    /// Bundle identifiers to limit the list to.
    pub identifiers: Option<Vec<Text>>,
    /// Only list managed apps.
    pub managed_apps_only: Option<bool>,
    /// Keys wanted in each list item (`Name`, `Version`, ...); `Identifier` always comes back.
    pub items: Option<Vec<Text>>,
}

/// `ManagedApplicationList` payload.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct ManagedApplicationList {
    /// Bundle identifiers to limit the list to.
    pub identifiers: Option<Vec<Text>>,
}

/// `Restrictions` (Apple's request type for the restriction list) payload.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct Restrictions {
    /// Also return the restrictions of each installed profile.
    pub profile_restrictions: Option<bool>,
}
