//! Device groups: `POST/GET /v1/groups`, `GET/DELETE /v1/groups/{name}`, members. Changing
//! membership installs or removes the group's profiles on the devices concerned.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::json::{body, JsonBody};
use super::{ApiError, ApiState};
use crate::profiles::ProfileSync;
use crate::store::models::DeviceGroup;

/// Body of `POST /v1/groups`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    /// Name: 1-64 letters, digits, `-`, `_`, `.`.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
}

/// A group in a listing.
#[derive(Debug, Serialize)]
pub struct GroupSummary {
    /// The group.
    #[serde(flatten)]
    pub group: DeviceGroup,
    /// Member count.
    pub members: i64,
}

/// A group with its members.
#[derive(Debug, Serialize)]
pub struct GroupDetail {
    /// The group.
    #[serde(flatten)]
    pub group: DeviceGroup,
    /// Member device ids.
    pub members: Vec<String>,
}

/// Body of `POST /v1/groups/{name}/members`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Members {
    /// Device ids.
    pub devices: Vec<String>,
}

/// What adding members reports.
#[derive(Debug, Serialize)]
pub struct MembersAdded {
    /// Ids that are not known devices (not added).
    pub unknown: Vec<String>,
    /// Profiles queued for the new members.
    pub sync: ProfileSync,
}

fn valid_name(n: &str) -> bool {
    (1..=64).contains(&n.len()) && n.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// `POST /v1/groups`.
pub async fn create(State(st): State<ApiState>, b: JsonBody<NewGroup>) -> Result<(StatusCode, Json<DeviceGroup>), ApiError> {
    let g = body(b)?;
    if !valid_name(&g.name) {
        return Err(ApiError::BadRequest("a group name is 1-64 letters, digits, '-', '_' or '.'".into()));
    }
    Ok((StatusCode::CREATED, Json(st.store.library().create_group(g.name, g.description).await?)))
}

/// `GET /v1/groups`.
pub async fn list(State(st): State<ApiState>) -> Result<Json<Vec<GroupSummary>>, ApiError> {
    Ok(Json(st.store.library().groups().await?.into_iter().map(|(group, members)| GroupSummary { group, members }).collect()))
}

/// `GET /v1/groups/{name}`.
pub async fn show(State(st): State<ApiState>, Path(name): Path<String>) -> Result<Json<GroupDetail>, ApiError> {
    let (group, members) = st.store.library().group(name.clone()).await?.ok_or_else(|| ApiError::NotFound(format!("no group {name}")))?;
    Ok(Json(GroupDetail { group, members }))
}

/// `DELETE /v1/groups/{name}`: members lose the group's profiles.
pub async fn remove(State(st): State<ApiState>, Path(name): Path<String>) -> Result<Json<ProfileSync>, ApiError> {
    let (_, members) = st.store.library().group(name.clone()).await?.ok_or_else(|| ApiError::NotFound(format!("no group {name}")))?;
    st.store.library().delete_group(name).await?;
    resync(&st, &members).await.map(Json)
}

/// `POST /v1/groups/{name}/members` `{devices}`.
pub async fn add_members(State(st): State<ApiState>, Path(name): Path<String>, b: JsonBody<Members>) -> Result<Json<MembersAdded>, ApiError> {
    let m = body(b)?;
    let unknown = st.store.library().add_group_members(name, m.devices.clone()).await?;
    let added: Vec<String> = m.devices.into_iter().filter(|d| !unknown.contains(d)).collect();
    let sync = resync(&st, &added).await?;
    Ok(Json(MembersAdded { unknown, sync }))
}

/// `DELETE /v1/groups/{name}/members/{device}`.
pub async fn remove_member(State(st): State<ApiState>, Path((name, device)): Path<(String, String)>) -> Result<Json<ProfileSync>, ApiError> {
    if !st.store.library().remove_group_member(name.clone(), device.clone()).await? {
        return Err(ApiError::NotFound(format!("{device} is not a member of {name}")));
    }
    resync(&st, &[device]).await.map(Json)
}

async fn resync(st: &ApiState, devices: &[String]) -> Result<ProfileSync, ApiError> {
    let mut out = ProfileSync::default();
    for d in devices {
        out.merge(st.profiles.sync_device(d, crate::store::assignments::Holds::AsRecorded).await?);
    }
    Ok(out)
}
