//! Blueprints: what a device gets when its enrollment completes its first TokenUpdate —
//! inventory commands, its group's and its own profiles and apps, a device name from a template, extra
//! commands, then DeviceConfigured when the device said it is awaiting configuration.
//!
//! A session's blueprint is its token's, else its user's, else `enroll.blueprint`; a stored
//! blueprint of that name wins over the built-in `default`. A device enrolled with a profile this
//! server did not hand out (no session) gets its assigned profiles, and DeviceConfigured when
//! awaited, but no inventory or naming.

use crate::store::assignments::Holds;
use serde::{Deserialize, Serialize};

use super::{EnrollError, EnrollService};
use crate::protocol::command::envelope;
use crate::store::models::Command;

/// Request types a blueprint may list as inventory.
pub const INVENTORY: [&str; 6] = ["DeviceInformation", "SecurityInfo", "ProfileList", "InstalledApplicationList", "ManagedApplicationList", "CertificateList"];

/// The name of the built-in blueprint.
pub const DEFAULT_NAME: &str = "default";

fn default_inventory() -> Vec<String> {
    INVENTORY[..4].iter().map(|s| s.to_string()).collect()
}

fn yes() -> bool {
    true
}

/// An extra command a blueprint sends (built like `POST /v1/commands`; string values may use
/// `{Variables}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlueprintCommand {
    /// RequestType.
    pub request_type: String,
    /// The command's keys, in Apple's spelling.
    #[serde(default)]
    pub payload: serde_json::Value,
}

/// A blueprint's actions, in the order they are queued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Blueprint {
    /// Inventory commands (see [`INVENTORY`]); default DeviceInformation, SecurityInfo,
    /// ProfileList, InstalledApplicationList.
    #[serde(default = "default_inventory")]
    pub inventory: Vec<String>,
    /// Queue the profiles assigned to the device and its groups (default true).
    #[serde(default = "yes")]
    pub profiles: bool,
    /// Queue the apps assigned to the device and its groups, with their configuration (default
    /// true).
    #[serde(default = "yes")]
    pub apps: bool,
    /// A template for the device name (`Settings` → `DeviceName`), e.g. `Ward 3 {DeviceSerialNumber}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    /// Further commands, after the device name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<BlueprintCommand>,
    /// Send DeviceConfigured last when the device awaits configuration (default true).
    #[serde(default = "yes")]
    pub device_configured: bool,
}

impl Default for Blueprint {
    fn default() -> Self {
        Blueprint { inventory: default_inventory(), profiles: true, apps: true, device_name: None, commands: Vec::new(), device_configured: true }
    }
}

impl Blueprint {
    /// What a device enrolled outside any session gets.
    pub fn unmanaged() -> Blueprint {
        Blueprint { inventory: Vec::new(), ..Blueprint::default() }
    }

    /// Every problem, each naming where it is: unknown inventory types, unknown variables,
    /// commands that do not build.
    pub fn check(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, t) in self.inventory.iter().enumerate() {
            if !INVENTORY.contains(&t.as_str()) {
                out.push(format!("inventory[{i}]: {t} is not an inventory command; one of {}", INVENTORY.join(", ")));
            } else if self.inventory[..i].contains(t) {
                out.push(format!("inventory[{i}]: {t} is listed twice"));
            }
        }
        if let Some(name) = &self.device_name {
            if name.trim().is_empty() {
                out.push("device_name: must not be empty".into());
            }
            let v = plist::Value::String(name.clone());
            out.extend(mdm_profiles::vars::check(&v, "device_name", &mdm_profiles::vars::is_builtin).into_iter().map(|i| format!("{}: {}", i.path, i.message)));
        }
        for (i, c) in self.commands.iter().enumerate() {
            if c.request_type == "DeviceConfigured" {
                out.push(format!("commands[{i}]: DeviceConfigured is sent by the blueprint itself (device_configured)"));
                continue;
            }
            match crate::commands::build(&c.request_type, &c.payload) {
                Ok(dict) => out.extend(
                    mdm_profiles::vars::check(&plist::Value::Dictionary(dict), &format!("commands[{i}]"), &mdm_profiles::vars::is_builtin)
                        .into_iter()
                        .map(|i| format!("{}: {}", i.path, i.message)),
                ),
                Err(e) => out.push(format!("commands[{i}]: {e}")),
            }
        }
        out
    }
}

/// What running a blueprint queued.
#[derive(Debug, Clone, Default)]
pub struct Ran {
    /// The blueprint's name (`None`: no session, the unmanaged actions).
    pub blueprint: Option<String>,
    /// Request types queued, in order (InstallProfile once per profile).
    pub queued: Vec<String>,
    /// Things skipped, with the reason.
    pub skipped: Vec<String>,
}

fn stored(dict: plist::Dictionary) -> Result<Command, EnrollError> {
    Ok(envelope(dict).map_err(|e| EnrollError::Internal(e.to_string()))?.into())
}

impl EnrollService {
    /// The blueprint called `name`: the stored one, else the built-in default for
    /// [`DEFAULT_NAME`]. `None` when neither exists.
    pub async fn blueprint_named(&self, name: &str) -> Result<Option<Blueprint>, EnrollError> {
        match self.inner.enroll.blueprint(name.to_string()).await? {
            Some(row) => serde_json::from_str(&row.body).map(Some).map_err(|e| EnrollError::Internal(format!("stored blueprint {name} is unreadable: {e}"))),
            None if name == DEFAULT_NAME => Ok(Some(Blueprint::default())),
            None => Ok(None),
        }
    }

    async fn queue(&self, enrollment_id: &str, cmds: Vec<Command>, ran: &mut Ran) -> Result<(), EnrollError> {
        if cmds.is_empty() {
            return Ok(());
        }
        let types: Vec<String> = cmds.iter().map(|c| c.request_type.clone()).collect();
        let rows = cmds.iter().map(|c| (enrollment_id.to_string(), c.uuid.clone())).collect();
        let out = self.inner.queue.enqueue(crate::queue::Enqueue::new(cmds, rows)).await?;
        if out.queued.is_empty() {
            ran.skipped.push(format!("{} not queued: the enrollment is not enabled", types.join(", ")));
        } else {
            ran.queued.extend(types);
        }
        Ok(())
    }

    /// Runs the blueprint for a device channel that just completed its first TokenUpdate: applies
    /// its session (user, group), then queues the actions in order and wakes the device.
    pub async fn run_blueprint(&self, device_id: &str) -> Result<Ran, EnrollError> {
        let store = &self.inner;
        let (session, missing_group) = store.enroll.apply_enrollment(device_id.to_string()).await?;
        let mut ran = Ran::default();
        if let Some(g) = missing_group {
            ran.skipped.push(format!("group {g} does not exist; the device joined no group"));
        }
        let bp = match &session {
            None => Blueprint::unmanaged(),
            Some(s) => {
                let name = s.blueprint.clone().unwrap_or_else(|| self.inner.cfg.blueprint.clone());
                let found = self.blueprint_named(&name).await?;
                ran.blueprint = Some(name.clone());
                found.unwrap_or_else(|| {
                    ran.skipped.push(format!("blueprint {name} does not exist; the built-in default ran instead"));
                    Blueprint::default()
                })
            }
        };
        let Some(enrollment) = store.devices.enrollment(device_id.to_string()).await? else {
            return Err(EnrollError::NotFound(format!("no enrollment {device_id}")));
        };

        let mut inventory = Vec::new();
        for t in &bp.inventory {
            let dict = crate::commands::build(t, &serde_json::Value::Null).map_err(|e| EnrollError::Internal(e.to_string()))?;
            inventory.push(stored(dict)?);
        }
        self.queue(device_id, inventory, &mut ran).await?;

        if bp.profiles {
            let out = self.inner.profiles.sync_device(device_id, Holds::Nothing).await.map_err(|e| EnrollError::Internal(e.to_string()))?;
            ran.queued.extend(out.installing.iter().map(|_| "InstallProfile".to_string()));
            ran.skipped.extend(out.failed.into_iter().map(|(_, why)| format!("a profile was not queued: {why}")));
        }
        if bp.apps {
            let out = self.inner.apps.sync_device(device_id, Holds::Nothing).await.map_err(|e| EnrollError::Internal(e.to_string()))?;
            ran.queued.extend(out.installing.iter().map(|_| "InstallApplication".to_string()));
            ran.skipped.extend(out.failed.into_iter().map(|(_, why)| format!("an app was not queued: {why}")));
        }

        // The device's values fill the name template and extra commands; nothing else needs them.
        let ctx = if bp.device_name.is_some() || !bp.commands.is_empty() {
            store.library.device_contexts(vec![device_id.to_string()]).await?.into_iter().next()
        } else {
            None
        };
        let lookup = |name: &str| ctx.as_ref().and_then(|c| crate::profiles::render::device_value(c, name));
        let mut last = Vec::new();
        if let Some(template) = &bp.device_name {
            match mdm_profiles::vars::expand(template, &lookup) {
                Ok(name) => {
                    let payload = serde_json::json!({ "Settings": [{ "Item": "DeviceName", "DeviceName": name }] });
                    let dict = crate::commands::build("Settings", &payload).map_err(|e| EnrollError::Internal(e.to_string()))?;
                    last.push(stored(dict)?);
                }
                Err(missing) => ran.skipped.push(format!("device name not set: {missing}")),
            }
        }
        for c in &bp.commands {
            let dict = crate::commands::build(&c.request_type, &c.payload).map_err(|e| EnrollError::Internal(e.to_string()))?;
            let mut v = plist::Value::Dictionary(dict);
            match mdm_profiles::vars::substitute(&mut v, &lookup) {
                Ok(()) => {
                    if let plist::Value::Dictionary(d) = v {
                        last.push(stored(d)?);
                    }
                }
                Err(missing) => ran.skipped.push(format!("{} not sent: {missing}", c.request_type)),
            }
        }
        if enrollment.awaiting_configuration && bp.device_configured {
            let dict = crate::commands::build("DeviceConfigured", &serde_json::Value::Null).map_err(|e| EnrollError::Internal(e.to_string()))?;
            last.push(stored(dict)?);
        }
        self.queue(device_id, last, &mut ran).await?;
        Ok(ran)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_checks() {
        let b: Blueprint = serde_json::from_str("{}").unwrap();
        assert_eq!(b, Blueprint::default());
        assert!(b.check().is_empty());
        let bad: Blueprint = serde_json::from_value(serde_json::json!({
            "inventory": ["DeviceInformation", "EraseDevice", "DeviceInformation"],
            "device_name": "Ward {Nope}",
            "commands": [
                { "request_type": "DeviceConfigured" },
                { "request_type": "Settings", "payload": { "Settings": [] } },
                { "request_type": "Settings", "payload": { "Settings": [{ "Item": "DeviceName", "DeviceName": "{Bad}" }] } }
            ]
        }))
        .unwrap();
        let problems = bad.check();
        assert_eq!(problems.len(), 6, "{problems:#?}");
        assert!(problems[0].starts_with("inventory[1]: EraseDevice"));
        assert!(problems[1].starts_with("inventory[2]: DeviceInformation is listed twice"));
        assert!(problems[2].contains("unknown variable {Nope}"));
        assert!(problems[3].starts_with("commands[0]"));
        assert!(problems[4].starts_with("commands[1]"));
        assert!(problems[5].contains("{Bad}"));
        assert!(serde_json::from_str::<Blueprint>(r#"{"inventroy": []}"#).is_err(), "unknown keys are refused");
    }
}
