//! JSON device endpoints: list, show, and a device's command history.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::json::plist_bytes_to_json;
use super::{ApiError, ApiState};
use crate::store::models::{Device, Enrollment, PushState};

/// A device with its channels.
#[derive(Debug, Serialize)]
pub struct DeviceView {
    /// Device attributes.
    #[serde(flatten)]
    pub device: Device,
    /// Device and user channels.
    pub enrollments: Vec<EnrollmentView>,
    /// Who enrolled it and through which enrollment session (shown on a single device).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrolled_by: Option<crate::store::enroll::DeviceOwner>,
}

/// An enrollment as shown to admins (secrets left out by the model's serde attributes).
#[derive(Debug, Serialize)]
pub struct EnrollmentView {
    /// The enrollment.
    #[serde(flatten)]
    pub enrollment: Enrollment,
    /// Whether a push token is on file (the token itself is never shown).
    pub has_push_token: bool,
    /// Whether an UnlockToken is escrowed.
    pub has_unlock_token: bool,
    /// Push schedule and last push outcome (shown on a single device).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push: Option<PushState>,
}

impl From<Enrollment> for EnrollmentView {
    fn from(e: Enrollment) -> Self {
        EnrollmentView { has_push_token: e.token.is_some(), has_unlock_token: e.unlock_token.is_some(), enrollment: e, push: None }
    }
}

/// `GET /v1/devices`.
pub async fn list(State(st): State<ApiState>) -> Result<Json<Vec<DeviceView>>, ApiError> {
    let devices = st.store.devices().list().await?;
    let mut by_device: BTreeMap<String, Vec<EnrollmentView>> = BTreeMap::new();
    for e in st.store.devices().enrollments().await? {
        by_device.entry(e.device_id.clone()).or_default().push(e.into());
    }
    Ok(Json(devices.into_iter().map(|d| DeviceView { enrollments: by_device.remove(&d.id).unwrap_or_default(), device: d, enrolled_by: None }).collect()))
}

/// Finds the device an id names: a device id, or any enrollment id of it.
pub(crate) async fn resolve_device(st: &ApiState, id: &str) -> Result<Device, ApiError> {
    if let Some(d) = st.store.devices().device(id.to_string()).await? {
        return Ok(d);
    }
    if let Some(e) = st.store.devices().enrollment(id.to_string()).await? {
        if let Some(d) = st.store.devices().device(e.device_id).await? {
            return Ok(d);
        }
    }
    Err(ApiError::NotFound(format!("unknown device {id}")))
}

/// `GET /v1/devices/{id}` (device id or enrollment id).
pub async fn show(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<DeviceView>, ApiError> {
    let device = resolve_device(&st, &id).await?;
    let mut enrollments: Vec<EnrollmentView> = st.store.devices().device_enrollments(device.id.clone()).await?.into_iter().map(Into::into).collect();
    let ids = enrollments.iter().map(|e| e.enrollment.id.clone()).collect();
    let mut states: BTreeMap<String, PushState> = st.store.push().push_states(ids).await?.into_iter().map(|p| (p.enrollment_id.clone(), p)).collect();
    for e in &mut enrollments {
        e.push = states.remove(&e.enrollment.id);
    }
    let enrolled_by = Some(st.store.enroll().device_owner(device.id.clone()).await?);
    Ok(Json(DeviceView { device, enrollments, enrolled_by }))
}

/// Query of the command history.
#[derive(Debug, Deserialize)]
pub struct HistoryQuery {
    /// Most rows per enrollment (default 100, max 1000).
    pub limit: Option<i64>,
}

/// One command in a device's history.
#[derive(Debug, Serialize)]
pub struct HistoryEntry {
    /// Queue row and request type.
    #[serde(flatten)]
    pub entry: crate::queue::QueueEntry,
    /// Results the device reported for it, newest first.
    pub results: Vec<serde_json::Value>,
}

/// `GET /v1/devices/{id}/commands`: queue and results, newest first. A device id covers every
/// channel of the device; an enrollment id only that channel.
pub async fn commands(State(st): State<ApiState>, Path(id): Path<String>, Query(q): Query<HistoryQuery>) -> Result<Json<Vec<HistoryEntry>>, ApiError> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let ids: Vec<String> = match st.store.devices().enrollment(id.clone()).await? {
        Some(e) if e.channel == "user" => vec![e.id],
        _ => {
            let device = resolve_device(&st, &id).await?;
            st.store.devices().device_enrollments(device.id).await?.into_iter().map(|e| e.id).collect()
        }
    };
    let mut out = Vec::new();
    for eid in ids {
        let results = st.queue.listing().enrollment_results(eid.clone(), limit * 4).await?;
        for entry in st.queue.listing().enrollment_queue(eid.clone(), limit).await? {
            let results = results
                .iter()
                .filter(|r| r.command_uuid == entry.row.command_uuid)
                .map(|r| serde_json::json!({ "status": r.status, "received_at": crate::timefmt::text(&r.received_at), "result": plist_bytes_to_json(&r.body) }))
                .collect();
            out.push(HistoryEntry { entry, results });
        }
    }
    out.sort_by(|a, b| b.entry.row.created_at.cmp(&a.entry.row.created_at).then(b.entry.row.id.cmp(&a.entry.row.id)));
    Ok(Json(out))
}

/// Body of `POST /v1/devices/{id}/reenroll` (all optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reenroll {
    /// How long the allowance lasts (default 1h, at most 30 days).
    #[serde(default, with = "humantime_serde")]
    pub expires_in: Option<std::time::Duration>,
}

/// `POST /v1/devices/{id}/reenroll`: lets the device enroll again with a new certificate (the
/// first one within the allowance replaces its bound certificate; docs/SECURITY.md).
pub async fn allow_reenroll(State(st): State<ApiState>, Path(id): Path<String>, body: axum::body::Bytes) -> Result<Json<serde_json::Value>, ApiError> {
    let req: Reenroll = super::json::parse_json_or_default(&body)?;
    let device = resolve_device(&st, &id).await?;
    let lifetime = req.expires_in.unwrap_or(std::time::Duration::from_secs(3600));
    let until =
        crate::lifetime::expiry("expires_in", crate::store::now(), lifetime, crate::lifetime::MAX_REENROLL).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    st.store.allow_reenroll(device.id.clone(), Some(until)).await?;
    tracing::info!(device = %device.id, %until, "re-enrollment with a new certificate allowed");
    Ok(Json(serde_json::json!({ "device": device.id, "reenroll_until": crate::timefmt::text(&until) })))
}

/// `DELETE /v1/devices/{id}/reenroll`: withdraws the allowance.
pub async fn forbid_reenroll(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    let device = resolve_device(&st, &id).await?;
    st.store.allow_reenroll(device.id.clone(), None).await?;
    Ok(Json(serde_json::json!({ "device": device.id, "reenroll_until": null })))
}
