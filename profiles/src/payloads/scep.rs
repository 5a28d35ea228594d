//! `com.apple.security.scep`: the device requests a certificate from a SCEP server (the MDM
//! identity, Wi-Fi EAP-TLS identities).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::webclip::check_url;
use super::PayloadKind;
use crate::issue::{index_path, key_path, Issue};
use crate::value::Data;

/// `com.apple.security.scep` payload. Apple nests every key in `PayloadContent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scep {
    /// `PayloadContent`: the SCEP request.
    #[serde(rename = "PayloadContent")]
    pub payload_content: ScepContent,
}

/// The `PayloadContent` dictionary of a SCEP payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScepContent {
    /// `URL`: the SCEP server.
    #[serde(rename = "URL")]
    pub url: String,
    /// `Name`: a name the SCEP server understands (selects the CA when it has several).
    #[serde(rename = "Name", default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `Subject`: the X.500 subject to request.
    #[serde(rename = "Subject", default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
    /// `Challenge`: the preshared secret (challenge password).
    #[serde(rename = "Challenge", default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
    /// `Keysize`: RSA key size in bits (device default 1024).
    #[serde(rename = "Keysize", default, skip_serializing_if = "Option::is_none")]
    pub keysize: Option<KeySize>,
    /// `Key Type` (with a space): always `RSA`.
    #[serde(rename = "Key Type", default, skip_serializing_if = "Option::is_none")]
    pub key_type: Option<KeyType>,
    /// `Key Usage` (with a space): what the key may be used for (device default 0).
    #[serde(rename = "Key Usage", default, skip_serializing_if = "Option::is_none")]
    pub key_usage: Option<KeyUsage>,
    /// `CAFingerprint`: digest of the CA certificate the device should trust.
    #[serde(rename = "CAFingerprint", default, skip_serializing_if = "Option::is_none")]
    pub ca_fingerprint: Option<Data>,
    /// `Retries` (default 3): retries when the server answers PENDING.
    #[serde(rename = "Retries", default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<i64>,
    /// `RetryDelay` (default 10): seconds between retries.
    #[serde(rename = "RetryDelay", default, skip_serializing_if = "Option::is_none")]
    pub retry_delay: Option<i64>,
    /// `SubjectAltName`: subject alternative names to request.
    #[serde(rename = "SubjectAltName", default, skip_serializing_if = "Option::is_none")]
    pub subject_alt_name: Option<SubjectAltName>,
    /// `KeyIsExtractable` (macOS, default true): if false, the private key can't be exported.
    #[serde(rename = "KeyIsExtractable", default, skip_serializing_if = "Option::is_none")]
    pub key_is_extractable: Option<bool>,
    /// `AllowAllAppsAccess` (macOS, default false): if true, all apps may use the private key.
    #[serde(rename = "AllowAllAppsAccess", default, skip_serializing_if = "Option::is_none")]
    pub allow_all_apps_access: Option<bool>,
}

impl Scep {
    /// A request to `url` for a 2048-bit RSA key usable for signing and encryption; no subject,
    /// challenge or fingerprint yet (see the `with_*` methods).
    pub fn new(url: impl Into<String>) -> Scep {
        Scep {
            payload_content: ScepContent {
                url: url.into(),
                name: None,
                subject: None,
                challenge: None,
                keysize: Some(KeySize::Bits2048),
                key_type: Some(KeyType::Rsa),
                key_usage: Some(KeyUsage::SigningAndEncryption),
                ca_fingerprint: None,
                retries: None,
                retry_delay: None,
                subject_alt_name: None,
                key_is_extractable: None,
                allow_all_apps_access: None,
            },
        }
    }

    /// Sets `Subject`.
    pub fn with_subject(mut self, subject: Subject) -> Scep {
        self.payload_content.subject = Some(subject);
        self
    }

    /// Sets `Challenge`.
    pub fn with_challenge(mut self, challenge: impl Into<String>) -> Scep {
        self.payload_content.challenge = Some(challenge.into());
        self
    }

    /// Sets `Name`.
    pub fn with_name(mut self, name: impl Into<String>) -> Scep {
        self.payload_content.name = Some(name.into());
        self
    }

    /// Sets `CAFingerprint` (the digest bytes, not hex text).
    pub fn with_ca_fingerprint(mut self, digest: impl Into<Vec<u8>>) -> Scep {
        self.payload_content.ca_fingerprint = Some(Data(digest.into()));
        self
    }

    /// Sets `SubjectAltName`.
    pub fn with_subject_alt_name(mut self, san: SubjectAltName) -> Scep {
        self.payload_content.subject_alt_name = Some(san);
        self
    }
}

/// `Keysize`: 1024, 2048 or 4096 bits; other values are refused when read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub enum KeySize {
    /// 1024 bits (the device default; weak).
    Bits1024,
    /// 2048 bits.
    Bits2048,
    /// 4096 bits.
    Bits4096,
}

impl KeySize {
    /// The size in bits.
    pub const fn bits(self) -> i64 {
        match self {
            KeySize::Bits1024 => 1024,
            KeySize::Bits2048 => 2048,
            KeySize::Bits4096 => 4096,
        }
    }
}

impl TryFrom<i64> for KeySize {
    type Error = String;
    fn try_from(v: i64) -> Result<KeySize, String> {
        match v {
            1024 => Ok(KeySize::Bits1024),
            2048 => Ok(KeySize::Bits2048),
            4096 => Ok(KeySize::Bits4096),
            _ => Err(format!("Keysize {v} is not one of 1024, 2048, 4096")),
        }
    }
}

impl From<KeySize> for i64 {
    fn from(k: KeySize) -> i64 {
        k.bits()
    }
}

/// `Key Type`: Apple allows only `RSA`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyType {
    /// `RSA`.
    #[serde(rename = "RSA")]
    Rsa,
}

/// `Key Usage`: a bit mask of 1 (signing) and 4 (encryption); 0, 1, 4 and 5 are the only values,
/// others are refused when read. Some CAs (Windows CA) accept only one of the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub enum KeyUsage {
    /// 0: no usage requested (the device default).
    Unspecified,
    /// 1: signing.
    Signing,
    /// 4: encryption.
    Encryption,
    /// 5: signing and encryption.
    SigningAndEncryption,
}

impl KeyUsage {
    /// The bit mask.
    pub const fn bits(self) -> i64 {
        match self {
            KeyUsage::Unspecified => 0,
            KeyUsage::Signing => 1,
            KeyUsage::Encryption => 4,
            KeyUsage::SigningAndEncryption => 5,
        }
    }
}

impl TryFrom<i64> for KeyUsage {
    type Error = String;
    fn try_from(v: i64) -> Result<KeyUsage, String> {
        match v {
            0 => Ok(KeyUsage::Unspecified),
            1 => Ok(KeyUsage::Signing),
            4 => Ok(KeyUsage::Encryption),
            5 => Ok(KeyUsage::SigningAndEncryption),
            _ => Err(format!("Key Usage {v} is not a combination of 1 (signing) and 4 (encryption)")),
        }
    }
}

impl From<KeyUsage> for i64 {
    fn from(k: KeyUsage) -> i64 {
        k.bits()
    }
}

/// `Subject`: an X.500 name in Apple's form, an array of relative distinguished names, each an
/// array of `[oid, value]` pairs: `/O=Example/CN=device` is `[[["O","Example"]],[["CN","device"]]]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Subject(pub Vec<Vec<SubjectAttribute>>);

/// One `[oid, value]` pair of a [`Subject`]. The OID is dotted numbers or one of Apple's
/// shortcuts `C`, `L`, `ST`, `O`, `OU`, `CN`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct SubjectAttribute {
    /// The attribute type: `CN`, `O`, ..., or a dotted OID such as `2.5.4.5`.
    pub oid: String,
    /// The value.
    pub value: String,
}

impl TryFrom<Vec<String>> for SubjectAttribute {
    type Error = String;
    fn try_from(v: Vec<String>) -> Result<SubjectAttribute, String> {
        match <[String; 2]>::try_from(v) {
            Ok([oid, value]) => Ok(SubjectAttribute { oid, value }),
            Err(v) => Err(format!("a Subject entry is an [oid, value] pair, not {} strings", v.len())),
        }
    }
}

impl From<SubjectAttribute> for Vec<String> {
    fn from(a: SubjectAttribute) -> Vec<String> {
        vec![a.oid, a.value]
    }
}

/// Apple's documented OID shortcuts for `Subject`.
pub const SUBJECT_SHORTCUTS: [&str; 6] = ["C", "L", "ST", "O", "OU", "CN"];

impl Subject {
    /// A subject with one attribute per RDN, in order: `Subject::from_pairs([("O", "Example"),
    /// ("CN", "device")])` is `/O=Example/CN=device`.
    pub fn from_pairs<I, K, V>(pairs: I) -> Subject
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Subject(pairs.into_iter().map(|(k, v)| vec![SubjectAttribute { oid: k.into(), value: v.into() }]).collect())
    }

    /// Parses the slash form `/C=US/O=Example/CN=device` (one attribute per RDN; values may not
    /// contain `/`).
    pub fn parse(s: &str) -> Result<Subject, String> {
        let mut pairs = Vec::new();
        for part in s.split('/').filter(|p| !p.is_empty()) {
            match part.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => pairs.push((k.trim().to_string(), v.to_string())),
                _ => return Err(format!("{part:?} in {s:?} is not TYPE=value")),
            }
        }
        if pairs.is_empty() {
            return Err(format!("{s:?} names no attributes; expected e.g. /O=Example/CN=device"));
        }
        Ok(Subject::from_pairs(pairs))
    }

    /// Every `(oid, value)` pair, in order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().flatten().map(|a| (a.oid.as_str(), a.value.as_str()))
    }
}

impl fmt::Display for Subject {
    /// The slash form, `/O=Example/CN=device` (attributes of one RDN joined with `+`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for rdn in &self.0 {
            f.write_str("/")?;
            for (i, a) in rdn.iter().enumerate() {
                if i > 0 {
                    f.write_str("+")?;
                }
                write!(f, "{}={}", a.oid, a.value)?;
            }
        }
        Ok(())
    }
}

fn is_dotted_oid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() >= 2 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `SubjectAltName`: names the CA should put in the certificate. Apple allows a string or an
/// array of strings for each key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectAltName {
    /// `rfc822Name`: e-mail address(es).
    #[serde(rename = "rfc822Name", default, skip_serializing_if = "Option::is_none")]
    pub rfc822_name: Option<OneOrMany>,
    /// `dNSName`: DNS name(s).
    #[serde(rename = "dNSName", default, skip_serializing_if = "Option::is_none")]
    pub dns_name: Option<OneOrMany>,
    /// `uniformResourceIdentifier`: URI(s).
    #[serde(rename = "uniformResourceIdentifier", default, skip_serializing_if = "Option::is_none")]
    pub uniform_resource_identifier: Option<OneOrMany>,
    /// `ntPrincipalName`: Windows NT principal name(s).
    #[serde(rename = "ntPrincipalName", default, skip_serializing_if = "Option::is_none")]
    pub nt_principal_name: Option<OneOrMany>,
}

/// A single string, or an array of strings (the form is kept on a round trip).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One string.
    One(String),
    /// Several strings.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The strings.
    pub fn values(&self) -> &[String] {
        match self {
            OneOrMany::One(s) => std::slice::from_ref(s),
            OneOrMany::Many(v) => v,
        }
    }
}

impl From<&str> for OneOrMany {
    fn from(s: &str) -> OneOrMany {
        OneOrMany::One(s.to_string())
    }
}

impl From<String> for OneOrMany {
    fn from(s: String) -> OneOrMany {
        OneOrMany::One(s)
    }
}

/// Digest lengths a `CAFingerprint` may have: MD5, SHA-1, SHA-256, SHA-384, SHA-512.
const DIGEST_LENGTHS: [usize; 5] = [16, 20, 32, 48, 64];

impl PayloadKind for Scep {
    const TYPE: &'static str = "com.apple.security.scep";

    fn check(&self, path: &str, out: &mut Vec<Issue>) {
        let c = &self.payload_content;
        let at = |key: &str| key_path(&key_path(path, "PayloadContent"), key);
        if let Err(e) = check_url(&c.url, &["http", "https"]) {
            out.push(Issue::error(at("URL"), e));
        }
        if let Some(subject) = &c.subject {
            if subject.0.is_empty() {
                out.push(Issue::error(at("Subject"), "the subject is empty; leave Subject out instead"));
            }
            for (i, rdn) in subject.0.iter().enumerate() {
                let rdn_path = index_path(&at("Subject"), i);
                if rdn.is_empty() {
                    out.push(Issue::error(rdn_path.clone(), "an empty relative distinguished name"));
                }
                for (j, a) in rdn.iter().enumerate() {
                    let p = index_path(&rdn_path, j);
                    if !SUBJECT_SHORTCUTS.contains(&a.oid.as_str()) && !is_dotted_oid(&a.oid) {
                        out.push(Issue::warning(p, format!("{:?}: Apple documents dotted OIDs and the shortcuts C, L, ST, O, OU, CN only", a.oid)));
                    } else if a.value.is_empty() {
                        out.push(Issue::error(p, format!("{} has an empty value", a.oid)));
                    }
                }
            }
        }
        match c.keysize {
            None => out.push(Issue::warning(at("Keysize"), "not set; the device then uses 1024-bit RSA, which many CAs refuse")),
            Some(KeySize::Bits1024) => out.push(Issue::warning(at("Keysize"), "1024-bit RSA is weak; many CAs refuse it")),
            Some(_) => {}
        }
        for (key, v) in [("Retries", c.retries), ("RetryDelay", c.retry_delay)] {
            if let Some(v) = v {
                if v < 0 {
                    out.push(Issue::error(at(key), format!("cannot be negative ({v})")));
                }
            }
        }
        if let Some(fp) = &c.ca_fingerprint {
            if !DIGEST_LENGTHS.contains(&fp.0.len()) {
                out.push(Issue::error(
                    at("CAFingerprint"),
                    format!("{} bytes is not a digest length (MD5 16, SHA-1 20, SHA-256 32 bytes); give the digest's bytes, not its hex text", fp.0.len()),
                ));
            }
        }
        if let Some(san) = &c.subject_alt_name {
            let fields = [
                ("rfc822Name", &san.rfc822_name),
                ("dNSName", &san.dns_name),
                ("uniformResourceIdentifier", &san.uniform_resource_identifier),
                ("ntPrincipalName", &san.nt_principal_name),
            ];
            for (key, v) in fields {
                if let Some(v) = v {
                    if v.values().iter().any(String::is_empty) || v.values().is_empty() {
                        out.push(Issue::error(key_path(&at("SubjectAltName"), key), "an empty name"));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_apple_form() {
        let s = Subject::from_pairs([("O", "Example"), ("CN", "device")]);
        let v = plist::to_value(&s).unwrap();
        let expect = plist::Value::Array(vec![
            plist::Value::Array(vec![plist::Value::Array(vec!["O".into(), "Example".into()])]),
            plist::Value::Array(vec![plist::Value::Array(vec!["CN".into(), "device".into()])]),
        ]);
        assert_eq!(v, expect);
        assert_eq!(plist::from_value::<Subject>(&v).unwrap(), s);
        assert_eq!(s.to_string(), "/O=Example/CN=device");
        assert_eq!(Subject::parse("/O=Example/CN=device").unwrap(), s);
        assert!(Subject::parse("/O").is_err());
        assert!(Subject::parse("").is_err());
        let j: Subject = serde_json::from_value(serde_json::json!([[["C", "US"], ["O", "x"]]])).unwrap();
        assert_eq!(j.to_string(), "/C=US+O=x");
        assert!(serde_json::from_value::<Subject>(serde_json::json!([[["C", "US", "x"]]])).is_err());
        assert!(serde_json::from_value::<Subject>(serde_json::json!([[["C"]]])).is_err());
    }

    #[test]
    fn closed_sets() {
        let base = serde_json::json!({"URL": "https://ca.example.org/scep"});
        let with = |k: &str, v: serde_json::Value| {
            let mut b = base.clone();
            b[k] = v;
            serde_json::from_value::<ScepContent>(b)
        };
        assert_eq!(with("Keysize", 2048.into()).unwrap().keysize, Some(KeySize::Bits2048));
        assert!(with("Keysize", 3072.into()).is_err());
        assert_eq!(with("Key Usage", 5.into()).unwrap().key_usage, Some(KeyUsage::SigningAndEncryption));
        assert!(with("Key Usage", 2.into()).is_err());
        assert!(with("Key Type", "RSA".into()).is_ok());
        assert!(with("Key Type", "EC".into()).is_err());
        assert!(with("KeyType", "RSA".into()).is_err());
        let san = with("SubjectAltName", serde_json::json!({"dNSName": ["a.example", "b.example"], "rfc822Name": "x@example.org"})).unwrap();
        let san = san.subject_alt_name.unwrap();
        assert_eq!(san.dns_name.unwrap().values().len(), 2);
        assert_eq!(san.rfc822_name, Some(OneOrMany::One("x@example.org".into())));
    }

    #[test]
    fn check_rules() {
        let mut bad = Scep::new("ca.example.org").with_ca_fingerprint(b"0123456789abcdef0123456789abcdef01234567".to_vec());
        bad.payload_content.subject = Some(Subject::from_pairs([("CN", ""), ("EMAIL", "x")]));
        bad.payload_content.keysize = None;
        bad.payload_content.retries = Some(-1);
        let mut out = Vec::new();
        bad.check("PayloadContent[1]", &mut out);
        let paths: Vec<_> = out.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "PayloadContent[1].PayloadContent.URL",
                "PayloadContent[1].PayloadContent.Subject[0][0]",
                "PayloadContent[1].PayloadContent.Subject[1][0]",
                "PayloadContent[1].PayloadContent.Keysize",
                "PayloadContent[1].PayloadContent.Retries",
                "PayloadContent[1].PayloadContent.CAFingerprint",
            ]
        );
        let good = Scep::new("https://ca.example.org/scep")
            .with_subject(Subject::from_pairs([("O", "Example"), ("2.5.4.5", "SN1")]))
            .with_ca_fingerprint(vec![0u8; 32]);
        let mut out = Vec::new();
        good.check("P", &mut out);
        assert!(out.is_empty(), "{out:?}");
    }
}
