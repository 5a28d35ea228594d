//! The actions of a judgement: recorded (and connector calls queued) in the judgement's
//! transaction, then carried out — the profile library brings the device's profiles in line
//! with the holds, missing apps are installed again, DeviceLock is queued — each outcome
//! written onto its row. The device's answer to DeviceLock is written by the hook.

use chrono::NaiveDateTime;
use serde_json::json;

use super::eval::Judgement;
use super::policy::{Action, Check};
use super::{user_of, ComplianceError, ComplianceService};
use crate::protocol::command::envelope_with_uuid;
use crate::queue::Enqueue;
use crate::store::assignments::Holds;
use crate::store::compliance::{DeviceRecord, NewAction};
use crate::store::connectors::CallRow;
use crate::store::library::DeviceContext;

/// CommandUUID prefix of the commands compliance actions queue.
pub const MARK: &str = "compliance-";

/// Outcomes as recorded.
pub mod outcome {
    /// To be carried out after the commit.
    pub const PENDING: &str = "pending";
    /// Carried out.
    pub const DONE: &str = "done";
    /// Queued (a command or a connector call; its answer is recorded when it comes).
    pub const QUEUED: &str = "queued";
    /// Could not be carried out.
    pub const FAILED: &str = "failed";
    /// Held back by the rate limit (a flapping device).
    pub const HELD: &str = "held";
}

fn target(a: &Action) -> Option<String> {
    match a {
        Action::RemoveProfile { profile } | Action::InstallProfile { profile } => Some(profile.clone()),
        Action::Connector { connector, .. } => Some(connector.clone()),
        Action::Lock { .. } | Action::ReinstallApps => None,
    }
}

impl ComplianceService {
    /// The action rows and connector calls for a judgement's due actions.
    pub(super) async fn plan_actions(
        &self,
        r: &DeviceRecord,
        ctx: Option<&DeviceContext>,
        j: &Judgement,
        at: NaiveDateTime,
    ) -> Result<(Vec<NewAction>, Vec<CallRow>), ComplianceError> {
        let (mut rows, mut calls) = (Vec::new(), Vec::new());
        for due in &j.due {
            for a in &due.actions {
                let mut row = NewAction {
                    device_id: r.device.id.clone(),
                    policy_id: due.policy_id.clone(),
                    policy: due.policy.clone(),
                    action: a.kind().to_string(),
                    direction: due.direction.to_string(),
                    target: target(a),
                    status: outcome::PENDING.into(),
                    detail: None,
                    call_id: None,
                    created_at: at,
                    updated_at: at,
                };
                if due.direction == "held" {
                    row.status = outcome::HELD.into();
                    row.detail = Some(format!(
                        "held back: actions already ran {} times within {}",
                        self.cfg.max_action_runs,
                        humantime::format_duration(self.cfg.flap_window)
                    ));
                } else if let Action::Connector { connector, .. } = a {
                    let (user, email) = user_of(ctx);
                    let mut vars = serde_json::Map::new();
                    // The connector templates' variable names (connectors::settings::VARIABLES).
                    for (k, v) in [
                        ("DeviceUDID", Some(r.device.id.clone())),
                        ("DeviceSerialNumber", r.device.serial_number.clone()),
                        ("DeviceName", r.device.device_name.clone()),
                        ("User", user),
                        ("UserEmail", email),
                        ("ComplianceStatus", Some(super::okta_status(j.status).to_string())),
                        ("CompliancePolicy", Some(due.policy.clone())),
                    ] {
                        if let Some(v) = v {
                            vars.insert(k.into(), v.into());
                        }
                    }
                    let call = CallRow::new(connector, "compliance", Some(r.device.id.clone()), &vars, at);
                    row.call_id = Some(call.id.clone());
                    row.status = outcome::QUEUED.into();
                    row.detail = Some("connector call queued".into());
                    calls.push(call);
                }
                rows.push(row);
            }
        }
        Ok((rows, calls))
    }

    /// Carries out a device's recorded actions (each outcome written on its row; a failure is
    /// recorded and logged, never raised: the judgement stands).
    pub(super) async fn run_actions(&self, device_id: &str, actions: Vec<(i64, NewAction)>) {
        let pending: Vec<&(i64, NewAction)> = actions.iter().filter(|(_, a)| a.status == outcome::PENDING).collect();
        if pending.iter().any(|(_, a)| a.action == "remove_profile" || a.action == "install_profile") {
            let result = self.profiles.sync_device(device_id, Holds::AsRecorded).await;
            for (id, a) in pending.iter().filter(|(_, a)| a.action.ends_with("_profile")) {
                let (st, detail) = match &result {
                    Ok(s) if !s.failed.is_empty() => (outcome::FAILED, s.failed.iter().map(|(_, why)| why.clone()).collect::<Vec<_>>().join("; ")),
                    Ok(s) => {
                        let wants_off = (a.action == "remove_profile") == (a.direction == "apply");
                        let verb = if wants_off { "RemoveProfile" } else { "InstallProfile" };
                        let queued = if wants_off { &s.removing } else { &s.installing };
                        (
                            outcome::DONE,
                            if queued.is_empty() {
                                format!("nothing to send: the device's profiles already match ({verb} not needed)")
                            } else {
                                format!("{verb} queued")
                            },
                        )
                    }
                    Err(e) => (outcome::FAILED, e.to_string()),
                };
                self.record(*id, st, Some(detail), None).await;
            }
        }
        for (id, a) in pending.iter().filter(|(_, a)| !a.action.ends_with("_profile")) {
            let (st, detail, uuid) = match (a.action.as_str(), a.direction.as_str()) {
                ("lock", "apply") => match self.queue_lock(device_id, a).await {
                    Ok(uuid) => (outcome::QUEUED, "DeviceLock queued".to_string(), Some(uuid)),
                    Err(e) => (outcome::FAILED, e.to_string(), None),
                },
                ("reinstall_apps", "apply") => match self.reinstall_apps(device_id, &a.policy_id).await {
                    Ok(text) => (outcome::DONE, text, None),
                    Err(e) => (outcome::FAILED, e.to_string(), None),
                },
                _ => (outcome::DONE, "nothing to undo".to_string(), None),
            };
            self.record(*id, st, Some(detail), uuid).await;
        }
    }

    async fn record(&self, id: i64, st: &'static str, detail: Option<String>, uuid: Option<String>) {
        if let Err(e) = self.store.compliance().action_outcome(id, st, detail, uuid).await {
            tracing::warn!(action = id, error = %e, "compliance: recording an action's outcome failed");
        }
    }

    /// Queues DeviceLock with the policy's message.
    async fn queue_lock(&self, device_id: &str, a: &NewAction) -> Result<String, ComplianceError> {
        let policy = self.store.compliance().policy(a.policy_id.clone()).await?;
        let spec = policy.as_ref().map(super::manage::parse_row).transpose()?;
        let lock = spec.iter().flat_map(|p| p.spec.actions.iter()).find_map(|x| match x {
            Action::Lock { message, phone_number } => Some((message.clone(), phone_number.clone())),
            _ => None,
        });
        let (message, phone) = lock.unwrap_or_default();
        let payload = json!({"Message": message, "PhoneNumber": phone});
        let payload = serde_json::Value::Object(payload.as_object().cloned().unwrap_or_default().into_iter().filter(|(_, v)| !v.is_null()).collect());
        let dict = crate::commands::build("DeviceLock", &payload).map_err(|e| ComplianceError::Internal(e.to_string()))?;
        let uuid = format!("{MARK}lock-{}", uuid::Uuid::new_v4());
        let cmd = envelope_with_uuid(uuid.clone(), dict).map_err(|e| ComplianceError::Internal(e.to_string()))?;
        let out = self.queue.enqueue(Enqueue::new(vec![cmd.into()], vec![(device_id.to_string(), uuid.clone())])).await?;
        if out.queued.is_empty() {
            return Err(ComplianceError::Conflict("the device is not enrolled: DeviceLock not queued".into()));
        }
        Ok(uuid)
    }

    /// Installs again the apps the policy requires that the device's last app list lacks.
    async fn reinstall_apps(&self, device_id: &str, policy_id: &str) -> Result<String, ComplianceError> {
        let Some(row) = self.store.compliance().policy(policy_id.to_string()).await? else { return Ok("the policy is gone".into()) };
        let p = super::manage::parse_row(&row)?;
        let wanted: Vec<String> =
            p.spec.rules.iter().filter_map(|r| if let Check::AppsInstalled { apps } = &r.check { Some(apps.clone()) } else { None }).flatten().collect();
        let have: Vec<String> = self.store.apps().inventory(device_id.to_string()).await?.into_iter().map(|i| i.bundle_id).collect();
        let Some(ctx) = self.store.library().device_contexts(vec![device_id.to_string()]).await?.into_iter().next() else {
            return Err(ComplianceError::Conflict("the device is not enrolled".into()));
        };
        let states = self.store.apps().device_apps(device_id.to_string()).await?;
        let mut done = Vec::new();
        for bundle in wanted.iter().filter(|b| !have.contains(b)) {
            let Some(app) = self.store.apps().app(bundle.clone()).await? else {
                done.push(format!("{bundle}: not in the app catalogue"));
                continue;
            };
            let Some(state) = states.iter().find(|s| s.app_id == app.id) else {
                done.push(format!("{bundle}: not assigned to the device"));
                continue;
            };
            self.apps
                .reinstall(&ctx, &app, state, format!("{bundle} missing: compliance policy {}", p.spec.name))
                .await
                .map_err(|e| ComplianceError::Internal(e.to_string()))?;
            done.push(format!("{bundle}: InstallApplication queued"));
        }
        Ok(if done.is_empty() { "no required app is missing".into() } else { done.join("; ") })
    }
}
