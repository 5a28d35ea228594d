//! Compliance policies as the API takes them: where they apply, the rules a device must meet
//! (each with its grace period) and the actions run when a device stops meeting them.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ComplianceError;

/// Most rules and most actions a policy holds.
pub const MAX_RULES: usize = 32;
/// Most entries of a list inside a rule or a scope.
pub const MAX_LIST: usize = 200;
/// The longest grace period.
pub const MAX_GRACE: Duration = Duration::from_secs(90 * 86_400);

/// Which devices a policy judges.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// Every device.
    #[serde(default)]
    pub all: bool,
    /// Devices in these groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Devices in these shared pools.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pools: Vec<String>,
    /// These devices (ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<String>,
}

impl Scope {
    /// Whether a device with these groups and pool is in scope.
    pub fn covers(&self, device_id: &str, groups: &[String], pool: Option<&str>) -> bool {
        self.all
            || self.devices.iter().any(|d| d == device_id)
            || self.groups.iter().any(|g| groups.contains(g))
            || pool.is_some_and(|p| self.pools.iter().any(|x| x == p))
    }
}

/// What a rule checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// OSVersion at least `version` (dotted, compared numerically).
    MinOsVersion {
        /// e.g. `17.5` or `18.4.1`.
        version: String,
    },
    /// The release the device runs is at most `days` old (where its release date is known).
    MaxOsAge {
        /// Days since the release of the device's OS version.
        days: u32,
    },
    /// SecurityInfo: a passcode is set and/or it meets the passcode policy.
    Passcode {
        /// PasscodePresent must be true.
        #[serde(default = "yes")]
        present: bool,
        /// PasscodeCompliant (and PasscodeCompliantWithProfiles) must be true.
        #[serde(default = "yes")]
        compliant: bool,
    },
    /// These profiles (id or PayloadIdentifier) are installed and seen in a ProfileList.
    ProfilesVerified {
        /// Profile ids (stored), given as ids or PayloadIdentifiers.
        profiles: Vec<String>,
    },
    /// These apps (bundle ids) are in the device's app list.
    AppsInstalled {
        /// Bundle ids.
        apps: Vec<String>,
    },
    /// The device talked to the server within `hours`.
    LastSeen {
        /// Hours.
        hours: u32,
    },
    /// The device is enrolled (its device channel enabled, not checked out of MDM).
    Enrolled,
    /// The device's MDM identity certificate is valid for at least `days` more.
    IdentityCertificate {
        /// Days.
        min_days: u32,
    },
    /// A custom attribute (the device's own, else its group's) equals a value.
    Attribute {
        /// Attribute name.
        name: String,
        /// Wanted value.
        equals: String,
    },
    /// DeviceInformation says the device is supervised.
    Supervised,
    /// SecurityInfo reports block- and file-level hardware encryption (Data Protection).
    Encryption,
    /// Activation Lock is off (a device that cannot be reassigned).
    ActivationLockOff,
}

fn yes() -> bool {
    true
}

/// One rule: a check and how long it may fail before it counts. In JSON the check's fields and
/// `grace` (e.g. `"4h"`) sit side by side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "serde_json::Value", into = "serde_json::Value")]
pub struct Rule {
    /// What is checked.
    pub check: Check,
    /// How long the check may fail before the device counts as non-compliant (default 0).
    pub grace: Option<Duration>,
}

impl TryFrom<serde_json::Value> for Rule {
    type Error = String;

    fn try_from(mut v: serde_json::Value) -> Result<Rule, String> {
        let grace = match v.as_object_mut().and_then(|m| m.remove("grace")) {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(g)) => Some(humantime::parse_duration(&g).map_err(|e| format!("grace {g:?}: {e}"))?),
            Some(other) => return Err(format!("grace: a duration such as \"4h\", not {other}")),
        };
        let check = serde_json::from_value(v).map_err(|e| e.to_string())?;
        Ok(Rule { check, grace })
    }
}

impl From<Rule> for serde_json::Value {
    fn from(r: Rule) -> serde_json::Value {
        let mut v = serde_json::to_value(&r.check).unwrap_or_default();
        if let (Some(m), Some(g)) = (v.as_object_mut(), r.grace) {
            m.insert("grace".into(), humantime::format_duration(g).to_string().into());
        }
        v
    }
}

impl Rule {
    /// The rule's type name (`min_os_version` ...).
    pub fn kind(&self) -> String {
        serde_json::to_value(&self.check).ok().and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_string)).unwrap_or_default()
    }

    /// A key that stays the same while the check does (grace periods are tracked by it).
    pub fn key(&self) -> String {
        serde_json::to_string(&self.check).unwrap_or_default()
    }
}

/// When a connector action runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum When {
    /// When the device turns non-compliant.
    #[default]
    Noncompliant,
    /// When it turns compliant again.
    Compliant,
    /// Both.
    Both,
}

/// What a policy does to a device that stops meeting it (and undoes when it meets it again).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Removes a profile (e.g. the VPN carrying Device Traffic Rules); installed again after.
    RemoveProfile {
        /// Profile id (given as id or PayloadIdentifier).
        profile: String,
    },
    /// Installs a replacement profile (e.g. a VPN reaching only a remediation portal); removed after.
    InstallProfile {
        /// Profile id (given as id or PayloadIdentifier).
        profile: String,
    },
    /// Installs again the policy's required apps (`apps_installed`) the device lacks.
    ReinstallApps,
    /// Locks the device with a message (DeviceLock); not undone (the user unlocks it).
    Lock {
        /// Shown on the lock screen.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        /// Shown on the lock screen.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        phone_number: Option<String>,
    },
    /// Calls a connector with the device's posture as variables.
    Connector {
        /// Connector id or name.
        connector: String,
        /// When it is called.
        #[serde(default)]
        on: When,
    },
}

impl Action {
    /// The action's type name.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::RemoveProfile { .. } => "remove_profile",
            Action::InstallProfile { .. } => "install_profile",
            Action::ReinstallApps => "reinstall_apps",
            Action::Lock { .. } => "lock",
            Action::Connector { .. } => "connector",
        }
    }
}

/// A policy as the API takes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// Unique name.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Whether it is evaluated.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Which devices it judges.
    #[serde(default)]
    pub scope: Scope,
    /// What a device must meet.
    pub rules: Vec<Rule>,
    /// What happens to a device that does not.
    #[serde(default)]
    pub actions: Vec<Action>,
}

/// Checks a name-like field: 1 to 256 printable characters.
pub fn check_text(what: &str, v: &str) -> Result<String, ComplianceError> {
    let v = v.trim();
    if v.is_empty() || v.len() > 256 || v.chars().any(char::is_control) {
        return Err(ComplianceError::BadRequest(format!("{what}: 1 to 256 printable characters")));
    }
    Ok(v.to_string())
}

fn check_list(what: &str, list: &[String], empty_ok: bool) -> Result<(), ComplianceError> {
    if !empty_ok && list.is_empty() {
        return Err(ComplianceError::BadRequest(format!("{what}: at least one entry")));
    }
    if list.len() > MAX_LIST {
        return Err(ComplianceError::BadRequest(format!("{what}: at most {MAX_LIST} entries")));
    }
    for v in list {
        check_text(what, v)?;
    }
    Ok(())
}

/// Checks everything that can be checked without the store: sizes, versions, grace periods,
/// and that no action undoes what the same policy requires (which would never settle).
pub fn validate(p: &PolicySpec) -> Result<(), ComplianceError> {
    check_text("name", &p.name)?;
    if p.description.len() > 2000 || p.description.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ComplianceError::BadRequest("description: at most 2000 characters, no control characters".into()));
    }
    check_list("scope.groups", &p.scope.groups, true)?;
    check_list("scope.pools", &p.scope.pools, true)?;
    check_list("scope.devices", &p.scope.devices, true)?;
    if p.rules.is_empty() || p.rules.len() > MAX_RULES {
        return Err(ComplianceError::BadRequest(format!("rules: 1 to {MAX_RULES} rules")));
    }
    if p.actions.len() > MAX_RULES {
        return Err(ComplianceError::BadRequest(format!("actions: at most {MAX_RULES}")));
    }
    for (i, r) in p.rules.iter().enumerate() {
        let at = format!("rules[{i}]");
        if r.grace.is_some_and(|g| g > MAX_GRACE) {
            return Err(ComplianceError::BadRequest(format!("{at}.grace: at most 90 days")));
        }
        match &r.check {
            Check::MinOsVersion { version } if super::os::parse_version(version).is_none() => {
                return Err(ComplianceError::BadRequest(format!("{at}.version: a dotted version such as 17.5 or 18.4.1, not {version:?}")));
            }
            Check::MaxOsAge { days } | Check::IdentityCertificate { min_days: days } if *days > 3650 => {
                return Err(ComplianceError::BadRequest(format!("{at}: at most 3650 days")));
            }
            Check::LastSeen { hours } if *hours == 0 || *hours > 24 * 365 => {
                return Err(ComplianceError::BadRequest(format!("{at}.hours: 1 to 8760")));
            }
            Check::ProfilesVerified { profiles } => check_list(&format!("{at}.profiles"), profiles, false)?,
            Check::AppsInstalled { apps } => check_list(&format!("{at}.apps"), apps, false)?,
            Check::Attribute { name, equals } => {
                check_text(&format!("{at}.name"), name)?;
                if equals.len() > 1024 || equals.chars().any(char::is_control) {
                    return Err(ComplianceError::BadRequest(format!("{at}.equals: at most 1024 printable characters")));
                }
            }
            _ => {}
        }
    }
    let required: Vec<&String> =
        p.rules.iter().filter_map(|r| if let Check::ProfilesVerified { profiles } = &r.check { Some(profiles) } else { None }).flatten().collect();
    for (i, a) in p.actions.iter().enumerate() {
        let at = format!("actions[{i}]");
        match a {
            Action::RemoveProfile { profile } | Action::InstallProfile { profile } => {
                check_text(&format!("{at}.profile"), profile)?;
            }
            Action::Connector { connector, .. } => {
                check_text(&format!("{at}.connector"), connector)?;
            }
            Action::Lock { message, phone_number } => {
                for (k, v) in [("message", message), ("phone_number", phone_number)] {
                    if v.as_ref().is_some_and(|v| v.len() > 500 || v.chars().any(|c| c.is_control() && c != '\n')) {
                        return Err(ComplianceError::BadRequest(format!("{at}.{k}: at most 500 characters")));
                    }
                }
            }
            Action::ReinstallApps => {
                if !p.rules.iter().any(|r| matches!(r.check, Check::AppsInstalled { .. })) {
                    return Err(ComplianceError::BadRequest(format!("{at}: reinstall_apps needs an apps_installed rule naming the apps")));
                }
            }
        }
        if let Action::RemoveProfile { profile } = a {
            if required.contains(&profile) {
                return Err(ComplianceError::BadRequest(format!(
                    "{at}: removes profile {profile}, which rule profiles_verified of the same policy requires: the device could never comply again"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: serde_json::Value) -> Result<PolicySpec, String> {
        let p: PolicySpec = serde_json::from_value(v).map_err(|e| e.to_string())?;
        validate(&p).map_err(|e| e.to_string())?;
        Ok(p)
    }

    #[test]
    fn policies_parse_and_validate() {
        let p = spec(serde_json::json!({
            "name": "baseline", "scope": {"groups": ["icu"]},
            "rules": [{"type": "min_os_version", "version": "17.5", "grace": "4h"}, {"type": "passcode"}, {"type": "enrolled"}],
            "actions": [{"type": "remove_profile", "profile": "vpn"}, {"type": "connector", "connector": "okta", "on": "both"}]
        }))
        .unwrap();
        assert_eq!(p.rules[0].grace, Some(Duration::from_secs(4 * 3600)));
        assert_eq!(p.rules[1].check, Check::Passcode { present: true, compliant: true });
        assert_eq!(p.rules[0].kind(), "min_os_version");
        assert!(p.scope.covers("X", &["icu".into()], None));
        assert!(!p.scope.covers("X", &["er".into()], Some("ward")));
        for (bad, why) in [
            (serde_json::json!({"name": "x", "rules": []}), "1 to 32"),
            (serde_json::json!({"name": "x", "rules": [{"type": "min_os_version", "version": "seventeen"}]}), "dotted"),
            (serde_json::json!({"name": "x", "rules": [{"type": "nope"}]}), "unknown variant"),
            (serde_json::json!({"name": "x", "rules": [{"type": "last_seen", "hours": 0}]}), "1 to 8760"),
            (serde_json::json!({"name": "x", "rules": [{"type": "enrolled", "grace": "400d"}]}), "90 days"),
            (serde_json::json!({"name": "x", "rules": [{"type": "enrolled"}], "actions": [{"type": "reinstall_apps"}]}), "apps_installed"),
            (
                serde_json::json!({"name": "x", "rules": [{"type": "profiles_verified", "profiles": ["vpn"]}], "actions": [{"type": "remove_profile", "profile": "vpn"}]}),
                "never comply",
            ),
            (serde_json::json!({"name": "a\u{0}b", "rules": [{"type": "enrolled"}]}), "printable"),
        ] {
            let e = spec(bad.clone()).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
