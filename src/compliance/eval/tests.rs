use super::*;
use crate::compliance::policy::Rule;

fn at(h: i64) -> NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap().and_hms_opt(0, 0, 0).unwrap() + chrono::Duration::hours(h)
}

fn facts(os: &str) -> Facts {
    Facts {
        device_id: "D1".into(),
        os_version: Some(os.into()),
        security: Some((json!({"PasscodePresent": true, "PasscodeCompliant": true, "HardwareEncryptionCaps": 3}), at(0))),
        device_info: Some((json!({"IsSupervised": true}), at(0))),
        apps: Some(["com.okta.mobile".to_string()].into()),
        last_seen: Some(at(0)),
        enrolled: true,
        cert_not_after: Some(at(24 * 365)),
        groups: vec!["icu".into()],
        ..Facts::default()
    }
}

fn policy(rules: serde_json::Value, actions: serde_json::Value) -> Policy {
    let spec: PolicySpec = serde_json::from_value(json!({"name": "baseline", "scope": {"groups": ["icu"]}, "rules": rules, "actions": actions})).unwrap();
    Policy { id: "P1".into(), spec }
}

const LIMIT: FlapLimit = FlapLimit { window: chrono::Duration::hours(1), max_runs: 2 };

fn releases() -> Releases {
    Releases::new(&BTreeMap::new()).unwrap()
}

#[test]
fn a_device_below_the_minimum_os_fails_and_its_actions_run_once() {
    let p = policy(json!([{"type": "min_os_version", "version": "18.4"}]), json!([{"type": "remove_profile", "profile": "vpn"}]));
    let j = judge(&facts("17.5"), std::slice::from_ref(&p), &BTreeMap::new(), LIMIT, &releases(), at(1));
    assert_eq!(j.status, status::NONCOMPLIANT);
    assert_eq!(j.reasons.len(), 1);
    assert_eq!(j.reasons[0].evidence["os_version"], "17.5");
    assert_eq!(j.due.len(), 1);
    assert_eq!(j.due[0].direction, "apply");
    // Judged again unchanged: nothing more to do.
    let again = judge(&facts("17.5"), std::slice::from_ref(&p), &j.policies, LIMIT, &releases(), at(2));
    assert!(again.due.is_empty());
    assert_eq!(again.reasons[0].since, Some(at(1)), "failing since the first judgement");
    // Updated: compliant, and the removed profile comes back.
    let fixed = judge(&facts("18.4.1"), std::slice::from_ref(&p), &again.policies, LIMIT, &releases(), at(3));
    assert_eq!(fixed.status, status::COMPLIANT);
    assert_eq!(fixed.due.len(), 1);
    assert_eq!(fixed.due[0].direction, "undo");
    assert_eq!(fixed.due[0].actions, vec![Action::RemoveProfile { profile: "vpn".into() }]);
    assert!(fixed.policies["P1"].applied.is_empty());
}

#[test]
fn grace_periods_hold_a_failure_back_until_they_end() {
    let p = policy(json!([{"type": "passcode", "grace": "4h"}]), json!([]));
    let mut f = facts("18.4");
    f.security = Some((json!({"PasscodePresent": false}), at(0)));
    let j = judge(&f, std::slice::from_ref(&p), &BTreeMap::new(), LIMIT, &releases(), at(0));
    assert_eq!(j.status, status::COMPLIANT);
    assert_eq!(j.pending[0].grace_until, Some(at(4)));
    let later = judge(&f, std::slice::from_ref(&p), &j.policies, LIMIT, &releases(), at(5));
    assert_eq!(later.status, status::NONCOMPLIANT);
    assert_eq!(later.reasons[0].rule, "passcode");
}

#[test]
fn never_reported_is_unknown_and_out_of_scope_is_not_judged() {
    let p = policy(json!([{"type": "apps_installed", "apps": ["com.okta.mobile"]}]), json!([]));
    let mut f = facts("18.4");
    f.apps = None;
    let j = judge(&f, std::slice::from_ref(&p), &BTreeMap::new(), LIMIT, &releases(), at(0));
    assert_eq!(j.status, status::UNKNOWN);
    assert!(j.pending[0].unknown);
    f.groups.clear();
    let j = judge(&f, std::slice::from_ref(&p), &BTreeMap::new(), LIMIT, &releases(), at(0));
    assert_eq!(j.status, status::COMPLIANT);
    assert!(j.policies.is_empty());
}

#[test]
fn a_flapping_device_is_rate_limited() {
    let p = policy(json!([{"type": "min_os_version", "version": "18.4"}]), json!([{"type": "lock", "message": "call IT"}]));
    let mut prev = BTreeMap::new();
    let mut runs = 0;
    let mut held = 0;
    for i in 0..6 {
        let os = if i % 2 == 0 { "17.0" } else { "18.4" };
        let j = judge(&facts(os), std::slice::from_ref(&p), &prev, LIMIT, &releases(), at(0) + chrono::Duration::minutes(i));
        runs += j.due.iter().filter(|d| d.direction != "held").count();
        held += j.due.iter().filter(|d| d.direction == "held").count();
        prev = j.policies;
    }
    assert_eq!(runs, 2, "two locks within the hour (lock has nothing to undo); the third is held");
    assert_eq!(held, 1, "held is recorded once");
    // After the window the held action runs.
    let j = judge(&facts("17.0"), std::slice::from_ref(&p), &prev, LIMIT, &releases(), at(2));
    assert_eq!(j.due.iter().map(|d| d.direction).collect::<Vec<_>>(), ["apply"]);
}

#[test]
fn a_deleted_policy_undoes_what_it_applied() {
    let p = policy(json!([{"type": "min_os_version", "version": "18.4"}]), json!([{"type": "install_profile", "profile": "remediation"}]));
    let j = judge(&facts("17.5"), std::slice::from_ref(&p), &BTreeMap::new(), LIMIT, &releases(), at(1));
    let gone = judge(&facts("17.5"), &[], &j.policies, LIMIT, &releases(), at(2));
    assert_eq!(gone.status, status::COMPLIANT);
    assert_eq!(gone.due[0].direction, "undo");
    assert!(gone.policies.is_empty());
}

#[test]
fn each_check_reads_its_fact() {
    let r = releases();
    let now = at(0);
    let f = facts("17.5");
    let ok = |c: serde_json::Value| {
        let rule: Rule = serde_json::from_value(c).unwrap();
        check(&rule.check, &f, &r, now)
    };
    assert_eq!(ok(json!({"type": "supervised"})), Outcome::Pass);
    assert_eq!(ok(json!({"type": "encryption"})), Outcome::Pass);
    assert_eq!(ok(json!({"type": "enrolled"})), Outcome::Pass);
    assert!(matches!(ok(json!({"type": "max_os_age", "days": 365})), Outcome::Fail(..)), "17.5 came out in May 2024");
    assert!(matches!(ok(json!({"type": "identity_certificate", "min_days": 400})), Outcome::Fail(..)));
    assert!(matches!(ok(json!({"type": "attribute", "name": "ward", "equals": "3"})), Outcome::Fail(..)));
    assert!(matches!(ok(json!({"type": "activation_lock_off"})), Outcome::Unknown(_)));
    assert!(matches!(ok(json!({"type": "profiles_verified", "profiles": ["vpn"]})), Outcome::Fail(..)));
    assert!(matches!(ok(json!({"type": "last_seen", "hours": 1})), Outcome::Pass));
}
