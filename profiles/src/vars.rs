//! Per-device variables in profile and AppConfig values: `{DeviceSerialNumber}`,
//! `{DeviceUDID}`, `{EnrollmentUser}`, ... written in braces inside any string (Workspace ONE
//! style). One engine for profiles and managed-app configuration:
//!
//! - [`references`] lists the variables a value uses, with their paths;
//! - [`check`] reports names the caller does not know — done when a profile or AppConfig is
//!   saved, so a typo is an error then, never an empty string on a device later;
//! - [`substitute`] fills them in for one device; a known variable the device has no value for
//!   (an iPad without IMEI) is reported as missing rather than silently emptied.
//!
//! A name is letters, digits, `_`, `.` and `-` (custom attributes and secrets use a prefix, e.g.
//! `{Custom.Ward}`, `{Secret.OktaManagementHint}`). `{{` writes a literal `{`; braces around
//! anything else (JSON text, `{ }`) are left alone.

use std::borrow::Cow;

use crate::issue::{index_path, key_path, Issue};

/// One built-in device variable.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    /// The name inside the braces.
    pub name: &'static str,
    /// What it stands for.
    pub description: &'static str,
}

/// The variables every device offers (when it reported the value).
pub const BUILTINS: [Builtin; 17] = [
    Builtin { name: "DeviceSerialNumber", description: "the device's serial number" },
    Builtin { name: "DeviceUDID", description: "the device's UDID" },
    Builtin { name: "DeviceName", description: "the device's name" },
    Builtin { name: "DeviceModel", description: "the model name, e.g. iPhone" },
    Builtin { name: "DeviceProductName", description: "the product name, e.g. iPhone15,2" },
    Builtin { name: "DeviceOSVersion", description: "the OS version" },
    Builtin { name: "DeviceIMEI", description: "the IMEI (cellular devices)" },
    Builtin { name: "DeviceMEID", description: "the MEID (some cellular devices)" },
    Builtin { name: "EnrollmentUser", description: "the user who enrolled the device" },
    Builtin { name: "EnrollmentUserEmail", description: "that user's e-mail address" },
    Builtin { name: "EnrollmentID", description: "the server's enrollment id" },
    Builtin { name: "SharedUser", description: "a shared device's current user: the holder while checked out, else the pool's staging user" },
    Builtin { name: "SharedUserEmail", description: "that user's e-mail address" },
    Builtin { name: "SharedUserFullName", description: "that user's full name" },
    Builtin { name: "SharedPool", description: "the shared pool the device is in" },
    Builtin { name: "SharedStagingUser", description: "the pool's staging user (the identity of a device nobody holds)" },
    Builtin { name: "DeviceAccessChallenge", description: "a SCEP challenge good only for a certificate with CN={DeviceUDID}: the device-access certificate" },
];

/// The built-ins whose value changes when a shared device changes hands: what references
/// them is sent again at check-out and check-in.
pub const USER_DEPENDENT: [&str; 5] = ["EnrollmentUser", "EnrollmentUserEmail", "SharedUser", "SharedUserEmail", "SharedUserFullName"];

/// True for a built-in variable name.
pub fn is_builtin(name: &str) -> bool {
    BUILTINS.iter().any(|b| b.name == name)
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// A piece of a string: literal text or a variable reference.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Var(&'a str),
}

/// Splits a string into text and `{Name}` references. `{{` yields a literal `{`.
fn pieces(s: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        if let Some(escaped) = after.strip_prefix('{') {
            out.push(Piece::Text(&rest[..open + 1]));
            rest = escaped;
            continue;
        }
        let name_len = after.find(|c: char| !is_name_char(c)).unwrap_or(after.len());
        let starts_alpha = after.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        if name_len > 0 && starts_alpha && after[name_len..].starts_with('}') {
            out.push(Piece::Text(&rest[..open]));
            out.push(Piece::Var(&after[..name_len]));
            rest = &after[name_len + 1..];
        } else {
            out.push(Piece::Text(&rest[..open + 1]));
            rest = after;
        }
    }
    out.push(Piece::Text(rest));
    out.retain(|p| *p != Piece::Text(""));
    out
}

/// The variable names used in one string, in order.
pub fn names_in(s: &str) -> Vec<&str> {
    pieces(s)
        .into_iter()
        .filter_map(|p| match p {
            Piece::Var(n) => Some(n),
            Piece::Text(_) => None,
        })
        .collect()
}

/// Every variable reference in `v` (strings at any depth; dictionary keys are not expanded),
/// as `(path, name)`.
pub fn references(v: &plist::Value, path: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    walk(v, path, &mut |p, s| {
        for n in names_in(s) {
            out.push((p.to_string(), n.to_string()));
        }
    });
    out
}

fn walk(v: &plist::Value, path: &str, f: &mut dyn FnMut(&str, &str)) {
    match v {
        plist::Value::String(s) => f(path, s),
        plist::Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| walk(x, &index_path(path, i), f)),
        plist::Value::Dictionary(d) => d.iter().for_each(|(k, x)| walk(x, &key_path(path, k), f)),
        _ => {}
    }
}

/// Errors for every reference `known` refuses, with its path and the list of built-ins (for
/// profiles and blueprints, where only the built-ins exist).
pub fn check(v: &plist::Value, path: &str, known: &dyn Fn(&str) -> bool) -> Vec<Issue> {
    refused(v, path, known, false)
}

/// Like [`check`] for AppConfig values, which may also use `{Secret.NAME}` and
/// `{Attribute.NAME}`: an undefined one is refused with how to define it.
pub fn check_appconfig(v: &plist::Value, path: &str, known: &dyn Fn(&str) -> bool) -> Vec<Issue> {
    refused(v, path, known, true)
}

fn refused(v: &plist::Value, path: &str, known: &dyn Fn(&str) -> bool, appconfig: bool) -> Vec<Issue> {
    references(v, path)
        .into_iter()
        .filter(|(_, n)| !known(n))
        .map(|(p, n)| {
            let message = match (appconfig, n.split_once('.')) {
                (true, Some(("Secret", secret))) => format!(
                    "unknown secret {{{n}}}: create it first with `mdm secret set {secret}` (the value is read from stdin) or PUT /v1/secrets/{secret} {{\"value\": …}}"
                ),
                (true, Some(("Attribute", attr))) => {
                    format!("unknown attribute {{{n}}}: define it on the devices or groups first, e.g. PUT /v1/groups/NAME/attributes {{\"{attr}\": \"value\"}}")
                }
                (false, Some(("Secret" | "Attribute", _))) => {
                    format!("{{{n}}} is for AppConfig values only; profiles and blueprints know {}", builtin_names())
                }
                _ if appconfig => {
                    format!("unknown variable {{{n}}}; known: {}, or a defined custom attribute ({{Attribute.NAME}}) or secret ({{Secret.NAME}})", builtin_names())
                }
                _ => format!("unknown variable {{{n}}}; known: {}", builtin_names()),
            };
            Issue::error(p, message)
        })
        .collect()
}

fn builtin_names() -> String {
    BUILTINS.iter().map(|b| b.name).collect::<Vec<_>>().join(", ")
}

/// Known variables the device had no value for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no value on this device for {}", .names.iter().map(|n| format!("{{{n}}}")).collect::<Vec<_>>().join(", "))]
pub struct Missing {
    /// The names, each once, in order of first use.
    pub names: Vec<String>,
}

/// Expands the variables of one string. Borrowed when there is nothing to expand.
pub fn expand<'a>(s: &'a str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Cow<'a, str>, Missing> {
    if !s.contains('{') {
        return Ok(Cow::Borrowed(s));
    }
    let mut out = String::with_capacity(s.len());
    let mut missing = Vec::new();
    for p in pieces(s) {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Var(n) => match lookup(n) {
                Some(v) => out.push_str(&v),
                None => {
                    if !missing.iter().any(|m| m == n) {
                        missing.push(n.to_string());
                    }
                }
            },
        }
    }
    if missing.is_empty() {
        Ok(Cow::Owned(out))
    } else {
        Err(Missing { names: missing })
    }
}

/// Expands every string in `v` in place. On any missing value nothing is half-done that
/// matters: the caller gets every missing name and should not send the result.
pub fn substitute(v: &mut plist::Value, lookup: &dyn Fn(&str) -> Option<String>) -> Result<(), Missing> {
    let mut missing: Vec<String> = Vec::new();
    subst(v, lookup, &mut missing);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Missing { names: missing })
    }
}

fn subst(v: &mut plist::Value, lookup: &dyn Fn(&str) -> Option<String>, missing: &mut Vec<String>) {
    match v {
        plist::Value::String(s) => match expand(s, lookup) {
            Ok(Cow::Owned(new)) => *s = new,
            Ok(Cow::Borrowed(_)) => {}
            Err(m) => {
                for n in m.names {
                    if !missing.contains(&n) {
                        missing.push(n);
                    }
                }
            }
        },
        plist::Value::Array(a) => a.iter_mut().for_each(|x| subst(x, lookup, missing)),
        plist::Value::Dictionary(d) => {
            for (_, x) in d.iter_mut() {
                subst(x, lookup, missing);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(name: &str) -> Option<String> {
        match name {
            "DeviceSerialNumber" => Some("C02XK1".into()),
            "DeviceUDID" => Some("00008030-AAAA".into()),
            "EnrollmentUser" => Some("nurse<1>&co".into()),
            _ => None,
        }
    }

    #[test]
    fn parsing_pieces() {
        assert_eq!(names_in("id={DeviceUDID}/{DeviceSerialNumber}"), vec!["DeviceUDID", "DeviceSerialNumber"]);
        assert_eq!(names_in("{\"json\": 1} { } {} {9x} {a b}"), Vec::<&str>::new());
        assert_eq!(names_in("{Custom.Ward-2}{Secret.Okta_Hint}"), vec!["Custom.Ward-2", "Secret.Okta_Hint"]);
        assert_eq!(names_in("{{DeviceUDID}"), Vec::<&str>::new());
        assert_eq!(expand("{{DeviceUDID}", &device).unwrap(), "{DeviceUDID}");
        assert_eq!(expand("{unclosed", &device).unwrap(), "{unclosed");
        assert!(matches!(expand("plain", &device).unwrap(), Cow::Borrowed(_)));
    }

    #[test]
    fn substitutes_at_any_depth_and_reports_missing() {
        let mut d = plist::Dictionary::new();
        d.insert("EpicMobileDeviceID".into(), "{DeviceSerialNumber}".into());
        let mut ext = plist::Dictionary::new();
        ext.insert("list".into(), plist::Value::Array(vec!["u={EnrollmentUser}".into(), plist::Value::Integer(3.into())]));
        d.insert("ExtensionData".into(), ext.into());
        let mut v = plist::Value::Dictionary(d);
        let mut w = v.clone();
        substitute(&mut v, &device).unwrap();
        let d = v.as_dictionary().unwrap();
        assert_eq!(d["EpicMobileDeviceID"], "C02XK1".into());
        let list = d["ExtensionData"].as_dictionary().unwrap()["list"].as_array().unwrap();
        assert_eq!(list[0], "u=nurse<1>&co".into());

        w.as_dictionary_mut().unwrap().insert("IMEI".into(), "{DeviceIMEI} {DeviceIMEI} {DeviceMEID}".into());
        let m = substitute(&mut w, &device).unwrap_err();
        assert_eq!(m.names, vec!["DeviceIMEI", "DeviceMEID"]);
        assert_eq!(m.to_string(), "no value on this device for {DeviceIMEI}, {DeviceMEID}");
    }

    #[test]
    fn unknown_names_are_errors_with_paths() {
        let mut d = plist::Dictionary::new();
        d.insert("A".into(), plist::Value::Array(vec!["{DeviceSerial}".into(), "{DeviceUDID}".into()]));
        let issues = check(&plist::Value::Dictionary(d), "PayloadContent[0]", &is_builtin);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].path, "PayloadContent[0].A[0]");
        assert!(issues[0].message.contains("{DeviceSerial}") && issues[0].message.contains("DeviceSerialNumber"));
        let refs = references(&plist::Value::String("{DeviceName}".into()), "x");
        assert_eq!(refs, vec![("x".to_string(), "DeviceName".to_string())]);
    }
}

#[cfg(test)]
mod hint_tests {
    use super::{check, check_appconfig, is_builtin};

    #[test]
    fn refusals_say_what_to_do_where_they_apply() {
        let v = plist::Value::String("{Secret.okta_management_hint}".into());
        let app = check_appconfig(&v, "managementHint", &is_builtin);
        assert!(app[0].message.contains("mdm secret set okta_management_hint"), "{}", app[0].message);
        // In a profile a secret can never be defined: no advice to define one.
        let profile = check(&v, "Password", &is_builtin);
        assert!(profile[0].message.contains("AppConfig values only") && !profile[0].message.contains("mdm secret set"), "{}", profile[0].message);
        let attr = check_appconfig(&plist::Value::String("{Attribute.unit}".into()), "unit", &is_builtin);
        assert!(attr[0].message.contains("attributes"), "{}", attr[0].message);
    }
}
