//! Shared devices: pools of devices handed from user to user, check-out and check-in.
//!
//! A check-out makes the holder the device's user (`{EnrollmentUser}`, `{SharedUser}` …
//! resolve to them), sends again what depends on the user and installs the pool's held profiles
//! (the passcode policy that makes the holder choose a PIN). A check-in logs the previous user
//! out of the pool's connectors (queued: the answer never waits for them), returns the device to
//! the staging user, removes the held profiles, clears the passcode with the escrowed
//! UnlockToken, clears the data of flagged apps (remove and install again), logs the user out of
//! a Shared iPad and rotates the kiosk token.
//!
//! Each workflow is stored as rows (`shared_actions`) in the transaction that opens or closes
//! the session; the steps that queue commands run after it ([`SharedService::run_steps`]), in
//! order, each claimed before it runs, and a replica that stops mid-way leaves them to the sweep
//! of another ([`SharedService::sweep_once`]).

pub mod action;
pub mod hooks;
pub mod kiosk;
mod pools;

pub use pools::PoolSpec;

use serde::Serialize;

use crate::apps::AppService;
use crate::profiles::ProfileLibrary;
use crate::protocol::command::envelope_with_uuid;
use crate::queue::{enqueue_in, Enqueue, Queue};
use crate::sealed::{Kind, Vault};
use crate::store::connectors::{queue_calls_in, CallRow};
use crate::store::events::{emit, topic, NewEvent};
use crate::store::models::{Command, Device};
use crate::store::shared::{self as st, ActionRow, NewAction, SessionRow};
use crate::store::{now, Store};

/// CommandUUID mark of the commands the workflows queue (ClearPasscode, LogOutUser, DeleteUser;
/// an app's data clearing as `app-install-shared-…`).
pub const MARK: &str = "shared-";

/// Check-in phase.
pub const CHECKIN: &str = "checkin";
/// Check-out phase.
pub const CHECKOUT: &str = "checkout";

/// Why a shared-device request failed.
pub type SharedError = crate::service_error::RequestError;

/// Who acts.
#[derive(Debug, Clone)]
pub struct Actor {
    /// Token name or admin.
    pub name: String,
    /// `admin`, `helpdesk`, `kiosk`.
    pub via: String,
    /// A kiosk token's device: the only device it may act on.
    pub kiosk_device: Option<String>,
}

/// A session with its workflow's actions and connector calls.
#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    /// The session.
    #[serde(flatten)]
    pub session: SessionRow,
    /// Every action, check-out's then check-in's, in order.
    pub actions: Vec<ActionRow>,
    /// The connector calls the check-in queued.
    pub calls: Vec<CallRow>,
    /// Set on a check-in of a device that was already checked in: the session it ended.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub already_checked_in: bool,
}

fn check_name(what: &str, v: &str) -> Result<String, SharedError> {
    let v = v.trim();
    if v.is_empty() || v.len() > 256 || v.chars().any(char::is_control) {
        return Err(SharedError::BadRequest(format!("{what}: 1 to 256 printable characters")));
    }
    Ok(v.to_string())
}

/// The shared-device service. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SharedService {
    store: Store,
    queue: Queue,
    profiles: ProfileLibrary,
    apps: AppService,
    vault: Vault,
}

/// How long a rotated kiosk token is remembered (answered 403 rather than 401).
const ROTATED_KEPT: chrono::Duration = chrono::Duration::days(30);

impl SharedService {
    /// The service.
    pub fn new(store: Store, queue: Queue, profiles: ProfileLibrary, apps: AppService, vault: Vault) -> SharedService {
        SharedService { store, queue, profiles, apps, vault }
    }

    /// The device `key` names: a UDID, a serial number, or an enrollment id.
    pub async fn resolve(&self, key: &str) -> Result<Device, SharedError> {
        let key = key.trim();
        if key.is_empty() || key.len() > 200 || key.chars().any(char::is_control) {
            return Err(SharedError::BadRequest("device: a UDID, serial number or enrollment id".into()));
        }
        let devices = self.store.devices();
        if let Some(d) = devices.device(key.to_string()).await? {
            return Ok(d);
        }
        if let Some(d) = devices.device_by_serial(key.to_string()).await? {
            return Ok(d);
        }
        if let Some(e) = devices.enrollment(key.to_string()).await? {
            if let Some(d) = devices.device(e.device_id).await? {
                return Ok(d);
            }
        }
        Err(SharedError::NotFound(format!("unknown device {key}")))
    }

    async fn state(&self, d: &Device) -> Result<st::SharedState, SharedError> {
        self.store.shared().state(d.id.clone()).await?.ok_or_else(|| SharedError::Conflict(format!("device {} is in no shared pool", d.id)))
    }

    fn allowed(actor: &Actor, d: &Device) -> Result<(), SharedError> {
        match &actor.kiosk_device {
            Some(own) if *own != d.id => {
                tracing::warn!(actor = %actor.name, token_device = %own, device = %d.id, "kiosk token used for another device: refused");
                Err(SharedError::Forbidden("this kiosk token acts for another device".into()))
            }
            _ => Ok(()),
        }
    }

    /// Checks `device` out to `user` (checking the previous holder in first).
    pub async fn checkout(
        &self,
        device: &str,
        user: &str,
        email: Option<String>,
        full_name: Option<String>,
        actor: &Actor,
    ) -> Result<SessionView, SharedError> {
        let d = self.resolve(device).await?;
        Self::allowed(actor, &d)?;
        let user = check_name("user", user)?;
        let email = email.map(|e| check_name("email", &e)).transpose()?;
        let full_name = full_name.map(|e| check_name("full_name", &e)).transpose()?;
        let state = self.state(&d).await?;
        if let Some(open) = &state.session {
            if open.username == user {
                // The same holder again: nothing changes.
                return self.session(&open.id).await;
            }
            self.checkin_device(&d, &state, actor, Some(format!("checked out by {user}"))).await?;
        }
        let known = self.store.enroll().user(user.clone()).await?;
        let email = email.or_else(|| known.as_ref().and_then(|u| u.email.clone()));
        let full_name = full_name.or_else(|| known.as_ref().and_then(|u| u.full_name.clone()));
        let at = now();
        let session = SessionRow {
            id: uuid::Uuid::new_v4().to_string(),
            device_id: d.id.clone(),
            pool: state.pool.name.clone(),
            username: user.clone(),
            email: email.clone(),
            full_name,
            open: true,
            checked_out_at: at,
            checked_out_by: actor.name.clone(),
            checked_out_via: actor.via.clone(),
            checked_in_at: None,
            checked_in_by: None,
            checked_in_via: None,
            checkin_reason: None,
        };
        let settings = state.pool.parsed();
        let mut actions = vec![
            new_action(&session.id, CHECKOUT, 1, action::SET_USER, Some(user.as_str()), action::DONE, None),
            new_action(&session.id, CHECKOUT, 2, action::RESEND, None, action::PENDING, None),
        ];
        for (i, p) in settings.held_profiles.iter().enumerate() {
            actions.push(new_action(
                &session.id,
                CHECKOUT,
                3 + i as i32,
                action::HELD_PROFILE,
                Some(p.as_str()),
                action::PENDING,
                Some("installed by the re-send".into()),
            ));
        }
        actions.push(new_action(&session.id, CHECKOUT, 100, action::EVENT, Some(topic::SHARED_CHECKOUT), action::DONE, None));
        let event = NewEvent::new(
            topic::SHARED_CHECKOUT,
            serde_json::json!({
                "session_id": session.id, "pool": session.pool, "user": user, "user_email": email, "serial_number": d.serial_number,
                "device_name": d.device_name, "by": actor.name, "via": actor.via,
            }),
        )
        .on_device(d.id.clone());
        let s = session.clone();
        self.queue
            .write(move |tx| {
                st::insert_session(tx.conn, &s)?;
                st::insert_actions(tx.conn, &actions)?;
                emit(tx.conn, tx.at, &[event])
            })
            .await?;
        tracing::info!(device = %d.id, session = %session.id, pool = %session.pool, "shared device checked out");
        self.run_steps(&session.id).await;
        self.session(&session.id).await
    }

    /// Checks `device` in. A device already checked in answers with the session it ended.
    pub async fn checkin(&self, device: &str, actor: &Actor) -> Result<SessionView, SharedError> {
        let d = self.resolve(device).await?;
        Self::allowed(actor, &d)?;
        let state = self.state(&d).await?;
        if state.session.is_none() {
            let last = self.store.shared().sessions(st::SessionQuery { device: Some(d.id.clone()), limit: 1, ..Default::default() }).await?;
            let Some(last) = last.into_iter().next() else {
                return Err(SharedError::Conflict(format!("device {} was never checked out", d.id)));
            };
            let mut v = self.session(&last.id).await?;
            v.already_checked_in = true;
            return Ok(v);
        }
        let id = self.checkin_device(&d, &state, actor, None).await?;
        self.session(&id).await
    }

    /// The check-in workflow for the open session of `d`: the session closed, the connector
    /// calls queued, the kiosk token rotated and the event written in one transaction; then
    /// the steps that queue commands. Returns the session id.
    async fn checkin_device(&self, d: &Device, state: &st::SharedState, actor: &Actor, reason: Option<String>) -> Result<String, SharedError> {
        let Some(open) = state.session.clone() else { return Err(SharedError::Conflict(format!("device {} is not checked out", d.id))) };
        let settings = state.pool.parsed();
        let sid = open.id.clone();
        let mut vars = serde_json::Map::new();
        let mut put = |k: &str, v: Option<&String>| {
            if let Some(v) = v {
                vars.insert(k.to_string(), serde_json::Value::String(v.clone()));
            }
        };
        put("PreviousUser", Some(&open.username));
        put("PreviousUserEmail", open.email.as_ref());
        put("DeviceSerialNumber", d.serial_number.as_ref());
        put("DeviceUDID", Some(&d.id));
        put("DeviceName", d.device_name.as_ref());
        put("Pool", Some(&state.pool.name));
        put("SessionID", Some(&sid));
        let at = now();
        let mut calls = Vec::new();
        let mut actions = Vec::new();
        for (i, c) in settings.logout_connectors.iter().enumerate() {
            let seq = 1 + i as i32;
            let mut call = CallRow::new(c, "checkin", Some(d.id.clone()), &vars, at);
            call.session_id = Some(sid.clone());
            let mut a = new_action(&sid, CHECKIN, seq, action::LOGOUT, Some(c.as_str()), action::PENDING, Some("queued".into()));
            a.call_id = Some(call.id.clone());
            actions.push(a);
            calls.push(call);
        }
        actions.push(new_action(&sid, CHECKIN, 20, action::SET_USER, Some(state.pool.staging_user.as_str()), action::DONE, None));
        actions.push(new_action(&sid, CHECKIN, 21, action::RESEND, None, action::PENDING, None));
        for (i, p) in settings.held_profiles.iter().enumerate() {
            actions.push(new_action(
                &sid,
                CHECKIN,
                30 + i as i32,
                action::HELD_PROFILE,
                Some(p.as_str()),
                action::PENDING,
                Some("removed by the re-send".into()),
            ));
        }
        let passcode = if settings.clear_passcode { (action::PENDING, None) } else { (action::SKIPPED, Some("the pool does not clear passcodes".to_string())) };
        actions.push(new_action(&sid, CHECKIN, 50, action::CLEAR_PASSCODE, None, passcode.0, passcode.1));
        for (i, a) in settings.clear_app_data.iter().enumerate() {
            actions.push(new_action(&sid, CHECKIN, 60 + i as i32, action::CLEAR_APP_DATA, Some(a.as_str()), action::PENDING, None));
        }
        if settings.log_out_user {
            actions.push(new_action(&sid, CHECKIN, 80, action::LOG_OUT_USER, Some(open.username.as_str()), action::PENDING, None));
        }
        if settings.delete_user {
            actions.push(new_action(&sid, CHECKIN, 81, action::DELETE_USER, Some(open.username.as_str()), action::PENDING, None));
        }
        actions.push(new_action(&sid, CHECKIN, 100, action::EVENT, Some(topic::SHARED_CHECKIN), action::DONE, None));
        let event = NewEvent::new(
            topic::SHARED_CHECKIN,
            serde_json::json!({
                "session_id": sid, "pool": state.pool.name, "previous_user": open.username, "previous_user_email": open.email,
                "staging_user": state.pool.staging_user, "serial_number": d.serial_number, "device_name": d.device_name,
                "by": actor.name, "via": actor.via, "reason": reason, "connector_calls": calls.len(),
            }),
        )
        .on_device(d.id.clone());
        let (hash, sealed) = kiosk::mint(&self.vault, &d.id).map_err(|e| SharedError::Internal(e.to_string()))?;
        let device_id = d.id.clone();
        let session_id = sid.clone();
        let (by, via) = (actor.name.clone(), actor.via.clone());
        let closed = self
            .queue
            .write(move |tx| {
                let Some(s) = st::close_session(tx.conn, &session_id, tx.at, &by, &via, reason.as_deref())? else {
                    return Ok(None);
                };
                queue_calls_in(tx.conn, &calls)?;
                st::insert_actions(tx.conn, &actions)?;
                st::issue_kiosk_in(tx.conn, &device_id, hash, sealed, tx.at, ROTATED_KEPT)?;
                emit(tx.conn, tx.at, &[event])?;
                Ok(Some(s))
            })
            .await?;
        if closed.is_none() {
            // Another request checked it in a moment ago: its workflow runs there.
            return Ok(sid);
        }
        tracing::info!(device = %d.id, session = %sid, "shared device checked in");
        self.run_steps(&sid).await;
        Ok(sid)
    }

    /// Runs a session's pending steps that queue commands, in order, each claimed first (a
    /// step another replica holds is left to it). Failures are recorded on the step.
    pub async fn run_steps(&self, session_id: &str) {
        let Ok(Some((session, steps))) = self.store.shared().session(session_id.to_string()).await else { return };
        let phase = if session.open { CHECKOUT } else { CHECKIN };
        for step in steps
            .into_iter()
            .filter(|a| a.phase == phase && a.status == action::PENDING && a.command_uuid.is_none() && action::RUNNABLE.contains(&a.action.as_str()))
        {
            match self.store.shared().claim_action(step.id, step.updated_at).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(session = %session_id, error = %e, "shared workflow: claiming a step failed; the sweep runs it");
                    return;
                }
            }
            let span = tracing::info_span!("shared_step", session = %session_id, device = %session.device_id, step = %step.action);
            let _e = span.enter();
            let (status, detail, uuid) = match self.run_step(&session, &step).await {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(error = %e, "shared workflow step failed");
                    (action::FAILED, Some(e.to_string()), None)
                }
            };
            if let Err(e) = self.store.shared().finish_action(step.id, status.to_string(), detail, uuid).await {
                tracing::warn!(error = %e, "shared workflow: recording a step failed");
            }
        }
    }

    /// One step: (status, detail, command queued).
    async fn run_step(&self, s: &SessionRow, step: &ActionRow) -> Result<(&'static str, Option<String>, Option<String>), SharedError> {
        let device = &s.device_id;
        match step.action.as_str() {
            action::RESEND => {
                let p = self.profiles.sync_device_for_user(device).await.map_err(|e| SharedError::Internal(e.to_string()))?;
                let a = self.apps.sync_device_for_user(device).await.map_err(|e| SharedError::Internal(e.to_string()))?;
                let mut failed: Vec<String> = p.failed.iter().chain(a.failed.iter()).map(|(_, why)| why.clone()).collect();
                failed.dedup();
                let detail = format!(
                    "profiles: {} sent, {} removed; apps: {} configured, {} installed, {} removed",
                    p.installing.len(),
                    p.removing.len(),
                    a.configuring.len(),
                    a.installing.len(),
                    a.removing.len()
                );
                let held = if s.open { "InstallProfile queued with the re-send" } else { "RemoveProfile queued with the re-send" };
                self.store.shared().finish_held(s.id.clone(), step.phase.clone(), held.to_string()).await?;
                if failed.is_empty() {
                    Ok((action::DONE, Some(detail), None))
                } else {
                    Ok((action::FAILED, Some(format!("{detail}; not prepared: {}", failed.join("; "))), None))
                }
            }
            action::CLEAR_PASSCODE => {
                let Some(e) = self.store.devices().enrollment(device.clone()).await? else {
                    return Ok((action::SKIPPED, Some("the device is not enrolled".into()), None));
                };
                let Some(sealed) = e.unlock_token else {
                    return Ok((action::FAILED, Some("no UnlockToken is escrowed for this device: the passcode cannot be cleared".into()), None));
                };
                let token = self.vault.open(Kind::UnlockToken, &e.id, &sealed).map_err(|e| SharedError::Internal(e.to_string()))?;
                let mut c = plist::Dictionary::new();
                c.insert("RequestType".into(), plist::Value::String("ClearPasscode".into()));
                crate::commands::with_unlock_token(&mut c, &token);
                let uuid = self.enqueue(&e.id, "clear-passcode-", c).await?;
                Ok((action::PENDING, Some("ClearPasscode queued".into()), Some(uuid)))
            }
            action::CLEAR_APP_DATA => {
                let app = step.target.clone().unwrap_or_default();
                match self.apps.clear_data(device, &app, MARK).await.map_err(|e| SharedError::Internal(e.to_string()))? {
                    Some(uuid) => Ok((action::PENDING, Some("RemoveApplication and InstallApplication queued".into()), Some(uuid))),
                    None => Ok((action::SKIPPED, Some("the app is not on the device".into()), None)),
                }
            }
            action::LOG_OUT_USER => {
                let mut c = plist::Dictionary::new();
                c.insert("RequestType".into(), plist::Value::String("LogOutUser".into()));
                let uuid = self.enqueue(device, "log-out-user-", c).await?;
                Ok((action::PENDING, Some("LogOutUser queued".into()), Some(uuid)))
            }
            action::DELETE_USER => {
                let mut c = plist::Dictionary::new();
                c.insert("RequestType".into(), plist::Value::String("DeleteUser".into()));
                c.insert("UserName".into(), plist::Value::String(step.target.clone().unwrap_or_default()));
                let force = self.store.shared().pool(s.pool.clone()).await?.is_some_and(|p| p.row.parsed().force_delete);
                c.insert("ForceDeletion".into(), plist::Value::Boolean(force));
                let uuid = self.enqueue(device, "delete-user-", c).await?;
                Ok((action::PENDING, Some("DeleteUser queued".into()), Some(uuid)))
            }
            other => Err(SharedError::Internal(format!("step {other} is not run here"))),
        }
    }

    /// Queues one workflow command (sealed when it carries a secret); returns its CommandUUID.
    async fn enqueue(&self, enrollment: &str, kind: &str, dict: plist::Dictionary) -> Result<String, SharedError> {
        let uuid = format!("{MARK}{kind}{}", uuid::Uuid::new_v4());
        let mut c: Command = envelope_with_uuid(uuid.clone(), dict).map_err(|e| SharedError::Internal(e.to_string()))?.into();
        self.vault.seal_command(&mut c).map_err(|e| SharedError::Internal(e.to_string()))?;
        let rows = vec![(enrollment.to_string(), uuid.clone())];
        let out = self.queue.write(move |tx| enqueue_in(tx, Enqueue::new(vec![c], rows))).await?;
        if out.queued.is_empty() {
            return Err(SharedError::Conflict("the device's enrollment is not enabled: the command was not queued".into()));
        }
        Ok(uuid)
    }

    /// A session with its actions and calls.
    pub async fn session(&self, id: &str) -> Result<SessionView, SharedError> {
        let (session, actions) = self.store.shared().session(id.to_string()).await?.ok_or_else(|| SharedError::NotFound(format!("no session {id}")))?;
        let calls = self.store.connectors().calls(None, Some(id.to_string()), None, 100).await?;
        Ok(SessionView { session, actions, calls, already_checked_in: false })
    }

    /// Sessions, newest first.
    pub async fn sessions(&self, q: st::SessionQuery) -> Result<Vec<SessionRow>, SharedError> {
        Ok(self.store.shared().sessions(q).await?)
    }

    /// One sweep: sessions whose steps were left pending (their replica stopped) are run on.
    pub async fn sweep_once(&self, older_than: std::time::Duration) -> Result<usize, SharedError> {
        let cutoff = now() - chrono::Duration::from_std(older_than).unwrap_or(chrono::Duration::minutes(2));
        let stalled = self.store.shared().stalled_sessions(cutoff, 100).await?;
        for s in &stalled {
            tracing::info!(session = %s, "shared workflow: running steps a stopped replica left");
            self.run_steps(s).await;
        }
        Ok(stalled.len())
    }

    /// Runs sweeps forever.
    pub async fn run_sweeps(self, older_than: std::time::Duration) {
        crate::service::periodic::every(older_than.max(std::time::Duration::from_secs(1)), "shared workflow sweep", |i| self.sweep_once(i)).await
    }
}

fn new_action(session: &str, phase: &str, seq: i32, what: &str, target: Option<&str>, status: &str, detail: Option<String>) -> NewAction {
    NewAction {
        session_id: session.to_string(),
        phase: phase.to_string(),
        seq,
        action: what.to_string(),
        target: target.map(str::to_string),
        status: status.to_string(),
        detail,
        command_uuid: None,
        call_id: None,
        updated_at: now(),
    }
}
