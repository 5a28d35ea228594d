//! Connectors (`/v1/connectors`: settings, Test connection, Test logout, calls), connector
//! calls (`/v1/connector-calls/{id}/retry`) and automations (`/v1/automations`). Credentials
//! are taken, sealed, and never returned.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use super::json::{body, JsonBody};
use super::{ApiError, ApiState};
use crate::connectors::{ConnectorView, NewAutomation, NewConnector, TestOutcome};
use crate::store::connectors::{AutomationRow, CallRow};

/// `GET /v1/connectors`.
pub async fn list(State(st): State<ApiState>) -> Result<Json<Vec<ConnectorView>>, ApiError> {
    let rows = st.connectors.list().await?;
    Ok(Json(rows.iter().map(|r| st.connectors.view(r)).collect::<Result<_, _>>()?))
}

/// `POST /v1/connectors`.
pub async fn create(State(st): State<ApiState>, b: JsonBody<NewConnector>) -> Result<(StatusCode, Json<ConnectorView>), ApiError> {
    let row = st.connectors.create(body(b)?).await?;
    Ok((StatusCode::CREATED, Json(st.connectors.view(&row)?)))
}

/// `GET /v1/connectors/{id}` (id or name).
pub async fn show(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<ConnectorView>, ApiError> {
    let row = st.connectors.get(&id).await?;
    Ok(Json(st.connectors.view(&row)?))
}

/// `PUT /v1/connectors/{id}`: new settings; credentials given replace the stored ones.
pub async fn update(State(st): State<ApiState>, Path(id): Path<String>, b: JsonBody<NewConnector>) -> Result<Json<ConnectorView>, ApiError> {
    let row = st.connectors.update(&id, body(b)?).await?;
    Ok(Json(st.connectors.view(&row)?))
}

/// `DELETE /v1/connectors/{id}`.
pub async fn remove(State(st): State<ApiState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    st.connectors.delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/connectors/{id}/test`: Test connection.
pub async fn test(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<TestOutcome>, ApiError> {
    Ok(Json(st.connectors.test_connection(&id).await?))
}

/// Body of `POST /v1/connectors/{id}/test-logout`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestLogout {
    /// The device's serial number.
    pub serial_number: String,
    /// The user to log out (else the device's last holder).
    #[serde(default)]
    pub user: Option<String>,
}

/// `POST /v1/connectors/{id}/test-logout`: the real logout call for one device.
pub async fn test_logout(State(st): State<ApiState>, Path(id): Path<String>, b: JsonBody<TestLogout>) -> Result<Json<TestOutcome>, ApiError> {
    let r = body(b)?;
    Ok(Json(st.connectors.test_logout(&id, &r.serial_number, r.user).await?))
}

/// Query of the call lists.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallsQuery {
    /// `pending`, `done`, `not_found` or `failed`.
    pub status: Option<String>,
    /// One session's.
    pub session: Option<String>,
    /// Most calls (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// `GET /v1/connectors/{id}/calls`.
pub async fn calls(State(st): State<ApiState>, Path(id): Path<String>, Query(q): Query<CallsQuery>) -> Result<Json<Vec<CallRow>>, ApiError> {
    Ok(Json(st.connectors.calls(Some(id), q.session, q.status, q.limit.unwrap_or(100).clamp(1, 1000)).await?))
}

/// `GET /v1/connector-calls`: every connector's calls.
pub async fn all_calls(State(st): State<ApiState>, Query(q): Query<CallsQuery>) -> Result<Json<Vec<CallRow>>, ApiError> {
    Ok(Json(st.connectors.calls(None, q.session, q.status, q.limit.unwrap_or(100).clamp(1, 1000)).await?))
}

/// `POST /v1/connector-calls/{id}/retry`: a failed call is due again now.
pub async fn retry(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<CallRow>, ApiError> {
    Ok(Json(st.connectors.retry(&id).await?))
}

/// `GET /v1/automations`.
pub async fn automations(State(st): State<ApiState>) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    Ok(Json(st.connectors.automations().await?.iter().map(automation_json).collect()))
}

fn automation_json(a: &AutomationRow) -> serde_json::Value {
    let mut v = serde_json::to_value(a).unwrap_or_default();
    v["condition"] = serde_json::from_str(&a.condition).unwrap_or_default();
    v
}

/// `POST /v1/automations`.
pub async fn create_automation(State(st): State<ApiState>, b: JsonBody<NewAutomation>) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let a = st.connectors.create_automation(body(b)?).await?;
    Ok((StatusCode::CREATED, Json(automation_json(&a))))
}

/// `GET /v1/automations/{id}`.
pub async fn automation(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(automation_json(&st.connectors.automation(&id).await?)))
}

/// Body of `PATCH /v1/automations/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutomationChange {
    /// On or off.
    pub enabled: bool,
}

/// `PATCH /v1/automations/{id}`: turns it on or off.
pub async fn change_automation(State(st): State<ApiState>, Path(id): Path<String>, b: JsonBody<AutomationChange>) -> Result<Json<serde_json::Value>, ApiError> {
    let c = body(b)?;
    Ok(Json(automation_json(&st.connectors.enable_automation(&id, c.enabled).await?)))
}

/// `DELETE /v1/automations/{id}`.
pub async fn delete_automation(State(st): State<ApiState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    st.connectors.delete_automation(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /connectors/jwks.json` (public, unauthenticated): the JWK Set of the key the server signs
/// OAuth2 client assertions with (the URL an admin hands to Epic).
pub async fn jwks(State(svc): State<crate::connectors::ConnectorService>) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(svc.jwks().await?))
}
