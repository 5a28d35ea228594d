//! Validation of profiles and payloads against Apple's schema, through the public API.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mdm_profiles::schema::{coerce_json, is_documented, validate_payload, validate_profile};
use mdm_profiles::{Issue, Severity};
use plist::Value;
use serde_json::json;

/// A plist dictionary written as JSON (integers stay integers, floats become reals).
fn dict(j: serde_json::Value) -> plist::Dictionary {
    match plist::to_value(&j).unwrap() {
        Value::Dictionary(d) => d,
        other => panic!("not a dictionary: {other:?}"),
    }
}

/// A payload of `payload_type` with the common keys and `body`'s keys.
fn payload(payload_type: &str, body: serde_json::Value) -> plist::Dictionary {
    let mut d = dict(json!({
        "PayloadType": payload_type,
        "PayloadIdentifier": format!("org.example.{payload_type}"),
        "PayloadUUID": "9A0B5E9C-7D52-4B4B-9E55-3E0A9E2C0001",
        "PayloadVersion": 1,
    }));
    for (k, v) in dict(body) {
        d.insert(k, v);
    }
    d
}

fn profile(items: Vec<plist::Dictionary>) -> plist::Dictionary {
    let mut d = dict(json!({
        "PayloadType": "Configuration",
        "PayloadIdentifier": "org.example.profile",
        "PayloadUUID": "9A0B5E9C-7D52-4B4B-9E55-3E0A9E2C0000",
        "PayloadVersion": 1,
        "PayloadDisplayName": "Example",
    }));
    d.insert("PayloadContent".into(), Value::Array(items.into_iter().map(Value::Dictionary).collect()));
    d
}

fn wpa2() -> plist::Dictionary {
    payload(
        "com.apple.wifi.managed",
        json!({
            "SSID_STR": "Office",
            "EncryptionType": "WPA2",
            "Password": "correct horse",
            "AutoJoin": true,
            "HIDDEN_NETWORK": false,
            "ProxyType": "None",
        }),
    )
}

fn wpa2_enterprise(eap: serde_json::Value) -> plist::Dictionary {
    let mut p = wpa2();
    p.remove("Password");
    p.insert("EAPClientConfiguration".into(), plist::to_value(&eap).unwrap());
    p
}

fn mdm() -> plist::Dictionary {
    payload(
        "com.apple.mdm",
        json!({
            "IdentityCertificateUUID": "9A0B5E9C-7D52-4B4B-9E55-3E0A9E2C0002",
            "Topic": "com.apple.mgmt.External.2b8c9d1e",
            "ServerURL": "https://mdm.example.org/mdm",
            "CheckInURL": "https://mdm.example.org/checkin",
            "SignMessage": true,
            "AccessRights": 8191,
            "CheckOutWhenRemoved": true,
            "ServerCapabilities": ["com.apple.mdm.per-user-connections", "com.apple.mdm.bootstraptoken"],
        }),
    )
}

/// The one finding, asserting there is exactly one.
fn only(issues: Vec<Issue>) -> Issue {
    assert_eq!(issues.len(), 1, "{issues:#?}");
    issues.into_iter().next().unwrap()
}

fn assert_issue(issue: &Issue, path: &str, severity: Severity, message: &str) {
    assert_eq!(issue.path, path, "{issue:?}");
    assert_eq!(issue.severity, severity, "{issue:?}");
    assert!(issue.message.contains(message), "{:?} should contain {message:?}", issue.message);
}

#[test]
fn valid_payloads_and_profile_are_clean() {
    assert_eq!(validate_payload(&wpa2(), "PayloadContent[0]"), vec![]);
    let eap = wpa2_enterprise(json!({"AcceptEAPTypes": [25, 13], "UserName": "jo", "TLSMinimumVersion": "1.2"}));
    assert_eq!(validate_payload(&eap, "PayloadContent[0]"), vec![]);
    assert_eq!(validate_payload(&mdm(), "PayloadContent[1]"), vec![]);
    let mut p = profile(vec![wpa2(), mdm()]);
    p.insert("ConsentText".into(), plist::to_value(&json!({"default": "Agree?", "de": "Zustimmen?"})).unwrap());
    p.insert("DurationUntilRemoval".into(), Value::Integer(3600.into()));
    p.insert("RemovalDate".into(), Value::Date(std::time::SystemTime::UNIX_EPOCH.into()));
    assert_eq!(validate_profile(&p), vec![]);
}

#[test]
fn unknown_keys_are_warnings() {
    let mut p = wpa2();
    p.insert("SSIDD".into(), "typo".into());
    let issue = only(validate_payload(&p, "PayloadContent[0]"));
    assert_issue(&issue, "PayloadContent[0].SSIDD", Severity::Warning, "not documented by Apple for com.apple.wifi.managed");

    let mut top = profile(vec![]);
    top.insert("Vendor".into(), "x".into());
    assert_issue(&only(validate_profile(&top)), "Vendor", Severity::Warning, "not documented");
}

#[test]
fn wrong_type_deep_inside() {
    let p = wpa2_enterprise(json!({"AcceptEAPTypes": ["25"]}));
    let issue = only(validate_profile(&profile(vec![mdm(), p])));
    assert_issue(&issue, "PayloadContent[1].EAPClientConfiguration.AcceptEAPTypes[0]", Severity::Error, "expected <integer>, found <string>");
    let p = wpa2_enterprise(json!({"AcceptEAPTypes": [25], "TLSMinimumVersion": 1.2}));
    let issue = only(validate_payload(&p, "PayloadContent[0]"));
    assert_issue(&issue, "PayloadContent[0].EAPClientConfiguration.TLSMinimumVersion", Severity::Error, "expected <string>, found <real>");
}

#[test]
fn missing_required_keys_only_where_the_dictionary_is() {
    let p = wpa2_enterprise(json!({"UserName": "jo"}));
    let issue = only(validate_payload(&p, "PayloadContent[2]"));
    assert_issue(&issue, "PayloadContent[2].EAPClientConfiguration.AcceptEAPTypes", Severity::Error, "required key missing");
    assert_eq!(validate_payload(&wpa2(), "PayloadContent[2]"), vec![], "no EAP dictionary, nothing required in it");

    let mut m = mdm();
    m.remove("Topic");
    m.remove("PayloadUUID");
    let issues = validate_payload(&m, "PayloadContent[0]");
    assert_eq!(issues.len(), 2, "{issues:#?}");
    assert!(issues.iter().all(|i| i.severity == Severity::Error && i.message == "required key missing"));
    let paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
    assert!(paths.contains(&"PayloadContent[0].Topic") && paths.contains(&"PayloadContent[0].PayloadUUID"), "{paths:?}");
}

#[test]
fn values_outside_rangelist_or_range() {
    let mut p = wpa2();
    p.insert("EncryptionType".into(), "WPA4".into());
    let issue = only(validate_payload(&p, "PayloadContent[0]"));
    assert_issue(&issue, "PayloadContent[0].EncryptionType", Severity::Error, "must be one of WEP, WPA, WPA2, WPA3, Any, None (found \"WPA4\")");

    let mut p = wpa2();
    p.insert("ProxyServerPort".into(), Value::Integer(70000.into()));
    let issue = only(validate_payload(&p, "PayloadContent[0]"));
    assert_issue(&issue, "PayloadContent[0].ProxyServerPort", Severity::Error, "must be between 0 and 65535 (found 70000)");

    let p = wpa2_enterprise(json!({"AcceptEAPTypes": [25, 99]}));
    let issue = only(validate_payload(&p, "PayloadContent[0]"));
    assert_issue(&issue, "PayloadContent[0].EAPClientConfiguration.AcceptEAPTypes[1]", Severity::Error, "must be one of 13, 17, 18, 21, 23, 25, 43 (found 99)");

    let mut top = profile(vec![]);
    top.insert("PayloadVersion".into(), Value::Integer(2.into()));
    assert_issue(&only(validate_profile(&top)), "PayloadVersion", Severity::Error, "must be one of 1 (found 2)");
}

#[test]
fn malformed_array_items() {
    let p = wpa2_enterprise(json!({"AcceptEAPTypes": [25, {"Type": 25}]}));
    let issue = only(validate_payload(&p, "PayloadContent[0]"));
    assert_issue(&issue, "PayloadContent[0].EAPClientConfiguration.AcceptEAPTypes[1]", Severity::Error, "expected <integer>, found <dictionary>");

    // SCEP Subject: an array of RDNs, each an array of [OID, value] pairs of exactly two strings.
    let scep = payload(
        "com.apple.security.scep",
        json!({"PayloadContent": {
            "URL": "https://scep.example.org",
            "Subject": [[["CN", "device", "extra"]], [["O", "Example"]]],
        }}),
    );
    let issue = only(validate_payload(&scep, "PayloadContent[3]"));
    assert_issue(&issue, "PayloadContent[3].PayloadContent.Subject[0][0]", Severity::Error, "must have exactly 2 items (found 3)");
}

#[test]
fn aliased_subkeys_are_checked() {
    // wifi.managed: QoSMarkingWhitelistedAppIdentifiers' subkeys are `*id001`.
    let mut p = wpa2();
    p.insert("QoSMarkingPolicy".into(), plist::to_value(&json!({"QoSMarkingWhitelistedAppIdentifiers": ["com.example.app", 7]})).unwrap());
    let issue = only(validate_payload(&p, "PayloadContent[0]"));
    assert_issue(&issue, "PayloadContent[0].QoSMarkingPolicy.QoSMarkingWhitelistedAppIdentifiers[1]", Severity::Error, "expected <string>, found <integer>");

    // applicationaccess.new: subApps' subkeys alias the enclosing whiteList items (recursive).
    let app = |sub: serde_json::Value| json!({"bundleID": "com.example.a", "appID": "", "subApps": sub});
    let mut apps = payload("com.apple.applicationaccess.new", json!({"familyControlsEnabled": true}));
    apps.insert("whiteList".into(), plist::to_value(&json!([app(json!([app(json!([{"appID": ""}]))]))])).unwrap());
    coerce_json_payload(&mut apps);
    let issue = only(validate_payload(&apps, "PayloadContent[0]"));
    assert_issue(&issue, "PayloadContent[0].whiteList[0].subApps[0].subApps[0].bundleID", Severity::Error, "required key missing");
}

/// Runs `coerce_json` on a one-payload profile and takes the payload back.
fn coerce_json_payload(p: &mut plist::Dictionary) {
    let mut prof = profile(vec![p.clone()]);
    coerce_json(&mut prof);
    let Some(Value::Array(items)) = prof.remove("PayloadContent") else { panic!("PayloadContent") };
    let Some(Value::Dictionary(back)) = items.into_iter().next() else { panic!("payload") };
    *p = back;
}

#[test]
fn kerberos_sso_is_checked_against_its_own_file() {
    let kerberos = |data: serde_json::Value| {
        payload(
            "com.apple.extensiblesso",
            json!({
                "ExtensionIdentifier": "com.apple.AppSSOKerberos.KerberosExtension",
                "TeamIdentifier": "apple",
                "Type": "Credential",
                "Realm": "EXAMPLE.ORG",
                "Hosts": [".example.org"],
                "ExtensionData": data,
            }),
        )
    };
    assert_eq!(validate_payload(&kerberos(json!({"useSiteAutoDiscovery": false})), "PayloadContent[0]"), vec![]);
    let issue = only(validate_payload(&kerberos(json!({"useSiteAutoDiscovery": "no"})), "PayloadContent[0]"));
    assert_issue(&issue, "PayloadContent[0].ExtensionData.useSiteAutoDiscovery", Severity::Error, "expected <boolean>, found <string>");
    let issue = only(validate_payload(&kerberos(json!({"madeUp": 1})), "PayloadContent[0]"));
    assert_issue(&issue, "PayloadContent[0].ExtensionData.madeUp", Severity::Warning, "com.apple.extensiblesso(kerberos)");
    let mut wrong_team = kerberos(json!({}));
    wrong_team.insert("TeamIdentifier".into(), "ABCDE12345".into());
    assert_issue(&only(validate_payload(&wrong_team, "P")), "P.TeamIdentifier", Severity::Error, "must be one of apple");

    // Any other extension: the generic file, whose ExtensionData is free-form.
    let mut other = kerberos(json!({"useSiteAutoDiscovery": "no", "anything": [1, 2]}));
    other.insert("ExtensionIdentifier".into(), "com.example.sso.extension".into());
    other.insert("TeamIdentifier".into(), "ABCDE12345".into());
    other.insert("URLs".into(), plist::to_value(&json!(["https://sso.example.org"])).unwrap());
    other.remove("Hosts");
    assert_eq!(validate_payload(&other, "PayloadContent[0]"), vec![]);
}

#[test]
fn mcx_fits_any_of_its_files() {
    let guest = payload("com.apple.MCX", json!({"DisableGuestAccount": true}));
    assert_eq!(validate_payload(&guest, "P"), vec![]);
    let time = payload("com.apple.MCX", json!({"timeServer": "time.apple.com", "timeZone": "Europe/Berlin"}));
    assert_eq!(validate_payload(&time, "P"), vec![]);
    let bad = payload("com.apple.MCX", json!({"timeServer": 3}));
    assert_issue(&only(validate_payload(&bad, "P")), "P.timeServer", Severity::Error, "expected <string>, found <integer>");
}

#[test]
fn coerce_json_converts_what_json_cannot_type() {
    let root = payload("com.apple.security.root", json!({"PayloadContent": "AQID\nBA==", "PayloadCertificateFileName": "ca.cer"}));
    let mut p = profile(vec![root, wpa2()]);
    p.insert("RemovalDate".into(), "2027-01-31T12:00:00Z".into());
    p.insert("DurationUntilRemoval".into(), Value::Integer(3600.into()));
    p.insert("PayloadExpirationDate".into(), "next tuesday".into());
    coerce_json(&mut p);
    let expected: std::time::SystemTime = chrono::DateTime::parse_from_rfc3339("2027-01-31T12:00:00Z").unwrap().into();
    assert_eq!(p["RemovalDate"], Value::Date(expected.into()));
    assert_eq!(p["DurationUntilRemoval"], Value::Real(3600.0));
    assert_eq!(p["PayloadExpirationDate"], Value::String("next tuesday".into()), "left for validation");
    let items = p["PayloadContent"].as_array().unwrap();
    let root = items[0].as_dictionary().unwrap();
    assert_eq!(root["PayloadContent"], Value::Data(vec![1, 2, 3, 4]));
    assert_eq!(root["PayloadCertificateFileName"], Value::String("ca.cer".into()));
    assert_eq!(items[1], Value::Dictionary(wpa2()), "nothing to convert");
    let issue = only(validate_profile(&p));
    assert_issue(&issue, "PayloadExpirationDate", Severity::Error, "expected <date>, found <string>");

    let bad = payload("com.apple.security.root", json!({"PayloadContent": "not base64!"}));
    let mut p = profile(vec![bad]);
    coerce_json(&mut p);
    assert_issue(&only(validate_profile(&p)), "PayloadContent[0].PayloadContent", Severity::Error, "expected <data>, found <string>");
}

#[test]
fn undocumented_payload_type_is_one_warning() {
    let p = payload("com.example.custom", json!({"Anything": [1, {"x": true}], "Else": "y"}));
    let issue = only(validate_profile(&profile(vec![p])));
    assert_issue(&issue, "PayloadContent[0].PayloadType", Severity::Warning, "passed through unchecked");
    assert!(issue.message.contains("com.example.custom"), "{issue}");
    assert!(!is_documented("com.example.custom"));
    assert!(is_documented("com.apple.wifi.managed"));
    assert!(is_documented("com.apple.MCX"));
    assert!(!is_documented("TopLevel"));
    let top = payload("TopLevel", json!({}));
    assert_issue(&only(validate_payload(&top, "P")), "P.PayloadType", Severity::Warning, "passed through unchecked");
}

#[test]
fn garbage_is_reported_not_fatal() {
    let mut p = profile(vec![]);
    p.insert("PayloadContent".into(), "not an array".into());
    assert_issue(&only(validate_profile(&p)), "PayloadContent", Severity::Error, "expected <array>, found <string>");

    let mut p = profile(vec![]);
    let items = vec![Value::String("x".into()), Value::Integer(3.into()), Value::Dictionary(plist::Dictionary::new())];
    p.insert("PayloadContent".into(), Value::Array(items));
    let issues = validate_profile(&p);
    assert_issue(&issues[0], "PayloadContent[0]", Severity::Error, "expected <dictionary>, found <string>");
    assert_issue(&issues[1], "PayloadContent[1]", Severity::Error, "expected <dictionary>, found <integer>");
    let missing: Vec<&str> = issues[2..].iter().map(|i| i.path.as_str()).collect();
    assert_eq!(missing.len(), 4, "{issues:#?}");
    for key in ["PayloadIdentifier", "PayloadUUID", "PayloadType", "PayloadVersion"] {
        assert!(missing.contains(&format!("PayloadContent[2].{key}").as_str()), "{missing:?}");
    }

    let mut odd = wpa2();
    odd.insert("PayloadType".into(), Value::Integer(7.into()));
    assert_issue(&only(validate_payload(&odd, "X")), "X.PayloadType", Severity::Error, "expected <string>, found <integer>");

    let empty = validate_profile(&plist::Dictionary::new());
    assert_eq!(empty.len(), 5, "{empty:#?}");
    assert!(empty.iter().all(|i| i.severity == Severity::Error && i.message == "required key missing"));
    let mut mangled = profile(vec![]);
    mangled.insert("ConsentText".into(), Value::Array(vec![]));
    coerce_json(&mut mangled);
    assert_issue(&only(validate_profile(&mangled)), "ConsentText", Severity::Error, "expected <dictionary>, found <array>");
}

#[test]
fn encrypted_profiles_are_checked_at_the_top_only() {
    let mut p = profile(vec![]);
    p.remove("PayloadContent");
    p.insert("EncryptedPayloadContent".into(), Value::Data(vec![0x30, 0x80]));
    p.insert("IsEncrypted".into(), true.into());
    assert_eq!(validate_profile(&p), vec![]);
    p.insert("PayloadScope".into(), "Everyone".into());
    assert_issue(&only(validate_profile(&p)), "PayloadScope", Severity::Error, "must be one of System, User");
}

#[test]
fn deprecated_and_removed_keys_are_still_allowed() {
    let mut m = mdm();
    m.insert("ManagedAppleID".into(), "jo@example.org".into()); // deprecated, removed in iOS 18
    assert_eq!(validate_payload(&m, "P"), vec![]);
    let mut w = wpa2_enterprise(json!({"AcceptEAPTypes": [13], "TLSAllowTrustExceptions": false})); // removed in iOS 8
    w.insert("QoSMarkingPolicy".into(), plist::to_value(&json!({"QoSMarkingWhitelistedAppIdentifiers": ["com.example.app"]})).unwrap());
    assert_eq!(validate_payload(&w, "P"), vec![]);
}

fn vpn(payload_type: &str, extra: serde_json::Value) -> plist::Dictionary {
    let mut p = payload(
        payload_type,
        json!({
            "UserDefinedName": "Example VPN",
            "VPNType": "VPN",
            "VPNSubType": "com.example.vpn.provider",
            "VPN": {"AuthenticationMethod": "Password", "ProviderBundleIdentifier": "com.example.vpn.provider.ext"},
        }),
    );
    for (k, v) in dict(extra) {
        p.insert(k, v);
    }
    p
}

#[test]
fn vendor_config_takes_any_key_and_checks_the_documented_ones() {
    for payload_type in ["com.apple.vpn.managed", "com.apple.vpn.managed.applayer"] {
        let config = json!({
            "VPNUUID": "9A0B5E9C-7D52-4B4B-9E55-3E0A9E2C0009",
            "VendorConfig": {
                "Realm": "EXAMPLE.ORG",
                "DeviceTrafficRules": {"Version": 1, "Rules": [{"Action": "Tunnel"}]},
                "anything": [1, {"nested": true}],
            },
        });
        let mut p = vpn(payload_type, config);
        if payload_type == "com.apple.vpn.managed" {
            p.remove("VPNUUID");
        }
        assert_eq!(validate_payload(&p, "P"), vec![], "{payload_type}");
        let mut bad = p.clone();
        bad.insert("VendorConfig".into(), plist::to_value(&json!({"Group": 7, "other": "x"})).unwrap());
        assert_issue(&only(validate_payload(&bad, "P")), "P.VendorConfig.Group", Severity::Error, "expected <string>, found <integer>");
    }
}

#[test]
fn applayer_vpn_has_the_vpn_payloads_fields() {
    let app = vpn(
        "com.apple.vpn.managed.applayer",
        json!({
            "VPNUUID": "9A0B5E9C-7D52-4B4B-9E55-3E0A9E2C0009",
            "SafariDomains": ["example.org"],
            "OnDemandMatchAppEnabled": true,
            "IPv4": {"OverridePrimary": 1},
            "DNS": {"DNSProtocol": "Cleartext", "ServerAddresses": ["10.0.0.53"]},
        }),
    );
    assert_eq!(validate_payload(&app, "P"), vec![]);

    // The VPN payload's rules hold: its required keys, its types, deep inside.
    let mut missing = app.clone();
    missing.remove("VPNType");
    assert_issue(&only(validate_payload(&missing, "P")), "P.VPNType", Severity::Error, "required key missing");
    let mut wrong = app.clone();
    wrong.insert("IPv4".into(), plist::to_value(&json!({"OverridePrimary": "yes"})).unwrap());
    assert_issue(&only(validate_payload(&wrong, "P")), "P.IPv4.OverridePrimary", Severity::Error, "expected <integer>, found <string>");
    // The applayer file's own keys still count, and so do undocumented ones.
    let mut no_uuid = app.clone();
    no_uuid.remove("VPNUUID");
    assert_issue(&only(validate_payload(&no_uuid, "P")), "P.VPNUUID", Severity::Error, "required key missing");
    let mut typo = app.clone();
    typo.insert("SafariDomain".into(), "example.org".into());
    assert_issue(&only(validate_payload(&typo, "P")), "P.SafariDomain", Severity::Warning, "not documented by Apple for com.apple.vpn.managed.applayer");
    // The plain VPN payload does not gain the per-app keys.
    let mut plain = app;
    plain.insert("PayloadType".into(), "com.apple.vpn.managed".into());
    let issues = validate_payload(&plain, "P");
    let paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(paths, ["P.OnDemandMatchAppEnabled", "P.SafariDomains", "P.VPNUUID"], "{issues:#?}");
    assert!(issues.iter().all(|i| i.severity == Severity::Warning));
}

#[test]
fn placeholder_keyed_dictionaries_are_maps() {
    let kerberos = |mapping: serde_json::Value| {
        payload(
            "com.apple.extensiblesso",
            json!({
                "ExtensionIdentifier": "com.apple.AppSSOKerberos.KerberosExtension",
                "TeamIdentifier": "apple",
                "Type": "Credential",
                "Realm": "EXAMPLE.ORG",
                "Hosts": [".example.org"],
                "ExtensionData": {"domainRealmMapping": mapping},
            }),
        )
    };
    let good = kerberos(json!({"EXAMPLE.ORG": [".example.org"], "HOSPITAL.EXAMPLE.ORG": [".hospital.example.org"]}));
    assert_eq!(validate_payload(&good, "P"), vec![]);
    assert_eq!(validate_payload(&kerberos(json!({})), "P"), vec![]);
    assert_issue(
        &only(validate_payload(&kerberos(json!({"EXAMPLE.ORG": ".example.org"})), "P")),
        "P.ExtensionData.domainRealmMapping.EXAMPLE.ORG",
        Severity::Error,
        "expected <array>, found <string>",
    );
    assert_issue(
        &only(validate_payload(&kerberos(json!({"EXAMPLE.ORG": [".example.org", 3]})), "P")),
        "P.ExtensionData.domainRealmMapping.EXAMPLE.ORG[1]",
        Severity::Error,
        "expected <string>, found <integer>",
    );

    let printers = |list: serde_json::Value| payload("com.apple.mcxprinting", json!({"UserPrinterList": list}));
    let good = printers(json!({
        "Office_LaserJet": {"DeviceURI": "ipp://printer.example.org", "DisplayName": "Office", "PrinterLocked": true},
        "Ward 3": {"DisplayName": "Ward 3"},
    }));
    assert_eq!(validate_payload(&good, "P"), vec![]);
    let bad = printers(json!({"Office": {"PrinterLocked": "yes", "Colour": true}}));
    let issues = validate_payload(&bad, "P");
    assert_eq!(issues.len(), 2, "{issues:#?}");
    assert_issue(&issues[0], "P.UserPrinterList.Office.Colour", Severity::Warning, "not documented");
    assert_issue(&issues[1], "P.UserPrinterList.Office.PrinterLocked", Severity::Error, "expected <boolean>");
    assert_issue(
        &only(validate_payload(&printers(json!({"Office": "ipp://x"})), "P")),
        "P.UserPrinterList.Office",
        Severity::Error,
        "expected <dictionary>, found <string>",
    );
}

#[test]
fn subject_alt_name_values_may_be_arrays_of_strings() {
    let scep =
        |san: serde_json::Value| payload("com.apple.security.scep", json!({"PayloadContent": {"URL": "https://ca.example.org/scep", "SubjectAltName": san}}));
    let single = scep(json!({"dNSName": "a.example.org", "rfc822Name": "it@example.org"}));
    assert_eq!(validate_payload(&single, "P"), vec![]);
    let many = scep(json!({
        "dNSName": ["a.example.org", "b.example.org"],
        "rfc822Name": ["it@example.org"],
        "uniformResourceIdentifier": ["https://a.example.org", "https://b.example.org"],
        "ntPrincipalName": "host@EXAMPLE.ORG",
    }));
    assert_eq!(validate_payload(&many, "P"), vec![]);
    assert_issue(
        &only(validate_payload(&scep(json!({"dNSName": ["a.example.org", 7]})), "P")),
        "P.PayloadContent.SubjectAltName.dNSName[1]",
        Severity::Error,
        "expected <string>, found <integer>",
    );
    assert_issue(
        &only(validate_payload(&scep(json!({"dNSName": [["nested"]]})), "P")),
        "P.PayloadContent.SubjectAltName.dNSName[0]",
        Severity::Error,
        "expected <string>, found <array>",
    );
    assert_issue(
        &only(validate_payload(&scep(json!({"dNSName": 7})), "P")),
        "P.PayloadContent.SubjectAltName.dNSName",
        Severity::Error,
        "expected <string> (or an array of strings), found <integer>",
    );
    // Other <string> keys of the payload stay strings.
    let url_list = payload("com.apple.security.scep", json!({"PayloadContent": {"URL": ["https://ca.example.org"]}}));
    assert_issue(&only(validate_payload(&url_list, "P")), "P.PayloadContent.URL", Severity::Error, "expected <string>, found <array>");
}
