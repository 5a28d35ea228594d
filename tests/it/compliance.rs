//! Compliance end to end with simulated iPhones: a device below the minimum OS loses its VPN
//! (and gets the remediation VPN) after its DeviceInformation, Okta Workflows hears of it, and
//! after an OS update everything is back; posture lookups by every identifier agree, ambiguity
//! is refused, and a posture token can call nothing else; the schedule catches a stale device.

use std::time::{Duration, Instant};

use mdm_sim::SimDevice;

use crate::both;
use crate::events::Receiver;
use crate::harness::{drain, Db, Harness};
use crate::kit::free_port;

const CLIENT_TOKEN: &str = "okta-workflows-client-token-0123456789";

fn vpn(identifier: &str, uuid_tail: &str, name: &str, server: &str) -> serde_json::Value {
    serde_json::json!({
        "PayloadType": "Configuration", "PayloadVersion": 1, "PayloadIdentifier": identifier,
        "PayloadUUID": format!("6A1C2F7E-0000-4000-8000-0000000C{uuid_tail}0"), "PayloadDisplayName": name,
        "PayloadContent": [{
            "PayloadType": "com.apple.vpn.managed", "PayloadVersion": 1,
            "PayloadIdentifier": format!("{identifier}.vpn"), "PayloadUUID": format!("6A1C2F7E-0000-4000-8000-0000000C{uuid_tail}1"),
            "UserDefinedName": name, "VPNType": "IKEv2",
            "IKEv2": {"RemoteAddress": server, "RemoteIdentifier": server, "LocalIdentifier": "client.example.org", "AuthenticationMethod": "None", "ExtendedAuthEnabled": 1}
        }]
    })
}

async fn profile(h: &Harness, body: serde_json::Value) -> String {
    let (s, p) = h.post_json("/v1/profiles", body).await;
    assert_eq!(s, 201, "{p}");
    p["profile"]["id"].as_str().unwrap().to_string()
}

async fn device_at(h: &Harness, i: usize, os: &str) -> SimDevice {
    let mut d = h.device(i).await;
    d.os_version = os.into();
    d.enroll().await.expect("enroll");
    drain(&mut d).await;
    d
}

both!(a_device_below_the_minimum_os_loses_its_vpn_until_it_updates);
async fn a_device_below_the_minimum_os_loses_its_vpn_until_it_updates(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let mut rx = Receiver::new(free_port());
    rx.listen().await;
    let (s, w) = h.post_json("/v1/webhooks", serde_json::json!({"name": "okta", "url": rx.url(), "format": "okta-workflows", "secret": CLIENT_TOKEN})).await;
    assert_eq!(s, 201, "{w}");
    let mut d = device_at(&h, 0, "17.5").await;
    let tunnel = profile(&h, vpn("org.example.tunnel", "1", "Tunnel", "tunnel.example.org")).await;
    let remediation = profile(&h, vpn("org.example.remediation", "2", "Remediation", "fix.example.org")).await;
    let (s, v) = h.post_json(&format!("/v1/profiles/{tunnel}/assign"), serde_json::json!({"devices": [d.udid]})).await;
    assert_eq!(s, 200, "{v}");
    drain(&mut d).await;
    assert!(d.profiles.contains_key("org.example.tunnel"));

    let policy = serde_json::json!({
        "name": "ios-baseline", "scope": {"all": true},
        "rules": [{"type": "min_os_version", "version": "18.4"}],
        "actions": [{"type": "remove_profile", "profile": "org.example.tunnel"}, {"type": "install_profile", "profile": remediation}]
    });
    let (s, p) = h.post_json("/v1/compliance/policies", policy).await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(p["actions"][0]["profile"], tunnel, "referenced by PayloadIdentifier, stored by id: {p}");
    // Until a DeviceInformation reports the OS, the rule cannot judge the device.
    let c = h.wait_for(&format!("/v1/devices/{}/compliance", d.udid), "judged after the policy", |v| v["status"] != "compliant").await;
    let reported = h.count(&format!("device_inventory WHERE device_id = '{}' AND device_info_at IS NOT NULL", d.udid)) > 0;
    assert_eq!(c["status"], if reported { "noncompliant" } else { "unknown" }, "{c}");

    // Its DeviceInformation shows 17.5: non-compliant, and in the same connection the tunnel
    // goes and the remediation VPN comes.
    let (s, v) = h.post_json(&format!("/v1/devices/{}/inventory", d.udid), serde_json::json!({})).await;
    assert_eq!(s, 202, "{v}");
    let done = drain(&mut d).await;
    assert!(done.contains(&"DeviceInformation:Acknowledged".to_string()), "{done:?}");
    assert!(!d.profiles.contains_key("org.example.tunnel"));
    assert!(d.profiles.contains_key("org.example.remediation"));
    let (_, c) = h.get(&format!("/v1/devices/{}/compliance", d.udid)).await;
    assert_eq!(c["status"], "noncompliant", "{c}");
    assert_eq!(c["reasons"][0]["rule"], "min_os_version", "{c}");
    assert_eq!(c["reasons"][0]["evidence"]["os_version"], "17.5", "{c}");
    let actions = c["actions"].as_array().unwrap();
    assert!(actions.iter().all(|a| a["status"] == "done" && a["direction"] == "apply"), "{c}");
    let (_, inv) = h.get(&format!("/v1/devices/{}/inventory", d.udid)).await;
    assert_eq!(inv["security_info"]["values"]["PasscodePresent"], false, "{inv}");
    assert!(inv["certificates"]["list"][0]["not_after"].is_string(), "{inv}");

    // Okta Workflows hears it: the documented fields, the client token as Okta expects it.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !rx.bodies().iter().any(|b| b["ComplianceStatus"] == "NonCompliant") {
        assert!(Instant::now() < deadline, "no compliance event: {:?}", rx.bodies());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ev = rx.bodies().into_iter().find(|b| b["ComplianceStatus"] == "NonCompliant").unwrap();
    assert_eq!(ev["UDID"], d.udid.as_str());
    assert_eq!(ev["SerialNumber"], d.serial.as_str());
    assert_eq!(ev["Platform"], "iOS");
    assert!(ev.as_object().unwrap().contains_key("EnrollmentEmailAddress"), "{ev}");
    assert_eq!(ev["Reasons"][0]["rule"], "min_os_version", "{ev}");
    assert!(rx.header("x-api-client-token").iter().all(|t| t == CLIENT_TOKEN));

    // Updated to 18.4.1: compliant again, the tunnel back, the remediation VPN gone.
    d.os_version = "18.4.1".into();
    let (s, _) = h.post_json(&format!("/v1/devices/{}/inventory", d.udid), serde_json::json!({})).await;
    assert_eq!(s, 202);
    drain(&mut d).await;
    assert!(d.profiles.contains_key("org.example.tunnel"), "{:?}", d.profiles.keys());
    assert!(!d.profiles.contains_key("org.example.remediation"));
    let (_, c) = h.get(&format!("/v1/devices/{}/compliance", d.udid)).await;
    assert_eq!(c["status"], "compliant", "{c}");
    let statuses: Vec<&str> = c["history"].as_array().unwrap().iter().map(|x| x["status"].as_str().unwrap()).collect();
    // Newest first: unknown under the new policy until the first report, then the two reports.
    assert_eq!(statuses, ["compliant", "noncompliant"], "{c}");
    assert_eq!(c["history"][1]["previous"], "unknown", "{c}");
    assert!(c["actions"].as_array().unwrap().iter().any(|a| a["direction"] == "undo" && a["action"] == "remove_profile"), "{c}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !rx.bodies().iter().any(|b| b["ComplianceStatus"] == "Compliant" && b["PreviousComplianceStatus"] == "NonCompliant") {
        assert!(Instant::now() < deadline, "no compliant event: {:?}", rx.bodies());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Deleting the policy leaves nothing held.
    assert_eq!(h.delete("/v1/compliance/policies/ios-baseline").await.0, 204);
    assert_eq!(h.count("compliance_profile_holds"), 0);
}

both!(posture_lookups_agree_and_a_posture_token_reads_nothing_else);
async fn posture_lookups_agree_and_a_posture_token_reads_nothing_else(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let mut a = device_at(&h, 0, "18.4").await;
    let mut b = h.device(1).await;
    let mut twin = h.device(2).await;
    // Two devices claiming one serial number (a refurbished board, a typo in a DEP import).
    twin.serial = b.serial.clone();
    b.enroll().await.unwrap();
    twin.enroll().await.unwrap();
    let policy = serde_json::json!({"name": "passcode", "scope": {"all": true}, "rules": [{"type": "passcode"}]});
    assert_eq!(h.post_json("/v1/compliance/policies", policy).await.0, 201);
    for d in [&mut a, &mut b, &mut twin] {
        assert_eq!(h.post_json(&format!("/v1/devices/{}/inventory", d.udid), serde_json::json!({})).await.0, 202);
        drain(d).await;
    }
    let (s, t) = h.post_json("/v1/tokens", serde_json::json!({"name": "okta-posture", "role": "posture"})).await;
    assert_eq!(s, 201, "{t}");
    let token = t["token"].as_str().unwrap().to_string();
    let get = |path: String| {
        let (h, token) = (&h, token.clone());
        async move {
            let r = h.api.get(h.url(&path)).bearer_auth(token).send().await.unwrap();
            let s = r.status().as_u16();
            (s, r.json::<serde_json::Value>().await.unwrap_or_default())
        }
    };
    let (s, by_udid) = get(format!("/v1/posture/devices/{}", a.udid)).await;
    assert_eq!(s, 200, "{by_udid}");
    assert_eq!(by_udid["managed"], true);
    assert_eq!(by_udid["compliant"], false, "no passcode: {by_udid}");
    assert_eq!(by_udid["failed_rules"][0]["rule"], "passcode");
    assert_eq!(by_udid["os"]["version"], "18.4");
    for path in [
        format!("/v1/posture/devices/{}", a.serial),
        format!("/v1/posture/devices/{}?id_type=IMEI", a.imei),
        format!("/v1/posture/devices/{}?deviceIdType=UDID", a.udid),
        format!("/v1/posture/devices/{}?deviceIdType=IMEI", a.imei),
    ] {
        let (s, v) = get(path.clone()).await;
        assert_eq!((s, &v), (200, &by_udid), "{path}");
    }
    // The user sets a passcode: compliant at the next SecurityInfo.
    assert!(a.user_sets_passcode("2468"));
    assert_eq!(h.post_json(&format!("/v1/devices/{}/inventory", a.udid), serde_json::json!({})).await.0, 202);
    let (_, bulk) = get("/v1/posture/devices?limit=2".into()).await;
    assert_eq!(bulk["devices"].as_array().unwrap().len(), 2, "{bulk}");
    assert_eq!(bulk["more"], true);
    let cursor = bulk["cursor"].as_i64().unwrap();
    drain(&mut a).await;
    let (_, v) = get(format!("/v1/posture/devices/{}", a.udid)).await;
    assert_eq!(v["compliant"], true, "{v}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (s, changed) = get(format!("/v1/posture/devices?changed_since={cursor}")).await;
        assert_eq!(s, 200, "{changed}");
        // Changes committed before the full pass but numbered after it show up here too (a
        // cursor never skips one): what matters is that `a` is there, as it is now.
        let list = changed["devices"].as_array().unwrap();
        if let Some(x) = list.iter().find(|d| d["udid"] == a.udid.as_str()) {
            assert_eq!(x["compliant"], true, "{changed}");
            assert!(list.len() <= 3, "{changed}");
            break;
        }
        assert!(Instant::now() < deadline, "changed since {cursor}: {changed}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // One id, two devices: answered as ambiguous, never guessed.
    let (s, v) = get(format!("/v1/posture/devices/{}", b.serial)).await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(v["matches"], 2);
    let (s, _) = get(format!("/v1/posture/devices/{}", b.udid)).await;
    assert_eq!(s, 200);
    let (s, v) = get("/v1/posture/devices/NO-SUCH-DEVICE".into()).await;
    assert_eq!((s, &v["managed"]), (404, &serde_json::json!(false)));
    let (s, _) = get(format!("/v1/posture/devices/{}?id_type=phone", a.udid)).await;
    assert_eq!(s, 400);
    // Nothing else.
    let dev = format!("/v1/devices/{}", a.udid);
    for path in [
        "/v1/devices".to_string(),
        dev.clone(),
        format!("{dev}/compliance"),
        format!("{dev}/inventory"),
        format!("{dev}/commands"),
        "/v1/compliance/policies".into(),
        "/v1/compliance/summary".into(),
        "/v1/profiles".into(),
        "/v1/apps".into(),
        "/v1/groups".into(),
        "/v1/users".into(),
        "/v1/tokens".into(),
        "/v1/secrets".into(),
        "/v1/webhooks".into(),
        "/v1/events".into(),
        "/v1/audit".into(),
        "/v1/connectors".into(),
        "/v1/shared/pools".into(),
        "/v1/pushcert".into(),
        "/v1/scep/certs".into(),
        "/metrics".into(),
    ] {
        assert_eq!(get(path.clone()).await.0, 403, "GET {path}");
    }
    for (path, body) in [
        ("/v1/commands", serde_json::json!({"request_type": "DeviceLock", "targets": [a.udid], "payload": {}})),
        ("/v1/compliance/policies", serde_json::json!({"name": "x", "rules": [{"type": "enrolled"}]})),
        ("/v1/compliance/evaluate", serde_json::json!({})),
        ("/v1/tokens", serde_json::json!({"name": "mine", "role": "admin"})),
    ] {
        let r = h.api.post(h.url(path)).bearer_auth(&token).json(&body).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 403, "POST {path}");
    }
}

both!(the_schedule_catches_a_device_that_stops_reporting);
async fn the_schedule_catches_a_device_that_stops_reporting(db: Db) {
    let opts = crate::harness::Opts { tweak: Some(|c| c.compliance.evaluate_interval = Duration::from_secs(1)), ..Default::default() };
    let Some(h) = Harness::start_with(db, opts).await else { return };
    let mut d = device_at(&h, 0, "18.4").await;
    // An identity provider's hook, called by the policy's connector action both ways.
    let mut rx = Receiver::new(free_port());
    rx.listen().await;
    let hook = serde_json::json!({"name": "idp-hook", "settings": {"kind": "http", "method": "POST", "url": rx.url(),
        "body": {"format": "json", "fields": {"udid": "{DeviceUDID}", "status": "{ComplianceStatus}", "policy": "{CompliancePolicy}"}}}});
    let (s, c) = h.post_json("/v1/connectors", hook).await;
    assert_eq!(s, 201, "{c}");
    let policy = serde_json::json!({"name": "seen", "scope": {"devices": [d.udid]}, "rules": [{"type": "last_seen", "hours": 24}, {"type": "enrolled"}],
        "actions": [{"type": "connector", "connector": "idp-hook", "on": "both"}, {"type": "lock", "message": "Bring this iPhone to the IT desk"}]});
    let (s, p) = h.post_json("/v1/compliance/policies", policy).await;
    assert_eq!(s, 201, "{p}");
    let path = format!("/v1/devices/{}/compliance", d.udid);
    h.wait_for(&path, "compliant while it talks", |v| v["status"] == "compliant").await;
    // Two days of silence (the clock moved for this device only).
    h.sql(&format!("UPDATE enrollments SET last_seen_at = '2020-01-01 00:00:00' WHERE device_id = '{}'", d.udid));
    let c = h.wait_for(&path, "stale caught by the schedule", |v| v["status"] == "noncompliant").await;
    assert_eq!(c["reasons"][0]["rule"], "last_seen", "{c}");
    let (_, sweep) = h.get("/v1/compliance/sweep").await;
    assert_eq!(sweep["reason"], "schedule", "{sweep}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !rx.bodies().iter().any(|b| b["status"] == "NonCompliant") {
        assert!(Instant::now() < deadline, "connector not called: {:?}", rx.bodies());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let call = rx.bodies().into_iter().find(|b| b["status"] == "NonCompliant").unwrap();
    assert_eq!((call["udid"].as_str(), call["policy"].as_str()), (Some(d.udid.as_str()), Some("seen")));
    let c = h
        .wait_for(&path, "the call's outcome on the action", |v| {
            v["actions"].as_array().is_some_and(|a| a.iter().any(|x| x["action"] == "connector" && x["status"] == "done"))
        })
        .await;
    assert!(c["actions"].as_array().unwrap().iter().any(|a| a["call_id"].is_string()), "{c}");
    // The lock goes out with its message; the device's answer is recorded on the action.
    let done = drain(&mut d).await;
    assert!(done.contains(&"DeviceLock:Acknowledged".to_string()), "{done:?}");
    let c = h
        .wait_for(&path, "the lock's answer", |v| v["actions"].as_array().is_some_and(|a| a.iter().any(|x| x["action"] == "lock" && x["status"] == "done")))
        .await;
    let lock = c["actions"].as_array().unwrap().iter().find(|x| x["action"] == "lock").unwrap().clone();
    assert!(lock["command_uuid"].as_str().unwrap().starts_with("compliance-lock-"), "{lock}");
    let (_, cmd) = h.get(&format!("/v1/commands/{}", lock["command_uuid"].as_str().unwrap())).await;
    assert!(cmd.to_string().contains("Bring this iPhone to the IT desk"), "{cmd}");
    // CheckOut: not enrolled any more, judged at once.
    d.checkout().await.unwrap();
    let c = h.wait_for(&path, "checked out", |v| v["reasons"].as_array().is_some_and(|r| r.iter().any(|x| x["rule"] == "enrolled"))).await;
    assert_eq!(c["status"], "noncompliant");
}
