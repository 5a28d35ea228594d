//! The embedded files build into specs, and the spec tree has the shapes Apple's YAML describes.

use super::registry::{registry, Registry, FILES};
use super::spec::{KeySpec, ShapeRef, Spec, Ty};

/// The key spec at `path` (dictionary keys; `[]` steps into an array's item spec).
fn find<'a>(spec: &'a Spec, path: &[&str]) -> (ShapeRef<'a>, &'a KeySpec) {
    let mut shape = ShapeRef::root(spec);
    let mut key: Option<&KeySpec> = None;
    for step in path {
        if let Some(k) = key {
            shape = shape.sub(k).unwrap_or_else(|| panic!("{} has no subkeys", k.name));
        }
        key = Some(if *step == "[]" {
            shape.keys().first().unwrap()
        } else {
            shape.keys().iter().find(|k| k.name == *step).unwrap_or_else(|| panic!("no key {step} in {}", spec.file))
        });
    }
    (shape, key.unwrap())
}

fn spec(payload_type: &str) -> &'static Spec {
    registry().single(payload_type).unwrap_or_else(|| panic!("no spec for {payload_type}"))
}

#[test]
fn every_embedded_file_builds() {
    let reg = registry();
    assert_eq!(FILES.len(), 128, "vendored schema files");
    assert_eq!(reg.spec_count(), FILES.len());
    assert!(reg.all().all(|s| s.shape_count() >= 1));
    assert_eq!(reg.variants("com.apple.MCX").len(), 6);
    assert_eq!(reg.variants("com.apple.extensiblesso").len(), 2);
    assert!(reg.is_payload_type("com.apple.wifi.managed"));
    assert!(!reg.is_payload_type("TopLevel"));
    assert!(!reg.is_payload_type("com.example.nope"));
}

#[test]
fn nested_keys_have_their_types_and_lists() {
    let wifi = spec("com.apple.wifi.managed");
    let (_, eap) = find(wifi, &["EAPClientConfiguration", "AcceptEAPTypes"]);
    assert_eq!(eap.ty, Ty::Array);
    assert!(eap.required);
    let (_, item) = find(wifi, &["EAPClientConfiguration", "AcceptEAPTypes", "[]"]);
    assert_eq!(item.ty, Ty::Integer);
    assert!(item.rangelist.contains(&"13".to_string()) && item.rangelist.contains(&"25".to_string()));
    let (_, port) = find(wifi, &["ProxyServerPort"]);
    assert_eq!((port.range.min, port.range.max), (Some(0.0), Some(65535.0)));
    let (_, pair) = find(spec("com.apple.security.scep"), &["PayloadContent", "Subject", "[]", "[]", "[]"]);
    assert_eq!((pair.ty, pair.repetition.min, pair.repetition.max), (Ty::String, Some(2), Some(2)));
}

#[test]
fn item_wrapper_dictionaries_are_unwrapped() {
    let (shape, consent) = find(spec("TopLevel"), &["ConsentText"]);
    let keys = shape.sub(consent).unwrap().keys();
    assert_eq!(keys.len(), 1);
    assert_eq!((keys[0].name.as_str(), keys[0].ty, keys[0].required), ("ANY", Ty::String, false));
}

#[test]
fn aliases_share_shapes_and_may_recurse() {
    let wifi = spec("com.apple.wifi.managed");
    let (a, allow) = find(wifi, &["QoSMarkingPolicy", "QoSMarkingAllowListAppIdentifiers"]);
    let (b, white) = find(wifi, &["QoSMarkingPolicy", "QoSMarkingWhitelistedAppIdentifiers"]);
    assert_eq!(a.sub(allow).unwrap().id, b.sub(white).unwrap().id);
    assert_eq!(a.sub(allow).unwrap().keys()[0].ty, Ty::String);

    let apps = spec("com.apple.applicationaccess.new");
    let (_, white_list) = find(apps, &["whiteList"]);
    let (_, sub_apps) = find(apps, &["whiteList", "[]", "subApps"]);
    assert_eq!(white_list.subkeys, sub_apps.subkeys, "subApps holds the same items as whiteList");
    let (_, deep) = find(apps, &["whiteList", "[]", "subApps", "[]", "subApps", "[]", "bundleID"]);
    assert!(deep.required);
}

#[test]
fn a_file_that_does_not_build_is_reported_not_fatal() {
    let reg = Registry::load(&[
        ("com.example.bad(variant).yaml", "payload: [unclosed"),
        ("com.example.nokey.yaml", "payload:\n  payloadtype: com.example.nokey\npayloadkeys:\n- type: <string>\n"),
        (
            "com.example.good.yaml",
            "payload:\n  payloadtype: com.example.good\npayloadkeys:\n- key: A\n  type: <string>\n",
        ),
    ]);
    assert_eq!(reg.spec_count(), 1);
    assert!(reg.failure("com.example.bad").is_some());
    assert!(reg.failure("com.example.nokey").is_some());
    assert!(reg.is_payload_type("com.example.bad"));
    assert_eq!(reg.variants("com.example.good").len(), 1);
}

#[test]
fn type_spellings_are_normalised() {
    assert_eq!(Ty::parse("<integer>"), Ty::Integer);
    assert_eq!(Ty::parse(" Boolean "), Ty::Boolean);
    assert_eq!(Ty::parse("<dict>"), Ty::Dictionary);
    assert_eq!(Ty::parse("<float>"), Ty::Real);
    assert_eq!(Ty::parse("<something new>"), Ty::Any);
    assert!(Ty::Real.accepts(&plist::Value::Integer(3.into())));
    assert!(!Ty::Integer.accepts(&plist::Value::Real(3.0)));
}

/// A value of `key`'s type that satisfies its `rangelist`, `range` and `repetition`, with every
/// required key of a dictionary filled in.
fn sample(shape: ShapeRef<'_>, key: &KeySpec, depth: usize) -> plist::Value {
    use plist::Value as V;
    let first = key.rangelist.first();
    let number = first.and_then(|f| f.parse::<f64>().ok()).or(key.range.min).or(key.range.max).unwrap_or(1.0);
    match key.ty {
        Ty::String | Ty::Any => V::String(first.cloned().unwrap_or_else(|| "x".into())),
        Ty::Integer => V::Integer((number as i64).into()),
        Ty::Real => V::Real(number),
        Ty::Boolean => V::Boolean(first.is_none_or(|f| f == "true")),
        Ty::Data => V::Data(vec![1]),
        Ty::Date => V::Date(std::time::SystemTime::UNIX_EPOCH.into()),
        Ty::Array => {
            let items = shape.sub(key);
            let item = items.and_then(|s| s.keys().first().map(|k| (s, k)));
            let n = item.and_then(|(_, k)| k.repetition.min).unwrap_or(0);
            V::Array(item.map(|(s, k)| (0..n).map(|_| sample(s, k, depth + 1)).collect()).unwrap_or_default())
        }
        Ty::Dictionary => V::Dictionary(shape.sub(key).map(|s| required(s, depth + 1)).unwrap_or_default()),
    }
}

/// A dictionary of a shape's required keys.
fn required(shape: ShapeRef<'_>, depth: usize) -> plist::Dictionary {
    assert!(depth < 20, "required keys recurse in {}", shape.spec.file);
    shape.keys().iter().filter(|k| k.required).map(|k| (k.name.clone(), sample(shape, k, depth))).collect()
}

fn with_common(payload_type: &str, mut d: plist::Dictionary) -> plist::Dictionary {
    d.insert("PayloadType".into(), payload_type.into());
    d.insert("PayloadIdentifier".into(), "org.example.p".into());
    d.insert("PayloadUUID".into(), "9A0B5E9C-7D52-4B4B-9E55-3E0A9E2C0001".into());
    d.insert("PayloadVersion".into(), plist::Value::Integer(1.into()));
    d
}

#[test]
fn every_files_required_keys_make_a_clean_payload() {
    let reg = registry();
    for spec in reg.all().filter(|s| reg.is_payload_type(&s.payload_type)) {
        let d = with_common(&spec.payload_type, required(ShapeRef::root(spec), 0));
        assert_eq!(super::validate_payload(&d, "P"), vec![], "{}", spec.file);
    }
    let top = required(ShapeRef::root(registry().single("TopLevel").unwrap()), 0);
    assert_eq!(super::validate_profile(&top), vec![]);
}

#[test]
fn every_key_reports_a_wrong_type_as_an_error() {
    use plist::Value as V;
    let wrong = [
        V::String("s".into()),
        V::Integer(1.into()),
        V::Boolean(true),
        V::Array(vec![V::Dictionary(plist::Dictionary::new())]),
        V::Dictionary(plist::Dictionary::new()),
        V::Data(vec![]),
    ];
    let reg = registry();
    for spec in reg.all().filter(|s| reg.is_payload_type(&s.payload_type)) {
        let root = ShapeRef::root(spec);
        for key in root.keys().iter().filter(|k| k.ty != Ty::Any && k.name != "ANY") {
            for v in wrong.iter().filter(|v| !key.ty.accepts(v)) {
                let mut d = with_common(&spec.payload_type, required(root, 0));
                d.insert(key.name.clone(), v.clone());
                let issues = super::validate_payload(&d, "P");
                let at = format!("P.{}", key.name);
                assert!(
                    issues.iter().any(|i| i.path == at && i.severity == crate::Severity::Error),
                    "{}: {} = {v:?}: {issues:?}",
                    spec.file,
                    key.name
                );
            }
        }
    }
}
