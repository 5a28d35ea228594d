//! The lookups of the posture API: which devices an identifier names, and which devices changed
//! since a cursor (an event id, so a cursor never skips a change committed late).

use diesel::prelude::*;

use chrono::NaiveDateTime;

use super::{ComplianceRow, ComplianceStore};
use crate::store::events::topic;
use crate::store::models::Device;
use crate::store::schema::{devices, event_sequence, events, users};
use crate::store::{planned_per_call, StoreError, StoreResult};

/// What a posture answer needs of one device (fewer reads than a judgement).
#[derive(Debug, Clone)]
pub struct PostureRecord {
    /// The device.
    pub device: Device,
    /// Its device channel is enabled.
    pub enrolled: bool,
    /// Last check-in or report.
    pub last_seen: Option<NaiveDateTime>,
    /// Its judgement.
    pub judgement: Option<ComplianceRow>,
    /// Its user: a shared device's holder (else staging user), else who enrolled it.
    pub user: Option<String>,
    /// That user's e-mail address.
    pub email: Option<String>,
}

/// What an identifier is taken to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// UDID (the device id).
    Udid,
    /// Serial number.
    Serial,
    /// IMEI (spaces ignored).
    Imei,
    /// Any of them.
    Any,
}

/// Topics that change a device's posture.
pub const POSTURE_TOPICS: &[&str] = &[topic::COMPLIANCE_CHANGED, topic::CHECKED_OUT, topic::ENROLLED];

impl ComplianceStore {
    /// The ids of the devices `key` names as `kind` (several when it is ambiguous).
    pub async fn match_devices(&self, key: String, kind: Match) -> StoreResult<Vec<String>> {
        self.0
            .run(move |conn| {
                let imei = key.replace(' ', "");
                let mut out: Vec<String> = Vec::new();
                if matches!(kind, Match::Udid | Match::Any) {
                    out.extend(devices::table.filter(devices::id.eq(&key)).select(devices::id).load::<String>(conn)?);
                }
                if matches!(kind, Match::Serial | Match::Any) {
                    out.extend(devices::table.filter(devices::serial_number.eq(&key)).select(devices::id).limit(10).load::<String>(conn)?);
                }
                if matches!(kind, Match::Imei | Match::Any) {
                    out.extend(devices::table.filter(devices::imei.eq(&imei)).select(devices::id).limit(10).load::<String>(conn)?);
                }
                out.sort();
                out.dedup();
                Ok(out)
            })
            .await
    }

    /// Devices whose posture changed after event `cursor`, in event order, at most `limit`
    /// (each device once, at its last change in the page), and the cursor to ask with next.
    /// A cursor older than the retained events is refused (the caller starts a full pass).
    pub async fn changed_since(&self, cursor: i64, limit: i64) -> StoreResult<(Vec<String>, i64, bool)> {
        self.0
            .run(move |conn| {
                let (last, pruned): (i64, i64) = event_sequence::table.select((event_sequence::last_id, event_sequence::pruned_through)).first(conn)?;
                if cursor < pruned {
                    return Err(StoreError::Conflict(format!(
                        "cursor {cursor} is older than the kept events (from {pruned}); start again without changed_since"
                    )));
                }
                let rows: Vec<(Option<i64>, Option<String>)> = events::table
                    .filter(events::id.gt(cursor))
                    .filter(events::topic.eq_any(POSTURE_TOPICS))
                    .filter(events::device_id.is_not_null())
                    .filter(planned_per_call())
                    .order(events::id.asc())
                    .limit(limit + 1)
                    .select((events::id, events::device_id))
                    .load(conn)?;
                let more = rows.len() as i64 > limit;
                let page = &rows[..rows.len().min(limit as usize)];
                let next = if more { page.last().and_then(|r| r.0).unwrap_or(cursor) } else { last.max(cursor) };
                let mut ids: Vec<String> = Vec::new();
                for (_, d) in page.iter().rev() {
                    if let Some(d) = d {
                        if !ids.contains(d) {
                            ids.push(d.clone());
                        }
                    }
                }
                ids.reverse();
                Ok((ids, next, more))
            })
            .await
    }

    /// Posture records of `ids`, in their order (unknown ids left out).
    pub async fn posture_records(&self, ids: Vec<String>) -> StoreResult<Vec<PostureRecord>> {
        self.0
            .run(move |conn| {
                let (devs, ens, judged) = super::base_rows(conn, &ids)?;
                let owners: Vec<(String, Option<String>)> =
                    devices::table.filter(devices::id.eq_any(&ids)).filter(planned_per_call()).select((devices::id, devices::enrolled_user)).load(conn)?;
                let pools = crate::store::shared::pools_of(conn, &ids)?;
                let sessions = if pools.is_empty() { Vec::new() } else { crate::store::shared::open_sessions(conn, &ids)? };
                let user_of = |d: &Device| -> (Option<String>, Option<String>) {
                    match pools.iter().find(|(x, _)| *x == d.id) {
                        Some((_, pool)) => match sessions.iter().find(|s| s.device_id == d.id) {
                            Some(s) => (Some(s.username.clone()), s.email.clone()),
                            None => (Some(pool.staging_user.clone()), None),
                        },
                        None => (owners.iter().find(|(x, _)| *x == d.id).and_then(|(_, u)| u.clone()), None),
                    }
                };
                let names: Vec<String> = devs.iter().filter_map(|d| user_of(d).0).collect();
                let emails: Vec<(String, Option<String>)> = if names.is_empty() {
                    Vec::new()
                } else {
                    users::table.filter(users::username.eq_any(&names)).filter(planned_per_call()).select((users::username, users::email)).load(conn)?
                };
                let mut out = Vec::new();
                for id in &ids {
                    let Some(d) = devs.iter().find(|d| &d.id == id) else { continue };
                    let e = ens.iter().find(|e| &e.0 == id);
                    let (user, email) = user_of(d);
                    let email = email.or_else(|| user.as_ref().and_then(|u| emails.iter().find(|(n, _)| n == u)).and_then(|(_, m)| m.clone()));
                    out.push(PostureRecord {
                        enrolled: e.is_some_and(|e| e.1),
                        last_seen: e.and_then(|e| e.2),
                        judgement: judged.iter().find(|j| &j.device_id == id).cloned(),
                        user,
                        email,
                        device: d.clone(),
                    });
                }
                Ok(out)
            })
            .await
    }

    /// The current end of the event stream (the cursor of a full pass).
    pub async fn cursor(&self) -> StoreResult<i64> {
        self.0.run(|conn| Ok(event_sequence::table.select(event_sequence::last_id).first(conn)?)).await
    }
}
