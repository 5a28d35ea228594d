//! The profile library end to end: a profile stored through the API, assigned, rendered per
//! device (variables, encryption, signature), installed by a simulated device, verified through
//! ProfileList, re-sent after the device lost it, updated, and removed.

use crate::both;
use crate::harness::{Db, Harness};
use mdm_sim::SimDevice;

/// A Wi-Fi-free profile that needs nothing from the network: a web clip whose URL carries the
/// device's serial number, and a passcode policy.
pub(crate) fn profile_json(identifier: &str) -> serde_json::Value {
    serde_json::json!({
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": identifier,
        "PayloadUUID": "6A1C2F7E-0000-4000-8000-000000000001",
        "PayloadDisplayName": "Ward iPhones",
        "PayloadOrganization": "General Hospital",
        "PayloadContent": [
            {
                "PayloadType": "com.apple.webClip.managed",
                "PayloadVersion": 1,
                "PayloadIdentifier": format!("{identifier}.clip"),
                "PayloadUUID": "6A1C2F7E-0000-4000-8000-000000000002",
                "Label": "Rounds",
                "URL": "https://rounds.example.org/device/{DeviceSerialNumber}",
                "IsRemovable": false
            },
            {
                "PayloadType": "com.apple.mobiledevice.passwordpolicy",
                "PayloadVersion": 1,
                "PayloadIdentifier": format!("{identifier}.passcode"),
                "PayloadUUID": "6A1C2F7E-0000-4000-8000-000000000003",
                "minLength": 6,
                "requireAlphanumeric": false
            }
        ]
    })
}

async fn states(h: &Harness, udid: &str) -> serde_json::Value {
    let (s, v) = h.get(&format!("/v1/devices/{udid}/profiles")).await;
    assert_eq!(s, 200, "{v}");
    v
}

fn kinds(handled: &[mdm_sim::device::Handled]) -> Vec<(String, String)> {
    handled.iter().map(|x| (x.request_type.clone(), x.status.clone())).collect()
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

/// Connects until the device has nothing left, returning everything it handled.
async fn drain(d: &mut SimDevice) -> Vec<(String, String)> {
    let mut all = Vec::new();
    for _ in 0..6 {
        let h = d.connect().await.unwrap();
        if h.is_empty() {
            break;
        }
        all.extend(kinds(&h));
    }
    all
}

async fn install_verify_drift_update_remove(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let mut d = h.enrolled(0).await;
    let ident = "org.example.hospital.ward";

    let (s, created) = h.post_json("/v1/profiles", profile_json(ident)).await;
    assert_eq!(s, 201, "{created}");
    let id = created["profile"]["id"].as_str().unwrap().to_string();
    assert_eq!(created["profile"]["version"], 1);
    assert_eq!(created["warnings"], serde_json::json!([]), "typed payloads validate clean");

    let (s, assigned) = h.post_json(&format!("/v1/profiles/{id}/assign"), serde_json::json!({"devices": [d.udid, "NOPE"]})).await;
    assert_eq!(s, 200, "{assigned}");
    assert_eq!(assigned["unknown_devices"], serde_json::json!(["NOPE"]));
    assert_eq!(assigned["sync"]["installing"], serde_json::json!([d.udid]));
    assert_eq!(states(&h, &d.udid).await[0]["status"], "pending");

    // Install, then the server checks ProfileList and marks it verified.
    assert_eq!(drain(&mut d).await, vec![pair("InstallProfile", "Acknowledged"), pair("ProfileList", "Acknowledged")]);
    let st = states(&h, &d.udid).await;
    assert_eq!(st[0]["status"], "verified", "{st}");
    assert_eq!(st[0]["version"], 1);

    // What the device got: signed by the server, encrypted to it, variables filled in.
    let p = d.profiles.get(ident).expect("installed");
    assert!(p.signed_by.as_deref().unwrap_or("").contains("CN="), "{:?}", p.signed_by);
    assert!(p.was_encrypted);
    let content = p.content["PayloadContent"].as_array().unwrap();
    let clip = content.iter().find(|c| c.as_dictionary().unwrap()["PayloadType"].as_string() == Some("com.apple.webClip.managed")).unwrap();
    assert_eq!(clip.as_dictionary().unwrap()["URL"].as_string().unwrap(), format!("https://rounds.example.org/device/{}", d.serial));

    // The device loses it; a check finds it missing and the server re-sends it.
    d.profiles.remove(ident);
    let (s, c) = h.post_json(&format!("/v1/devices/{}/profiles/check", d.udid), serde_json::json!({})).await;
    assert_eq!((s, &c["queued"]), (200, &serde_json::json!(true)));
    assert_eq!(drain(&mut d).await, vec![pair("ProfileList", "Acknowledged"), pair("InstallProfile", "Acknowledged"), pair("ProfileList", "Acknowledged")]);
    let st = states(&h, &d.udid).await;
    assert_eq!((st[0]["status"].as_str(), st[0]["reinstalls"].as_i64()), (Some("verified"), Some(1)), "{st}");
    assert!(d.profiles.contains_key(ident));

    // A new version rolls out and is verified with its own PayloadUUID.
    let mut v2 = profile_json(ident);
    v2["PayloadContent"][1]["minLength"] = serde_json::json!(8);
    let r = h.api.put(h.url(&format!("/v1/profiles/{id}"))).bearer_auth(crate::harness::API_KEY).json(&v2).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let updated: serde_json::Value = r.json().await.unwrap();
    assert_eq!(updated["profile"]["version"], 2);
    assert_eq!(updated["sync"]["installing"], serde_json::json!([d.udid]));
    drain(&mut d).await;
    let st = states(&h, &d.udid).await;
    assert_eq!((st[0]["status"].as_str(), st[0]["version"].as_i64()), (Some("verified"), Some(2)), "{st}");
    let (_, detail) = h.get(&format!("/v1/profiles/{id}")).await;
    assert_eq!(detail["versions"].as_array().unwrap().len(), 2);
    assert_ne!(detail["versions"][0]["payload_uuid"], detail["versions"][1]["payload_uuid"], "a new version gets a new PayloadUUID");
    assert_eq!(d.profiles[ident].uuid, detail["versions"][0]["payload_uuid"].as_str().unwrap());
    assert_eq!(detail["content"]["PayloadContent"][1]["minLength"], 8);

    // The stored profile downloads as a .mobileconfig, signed on request.
    let r = h.api.get(h.url(&format!("/v1/profiles/{id}/mobileconfig?signed=1"))).bearer_auth(crate::harness::API_KEY).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/x-apple-aspen-config");
    let bytes = r.bytes().await.unwrap();
    let back = mdm_profiles::cms::unwrap(&bytes, None).unwrap();
    assert!(String::from_utf8_lossy(&back.content).contains("{DeviceSerialNumber}"));

    // Unassigning removes it from the device; the state row goes once the device confirms.
    let (s, out) = h.post_json(&format!("/v1/profiles/{id}/unassign"), serde_json::json!({"devices": [d.udid]})).await;
    assert_eq!(s, 200, "{out}");
    assert_eq!(out["removing"], serde_json::json!([d.udid]));
    assert_eq!(drain(&mut d).await, vec![pair("RemoveProfile", "Acknowledged")]);
    assert!(!d.profiles.contains_key(ident));
    assert_eq!(states(&h, &d.udid).await, serde_json::json!([]));

    // Delete: gone from the library.
    let (s, _) = h.delete(&format!("/v1/profiles/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(h.get(&format!("/v1/profiles/{id}")).await.0, 404);
}
both!(install_verify_drift_update_remove);

async fn groups_failures_and_reenrollment(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let mut a = h.enrolled(0).await;
    let mut b = h.enrolled(1).await;
    let (_, created) = h.post_json("/v1/profiles", profile_json("org.example.hospital.group")).await;
    let id = created["profile"]["id"].as_str().unwrap().to_string();

    let (s, g) = h.post_json("/v1/groups", serde_json::json!({"name": "icu-ipads", "description": "ICU"})).await;
    assert_eq!(s, 201, "{g}");
    assert_eq!(h.post_json("/v1/groups", serde_json::json!({"name": "icu-ipads"})).await.0, 409);
    assert_eq!(h.post_json("/v1/groups", serde_json::json!({"name": "bad name!"})).await.0, 400);
    let (_, assigned) = h.post_json(&format!("/v1/profiles/{id}/assign"), serde_json::json!({"groups": ["icu-ipads", "nope"]})).await;
    assert_eq!(assigned["unknown_groups"], serde_json::json!(["nope"]));
    assert_eq!(assigned["sync"]["installing"], serde_json::json!([]));

    // Joining the group installs the group's profile.
    let (s, added) = h.post_json("/v1/groups/icu-ipads/members", serde_json::json!({"devices": [a.udid, b.udid, "GHOST"]})).await;
    assert_eq!(s, 200, "{added}");
    assert_eq!(added["unknown"], serde_json::json!(["GHOST"]));
    assert_eq!(added["sync"]["installing"].as_array().unwrap().len(), 2);
    drain(&mut a).await;
    assert_eq!(states(&h, &a.udid).await[0]["status"], "verified");

    // A device that refuses the profile: failed, with the device's reason.
    b.fail_profiles = true;
    drain(&mut b).await;
    let st = states(&h, &b.udid).await;
    assert_eq!(st[0]["status"], "failed", "{st}");
    assert!(st[0]["detail"].as_str().unwrap().contains("install failed"), "{st}");
    b.fail_profiles = false;
    let (_, out) = h.post_json(&format!("/v1/profiles/{id}/sync"), serde_json::json!({})).await;
    assert_eq!(out["installing"], serde_json::json!([b.udid]), "a sync retries failed installs");
    drain(&mut b).await;
    assert_eq!(states(&h, &b.udid).await[0]["status"], "verified");

    // Leaving the group removes it.
    let (s, out) = h.delete(&format!("/v1/groups/icu-ipads/members/{}", b.udid)).await;
    assert_eq!(s, 200, "{out}");
    assert_eq!(out["removing"], serde_json::json!([b.udid]));
    drain(&mut b).await;
    assert!(b.profiles.is_empty());

    // Re-enrollment (a wiped device comes back): its assigned profiles are sent again.
    a.profiles.clear();
    a.enroll().await.unwrap();
    assert_eq!(drain(&mut a).await, vec![pair("InstallProfile", "Acknowledged"), pair("ProfileList", "Acknowledged")]);
    assert_eq!(states(&h, &a.udid).await[0]["status"], "verified");

    // A variable the device has no value for: not sent, failed with the reason.
    let mut p = profile_json("org.example.hospital.imei");
    p["PayloadContent"][0]["URL"] = serde_json::json!("https://rounds.example.org/{DeviceMEID}");
    let (_, created) = h.post_json("/v1/profiles", p).await;
    let pid = created["profile"]["id"].as_str().unwrap();
    let (_, out) = h.post_json(&format!("/v1/profiles/{pid}/assign"), serde_json::json!({"devices": [a.udid]})).await;
    assert_eq!(out["sync"]["installing"], serde_json::json!([]), "{out}");
    assert!(out["sync"]["failed"][0][1].as_str().unwrap().contains("{DeviceMEID}"), "{out}");
}
both!(groups_failures_and_reenrollment);

async fn submissions_are_checked(db: Db) {
    let Some(h) = Harness::start(db).await else { return };

    // Schema errors come back as 422 with the path of each.
    let mut bad = profile_json("org.example.bad");
    bad["PayloadContent"][1]["minLength"] = serde_json::json!("six");
    bad["PayloadContent"][0]["URL"] = serde_json::json!("https://x/{DeviceSerial}");
    let (s, v) = h.post_json("/v1/profiles", bad).await;
    assert_eq!(s, 422, "{v}");
    let paths: Vec<&str> = v["issues"].as_array().unwrap().iter().filter(|i| i["severity"] == "error").map(|i| i["path"].as_str().unwrap()).collect();
    assert!(paths.contains(&"PayloadContent[1].minLength"), "{v}");
    assert!(paths.contains(&"PayloadContent[0].URL"), "{v}");
    assert!(v["error"].as_str().unwrap().contains("PayloadContent["), "{v}");

    // Not JSON of a profile at all.
    let (s, v) = h.post_bytes("/v1/profiles", "application/json", b"{not json".to_vec()).await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = h.post_json("/v1/profiles", serde_json::json!({"PayloadType": "Configuration"})).await;
    assert_eq!(s, 422, "{v}");

    // A signed upload verifies and is unwrapped; the same bytes tampered are refused.
    let xml = mdm_profiles::Profile::from_dict(&mdm::commands::json_to_plist(&profile_json("org.example.signed")).unwrap().into_dictionary().unwrap())
        .unwrap()
        .to_xml()
        .unwrap();
    let signer =
        mdm_profiles::cms::Signer::from_pem(&std::fs::read(h.pki.path("server.pem")).unwrap(), &std::fs::read(h.pki.path("server.key")).unwrap(), b"").unwrap();
    let signed = signer.sign(&xml).unwrap();
    let mut tampered = signed.clone();
    let at = tampered.windows(6).position(|w| w == b"Rounds").unwrap();
    tampered[at] = b'X';
    let (s, v) = h.post_bytes("/v1/profiles", "application/x-apple-aspen-config", tampered).await;
    assert_eq!(s, 400, "{v}");
    assert!(v["error"].as_str().unwrap().contains("signature does not verify"), "{v}");
    let (s, v) = h.post_bytes("/v1/profiles", "application/x-apple-aspen-config", signed).await;
    assert_eq!(s, 201, "{v}");
    let id = v["profile"]["id"].as_str().unwrap().to_string();
    let (_, detail) = h.get(&format!("/v1/profiles/{id}")).await;
    assert_eq!(detail["versions"][0]["source"], "upload-signed");
    assert!(detail["versions"][0]["signer"].as_str().unwrap().contains("CN="));

    // The same identifier twice: conflict; a PUT may not change the identifier.
    let (s, _) = h.post_bytes("/v1/profiles", "application/x-apple-aspen-config", xml).await;
    assert_eq!(s, 409);
    let r = h.api.put(h.url(&format!("/v1/profiles/{id}"))).bearer_auth(crate::harness::API_KEY).json(&profile_json("org.example.other")).send().await.unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("PayloadIdentifier cannot change"));

    // An undocumented payload type is kept with a warning.
    let mut raw = profile_json("org.example.raw");
    raw["PayloadContent"].as_array_mut().unwrap().push(serde_json::json!({
        "PayloadType": "com.example.vendor.settings", "PayloadVersion": 1,
        "PayloadIdentifier": "org.example.raw.vendor", "PayloadUUID": "6A1C2F7E-0000-4000-8000-0000000000AA",
        "Anything": {"nested": [1, 2]}
    }));
    let (s, v) = h.post_json("/v1/profiles", raw).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["warnings"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["warnings"][0]["path"], "PayloadContent[2].PayloadType");

    // Garbage uploads.
    let (s, _) = h.post_bytes("/v1/profiles", "application/octet-stream", vec![0x30, 0x82, 0x01]).await;
    assert_eq!(s, 400);
    let (s, _) = h.post_bytes("/v1/profiles", "application/octet-stream", b"hello".to_vec()).await;
    assert_eq!(s, 400);
    assert_eq!(h.post_json("/v1/profiles/nope/assign", serde_json::json!({"devices": ["x"]})).await.0, 404);
    assert_eq!(h.post_json(&format!("/v1/profiles/{id}/assign"), serde_json::json!({})).await.0, 400);
    assert_eq!(h.get("/v1/devices/nope/profiles").await.0, 404);
}
both!(submissions_are_checked);

/// `mdm profile validate|build|sign` work offline on files, with the server's checks.
#[test]
fn profile_cli_validates_builds_and_signs() {
    use std::process::Command;
    let dir = tempfile::tempdir().unwrap();
    let pki = crate::harness::Pki::new();
    let mdm = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_mdm")).current_dir(dir.path()).args(args).output().unwrap();
    std::fs::write(dir.path().join("ward.json"), profile_json("org.example.cli").to_string()).unwrap();
    let mut bad = profile_json("org.example.cli");
    bad["PayloadContent"][1]["minLength"] = serde_json::json!(-3);
    std::fs::write(dir.path().join("bad.json"), bad.to_string()).unwrap();

    let out = mdm(&["profile", "validate", "ward.json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid (2 payload(s), 0 warning(s))"));
    let out = mdm(&["profile", "validate", "bad.json"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("PayloadContent[1].minLength"), "{}", String::from_utf8_lossy(&out.stderr));

    let out = mdm(&["profile", "build", "ward.json", "-o", "ward.mobileconfig"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let built = std::fs::read(dir.path().join("ward.mobileconfig")).unwrap();
    assert!(mdm_profiles::Profile::from_plist_bytes(&built).is_ok());

    let (cert, key) = (pki.path("server.pem"), pki.path("server.key"));
    let out = mdm(&["profile", "sign", "ward.mobileconfig", "-o", "ward.signed", "--cert", cert.to_str().unwrap(), "--key", key.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let signed = std::fs::read(dir.path().join("ward.signed")).unwrap();
    assert_eq!(mdm_profiles::cms::unwrap(&signed, None).unwrap().content, built);
    // A signed file validates too (its signature is checked); a key without a cert is refused.
    assert!(mdm(&["profile", "validate", "ward.signed"]).status.success());
    assert!(!mdm(&["profile", "sign", "ward.json", "--key", key.to_str().unwrap()]).status.success());
}

fn fast_audit(c: &mut mdm::config::Config) {
    c.profiles.audit_interval = std::time::Duration::from_secs(1);
}

/// The periodic audit notices a profile the device lost and the server sends it again, without
/// anyone asking.
async fn audit_finds_drift(db: Db) {
    let opts = crate::harness::Opts { tweak: Some(fast_audit), ..Default::default() };
    let Some(h) = Harness::start_with(db, opts).await else { return };
    let mut d = h.enrolled(0).await;
    let (_, created) = h.post_json("/v1/profiles", profile_json("org.example.audit")).await;
    let id = created["profile"]["id"].as_str().unwrap().to_string();
    h.post_json(&format!("/v1/profiles/{id}/assign"), serde_json::json!({"devices": [d.udid]})).await;
    drain(&mut d).await;
    assert_eq!(states(&h, &d.udid).await[0]["status"], "verified");
    d.profiles.clear();
    // Within a few audit passes a ProfileList is queued; answering it brings the profile back.
    let mut seen = Vec::new();
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        seen = drain(&mut d).await;
        if !seen.is_empty() {
            break;
        }
    }
    assert_eq!(seen.first(), Some(&pair("ProfileList", "Acknowledged")), "{seen:?}");
    assert!(seen.contains(&pair("InstallProfile", "Acknowledged")), "{seen:?}");
    assert!(d.profiles.contains_key("org.example.audit"));
    let st = states(&h, &d.udid).await;
    assert_eq!(st[0]["reinstalls"], 1, "{st}");
    assert!(st[0]["checked_at"].is_string(), "{st}");
}
both!(audit_finds_drift);

/// Finding 10: follow-ups arrived one connection late (the ProfileList after the last install,
/// a re-send after a ProfileList, an app re-install after an app list), each costing the device
/// another push and connection. Now each comes in the same connection as the answer it follows.
async fn follow_ups_come_in_the_same_connection(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let mut d = h.enrolled(0).await;
    let ident = "org.example.hospital.followups";
    let (_, created) = h.post_json("/v1/profiles", profile_json(ident)).await;
    let id = created["profile"]["id"].as_str().unwrap().to_string();
    assert_eq!(h.post_json(&format!("/v1/profiles/{id}/assign"), serde_json::json!({"devices": [d.udid]})).await.0, 200);
    // Connections from assign to verified.
    let mut connections = 0;
    while states(&h, &d.udid).await[0]["status"] != "verified" {
        assert!(connections < 5, "never verified");
        connections += 1;
        d.connect().await.unwrap();
    }
    assert_eq!(connections, 1, "install and its ProfileList in one connection");
    // Lost on the device: the check's ProfileList, the re-send and its ProfileList, one connection.
    d.profiles.remove(ident);
    h.post_json(&format!("/v1/devices/{}/profiles/check", d.udid), serde_json::json!({})).await;
    let handled = kinds(&d.connect().await.unwrap());
    assert_eq!(handled, vec![pair("ProfileList", "Acknowledged"), pair("InstallProfile", "Acknowledged"), pair("ProfileList", "Acknowledged")]);
    assert_eq!(states(&h, &d.udid).await[0]["status"], "verified");
    assert!(d.connect().await.unwrap().is_empty(), "nothing left for another connection");

    // An app the person deleted: the app list and the re-install, one connection.
    let (s, app) = h
        .post_json(
            "/v1/apps",
            serde_json::json!({"name": "Rover", "bundle_id": "com.epic.rover", "manifest_url": "https://apps.example.org/com.epic.rover.plist"}),
        )
        .await;
    assert_eq!(s, 201, "{app}");
    let app_id = app["id"].as_str().unwrap();
    assert_eq!(h.post_json(&format!("/v1/apps/{app_id}/assign"), serde_json::json!({"devices": [d.udid]})).await.0, 200);
    assert_eq!(kinds(&d.connect().await.unwrap()), vec![pair("InstallApplication", "Acknowledged")]);
    assert!(d.user_removes_app("com.epic.rover"));
    assert_eq!(h.post_json(&format!("/v1/devices/{}/apps/check", d.udid), serde_json::json!({})).await.0, 200);
    assert_eq!(kinds(&d.connect().await.unwrap()), vec![pair("ManagedApplicationList", "Acknowledged"), pair("InstallApplication", "Acknowledged")]);
    assert!(d.app("com.epic.rover").is_some());
}
both!(follow_ups_come_in_the_same_connection);
