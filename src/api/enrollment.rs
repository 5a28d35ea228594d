//! Enrollment administration: local users (`/v1/users`), enrollment tokens with their link and QR
//! code (`/v1/enrollment-tokens`) and blueprints (`/v1/blueprints`). Password hashes and token
//! values are never returned; a token's value is shown once, when it is created.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use base64::Engine;
use serde_json::{json, Value};

use super::json::{body, JsonBody};
use super::{ApiError, ApiState};
use crate::enroll::admin::{NewToken, NewUser, UserChanges};
use crate::enroll::blueprint::Blueprint;
use crate::store::enroll::UserRow;

/// `GET /v1/users`.
pub async fn users(State(st): State<ApiState>) -> Result<Json<Vec<UserRow>>, ApiError> {
    Ok(Json(st.store.enroll().users().await?))
}

/// `POST /v1/users`.
pub async fn create_user(State(st): State<ApiState>, b: JsonBody<NewUser>) -> Result<(StatusCode, Json<UserRow>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.enroll.create_user(body(b)?).await?)))
}

/// `GET /v1/users/{name}`.
pub async fn user(State(st): State<ApiState>, Path(name): Path<String>) -> Result<Json<UserRow>, ApiError> {
    st.store.enroll().user(name.clone()).await?.map(Json).ok_or_else(|| ApiError::NotFound(format!("no user {name}")))
}

/// `PUT /v1/users/{name}`: changes the given fields.
pub async fn update_user(State(st): State<ApiState>, Path(name): Path<String>, b: JsonBody<UserChanges>) -> Result<Json<UserRow>, ApiError> {
    Ok(Json(st.enroll.update_user(&name, body(b)?).await?))
}

/// `DELETE /v1/users/{name}`.
pub async fn delete_user(State(st): State<ApiState>, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    if st.store.enroll().delete_user(name.clone()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no user {name}")))
    }
}

/// `GET /v1/enrollment-tokens`: every token (without values).
pub async fn tokens(State(st): State<ApiState>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(st.store.enroll().enrollment_tokens().await?)))
}

/// `POST /v1/enrollment-tokens`: the token with its value, enrollment URL and QR code (PNG,
/// base64) — shown this once.
pub async fn create_token(State(st): State<ApiState>, b: JsonBody<NewToken>) -> Result<(StatusCode, Json<Value>), ApiError> {
    let t = st.enroll.create_token(body(b)?).await?;
    let mut v = json!(t.row);
    if let Value::Object(m) = &mut v {
        m.insert("token".into(), json!(t.value));
        m.insert("url".into(), json!(t.url));
        m.insert("direct_url".into(), json!(t.direct_url));
        m.insert("qr_png".into(), json!(base64::engine::general_purpose::STANDARD.encode(&t.qr_png)));
    }
    Ok((StatusCode::CREATED, Json(v)))
}

/// `DELETE /v1/enrollment-tokens/{id}`: revokes it.
pub async fn revoke_token(State(st): State<ApiState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    if st.store.enroll().revoke_token(id.clone()).await? {
        tracing::info!(token = %id, "enrollment token revoked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no active enrollment token {id}")))
    }
}

fn blueprint_json(name: &str, b: &Blueprint, stored: bool) -> Value {
    json!({ "name": name, "stored": stored, "blueprint": b })
}

/// `GET /v1/blueprints`: stored blueprints, and the built-in default unless replaced.
pub async fn blueprints(State(st): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let all = st.enroll.blueprints().await?;
    Ok(Json(Value::Array(all.iter().map(|(n, b, s)| blueprint_json(n, b, *s)).collect())))
}

/// `GET /v1/blueprints/{name}`.
pub async fn blueprint(State(st): State<ApiState>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    let stored = st.store.enroll().blueprint(name.clone()).await?.is_some();
    match st.enroll.blueprint_named(&name).await? {
        Some(b) => Ok(Json(blueprint_json(&name, &b, stored))),
        None => Err(ApiError::NotFound(format!("no blueprint {name}"))),
    }
}

/// `PUT /v1/blueprints/{name}`: creates or replaces it (201 when new).
pub async fn put_blueprint(State(st): State<ApiState>, Path(name): Path<String>, b: JsonBody<Blueprint>) -> Result<(StatusCode, Json<Value>), ApiError> {
    let bp = body(b)?;
    let created = st.enroll.put_blueprint(&name, &bp).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(blueprint_json(&name, &bp, true))))
}

/// `DELETE /v1/blueprints/{name}`.
pub async fn delete_blueprint(State(st): State<ApiState>, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    if st.store.enroll().delete_blueprint(name.clone()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no stored blueprint {name}")))
    }
}
