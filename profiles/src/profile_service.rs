//! Apple's over-the-air profile service: the `Profile Service` profile a device installs in
//! phase 1 (where to send its attributes, which ones, and a challenge), and the device-attributes
//! dictionary it sends back in phases 2 and 3 (CMS-signed by the device).
//!
//! Apple's schema data has no entry for this profile type (it predates the YAML files), so the
//! model and its checks follow Apple's "Over-the-Air Profile Delivery and Configuration" guide.

use crate::issue::Issue;
use crate::ProfileError;

/// The `PayloadType` of a profile-service profile.
pub const PAYLOAD_TYPE: &str = "Profile Service";

/// The Content-Type a profile is served with, so the device offers to install it.
pub const PROFILE_CONTENT_TYPE: &str = "application/x-apple-aspen-config";

/// The attributes a device can be asked for, in Apple's spelling.
pub const DEVICE_ATTRIBUTES: [&str; 8] = ["UDID", "VERSION", "PRODUCT", "SERIAL", "IMEI", "MEID", "DEVICE_NAME", "COMPROMISED"];

/// A profile-service profile (phase 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileServicePayload {
    /// `PayloadIdentifier`.
    pub identifier: String,
    /// `PayloadUUID`.
    pub uuid: String,
    /// `PayloadDisplayName`.
    pub display_name: String,
    /// `PayloadDescription`.
    pub description: Option<String>,
    /// `PayloadOrganization`.
    pub organization: Option<String>,
    /// `PayloadContent.URL`: where the device POSTs its signed attributes.
    pub url: String,
    /// `PayloadContent.DeviceAttributes`.
    pub device_attributes: Vec<String>,
    /// `PayloadContent.Challenge`: echoed back by the device in phase 2.
    pub challenge: Option<String>,
}

fn text(v: String) -> plist::Value {
    plist::Value::String(v)
}

impl ProfileServicePayload {
    /// A profile service at `url` asking for every attribute Apple's guide lists except
    /// COMPROMISED, with a fresh UUID.
    pub fn new(identifier: impl Into<String>, url: impl Into<String>, challenge: Option<String>) -> ProfileServicePayload {
        ProfileServicePayload {
            identifier: identifier.into(),
            uuid: crate::profile::new_uuid(),
            display_name: "Device Enrollment".into(),
            description: None,
            organization: None,
            url: url.into(),
            device_attributes: DEVICE_ATTRIBUTES[..7].iter().map(|s| s.to_string()).collect(),
            challenge,
        }
    }

    /// The profile as a plist dictionary (`PayloadContent` is a dictionary here, not an array).
    pub fn to_dict(&self) -> plist::Dictionary {
        let mut content = plist::Dictionary::new();
        content.insert("URL".into(), text(self.url.clone()));
        content.insert("DeviceAttributes".into(), plist::Value::Array(self.device_attributes.iter().cloned().map(text).collect()));
        if let Some(c) = &self.challenge {
            content.insert("Challenge".into(), text(c.clone()));
        }
        let mut d = plist::Dictionary::new();
        d.insert("PayloadContent".into(), plist::Value::Dictionary(content));
        d.insert("PayloadType".into(), text(PAYLOAD_TYPE.into()));
        d.insert("PayloadVersion".into(), plist::Value::Integer(1.into()));
        d.insert("PayloadIdentifier".into(), text(self.identifier.clone()));
        d.insert("PayloadUUID".into(), text(self.uuid.clone()));
        d.insert("PayloadDisplayName".into(), text(self.display_name.clone()));
        if let Some(v) = &self.description {
            d.insert("PayloadDescription".into(), text(v.clone()));
        }
        if let Some(v) = &self.organization {
            d.insert("PayloadOrganization".into(), text(v.clone()));
        }
        d
    }

    /// Reads a profile-service profile.
    pub fn from_dict(d: &plist::Dictionary) -> Result<ProfileServicePayload, ProfileError> {
        let shape = |m: &str| ProfileError::Shape(m.to_string());
        let s = |dict: &plist::Dictionary, k: &str| dict.get(k).and_then(|v| v.as_string()).map(str::to_string);
        if s(d, "PayloadType").as_deref() != Some(PAYLOAD_TYPE) {
            return Err(shape("PayloadType is not \"Profile Service\""));
        }
        let content = d.get("PayloadContent").and_then(|v| v.as_dictionary()).ok_or_else(|| shape("PayloadContent must be a dictionary"))?;
        let attrs = content.get("DeviceAttributes").and_then(|v| v.as_array()).ok_or_else(|| shape("PayloadContent.DeviceAttributes must be an array"))?;
        let device_attributes = attrs
            .iter()
            .map(|v| v.as_string().map(str::to_string).ok_or_else(|| shape("PayloadContent.DeviceAttributes holds a non-string")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ProfileServicePayload {
            identifier: s(d, "PayloadIdentifier").ok_or_else(|| shape("PayloadIdentifier is missing"))?,
            uuid: s(d, "PayloadUUID").ok_or_else(|| shape("PayloadUUID is missing"))?,
            display_name: s(d, "PayloadDisplayName").unwrap_or_default(),
            description: s(d, "PayloadDescription"),
            organization: s(d, "PayloadOrganization"),
            url: s(content, "URL").ok_or_else(|| shape("PayloadContent.URL is missing"))?,
            device_attributes,
            challenge: s(content, "Challenge"),
        })
    }

    /// Checks what a device would refuse: an unusable URL, no or unknown attributes, an empty
    /// identifier or a malformed UUID.
    pub fn check(&self) -> Vec<Issue> {
        let mut out = Vec::new();
        if !(self.url.starts_with("https://") || self.url.starts_with("http://")) {
            out.push(Issue::error("PayloadContent.URL", format!("{:?} is not an http(s) URL", self.url)));
        } else if self.url.starts_with("http://") {
            out.push(Issue::warning("PayloadContent.URL", "devices send their attributes in the clear over http"));
        }
        if self.device_attributes.is_empty() {
            out.push(Issue::error("PayloadContent.DeviceAttributes", "at least one attribute must be asked for"));
        }
        for (i, a) in self.device_attributes.iter().enumerate() {
            if !DEVICE_ATTRIBUTES.contains(&a.as_str()) {
                out.push(Issue::error(
                    format!("PayloadContent.DeviceAttributes[{i}]"),
                    format!("unknown attribute {a:?}; known: {}", DEVICE_ATTRIBUTES.join(", ")),
                ));
            }
        }
        if self.identifier.trim().is_empty() {
            out.push(Issue::error("PayloadIdentifier", "must not be empty"));
        }
        if uuid::Uuid::parse_str(&self.uuid).is_err() {
            out.push(Issue::error("PayloadUUID", format!("{:?} is not a UUID", self.uuid)));
        }
        out
    }
}

/// What a device sends in phases 2 and 3.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeviceAttributes {
    /// `UDID`.
    #[serde(rename = "UDID")]
    pub udid: String,
    /// `VERSION`: the OS build (e.g. 22B83).
    #[serde(rename = "VERSION", default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `PRODUCT`: e.g. iPhone15,2.
    #[serde(rename = "PRODUCT", default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// `SERIAL`.
    #[serde(rename = "SERIAL", default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// `IMEI`.
    #[serde(rename = "IMEI", default, skip_serializing_if = "Option::is_none")]
    pub imei: Option<String>,
    /// `MEID`.
    #[serde(rename = "MEID", default, skip_serializing_if = "Option::is_none")]
    pub meid: Option<String>,
    /// `DEVICE_NAME`.
    #[serde(rename = "DEVICE_NAME", default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    /// `CHALLENGE`: the profile service's challenge, echoed.
    #[serde(rename = "CHALLENGE", default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
}

impl DeviceAttributes {
    /// Reads the attributes plist (XML or binary). UDID is required and must be non-empty.
    pub fn from_plist(bytes: &[u8]) -> Result<DeviceAttributes, ProfileError> {
        // Within the document limits first: the typed read skips unknown keys by recursing.
        let v = crate::limits::parse_plist(bytes).map_err(|e| ProfileError::Plist(e.to_string()))?;
        let a: DeviceAttributes = plist::from_value(&v).map_err(|e| ProfileError::Plist(e.to_string()))?;
        if a.udid.trim().is_empty() {
            return Err(ProfileError::Shape("UDID is empty".into()));
        }
        Ok(a)
    }

    /// The attributes as an XML plist.
    pub fn to_xml(&self) -> Result<Vec<u8>, ProfileError> {
        let mut out = Vec::new();
        plist::to_writer_xml(&mut out, self).map_err(|e| ProfileError::Encode(e.to_string()))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_checks() {
        let p = ProfileServicePayload::new("com.example.enroll", "https://mdm.example.com/enroll/device", Some("abc".into()));
        assert!(p.check().is_empty(), "{:?}", p.check());
        let d = p.to_dict();
        assert_eq!(d.get("PayloadType").and_then(|v| v.as_string()), Some("Profile Service"));
        let content = d.get("PayloadContent").and_then(|v| v.as_dictionary()).unwrap();
        assert_eq!(content.get("Challenge").and_then(|v| v.as_string()), Some("abc"));
        assert_eq!(ProfileServicePayload::from_dict(&d).unwrap(), p);

        let mut bad = p.clone();
        bad.url = "ftp://x".into();
        bad.device_attributes = vec!["UDID".into(), "COLOUR".into()];
        bad.uuid = "nope".into();
        let paths: Vec<String> = bad.check().into_iter().map(|i| i.path).collect();
        assert_eq!(paths, ["PayloadContent.URL", "PayloadContent.DeviceAttributes[1]", "PayloadUUID"]);
    }

    #[test]
    fn refuses_other_profiles() {
        let mut d = ProfileServicePayload::new("a", "https://x/y", None).to_dict();
        d.insert("PayloadType".into(), plist::Value::String("Configuration".into()));
        assert!(ProfileServicePayload::from_dict(&d).is_err());
        d.insert("PayloadType".into(), plist::Value::String(PAYLOAD_TYPE.into()));
        d.insert("PayloadContent".into(), plist::Value::Array(vec![]));
        assert!(ProfileServicePayload::from_dict(&d).is_err());
    }

    #[test]
    fn attributes_round_trip_and_need_udid() {
        let a = DeviceAttributes { udid: "0000-1".into(), serial: Some("SER".into()), challenge: Some("c".into()), ..Default::default() };
        let xml = a.to_xml().unwrap();
        assert!(String::from_utf8_lossy(&xml).contains("<key>DEVICE_NAME</key>") == a.device_name.is_some());
        assert_eq!(DeviceAttributes::from_plist(&xml).unwrap(), a);
        assert!(DeviceAttributes::from_plist(b"<plist><dict><key>UDID</key><string> </string></dict></plist>").is_err());
        assert!(DeviceAttributes::from_plist(b"garbage").is_err());
        assert!(DeviceAttributes::from_plist(b"<plist><dict><key>SERIAL</key><string>x</string></dict></plist>").is_err());
    }
}
