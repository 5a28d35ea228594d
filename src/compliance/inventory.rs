//! What the inventory keeps of a device's answers: DeviceInformation's QueryResponses,
//! SecurityInfo, the certificate list (summarised: names and validity, never the certificates'
//! bytes) and the profile list; and the device columns a DeviceInformation refreshes.

use serde_json::{json, Map, Value};

use crate::api::json::plist_to_json;
pub use crate::store::compliance::DeviceColumns;

/// Most certificates or profiles kept from one list.
pub const MAX_ITEMS: usize = 500;

/// Which part of the inventory a report fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// DeviceInformation.
    DeviceInfo,
    /// SecurityInfo.
    Security,
    /// CertificateList.
    Certificates,
    /// ProfileList.
    Profiles,
    /// InstalledApplicationList or ManagedApplicationList (the app service stores the list).
    Apps,
}

impl Part {
    /// The part's name as the store keeps it.
    pub fn stored(self) -> &'static str {
        use crate::store::compliance::part;
        match self {
            Part::DeviceInfo => part::DEVICE_INFO,
            Part::Security => part::SECURITY,
            Part::Certificates => part::CERTIFICATES,
            Part::Profiles => part::PROFILES,
            Part::Apps => part::APPS,
        }
    }
}

/// The part of the inventory a result dictionary carries, if any.
pub fn part_of(report: &plist::Dictionary) -> Option<Part> {
    [
        ("QueryResponses", Part::DeviceInfo),
        ("SecurityInfo", Part::Security),
        ("CertificateList", Part::Certificates),
        ("ProfileList", Part::Profiles),
        ("InstalledApplicationList", Part::Apps),
        ("ManagedApplicationList", Part::Apps),
    ]
    .into_iter()
    .find(|(k, _)| report.contains_key(k))
    .map(|(_, p)| p)
}

/// The inventory section and (for DeviceInformation) the device columns of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// Which part.
    pub part: Part,
    /// The stored JSON.
    pub value: Value,
    /// Device columns to refresh (DeviceInformation only).
    pub columns: Option<DeviceColumns>,
}

fn text(d: &plist::Dictionary, k: &str) -> Option<String> {
    d.get(k).and_then(|v| v.as_string()).map(|s| s.trim().to_string()).filter(|s| !s.is_empty() && s.len() <= 256 && !s.chars().any(char::is_control))
}

/// Reads the section a result carries; `None` when it carries none or the part is the app
/// list (kept by the app service).
pub fn section(report: &plist::Dictionary) -> Option<Section> {
    let part = part_of(report)?;
    match part {
        Part::DeviceInfo => {
            let q = report.get("QueryResponses")?.as_dictionary()?;
            let columns = DeviceColumns {
                os_version: text(q, "OSVersion"),
                build_version: text(q, "BuildVersion"),
                model: text(q, "Model"),
                model_name: text(q, "ModelName"),
                product_name: text(q, "ProductName"),
                serial_number: text(q, "SerialNumber"),
                device_name: text(q, "DeviceName"),
                imei: text(q, "IMEI").map(|i| i.replace(' ', "")),
                meid: text(q, "MEID"),
            };
            // Attestation blobs and the like are large and say nothing compliance reads.
            let mut kept = Map::new();
            for (k, v) in q {
                if !matches!(v, plist::Value::Data(_)) {
                    kept.insert(k.clone(), plist_to_json(v));
                }
            }
            Some(Section { part, value: Value::Object(kept), columns: Some(columns) })
        }
        Part::Security => Some(Section { part, value: plist_to_json(report.get("SecurityInfo")?), columns: None }),
        Part::Certificates => {
            let list = report.get("CertificateList")?.as_array()?;
            let certs: Vec<Value> = list.iter().take(MAX_ITEMS).filter_map(|c| c.as_dictionary()).map(certificate).collect();
            Some(Section { part, value: Value::Array(certs), columns: None })
        }
        Part::Profiles => {
            let list = report.get("ProfileList")?.as_array()?;
            let profiles: Vec<Value> = list
                .iter()
                .take(MAX_ITEMS)
                .filter_map(|p| p.as_dictionary())
                .map(|p| {
                    json!({
                        "identifier": text(p, "PayloadIdentifier"),
                        "uuid": text(p, "PayloadUUID"),
                        "display_name": text(p, "PayloadDisplayName"),
                        "version": p.get("PayloadVersion").and_then(|v| v.as_signed_integer()),
                        "managed": p.get("IsManaged").and_then(|v| v.as_boolean()),
                    })
                })
                .collect();
            Some(Section { part, value: Value::Array(profiles), columns: None })
        }
        Part::Apps => None,
    }
}

/// A certificate of a CertificateList: its name, whether it is an identity, and — read from its
/// bytes when they parse — subject, issuer and validity.
fn certificate(c: &plist::Dictionary) -> Value {
    let mut out = json!({ "common_name": text(c, "CommonName"), "is_identity": c.get("IsIdentity").and_then(|v| v.as_boolean()) });
    if let Some(x) = c.get("Data").and_then(|v| v.as_data()).and_then(|d| openssl::x509::X509::from_der(d).ok()) {
        use crate::identity::cert::{asn1_to_naive, name_line};
        out["subject"] = name_line(x.subject_name()).into();
        out["issuer"] = name_line(x.issuer_name()).into();
        out["not_after"] = asn1_to_naive(x.not_after()).map(|t| crate::timefmt::text(&t)).into();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_part() {
        let mut q = plist::Dictionary::new();
        q.insert("OSVersion".into(), "18.4".into());
        q.insert("IMEI".into(), "35 209900 176148 1".into());
        q.insert("IsSupervised".into(), true.into());
        q.insert("DevicePropertiesAttestation".into(), plist::Value::Data(vec![1, 2]));
        let mut r = plist::Dictionary::new();
        r.insert("QueryResponses".into(), plist::Value::Dictionary(q));
        let s = section(&r).unwrap();
        assert_eq!(s.part, Part::DeviceInfo);
        let c = s.columns.unwrap();
        assert_eq!(c.os_version.as_deref(), Some("18.4"));
        assert_eq!(c.imei.as_deref(), Some("352099001761481"));
        assert_eq!(s.value["IsSupervised"], true);
        assert!(s.value.get("DevicePropertiesAttestation").is_none());

        let mut si = plist::Dictionary::new();
        si.insert("PasscodePresent".into(), false.into());
        let mut r = plist::Dictionary::new();
        r.insert("SecurityInfo".into(), plist::Value::Dictionary(si));
        assert_eq!(section(&r).unwrap().value["PasscodePresent"], false);

        let mut apps = plist::Dictionary::new();
        apps.insert("InstalledApplicationList".into(), plist::Value::Array(vec![]));
        assert_eq!(part_of(&apps), Some(Part::Apps));
        assert!(section(&apps).is_none());
        assert!(part_of(&plist::Dictionary::new()).is_none());
    }
}
