//! Managed apps end to end: vendor presets with per-device values, secrets, configuration
//! changes re-sent, unknown variables refused, a removed required app installed again.

use crate::both;
use crate::harness::{drain, Db, Harness, Opts};

fn config_of<'a>(d: &'a mdm_sim::SimDevice, bundle: &str) -> &'a plist::Dictionary {
    d.app(bundle).unwrap_or_else(|| panic!("{bundle} not installed")).configuration.as_ref().expect("configuration")
}

both!(presets_fill_in_each_device);
async fn presets_fill_in_each_device(db: Db) {
    let Some(h) = Harness::start_with(db, Opts::apns()).await else { return };
    h.import_push_cert().await;
    let mut a = h.enrolled(0).await;
    let mut b = h.enrolled(1).await;
    assert_ne!(a.serial, b.serial);
    assert_eq!(h.post_json("/v1/groups", serde_json::json!({"name": "ward"})).await.0, 201);
    let (s, m) = h.post_json("/v1/groups/ward/members", serde_json::json!({"devices": [a.udid, b.udid]})).await;
    assert_eq!(s, 200, "{m}");

    // The Okta preset needs the org's secret first: refused until it exists.
    let okta = serde_json::json!({"name": "Okta Verify", "bundle_id": "com.okta.mobile", "preset": {"name": "okta-verify"}});
    let (s, m) = h.post_json("/v1/apps", okta.clone()).await;
    assert_eq!(s, 422, "{m}");
    assert!(m.to_string().contains("unknown secret {Secret.okta_management_hint}"), "{m}");
    assert!(m.to_string().contains("mdm secret set okta_management_hint"), "the refusal says how to create the secret: {m}");
    let hint = "d8f3a9c2-okta-device-integration-secret";
    let (s, m) = h.put_json("/v1/secrets/okta_management_hint", serde_json::json!({"value": hint})).await;
    assert_eq!(s, 201, "{m}");
    assert!(!m.to_string().contains(hint), "the secret is not echoed: {m}");
    let (_, list) = h.get("/v1/secrets").await;
    assert!(!list.to_string().contains("okta-device-integration"), "{list}");
    let (s, okta) = h.post_json("/v1/apps", okta).await;
    assert_eq!(s, 201, "{okta}");
    assert!(!okta.to_string().contains(hint));

    let epic = serde_json::json!({
        "name": "Epic Rover", "bundle_id": "com.epic.rover", "preset": {"name": "epic"},
        "attributes": {"VPNUUID": "6A1C2F7E-0000-4000-8000-00000000B001", "Removable": false}
    });
    let (s, epic) = h.post_json("/v1/apps", epic).await;
    assert_eq!(s, 201, "{epic}");
    let epic_id = epic["id"].as_str().unwrap().to_string();
    let (s, out) = h.post_json(&format!("/v1/apps/{epic_id}/assign"), serde_json::json!({"groups": ["ward", "nope"]})).await;
    assert_eq!(s, 200, "{out}");
    assert_eq!(out["unknown_groups"], serde_json::json!(["nope"]));
    assert_eq!(out["sync"]["installing"].as_array().unwrap().len(), 2);
    let okta_id = okta["id"].as_str().unwrap().to_string();
    assert_eq!(h.post_json(&format!("/v1/apps/{okta_id}/assign"), serde_json::json!({"devices": [a.udid, b.udid]})).await.0, 200);

    for d in [&mut a, &mut b] {
        let handled = drain(d).await;
        assert_eq!(handled, ["InstallApplication:Acknowledged", "InstallApplication:Acknowledged"], "{}", d.udid);
        let c = config_of(d, "com.epic.rover");
        assert_eq!(c["EpicMobileDeviceID"].as_string(), Some(d.serial.as_str()));
        assert_eq!(c["EpicMobileDeviceIDAppName"].as_boolean(), Some(true));
        let c = config_of(d, "com.okta.mobile");
        assert_eq!(c["managementHint"].as_string(), Some(hint));
        assert_eq!(c["UDID"].as_string(), Some(d.udid.as_str()));
        assert_eq!(c["SerialNumber"].as_string(), Some(d.serial.as_str()));
        let (_, state) = h.get(&format!("/v1/devices/{}/apps", d.udid)).await;
        let statuses: Vec<&str> = state["apps"].as_array().unwrap().iter().map(|x| x["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, ["installed", "installed"], "{state}");
    }

    // A changed configuration goes to every device that has the app, as Settings.
    let new_cfg = serde_json::json!({"config": {
        "EpicMobileDeviceID": {"type": "string", "value": "{DeviceSerialNumber}"},
        "EpicMobileDeviceIDAppName": {"type": "boolean", "value": false},
        "Ward": {"type": "integer", "value": 3}
    }});
    let (s, out) = h.put_json(&format!("/v1/apps/{epic_id}"), new_cfg).await;
    assert_eq!(s, 200, "{out}");
    assert_eq!(out["sync"]["configuring"].as_array().unwrap().len(), 2, "{out}");
    for d in [&mut a, &mut b] {
        assert_eq!(drain(d).await, ["Settings:Acknowledged"]);
        let c = config_of(d, "com.epic.rover");
        assert_eq!(c["EpicMobileDeviceIDAppName"].as_boolean(), Some(false));
        assert_eq!(c["Ward"].as_signed_integer(), Some(3));
        assert_eq!(c["EpicMobileDeviceID"].as_string(), Some(d.serial.as_str()));
    }
    // A new value of the secret goes out to every device with Okta Verify; the secret cannot be
    // deleted while a configuration uses it, and no command shown to admins reveals it.
    let hint2 = "e91b22f0-rotated-okta-device-integration-secret";
    assert_eq!(h.put_json("/v1/secrets/okta_management_hint", serde_json::json!({"value": hint2})).await.0, 200);
    for d in [&mut a, &mut b] {
        assert_eq!(drain(d).await, ["Settings:Acknowledged"]);
        assert_eq!(config_of(d, "com.okta.mobile")["managementHint"].as_string(), Some(hint2));
    }
    let (s, m) = h.delete("/v1/secrets/okta_management_hint").await;
    assert_eq!(s, 409, "{m}");
    let (_, history) = h.get(&format!("/v1/devices/{}/commands", a.udid)).await;
    for entry in history.as_array().unwrap() {
        let (_, shown) = h.get(&format!("/v1/commands/{}", entry["command_uuid"].as_str().unwrap())).await;
        let text = shown.to_string();
        assert!(!text.contains(hint) && !text.contains(hint2), "{text}");
    }

    // An unknown variable is refused when saved, and nothing is sent.
    let (s, m) = h.put_json(&format!("/v1/apps/{epic_id}"), serde_json::json!({"config": {"x": {"type": "string", "value": "{DeviceColour}"}}})).await;
    assert_eq!(s, 422, "{m}");
    assert!(m.to_string().contains("unknown variable {DeviceColour}"), "{m}");
    assert!(drain(&mut a).await.is_empty());

    // The person deletes Rover; the next app check finds it missing and installs it again.
    assert!(a.user_removes_app("com.epic.rover"));
    assert_eq!(h.post_json(&format!("/v1/devices/{}/apps/check", a.udid), serde_json::json!({})).await.0, 200);
    assert_eq!(drain(&mut a).await, ["ManagedApplicationList:Acknowledged", "InstallApplication:Acknowledged"]);
    assert_eq!(config_of(&a, "com.epic.rover")["Ward"].as_signed_integer(), Some(3), "re-sent with its current configuration");
    let (_, state) = h.get(&format!("/v1/devices/{}/apps", a.udid)).await;
    let rover = state["apps"].as_array().unwrap().iter().find(|x| x["bundle_id"] == "com.epic.rover").unwrap();
    assert_eq!(rover["reinstalls"], 1, "{state}");
    assert_eq!(rover["status"], "installed");
    let events = state["events"].as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"missing") && kinds.contains(&"reinstall"), "{kinds:?}");
    let missing = events.iter().find(|e| e["kind"] == "missing").unwrap();
    assert!(missing["detail"].as_str().unwrap().contains("ManagedButUninstalled"), "{missing}");
    assert!(state["reported"].as_array().unwrap().iter().any(|r| r["bundle_id"] == "com.okta.mobile"));

    // Unassigning removes it.
    let (s, out) = h.post_json(&format!("/v1/apps/{epic_id}/unassign"), serde_json::json!({"groups": ["ward"]})).await;
    assert_eq!(s, 200, "{out}");
    assert_eq!(drain(&mut b).await, ["RemoveApplication:Acknowledged"]);
    assert!(b.app("com.epic.rover").is_none());
    let (_, state) = h.get(&format!("/v1/devices/{}/apps", b.udid)).await;
    assert_eq!(state["apps"].as_array().unwrap().len(), 1, "{state}");
}

both!(catalogue_refusals_and_sphereshield);
async fn catalogue_refusals_and_sphereshield(db: Db) {
    let Some(h) = Harness::start_with(db, Opts::apns()).await else { return };
    let bad = [
        serde_json::json!({"name": "X", "bundle_id": "a b"}),
        serde_json::json!({"name": "X", "bundle_id": "x", "itunes_store_id": 1, "manifest_url": "https://e/x.plist"}),
        serde_json::json!({"name": "X", "bundle_id": "x", "manifest_url": "http://e/x.plist"}),
        serde_json::json!({"name": "X", "bundle_id": "x", "management_flags": 2}),
        serde_json::json!({"name": "X", "bundle_id": "x", "attributes": {"VPNUUID": "not-a-uuid"}}),
        serde_json::json!({"name": "X", "bundle_id": "x", "preset": {"name": "sphereshield"}}),
        serde_json::json!({"name": "X", "bundle_id": "x", "config": {"k": "untyped"}}),
    ];
    for b in bad {
        let (s, m) = h.post_json("/v1/apps", b.clone()).await;
        assert_eq!(s, 400, "{b} → {m}");
    }
    let (_, presets) = h.get("/v1/apps/presets").await;
    assert_eq!(presets.as_array().unwrap().len(), 3);
    let ss = serde_json::json!({"name": "SphereShield", "bundle_id": "com.sphereshield.app",
        "preset": {"name": "sphereshield", "companyName": "General Hospital", "defaultHost": "lyncdiscover.example.org", "packageKey": "PK-1"}});
    let (s, app) = h.post_json("/v1/apps", ss.clone()).await;
    assert_eq!(s, 201, "{app}");
    assert_eq!(app["config"]["deviceId"], serde_json::json!({"type": "string", "value": "{DeviceUDID}"}));
    assert_eq!(app["config"]["companyName"]["value"], "General Hospital");
    assert_eq!(h.post_json("/v1/apps", ss).await.0, 409, "one app per bundle id");
    // This device was enrolled without a user: {EnrollmentUser} has no value, so the app is
    // marked failed with the reason instead of being sent with an empty username.
    let mut d = h.enrolled(0).await;
    let (s, out) = h.post_json("/v1/apps/com.sphereshield.app/assign", serde_json::json!({"devices": [d.udid]})).await;
    assert_eq!(s, 200, "{out}");
    assert!(out["sync"]["failed"][0][1].as_str().unwrap().contains("{EnrollmentUser}"), "{out}");
    assert!(drain(&mut d).await.is_empty());
    let (_, state) = h.get(&format!("/v1/devices/{}/apps", d.udid)).await;
    assert_eq!(state["apps"][0]["status"], "failed", "{state}");
    assert!(state["apps"][0]["detail"].as_str().unwrap().contains("{EnrollmentUser}"));
    // Deleted from the catalogue: a failed install is forgotten, nothing is sent.
    let (s, _) = h.delete("/v1/apps/com.sphereshield.app").await;
    assert_eq!(s, 200);
    assert!(drain(&mut d).await.is_empty());
    let (_, state) = h.get(&format!("/v1/devices/{}/apps", d.udid)).await;
    assert_eq!(state["apps"], serde_json::json!([]), "{state}");
}

/// `mdm app add|assign|config|list` call the API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_cli() {
    let Some(h) = Harness::start_with(Db::Sqlite, Opts::apns()).await else { return };
    let mut d = h.enrolled(0).await;
    let cfg_path = h.pki.path("cli.toml");
    std::fs::write(&cfg_path, toml::to_string(&h.cfg).unwrap()).unwrap();
    let mdm = |args: Vec<String>| {
        let cfg_path = cfg_path.clone();
        async move {
            let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_mdm")).arg("--config").arg(&cfg_path).args(&args).output().await.unwrap();
            assert!(out.status.success(), "mdm {args:?}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            String::from_utf8_lossy(&out.stdout).into_owned()
        }
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let added = mdm(s(&["app", "add", "--name", "Epic Haiku", "--bundle-id", "com.epic.haiku", "--preset", "epic"])).await;
    assert!(added.contains("EpicMobileDeviceID"), "{added}");
    mdm(s(&["app", "assign", "com.epic.haiku", "--device", &d.udid])).await;
    assert_eq!(drain(&mut d).await, ["InstallApplication:Acknowledged"]);
    let file = h.pki.path("haiku.json");
    std::fs::write(&file, r#"{"EpicMobileDeviceID": {"type": "string", "value": "{DeviceSerialNumber}"}, "EpicMobileDeviceIDAppName": {"type": "boolean", "value": true}, "Unit": {"type": "string", "value": "ICU"}}"#).unwrap();
    mdm(vec!["app".into(), "config".into(), "com.epic.haiku".into(), file.display().to_string()]).await;
    assert_eq!(drain(&mut d).await, ["Settings:Acknowledged"]);
    assert_eq!(config_of(&d, "com.epic.haiku")["Unit"].as_string(), Some("ICU"));
    assert!(mdm(s(&["app", "list"])).await.contains("com.epic.haiku"));
}

both!(audit_brings_back_a_removed_app);
async fn audit_brings_back_a_removed_app(db: Db) {
    let opts = Opts { tweak: Some(|c| c.apps.audit_interval = std::time::Duration::from_secs(1)), ..Opts::apns() };
    let Some(h) = Harness::start_with(db, opts).await else { return };
    let mut d = h.enrolled(0).await;
    let (s, app) = h.post_json("/v1/apps", serde_json::json!({"name": "Rover", "bundle_id": "com.epic.rover", "preset": {"name": "epic"}})).await;
    assert_eq!(s, 201, "{app}");
    assert_eq!(h.post_json("/v1/apps/com.epic.rover/assign", serde_json::json!({"devices": [d.udid]})).await.0, 200);
    assert_eq!(drain(&mut d).await, ["InstallApplication:Acknowledged"]);
    d.user_removes_app("com.epic.rover");
    // Nobody asks: the periodic audit queues the check, and the answer brings the app back.
    let mut seen = Vec::new();
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        seen.extend(drain(&mut d).await);
        if d.app("com.epic.rover").is_some() {
            break;
        }
    }
    assert_eq!(seen[..2], ["ManagedApplicationList:Acknowledged".to_string(), "InstallApplication:Acknowledged".to_string()], "{seen:?}");
    assert_eq!(config_of(&d, "com.epic.rover")["EpicMobileDeviceID"].as_string(), Some(d.serial.as_str()));
}

both!(custom_attributes_fill_configurations);
async fn custom_attributes_fill_configurations(db: Db) {
    let Some(h) = Harness::start_with(db, Opts::apns()).await else { return };
    let mut a = h.enrolled(0).await;
    let mut b = h.enrolled(1).await;
    assert_eq!(h.post_json("/v1/groups", serde_json::json!({"name": "icu"})).await.0, 201);
    assert_eq!(h.post_json("/v1/groups/icu/members", serde_json::json!({"devices": [a.udid, b.udid]})).await.0, 200);
    let cfg = serde_json::json!({"name": "Vocera", "bundle_id": "com.vocera.app", "config": {"unit": {"type": "string", "value": "{Attribute.unit}"}}});
    let (s, m) = h.post_json("/v1/apps", cfg.clone()).await;
    assert_eq!(s, 422, "an attribute nobody defined is an unknown variable: {m}");
    let (s, m) = h.put_json("/v1/groups/icu/attributes", serde_json::json!({"unit": "ICU-3"})).await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(h.put_json(&format!("/v1/devices/{}/attributes", b.udid), serde_json::json!({"unit": "ICU-3 bed 7"})).await.0, 200);
    assert_eq!(h.put_json("/v1/devices/NOPE/attributes", serde_json::json!({"unit": "x"})).await.0, 404);
    assert_eq!(h.put_json("/v1/groups/icu/attributes", serde_json::json!({"bad name": "x"})).await.0, 400);
    assert_eq!(h.post_json("/v1/apps", cfg).await.0, 201);
    assert_eq!(h.post_json("/v1/apps/com.vocera.app/assign", serde_json::json!({"groups": ["icu"]})).await.0, 200);
    drain(&mut a).await;
    drain(&mut b).await;
    assert_eq!(config_of(&a, "com.vocera.app")["unit"].as_string(), Some("ICU-3"), "the group's value");
    assert_eq!(config_of(&b, "com.vocera.app")["unit"].as_string(), Some("ICU-3 bed 7"), "the device's own value wins");
    // A changed attribute goes out again: to the device, or to the group's devices.
    assert_eq!(h.put_json(&format!("/v1/devices/{}/attributes", b.udid), serde_json::json!({"unit": "ICU-3 bed 9"})).await.0, 200);
    assert!(drain(&mut a).await.is_empty());
    assert_eq!(drain(&mut b).await, ["Settings:Acknowledged"]);
    assert_eq!(config_of(&b, "com.vocera.app")["unit"].as_string(), Some("ICU-3 bed 9"));
    assert_eq!(h.put_json("/v1/groups/icu/attributes", serde_json::json!({"unit": "ICU-4"})).await.0, 200);
    drain(&mut a).await;
    assert_eq!(config_of(&a, "com.vocera.app")["unit"].as_string(), Some("ICU-4"));
}
