//! Handlers for device endpoints: `PUT /mdm/checkin`, `PUT /mdm/connect` and `PUT /mdm` (told
//! apart by body). They gather identity inputs and hand everything to the service.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::request_id;
use crate::identity::IdentityError;
use crate::identity::{IdentityInputs, TlsPeer};
use crate::service::{DeviceResponse, MdmService, ServiceError};
use crate::store::StoreError;

/// What the device handlers need.
#[derive(Debug, Clone)]
pub struct DeviceState {
    /// The MDM service.
    pub service: MdmService,
    /// Name of the proxy client-certificate header (empty = not trusted).
    pub cert_header: Option<axum::http::HeaderName>,
    /// Whether `Mdm-Signature` is accepted.
    pub mdm_signature: bool,
}

fn inputs<'a>(st: &DeviceState, peer: Option<&'a TlsPeer>, headers: &'a HeaderMap, body: &'a [u8]) -> IdentityInputs<'a> {
    IdentityInputs {
        tls_peer: peer,
        proxy_header: st.cert_header.as_ref().and_then(|h| headers.get(h)).and_then(|v| v.to_str().ok()),
        mdm_signature: if st.mdm_signature { headers.get("mdm-signature").and_then(|v| v.to_str().ok()) } else { None },
        body,
    }
}

/// The HTTP status a device is answered with for `e`: the one place service errors become HTTP.
/// Never 401: iOS treats 401 as "unenroll".
fn status_of(e: &ServiceError) -> StatusCode {
    match e {
        ServiceError::Parse(_) | ServiceError::UnknownCommand { .. } | ServiceError::Unsupported(_) => StatusCode::BAD_REQUEST,
        ServiceError::Identity(IdentityError::BadSignature(_) | IdentityError::BadHeader(_) | IdentityError::BadCertificate(_)) => StatusCode::BAD_REQUEST,
        ServiceError::Identity(_)
        | ServiceError::CertNotBound { .. }
        | ServiceError::CertNotForDevice { .. }
        | ServiceError::CertRefused { .. }
        | ServiceError::UnknownEnrollment(_) => StatusCode::FORBIDDEN,
        ServiceError::UserAuthNotConfigured => StatusCode::GONE,
        ServiceError::Store(StoreError::Pool(_) | StoreError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
        ServiceError::Store(_) | ServiceError::Sealed(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn respond(r: Result<DeviceResponse, ServiceError>) -> Response {
    match r {
        Ok(ok) if ok.body.is_empty() => StatusCode::OK.into_response(),
        Ok(ok) => (StatusCode::OK, [(header::CONTENT_TYPE, "application/xml")], ok.body).into_response(),
        Err(e) => {
            let status = status_of(&e);
            let text = if status == StatusCode::SERVICE_UNAVAILABLE {
                tracing::error!(error = %e, "device request failed: database unavailable");
                request_id::unavailable_message()
            } else if status.is_server_error() {
                tracing::error!(error = %e, "device request failed");
                request_id::server_error_message()
            } else {
                tracing::warn!(status = status.as_u16(), error = %e, "device request refused");
                e.to_string()
            };
            let mut r = (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{text}\n")).into_response();
            if status == StatusCode::SERVICE_UNAVAILABLE {
                request_id::retry_after(&mut r, request_id::RETRY_AFTER_SECS);
            }
            r
        }
    }
}

/// `PUT /mdm/checkin`.
pub async fn checkin(State(st): State<DeviceState>, peer: Option<Extension<TlsPeer>>, headers: HeaderMap, body: Bytes) -> Response {
    let peer = peer.as_ref().map(|Extension(p)| p);
    respond(st.service.checkin(inputs(&st, peer, &headers, &body)).await)
}

/// `PUT /mdm/connect`.
pub async fn connect(State(st): State<DeviceState>, peer: Option<Extension<TlsPeer>>, headers: HeaderMap, body: Bytes) -> Response {
    let peer = peer.as_ref().map(|Extension(p)| p);
    respond(st.service.connect(inputs(&st, peer, &headers, &body)).await)
}

/// `PUT /mdm`: check-in or command report, told apart by `MessageType` vs `Status`.
pub async fn any(State(st): State<DeviceState>, peer: Option<Extension<TlsPeer>>, headers: HeaderMap, body: Bytes) -> Response {
    let peer = peer.as_ref().map(|Extension(p)| p);
    respond(st.service.handle_any(inputs(&st, peer, &headers, &body)).await)
}
