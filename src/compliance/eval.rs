//! Judging one device: each rule of each policy in scope against the device's facts, grace
//! periods carried over from the last judgement, the device's status, and which policies' actions
//! are due (rate-limited so a flapping device cannot make them loop). Pure: the service loads
//! the facts and stores the result.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::os::{self, Releases};
use super::policy::{Action, Check, PolicySpec, When};

/// Status names.
pub mod status {
    /// Every rule of every policy in scope is met.
    pub const COMPLIANT: &str = "compliant";
    /// A rule failed past its grace period.
    pub const NONCOMPLIANT: &str = "noncompliant";
    /// Something a rule needs was never reported.
    pub const UNKNOWN: &str = "unknown";
}

/// What is known of a device when it is judged.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Device id (UDID).
    pub device_id: String,
    /// OSVersion (the latest DeviceInformation, else Authenticate).
    pub os_version: Option<String>,
    /// DeviceInformation's answers and when they came.
    pub device_info: Option<(Value, NaiveDateTime)>,
    /// SecurityInfo and when it came.
    pub security: Option<(Value, NaiveDateTime)>,
    /// (profile id, PayloadIdentifier, install state) of the device's profiles.
    pub profiles: Vec<(String, String, String)>,
    /// Bundle ids of the last app list; `None` when none was reported.
    pub apps: Option<BTreeSet<String>>,
    /// The last time the device talked to the server.
    pub last_seen: Option<NaiveDateTime>,
    /// Whether the device channel is enabled.
    pub enrolled: bool,
    /// notAfter of the bound identity certificate.
    pub cert_not_after: Option<NaiveDateTime>,
    /// Custom attributes (the device's, then its groups').
    pub attributes: BTreeMap<String, String>,
    /// Groups.
    pub groups: Vec<String>,
    /// Shared pool.
    pub pool: Option<String>,
}

/// A policy as the evaluator sees it.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Id.
    pub id: String,
    /// The policy.
    pub spec: PolicySpec,
}

/// A rule's result.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Met.
    Pass,
    /// Not met: why, and what was seen.
    Fail(String, Value),
    /// Cannot be judged: what is missing.
    Unknown(String),
}

fn fail(msg: impl Into<String>, evidence: Value) -> Outcome {
    Outcome::Fail(msg.into(), evidence)
}

fn info_bool(f: &Facts, key: &str) -> Option<bool> {
    f.device_info.as_ref().and_then(|(v, _)| v.get(key)).and_then(Value::as_bool)
}

/// Judges one check.
pub fn check(c: &Check, f: &Facts, releases: &Releases, now: NaiveDateTime) -> Outcome {
    match c {
        Check::MinOsVersion { version } => {
            let Some(have) = f.os_version.as_deref() else { return Outcome::Unknown("the device has not reported its OS version".into()) };
            let (Some(h), Some(min)) = (os::parse_version(have), os::parse_version(version)) else {
                return Outcome::Unknown(format!("OS version {have:?} cannot be compared"));
            };
            if os::compare(&h, &min).is_lt() {
                fail(format!("OS {have} is below the minimum {version}"), json!({"os_version": have, "minimum": version}))
            } else {
                Outcome::Pass
            }
        }
        Check::MaxOsAge { days } => {
            let Some(have) = f.os_version.as_deref() else { return Outcome::Unknown("the device has not reported its OS version".into()) };
            // Judged only where the release date is known.
            let Some(released) = releases.released(have) else { return Outcome::Pass };
            let age = (now.date() - released).num_days();
            if age > i64::from(*days) {
                fail(
                    format!("OS {have} was released {age} days ago (at most {days} allowed)"),
                    json!({"os_version": have, "released": released.to_string(), "age_days": age}),
                )
            } else {
                Outcome::Pass
            }
        }
        Check::Passcode { present, compliant } => {
            let Some((s, _)) = &f.security else { return Outcome::Unknown("the device has not answered SecurityInfo".into()) };
            let b = |k: &str| s.get(k).and_then(Value::as_bool);
            if *present && b("PasscodePresent") != Some(true) {
                return fail("no passcode is set", json!({"PasscodePresent": b("PasscodePresent")}));
            }
            if *compliant && (b("PasscodeCompliant") == Some(false) || b("PasscodeCompliantWithProfiles") == Some(false)) {
                return fail(
                    "the passcode does not meet the passcode policy",
                    json!({"PasscodeCompliant": b("PasscodeCompliant"), "PasscodeCompliantWithProfiles": b("PasscodeCompliantWithProfiles")}),
                );
            }
            Outcome::Pass
        }
        Check::ProfilesVerified { profiles } => {
            let mut missing = Vec::new();
            for p in profiles {
                let state = f.profiles.iter().find(|(id, ident, _)| id == p || ident == p).map(|(_, _, s)| s.as_str());
                if state != Some(crate::profiles::service::status::VERIFIED) {
                    missing.push(json!({"profile": p, "state": state.unwrap_or("not installed")}));
                }
            }
            if missing.is_empty() {
                Outcome::Pass
            } else {
                fail(format!("{} required profile(s) not verified on the device", missing.len()), json!({"profiles": missing}))
            }
        }
        Check::AppsInstalled { apps } => {
            let Some(have) = &f.apps else { return Outcome::Unknown("the device has not reported its apps".into()) };
            let missing: Vec<&String> = apps.iter().filter(|a| !have.contains(*a)).collect();
            if missing.is_empty() {
                Outcome::Pass
            } else {
                fail(format!("required app(s) missing: {}", missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")), json!({"missing": missing}))
            }
        }
        Check::LastSeen { hours } => match f.last_seen {
            Some(t) if now - t <= chrono::Duration::hours(i64::from(*hours)) => Outcome::Pass,
            Some(t) => fail(format!("last seen {} hours ago (at most {hours})", (now - t).num_hours()), json!({"last_seen": crate::timefmt::text(&t)})),
            None => fail("never seen", json!({"last_seen": null})),
        },
        Check::Enrolled => {
            if f.enrolled {
                Outcome::Pass
            } else {
                fail("the device is not enrolled (checked out of MDM or never finished enrolling)", json!({"enrolled": false}))
            }
        }
        Check::IdentityCertificate { min_days } => match f.cert_not_after {
            None => Outcome::Unknown("no identity certificate is bound".into()),
            Some(t) if t - now >= chrono::Duration::days(i64::from(*min_days)) => Outcome::Pass,
            Some(t) => fail(
                format!("the identity certificate expires in {} days (at least {min_days} required)", (t - now).num_days()),
                json!({"not_after": crate::timefmt::text(&t)}),
            ),
        },
        Check::Attribute { name, equals } => match f.attributes.get(name) {
            Some(v) if v == equals => Outcome::Pass,
            have => fail(
                format!("attribute {name} is {}", have.map(|v| format!("{v:?}")).unwrap_or_else(|| "not set".into())),
                json!({"name": name, "value": have, "wanted": equals}),
            ),
        },
        Check::Supervised => match info_bool(f, "IsSupervised") {
            None => Outcome::Unknown("the device has not reported whether it is supervised".into()),
            Some(true) => Outcome::Pass,
            Some(false) => fail("the device is not supervised", json!({"IsSupervised": false})),
        },
        Check::ActivationLockOff => match info_bool(f, "IsActivationLockEnabled") {
            None => Outcome::Unknown("the device has not reported Activation Lock".into()),
            Some(false) => Outcome::Pass,
            Some(true) => fail("Activation Lock is on", json!({"IsActivationLockEnabled": true})),
        },
        Check::Encryption => {
            let Some((s, _)) = &f.security else { return Outcome::Unknown("the device has not answered SecurityInfo".into()) };
            let caps = s.get("HardwareEncryptionCaps").and_then(Value::as_i64);
            if caps.is_some_and(|c| c & 3 == 3) {
                Outcome::Pass
            } else {
                fail("hardware encryption (block and file level) is not reported", json!({"HardwareEncryptionCaps": caps}))
            }
        }
    }
}

/// One failed or unjudged rule, as the API and events show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// Policy id.
    pub policy_id: String,
    /// Policy name.
    pub policy: String,
    /// Rule type.
    pub rule: String,
    /// What is wrong.
    pub message: String,
    /// What was seen.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub evidence: Value,
    /// Failing since (absent for unjudged rules).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_time")]
    pub since: Option<NaiveDateTime>,
    /// The end of its grace period, while it runs.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_time")]
    pub grace_until: Option<NaiveDateTime>,
    /// True when the rule could not be judged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unknown: bool,
}

mod opt_time {
    use chrono::NaiveDateTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
        crate::timefmt::utc_opt(t, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDateTime>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        Ok(s.and_then(|s| chrono::DateTime::parse_from_rfc3339(&s).ok()).map(|t| t.naive_utc()))
    }
}

/// A policy's state on one device, kept between judgements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyState {
    /// The policy's status on the device.
    pub status: String,
    /// Rule key → failing since.
    #[serde(default)]
    pub failing: BTreeMap<String, NaiveDateTime>,
    /// The status the actions last ran for (`compliant` until they first run).
    #[serde(default = "compliant")]
    pub acted_for: String,
    /// Actions in force, undone when the device complies again (or the policy goes).
    #[serde(default)]
    pub applied: Vec<Action>,
    /// When actions ran, within the flap window.
    #[serde(default)]
    pub runs: Vec<NaiveDateTime>,
    /// Actions are held back by the rate limit.
    #[serde(default)]
    pub held: bool,
}

fn compliant() -> String {
    status::COMPLIANT.into()
}

impl Default for PolicyState {
    fn default() -> PolicyState {
        PolicyState { status: status::UNKNOWN.into(), failing: BTreeMap::new(), acted_for: compliant(), applied: Vec::new(), runs: Vec::new(), held: false }
    }
}

/// Actions to run for one policy on one device.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    /// Policy id.
    pub policy_id: String,
    /// Policy name (or the id of a policy that is gone).
    pub policy: String,
    /// `apply` (turned non-compliant), `undo` (turned compliant or the policy went) or `held`.
    pub direction: &'static str,
    /// What to do (for `undo`: the actions to reverse and the connectors to call).
    pub actions: Vec<Action>,
}

/// How often actions may run per device and policy.
#[derive(Debug, Clone, Copy)]
pub struct FlapLimit {
    /// The window.
    pub window: chrono::Duration,
    /// Runs allowed within it.
    pub max_runs: usize,
}

/// The whole judgement of one device.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// Device status.
    pub status: &'static str,
    /// Failures past their grace period.
    pub reasons: Vec<Reason>,
    /// Failures within grace, and rules that could not be judged.
    pub pending: Vec<Reason>,
    /// Per-policy state to keep.
    pub policies: BTreeMap<String, PolicyState>,
    /// Actions to run.
    pub due: Vec<Due>,
}

fn undoes(a: &Action) -> bool {
    matches!(a, Action::RemoveProfile { .. } | Action::InstallProfile { .. })
}

fn calls_on(a: &Action, w: When) -> bool {
    matches!(a, Action::Connector { on, .. } if *on == w || *on == When::Both)
}

/// Judges a device against the policies, given its previous per-policy state.
pub fn judge(f: &Facts, policies: &[Policy], prev: &BTreeMap<String, PolicyState>, limit: FlapLimit, releases: &Releases, now: NaiveDateTime) -> Judgement {
    let mut j = Judgement { status: status::COMPLIANT, reasons: Vec::new(), pending: Vec::new(), policies: BTreeMap::new(), due: Vec::new() };
    let mut any_unknown = false;
    for p in policies.iter().filter(|p| p.spec.enabled && p.spec.scope.covers(&f.device_id, &f.groups, f.pool.as_deref())) {
        let before = prev.get(&p.id).cloned().unwrap_or_default();
        let mut st = PolicyState { failing: BTreeMap::new(), ..before.clone() };
        let (mut failed, mut unknown) = (false, false);
        for r in &p.spec.rules {
            let reason = |message: String, evidence: Value| Reason {
                policy_id: p.id.clone(),
                policy: p.spec.name.clone(),
                rule: r.kind(),
                message,
                evidence,
                since: None,
                grace_until: None,
                unknown: false,
            };
            match check(&r.check, f, releases, now) {
                Outcome::Pass => {}
                Outcome::Unknown(m) => {
                    unknown = true;
                    j.pending.push(Reason { unknown: true, ..reason(m, Value::Null) });
                }
                Outcome::Fail(m, e) => {
                    let key = r.key();
                    let since = before.failing.get(&key).copied().unwrap_or(now);
                    st.failing.insert(key, since);
                    let until = since + chrono::Duration::from_std(r.grace.unwrap_or_default()).unwrap_or_default();
                    if now >= until {
                        failed = true;
                        j.reasons.push(Reason { since: Some(since), ..reason(m, e) });
                    } else {
                        j.pending.push(Reason { since: Some(since), grace_until: Some(until), ..reason(m, e) });
                    }
                }
            }
        }
        st.status = if failed {
            status::NONCOMPLIANT
        } else if unknown {
            status::UNKNOWN
        } else {
            status::COMPLIANT
        }
        .to_string();
        any_unknown |= unknown && !failed;
        if failed {
            j.status = status::NONCOMPLIANT;
        }
        // Actions follow the policy's status once it is judged one way or the other.
        if st.status != status::UNKNOWN && st.status != st.acted_for {
            st.runs.retain(|t| now - *t < limit.window);
            let actions: Vec<Action> = if st.status == status::NONCOMPLIANT {
                p.spec.actions.iter().filter(|a| !matches!(a, Action::Connector { .. }) || calls_on(a, When::Noncompliant)).cloned().collect()
            } else {
                st.applied.iter().cloned().chain(p.spec.actions.iter().filter(|a| calls_on(a, When::Compliant)).cloned()).collect()
            };
            if actions.is_empty() {
                st.acted_for = st.status.clone();
            } else if st.runs.len() >= limit.max_runs {
                if !st.held {
                    j.due.push(Due { policy_id: p.id.clone(), policy: p.spec.name.clone(), direction: "held", actions });
                }
                st.held = true;
            } else {
                let direction = if st.status == status::NONCOMPLIANT { "apply" } else { "undo" };
                st.applied = if direction == "apply" { actions.iter().filter(|a| undoes(a)).cloned().collect() } else { Vec::new() };
                st.runs.push(now);
                st.held = false;
                st.acted_for = st.status.clone();
                j.due.push(Due { policy_id: p.id.clone(), policy: p.spec.name.clone(), direction, actions });
            }
        }
        j.policies.insert(p.id.clone(), st);
    }
    // A policy that no longer judges the device (deleted, disabled, out of scope) leaves
    // nothing behind.
    for (id, st) in prev {
        if !j.policies.contains_key(id) && !st.applied.is_empty() {
            let name = policies.iter().find(|p| &p.id == id).map(|p| p.spec.name.clone()).unwrap_or_else(|| id.clone());
            j.due.push(Due { policy_id: id.clone(), policy: name, direction: "undo", actions: st.applied.clone() });
        }
    }
    if j.status != status::NONCOMPLIANT && any_unknown {
        j.status = status::UNKNOWN;
    }
    j
}

#[cfg(test)]
mod tests;
