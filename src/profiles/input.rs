//! What an admin submits as a profile — Apple-keyed JSON or a `.mobileconfig` (signed or not) —
//! checked before anything is stored: shape, Apple's schema, the typed payloads' own rules, and
//! that every `{Variable}` is one the server can fill in.

use mdm_profiles::{cms, schema, vars, Issue, Profile, Severity};

/// A profile that passed the checks.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// The profile dictionary as it will be stored (variables unexpanded).
    pub dict: plist::Dictionary,
    /// `PayloadIdentifier`.
    pub identifier: String,
    /// `PayloadDisplayName`, or the identifier.
    pub name: String,
    /// `json`, `upload` or `upload-signed`.
    pub source: &'static str,
    /// The uploaded signature's signer, one line.
    pub signer: Option<String>,
    /// Findings that did not block it (keys Apple does not document, ...).
    pub warnings: Vec<Issue>,
}

/// Why a submission was refused.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Not readable at all (not a plist, not JSON of the right shape, bad signature).
    #[error("{0}")]
    Unreadable(String),
    /// Readable but wrong: every finding, with its path.
    #[error("the profile is not valid: {}", summary(.0))]
    Invalid(Vec<Issue>),
}

fn summary(issues: &[Issue]) -> String {
    let errors: Vec<String> = issues.iter().filter(|i| i.severity == Severity::Error).map(ToString::to_string).collect();
    match errors.len() {
        0 => "no errors".into(),
        1 => errors[0].clone(),
        n => format!("{} (and {} more)", errors[0], n - 1),
    }
}

/// Reads a submission's bytes: JSON with Apple's keys when `declared_json` (a JSON content type
/// or a `.json` file) or the bytes are a JSON object, otherwise a `.mobileconfig`.
pub fn from_bytes(bytes: &[u8], declared_json: bool) -> Result<Submitted, InputError> {
    let json_object = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if declared_json || json_object {
        mdm_profiles::limits::check_json(bytes).map_err(|e| InputError::Unreadable(format!("JSON body refused: {e}")))?;
        let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| InputError::Unreadable(format!("invalid JSON body: {e}")))?;
        from_json(&v)
    } else {
        from_upload(bytes)
    }
}

/// Reads Apple-keyed JSON (`{"PayloadIdentifier": ..., "PayloadContent": [...]}`): strings
/// where Apple wants `<data>` (base64) or `<date>` (RFC 3339) are converted.
pub fn from_json(v: &serde_json::Value) -> Result<Submitted, InputError> {
    let value = crate::commands::json_to_plist(v).map_err(|e| InputError::Unreadable(e.to_string()))?;
    let plist::Value::Dictionary(mut dict) = value else {
        return Err(InputError::Unreadable("the profile must be a JSON object with Apple's keys".into()));
    };
    schema::coerce_json(&mut dict);
    check(dict, "json", None)
}

/// Reads an uploaded `.mobileconfig`: XML or binary plist, or CMS-signed — then the signature
/// must verify (a profile changed after signing is refused).
pub fn from_upload(bytes: &[u8]) -> Result<Submitted, InputError> {
    let unwrapped = cms::unwrap(bytes, None).map_err(|e| InputError::Unreadable(e.to_string()))?;
    let value = mdm_profiles::limits::parse_plist(&unwrapped.content).map_err(|e| match e {
        mdm_profiles::limits::LimitError::Malformed(why) => InputError::Unreadable(format!("not a property list: {why}")),
        limit => InputError::Unreadable(format!("profile refused: {limit}")),
    })?;
    let plist::Value::Dictionary(dict) = value else {
        return Err(InputError::Unreadable("a profile is a dictionary at the top level".into()));
    };
    let signer = unwrapped.signer.as_ref().map(|c| cms::subject_line(c));
    let source = if signer.is_some() || cms::looks_signed(bytes) { "upload-signed" } else { "upload" };
    check(dict, source, signer)
}

/// The checks shared by both ways in.
fn check(dict: plist::Dictionary, source: &'static str, signer: Option<String>) -> Result<Submitted, InputError> {
    let profile = Profile::from_dict(&dict).map_err(|e| InputError::Invalid(vec![Issue::error("", e.to_string())]))?;
    let mut issues = schema::validate_profile(&dict);
    let typed: Vec<Issue> = profile.check().into_iter().filter(|i| !i.repeats(&issues)).collect();
    issues.extend(typed);
    issues.extend(vars::check(&plist::Value::Dictionary(dict.clone()), "", &vars::is_builtin));
    if issues.iter().any(|i| i.severity == Severity::Error) {
        return Err(InputError::Invalid(issues));
    }
    let identifier = profile.identifier().to_string();
    let name = profile.top.payload_display_name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| identifier.clone());
    let dict = profile.to_dict().map_err(|e| InputError::Unreadable(e.to_string()))?;
    Ok(Submitted { dict, identifier, name, source, signer, warnings: issues })
}

#[cfg(test)]
mod tests {
    /// Finding: `mdm profile validate` reported a wrong type twice, the second time as serde's
    /// raw `Serde("invalid type: …")`. One issue, at the key.
    #[test]
    fn a_wrong_type_is_reported_once_at_its_key() {
        let profile = serde_json::json!({
            "PayloadType": "Configuration", "PayloadVersion": 1, "PayloadIdentifier": "org.example.wifi",
            "PayloadUUID": "7A3B1C2D-0000-4000-8000-000000000001", "PayloadDisplayName": "Ward Wi-Fi",
            "PayloadContent": [{
                "PayloadType": "com.apple.wifi.managed", "PayloadVersion": 1, "PayloadIdentifier": "org.example.wifi.p",
                "PayloadUUID": "7A3B1C2D-0000-4000-8000-000000000002", "SSID_STR": "Ward", "EncryptionType": "WPA2",
                "AutoJoin": "yes", "Password": "long enough"
            }]
        });
        let Err(super::InputError::Invalid(issues)) = super::from_bytes(profile.to_string().as_bytes(), true) else { panic!("accepted") };
        let errors: Vec<String> = issues.iter().filter(|i| i.severity == super::Severity::Error).map(|i| i.to_string()).collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("PayloadContent[0].AutoJoin") && !errors[0].contains("Serde("), "{errors:?}");
    }

    /// The profiles shipped in `examples/profiles/` (the README's starting points) pass every
    /// check without a warning.
    #[test]
    fn example_profiles_are_valid() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/profiles");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let sub = super::from_bytes(&std::fs::read(&path).unwrap(), true).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
            assert!(sub.warnings.is_empty(), "{}: {:?}", path.display(), sub.warnings);
            seen += 1;
        }
        assert!(seen >= 4, "{seen} example profiles");
    }
}
