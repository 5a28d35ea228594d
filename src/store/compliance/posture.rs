//! The lookups of the posture API: which devices an identifier names, and which devices changed
//! since a cursor (an event id, so a cursor never skips a change committed late).

use diesel::prelude::*;

use super::ComplianceStore;
use crate::store::events::topic;
use crate::store::schema::{devices, event_sequence, events};
use crate::store::{planned_per_call, StoreError, StoreResult};

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

    /// The current end of the event stream (the cursor of a full pass).
    pub async fn cursor(&self) -> StoreResult<i64> {
        self.0.run(|conn| Ok(event_sequence::table.select(event_sequence::last_id).first(conn)?)).await
    }
}
