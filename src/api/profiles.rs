//! The profile library API: `POST/GET /v1/profiles`, `GET/PUT/DELETE /v1/profiles/{id}`,
//! versions, assignment, sync, and per-device install state.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::json::plist_bytes_to_json;
use super::{ApiError, ApiState};
use crate::profiles::input::{self, Submitted};
use crate::profiles::ProfileSync;
use crate::store::models::{DeviceProfile, ProfileRow, ProfileVersion};

/// A profile as stored, plus what the submission produced.
#[derive(Debug, Serialize)]
pub struct Saved {
    /// The library entry.
    pub profile: ProfileRow,
    /// Findings that did not block saving.
    pub warnings: Vec<mdm_profiles::Issue>,
    /// Installs/removals queued by this change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync: Option<ProfileSync>,
}

/// One profile in full.
#[derive(Debug, Serialize)]
pub struct ProfileDetail {
    /// The library entry.
    pub profile: ProfileRow,
    /// The current version's content, as JSON with Apple's keys.
    pub content: serde_json::Value,
    /// Every version, newest first.
    pub versions: Vec<ProfileVersion>,
    /// Assignments as `{kind, target}`.
    pub assignments: Vec<Assignment>,
    /// Install state on each enrollment.
    pub devices: Vec<DeviceProfile>,
}

/// One assignment.
#[derive(Debug, Serialize)]
pub struct Assignment {
    /// `device` or `group`.
    pub kind: String,
    /// Device id or group name.
    pub target: String,
}

/// Body of assign/unassign.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    /// Device ids (UDIDs).
    #[serde(default)]
    pub devices: Vec<String>,
    /// Group names.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// Reads a submission: JSON with Apple's keys when the content type says JSON or the body is a
/// JSON object, otherwise a `.mobileconfig` (plain or signed).
fn submission(headers: &HeaderMap, body: &Bytes) -> Result<Submitted, ApiError> {
    let ctype = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    Ok(input::from_bytes(body, ctype.starts_with("application/json"))?)
}

/// `POST /v1/profiles`: a new profile from JSON or an uploaded `.mobileconfig`.
pub async fn create(State(st): State<ApiState>, headers: HeaderMap, body: Bytes) -> Result<(StatusCode, Json<Saved>), ApiError> {
    let sub = submission(&headers, &body)?;
    let warnings = sub.warnings.clone();
    let profile = st.profiles.create(sub).await?;
    Ok((StatusCode::CREATED, Json(Saved { profile, warnings, sync: None })))
}

/// `GET /v1/profiles`.
pub async fn list(State(st): State<ApiState>) -> Result<Json<Vec<ProfileRow>>, ApiError> {
    Ok(Json(st.store.library().profiles().await?))
}

async fn found(st: &ApiState, id: &str) -> Result<ProfileRow, ApiError> {
    st.store.library().profile(id.to_string()).await?.ok_or_else(|| ApiError::NotFound(format!("no profile {id}")))
}

/// `GET /v1/profiles/{id}`.
pub async fn show(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<ProfileDetail>, ApiError> {
    let profile = found(&st, &id).await?;
    let versions = st.store.library().profile_versions(id.clone()).await?;
    let content = versions.iter().find(|v| v.version == profile.version).map(|v| plist_bytes_to_json(&v.body)).unwrap_or_default();
    let assignments = st
        .store
        .assignments()
        .of(crate::store::assignments::Subject::Profile(id.clone()))
        .await?
        .into_iter()
        .map(|(kind, target)| Assignment { kind, target })
        .collect();
    let devices = st.store.library().profile_states(id).await?;
    Ok(Json(ProfileDetail { profile, content, versions, assignments, devices }))
}

/// `?version=N&signed=1` for the download.
#[derive(Debug, Deserialize)]
pub struct DownloadQuery {
    /// Version (default: current).
    pub version: Option<i32>,
    /// `1`: signed with the server's signing identity (variables left as they are).
    pub signed: Option<String>,
}

/// `GET /v1/profiles/{id}/mobileconfig`: the stored profile, as an admin would install it by
/// hand.
pub async fn download(State(st): State<ApiState>, Path(id): Path<String>, Query(q): Query<DownloadQuery>) -> Result<Response, ApiError> {
    let profile = found(&st, &id).await?;
    let version = q.version.unwrap_or(profile.version);
    let v =
        st.store.library().profile_version(id.clone(), version).await?.ok_or_else(|| ApiError::NotFound(format!("profile {id} has no version {version}")))?;
    let signed = matches!(q.signed.as_deref(), Some("1" | "true" | "yes"));
    let body = if signed { st.profiles.sign_bytes(&v.body).map_err(|e| ApiError::Conflict(e.to_string()))? } else { v.body };
    let name = format!("attachment; filename=\"{}.mobileconfig\"", profile.identifier.replace(['"', '\\', '/'], "_"));
    Ok(([(header::CONTENT_TYPE, "application/x-apple-aspen-config".to_string()), (header::CONTENT_DISPOSITION, name)], body).into_response())
}

/// `PUT /v1/profiles/{id}`: a new version, rolled out to assigned devices.
pub async fn update(State(st): State<ApiState>, Path(id): Path<String>, headers: HeaderMap, body: Bytes) -> Result<Json<Saved>, ApiError> {
    found(&st, &id).await?;
    let sub = submission(&headers, &body)?;
    let warnings = sub.warnings.clone();
    let (profile, sync) = st.profiles.update(&id, sub).await?;
    Ok(Json(Saved { profile, warnings, sync: Some(sync) }))
}

/// `DELETE /v1/profiles/{id}`: removed from every device, then from the library.
pub async fn remove(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<ProfileSync>, ApiError> {
    st.profiles.delete(&id).await?.map(Json).ok_or_else(|| ApiError::NotFound(format!("no profile {id}")))
}

/// What assigning reports.
#[derive(Debug, Serialize)]
pub struct Assigned {
    /// Device ids that are not known devices (not assigned).
    pub unknown_devices: Vec<String>,
    /// Group names that do not exist (not assigned).
    pub unknown_groups: Vec<String>,
    /// What was queued.
    pub sync: ProfileSync,
}

fn targets(body: super::json::JsonBody<Targets>) -> Result<Targets, ApiError> {
    let t = super::json::body(body)?;
    if t.devices.is_empty() && t.groups.is_empty() {
        return Err(ApiError::BadRequest("name at least one device or group".into()));
    }
    Ok(t)
}

/// `POST /v1/profiles/{id}/assign` `{devices, groups}`.
pub async fn assign(State(st): State<ApiState>, Path(id): Path<String>, body: super::json::JsonBody<Targets>) -> Result<Json<Assigned>, ApiError> {
    let t = targets(body)?;
    let (unknown_devices, unknown_groups, sync) = st.profiles.assign(&id, t.devices, t.groups).await?;
    Ok(Json(Assigned { unknown_devices, unknown_groups, sync }))
}

/// `POST /v1/profiles/{id}/unassign` `{devices, groups}`.
pub async fn unassign(State(st): State<ApiState>, Path(id): Path<String>, body: super::json::JsonBody<Targets>) -> Result<Json<ProfileSync>, ApiError> {
    let t = targets(body)?;
    found(&st, &id).await?;
    Ok(Json(st.profiles.unassign(&id, t.devices, t.groups).await?))
}

/// `POST /v1/profiles/{id}/sync`: re-sends where missing, outdated or failed.
pub async fn sync(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<ProfileSync>, ApiError> {
    Ok(Json(st.profiles.sync_profile(&id).await?))
}

/// `GET /v1/devices/{id}/profiles`: install state of library profiles on the device.
pub async fn device_profiles(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<Vec<DeviceProfile>>, ApiError> {
    if st.store.devices().enrollment(id.clone()).await?.is_none() {
        return Err(ApiError::NotFound(format!("unknown enrollment {id}")));
    }
    Ok(Json(st.store.library().enrollment_profiles(id).await?))
}

/// What a check reports.
#[derive(Debug, Serialize)]
pub struct CheckQueued {
    /// Whether a ProfileList was queued (false when the enrollment is not enabled).
    pub queued: bool,
}

/// `POST /v1/devices/{id}/profiles/check`: queue a ProfileList to verify the device's profiles.
pub async fn check(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<CheckQueued>, ApiError> {
    if st.store.devices().enrollment(id.clone()).await?.is_none() {
        return Err(ApiError::NotFound(format!("unknown enrollment {id}")));
    }
    Ok(Json(CheckQueued { queued: st.profiles.queue_check(&id).await? }))
}
