//! Push certificate endpoints (`GET|PUT /v1/pushcert`, `DELETE /v1/pushcert/{topic}`) and
//! `GET /metrics`.
//!
//! `PUT /v1/pushcert` takes either JSON — `{"p12": "<base64>", "password": "..."}` or
//! `{"cert_pem": "...", "key_pem": "..."}`, each with an optional `"force": true` — or a raw
//! body: PEM with certificate and key (as NanoMDM's tools send) or a .p12 file, with the
//! password in the `X-Password` header and `?force=1` in the query. A password is never taken
//! from the URL, where access logs would keep it.

use crate::store::push::TopicChange;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use base64::Engine;
use serde::Deserialize;

use super::{ApiError, ApiState};
use crate::push::service::{CertView, ImportError, Imported};
use crate::secrets::SecretsError;

/// JSON form of an upload.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadJson {
    /// A .p12 file, base64.
    #[serde(default)]
    pub p12: Option<String>,
    /// The .p12 password.
    #[serde(default)]
    pub password: Option<String>,
    /// Certificate (PEM).
    #[serde(default)]
    pub cert_pem: Option<String>,
    /// Private key (PEM, PKCS#1 or PKCS#8).
    #[serde(default)]
    pub key_pem: Option<String>,
    /// Accept a topic different from the stored one (keeps both).
    #[serde(default)]
    pub force: bool,
}

/// Query of the raw upload.
#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    /// `force=1` accepts a new topic.
    #[serde(default)]
    pub force: Option<String>,
}

fn truthy(v: Option<&str>) -> bool {
    v.is_some_and(|v| matches!(v, "1" | "true" | "yes"))
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Cert(c) if c.is_client_error() => ApiError::BadRequest(c.to_string()),
            ImportError::Cert(c) => ApiError::Internal(c.to_string()),
            ImportError::Store(s) => s.into(),
            e @ ImportError::Development => ApiError::BadRequest(e.to_string()),
            ImportError::Secrets(s @ SecretsError::NotConfigured) => ApiError::Internal(format!("server misconfigured: {s}")),
            ImportError::Secrets(s) => ApiError::Internal(s.to_string()),
        }
    }
}

/// `GET /v1/pushcert`: stored certificates, newest (active) first; never the keys.
pub async fn list(State(st): State<ApiState>) -> Result<Json<Vec<CertView>>, ApiError> {
    Ok(Json(st.push.certs().await?))
}

/// `PUT /v1/pushcert`: import (or renew) the MDM push certificate.
pub async fn import(
    State(st): State<ApiState>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Imported>), ApiError> {
    let is_json = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.trim_start().starts_with("application/json"));
    let imported = if is_json {
        let u: UploadJson = super::json::parse_json(&body)?;
        let data = match (u.p12, u.cert_pem, u.key_pem) {
            (Some(p12), None, None) => {
                base64::engine::general_purpose::STANDARD.decode(p12.trim()).map_err(|e| ApiError::BadRequest(format!("p12 is not base64: {e}")))?
            }
            (None, Some(cert), Some(key)) => format!("{cert}\n{key}\n").into_bytes(),
            _ => return Err(ApiError::BadRequest("give either p12 (+ password) or cert_pem and key_pem".into())),
        };
        st.push.import(&data, u.password.as_deref(), TopicChange::forced(u.force)).await?
    } else {
        if body.is_empty() {
            return Err(ApiError::BadRequest("empty body: send the .p12 or PEM certificate and key".into()));
        }
        let password = headers.get("x-password").and_then(|v| v.to_str().ok());
        st.push.import(&body, password, TopicChange::forced(truthy(q.force.as_deref()))).await?
    };
    Ok((StatusCode::OK, Json(imported)))
}

/// `DELETE /v1/pushcert/{topic}`.
pub async fn remove(State(st): State<ApiState>, Path(topic): Path<String>) -> Result<StatusCode, ApiError> {
    if st.push.delete(&topic).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("no push certificate for topic {topic}")))
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(st): State<ApiState>) -> Result<impl IntoResponse, ApiError> {
    let snapshot = st.store.stats().snapshot().await?;
    let text = st.push.metrics().scrape(&snapshot, crate::store::now());
    Ok(([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text))
}
