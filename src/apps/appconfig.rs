//! AppConfig (`com.apple.configuration.managed`): the dictionary an app reads from its managed
//! configuration. Admins edit it as typed JSON — every value says its plist type — so that
//! `"true"` and `true`, `1` and `1.0` never get confused; string values may use `{Variables}`,
//! filled in per device when the command is built.

use std::collections::BTreeMap;

use mdm_profiles::vars::{self, Missing};
use mdm_profiles::Issue;
use serde::{Deserialize, Serialize};

/// One typed value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
pub enum ConfigValue {
    /// `<string>`; may contain `{Variables}`.
    String(String),
    /// `<integer>`.
    Integer(i64),
    /// `<true/>` / `<false/>`.
    Boolean(bool),
    /// `<real>`.
    Real(f64),
    /// `<date>` (RFC 3339 in JSON).
    Date(chrono::DateTime<chrono::Utc>),
    /// `<array>`.
    Array(Vec<ConfigValue>),
    /// `<dict>`.
    Dict(BTreeMap<String, ConfigValue>),
}

/// A whole configuration: key → typed value.
pub type AppConfig = BTreeMap<String, ConfigValue>;

impl ConfigValue {
    /// The plist value (variables not yet filled in).
    pub fn to_plist(&self) -> plist::Value {
        match self {
            ConfigValue::String(s) => plist::Value::String(s.clone()),
            ConfigValue::Integer(i) => plist::Value::Integer((*i).into()),
            ConfigValue::Boolean(b) => plist::Value::Boolean(*b),
            ConfigValue::Real(r) => plist::Value::Real(*r),
            ConfigValue::Date(d) => plist::Value::Date(std::time::SystemTime::from(*d).into()),
            ConfigValue::Array(a) => plist::Value::Array(a.iter().map(ConfigValue::to_plist).collect()),
            ConfigValue::Dict(d) => plist::Value::Dictionary(to_dict(d)),
        }
    }
}

/// The configuration as a plist dictionary (variables not yet filled in).
pub fn to_dict(cfg: &AppConfig) -> plist::Dictionary {
    cfg.iter().map(|(k, v)| (k.clone(), v.to_plist())).collect()
}

/// The name a secret is referenced by in a value: `{Secret.NAME}`.
pub const SECRET_PREFIX: &str = "Secret.";

/// The variable carrying a shared device's kiosk token to its locker app (AppConfig only;
/// rotated at every check-in).
pub const KIOSK_TOKEN: &str = "KioskToken";

/// Whether `name` can follow `Secret.` or `Attribute.` in a reference: 1 to 64 letters,
/// digits, `_` or `-`.
pub fn is_reference_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Every problem: empty keys, non-finite reals, and variables `known` does not accept.
pub fn check(cfg: &AppConfig, known: &dyn Fn(&str) -> bool) -> Vec<Issue> {
    let mut out = Vec::new();
    fn walk(v: &ConfigValue, path: &str, out: &mut Vec<Issue>) {
        match v {
            ConfigValue::Real(r) if !r.is_finite() => out.push(Issue::error(path, "a real must be a finite number")),
            ConfigValue::Array(a) => a.iter().enumerate().for_each(|(i, x)| walk(x, &format!("{path}[{i}]"), out)),
            ConfigValue::Dict(d) => {
                for (k, x) in d {
                    if k.is_empty() {
                        out.push(Issue::error(path, "keys must not be empty"));
                    }
                    walk(x, &format!("{path}.{k}"), out);
                }
            }
            _ => {}
        }
    }
    for (k, v) in cfg {
        if k.is_empty() {
            out.push(Issue::error("", "keys must not be empty"));
        }
        walk(v, k, &mut out);
    }
    out.extend(vars::check_appconfig(&plist::Value::Dictionary(to_dict(cfg)), "", known));
    out
}

/// The configuration for one device: variables filled in by `lookup`.
pub fn render(cfg: &AppConfig, lookup: &dyn Fn(&str) -> Option<String>) -> Result<plist::Dictionary, Missing> {
    let mut v = plist::Value::Dictionary(to_dict(cfg));
    vars::substitute(&mut v, lookup)?;
    match v {
        plist::Value::Dictionary(d) => Ok(d),
        _ => Ok(plist::Dictionary::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(json: serde_json::Value) -> AppConfig {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn typed_values_become_exact_plist_types() {
        let c = cfg(serde_json::json!({
            "s": {"type": "string", "value": "{DeviceSerialNumber}-x"},
            "i": {"type": "integer", "value": 1},
            "b": {"type": "boolean", "value": true},
            "r": {"type": "real", "value": 1.0},
            "d": {"type": "date", "value": "2026-01-02T03:04:05Z"},
            "a": {"type": "array", "value": [{"type": "string", "value": "{DeviceUDID}"}]},
            "n": {"type": "dict", "value": {"k": {"type": "integer", "value": 2}}}
        }));
        let d = render(&c, &|n| (n == "DeviceSerialNumber" || n == "DeviceUDID").then(|| n.to_lowercase())).unwrap();
        assert_eq!(d["s"].as_string(), Some("deviceserialnumber-x"));
        assert_eq!(d["i"].as_signed_integer(), Some(1));
        assert_eq!(d["b"].as_boolean(), Some(true));
        assert_eq!(d["r"].as_real(), Some(1.0));
        assert!(d["d"].as_date().is_some());
        assert_eq!(d["a"].as_array().unwrap()[0].as_string(), Some("deviceudid"));
        assert_eq!(d["n"].as_dictionary().unwrap()["k"].as_signed_integer(), Some(2));
        assert!(serde_json::from_value::<AppConfig>(serde_json::json!({"x": {"type": "integer", "value": "1"}})).is_err());
        assert!(serde_json::from_value::<AppConfig>(serde_json::json!({"x": "plain"})).is_err());
    }

    #[test]
    fn unknown_variables_and_missing_values() {
        let c = cfg(serde_json::json!({"a": {"type": "dict", "value": {"b": {"type": "string", "value": "{Nope}"}}}}));
        let issues = check(&c, &vars::is_builtin);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].path, "a.b");
        assert!(issues[0].message.contains("unknown variable {Nope}"));
        let c = cfg(serde_json::json!({"imei": {"type": "string", "value": "{DeviceIMEI}"}}));
        assert!(check(&c, &vars::is_builtin).is_empty());
        assert_eq!(render(&c, &|_| None).unwrap_err().names, ["DeviceIMEI"]);
    }
}
