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
        ("com.example.good.yaml", "payload:\n  payloadtype: com.example.good\npayloadkeys:\n- key: A\n  type: <string>\n"),
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
                assert!(issues.iter().any(|i| i.path == at && i.severity == crate::Severity::Error), "{}: {} = {v:?}: {issues:?}", spec.file, key.name);
            }
        }
    }
}

/// Every key of every file, once per shape: `(file, dotted path of key names, shape, key)`.
fn every_key(mut f: impl FnMut(&Spec, &str, ShapeRef<'_>, &KeySpec)) {
    fn walk(shape: ShapeRef<'_>, path: &str, seen: &mut Vec<usize>, f: &mut dyn FnMut(&str, ShapeRef<'_>, &KeySpec)) {
        for key in shape.keys() {
            let at = if path.is_empty() { key.name.clone() } else { format!("{path}.{}", key.name) };
            f(&at, shape, key);
            if let Some(sub) = shape.sub(key).filter(|s| !seen.contains(&s.id)) {
                seen.push(sub.id);
                walk(sub, &at, seen, f);
            }
        }
    }
    for spec in registry().all() {
        let root = ShapeRef::root(spec);
        walk(root, "", &mut vec![root.id], &mut |at, shape, key| f(spec, at, shape, key));
    }
}

/// The complete list of what each rule of `spec::wording` changes in the vendored files, so that
/// a new schema version that trips a rule somewhere else shows up here for review.
#[test]
fn keys_affected_by_apples_wording() {
    let mut placeholders = Vec::new();
    let mut open = Vec::new();
    let mut string_or_array = Vec::new();
    every_key(|spec, at, shape, key| {
        let entry = format!("{} {at}", spec.file);
        if key.any_key && key.name != "ANY" {
            placeholders.push(entry.clone());
        }
        if key.name == "ANY" && shape.keys().len() > 1 {
            open.push(entry.clone());
        }
        if key.string_or_array {
            string_or_array.push(entry);
        }
    });
    assert_eq!(
        placeholders,
        ["com.apple.extensiblesso(kerberos).yaml ExtensionData.domainRealmMapping.Realm", "com.apple.mcxprinting.yaml UserPrinterList.Printer",],
        "dictionaries read as maps of a placeholder subkey"
    );
    assert_eq!(
        open,
        ["com.apple.vpn.managed.yaml VendorConfig.ANY", "com.apple.vpn.managed.applayer.yaml VendorConfig.ANY"],
        "vendor-specific dictionaries given an ANY entry"
    );
    let san = "com.apple.security.scep.yaml PayloadContent.SubjectAltName";
    assert_eq!(
        string_or_array,
        ["rfc822Name", "dNSName", "uniformResourceIdentifier", "ntPrincipalName"].map(|k| format!("{san}.{k}")),
        "<string> keys that may be arrays of strings"
    );
    let same_as: Vec<_> = registry().all().filter_map(|s| s.same_as.as_deref().map(|n| (s.file.as_str(), n))).collect();
    assert_eq!(same_as, [("com.apple.vpn.managed.applayer.yaml", "vpn")]);
}

#[test]
fn placeholders_stand_for_any_key_and_are_not_required() {
    let sso = registry().variants("com.apple.extensiblesso");
    let kerberos = sso.iter().find(|s| s.file == "com.apple.extensiblesso(kerberos).yaml").unwrap();
    let (shape, mapping) = find(kerberos, &["ExtensionData", "domainRealmMapping"]);
    let realm = &shape.sub(mapping).unwrap().keys()[0];
    assert!(realm.any_key && !realm.required);
    assert_eq!((realm.name.as_str(), realm.ty), ("Realm", Ty::Array));
    let (shape, list) = find(spec("com.apple.mcxprinting"), &["UserPrinterList"]);
    let printer = &shape.sub(list).unwrap().keys()[0];
    assert!(printer.any_key && !printer.required);
    assert_eq!((printer.name.as_str(), printer.ty), ("Printer", Ty::Dictionary));
}

#[test]
fn applayer_vpn_has_the_vpn_payloads_keys_its_own_first() {
    let vpn = spec("com.apple.vpn.managed");
    let app = spec("com.apple.vpn.managed.applayer");
    let names = |s: &Spec| ShapeRef::root(s).keys().iter().map(|k| k.name.clone()).collect::<Vec<_>>();
    let (own, vpn_names) = (names(app), names(vpn));
    assert_eq!(own[0], "VPNUUID", "the applayer file's own keys come first");
    for name in &vpn_names {
        assert!(own.contains(name), "{name} not inherited");
    }
    let (_, vpn_type) = find(app, &["VPNType"]);
    assert!(vpn_type.required);
    assert!(vpn_type.rangelist.contains(&"IKEv2".to_string()));
    // Nested shapes come along, re-numbered into the applayer file.
    let (_, auth) = find(app, &["IKEv2", "AuthenticationMethod"]);
    assert_eq!(auth, find(vpn, &["IKEv2", "AuthenticationMethod"]).1);
    let (_, group) = find(app, &["VendorConfig", "Group"]);
    assert_eq!(group.ty, Ty::String);
    // The VPN file itself gains nothing.
    assert!(!vpn_names.contains(&"VPNUUID".to_string()));
}

#[test]
fn same_as_wording_is_read_from_payload_content() {
    use super::spec::wording::{names_plural, same_as};
    assert_eq!(same_as("The fields in this payload are the same as the VPN payload, with the addition of the fields").as_deref(), Some("vpn"));
    assert_eq!(same_as("The fields in this payload are\n  the same as the  Wi-Fi payload.").as_deref(), Some("wi-fi"));
    assert_eq!(same_as("The user name, usually the same as the email address"), None);
    assert!(names_plural("The printers available to a user.", "Printer"));
    assert!(!names_plural("A custom domain-realm mapping for Kerberos.", "Realm"));
    assert!(!names_plural("A dictionary that defines which app to use for audio calls", "AudioCall"));
}

#[test]
fn wording_rules_apply_to_any_file() {
    let yaml = "\
title: Base
payload:
  payloadtype: com.example.base
payloadkeys:
- key: Name
  type: <string>
  presence: required
- key: Extra
  type: <dictionary>
  content: The vendor-specific settings.
  subkeys:
  - key: Known
    type: <integer>
";
    let derived = "\
title: Derived
payload:
  payloadtype: com.example.derived
  content: The fields in this payload are the same as the Base payload, with the addition of these.
payloadkeys:
- key: Name
  type: <integer>
- key: Hosts
  type: <dictionary>
  content: The hosts to reach.
  subkeys:
  - key: Host
    type: <dictionary>
    presence: required
    subkeys:
    - key: Port
      type: <integer>
- key: Alt
  type: <dictionary>
  content: You can specify a single string or an array of strings for each key.
  subkeys:
  - key: A
    type: <string>
  - key: B
    type: <integer>
- key: Lone
  type: <dictionary>
  content: Settings.
  subkeys:
  - key: Only
    type: <string>
";
    let reg = Registry::load(&[("com.example.base.yaml", yaml), ("com.example.derived.yaml", derived)]);
    let d = reg.single("com.example.derived").unwrap();
    let (_, name) = find(d, &["Name"]);
    assert_eq!((name.ty, name.required), (Ty::Integer, false), "the derived file's own definition wins");
    let (shape, extra) = find(d, &["Extra"]);
    let extra_keys = shape.sub(extra).unwrap().keys();
    let extra_keys: Vec<_> = extra_keys.iter().map(|k| (k.name.as_str(), k.any_key)).collect();
    assert_eq!(extra_keys, [("Known", false), ("ANY", true)]);
    let (shape, hosts) = find(d, &["Hosts"]);
    let host = &shape.sub(hosts).unwrap().keys()[0];
    assert!(host.any_key && !host.required, "\"The hosts\" names `Host` in the plural");
    let (_, a) = find(d, &["Alt", "A"]);
    let (_, b) = find(d, &["Alt", "B"]);
    assert!(a.string_or_array && !b.string_or_array);
    let (shape, lone) = find(d, &["Lone"]);
    assert!(!shape.sub(lone).unwrap().keys()[0].any_key, "a lone subkey is no placeholder without wording");
    let base = reg.single("com.example.base").unwrap();
    assert_eq!(ShapeRef::root(base).keys().len(), 2);
}
