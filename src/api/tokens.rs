//! API tokens (`/v1/tokens`, admin only) and the audit log (`GET /v1/audit`).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::authz::Role;
use super::json::JsonBody;
use super::{ApiError, ApiState};
use crate::identity::cert::sha256_hex;
use crate::store::tokens::{ApiTokenRow, AuditRow};
use crate::store::{now, Store};

/// Body of `POST /v1/tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// Unique name: who or what uses it.
    pub name: String,
    /// `admin`, `helpdesk`, `read-only`, `posture` or `kiosk`.
    pub role: String,
    /// For `kiosk`: the device it acts for.
    #[serde(default)]
    pub device: Option<String>,
    /// Lifetime (e.g. `90d`); none = until revoked.
    #[serde(default, with = "humantime_serde")]
    pub expires_in: Option<std::time::Duration>,
}

/// A new token: the value is shown this once.
#[derive(Debug, Serialize)]
pub struct Issued {
    /// The stored token.
    #[serde(flatten)]
    pub row: ApiTokenRow,
    /// The value to send as `Authorization: Bearer …`.
    pub token: String,
}

/// Makes and stores a token for `created_by`. Shared by the API and `mdm token create`.
pub async fn issue(store: &Store, t: NewToken, created_by: &str) -> Result<Issued, ApiError> {
    let name = t.name.trim().to_string();
    if name.is_empty() || name.len() > 64 || name.chars().any(|c| c.is_control()) {
        return Err(ApiError::BadRequest("name: 1 to 64 printable characters".into()));
    }
    let valid = Role::ALL.map(|r| r.as_str()).join(", ");
    let role = Role::parse(t.role.trim()).ok_or_else(|| ApiError::BadRequest(format!("role {:?}: one of {valid}", t.role)))?;
    let device = t.device.map(|d| d.trim().to_string()).filter(|d| !d.is_empty());
    match (role, &device) {
        (Role::Kiosk, None) => return Err(ApiError::BadRequest("a kiosk token names its device (\"device\")".into())),
        (Role::Kiosk, Some(_)) | (_, None) => {}
        (_, Some(_)) => return Err(ApiError::BadRequest("only kiosk tokens name a device".into())),
    }
    let at = now();
    let expires_at = t
        .expires_in
        .map(|d| crate::lifetime::expiry("expires_in", at, d, crate::lifetime::MAX_VALIDITY))
        .transpose()
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let value = format!("mdm_{}", crate::enroll::random_secret(32).map_err(|e| ApiError::Internal(e.to_string()))?);
    let row = ApiTokenRow {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        role: role.as_str().to_string(),
        device_id: device,
        token_hash: sha256_hex(value.as_bytes()),
        created_by: created_by.to_string(),
        created_at: at,
        expires_at,
        revoked_at: None,
        last_used_at: None,
    };
    store.tokens().create_api_token(row.clone()).await?;
    tracing::info!(token = %row.id, name = %row.name, role = %row.role, by = %created_by, "API token created");
    Ok(Issued { row, token: value })
}

/// `POST /v1/tokens`.
pub async fn create(State(st): State<ApiState>, Extension(caller): Extension<Caller>, b: JsonBody<NewToken>) -> Result<(StatusCode, Json<Issued>), ApiError> {
    let t = super::json::body(b)?;
    Ok((StatusCode::CREATED, Json(issue(&st.store, t, &caller.actor).await?)))
}

/// `GET /v1/tokens`: every token, never a value.
pub async fn list(State(st): State<ApiState>) -> Result<Json<Vec<ApiTokenRow>>, ApiError> {
    Ok(Json(st.store.tokens().api_tokens().await?))
}

/// `DELETE /v1/tokens/{id}` (id or name).
pub async fn revoke(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    if !st.store.tokens().revoke_api_token(id.clone(), now()).await? {
        return Err(ApiError::NotFound(format!("no active API token {id}")));
    }
    tracing::info!(token = %id, "API token revoked");
    Ok(Json(serde_json::json!({ "revoked": id })))
}

/// Query of the audit log.
#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    /// Most entries (default 100, max 1000).
    pub limit: Option<i64>,
    /// Entries older than this id (paging).
    pub before: Option<i64>,
}

/// `GET /v1/audit`: admin changes, newest first.
pub async fn audit(State(st): State<ApiState>, Query(q): Query<AuditQuery>) -> Result<Json<Vec<AuditRow>>, ApiError> {
    Ok(Json(st.store.tokens().audit_log(q.limit.unwrap_or(100).clamp(1, 1000), q.before).await?))
}
