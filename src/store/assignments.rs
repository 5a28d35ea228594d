//! Assignments of profiles and apps to devices and groups: one implementation for both tables
//! (`profile_assignments`, `app_assignments`, the same shape), so both behave the same way:
//! targets are checked inside the transaction that assigns them, in one query per kind.

use diesel::prelude::*;

use super::schema::{app_assignments, apps, device_groups, devices, group_members, profile_assignments, profiles};
use super::{now, planned_per_call, write_tx, DbConn, Store, StoreError, StoreResult};

/// Assignment target kind as stored: a device.
pub const TARGET_DEVICE: &str = "device";
/// Assignment target kind as stored: a group.
pub const TARGET_GROUP: &str = "group";

/// What a device is taken to hold when its assignments are brought in line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    /// Nothing: it has just enrolled, so every assigned item is sent.
    Nothing,
    /// What its install-state rows record.
    AsRecorded,
}

/// What is assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A profile of the library, by id.
    Profile(String),
    /// A managed app, by id.
    App(String),
}

/// Which kind of thing is assigned (for the per-device question).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectKind {
    /// Profiles.
    Profile,
    /// Apps.
    App,
}

/// What an assignment names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// One device, by id.
    Device,
    /// Every member of a device group, by name.
    Group,
}

impl TargetKind {
    /// The stored spelling.
    pub const fn as_sql(self) -> &'static str {
        match self {
            TargetKind::Device => TARGET_DEVICE,
            TargetKind::Group => TARGET_GROUP,
        }
    }
}

/// Runs `$body` with `$t` bound to the assignment table of `$subject`'s kind and `$id` to the
/// column naming the subject. A macro because diesel's tables are distinct types.
macro_rules! on_table {
    ($kind:expr, |$t:ident, $id:ident| $body:expr) => {
        match $kind {
            SubjectKind::Profile => {
                use profile_assignments as $t;
                let $id = profile_assignments::profile_id;
                $body
            }
            SubjectKind::App => {
                use app_assignments as $t;
                let $id = app_assignments::app_id;
                $body
            }
        }
    };
}

impl Subject {
    fn kind(&self) -> SubjectKind {
        match self {
            Subject::Profile(_) => SubjectKind::Profile,
            Subject::App(_) => SubjectKind::App,
        }
    }

    fn id(&self) -> &str {
        match self {
            Subject::Profile(id) | Subject::App(id) => id,
        }
    }

    /// `Err(NotFound)` unless the subject exists.
    fn check_exists(&self, conn: &mut DbConn) -> StoreResult<()> {
        let n: i64 = match self {
            Subject::Profile(id) => profiles::table.filter(profiles::id.eq(id)).count().get_result(conn)?,
            Subject::App(id) => apps::table.filter(apps::id.eq(id)).count().get_result(conn)?,
        };
        let what = match self.kind() {
            SubjectKind::Profile => "profile",
            SubjectKind::App => "app",
        };
        if n == 0 {
            Err(StoreError::NotFound(format!("no {what} {}", self.id())))
        } else {
            Ok(())
        }
    }
}

/// The targets of `kind` among `targets` that exist (devices seen, groups created).
fn existing(conn: &mut DbConn, kind: TargetKind, targets: &[String]) -> StoreResult<Vec<String>> {
    Ok(match kind {
        TargetKind::Group => {
            device_groups::table.filter(device_groups::name.eq_any(targets)).filter(planned_per_call()).select(device_groups::name).load(conn)?
        }
        TargetKind::Device => devices::table.filter(devices::id.eq_any(targets)).filter(planned_per_call()).select(devices::id).load(conn)?,
    })
}

/// The devices that (kind, target) assignment rows reach: devices named directly and the
/// members of groups named, each once, sorted.
fn targets_to_devices(conn: &mut DbConn, rows: &[(String, String)]) -> StoreResult<Vec<String>> {
    let mut out: Vec<String> = rows.iter().filter(|(k, _)| k == TARGET_DEVICE).map(|(_, t)| t.clone()).collect();
    let groups: Vec<&String> = rows.iter().filter(|(k, _)| k == TARGET_GROUP).map(|(_, t)| t).collect();
    if !groups.is_empty() {
        let members: Vec<String> =
            group_members::table.filter(group_members::group_name.eq_any(groups)).filter(planned_per_call()).select(group_members::device_id).load(conn)?;
        out.extend(members);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// A subject's assignments as (kind, target), sorted.
fn rows_of(conn: &mut DbConn, subject: &Subject) -> StoreResult<Vec<(String, String)>> {
    let id = subject.id().to_string();
    on_table!(subject.kind(), |t, sid| Ok(t::table.filter(sid.eq(&id)).order((t::target_kind, t::target)).select((t::target_kind, t::target)).load(conn)?))
}

/// Assignments of profiles and apps to devices and groups (reached through [`Store::assignments`]).
#[derive(Debug, Clone)]
pub struct AssignmentStore(pub(super) Store);

impl AssignmentStore {
    /// Assigns `subject` to `targets` of one kind, in one transaction that first checks the
    /// subject and the targets exist; returns the targets that do not (devices never seen,
    /// groups not created), which are not assigned. Assignments already there stay as they are.
    pub async fn assign(&self, subject: Subject, kind: TargetKind, targets: Vec<String>) -> StoreResult<Vec<String>> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    subject.check_exists(conn)?;
                    let known = existing(conn, kind, &targets)?;
                    let id = subject.id().to_string();
                    let present: Vec<String> = on_table!(subject.kind(), |t, sid| t::table
                        .filter(sid.eq(&id))
                        .filter(t::target_kind.eq(kind.as_sql()))
                        .select(t::target)
                        .load(conn)?);
                    let at = now();
                    let mut fresh: Vec<&String> = known.iter().filter(|t| !present.contains(t)).collect();
                    fresh.sort();
                    fresh.dedup();
                    for target in fresh {
                        on_table!(subject.kind(), |t, sid| diesel::insert_into(t::table)
                            .values((sid.eq(&id), t::target_kind.eq(kind.as_sql()), t::target.eq(target), t::created_at.eq(at)))
                            .execute(conn)?);
                    }
                    Ok(targets.into_iter().filter(|t| !known.contains(t)).collect())
                })
            })
            .await
    }

    /// Removes assignments of `subject` to `targets` of one kind, in one transaction; returns
    /// the targets that do not exist, as [`Store::assign`] does.
    pub async fn unassign(&self, subject: Subject, kind: TargetKind, targets: Vec<String>) -> StoreResult<Vec<String>> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let known = existing(conn, kind, &targets)?;
                    let id = subject.id().to_string();
                    on_table!(subject.kind(), |t, sid| diesel::delete(
                        t::table.filter(sid.eq(&id)).filter(t::target_kind.eq(kind.as_sql())).filter(t::target.eq_any(&targets))
                    )
                    .execute(conn)?);
                    Ok(targets.into_iter().filter(|t| !known.contains(t)).collect())
                })
            })
            .await
    }

    /// A subject's assignments as (kind, target), sorted.
    pub async fn of(&self, subject: Subject) -> StoreResult<Vec<(String, String)>> {
        self.0.run(move |conn| rows_of(conn, &subject)).await
    }

    /// The device ids a subject reaches: assigned directly or through a group.
    pub async fn assigned_devices(&self, subject: Subject) -> StoreResult<Vec<String>> {
        self.0
            .run(move |conn| {
                let rows = rows_of(conn, &subject)?;
                let mut out = targets_to_devices(conn, &rows)?;
                if let Subject::Profile(id) = &subject {
                    // Profiles a shared pool installs while a user holds its device.
                    out.extend(super::shared::holding_devices(conn, id)?);
                    // Compliance actions take a profile off a device or put one on it.
                    let (withheld, added) = super::compliance::holding(conn, id)?;
                    out.extend(added);
                    out.retain(|d| !withheld.contains(d));
                    out.sort();
                    out.dedup();
                }
                Ok(out)
            })
            .await
    }

    /// The ids of the subjects of `kind` assigned to a device, directly or through its groups.
    pub async fn assigned_to_device(&self, kind: SubjectKind, device_id: String) -> StoreResult<Vec<String>> {
        self.0
            .run(move |conn| {
                let groups: Vec<String> = group_members::table.filter(group_members::device_id.eq(&device_id)).select(group_members::group_name).load(conn)?;
                let mut out: Vec<String> = on_table!(kind, |t, sid| t::table
                    .filter(t::target_kind.eq(TARGET_DEVICE).and(t::target.eq(&device_id)).or(t::target_kind.eq(TARGET_GROUP).and(t::target.eq_any(&groups))))
                    .filter(planned_per_call())
                    .select(sid)
                    .load(conn)?);
                if kind == SubjectKind::Profile {
                    out.extend(super::shared::held_profiles(conn, &device_id)?);
                    let (withheld, added) = super::compliance::holds_of(conn, &device_id)?;
                    out.extend(added);
                    out.retain(|p| !withheld.contains(p));
                }
                out.sort();
                out.dedup();
                Ok(out)
            })
            .await
    }
}
