//! The configuration profile: top-level keys plus an ordered list of payloads, read from and
//! written to a plist dictionary.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::issue::{index_path, Issue};
use crate::payloads::{encode, PayloadBody};
use crate::value::Date;
use crate::ProfileError;

/// The keys every payload carries besides its body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Common {
    /// `PayloadIdentifier`: reverse-DNS, unique within the profile.
    pub payload_identifier: String,
    /// `PayloadUUID`.
    #[serde(rename = "PayloadUUID")]
    pub payload_uuid: String,
    /// `PayloadVersion` (always 1 today).
    #[serde(default = "one")]
    pub payload_version: i64,
    /// `PayloadDisplayName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_display_name: Option<String>,
    /// `PayloadDescription`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_description: Option<String>,
    /// `PayloadOrganization`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_organization: Option<String>,
}

fn one() -> i64 {
    1
}

const COMMON_KEYS: [&str; 7] =
    ["PayloadType", "PayloadIdentifier", "PayloadUUID", "PayloadVersion", "PayloadDisplayName", "PayloadDescription", "PayloadOrganization"];

/// One payload of a profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    /// `PayloadIdentifier`, `PayloadUUID`, ...
    pub common: Common,
    /// The type-specific keys.
    pub body: PayloadBody,
}

impl Payload {
    /// A payload with the given identifier and a fresh UUID.
    pub fn new(identifier: impl Into<String>, body: impl Into<PayloadBody>) -> Payload {
        Payload {
            common: Common {
                payload_identifier: identifier.into(),
                payload_uuid: new_uuid(),
                payload_version: 1,
                payload_display_name: None,
                payload_description: None,
                payload_organization: None,
            },
            body: body.into(),
        }
    }

    /// Sets `PayloadDisplayName`.
    pub fn named(mut self, name: impl Into<String>) -> Payload {
        self.common.payload_display_name = Some(name.into());
        self
    }

    /// Sets `PayloadUUID` (other payloads refer to it, e.g. `PayloadCertificateUUID`).
    pub fn with_uuid(mut self, uuid: impl Into<String>) -> Payload {
        self.common.payload_uuid = uuid.into();
        self
    }

    /// `PayloadUUID`.
    pub fn uuid(&self) -> &str {
        &self.common.payload_uuid
    }

    /// The payload's dictionary (common keys + body).
    pub fn to_dict(&self) -> Result<plist::Dictionary, ProfileError> {
        let mut d = encode(&self.common)?;
        d.insert("PayloadType".into(), plist::Value::String(self.body.payload_type().to_string()));
        for (k, v) in self.body.to_dict()? {
            d.insert(k, v);
        }
        d.sort_keys();
        Ok(d)
    }

    /// Reads a payload dictionary. `path` names it in errors.
    pub fn from_dict(d: &plist::Dictionary, path: &str) -> Result<Payload, ProfileError> {
        let payload_type = match d.get("PayloadType") {
            Some(plist::Value::String(s)) if !s.is_empty() => s.clone(),
            Some(_) => return Err(ProfileError::Shape(format!("{path}.PayloadType: must be a non-empty string"))),
            None => return Err(ProfileError::Shape(format!("{path}.PayloadType: missing"))),
        };
        let mut common_dict = plist::Dictionary::new();
        let mut content = plist::Dictionary::new();
        for (k, v) in d {
            if COMMON_KEYS.contains(&k.as_str()) {
                if k != "PayloadType" {
                    common_dict.insert(k.clone(), v.clone());
                }
            } else {
                content.insert(k.clone(), v.clone());
            }
        }
        let common: Common = plist::from_value(&plist::Value::Dictionary(common_dict)).map_err(|e| ProfileError::Shape(format!("{path}: {e}")))?;
        Ok(Payload { common, body: PayloadBody::from_dict(&payload_type, content) })
    }
}

/// A fresh upper-case UUID, as Apple's tools write them.
pub fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string().to_uppercase()
}

/// The top-level keys of a profile other than `PayloadContent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TopLevel {
    /// `PayloadIdentifier`: reverse-DNS; a profile with the same identifier replaces this one.
    pub payload_identifier: String,
    /// `PayloadUUID`.
    #[serde(rename = "PayloadUUID")]
    pub payload_uuid: String,
    /// `PayloadVersion` (1).
    #[serde(default = "one")]
    pub payload_version: i64,
    /// `PayloadDisplayName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_display_name: Option<String>,
    /// `PayloadDescription`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_description: Option<String>,
    /// `PayloadOrganization`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_organization: Option<String>,
    /// `PayloadScope`: `System` or `User` (macOS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_scope: Option<String>,
    /// `PayloadRemovalDisallowed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_removal_disallowed: Option<bool>,
    /// `HasRemovalPasscode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_removal_passcode: Option<bool>,
    /// `ConsentText`: language code (`default`, `en`, ...) → text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_text: Option<BTreeMap<String, String>>,
    /// `RemovalDate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removal_date: Option<Date>,
    /// `DurationUntilRemoval` in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_until_removal: Option<f64>,
    /// `PayloadExpirationDate` (macOS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_expiration_date: Option<Date>,
    /// `TargetDeviceType`: 0 any, 1 iPhone/iPad, 2 Apple Watch, 3 HomePod, 4 Apple TV, 5 Mac.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_device_type: Option<i64>,
}

/// A configuration profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The top-level keys.
    pub top: TopLevel,
    /// `PayloadContent`, in order.
    pub content: Vec<Payload>,
    /// Top-level keys this model does not know, kept so a round trip loses nothing.
    pub extra: plist::Dictionary,
}

const TOP_KNOWN: [&str; 16] = [
    "PayloadType",
    "PayloadContent",
    "PayloadIdentifier",
    "PayloadUUID",
    "PayloadVersion",
    "PayloadDisplayName",
    "PayloadDescription",
    "PayloadOrganization",
    "PayloadScope",
    "PayloadRemovalDisallowed",
    "HasRemovalPasscode",
    "ConsentText",
    "RemovalDate",
    "DurationUntilRemoval",
    "PayloadExpirationDate",
    "TargetDeviceType",
];

impl Profile {
    /// An empty profile with a fresh UUID.
    pub fn new(identifier: impl Into<String>, display_name: impl Into<String>) -> Profile {
        Profile {
            top: TopLevel {
                payload_identifier: identifier.into(),
                payload_uuid: new_uuid(),
                payload_version: 1,
                payload_display_name: Some(display_name.into()),
                payload_description: None,
                payload_organization: None,
                payload_scope: None,
                payload_removal_disallowed: None,
                has_removal_passcode: None,
                consent_text: None,
                removal_date: None,
                duration_until_removal: None,
                payload_expiration_date: None,
                target_device_type: None,
            },
            content: Vec::new(),
            extra: plist::Dictionary::new(),
        }
    }

    /// `PayloadIdentifier`.
    pub fn identifier(&self) -> &str {
        &self.top.payload_identifier
    }

    /// Appends a payload whose identifier is the profile's plus `.suffix`; returns its UUID.
    pub fn add(&mut self, suffix: &str, body: impl Into<PayloadBody>) -> String {
        let p = Payload::new(format!("{}.{suffix}", self.top.payload_identifier), body);
        let uuid = p.common.payload_uuid.clone();
        self.content.push(p);
        uuid
    }

    /// Appends a prepared payload.
    pub fn push(&mut self, payload: Payload) {
        self.content.push(payload);
    }

    /// The profile as a plist dictionary.
    pub fn to_dict(&self) -> Result<plist::Dictionary, ProfileError> {
        let mut d = encode(&self.top)?;
        d.insert("PayloadType".into(), plist::Value::String("Configuration".into()));
        let content = self.content.iter().map(|p| p.to_dict().map(plist::Value::Dictionary)).collect::<Result<_, _>>()?;
        d.insert("PayloadContent".into(), plist::Value::Array(content));
        for (k, v) in &self.extra {
            d.insert(k.clone(), v.clone());
        }
        d.sort_keys();
        Ok(d)
    }

    /// The profile as an XML plist (a `.mobileconfig` before signing).
    pub fn to_xml(&self) -> Result<Vec<u8>, ProfileError> {
        to_xml(&plist::Value::Dictionary(self.to_dict()?))
    }

    /// Reads a profile dictionary. An encrypted profile (`EncryptedPayloadContent`) cannot be
    /// read without the device's key and is refused.
    pub fn from_dict(d: &plist::Dictionary) -> Result<Profile, ProfileError> {
        match d.get("PayloadType") {
            Some(plist::Value::String(s)) if s == "Configuration" => {}
            Some(plist::Value::String(s)) => return Err(ProfileError::Shape(format!("PayloadType: the profile's type must be Configuration, not {s}"))),
            _ => return Err(ProfileError::Shape("PayloadType: missing; a profile's type is Configuration".into())),
        }
        if d.contains_key("EncryptedPayloadContent") {
            return Err(ProfileError::Shape("EncryptedPayloadContent: the profile is encrypted to one device; supply the unencrypted profile".into()));
        }
        let mut top_dict = plist::Dictionary::new();
        let mut extra = plist::Dictionary::new();
        for (k, v) in d {
            if k == "PayloadType" || k == "PayloadContent" {
                continue;
            }
            if TOP_KNOWN.contains(&k.as_str()) {
                top_dict.insert(k.clone(), v.clone());
            } else {
                extra.insert(k.clone(), v.clone());
            }
        }
        let top: TopLevel = plist::from_value(&plist::Value::Dictionary(top_dict)).map_err(|e| ProfileError::Shape(format!("top level: {e}")))?;
        let items = match d.get("PayloadContent") {
            Some(plist::Value::Array(a)) => a,
            Some(_) => return Err(ProfileError::Shape("PayloadContent: must be an array of payload dictionaries".into())),
            None => return Err(ProfileError::Shape("PayloadContent: missing".into())),
        };
        let mut content = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let path = index_path("PayloadContent", i);
            let plist::Value::Dictionary(pd) = item else {
                return Err(ProfileError::Shape(format!("{path}: must be a dictionary")));
            };
            content.push(Payload::from_dict(pd, &path)?);
        }
        Ok(Profile { top, content, extra })
    }

    /// Reads a plist document (XML or binary).
    pub fn from_plist_bytes(bytes: &[u8]) -> Result<Profile, ProfileError> {
        let v = crate::limits::parse_plist(bytes).map_err(|e| ProfileError::Plist(e.to_string()))?;
        match v {
            plist::Value::Dictionary(d) => Profile::from_dict(&d),
            _ => Err(ProfileError::Shape("a profile is a dictionary at the top level".into())),
        }
    }

    /// Semantic checks of the typed payloads, plus the profile-wide rules: payload identifiers and
    /// UUIDs are unique, and every `PayloadCertificateUUID`-style reference names a payload here.
    pub fn check(&self) -> Vec<Issue> {
        let mut out = Vec::new();
        let mut ids = std::collections::HashSet::new();
        let mut uuids = std::collections::HashSet::new();
        for (i, p) in self.content.iter().enumerate() {
            let path = index_path("PayloadContent", i);
            if !ids.insert(p.common.payload_identifier.as_str()) {
                out.push(Issue::error(format!("{path}.PayloadIdentifier"), "another payload in this profile has the same identifier"));
            }
            if !uuids.insert(p.common.payload_uuid.as_str()) {
                out.push(Issue::error(format!("{path}.PayloadUUID"), "another payload in this profile has the same UUID"));
            }
            if let Some(why) = p.body.typed_error() {
                out.push(Issue::error(path.clone(), format!("{TYPED_MODEL}{why}")));
            }
            p.body.check(&path, &mut out);
        }
        for (i, p) in self.content.iter().enumerate() {
            let Ok(d) = p.body.to_dict() else { continue };
            let mut refs = Vec::new();
            certificate_refs(&plist::Value::Dictionary(d), &index_path("PayloadContent", i), &mut refs);
            for (path, uuid) in refs {
                if !uuids.contains(uuid.as_str()) {
                    out.push(Issue::error(path, format!("refers to payload {uuid}, which is not in this profile")));
                }
            }
        }
        out
    }
}

/// How an issue from the typed payload model (rather than Apple's schema) begins. The schema
/// check usually finds the same problem and names the key; callers that run both keep the
/// schema's issue (see [`Issue::repeats`]).
pub const TYPED_MODEL: &str = "does not fit the payload's model: ";

/// True for keys that name another payload of the profile by its PayloadUUID: Apple's
/// `PayloadCertificateUUID`, `IdentityCertificateUUID`, `PayloadCertificateAnchorUUID`,
/// `ServerURLPinningCertificateUUIDs`, `EncryptCertPayloadUUID`, ...
fn is_certificate_ref(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    (k.ends_with("uuid") || k.ends_with("uuids")) && (k.contains("certificate") || k.contains("certpayload"))
}

/// Collects (path, uuid) of every certificate reference in `v`.
fn certificate_refs(v: &plist::Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        plist::Value::Dictionary(d) => {
            for (k, x) in d {
                let p = crate::issue::key_path(path, k);
                match (is_certificate_ref(k), x) {
                    (true, plist::Value::String(u)) => out.push((p, u.clone())),
                    (true, plist::Value::Array(a)) => {
                        for (i, item) in a.iter().enumerate() {
                            if let plist::Value::String(u) = item {
                                out.push((index_path(&p, i), u.clone()));
                            }
                        }
                    }
                    _ => certificate_refs(x, &p, out),
                }
            }
        }
        plist::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                certificate_refs(x, &index_path(path, i), out);
            }
        }
        _ => {}
    }
}

/// Writes a plist value as XML.
pub fn to_xml(v: &plist::Value) -> Result<Vec<u8>, ProfileError> {
    let mut out = Vec::new();
    v.to_writer_xml(&mut out).map_err(|e| ProfileError::Encode(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payloads::Raw;

    fn raw(kind: &str, key: &str, v: plist::Value) -> PayloadBody {
        let mut content = plist::Dictionary::new();
        content.insert(key.into(), v);
        PayloadBody::Raw(Raw { payload_type: kind.into(), content })
    }

    #[test]
    fn round_trip_keeps_every_key() {
        let mut p = Profile::new("org.example.test", "Test");
        p.top.payload_removal_disallowed = Some(true);
        p.top.consent_text = Some([("default".to_string(), "Hello".to_string())].into());
        p.extra.insert("Vendor".into(), "x".into());
        p.add("dock", raw("com.example.unknown", "Thing", plist::Value::Integer(3.into())));
        let xml = p.to_xml().unwrap();
        let back = Profile::from_plist_bytes(&xml).unwrap();
        assert_eq!(back, p);
        let d = p.to_dict().unwrap();
        assert_eq!(d["PayloadType"], "Configuration".into());
        let first = d["PayloadContent"].as_array().unwrap()[0].as_dictionary().unwrap();
        assert_eq!(first["PayloadIdentifier"], "org.example.test.dock".into());
        assert_eq!(first["PayloadType"], "com.example.unknown".into());
        assert_eq!(first["PayloadVersion"], plist::Value::Integer(1.into()));
    }

    #[test]
    fn shape_errors_name_the_place() {
        let bad = |xml: &str| Profile::from_plist_bytes(xml.as_bytes()).unwrap_err().to_string();
        let doc = |body: &str| format!("<?xml version=\"1.0\"?><plist version=\"1.0\"><dict>{body}</dict></plist>");
        assert!(bad("<plist><dict>").contains("property list"));
        assert!(bad("<plist version=\"1.0\"><string>x</string></plist>").contains("dictionary"));
        assert!(bad(&doc("<key>PayloadType</key><string>Foo</string>")).contains("Configuration"));
        let top = "<key>PayloadType</key><string>Configuration</string><key>PayloadIdentifier</key><string>a</string><key>PayloadUUID</key><string>U</string>";
        assert!(bad(&doc(top)).contains("PayloadContent"));
        let e = bad(&doc(&format!("{top}<key>PayloadContent</key><array><dict><key>PayloadIdentifier</key><string>b</string></dict></array>")));
        assert!(e.contains("PayloadContent[0].PayloadType"), "{e}");
        let e = bad(&doc(&format!("{top}<key>EncryptedPayloadContent</key><data>AA==</data>")));
        assert!(e.contains("encrypted"), "{e}");
    }

    #[test]
    fn a_value_the_typed_model_refuses_is_an_error_but_unknown_keys_are_not() {
        let mut mdm = plist::Dictionary::new();
        for (k, v) in [("ServerURL", "https://mdm.example.org/mdm"), ("Topic", "com.apple.mgmt.External.x"), ("IdentityCertificateUUID", "A")] {
            mdm.insert(k.into(), v.into());
        }
        mdm.insert("AccessRights".into(), plist::Value::Integer(0.into()));
        let mut p = Profile::new("org.example.test", "Test");
        p.add("mdm", PayloadBody::from_dict("com.apple.mdm", mdm));
        let issues = p.check();
        assert!(issues.iter().any(|i| i.path == "PayloadContent[0]" && i.message.contains("AccessRights")), "{issues:?}");

        let mut clip = plist::Dictionary::new();
        clip.insert("URL".into(), "https://example.org".into());
        clip.insert("Label".into(), "X".into());
        clip.insert("SomethingNewer".into(), true.into());
        let body = PayloadBody::from_dict("com.apple.webClip.managed", clip);
        assert!(matches!(body, PayloadBody::Raw(_)));
        assert_eq!(body.typed_error(), None);
    }

    #[test]
    fn certificate_references_must_name_a_payload_here() {
        let mut p = Profile::new("org.example.test", "Test");
        let mut wifi = plist::Dictionary::new();
        wifi.insert("SSID_STR".into(), "Ward".into());
        wifi.insert("PayloadCertificateUUID".into(), "MISSING".into());
        let mut eap = plist::Dictionary::new();
        eap.insert("PayloadCertificateAnchorUUID".into(), plist::Value::Array(vec!["ANCHOR".into(), "NOPE".into()]));
        wifi.insert("EAPClientConfiguration".into(), eap.into());
        p.add("wifi", raw("com.example.wifi", "x", true.into()));
        if let PayloadBody::Raw(r) = &mut p.content[0].body {
            r.content = wifi;
        }
        p.push(Payload::new("org.example.test.anchor", raw("com.example.cert", "x", true.into())).with_uuid("ANCHOR"));
        let mut paths: Vec<String> = p.check().into_iter().map(|i| i.path).collect();
        paths.sort();
        assert_eq!(paths, vec!["PayloadContent[0].EAPClientConfiguration.PayloadCertificateAnchorUUID[1]", "PayloadContent[0].PayloadCertificateUUID"]);
    }

    #[test]
    fn duplicate_identifiers_are_reported() {
        let mut p = Profile::new("org.example.test", "Test");
        p.add("a", raw("com.example.one", "K", true.into()));
        p.add("a", raw("com.example.two", "K", true.into()));
        let issues = p.check();
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(issues[0].path, "PayloadContent[1].PayloadIdentifier");
    }
}
