//! The profile library at work: stores versions, works out which enrollment should have which
//! profile, queues InstallProfile/RemoveProfile per device, and follows each one through
//! pending → installed → verified (seen in ProfileList), re-sending a profile that disappeared.

use std::collections::HashMap;
use std::sync::Arc;

use crate::protocol::command::envelope_with_uuid;
use crate::protocol::report::{error_text, Status};
use crate::queue::{Enqueue, Queue};
use crate::store::assignments::{Holds, Subject, SubjectKind, TargetKind};
use crate::store::library::{self, DeviceContext, ProfileWork};
use crate::store::models::{Command, DeviceProfile, ProfileRow, ProfileVersion};
use crate::store::{now, Store, StoreError};

use super::input::Submitted;
use super::render::Sealer;

/// CommandUUID prefix of the InstallProfile commands the library sends.
pub const INSTALL_PREFIX: &str = "profile-install-";
/// CommandUUID prefix of the RemoveProfile commands the library sends.
pub const REMOVE_PREFIX: &str = "profile-remove-";
/// CommandUUID prefix of the ProfileList checks the library sends.
pub const CHECK_PREFIX: &str = "profile-list-";

/// Install states.
pub mod status {
    /// InstallProfile queued.
    pub const PENDING: &str = "pending";
    /// The device acknowledged InstallProfile.
    pub const INSTALLED: &str = "installed";
    /// ProfileList shows it, with this version's PayloadUUID.
    pub const VERIFIED: &str = "verified";
    /// Could not be prepared, or the device refused it.
    pub const FAILED: &str = "failed";
    /// RemoveProfile queued.
    pub const REMOVING: &str = "removing";
}

/// Why a library operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// Storage failed or refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The request contradicts the stored profile.
    #[error("{0}")]
    Conflict(String),
    /// A stored version could not be read back.
    #[error("stored profile {0} is unreadable: {1}")]
    Corrupt(String, String),
}

/// What a sync did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ProfileSync {
    /// Enrollments an InstallProfile was queued for.
    pub installing: Vec<String>,
    /// Enrollments a RemoveProfile was queued for.
    pub removing: Vec<String>,
    /// Enrollments the profile could not be prepared for, with the reason.
    pub failed: Vec<(String, String)>,
}

impl ProfileSync {
    /// Adds another outcome's lists to this one.
    pub fn merge(&mut self, other: ProfileSync) {
        self.installing.extend(other.installing);
        self.removing.extend(other.removing);
        self.failed.extend(other.failed);
    }
}

/// One profile version ready to render: its row and parsed dictionary.
#[derive(Debug, Clone)]
struct Template {
    row: ProfileRow,
    payload_uuid: String,
    dict: plist::Dictionary,
}

/// The profile library service. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ProfileLibrary {
    /// The profile library tables.
    library: crate::store::library::LibraryStore,
    /// Assignments to devices and groups.
    assignments: crate::store::assignments::AssignmentStore,
    sealer: Arc<Sealer>,
    queue: Queue,
}

fn new_uuid(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4())
}

fn state(ctx_enrollment: &str, t: &Template, status: &str, command: Option<String>, detail: Option<String>, reinstalls: i32) -> DeviceProfile {
    DeviceProfile {
        enrollment_id: ctx_enrollment.to_string(),
        profile_id: t.row.id.clone(),
        identifier: t.row.identifier.clone(),
        version: t.row.version,
        payload_uuid: t.payload_uuid.clone(),
        status: status.to_string(),
        command_uuid: command,
        detail,
        reinstalls,
        updated_at: now(),
        checked_at: None,
    }
}

fn command(uuid: String, request_type: &str, keys: plist::Dictionary) -> Result<Command, String> {
    let mut c = plist::Dictionary::new();
    c.insert("RequestType".into(), plist::Value::String(request_type.to_string()));
    for (k, v) in keys {
        c.insert(k, v);
    }
    Ok(envelope_with_uuid(uuid, c).map_err(|e| e.to_string())?.into())
}

impl ProfileLibrary {
    /// Builds the service.
    pub fn new(store: Store, sealer: Sealer, queue: Queue) -> ProfileLibrary {
        ProfileLibrary { library: store.library(), assignments: store.assignments(), sealer: Arc::new(sealer), queue }
    }

    /// The signing/encryption settings.
    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    /// Signs stored profile bytes with the server's signing identity (for downloads).
    pub fn sign_bytes(&self, xml: &[u8]) -> Result<Vec<u8>, LibraryError> {
        self.sealer.sign_only(xml).map_err(|e| LibraryError::Conflict(e.to_string()))
    }

    /// Stores a new profile (version 1).
    pub async fn create(&self, sub: Submitted) -> Result<ProfileRow, LibraryError> {
        let at = now();
        let id = uuid::Uuid::new_v4().to_string();
        let payload_uuid = top_uuid(&sub.dict);
        let row = ProfileRow { id: id.clone(), identifier: sub.identifier.clone(), name: sub.name.clone(), version: 1, created_at: at, updated_at: at };
        let version = ProfileVersion {
            profile_id: id,
            version: 1,
            payload_uuid,
            body: to_xml(&sub.dict)?,
            source: sub.source.to_string(),
            signer: sub.signer.clone(),
            created_at: at,
        };
        self.library.create_profile(row.clone(), version).await?;
        tracing::info!(profile = %row.id, identifier = %row.identifier, "profile created");
        Ok(row)
    }

    /// Stores a new version and rolls it out to every device the profile is assigned to. The
    /// PayloadIdentifier cannot change; a new version gets a new top-level PayloadUUID so the
    /// server can tell the versions apart in ProfileList.
    pub async fn update(&self, id: &str, mut sub: Submitted) -> Result<(ProfileRow, ProfileSync), LibraryError> {
        let current = self.library.profile(id.to_string()).await?.ok_or_else(|| StoreError::NotFound(format!("no profile {id}")))?;
        if current.identifier != sub.identifier {
            return Err(LibraryError::Conflict(format!(
                "PayloadIdentifier cannot change (devices know the profile as {}); create a new profile instead",
                current.identifier
            )));
        }
        let previous = self.library.profile_version(id.to_string(), current.version).await?;
        let mut payload_uuid = top_uuid(&sub.dict);
        if previous.as_ref().is_some_and(|p| p.payload_uuid == payload_uuid) {
            payload_uuid = uuid::Uuid::new_v4().to_string().to_uppercase();
            sub.dict.insert("PayloadUUID".into(), plist::Value::String(payload_uuid.clone()));
        }
        let version = ProfileVersion {
            profile_id: id.to_string(),
            version: 0,
            payload_uuid,
            body: to_xml(&sub.dict)?,
            source: sub.source.to_string(),
            signer: sub.signer.clone(),
            created_at: now(),
        };
        let row = self.library.add_profile_version(id.to_string(), sub.name.clone(), version).await?;
        tracing::info!(profile = %id, version = row.version, "profile updated");
        let sync = self.sync_profile(id).await?;
        Ok((row, sync))
    }

    /// Removes the profile from every device that has it, then deletes it from the library.
    pub async fn delete(&self, id: &str) -> Result<Option<ProfileSync>, LibraryError> {
        if self.library.profile(id.to_string()).await?.is_none() {
            return Ok(None);
        }
        let states = self.library.profile_states(id.to_string()).await?;
        let out = self.queue_removals(states).await?;
        self.library.delete_profile(id.to_string()).await?;
        tracing::info!(profile = %id, removing = out.removing.len(), "profile deleted");
        Ok(Some(out))
    }

    /// Assigns to devices and groups, then installs where needed. Returns unknown devices and
    /// groups (not assigned) and what the sync did.
    pub async fn assign(&self, id: &str, devices: Vec<String>, groups: Vec<String>) -> Result<(Vec<String>, Vec<String>, ProfileSync), LibraryError> {
        let unknown_devices = self.assignments.assign(Subject::Profile(id.to_string()), TargetKind::Device, devices).await?;
        let unknown_groups = self.assignments.assign(Subject::Profile(id.to_string()), TargetKind::Group, groups).await?;
        let sync = self.sync_profile(id).await?;
        Ok((unknown_devices, unknown_groups, sync))
    }

    /// Drops assignments, then removes the profile where it is no longer wanted.
    pub async fn unassign(&self, id: &str, devices: Vec<String>, groups: Vec<String>) -> Result<ProfileSync, LibraryError> {
        self.assignments.unassign(Subject::Profile(id.to_string()), TargetKind::Device, devices).await?;
        self.assignments.unassign(Subject::Profile(id.to_string()), TargetKind::Group, groups).await?;
        self.sync_profile(id).await
    }

    /// Brings one profile's install state in line with its assignments: installs where it is
    /// missing, outdated or failed; removes where it is no longer assigned.
    pub async fn sync_profile(&self, id: &str) -> Result<ProfileSync, LibraryError> {
        let Some(t) = self.template(id).await? else {
            return Err(StoreError::NotFound(format!("no profile {id}")).into());
        };
        let wanted = self.assignments.assigned_devices(Subject::Profile(id.to_string())).await?;
        let states = self.library.profile_states(id.to_string()).await?;
        let by_enrollment: HashMap<&str, &DeviceProfile> = states.iter().map(|s| (s.enrollment_id.as_str(), s)).collect();
        let contexts = self.library.device_contexts(wanted).await?;
        let wanted_ids: std::collections::HashSet<&str> = contexts.iter().map(|c| c.enrollment.id.as_str()).collect();
        let installs: Vec<(DeviceContext, i32)> = contexts
            .iter()
            .filter_map(|c| {
                let s = by_enrollment.get(c.enrollment.id.as_str());
                needs_install(s.copied(), &t).then(|| (c.clone(), s.map(|s| s.reinstalls).unwrap_or(0)))
            })
            .collect();
        let removals: Vec<DeviceProfile> =
            states.iter().filter(|s| !wanted_ids.contains(s.enrollment_id.as_str()) && s.status != status::REMOVING).cloned().collect();
        let mut out = self.queue_installs(&t, installs).await?;
        out.merge(self.queue_removals(removals).await?);
        Ok(out)
    }

    /// Brings one device's profiles in line with its assignments (after group changes or
    /// enrollment); `holds` says what the device is taken to have.
    pub async fn sync_device(&self, device_id: &str, holds: Holds) -> Result<ProfileSync, LibraryError> {
        self.sync_device_with(device_id, holds, false).await
    }

    /// Like [`ProfileLibrary::sync_device`] for a shared device that changed hands: profiles
    /// whose content depends on the user (`{EnrollmentUser}`, `{SharedUser}` …) are sent again
    /// for the new user, profiles held only while checked out are installed or removed.
    pub async fn sync_device_for_user(&self, device_id: &str) -> Result<ProfileSync, LibraryError> {
        self.sync_device_with(device_id, Holds::AsRecorded, true).await
    }

    async fn sync_device_with(&self, device_id: &str, holds: Holds, user_changed: bool) -> Result<ProfileSync, LibraryError> {
        let wanted = self.assignments.assigned_to_device(SubjectKind::Profile, device_id.to_string()).await?;
        // The device channel's enrollment id is the device id.
        let states = self.library.enrollment_profiles(device_id.to_string()).await?;
        if wanted.is_empty() && states.is_empty() {
            return Ok(ProfileSync::default());
        }
        let contexts = self.library.device_contexts(vec![device_id.to_string()]).await?;
        let Some(ctx) = contexts.into_iter().next() else {
            return Ok(ProfileSync::default());
        };
        let mut out = ProfileSync::default();
        for id in &wanted {
            let Some(t) = self.template(id).await? else { continue };
            let s = states.iter().find(|s| &s.profile_id == id);
            let reinstalls = s.map(|s| s.reinstalls).unwrap_or(0);
            let refresh = user_changed && s.is_some_and(|s| s.status != status::FAILED) && depends_on_user(&t.dict);
            if holds == Holds::Nothing || refresh || needs_install(s, &t) {
                out.merge(self.queue_installs(&t, vec![(ctx.clone(), reinstalls)]).await?);
            }
        }
        let unwanted = states.into_iter().filter(|s| !wanted.contains(&s.profile_id));
        if holds == Holds::Nothing {
            // A new enrollment has none of the old ones: forget them.
            for s in unwanted {
                self.library.delete_device_profile(s.enrollment_id, s.profile_id).await?;
            }
        } else {
            let removals: Vec<DeviceProfile> = unwanted.filter(|s| s.status != status::REMOVING).collect();
            out.merge(self.queue_removals(removals).await?);
        }
        Ok(out)
    }

    /// Loads the current version of a profile, parsed.
    async fn template(&self, id: &str) -> Result<Option<Template>, LibraryError> {
        let Some(row) = self.library.profile(id.to_string()).await? else { return Ok(None) };
        let Some(v) = self.library.profile_version(id.to_string(), row.version).await? else {
            return Err(LibraryError::Corrupt(id.to_string(), format!("version {} is missing", row.version)));
        };
        let dict = match mdm_profiles::limits::parse_plist(&v.body) {
            Ok(plist::Value::Dictionary(d)) => d,
            Ok(_) => return Err(LibraryError::Corrupt(id.to_string(), "not a dictionary".into())),
            Err(e) => return Err(LibraryError::Corrupt(id.to_string(), e.to_string())),
        };
        Ok(Some(Template { row, payload_uuid: v.payload_uuid, dict }))
    }

    /// Renders `t` for each device (in parallel, off the async threads) and queues the
    /// InstallProfile commands with their pending state; devices it cannot be rendered for are
    /// marked failed with the reason.
    async fn queue_installs(&self, t: &Template, targets: Vec<(DeviceContext, i32)>) -> Result<ProfileSync, LibraryError> {
        if targets.is_empty() {
            return Ok(ProfileSync::default());
        }
        let rendered = render_all(self.sealer.clone(), t.dict.clone(), targets).await;
        let mut work = ProfileWork::default();
        let mut failed_states = Vec::new();
        let mut out = ProfileSync::default();
        for (ctx, reinstalls, result) in rendered {
            let enrollment = ctx.enrollment.id.clone();
            let cmd = result.map_err(|e| e.to_string()).and_then(|payload| {
                let mut keys = plist::Dictionary::new();
                keys.insert("Payload".into(), plist::Value::Data(payload));
                command(new_uuid(INSTALL_PREFIX), "InstallProfile", keys)
            });
            match cmd {
                Ok(c) => {
                    work.rows.push((enrollment.clone(), c.uuid.clone()));
                    work.states.push(state(&enrollment, t, status::PENDING, Some(c.uuid.clone()), None, reinstalls));
                    work.commands.push(c);
                }
                Err(why) => {
                    tracing::warn!(enrollment = %enrollment, profile = %t.row.id, reason = %why, "profile not sent");
                    failed_states.push(state(&enrollment, t, status::FAILED, None, Some(why.clone()), reinstalls));
                    out.failed.push((enrollment, why));
                }
            }
        }
        if !failed_states.is_empty() {
            self.library.put_device_profiles(failed_states).await?;
        }
        if !work.commands.is_empty() {
            let queued = self.queue.write(move |tx| library::queue_profile_work(tx, work)).await?;
            out.installing = queued.queued;
        }
        Ok(out)
    }

    /// Queues RemoveProfile for each state row and marks it removing.
    async fn queue_removals(&self, states: Vec<DeviceProfile>) -> Result<ProfileSync, LibraryError> {
        let mut work = ProfileWork::default();
        let mut gone = Vec::new();
        for s in states {
            if s.status == status::FAILED && s.command_uuid.is_none() {
                // Never reached the device: nothing to remove.
                gone.push(s);
                continue;
            }
            let mut keys = plist::Dictionary::new();
            keys.insert("Identifier".into(), plist::Value::String(s.identifier.clone()));
            let c = command(new_uuid(REMOVE_PREFIX), "RemoveProfile", keys).map_err(|e| LibraryError::Corrupt(s.profile_id.clone(), e))?;
            work.rows.push((s.enrollment_id.clone(), c.uuid.clone()));
            work.states.push(DeviceProfile { status: status::REMOVING.into(), command_uuid: Some(c.uuid.clone()), detail: None, updated_at: now(), ..s });
            work.commands.push(c);
        }
        for s in gone {
            self.library.delete_device_profile(s.enrollment_id, s.profile_id).await?;
        }
        let mut out = ProfileSync::default();
        if !work.commands.is_empty() {
            let queued = self.queue.write(move |tx| library::queue_profile_work(tx, work)).await?;
            out.removing = queued.queued;
        }
        Ok(out)
    }

    /// Queues a ProfileList for an enrollment so the server can verify what it has.
    pub async fn queue_check(&self, enrollment_id: &str) -> Result<bool, LibraryError> {
        let c = command(new_uuid(CHECK_PREFIX), "ProfileList", plist::Dictionary::new()).map_err(|e| LibraryError::Corrupt("ProfileList".into(), e))?;
        let rows = vec![(enrollment_id.to_string(), c.uuid.clone())];
        let out = self.queue.enqueue(Enqueue::new(vec![c], rows)).await?;
        Ok(!out.queued.is_empty())
    }

    /// One audit pass: queues a ProfileList for every enrollment whose installed profiles have
    /// not been checked for `interval` (at most `limit` per pass); returns how many. Replicas
    /// claim enrollments by moving their check time, so each is audited once.
    pub async fn audit_once(&self, interval: std::time::Duration, limit: i64) -> Result<usize, LibraryError> {
        let cutoff = now() - chrono::Duration::from_std(interval).unwrap_or(chrono::Duration::days(1));
        let due = self.library.claim_profile_audits(cutoff, limit, CHECK_PREFIX).await?;
        let mut n = 0;
        for e in &due {
            if self.queue_check(e).await? {
                n += 1;
            }
        }
        if n > 0 {
            tracing::info!(enrollments = n, "profile audit: ProfileList queued");
        }
        Ok(n)
    }

    /// Runs audit passes forever, a few per interval (the server spawns this).
    pub async fn run_audits(self, interval: std::time::Duration) {
        crate::service::periodic::every(interval, "profile audit", |i| self.audit_once(i, 1000)).await
    }

    /// Follows up a device's answer to one of the library's commands, or to any ProfileList.
    pub async fn on_answer(&self, enrollment_id: &str, command_uuid: &str, st: Status, report: &plist::Dictionary) -> Result<(), LibraryError> {
        if let Some(plist::Value::Array(list)) = report.get("ProfileList") {
            if st == Status::Acknowledged {
                return self.reconcile_list(enrollment_id, list).await;
            }
        }
        if !(command_uuid.starts_with(INSTALL_PREFIX) || command_uuid.starts_with(REMOVE_PREFIX)) {
            return Ok(());
        }
        let Some(row) = self.library.device_profile_by_command(enrollment_id.to_string(), command_uuid.to_string()).await? else {
            return Ok(());
        };
        let removing = command_uuid.starts_with(REMOVE_PREFIX);
        match (removing, st) {
            (false, Status::Acknowledged) => {
                self.library.put_device_profiles(vec![DeviceProfile { status: status::INSTALLED.into(), detail: None, updated_at: now(), ..row }]).await?;
                // Verify once nothing else is pending for this enrollment.
                let states = self.library.enrollment_profiles(enrollment_id.to_string()).await?;
                if !states.iter().any(|s| s.status == status::PENDING) {
                    self.queue_check(enrollment_id).await?;
                }
            }
            (true, Status::Acknowledged) => {
                self.library.delete_device_profile(row.enrollment_id, row.profile_id).await?;
            }
            (_, _) => {
                let why = error_text(report);
                let what = if removing { "removal failed" } else { "install failed" };
                tracing::warn!(enrollment = %enrollment_id, command_uuid = %command_uuid, reason = %why, "profile {what}");
                self.library
                    .put_device_profiles(vec![DeviceProfile {
                        status: status::FAILED.into(),
                        detail: Some(format!("{what}: {why}")),
                        updated_at: now(),
                        ..row
                    }])
                    .await?;
            }
        }
        Ok(())
    }

    /// Compares a ProfileList with the install state: installed profiles that show up with this
    /// version's PayloadUUID become verified; ones that are missing (or show another version) are
    /// re-sent; removals that no longer show up are done.
    async fn reconcile_list(&self, enrollment_id: &str, list: &[plist::Value]) -> Result<(), LibraryError> {
        let on_device: HashMap<String, String> = list
            .iter()
            .filter_map(|p| p.as_dictionary())
            .filter_map(|d| {
                let id = d.get("PayloadIdentifier")?.as_string()?.to_string();
                let uuid = d.get("PayloadUUID").and_then(|v| v.as_string()).unwrap_or("").to_string();
                Some((id, uuid))
            })
            .collect();
        let states = self.library.enrollment_profiles(enrollment_id.to_string()).await?;
        if states.is_empty() {
            // Nothing of the library's is on this enrollment: nothing to verify or to re-send.
            return Ok(());
        }
        self.library.profiles_checked(enrollment_id.to_string()).await?;
        let mut updates = Vec::new();
        let mut drifted = Vec::new();
        for s in states {
            let seen = on_device.get(&s.identifier);
            match s.status.as_str() {
                status::INSTALLED | status::VERIFIED => match seen {
                    Some(u) if u.eq_ignore_ascii_case(&s.payload_uuid) => {
                        if s.status != status::VERIFIED {
                            updates.push(DeviceProfile { status: status::VERIFIED.into(), detail: None, updated_at: now(), ..s });
                        }
                    }
                    other => {
                        let why = if other.is_some() { "another version is on the device" } else { "missing from the device's ProfileList" };
                        tracing::warn!(enrollment = %enrollment_id, profile = %s.profile_id, reason = why, "profile drifted; re-sending");
                        drifted.push((s, why));
                    }
                },
                status::REMOVING if seen.is_none() => {
                    self.library.delete_device_profile(s.enrollment_id.clone(), s.profile_id.clone()).await?;
                }
                _ => {}
            }
        }
        if !updates.is_empty() {
            self.library.put_device_profiles(updates).await?;
        }
        if drifted.is_empty() {
            return Ok(());
        }
        let contexts = self.library.device_contexts(vec![enrollment_device(enrollment_id)]).await?;
        let Some(ctx) = contexts.into_iter().find(|c| c.enrollment.id == enrollment_id) else { return Ok(()) };
        for (s, why) in drifted {
            let Some(t) = self.template(&s.profile_id).await? else { continue };
            let ctx = ctx.clone();
            let out = self.queue_installs(&t, vec![(ctx, s.reinstalls + 1)]).await?;
            if !out.installing.is_empty() {
                tracing::info!(enrollment = %enrollment_id, profile = %s.profile_id, reason = why, "profile re-sent");
            }
        }
        Ok(())
    }
}

/// The device id of a device-channel enrollment (its id) or a user channel (`UDID:UserID`).
fn enrollment_device(enrollment_id: &str) -> String {
    enrollment_id.split(':').next().unwrap_or(enrollment_id).to_string()
}

/// Whether a device with state `s` should be sent `t`.
fn needs_install(s: Option<&DeviceProfile>, t: &Template) -> bool {
    match s {
        None => true,
        Some(s) => s.version != t.row.version || s.status == status::FAILED || s.status == status::REMOVING,
    }
}

fn top_uuid(dict: &plist::Dictionary) -> String {
    dict.get("PayloadUUID").and_then(|v| v.as_string()).unwrap_or("").to_string()
}

fn to_xml(dict: &plist::Dictionary) -> Result<Vec<u8>, LibraryError> {
    mdm_profiles::profile::to_xml(&plist::Value::Dictionary(dict.clone())).map_err(|e| LibraryError::Corrupt("new".into(), e.to_string()))
}

/// Renders for every target, split over the machine's cores on blocking threads.
/// Whether a profile's content refers to the device's user.
fn depends_on_user(dict: &plist::Dictionary) -> bool {
    mdm_profiles::vars::references(&plist::Value::Dictionary(dict.clone()), "").iter().any(|(_, n)| mdm_profiles::vars::USER_DEPENDENT.contains(&n.as_str()))
}

async fn render_all(
    sealer: Arc<Sealer>,
    dict: plist::Dictionary,
    targets: Vec<(DeviceContext, i32)>,
) -> Vec<(DeviceContext, i32, Result<Vec<u8>, super::render::RenderError>)> {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let per = targets.len().div_ceil(cores).max(1);
    let dict = Arc::new(dict);
    let mut chunks = Vec::new();
    let mut rest = targets.into_iter().peekable();
    while rest.peek().is_some() {
        let chunk: Vec<_> = rest.by_ref().take(per).collect();
        let (sealer, dict) = (sealer.clone(), dict.clone());
        chunks.push(tokio::task::spawn_blocking(move || {
            chunk
                .into_iter()
                .map(|(ctx, n)| {
                    let r = sealer.render(&dict, &ctx);
                    (ctx, n, r)
                })
                .collect::<Vec<_>>()
        }));
    }
    let mut out = Vec::new();
    for c in chunks {
        match c.await {
            Ok(v) => out.extend(v),
            Err(e) => tracing::error!(error = %e, "profile rendering task failed"),
        }
    }
    out
}
