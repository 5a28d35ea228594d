//! HTTP binding of the SCEP server: `GET|POST <path>?operation=...` (RFC 8894 §4).

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;

use super::{ScepServeError, ScepService};

/// The query every SCEP request carries.
#[derive(Debug, Deserialize)]
pub struct ScepQuery {
    /// GetCACaps, GetCACert or PKIOperation.
    #[serde(default)]
    pub operation: String,
    /// PKIOperation over GET: the base64 PKIMessage.
    #[serde(default)]
    pub message: Option<String>,
}

impl IntoResponse for ScepServeError {
    fn into_response(self) -> Response {
        let status = match &self {
            ScepServeError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ScepServeError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!(error = %self, "SCEP request failed");
        } else {
            tracing::info!(error = %self, "SCEP request refused");
        }
        let text = match &self {
            ScepServeError::Internal(_) => crate::http::request_id::server_error_message(),
            other => other.to_string(),
        };
        (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{text}\n")).into_response()
    }
}

async fn operate(svc: &ScepService, q: ScepQuery, body: Option<Bytes>) -> Result<Response, ScepServeError> {
    match q.operation.as_str() {
        "GetCACaps" => Ok(([(header::CONTENT_TYPE, "text/plain")], svc.caps()).into_response()),
        "GetCACert" => {
            let (ctype, der) = svc.ca_certs()?;
            Ok(([(header::CONTENT_TYPE, ctype)], der).into_response())
        }
        "PKIOperation" => {
            let msg = match body.filter(|b| !b.is_empty()) {
                Some(b) => b.to_vec(),
                None => {
                    let text = q.message.ok_or_else(|| ScepServeError::BadRequest("PKIOperation needs a message".into()))?;
                    // Clients that do not escape '+' in the query have it decoded as a space.
                    let text: String = text.chars().filter(|c| *c != '\n' && *c != '\r').map(|c| if c == ' ' { '+' } else { c }).collect();
                    base64::engine::general_purpose::STANDARD
                        .decode(text.trim())
                        .map_err(|e| ScepServeError::BadRequest(format!("message is not base64: {e}")))?
                }
            };
            let rep = svc.pki_operation(msg).await?;
            Ok(([(header::CONTENT_TYPE, "application/x-pki-message")], rep).into_response())
        }
        "" => Err(ScepServeError::BadRequest("missing operation (GetCACaps, GetCACert or PKIOperation)".into())),
        other => Err(ScepServeError::BadRequest(format!("unknown operation {other:?}"))),
    }
}

/// `GET <path>`.
pub async fn get(State(svc): State<ScepService>, Query(q): Query<ScepQuery>) -> Result<Response, ScepServeError> {
    operate(&svc, q, None).await
}

/// `POST <path>`: PKIOperation with the PKIMessage as body.
pub async fn post(State(svc): State<ScepService>, Query(q): Query<ScepQuery>, body: Bytes) -> Result<Response, ScepServeError> {
    operate(&svc, q, Some(body)).await
}
