//! Compliance (`/v1/compliance/...`: policies, a fleet-wide evaluation, the last sweep, counts),
//! a device's compliance and inventory (`/v1/devices/{id}/compliance`, `/inventory`), and the
//! posture API for identity providers (`/v1/posture/devices`), which `posture` tokens may call
//! and nothing else.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::devices::resolve_device;
use super::json::{body, JsonBody};
use super::{ApiError, ApiState};
use crate::compliance::policy::PolicySpec;
use crate::compliance::posture::{kind_of, Lookup};
use crate::compliance::ComplianceError;

/// `GET /v1/compliance/policies`.
pub async fn policies(State(st): State<ApiState>) -> Result<Json<Vec<Value>>, ApiError> {
    Ok(Json(st.compliance.policies().await?))
}

/// `POST /v1/compliance/policies`.
pub async fn create_policy(State(st): State<ApiState>, b: JsonBody<PolicySpec>) -> Result<(StatusCode, Json<Value>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.compliance.put_policy(None, body(b)?).await?)))
}

/// `GET /v1/compliance/policies/{id}` (id or name).
pub async fn policy(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    Ok(Json(st.compliance.policy(&id).await?))
}

/// `PUT /v1/compliance/policies/{id}`: replaces the policy.
pub async fn put_policy(State(st): State<ApiState>, Path(id): Path<String>, b: JsonBody<PolicySpec>) -> Result<Json<Value>, ApiError> {
    Ok(Json(st.compliance.put_policy(Some(&id), body(b)?).await?))
}

/// `DELETE /v1/compliance/policies/{id}`.
pub async fn delete_policy(State(st): State<ApiState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    if st.compliance.delete_policy(&id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no policy {id}")))
    }
}

/// Body of `POST /v1/compliance/evaluate`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evaluate {
    /// Devices to judge (ids); omitted: every device.
    #[serde(default)]
    pub devices: Option<Vec<String>>,
}

/// `POST /v1/compliance/evaluate`: judges the devices (or the whole fleet) now and answers
/// when done, with how many were judged and changed.
pub async fn evaluate(State(st): State<ApiState>, raw: axum::body::Bytes) -> Result<Json<Value>, ApiError> {
    let req: Evaluate = super::json::parse_json_or_default(&raw)?;
    let started = std::time::Instant::now();
    let tally = match req.devices {
        Some(ids) if ids.len() > 10_000 => return Err(ApiError::BadRequest("devices: at most 10000; leave it out to judge every device".into())),
        Some(ids) => st.compliance.evaluate(ids).await?,
        None => st.compliance.evaluate_all("api").await?,
    };
    Ok(Json(json!({"evaluated": tally.evaluated, "changed": tally.changed, "ms": started.elapsed().as_millis() as u64})))
}

/// `GET /v1/compliance/sweep`: the last fleet-wide evaluation.
pub async fn sweep(State(st): State<ApiState>) -> Result<Json<Value>, ApiError> {
    Ok(Json(serde_json::to_value(st.store.compliance().sweep().await?).unwrap_or_default()))
}

/// `GET /v1/compliance/summary`: devices per status.
pub async fn summary(State(st): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let counts = st.store.compliance().counts().await?;
    Ok(Json(Value::Object(counts.into_iter().map(|(k, n)| (k, n.into())).collect())))
}

/// `GET /v1/devices/{id}/compliance`: status, failed and pending rules, history, actions.
pub async fn device(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let d = resolve_device(&st, &id).await?;
    Ok(Json(st.compliance.device(&d.id).await?))
}

/// `GET /v1/devices/{id}/inventory`: the last answer to each inventory command, with its time.
pub async fn inventory(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let d = resolve_device(&st, &id).await?;
    let inv = st.store.compliance().inventory(d.id.clone()).await?.unwrap_or_default();
    let apps = st.store.apps().inventory(d.id.clone()).await?;
    let parse = |s: &Option<String>| s.as_deref().and_then(|s| serde_json::from_str::<Value>(s).ok());
    let t = |t: &Option<chrono::NaiveDateTime>| t.map(|t| crate::timefmt::text(&t));
    Ok(Json(json!({
        "device": d.id,
        "os": {"version": d.os_version, "build": d.build_version},
        "model": d.product_name,
        "device_information": {"reported_at": t(&inv.device_info_at), "values": parse(&inv.device_info)},
        "security_info": {"reported_at": t(&inv.security_info_at), "values": parse(&inv.security_info)},
        "certificates": {"reported_at": t(&inv.certificates_at), "list": parse(&inv.certificates)},
        "profiles": {"reported_at": t(&inv.profiles_at), "list": parse(&inv.profiles)},
        "apps": {"reported_at": t(&inv.apps_at), "list": apps.iter().map(|a| json!({"bundle_id": a.bundle_id, "name": a.name, "version": a.version, "managed_status": a.managed_status})).collect::<Vec<_>>()},
        "refresh_requested_at": t(&inv.requested_at),
    })))
}

/// `POST /v1/devices/{id}/inventory`: queues the inventory commands now.
pub async fn refresh(State(st): State<ApiState>, Path(id): Path<String>) -> Result<(StatusCode, Json<Value>), ApiError> {
    let d = resolve_device(&st, &id).await?;
    if !st.compliance.refresh_inventory(&d.id).await? {
        return Err(ApiError::Conflict(format!("device {} is not enrolled", d.id)));
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"device": d.id, "queued": ["DeviceInformation", "SecurityInfo", "CertificateList", "InstalledApplicationList", "ProfileList"]})),
    ))
}

/// Query of a posture lookup.
#[derive(Debug, Deserialize)]
pub struct PostureQuery {
    /// What the id is: `UDID`, `IMEI`, `SerialNumber` (default: any of them).
    pub id_type: Option<String>,
    /// The same, as SphereShield's AppConfig names it.
    #[serde(rename = "deviceIdType")]
    pub device_id_type: Option<String>,
}

/// `GET /v1/posture/devices/{id}`: managed, compliant, failed rules, last seen, user, OS.
/// Unknown → 404 (`managed: false`); two devices with the id → 409, never a guess.
pub async fn posture(State(st): State<ApiState>, Path(id): Path<String>, Query(q): Query<PostureQuery>) -> Result<(StatusCode, Json<Value>), ApiError> {
    let t = q.id_type.or(q.device_id_type);
    let kind = kind_of(t.as_deref()).ok_or_else(|| ApiError::BadRequest(format!("id_type {t:?}: UDID, IMEI or SerialNumber")))?;
    Ok(match st.compliance.lookup(&id, kind).await? {
        Lookup::Found(v) => (StatusCode::OK, Json(v)),
        Lookup::NotFound => (StatusCode::NOT_FOUND, Json(json!({"error": format!("no device has the id {id}"), "managed": false}))),
        Lookup::Ambiguous(n) => {
            (StatusCode::CONFLICT, Json(json!({"error": format!("{n} devices have the id {id}: ask by UDID"), "ambiguous": true, "matches": n})))
        }
    })
}

/// Query of the bulk posture call.
#[derive(Debug, Deserialize)]
pub struct ChangesQuery {
    /// The `cursor` of the previous answer: only devices whose posture changed since.
    pub changed_since: Option<i64>,
    /// Without `changed_since`: the `after` of the previous page.
    pub after: Option<String>,
    /// Devices per page (default 500, at most 1000).
    pub limit: Option<i64>,
}

/// `GET /v1/posture/devices`: every device a page at a time, or with `changed_since` only the
/// ones whose posture changed; each answer carries the `cursor` for the next sweep.
pub async fn posture_changes(State(st): State<ApiState>, Query(q): Query<ChangesQuery>) -> Result<Json<Value>, ApiError> {
    if q.changed_since.is_some_and(|c| c < 0) {
        return Err(ApiError::BadRequest("changed_since: a cursor from an earlier answer".into()));
    }
    Ok(Json(st.compliance.changes(q.changed_since, q.after, q.limit.unwrap_or(500)).await.map_err(|e| match e {
        ComplianceError::Conflict(m) => ApiError::Gone(m),
        other => other.into(),
    })?))
}
