//! Builders against Apple's schema, and the errors an admin sees.

use serde_json::json;

use super::schema::validate;
use super::*;

/// A realistic payload for every supported request type.
fn samples() -> Vec<(&'static str, serde_json::Value)> {
    let profile = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b"<?xml version=\"1.0\"?><plist/>");
    vec![
        ("DeviceInformation", json!({"Queries": ["UDID", "SerialNumber", "OSVersion", "DevicePropertiesAttestation"], "DeviceAttestationNonce": "bm9uY2U="})),
        ("SecurityInfo", json!({})),
        ("ProfileList", json!({"ManagedOnly": true})),
        ("CertificateList", json!({"ManagedOnly": false})),
        ("ProvisioningProfileList", json!({"ManagedOnly": true})),
        ("InstalledApplicationList", json!({"Identifiers": ["com.apple.Pages"], "ManagedAppsOnly": true, "Items": ["Name", "Version"]})),
        ("ManagedApplicationList", json!({"Identifiers": ["com.example.app"]})),
        ("Restrictions", json!({"ProfileRestrictions": true})),
        ("AvailableOSUpdates", json!({})),
        ("DeviceConfigured", json!({})),
        ("InstallProfile", json!({"Payload": profile})),
        ("RemoveProfile", json!({"Identifier": "org.example.wifi"})),
        ("DeviceLock", json!({"PIN": "123456", "Message": "Return to nurse station", "PhoneNumber": "+1 555 0100"})),
        (
            "EraseDevice",
            json!({
                "PIN": "654321", "PreserveDataPlan": true, "DisallowProximitySetup": false, "ObliterationBehavior": "DoNotObliterate",
                "ReturnToService": {"Enabled": true, "WiFiProfileData": "d2lmaQ==", "MDMProfileData": "bWRt"}
            }),
        ),
        ("RestartDevice", json!({"NotifyUser": true, "RebuildKernelCache": false, "KextPaths": ["/Library/Extensions/X.kext"]})),
        ("ShutDownDevice", json!({})),
        ("ClearPasscode", json!({})),
        ("Settings", settings_sample()),
    ]
}

fn settings_sample() -> serde_json::Value {
    json!({"Settings": [
        {"Item": "DeviceName", "DeviceName": "Kiosk 4"},
        {"Item": "HostName", "HostName": "kiosk-4"},
        {"Item": "TimeZone", "TimeZone": "Europe/Paris"},
        {"Item": "Bluetooth", "Enabled": false},
        {"Item": "DataRoaming", "Enabled": true},
        {"Item": "VoiceRoaming", "Enabled": true},
        {"Item": "PersonalHotspot", "Enabled": false},
        {"Item": "DiagnosticSubmission", "Enabled": false},
        {"Item": "AppAnalytics", "Enabled": false},
        {"Item": "Wallpaper", "Image": "iVBORw0KGgo=", "Where": 3},
        {"Item": "ApplicationConfiguration", "Identifier": "com.example.app",
         "Configuration": {"ServerURL": "https://example.com", "Port": 8443, "Ratio": 0.5, "Flags": [true, "x"], "Nested": {"A": 1}}},
        {"Item": "ApplicationAttributes", "Identifier": "com.example.app",
         "Attributes": {"VPNUUID": "0F6A", "AssociatedDomains": ["applinks:example.com"], "Removable": false, "CellularSliceUUID": "AB"}},
        {"Item": "OrganizationInfo", "OrganizationInfo": {"OrganizationName": "Example Health", "OrganizationEmail": "it@example.com"}},
        {"Item": "MDMOptions", "MDMOptions": {"ActivationLockAllowedWhileSupervised": true, "PromptUserToAllowBootstrapTokenForAuthentication": false}},
        {"Item": "MaximumResidentUsers", "MaximumResidentUsers": 8},
        {"Item": "PasscodeLockGracePeriod", "PasscodeLockGracePeriod": 300},
        {"Item": "SharedDeviceConfiguration", "QuotaSize": 4096, "ResidentUsers": 10, "TemporarySessionOnly": false,
         "ManagedAppleIDDefaultDomains": ["example.com"], "AwaitUserConfiguration": {"Enabled": true},
         "PasscodePolicy": {"PasscodeLockGracePeriod": 60, "AutoLockTime": 120}},
        {"Item": "SoftwareUpdateSettings", "RecommendationCadence": 2},
        {"Item": "AccessibilitySettings", "BoldTextEnabled": true, "TextSize": 7, "VoiceOverEnabled": false},
    ]})
}

fn invalid(request_type: &str, payload: serde_json::Value) -> (String, String) {
    match build(request_type, &payload) {
        Err(CommandError::InvalidPayload { path, reason }) => (path, reason),
        other => panic!("{request_type} {payload}: expected InvalidPayload, got {other:?}"),
    }
}

#[test]
fn every_supported_command_has_a_sample_and_fits_apples_schema() {
    let samples = samples();
    let mut names: Vec<&str> = samples.iter().map(|(n, _)| *n).collect();
    let mut want = supported().to_vec();
    names.sort_unstable();
    want.sort_unstable();
    assert_eq!(names, want);
    for (rt, payload) in samples {
        let mut cmd = build(rt, &payload).unwrap_or_else(|e| panic!("{rt}: {e}"));
        if needs_unlock_token(rt) {
            with_unlock_token(&mut cmd, b"token");
        }
        assert_eq!(cmd.keys().next().map(String::as_str), Some("RequestType"), "{rt}");
        validate(&cmd).unwrap_or_else(|e| panic!("{rt}: {e}\n{cmd:#?}"));
    }
}

#[test]
fn empty_payloads_build_and_fit_the_schema_where_nothing_is_required() {
    for rt in supported().iter().filter(|rt| !["InstallProfile", "RemoveProfile", "Settings"].contains(rt)) {
        let mut cmd = build(rt, &json!({})).unwrap_or_else(|e| panic!("{rt}: {e}"));
        if needs_unlock_token(rt) {
            with_unlock_token(&mut cmd, b"token");
        }
        validate(&cmd).unwrap_or_else(|e| panic!("{rt}: {e}"));
        assert_eq!(
            build(rt, &serde_json::Value::Null),
            Ok(cmd.clone()).map(|mut c| {
                c.remove("UnlockToken");
                c
            })
        );
    }
}

#[test]
fn device_information_defaults_to_documented_queries() {
    let cmd = build("DeviceInformation", &json!({})).unwrap();
    let queries: Vec<&str> = cmd["Queries"].as_array().unwrap().iter().map(|q| q.as_string().unwrap()).collect();
    assert_eq!(queries, DEFAULT_DEVICE_INFORMATION_QUERIES);
    assert!(queries.contains(&"SerialNumber") && queries.contains(&"IsMultiUser"));
    validate(&cmd).unwrap();
    let (path, reason) = invalid("DeviceInformation", json!({"Queries": []}));
    assert_eq!(path, "Queries");
    assert!(reason.contains("at least one"), "{reason}");
    let (path, _) = invalid("DeviceInformation", json!({"Queries": ["UDID"], "DeviceAttestationNonce": "bm9uY2U="}));
    assert_eq!(path, "DeviceAttestationNonce");
}

#[test]
fn plist_types_are_exact() {
    let mut out = Vec::new();
    let cmd = build("Settings", &settings_sample()).unwrap();
    plist::to_writer_xml(&mut out, &cmd).unwrap();
    let xml = String::from_utf8(out).unwrap();
    assert!(xml.contains("<key>Port</key>\n\t\t\t\t<integer>8443</integer>"), "{xml}");
    assert!(xml.contains("<key>Ratio</key>\n\t\t\t\t<real>0.5</real>"), "{xml}");
    assert!(xml.contains("<key>Where</key>\n\t\t\t<integer>3</integer>"), "{xml}");
    assert!(xml.contains("<key>Enabled</key>\n\t\t\t<false/>"), "{xml}");
    assert!(xml.contains("<key>Image</key>\n\t\t\t<data>"), "{xml}");
    let first = cmd["Settings"].as_array().unwrap()[0].as_dictionary().unwrap();
    assert_eq!(first.keys().collect::<Vec<_>>(), ["Item", "DeviceName"]);

    let cmd = build("InstallProfile", &json!({"Payload": "PHBsaXN0\nLz4="})).unwrap();
    assert_eq!(cmd["Payload"].as_data(), Some(&b"<plist/>"[..]));
    let mut cmd = build("ClearPasscode", &json!({})).unwrap();
    assert!(needs_unlock_token("ClearPasscode") && !needs_unlock_token("DeviceLock"));
    with_unlock_token(&mut cmd, &[1, 2, 3]);
    assert_eq!(cmd["UnlockToken"].as_data(), Some(&[1u8, 2, 3][..]));
}

#[test]
fn json_to_plist_keeps_integers_and_reals_apart() {
    let v = json_to_plist(&json!({"i": 3, "n": -4, "big": u64::MAX, "r": 1.0, "s": "x", "b": true, "a": [1, 2.5]})).unwrap();
    let d = v.as_dictionary().unwrap();
    assert_eq!(d["i"], plist::Value::Integer(3.into()));
    assert_eq!(d["n"], plist::Value::Integer((-4).into()));
    assert_eq!(d["big"], plist::Value::Integer(u64::MAX.into()));
    assert_eq!(d["r"], plist::Value::Real(1.0));
    assert_eq!(d["s"], plist::Value::String("x".into()));
    assert_eq!(d["b"], plist::Value::Boolean(true));
    assert_eq!(d["a"], plist::Value::Array(vec![plist::Value::Integer(1.into()), plist::Value::Real(2.5)]));
    let e = json_to_plist(&json!({"Servers": ["a", null]})).unwrap_err();
    assert_eq!(e, CommandError::invalid("Servers[1]", "null has no plist equivalent; omit the key instead"));
}

#[test]
fn unknown_fields_are_named() {
    let (path, reason) = invalid("DeviceLock", json!({"Message": "hi", "Pin": "123456"}));
    assert_eq!(path, "Pin");
    assert!(reason.contains("unknown field `Pin`") && reason.contains("`PIN`"), "{reason}");
    let (path, _) = invalid("SecurityInfo", json!({"Foo": 1}));
    assert_eq!(path, "Foo");
    let (path, reason) = invalid("Settings", json!({"Settings": [{"Item": "Bluetooth", "Enabled": true, "Extra": 1}]}));
    assert_eq!((path.as_str(), reason.contains("unknown field `Extra`")), ("Settings[0].Extra", true), "{reason}");
    let (path, _) = invalid("EraseDevice", json!({"ReturnToService": {"Enabled": true, "WifiProfileData": "AA=="}}));
    assert_eq!(path, "ReturnToService.WifiProfileData");
    let (path, reason) = invalid("ClearPasscode", json!({"UnlockToken": "AA=="}));
    assert_eq!(path, "UnlockToken");
    assert!(reason.contains("escrowed"), "{reason}");
}

#[test]
fn missing_required_keys_are_named() {
    let (path, reason) = invalid("RemoveProfile", json!({}));
    assert_eq!((path.as_str(), reason.as_str()), ("", "missing field `Identifier`"));
    assert_eq!(build("RemoveProfile", &json!({})).unwrap_err().to_string(), "invalid payload: missing field `Identifier`");
    let (_, reason) = invalid("InstallProfile", json!({}));
    assert_eq!(reason, "missing field `Payload`");
    let (path, reason) = invalid("Settings", json!({"Settings": [{"Item": "DeviceName", "DeviceName": "a"}, {"Item": "TimeZone"}]}));
    assert_eq!((path.as_str(), reason.as_str()), ("Settings[1]", "missing field `TimeZone`"));
    let (path, reason) = invalid("Settings", json!({"Settings": [{"DeviceName": "a"}]}));
    assert_eq!(path, "Settings[0]");
    assert!(reason.contains("missing field `Item`"), "{reason}");
    let (path, _) = invalid("EraseDevice", json!({"ReturnToService": {}}));
    assert_eq!(path, "ReturnToService");
    let (path, _) = invalid("Settings", json!({}));
    assert_eq!(path, "");
}

#[test]
fn wrong_types_and_values_are_located() {
    let e = build("DeviceInformation", &json!({"Queries": ["UDID", "OSVersion", 3]})).unwrap_err();
    assert_eq!(e, CommandError::invalid("Queries[2]", "expected a string, found integer `3`"));
    assert_eq!(e.to_string(), "invalid payload at `Queries[2]`: expected a string, found integer `3`");
    let (path, reason) = invalid("Settings", json!({"Settings": [{"Item": "DeviceName", "DeviceName": 5}]}));
    assert_eq!((path.as_str(), reason.as_str()), ("Settings[0].DeviceName", "expected a string, found integer `5`"));
    let (path, _) = invalid("Settings", json!({"Settings": [{"Item": "Bluetooth", "Enabled": "yes"}]}));
    assert_eq!(path, "Settings[0].Enabled");
    let (path, reason) = invalid("Settings", json!({"Settings": [{"Item": "Wallpaper", "Image": "AA==", "Where": 4}]}));
    assert_eq!(path, "Settings[0].Where");
    assert!(reason.contains("1 (lock screen)"), "{reason}");
    let (path, reason) = invalid("Settings", json!({"Settings": [{"Item": "Brightness", "Level": 3}]}));
    assert_eq!(path, "Settings[0].Item");
    assert!(reason.contains("unknown setting `Brightness`") && reason.contains("SharedDeviceConfiguration"), "{reason}");
    let (path, _) = invalid("Settings", json!({"Settings": ["DeviceName"]}));
    assert_eq!(path, "Settings[0]");
    let (path, reason) = invalid("InstallProfile", json!({"Payload": "not base64!"}));
    assert_eq!(path, "Payload");
    assert!(reason.contains("base64"), "{reason}");
    let (path, reason) = invalid("Settings", json!({"Settings": [{"Item": "ApplicationConfiguration", "Identifier": "a", "Configuration": {"K": [1, null]}}]}));
    assert_eq!(path, "Settings[0].Configuration.K[1]");
    assert!(reason.contains("null"), "{reason}");
    let (path, reason) = invalid("EraseDevice", json!({"ObliterationBehavior": "Sometimes"}));
    assert_eq!(path, "ObliterationBehavior");
    assert!(reason.contains("DoNotObliterate"), "{reason}");
    let (path, reason) = invalid("DeviceLock", json!({"PIN": "1234"}));
    assert_eq!(path, "PIN");
    assert!(reason.contains("six"), "{reason}");
    let (path, _) = invalid("RemoveProfile", json!({"Identifier": ""}));
    assert_eq!(path, "Identifier");
    let (path, reason) = invalid("ProfileList", json!(["ManagedOnly"]));
    assert_eq!((path.as_str(), reason.as_str()), ("", "expected a dictionary (JSON object), found an array"));
    let (path, _) = invalid("InstalledApplicationList", json!({"Identifiers": "com.example.app"}));
    assert_eq!(path, "Identifiers");
}

#[test]
fn unknown_request_types_list_the_supported_ones() {
    let e = build("RestrictionList", &json!({})).unwrap_err();
    assert_eq!(e, CommandError::UnknownRequestType("RestrictionList".into()));
    let msg = e.to_string();
    assert!(msg.starts_with("unknown request type `RestrictionList`; supported request types: DeviceInformation, "), "{msg}");
    for rt in supported() {
        assert!(msg.contains(rt), "{msg}");
    }
    assert!(build("deviceinformation", &json!({})).is_err());
}
