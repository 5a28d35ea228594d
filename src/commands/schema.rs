//! Test-only: checks a built `Command` dictionary against Apple's published command schema
//! (`shared/apple-device-management/mdm/commands/*.yaml`, read in place, never copied).
//!
//! Each file has `payload.requesttype` and `payloadkeys: [{key, type, presence, subkeys,
//! rangelist}]`. For `<array>` the single subkey describes the items; several subkeys are
//! alternative item shapes (Settings), and an item passes when it fits one of them. For
//! `<dictionary>` the subkeys are the allowed keys (`ANY` allows any). A `<string>` with subkeys
//! (DeviceInformation's query names) must be one of those keys.

use std::collections::HashMap;
use std::sync::OnceLock;

use yaml_rust2::{Yaml, YamlLoader};

/// Where Apple's command schemas live, relative to this crate.
const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/apple-device-management/mdm/commands");

/// One documented key.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    /// Key name (`ANY` for free-form dictionaries).
    pub key: String,
    /// `<string>`, `<integer>`, ...
    pub ty: String,
    /// `presence: required`.
    pub required: bool,
    /// Item shape (arrays), allowed keys (dictionaries) or allowed values (strings).
    pub subkeys: Vec<Spec>,
    /// Allowed values, when Apple lists them.
    pub range: Vec<Yaml>,
}

fn spec(y: &Yaml) -> Spec {
    Spec {
        key: y["key"].as_str().unwrap_or_default().to_string(),
        ty: y["type"].as_str().unwrap_or_default().to_string(),
        required: y["presence"].as_str() == Some("required"),
        subkeys: y["subkeys"].as_vec().map(|v| v.iter().map(spec).collect()).unwrap_or_default(),
        range: y["rangelist"].as_vec().cloned().unwrap_or_default(),
    }
}

/// Every command's payload keys, by request type.
pub(crate) fn schemas() -> &'static HashMap<String, Vec<Spec>> {
    static CELL: OnceLock<HashMap<String, Vec<Spec>>> = OnceLock::new();
    CELL.get_or_init(|| {
        let entries = std::fs::read_dir(DIR).unwrap_or_else(|e| panic!("Apple's schema is expected at {DIR}: {e}"));
        let mut out = HashMap::new();
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let docs = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let doc = &docs[0];
            let Some(rt) = doc["payload"]["requesttype"].as_str() else { continue };
            let keys = doc["payloadkeys"].as_vec().map(|v| v.iter().map(spec).collect()).unwrap_or_default();
            out.insert(rt.to_string(), keys);
        }
        assert!(out.len() > 50, "only {} command schemas found in {DIR}", out.len());
        out
    })
}

/// Checks a whole `Command` dictionary: `RequestType` names a documented command and the other
/// keys fit its payload keys. Errors carry the path of the offending value.
pub(crate) fn validate(command: &plist::Dictionary) -> Result<(), String> {
    let rt = command.get("RequestType").and_then(|v| v.as_string()).ok_or("RequestType missing or not a string")?;
    let specs = schemas().get(rt).ok_or_else(|| format!("no schema has requesttype {rt}"))?;
    let mut keys = command.clone();
    keys.remove("RequestType");
    validate_dict(&keys, specs, "")
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Checks a dictionary against its allowed keys.
pub(crate) fn validate_dict(d: &plist::Dictionary, specs: &[Spec], path: &str) -> Result<(), String> {
    for (k, v) in d {
        let p = join(path, k);
        match specs.iter().find(|s| &s.key == k).or_else(|| specs.iter().find(|s| s.key == "ANY")) {
            Some(s) => validate_value(v, s, &p)?,
            None => return Err(format!("{p}: key not documented by Apple")),
        }
    }
    for s in specs.iter().filter(|s| s.required && s.key != "ANY") {
        if !d.contains_key(&s.key) {
            return Err(format!("{}: required key missing", join(path, &s.key)));
        }
    }
    Ok(())
}

fn in_range(v: &plist::Value, range: &[Yaml]) -> bool {
    range.is_empty()
        || range.iter().any(|r| match (r, v) {
            (Yaml::String(a), plist::Value::String(b)) => a == b,
            (Yaml::Integer(a), plist::Value::Integer(b)) => b.as_signed() == Some(*a),
            _ => false,
        })
}

/// Checks one value against its spec.
pub(crate) fn validate_value(v: &plist::Value, s: &Spec, path: &str) -> Result<(), String> {
    let type_ok = matches!(
        (s.ty.as_str(), v),
        ("<any>", _)
            | ("<string>", plist::Value::String(_))
            | ("<integer>", plist::Value::Integer(_))
            | ("<boolean>", plist::Value::Boolean(_))
            | ("<data>", plist::Value::Data(_))
            | ("<real>", plist::Value::Real(_))
            | ("<date>", plist::Value::Date(_))
            | ("<array>", plist::Value::Array(_))
            | ("<dictionary>", plist::Value::Dictionary(_))
    );
    if !type_ok {
        return Err(format!("{path}: expected {}, found {v:?}", s.ty));
    }
    if !in_range(v, &s.range) {
        return Err(format!("{path}: {v:?} is not among the documented values"));
    }
    match v {
        plist::Value::String(text) if !s.subkeys.is_empty() && !s.subkeys.iter().any(|k| &k.key == text) => {
            return Err(format!("{path}: {text:?} is not a documented value"));
        }
        plist::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                validate_item(item, &s.subkeys, &format!("{path}[{i}]"))?;
            }
        }
        plist::Value::Dictionary(d) if !s.subkeys.is_empty() => validate_dict(d, &s.subkeys, path)?,
        _ => {}
    }
    Ok(())
}

/// An array item fits its only shape, or one of several (Settings: the shape whose key is the
/// item's `Item` is tried first so its error is the one reported).
fn validate_item(item: &plist::Value, shapes: &[Spec], path: &str) -> Result<(), String> {
    match shapes {
        [] => Ok(()),
        [only] => validate_value(item, only, path),
        _ => {
            let tag = item.as_dictionary().and_then(|d| d.get("Item")).and_then(|v| v.as_string());
            if let Some(shape) = shapes.iter().find(|s| Some(s.key.as_str()) == tag) {
                return validate_value(item, shape, path);
            }
            if shapes.iter().any(|s| validate_value(item, s, path).is_ok()) {
                Ok(())
            } else {
                Err(format!("{path}: fits none of the {} documented item shapes", shapes.len()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dict(pairs: &[(&str, plist::Value)]) -> plist::Dictionary {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[test]
    fn the_validator_itself_reports_paths() {
        let s = |v: &str| plist::Value::String(v.into());
        assert_eq!(validate(&dict(&[("RequestType", s("RemoveProfile"))])), Err("Identifier: required key missing".into()));
        let extra = dict(&[("RequestType", s("RemoveProfile")), ("Identifier", s("a")), ("Bogus", s("b"))]);
        assert_eq!(validate(&extra), Err("Bogus: key not documented by Apple".into()));
        let q = dict(&[("RequestType", s("DeviceInformation")), ("Queries", plist::Value::Array(vec![s("UDID"), 3.into()]))]);
        assert!(validate(&q).unwrap_err().starts_with("Queries[1]: expected <string>"));
        let q = dict(&[("RequestType", s("DeviceInformation")), ("Queries", plist::Value::Array(vec![s("Nope")]))]);
        assert_eq!(validate(&q), Err("Queries[0]: \"Nope\" is not a documented value".into()));
        let item = dict(&[("Item", s("DeviceName")), ("DeviceName", true.into())]);
        let st = dict(&[("RequestType", s("Settings")), ("Settings", plist::Value::Array(vec![item.into()]))]);
        assert!(validate(&st).unwrap_err().starts_with("Settings[0].DeviceName: expected <string>"));
        let item = dict(&[("Item", s("Wallpaper")), ("Image", plist::Value::Data(vec![1])), ("Where", 7.into())]);
        let st = dict(&[("RequestType", s("Settings")), ("Settings", plist::Value::Array(vec![item.into()]))]);
        assert!(validate(&st).unwrap_err().starts_with("Settings[0].Where: Integer(7"));
    }
}
