//! Shared devices: pools (`/v1/shared/pools`), the kiosk API (`POST /v1/shared/checkout`,
//! `POST /v1/shared/checkin`, for admin and helpdesk tokens and for a device's own kiosk
//! token), and session history per device and per user.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;

use super::auth::Caller;
use super::authz::Role;
use super::json::{body, JsonBody};
use super::{ApiError, ApiState};
use crate::shared::{Actor, PoolSpec, SessionView};
use crate::store::shared::{SessionQuery, SessionRow};

fn actor(c: &Caller) -> Actor {
    Actor { name: c.actor.clone(), via: c.role.as_str().to_string(), kiosk_device: (c.role == Role::Kiosk).then(|| c.device.clone().unwrap_or_default()) }
}

/// `GET /v1/shared/pools`.
pub async fn pools(State(st): State<ApiState>) -> Result<Json<Vec<PoolSpec>>, ApiError> {
    Ok(Json(st.shared.pools().await?))
}

/// `POST /v1/shared/pools`.
pub async fn create_pool(State(st): State<ApiState>, b: JsonBody<PoolSpec>) -> Result<(StatusCode, Json<PoolSpec>), ApiError> {
    let spec = body(b)?;
    Ok((StatusCode::CREATED, Json(st.shared.put_pool(spec, true).await?)))
}

/// `GET /v1/shared/pools/{name}`.
pub async fn pool(State(st): State<ApiState>, Path(name): Path<String>) -> Result<Json<PoolSpec>, ApiError> {
    Ok(Json(st.shared.pool(&name).await?))
}

/// `PUT /v1/shared/pools/{name}`: replaces the pool (the body's name must match).
pub async fn put_pool(State(st): State<ApiState>, Path(name): Path<String>, b: JsonBody<PoolSpec>) -> Result<Json<PoolSpec>, ApiError> {
    let spec = body(b)?;
    if spec.name.trim() != name {
        return Err(ApiError::BadRequest(format!("the body names pool {:?}, the path {name:?}", spec.name)));
    }
    Ok(Json(st.shared.put_pool(spec, false).await?))
}

/// `DELETE /v1/shared/pools/{name}`.
pub async fn delete_pool(State(st): State<ApiState>, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    if st.shared.delete_pool(&name).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no pool {name}")))
    }
}

/// Body of `POST /v1/shared/checkout`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkout {
    /// UDID, serial number or enrollment id.
    pub device: String,
    /// Who takes it.
    pub user: String,
    /// Their e-mail address (else the enrollment user's, when known).
    #[serde(default)]
    pub email: Option<String>,
    /// Their full name.
    #[serde(default)]
    pub full_name: Option<String>,
}

/// Body of `POST /v1/shared/checkin`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkin {
    /// UDID, serial number or enrollment id.
    pub device: String,
}

/// What a caller sees of a session: a locker app (kiosk token) not the connector calls (the
/// other systems' answers).
fn for_caller(c: &Caller, mut v: SessionView) -> Json<SessionView> {
    if c.role == Role::Kiosk {
        v.calls.clear();
    }
    Json(v)
}

/// `POST /v1/shared/checkout`.
pub async fn checkout(State(st): State<ApiState>, Extension(c): Extension<Caller>, b: JsonBody<Checkout>) -> Result<Json<SessionView>, ApiError> {
    let r = body(b)?;
    Ok(for_caller(&c, st.shared.checkout(&r.device, &r.user, r.email, r.full_name, &actor(&c)).await?))
}

/// `POST /v1/shared/checkin`: answers as soon as the device is back with its staging user
/// (connector calls run from their queue afterwards).
pub async fn checkin(State(st): State<ApiState>, Extension(c): Extension<Caller>, b: JsonBody<Checkin>) -> Result<Json<SessionView>, ApiError> {
    let r = body(b)?;
    Ok(for_caller(&c, st.shared.checkin(&r.device, &actor(&c)).await?))
}

/// Query of `GET /v1/shared/sessions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionsQuery {
    /// One device's (UDID, serial number or enrollment id).
    pub device: Option<String>,
    /// One user's.
    pub user: Option<String>,
    /// Only open sessions.
    #[serde(default)]
    pub open: bool,
    /// Most sessions (default 100, at most 1000).
    pub limit: Option<i64>,
}

async fn list(st: &ApiState, q: SessionsQuery) -> Result<Json<Vec<SessionRow>>, ApiError> {
    let device = match q.device {
        Some(d) => Some(st.shared.resolve(&d).await?.id),
        None => None,
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(st.shared.sessions(SessionQuery { device, user: q.user, open: q.open, limit }).await?))
}

/// `GET /v1/shared/sessions`.
pub async fn sessions(State(st): State<ApiState>, Query(q): Query<SessionsQuery>) -> Result<Json<Vec<SessionRow>>, ApiError> {
    list(&st, q).await
}

/// `GET /v1/shared/sessions/{id}`: the session with every action and connector call.
pub async fn session(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<SessionView>, ApiError> {
    Ok(Json(st.shared.session(&id).await?))
}

/// `GET /v1/devices/{id}/sessions`.
pub async fn device_sessions(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<Vec<SessionRow>>, ApiError> {
    list(&st, SessionsQuery { device: Some(id), user: None, open: false, limit: None }).await
}

/// `GET /v1/shared/users/{user}/sessions`.
pub async fn user_sessions(State(st): State<ApiState>, Path(user): Path<String>) -> Result<Json<Vec<SessionRow>>, ApiError> {
    list(&st, SessionsQuery { device: None, user: Some(user), open: false, limit: None }).await
}
