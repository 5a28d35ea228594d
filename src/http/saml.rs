//! The device-trust factor's public endpoints: `GET /saml/metadata` and `/saml/sso` in the
//! HTTP-Redirect (`GET`) and HTTP-POST (`POST`) bindings. The client certificate comes from the
//! TLS handshake or, behind a proxy, from `identity.client_cert_header`.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use crate::identity::TlsPeer;
use crate::saml::{page, xml, SamlService, Sso};

/// What the handlers need.
#[derive(Debug, Clone)]
pub struct SamlState {
    /// The service.
    pub service: SamlService,
    /// The proxy's client-certificate header, when configured.
    pub cert_header: Option<axum::http::HeaderName>,
}

/// The binding's parameters.
#[derive(Debug, Deserialize)]
pub struct SsoParams {
    /// The AuthnRequest.
    #[serde(rename = "SAMLRequest")]
    pub saml_request: Option<String>,
    /// Opaque state handed back to the provider.
    #[serde(rename = "RelayState")]
    pub relay_state: Option<String>,
}

/// `GET /saml/metadata`.
pub async fn metadata(State(st): State<SamlState>) -> Response {
    match st.service.metadata().await {
        Ok(x) => ([(header::CONTENT_TYPE, "application/samlmetadata+xml")], x).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "SAML metadata failed");
            (StatusCode::SERVICE_UNAVAILABLE, "metadata unavailable; try again\n").into_response()
        }
    }
}

/// `GET /saml/sso` (HTTP-Redirect binding).
pub async fn sso_redirect(State(st): State<SamlState>, peer: Option<Extension<TlsPeer>>, headers: HeaderMap, Query(p): Query<SsoParams>) -> Response {
    let req = p.saml_request.as_deref().ok_or_else(|| "no SAMLRequest".to_string()).and_then(xml::decode_redirect);
    answer(&st, req, p.relay_state, peer, &headers).await
}

/// `POST /saml/sso` (HTTP-POST binding).
pub async fn sso_post(State(st): State<SamlState>, peer: Option<Extension<TlsPeer>>, headers: HeaderMap, Form(p): Form<SsoParams>) -> Response {
    let req = p.saml_request.as_deref().ok_or_else(|| "no SAMLRequest".to_string()).and_then(xml::decode_post);
    answer(&st, req, p.relay_state, peer, &headers).await
}

async fn answer(st: &SamlState, req: Result<String, String>, relay: Option<String>, peer: Option<Extension<TlsPeer>>, headers: &HeaderMap) -> Response {
    let relay = match relay {
        Some(r) if r.len() > 1024 || r.chars().any(char::is_control) => {
            return page_response(400, "The sign-in request's RelayState is too long or not text.", "Start the sign-in again from the application.")
        }
        r => r,
    };
    let proxy = st.cert_header.as_ref().and_then(|h| headers.get(h)).and_then(|v| v.to_str().ok());
    match st.service.sso(req, relay, peer.as_ref().map(|Extension(p)| p), proxy).await {
        Ok(Sso::Post { acs_url, saml_response, relay_state }) => {
            let mut r = axum::response::Html(page::post_form(&acs_url, &saml_response, relay_state.as_deref())).into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(page::POST_CSP));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Ok(Sso::Refused { status, why, what_to_do }) => page_response(status, &why, &what_to_do),
        Err(e) => {
            tracing::error!(error = %e, "SAML sign-in failed");
            page_response(503, "The server could not check this device just now.", "Try again in a minute.")
        }
    }
}

fn page_response(status: u16, why: &str, what: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
    let mut r = (code, axum::response::Html(page::refused(why, what))).into_response();
    r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
