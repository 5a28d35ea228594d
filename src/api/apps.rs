//! Managed apps: the catalogue (`/v1/apps`), vendor presets, assignments, per-device state
//! (`/v1/devices/{id}/apps`) and secrets for AppConfig values (`/v1/secrets`, values never
//! returned).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::json::{body, JsonBody};
use super::profiles::Targets;
use super::{ApiError, ApiState};
use crate::apps::{AppChanges, AppService, NewApp};
use crate::store::apps::AppRow;

/// An app as the API shows it: attributes and configuration as JSON.
fn app_json(row: &AppRow) -> Result<Value, ApiError> {
    let (attributes, config) = AppService::parts(row)?;
    let mut v = json!(row);
    if let Value::Object(m) = &mut v {
        m.insert("attributes".into(), json!(attributes));
        m.insert("config".into(), json!(config));
    }
    Ok(v)
}

async fn find(st: &ApiState, id: &str) -> Result<AppRow, ApiError> {
    st.store.apps().app(id.to_string()).await?.ok_or_else(|| ApiError::NotFound(format!("no app {id}")))
}

/// `GET /v1/apps`.
pub async fn list(State(st): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let rows = st.store.apps().list().await?;
    Ok(Json(Value::Array(rows.iter().map(app_json).collect::<Result<_, _>>()?)))
}

/// `GET /v1/apps/presets`.
pub async fn presets() -> Json<Value> {
    Json(json!(crate::apps::presets::PRESETS))
}

/// `POST /v1/apps`.
pub async fn create(State(st): State<ApiState>, b: JsonBody<NewApp>) -> Result<(StatusCode, Json<Value>), ApiError> {
    let row = st.apps.create(body(b)?).await?;
    Ok((StatusCode::CREATED, Json(app_json(&row)?)))
}

/// `GET /v1/apps/{id}` (id or bundle id): the app, its assignments and its state per device.
pub async fn show(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let row = find(&st, &id).await?;
    let mut v = app_json(&row)?;
    let assignments: Vec<Value> = st
        .store
        .assignments()
        .of(crate::store::assignments::Subject::App(row.id.clone()))
        .await?
        .into_iter()
        .map(|(k, t)| json!({"kind": k, "target": t}))
        .collect();
    if let Value::Object(m) = &mut v {
        m.insert("assignments".into(), Value::Array(assignments));
        m.insert("devices".into(), json!(st.store.apps().app_states(row.id.clone()).await?));
    }
    Ok(Json(v))
}

/// `PUT /v1/apps/{id}`: changes; a new configuration goes to every device that has the app.
pub async fn update(State(st): State<ApiState>, Path(id): Path<String>, b: JsonBody<AppChanges>) -> Result<Json<Value>, ApiError> {
    let row = find(&st, &id).await?;
    let (row, sync) = st.apps.update(&row.id, body(b)?).await?;
    Ok(Json(json!({ "app": app_json(&row)?, "sync": sync })))
}

/// `DELETE /v1/apps/{id}`: RemoveApplication where it is installed, then gone.
pub async fn remove(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let row = find(&st, &id).await?;
    st.store.apps().delete_app(row.id.clone()).await?;
    let sync = st.apps.sync_app(&row.id).await?;
    Ok(Json(json!({ "deleted": row.id, "sync": sync })))
}

fn assignment_answer((unknown_devices, unknown_groups, sync): (Vec<String>, Vec<String>, crate::apps::sync::AppSync)) -> Json<Value> {
    Json(json!({ "unknown_devices": unknown_devices, "unknown_groups": unknown_groups, "sync": sync }))
}

/// `POST /v1/apps/{id}/assign`: `{"devices": [...], "groups": [...]}`.
pub async fn assign(State(st): State<ApiState>, Path(id): Path<String>, b: JsonBody<Targets>) -> Result<Json<Value>, ApiError> {
    let t = body(b)?;
    let row = find(&st, &id).await?;
    Ok(assignment_answer(st.apps.assign(&row.id, t.devices, t.groups).await?))
}

/// `POST /v1/apps/{id}/unassign`.
pub async fn unassign(State(st): State<ApiState>, Path(id): Path<String>, b: JsonBody<Targets>) -> Result<Json<Value>, ApiError> {
    let t = body(b)?;
    let row = find(&st, &id).await?;
    Ok(assignment_answer(st.apps.unassign(&row.id, t.devices, t.groups).await?))
}

/// `GET /v1/devices/{id}/apps`: each managed app's state (pending, installed, failed and why),
/// what the device last reported, and recent app events.
pub async fn device_apps(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    if st.store.devices().enrollment(id.clone()).await?.is_none() {
        return Err(ApiError::NotFound(format!("unknown enrollment {id}")));
    }
    Ok(Json(json!({
        "apps": st.store.apps().device_apps(id.clone()).await?,
        "reported": st.store.apps().inventory(id.clone()).await?,
        "events": st.store.apps().app_events(id, 100).await?,
    })))
}

/// `POST /v1/devices/{id}/apps/check`: queue a ManagedApplicationList; a required app missing
/// from it is installed again.
pub async fn check(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    if st.store.devices().enrollment(id.clone()).await?.is_none() {
        return Err(ApiError::NotFound(format!("unknown enrollment {id}")));
    }
    Ok(Json(json!({ "queued": st.apps.check(&id).await? })))
}

/// `GET /v1/secrets`: names and hints only.
pub async fn secrets(State(st): State<ApiState>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(st.apps.secrets().await?)))
}

/// A secret's value.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretValue {
    /// The value (stored sealed; never shown again).
    pub value: String,
}

/// `PUT /v1/secrets/{name}`: 201 when new, 200 when replaced; the body is never echoed.
pub async fn put_secret(State(st): State<ApiState>, Path(name): Path<String>, b: JsonBody<SecretValue>) -> Result<(StatusCode, Json<Value>), ApiError> {
    let v = body(b)?;
    let created = st.apps.put_secret(&name, &v.value).await?;
    let view = st.apps.secrets().await?.into_iter().find(|s| s.name == name);
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(json!(view))))
}

/// `DELETE /v1/secrets/{name}`.
pub async fn delete_secret(State(st): State<ApiState>, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    if st.apps.delete_secret(&name).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no secret {name}")))
    }
}

/// Refuses attributes of a device or group that does not exist.
async fn ensure_scope(st: &ApiState, kind: &'static str, scope: &str) -> Result<(), ApiError> {
    let exists = match kind {
        crate::store::assignments::TARGET_DEVICE => st.store.devices().device(scope.to_string()).await?.is_some(),
        _ => st.store.library().group(scope.to_string()).await?.is_some(),
    };
    if exists {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!("no {kind} {scope}")))
    }
}

/// `GET /v1/devices/{id}/attributes` and `GET /v1/groups/{name}/attributes`.
async fn get_attributes(st: &ApiState, kind: &'static str, scope: String) -> Result<Json<Value>, ApiError> {
    ensure_scope(st, kind, &scope).await?;
    Ok(Json(json!(st.store.apps().attributes(kind, scope).await?)))
}

/// Sets attributes from `{"NAME": "value" | null}` (null removes one); names are letters,
/// digits, `_` and `-`, so they fit in `{Attribute.NAME}`.
async fn set_attributes(st: &ApiState, kind: &'static str, scope: String, b: JsonBody<serde_json::Map<String, Value>>) -> Result<Json<Value>, ApiError> {
    let map = body(b)?;
    let mut values = Vec::new();
    for (k, v) in map {
        if !crate::apps::appconfig::is_reference_name(&k) {
            return Err(ApiError::BadRequest(format!("attribute name {k:?}: 1 to 64 letters, digits, _ or -")));
        }
        match v {
            Value::Null => values.push((k, None)),
            Value::String(s) => values.push((k, Some(s))),
            other => return Err(ApiError::BadRequest(format!("attribute {k}: a string or null, not {other}"))),
        }
    }
    ensure_scope(st, kind, &scope).await?;
    let names: Vec<String> = values.iter().map(|(n, _)| n.clone()).collect();
    st.store.apps().put_attributes(kind, scope.clone(), values).await?;
    st.apps.attributes_changed(kind, &scope, &names).await?;
    get_attributes(st, kind, scope).await
}

/// `GET /v1/devices/{id}/attributes`.
pub async fn device_attributes(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    get_attributes(&st, crate::store::assignments::TARGET_DEVICE, id).await
}

/// `PUT /v1/devices/{id}/attributes`.
pub async fn put_device_attributes(
    State(st): State<ApiState>,
    Path(id): Path<String>,
    b: JsonBody<serde_json::Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    set_attributes(&st, crate::store::assignments::TARGET_DEVICE, id, b).await
}

/// `GET /v1/groups/{name}/attributes`.
pub async fn group_attributes(State(st): State<ApiState>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    get_attributes(&st, crate::store::assignments::TARGET_GROUP, name).await
}

/// `PUT /v1/groups/{name}/attributes`.
pub async fn put_group_attributes(
    State(st): State<ApiState>,
    Path(name): Path<String>,
    b: JsonBody<serde_json::Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    set_attributes(&st, crate::store::assignments::TARGET_GROUP, name, b).await
}
