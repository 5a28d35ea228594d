//! Validation against Apple's published profile schema (the YAML files of
//! <https://github.com/apple/device-management>, vendored in `schema/apple` and embedded at build
//! time). Each finding has a path into the profile
//! (`PayloadContent[1].EAPClientConfiguration.AcceptEAPTypes[0]`):
//!
//! - errors: a wrong type, a missing required key (checked only where the enclosing dictionary is
//!   present), a value outside `rangelist` / `range`, an array of the wrong length;
//! - warnings: a key Apple does not document, a payload type Apple does not document (passed
//!   through unchecked).
//!
//! Where Apple says something about keys only in prose, that prose is read (see `spec::wording`):
//! a vendor-specific dictionary takes any key, a dictionary whose only subkey is a placeholder
//! (`domainRealmMapping` → `Realm`) is a map of that subkey's values, a `<string>` said to be
//! "a single string or an array of strings" takes both, and a payload whose fields are "the same
//! as" another payload's has that payload's keys too (`com.apple.vpn.managed.applayer`).
//!
//! The files are parsed on first use. A file that cannot be read leaves its payload type
//! unchecked, with a warning, rather than failing.

mod check;
mod coerce;
mod registry;
mod spec;
mod yaml;

#[cfg(test)]
mod tests;

use plist::Value;

use crate::issue::{index_path, key_path, Issue, Severity};
use check::{Checker, MISSING};
use registry::{candidates, registry, Registry, COMMON, TOP_LEVEL};
use spec::{ShapeRef, Spec};

/// Validates a whole profile: its top-level keys against Apple's `TopLevel` schema, then each
/// dictionary of `PayloadContent` with [`validate_payload`] (at `PayloadContent[i]`). For an
/// encrypted profile (`EncryptedPayloadContent`) only the top level is checked.
pub fn validate_profile(profile: &plist::Dictionary) -> Vec<Issue> {
    let mut out = validate_top_level(profile);
    if profile.contains_key("EncryptedPayloadContent") {
        out.retain(|i| !(i.path == "PayloadContent" && i.message == MISSING));
        return out;
    }
    if let Some(Value::Array(items)) = profile.get("PayloadContent") {
        for (i, item) in items.iter().enumerate() {
            if let Value::Dictionary(d) = item {
                out.extend(validate_payload(d, &index_path("PayloadContent", i)));
            }
        }
    }
    out
}

/// Validates one payload dictionary: the keys common to all payloads plus the keys of its
/// `PayloadType`. `path` is where the payload sits (`PayloadContent[1]`); findings are reported
/// below it. A type Apple does not document gets one warning and only its common keys checked.
/// Where Apple documents a type in several files, the payload is checked against the file that
/// fits it best: the one documenting most of its keys, then with fewest errors (for
/// `com.apple.extensiblesso`, the Kerberos file when `ExtensionIdentifier` is
/// `com.apple.AppSSOKerberos.KerberosExtension`, the generic file otherwise).
pub fn validate_payload(payload: &plist::Dictionary, path: &str) -> Vec<Issue> {
    let reg = registry();
    let Some(common) = reg.single(COMMON) else {
        return vec![unreadable(reg, COMMON, path)];
    };
    let common = ShapeRef::root(common);
    let payload_type = payload.get("PayloadType").and_then(Value::as_string);
    let variants = payload_type.map_or(&[][..], |t| reg.payload_variants(t));
    if variants.is_empty() {
        let mut out = check_payload(payload, &[common], path, None);
        if let Some(t) = payload_type {
            out.push(unreadable(reg, t, path));
        }
        return out;
    }
    candidates(variants, payload)
        .into_iter()
        .map(|spec| check_payload(payload, &[ShapeRef::root(spec), common], path, Some(spec)))
        .min_by_key(|issues| fit(issues))
        .unwrap_or_default()
}

/// How badly a payload fits one of its type's files, for picking the best: the file that
/// documents most of its keys (fewest warnings) is the one meant; then fewest errors.
fn fit(issues: &[Issue]) -> (usize, usize) {
    let warnings = issues.iter().filter(|i| i.severity == Severity::Warning).count();
    (warnings, issues.len() - warnings)
}

/// Whether Apple's schema documents `payload_type` (`com.apple.wifi.managed`: yes;
/// `com.example.custom`: no).
pub fn is_documented(payload_type: &str) -> bool {
    registry().is_payload_type(payload_type)
}

/// Converts, in place, the values of a profile read from JSON that JSON cannot type: a string
/// where the schema wants `<data>` (base64) or `<date>` (RFC 3339), an integer where it wants
/// `<real>`; at the top level and in every payload of `PayloadContent`, at any depth. Values
/// that do not convert are left for validation to report.
pub fn coerce_json(profile: &mut plist::Dictionary) {
    let reg = registry();
    if let Some(top) = reg.single(TOP_LEVEL) {
        coerce::dict(profile, &[ShapeRef::root(top)], 0);
    }
    if let Some(Value::Array(items)) = profile.get_mut("PayloadContent") {
        for item in items {
            if let Value::Dictionary(d) = item {
                coerce_payload(reg, d);
            }
        }
    }
}

/// The top level of a profile against `TopLevel.yaml`. `PayloadContent` items are only checked
/// to be dictionaries here; [`validate_payload`] checks their keys.
fn validate_top_level(profile: &plist::Dictionary) -> Vec<Issue> {
    let reg = registry();
    let Some(top) = reg.single(TOP_LEVEL) else {
        return vec![unreadable(reg, TOP_LEVEL, "")];
    };
    let mut checker = Checker::new("the profile's top level");
    checker.dict(profile, &[ShapeRef::root(top)], "", false, 0);
    checker.finish()
}

/// A payload against the given shapes; with no type file (`spec` is `None`), keys other than
/// the common ones pass without a warning.
fn check_payload(payload: &plist::Dictionary, shapes: &[ShapeRef<'_>], path: &str, spec: Option<&Spec>) -> Vec<Issue> {
    let context = spec.map_or("this payload", Spec::label);
    let mut checker = Checker::new(context);
    checker.dict(payload, shapes, path, spec.is_none(), 0);
    checker.finish()
}

/// The one warning for a payload type (or schema part) that is not checked.
fn unreadable(reg: &Registry, payload_type: &str, path: &str) -> Issue {
    let at = key_path(path, "PayloadType");
    match reg.failure(payload_type) {
        Some(why) => Issue::warning(at, format!("Apple's schema for {payload_type} could not be read ({why}); passed through unchecked")),
        None => Issue::warning(at, format!("payload type {payload_type} is not documented by Apple; passed through unchecked")),
    }
}

/// Coerces one payload against its common keys and the files of its type.
fn coerce_payload(reg: &Registry, d: &mut plist::Dictionary) {
    let common: Vec<ShapeRef<'_>> = reg.single(COMMON).map(ShapeRef::root).into_iter().collect();
    let variants = d.get("PayloadType").and_then(Value::as_string).map_or(&[][..], |t| reg.payload_variants(t));
    let chosen = candidates(variants, d);
    if chosen.is_empty() {
        coerce::dict(d, &common, 0);
    }
    for spec in chosen {
        let shapes: Vec<ShapeRef<'_>> = std::iter::once(ShapeRef::root(spec)).chain(common.iter().copied()).collect();
        coerce::dict(d, &shapes, 0);
    }
}
