//! Device posture for identity providers and gateways: one device by any identifier they know
//! it by (UDID, serial number, IMEI, or the `deviceId`/`deviceIdType` an app's AppConfig
//! carried), and the devices whose posture changed since a cursor.

use serde_json::{json, Value};

use super::eval::status;
use super::{platform, ComplianceError, ComplianceService};
use crate::store::compliance::{Match, PostureRecord};

/// Most devices one page of changes holds.
pub const MAX_PAGE: i64 = 1000;

/// What a posture lookup found.
#[derive(Debug)]
pub enum Lookup {
    /// One device.
    Found(Value),
    /// No device has that identifier.
    NotFound,
    /// Several devices have it: never guessed.
    Ambiguous(usize),
}

/// The kind an id type names (`UDID`, `IMEI`, `SerialNumber`, case-insensitive); `None` for
/// anything else.
pub fn kind_of(id_type: Option<&str>) -> Option<Match> {
    Some(match id_type.map(|t| t.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("any") => Match::Any,
        Some("udid") => Match::Udid,
        Some("imei") => Match::Imei,
        Some("serial" | "serialnumber" | "serial_number") => Match::Serial,
        _ => return None,
    })
}

/// The posture of one device.
fn view(r: &PostureRecord) -> Value {
    let j = r.judgement.as_ref();
    let st = j.map(|j| j.status.as_str()).unwrap_or(status::UNKNOWN);
    let failed: Value = j
        .and_then(|j| serde_json::from_str::<Vec<super::eval::Reason>>(&j.reasons).ok())
        .map(|rs| {
            rs.iter().map(|x| json!({"policy": x.policy, "rule": x.rule, "message": x.message, "since": x.since.map(|t| crate::timefmt::text(&t))})).collect()
        })
        .unwrap_or(json!([]));
    json!({
        "device_id": r.device.id,
        "udid": r.device.id,
        "serial_number": r.device.serial_number,
        "imei": r.device.imei,
        "managed": r.enrolled,
        "compliant": r.enrolled && st == status::COMPLIANT,
        "status": st,
        "since": j.map(|j| crate::timefmt::text(&j.since)),
        "failed_rules": failed,
        "last_seen": r.last_seen.map(|t| crate::timefmt::text(&t)),
        "user": r.user,
        "email": r.email,
        "platform": platform(r.device.product_name.as_deref()),
        "os": {"version": r.device.os_version, "build": r.device.build_version},
        "model": r.device.product_name,
    })
}

impl ComplianceService {
    /// The posture of the device `key` names as `kind`.
    pub async fn lookup(&self, key: &str, kind: Match) -> Result<Lookup, ComplianceError> {
        let key = key.trim();
        if key.is_empty() || key.len() > 200 || key.chars().any(char::is_control) {
            return Err(ComplianceError::BadRequest("device id: 1 to 200 printable characters".into()));
        }
        let ids = self.store.compliance().match_devices(key.to_string(), kind).await?;
        match ids.len() {
            0 => Ok(Lookup::NotFound),
            1 => Ok(self.views(ids).await?.pop().map(Lookup::Found).unwrap_or(Lookup::NotFound)),
            n => Ok(Lookup::Ambiguous(n)),
        }
    }

    /// Postures of `ids`, in their order.
    pub async fn views(&self, ids: Vec<String>) -> Result<Vec<Value>, ComplianceError> {
        Ok(self.store.compliance().posture_records(ids).await?.iter().map(view).collect())
    }

    /// Devices whose posture changed after `cursor` (or, without one, every device from
    /// `after`, by id), a page at a time, with the cursor for the next call.
    pub async fn changes(&self, cursor: Option<i64>, after: Option<String>, limit: i64) -> Result<Value, ComplianceError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let c = self.store.compliance();
        let (ids, next, more) = match cursor {
            Some(cur) => c.changed_since(cur, limit).await.map_err(|e| match e {
                crate::store::StoreError::Conflict(m) => ComplianceError::Conflict(m),
                other => other.into(),
            })?,
            None => {
                // The cursor is read first: a change during the pass is seen again next time.
                let now_cursor = c.cursor().await?;
                let ids = c.device_ids(after, limit + 1).await?;
                let more = ids.len() as i64 > limit;
                let ids: Vec<String> = ids.into_iter().take(limit as usize).collect();
                (ids, now_cursor, more)
            }
        };
        let last = ids.last().cloned();
        let devices = self.views(ids).await?;
        Ok(json!({"devices": devices, "cursor": next, "more": more, "after": if cursor.is_none() && more { last } else { None }}))
    }
}
