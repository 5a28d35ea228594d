//! The three profiles of enrollment, unsigned: the profile-service profile (phase 1), the SCEP
//! profile that gives the device an enrollment identity (phase 2), and the enrollment profile
//! with trusted roots, the MDM identity's SCEP payload and the MDM payload (phase 3, and
//! `/mdm/enroll`). Signing and encryption happen in the service.

use mdm_profiles::payloads::certs::Root;
use mdm_profiles::payloads::mdm::{AccessRights, Mdm, ServerCapability};
use mdm_profiles::payloads::scep::{KeySize, Scep, Subject};
use mdm_profiles::profile_service::ProfileServicePayload;
use mdm_profiles::{Profile, ProfileError};
use openssl::x509::X509;

/// Where things are, from the server's public URL.
#[derive(Debug, Clone)]
pub struct Urls {
    /// `server.public_url`, without a trailing slash.
    pub base: String,
    /// The SCEP path (`scep.path`).
    pub scep_path: String,
}

impl Urls {
    /// Where devices POST their attributes in phases 2 and 3.
    pub fn profile_service(&self) -> String {
        format!("{}/enroll/device", self.base)
    }
    /// The SCEP URL.
    pub fn scep(&self) -> String {
        format!("{}{}", self.base, self.scep_path)
    }
    /// The MDM payload's ServerURL.
    pub fn server(&self) -> String {
        format!("{}/mdm/connect", self.base)
    }
    /// The MDM payload's CheckInURL.
    pub fn checkin(&self) -> String {
        format!("{}/mdm/checkin", self.base)
    }
    /// The enrollment page.
    pub fn page(&self) -> String {
        format!("{}/enroll", self.base)
    }
    /// The prefix of every profile identifier: the reversed host name (`mdm.example.com` →
    /// `com.example.mdm`), so the same server always updates the same profiles.
    pub fn identifier_prefix(&self) -> String {
        let host = self.base.split("://").nth(1).unwrap_or(&self.base);
        let host = host.split(['/', ':']).next().unwrap_or(host);
        let mut parts: Vec<&str> = host.split('.').filter(|p| !p.is_empty()).collect();
        parts.reverse();
        if parts.is_empty() {
            "mdm".into()
        } else {
            parts.join(".")
        }
    }
}

/// What the profiles say about the server.
#[derive(Debug, Clone)]
pub struct Branding {
    /// PayloadOrganization.
    pub organization: String,
    /// RSA key size devices generate.
    pub key_size: KeySize,
}

/// The phase-1 profile: where to send which attributes, with the session's challenge.
pub fn profile_service(urls: &Urls, b: &Branding, challenge: &str) -> plist::Dictionary {
    let mut p = ProfileServicePayload::new(format!("{}.enroll.service", urls.identifier_prefix()), urls.profile_service(), Some(challenge.to_string()));
    p.display_name = format!("{} Device Enrollment", b.organization);
    p.description = Some("Identifies this device to the MDM server so it can be enrolled.".into());
    p.organization = Some(b.organization.clone());
    p.to_dict()
}

fn scep_payload(urls: &Urls, b: &Branding, ca: &X509, common_name: &str, challenge: &str) -> Scep {
    let ca_name = mdm_profiles::cms::subject_line(ca);
    let mut s = Scep::new(urls.scep())
        .with_challenge(challenge)
        .with_subject(Subject::from_pairs([("O", b.organization.as_str()), ("CN", common_name)]))
        .with_name(ca_name);
    s.payload_content.keysize = Some(b.key_size);
    s
}

/// The phase-2 profile: a SCEP payload for the device's enrollment identity, which signs phase 3.
pub fn identity_profile(urls: &Urls, b: &Branding, ca: &X509, udid: &str, challenge: &str) -> Result<plist::Dictionary, ProfileError> {
    let mut p = Profile::new(format!("{}.enroll.identity", urls.identifier_prefix()), format!("{} Enrollment Identity", b.organization));
    p.top.payload_organization = Some(b.organization.clone());
    p.top.payload_description = Some("The certificate this device uses to fetch its enrollment profile.".into());
    p.add("scep", scep_payload(urls, b, ca, &format!("Enrollment {udid}"), challenge));
    p.to_dict()
}

/// What the MDM payload says.
#[derive(Debug, Clone)]
pub struct MdmSettings {
    /// APNs topic (the push certificate's).
    pub topic: String,
    /// AccessRights.
    pub access_rights: AccessRights,
    /// SignMessage.
    pub sign_message: bool,
    /// CheckOutWhenRemoved.
    pub check_out_when_removed: bool,
}

/// The enrollment profile: trusted roots, a SCEP payload for the MDM identity (requested with
/// `challenge`, CN `identity_name`) and the MDM payload using it.
pub fn enrollment_profile(
    urls: &Urls,
    b: &Branding,
    ca: &X509,
    roots: &[X509],
    mdm: &MdmSettings,
    identity_name: &str,
    challenge: &str,
) -> Result<plist::Dictionary, ProfileError> {
    let mut p = Profile::new(format!("{}.enroll.mdm", urls.identifier_prefix()), format!("{} MDM", b.organization));
    p.top.payload_organization = Some(b.organization.clone());
    p.top.payload_description = Some("Enrolls this device in mobile device management.".into());
    for (i, cert) in roots.iter().enumerate() {
        let root = Root::from_x509(mdm_profiles::cms::subject_line(cert), cert).map_err(|e| ProfileError::Encode(e.to_string()))?;
        p.add(&format!("root.{i}"), root);
    }
    let identity = p.add("identity", scep_payload(urls, b, ca, identity_name, challenge));
    let mut m = Mdm::new(urls.server(), mdm.topic.clone(), identity)
        .with_check_in_url(urls.checkin())
        .with_access_rights(mdm.access_rights)
        .with_capabilities([ServerCapability::PerUserConnections, ServerCapability::BootstrapToken]);
    m.sign_message = Some(mdm.sign_message);
    m.check_out_when_removed = Some(mdm.check_out_when_removed);
    p.add("mdm", m);
    p.to_dict()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mdm_profiles::schema::validate_profile;
    use mdm_profiles::Severity;

    fn setup() -> (Urls, Branding, X509) {
        let ca = crate::pki::Ca::generate("Test CA").unwrap();
        (
            Urls { base: "https://mdm.example.com:8443".into(), scep_path: "/scep".into() },
            Branding { organization: "Clinic".into(), key_size: KeySize::Bits2048 },
            ca.cert,
        )
    }

    fn errors(d: &plist::Dictionary) -> Vec<String> {
        validate_profile(d).into_iter().filter(|i| i.severity == Severity::Error).map(|i| format!("{}: {}", i.path, i.message)).collect()
    }

    #[test]
    fn urls_and_identifiers() {
        let (u, ..) = setup();
        assert_eq!(u.identifier_prefix(), "com.example.mdm");
        assert_eq!(u.server(), "https://mdm.example.com:8443/mdm/connect");
        assert_eq!(u.scep(), "https://mdm.example.com:8443/scep");
        assert_eq!(Urls { base: "http://localhost".into(), scep_path: "/scep".into() }.identifier_prefix(), "localhost");
    }

    #[test]
    fn profiles_validate_against_apples_schema() {
        let (u, b, ca) = setup();
        let service = profile_service(&u, &b, "challenge");
        let parsed = ProfileServicePayload::from_dict(&service).unwrap();
        assert!(parsed.check().is_empty());
        assert_eq!(parsed.url, "https://mdm.example.com:8443/enroll/device");

        let identity = identity_profile(&u, &b, &ca, "UDID-1", "c1").unwrap();
        assert_eq!(errors(&identity), Vec::<String>::new());

        let mdm = MdmSettings { topic: "com.apple.mgmt.External.x".into(), access_rights: AccessRights::ALL, sign_message: true, check_out_when_removed: true };
        let d = enrollment_profile(&u, &b, &ca, std::slice::from_ref(&ca), &mdm, "UDID-1", "c2").unwrap();
        assert_eq!(errors(&d), Vec::<String>::new());
        let profile = Profile::from_dict(&d).unwrap();
        assert!(profile.check().is_empty(), "{:?}", profile.check());
        let types: Vec<&str> = profile.content.iter().map(|p| p.body.payload_type()).collect();
        assert_eq!(types, ["com.apple.security.root", "com.apple.security.scep", "com.apple.mdm"]);
        let mdm_dict = d["PayloadContent"].as_array().unwrap()[2].as_dictionary().unwrap();
        assert_eq!(mdm_dict["IdentityCertificateUUID"], d["PayloadContent"].as_array().unwrap()[1].as_dictionary().unwrap()["PayloadUUID"]);
        assert_eq!(mdm_dict["AccessRights"].as_signed_integer(), Some(8191));
        assert_eq!(mdm_dict["CheckInURL"].as_string(), Some("https://mdm.example.com:8443/mdm/checkin"));
    }
}
