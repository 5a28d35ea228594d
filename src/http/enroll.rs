//! Enrollment endpoints: the page (`GET`/`POST /enroll`), a token's profile-service profile
//! (`GET /enroll/profile`), the profile service devices POST to (`POST /enroll/device`) and the
//! direct enrollment profile (`GET /mdm/enroll`).

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use crate::enroll::{page, EnrollError, EnrollService, LoginError};

/// The content type of configuration profiles.
pub use mdm_profiles::profile_service::PROFILE_CONTENT_TYPE as PROFILE_TYPE;

/// What the enrollment handlers need.
#[derive(Debug, Clone)]
pub struct EnrollState {
    /// The service.
    pub service: EnrollService,
    /// Header with the browser's address (behind a proxy).
    pub client_ip_header: Option<axum::http::HeaderName>,
}

/// `?token=`.
#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    /// The enrollment token.
    #[serde(default)]
    pub token: Option<String>,
}

/// The login form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    /// Username.
    #[serde(default)]
    pub username: String,
    /// Password.
    #[serde(default)]
    pub password: String,
}

/// The browser's address: the last entry of the configured header (what the proxy in front
/// appended; earlier entries come from the client and can be anything), else the connection's.
fn client(st: &EnrollState, peer: Option<&Extension<ConnectInfo<SocketAddr>>>, headers: &HeaderMap) -> IpAddr {
    forwarded(st.client_ip_header.as_ref(), peer, headers)
}

fn forwarded(header: Option<&axum::http::HeaderName>, peer: Option<&Extension<ConnectInfo<SocketAddr>>>, headers: &HeaderMap) -> IpAddr {
    super::client_address(header, peer.map(|p| p.0 .0), headers)
}

/// Nothing here may be cached, and token links must not leak through the Referer header.
fn private(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, header::HeaderValue::from_static("no-referrer"));
    r
}

fn profile(bytes: Vec<u8>, name: &str) -> Response {
    private(
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, PROFILE_TYPE.to_string()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.mobileconfig\""))],
            bytes,
        )
            .into_response(),
    )
}

fn html(status: StatusCode, body: String) -> Response {
    private((status, Html(body)).into_response())
}

/// The HTTP status an enrollment error is answered with (the one place they become HTTP).
fn status_of(e: &EnrollError) -> StatusCode {
    match e {
        EnrollError::BadRequest(_) => StatusCode::BAD_REQUEST,
        EnrollError::Refused(_) => StatusCode::FORBIDDEN,
        EnrollError::NotFound(_) => StatusCode::NOT_FOUND,
        EnrollError::Conflict(_) => StatusCode::CONFLICT,
        EnrollError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        EnrollError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Logs the error; returns what the client is told. Internal failures are described in the
/// log only.
fn told(e: &EnrollError) -> String {
    if status_of(e).is_server_error() {
        tracing::error!(error = %e, "enrollment request failed");
    } else {
        tracing::warn!(status = status_of(e).as_u16(), error = %e, "enrollment request refused");
    }
    match e {
        EnrollError::Internal(_) => super::request_id::server_error_message(),
        other => other.to_string(),
    }
}

/// An error for a browser: the page with the message.
fn page_error(svc: &EnrollService, e: &EnrollError) -> Response {
    let msg = told(e);
    html(status_of(e), page::problem(svc.organization(), &msg))
}

/// An error for a device or a script: plain text.
fn text_error(e: &EnrollError) -> Response {
    let msg = told(e);
    private((status_of(e), [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{msg}\n")).into_response())
}

/// `GET /enroll`: the login form, or with `?token=` the token's install button.
pub async fn page(State(st): State<EnrollState>, Query(q): Query<TokenQuery>) -> Response {
    let svc = &st.service;
    match q.token.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => html(StatusCode::OK, page::login(svc.organization(), None)),
        Some(t) => match svc.usable_token(t).await {
            Ok(row) => html(StatusCode::OK, page::token(svc.organization(), t, row.username.as_deref())),
            Err(e) => page_error(svc, &e),
        },
    }
}

/// `POST /enroll`: checks the login; the profile-service profile, or the form with the reason.
pub async fn login(
    State(st): State<EnrollState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let svc = &st.service;
    let Ok(Form(f)) = form else {
        return html(StatusCode::BAD_REQUEST, page::login(svc.organization(), Some("The form could not be read; please try again.")));
    };
    let ip = client(&st, peer.as_ref(), &headers);
    match svc.login(&f.username, &f.password, ip).await {
        Ok(bytes) => profile(bytes, "enroll"),
        Err(e @ LoginError::Wrong) => html(StatusCode::FORBIDDEN, page::login(svc.organization(), Some(&e.to_string()))),
        Err(e @ LoginError::Blocked(wait)) => {
            let mut r = html(StatusCode::TOO_MANY_REQUESTS, page::login(svc.organization(), Some(&e.to_string())));
            if let Ok(v) = header::HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        Err(LoginError::Enroll(e)) => page_error(svc, &e),
    }
}

/// The connection's address, as the listeners record it (the connection's peer).
type Peer = Option<Extension<ConnectInfo<SocketAddr>>>;

/// `GET /enroll/profile?token=`: the profile-service profile for a token.
pub async fn token_profile(State(st): State<EnrollState>, peer: Peer, headers: HeaderMap, Query(q): Query<TokenQuery>) -> Response {
    let Some(t) = q.token.filter(|t| !t.trim().is_empty()) else {
        return page_error(&st.service, &EnrollError::BadRequest("the link has no enrollment token".into()));
    };
    let ip = client(&st, peer.as_ref(), &headers);
    match st.service.token_profile(&t, ip).await {
        Ok(bytes) => profile(bytes, "enroll"),
        Err(e) => page_error(&st.service, &e),
    }
}

/// `POST /enroll/device`: phase 2 or 3 of the profile service.
pub async fn device(State(st): State<EnrollState>, body: Bytes) -> Response {
    match st.service.device_request(&body).await {
        Ok(bytes) => profile(bytes, "enrollment"),
        Err(e) => text_error(&e),
    }
}

/// `GET /mdm/enroll?token=`: the enrollment profile without the phases.
pub async fn direct(State(st): State<EnrollState>, Query(q): Query<TokenQuery>) -> Response {
    let Some(t) = q.token.filter(|t| !t.trim().is_empty()) else {
        return text_error(&EnrollError::Refused("an enrollment token is required: /mdm/enroll?token=...".into()));
    };
    match st.service.direct_profile(&t).await {
        Ok(bytes) => profile(bytes, "mdm"),
        Err(e) => text_error(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_address_is_the_proxys_last_entry() {
        let headers = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert("x-forwarded-for", v.parse().unwrap());
            h
        };
        let name = Some(axum::http::HeaderName::from_static("x-forwarded-for"));
        let peer = Extension(ConnectInfo(SocketAddr::from(([192, 0, 2, 1], 5000))));
        let pick = |name: Option<axum::http::HeaderName>, h: &HeaderMap| forwarded(name.as_ref(), Some(&peer), h);
        assert_eq!(pick(name.clone(), &headers("6.6.6.6, 10.1.2.3")), "10.1.2.3".parse::<IpAddr>().unwrap(), "a forged first entry is ignored");
        assert_eq!(pick(name.clone(), &headers("garbage")), "192.0.2.1".parse::<IpAddr>().unwrap());
        assert_eq!(pick(None, &headers("10.1.2.3")), "192.0.2.1".parse::<IpAddr>().unwrap(), "the header counts only when configured");
    }
}
