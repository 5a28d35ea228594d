//! Bringing devices in line with app assignments: what to install, reconfigure or remove on one
//! enrollment, each command queued with its state row (and event) in one transaction.

use std::collections::BTreeMap;

use super::commands::{self, CONFIG_PREFIX, INSTALL_PREFIX, LIST_PREFIX, REMOVE_PREFIX};
use super::{appconfig, AppError, AppService};
use crate::protocol::command::envelope_with_uuid;
use crate::store::apps::{AppRow, AppWork, DeviceApp};
use crate::store::assignments::{Holds, Subject, SubjectKind, TargetKind};
use crate::store::library::DeviceContext;
use crate::store::models::Command;
use crate::store::now;

/// Which way an assignment changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Assign,
    Unassign,
}

/// Install-state values.
pub mod status {
    /// InstallApplication queued.
    pub const PENDING: &str = "pending";
    /// The device accepted it.
    pub const INSTALLED: &str = "installed";
    /// The device refused it, or it could not be prepared.
    pub const FAILED: &str = "failed";
    /// RemoveApplication queued.
    pub const REMOVING: &str = "removing";
}

/// What a sync queued.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AppSync {
    /// Enrollments an InstallApplication was queued for.
    pub installing: Vec<String>,
    /// Enrollments a new configuration was queued for.
    pub configuring: Vec<String>,
    /// Enrollments a RemoveApplication was queued for.
    pub removing: Vec<String>,
    /// Enrollments the app could not be prepared for, with the reason.
    pub failed: Vec<(String, String)>,
}

impl AppSync {
    /// Adds another outcome's lists to this one.
    pub fn merge(&mut self, o: AppSync) {
        self.installing.extend(o.installing);
        self.configuring.extend(o.configuring);
        self.removing.extend(o.removing);
        self.failed.extend(o.failed);
    }
}

fn command(prefix: &str, dict: plist::Dictionary) -> Result<Command, AppError> {
    let uuid = format!("{prefix}{}", uuid::Uuid::new_v4());
    Ok(envelope_with_uuid(uuid, dict).map_err(|e| AppError::Internal(e.to_string()))?.into())
}

/// One planned change.
enum Step {
    Install { reinstalls: i32, event: Option<(String, String)> },
    Configure { reinstalls: i32 },
    Remove,
}

/// Commands to queue, and failures to record without a command.
#[derive(Default)]
pub(crate) struct Plan {
    /// Put after the CommandUUID prefix, so another concern can follow the answers
    /// (`shared-` for a check-in's data clearing).
    mark: &'static str,
    work: AppWork,
    failed: Vec<DeviceApp>,
    failed_events: Vec<crate::store::apps::EventRow>,
}

impl AppService {
    /// The value of `{name}` on one device: a built-in, a secret, or the device's kiosk token.
    fn lookup<'a>(&'a self, ctx: &'a DeviceContext, secrets: &'a BTreeMap<String, String>) -> impl Fn(&str) -> Option<String> + 'a {
        move |name: &str| match name.strip_prefix(appconfig::SECRET_PREFIX) {
            Some(s) => secrets.get(s).cloned(),
            None if name == appconfig::KIOSK_TOKEN => {
                let sealed = ctx.kiosk_sealed.as_ref()?;
                let plain = self.vault.as_ref()?.open(crate::sealed::Kind::KioskToken, &ctx.device.id, sealed).ok()?;
                String::from_utf8(plain).ok()
            }
            None => crate::profiles::render::device_value(ctx, name),
        }
    }

    /// Adds one step for one enrollment to the plan.
    fn plan(
        &self,
        plan: &mut Plan,
        out: &mut AppSync,
        ctx: &DeviceContext,
        app: &AppRow,
        step: Step,
        secrets: &BTreeMap<String, String>,
    ) -> Result<(), AppError> {
        let eid = ctx.enrollment.id.clone();
        let (attrs, cfg) = AppService::parts(app)?;
        let rendered = if cfg.is_empty() { Ok(None) } else { appconfig::render(&cfg, &self.lookup(ctx, secrets)).map(Some) };
        let state = |status: &str, cmd: Option<&Command>, detail: Option<String>, reinstalls: i32| DeviceApp {
            enrollment_id: eid.clone(),
            app_id: app.id.clone(),
            bundle_id: app.bundle_id.clone(),
            status: status.to_string(),
            command_uuid: cmd.map(|c| c.uuid.clone()),
            detail,
            config_version: app.config_version,
            reinstalls,
            updated_at: now(),
        };
        let reinstalls = match &step {
            Step::Install { reinstalls, .. } | Step::Configure { reinstalls } => *reinstalls,
            Step::Remove => 0,
        };
        let configuration = match (&step, rendered) {
            (Step::Remove, _) => None,
            (_, Ok(c)) => c,
            (_, Err(missing)) => {
                let why = missing.to_string();
                out.failed.push((eid.clone(), why.clone()));
                plan.failed.push(state(status::FAILED, None, Some(why.clone()), reinstalls));
                plan.failed_events.push((eid, app.id.clone(), "failed".into(), Some(why)));
                return Ok(());
            }
        };
        let (cmd, st, event) = match step {
            Step::Remove => {
                let c = command(&format!("{REMOVE_PREFIX}{}", plan.mark), commands::remove(&app.bundle_id))?;
                out.removing.push(eid.clone());
                let st = state(status::REMOVING, Some(&c), None, 0);
                (c, st, None)
            }
            Step::Install { event, .. } => {
                let user_enrollment = ctx.enrollment.enrollment_type.starts_with("UserEnrollment");
                let c = command(&format!("{INSTALL_PREFIX}{}", plan.mark), commands::install(app, &attrs, configuration, user_enrollment))?;
                out.installing.push(eid.clone());
                let st = state(status::PENDING, Some(&c), None, reinstalls);
                (c, st, event)
            }
            Step::Configure { .. } => {
                let c = command(CONFIG_PREFIX, commands::configure(&app.bundle_id, configuration, &attrs))?;
                out.configuring.push(eid.clone());
                let st = state(status::INSTALLED, Some(&c), Some(format!("configuration {} sent", app.config_version)), reinstalls);
                (c, st, None)
            }
        };
        plan.work.rows.push((eid.clone(), cmd.uuid.clone()));
        plan.work.commands.push(cmd);
        plan.work.states.push(st);
        if let Some((kind, detail)) = event {
            plan.work.events.push((eid, app.id.clone(), kind, Some(detail)));
        }
        Ok(())
    }

    /// Queues the plan and records its failures.
    async fn apply(&self, mut plan: Plan) -> Result<(), AppError> {
        if !plan.work.commands.is_empty() {
            // AppConfig may hold secrets: the bodies are stored sealed, opened on delivery.
            let vault = self.vault()?;
            for c in &mut plan.work.commands {
                vault.seal_command(c).map_err(|e| AppError::Internal(e.to_string()))?;
            }
            let work = plan.work;
            self.queue.write(move |tx| crate::store::apps::queue_app_work(tx, work)).await?;
        }
        if !plan.failed.is_empty() {
            self.apps.put_device_apps(plan.failed, plan.failed_events).await?;
        }
        Ok(())
    }

    /// Brings one device's apps in line with its assignments; `holds` says what the device
    /// is taken to have.
    pub async fn sync_device(&self, device_id: &str, holds: Holds) -> Result<AppSync, AppError> {
        let mut out = AppSync::default();
        // The device channel's enrollment id is the device id.
        let wanted = self.assignments.assigned_to_device(SubjectKind::App, device_id.to_string()).await?;
        let mut states = self.apps.device_apps(device_id.to_string()).await?;
        if wanted.is_empty() && states.is_empty() {
            return Ok(out);
        }
        let Some(mut ctx) = self.library.device_contexts(vec![device_id.to_string()]).await?.into_iter().next() else {
            return Ok(out);
        };
        if ctx.shared.is_some() && ctx.kiosk_sealed.is_none() && self.any_uses(&wanted, appconfig::KIOSK_TOKEN).await? {
            // A locker app's first configuration: the device's first kiosk token.
            self.issue_first_kiosk(device_id).await?;
            if let Some(c) = self.library.device_contexts(vec![device_id.to_string()]).await?.into_iter().next() {
                ctx = c;
            }
        }
        if holds == Holds::Nothing {
            // A new enrollment has none of the old ones: forget them.
            let old: Vec<DeviceApp> = states.drain(..).map(|s| DeviceApp { status: "gone".into(), ..s }).collect();
            if !old.is_empty() {
                self.apps.put_device_apps(old, Vec::new()).await?;
            }
        }
        // A command that left the queue unanswered (cancelled by a re-enrollment or CheckOut)
        // leaves its row pending or removing: such rows are planned again.
        let active = if states.iter().any(|s| s.command_uuid.is_some()) { self.apps.active_commands(ctx.enrollment.id.clone()).await? } else { Vec::new() };
        let stalled =
            |s: &DeviceApp| s.command_uuid.as_ref().is_some_and(|c| !active.contains(c)) && (s.status == status::PENDING || s.status == status::REMOVING);
        let secrets = self.open_secrets().await?;
        let mut plan = Plan::default();
        for id in &wanted {
            let Some(app) = self.apps.app(id.clone()).await? else { continue };
            let s = states.iter().find(|s| &s.app_id == id);
            let step = match s {
                None => Some(Step::Install { reinstalls: 0, event: None }),
                Some(s) if s.status == status::FAILED || s.status == status::REMOVING || stalled(s) => {
                    Some(Step::Install { reinstalls: s.reinstalls, event: None })
                }
                Some(s) if s.config_version < app.config_version && s.status == status::INSTALLED => Some(Step::Configure { reinstalls: s.reinstalls }),
                Some(s) if s.config_version < app.config_version => Some(Step::Install { reinstalls: s.reinstalls, event: None }),
                Some(_) => None,
            };
            if let Some(step) = step {
                self.plan(&mut plan, &mut out, &ctx, &app, step, &secrets)?;
            }
        }
        // An app the device never confirmed installing is forgotten, not removed.
        let mut unwanted = Vec::new();
        let mut gone = Vec::new();
        for s in states.iter().filter(|s| !wanted.contains(&s.app_id) && (s.status != status::REMOVING || stalled(s))) {
            if s.status == status::FAILED && !self.apps.app_was_installed(s.enrollment_id.clone(), s.app_id.clone()).await? {
                gone.push(DeviceApp { status: "gone".into(), ..s.clone() });
            } else {
                unwanted.push(s);
            }
        }
        if !gone.is_empty() {
            self.apps.put_device_apps(gone, Vec::new()).await?;
        }
        for s in unwanted {
            let app = match self.apps.app(s.app_id.clone()).await? {
                Some(a) => a,
                // Deleted from the catalogue: remove by the bundle id it was installed with.
                None => AppRow { bundle_id: s.bundle_id.clone(), ..placeholder(&s.app_id) },
            };
            self.plan(&mut plan, &mut out, &ctx, &app, Step::Remove, &secrets)?;
        }
        self.apply(plan).await?;
        Ok(out)
    }

    /// Whether the configuration of any of `app_ids` references `{var}`.
    async fn any_uses(&self, app_ids: &[String], var: &str) -> Result<bool, AppError> {
        for id in app_ids {
            let Some(app) = self.apps.app(id.clone()).await? else { continue };
            let (_, cfg) = AppService::parts(&app)?;
            if mdm_profiles::vars::references(&plist::Value::Dictionary(appconfig::to_dict(&cfg)), "").iter().any(|(_, n)| n == var) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Makes a device's first kiosk token (sealed) unless it has one.
    async fn issue_first_kiosk(&self, device_id: &str) -> Result<(), AppError> {
        let (hash, sealed) = crate::shared::kiosk::mint(self.vault()?, device_id).map_err(|e| AppError::Internal(e.to_string()))?;
        self.shared.issue_first_kiosk(device_id.to_string(), hash, sealed).await?;
        Ok(())
    }

    /// A shared device changed hands: configurations that depend on the user (or carry the
    /// kiosk token, rotated at check-in) are sent again, then the device is synced.
    pub async fn sync_device_for_user(&self, device_id: &str) -> Result<AppSync, AppError> {
        let states = self.apps.device_apps(device_id.to_string()).await?;
        let mut stale = Vec::new();
        for s in states.iter().filter(|s| s.status == status::INSTALLED || s.status == status::PENDING) {
            let Some(app) = self.apps.app(s.app_id.clone()).await? else { continue };
            let (_, cfg) = AppService::parts(&app)?;
            let refs = mdm_profiles::vars::references(&plist::Value::Dictionary(appconfig::to_dict(&cfg)), "");
            if refs.iter().any(|(_, n)| mdm_profiles::vars::USER_DEPENDENT.contains(&n.as_str()) || n == appconfig::KIOSK_TOKEN) {
                stale.push(app.id);
            }
        }
        if !stale.is_empty() {
            self.apps.mark_apps_stale(device_id.to_string(), stale).await?;
        }
        self.sync_device(device_id, Holds::AsRecorded).await
    }

    /// Clears an app's data on a device: RemoveApplication then InstallApplication, queued
    /// together (the CommandUUIDs marked `mark`). Returns the install's CommandUUID, or `None`
    /// when the app is not on the device.
    pub async fn clear_data(&self, device_id: &str, app_id: &str, mark: &'static str) -> Result<Option<String>, AppError> {
        let states = self.apps.device_apps(device_id.to_string()).await?;
        let Some(s) = states.iter().find(|s| s.app_id == app_id && (s.status == status::INSTALLED || s.status == status::PENDING)) else { return Ok(None) };
        let Some(app) = self.apps.app(app_id.to_string()).await? else { return Ok(None) };
        let Some(ctx) = self.library.device_contexts(vec![device_id.to_string()]).await?.into_iter().next() else { return Ok(None) };
        let secrets = self.open_secrets().await?;
        let mut plan = Plan { mark, ..Plan::default() };
        let mut out = AppSync::default();
        self.plan(&mut plan, &mut out, &ctx, &app, Step::Remove, &secrets)?;
        self.plan(&mut plan, &mut out, &ctx, &app, Step::Install { reinstalls: s.reinstalls, event: None }, &secrets)?;
        let install = plan.work.commands.iter().rev().find(|c| c.uuid.starts_with(INSTALL_PREFIX)).map(|c| c.uuid.clone());
        if let Some((_, why)) = out.failed.first() {
            return Err(AppError::BadRequest(format!("{} cannot be installed again: {why}", app.bundle_id)));
        }
        self.apply(plan).await?;
        Ok(install)
    }

    /// Syncs every device an app is assigned to or present on.
    pub async fn sync_app(&self, app_id: &str) -> Result<AppSync, AppError> {
        let mut devices = self.assignments.assigned_devices(Subject::App(app_id.to_string())).await?;
        let states = self.apps.app_states(app_id.to_string()).await?;
        devices.extend(states.into_iter().map(|s| s.enrollment_id));
        devices.sort();
        devices.dedup();
        let mut out = AppSync::default();
        for d in devices {
            out.merge(self.sync_device(&d, Holds::AsRecorded).await?);
        }
        Ok(out)
    }

    /// Assigns an app to devices and groups and syncs the devices concerned. Returns the
    /// devices and groups that do not exist (not assigned).
    pub async fn assign(&self, app_id: &str, devices: Vec<String>, groups: Vec<String>) -> Result<(Vec<String>, Vec<String>, AppSync), AppError> {
        self.change_assignments(app_id, devices, groups, Change::Assign).await
    }

    /// Drops an app's assignments to devices and groups and syncs the devices concerned.
    /// Returns the devices and groups that do not exist.
    pub async fn unassign(&self, app_id: &str, devices: Vec<String>, groups: Vec<String>) -> Result<(Vec<String>, Vec<String>, AppSync), AppError> {
        self.change_assignments(app_id, devices, groups, Change::Unassign).await
    }

    async fn change_assignments(
        &self,
        app_id: &str,
        devices: Vec<String>,
        groups: Vec<String>,
        change: Change,
    ) -> Result<(Vec<String>, Vec<String>, AppSync), AppError> {
        let app = self.apps.app(app_id.to_string()).await?.ok_or_else(|| AppError::NotFound(format!("no app {app_id}")))?;
        let subject = || Subject::App(app.id.clone());
        let before = self.assignments.assigned_devices(subject()).await?;
        let (unknown_devices, unknown_groups) = match change {
            Change::Assign => {
                (self.assignments.assign(subject(), TargetKind::Device, devices).await?, self.assignments.assign(subject(), TargetKind::Group, groups).await?)
            }
            Change::Unassign => (
                self.assignments.unassign(subject(), TargetKind::Device, devices).await?,
                self.assignments.unassign(subject(), TargetKind::Group, groups).await?,
            ),
        };
        let mut affected = self.assignments.assigned_devices(subject()).await?;
        affected.extend(before);
        affected.sort();
        affected.dedup();
        let mut out = AppSync::default();
        for d in affected {
            out.merge(self.sync_device(&d, Holds::AsRecorded).await?);
        }
        Ok((unknown_devices, unknown_groups, out))
    }

    /// Queues a ManagedApplicationList: a required app missing from it is installed again.
    pub async fn check(&self, enrollment_id: &str) -> Result<bool, AppError> {
        let c = command(LIST_PREFIX, commands::managed_list())?;
        let rows = vec![(enrollment_id.to_string(), c.uuid.clone())];
        let out = self.queue.enqueue(crate::queue::Enqueue::new(vec![c], rows)).await?;
        Ok(!out.queued.is_empty())
    }

    /// One audit pass: a ManagedApplicationList for every enrollment whose installed apps were
    /// not checked for `interval` (at most `limit`); returns how many were queued.
    pub async fn audit_once(&self, interval: std::time::Duration, limit: i64) -> Result<usize, AppError> {
        let cutoff = now() - chrono::Duration::from_std(interval).unwrap_or(chrono::Duration::days(1));
        let mut n = 0;
        for e in self.apps.claim_app_audits(cutoff, limit, LIST_PREFIX).await? {
            if self.check(&e).await? {
                n += 1;
            }
        }
        if n > 0 {
            tracing::info!(enrollments = n, "app audit: ManagedApplicationList queued");
        }
        Ok(n)
    }

    /// Runs audit passes forever, a few per interval (the server spawns this).
    pub async fn run_audits(self, interval: std::time::Duration) {
        crate::service::periodic::every(interval, "app audit", |i| self.audit_once(i, 1000)).await
    }

    /// Re-installs a required app that disappeared (the answer handler found it missing).
    pub(crate) async fn reinstall(&self, ctx: &DeviceContext, app: &AppRow, state: &DeviceApp, why: String) -> Result<(), AppError> {
        let secrets = self.open_secrets().await?;
        let mut plan = Plan::default();
        let mut out = AppSync::default();
        plan.work.events.push((ctx.enrollment.id.clone(), app.id.clone(), "missing".into(), Some(why)));
        self.plan(
            &mut plan,
            &mut out,
            ctx,
            app,
            Step::Install {
                reinstalls: state.reinstalls + 1,
                event: Some(("reinstall".into(), format!("InstallApplication sent again (re-install {})", state.reinstalls + 1))),
            },
            &secrets,
        )?;
        self.apply(plan).await
    }
}

/// A stand-in record for an app no longer in the catalogue.
fn placeholder(id: &str) -> AppRow {
    let at = now();
    AppRow {
        id: id.to_string(),
        name: String::new(),
        bundle_id: String::new(),
        itunes_store_id: None,
        manifest_url: None,
        management_flags: 0,
        attributes: None,
        config: None,
        preset: None,
        required: false,
        config_version: 0,
        created_at: at,
        updated_at: at,
    }
}
