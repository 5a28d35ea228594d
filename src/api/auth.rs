//! Admin authentication and authorization, one middleware on every `/v1` route and `/metrics`:
//! `Authorization: Bearer <token>`, or HTTP Basic with the token as the password (any user name,
//! as NanoMDM's tools send). The token is the configured bootstrap key (role admin) or an API
//! token made through `/v1/tokens` or `mdm token create` (stored hashed, with a role and an
//! optional expiry). Failed authentications are counted per client address and, past
//! `api.auth_failures` within `api.auth_window`, the client is held off with 429. The route's
//! need is checked against the role ([`super::authz`]); every change (any method but GET/HEAD) is
//! written to the audit log with who, what, when, from where and the status answered. This is
//! the only place the server answers 401.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderName, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use subtle::ConstantTimeEq;

use super::authz::{self, Role};
use super::{ApiError, ApiState};
use crate::identity::cert::sha256_hex;
use crate::limiter::LoginLimiter;
use crate::store::tokens::NewAudit;
use crate::store::{Store, StoreError};

/// The actor of the bootstrap key in the audit log.
pub const BOOTSTRAP: &str = "bootstrap key";
/// How often a token's `last_used_at` is written at most.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// Who is calling, put into each authenticated request's extensions.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's name, or [`BOOTSTRAP`].
    pub actor: String,
    /// The token's id (none for the bootstrap key).
    pub token_id: Option<String>,
    /// Its role.
    pub role: Role,
    /// A kiosk token's device.
    pub device: Option<String>,
    /// The client's address.
    pub client: IpAddr,
}

/// What a presented key turned out to be.
enum Identified {
    /// A caller.
    Caller(Caller),
    /// A token the server knows but no longer accepts (403, logged).
    Refused(String),
    /// Nothing known (401).
    Nobody,
}

/// The authentication state of the API: the bootstrap key, the failure limiter, when each
/// token's use was last written.
#[derive(Debug)]
pub struct Gate {
    bootstrap: String,
    limiter: LoginLimiter,
    client_ip_header: Option<HeaderName>,
    touched: Mutex<HashMap<String, Instant>>,
    /// The time token expiry and audit entries are judged and written at.
    clock: crate::clock::SharedClock,
}

impl Gate {
    /// A gate with the bootstrap key, allowing `failures` failed authentications per client
    /// within `window`.
    pub fn new(bootstrap: String, failures: u32, window: Duration, client_ip_header: Option<HeaderName>) -> Gate {
        Gate { bootstrap, limiter: LoginLimiter::new(failures, window), client_ip_header, touched: Mutex::new(HashMap::new()), clock: crate::clock::system() }
    }

    /// The same gate on `clock`.
    pub fn with_clock(self, clock: crate::clock::SharedClock) -> Gate {
        Gate { clock, ..self }
    }

    /// Who `presented` is: the bootstrap key, a valid stored token, a device's current kiosk
    /// token, or nobody. A kiosk token that was rotated, or a kiosk-role token that expired or
    /// was revoked, is known but refused ([`Identified::Refused`], answered 403).
    async fn identify(&self, store: &Store, presented: &str, client: IpAddr) -> Result<Identified, StoreError> {
        if bool::from(presented.as_bytes().ct_eq(self.bootstrap.as_bytes())) {
            return Ok(Identified::Caller(Caller { actor: BOOTSTRAP.into(), token_id: None, role: Role::Admin, device: None, client }));
        }
        let hash = sha256_hex(presented.as_bytes());
        let Some(t) = store.tokens().api_token_by_hash(hash.clone()).await? else {
            return self.kiosk(store, hash, client).await;
        };
        let at = self.clock.now();
        let role = Role::parse(&t.role);
        let (Some(role), None, true) = (role, t.revoked_at, t.expires_at.is_none_or(|e| e > at)) else {
            if role == Some(Role::Kiosk) {
                return Ok(Identified::Refused(format!("kiosk token {} is expired or revoked", t.name)));
            }
            return Ok(Identified::Nobody);
        };
        if self.should_touch(&t.id) {
            store.tokens().touch_api_token(t.id.clone(), at).await?;
        }
        Ok(Identified::Caller(Caller { actor: t.name, token_id: Some(t.id), role, device: t.device_id, client }))
    }

    /// A kiosk token the server made for a shared device's locker app.
    async fn kiosk(&self, store: &Store, hash: String, client: IpAddr) -> Result<Identified, StoreError> {
        let Some(k) = store.shared().kiosk_token(hash).await? else { return Ok(Identified::Nobody) };
        if k.rotated_at.is_some() {
            return Ok(Identified::Refused(format!("the kiosk token of device {} was rotated at a check-in; the locker app has the new one", k.device_id)));
        }
        Ok(Identified::Caller(Caller { actor: format!("kiosk {}", k.device_id), token_id: None, role: Role::Kiosk, device: Some(k.device_id), client }))
    }

    fn should_touch(&self, id: &str) -> bool {
        let Ok(mut m) = self.touched.lock() else { return false };
        let fresh = m.get(id).is_some_and(|t| t.elapsed() < TOUCH_EVERY);
        if !fresh {
            if m.len() > 10_000 {
                m.clear();
            }
            m.insert(id.to_string(), Instant::now());
        }
        !fresh
    }
}

/// The key a request presents, if any.
pub fn presented_key(header: &str) -> Option<String> {
    let (scheme, rest) = header.trim().split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().to_string());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let raw = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (_, password) = text.split_once(':')?;
        return Some(password.to_string());
    }
    None
}

/// The device a device route names (`/v1/devices/{id}…`).
fn route_device<'a>(route: &str, path: &'a str) -> Option<&'a str> {
    route.starts_with("/v1/devices/{id}").then(|| path.split('/').nth(3)).flatten()
}

/// Middleware: authenticates, limits failures, authorizes, audits changes.
pub async fn require(State(st): State<ApiState>, mut req: Request, next: Next) -> Response {
    let gate = &st.gate;
    let peer = req.extensions().get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0);
    let client = crate::http::client_address(gate.client_ip_header.as_ref(), peer, req.headers());
    if let Some(wait) = gate.limiter.blocked(client, Instant::now()) {
        tracing::warn!(%client, "admin API: client held off after failed authentications");
        return ApiError::TooManyAttempts(wait).into_response();
    }
    let presented = req.headers().get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(presented_key);
    let caller = match presented {
        Some(k) => gate.identify(&st.store, &k, client).await,
        None => Ok(Identified::Nobody),
    };
    let caller = match caller {
        Ok(Identified::Caller(c)) => c,
        Ok(Identified::Refused(why)) => {
            tracing::warn!(%client, path = %req.uri().path(), reason = %why, "admin API: refused token");
            return ApiError::Forbidden(why).into_response();
        }
        Ok(Identified::Nobody) => {
            gate.limiter.failed(client, Instant::now());
            tracing::warn!(%client, path = %req.uri().path(), "admin API: authentication failed");
            return ApiError::Unauthorized.into_response();
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    gate.limiter.succeeded(client);
    let route = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_default();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let need = authz::need(&method, &route);
    let change = method != Method::GET && method != Method::HEAD;
    let resp = if authz::allows(caller.role, caller.device.as_deref(), need, &route, route_device(&route, &path)) {
        req.extensions_mut().insert(caller.clone());
        next.run(req).await
    } else {
        tracing::warn!(actor = %caller.actor, role = caller.role.as_str(), %method, %path, "admin API: not allowed for this role");
        ApiError::Forbidden(format!("the {} role may not {method} {route}", caller.role.as_str())).into_response()
    };
    if change {
        audit(&st.store, &caller, &method, &path, resp.status().as_u16(), st.gate.clock.now()).await;
    }
    resp
}

/// Writes one audit entry; a failure is logged (the change itself has happened).
async fn audit(store: &Store, c: &Caller, method: &Method, path: &str, status: u16, at: chrono::NaiveDateTime) {
    let entry = NewAudit {
        at,
        actor: c.actor.clone(),
        token_id: c.token_id.clone(),
        role: c.role.as_str().to_string(),
        client: c.client.to_string(),
        method: method.to_string(),
        path: path.to_string(),
        status: i32::from(status),
        detail: None,
    };
    if let Err(e) = store.tokens().audit(entry).await {
        tracing::error!(error = %e, actor = %c.actor, %method, %path, status, "writing the audit log failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bearer_and_basic() {
        assert_eq!(presented_key("Bearer abc").as_deref(), Some("abc"));
        let basic = base64::engine::general_purpose::STANDARD.encode("nanomdm:s3cret");
        assert_eq!(presented_key(&format!("Basic {basic}")).as_deref(), Some("s3cret"));
        assert_eq!(presented_key("Digest x"), None);
        assert_eq!(presented_key("Basic !!!"), None);
    }

    #[test]
    fn device_routes_name_their_device() {
        assert_eq!(route_device("/v1/devices/{id}", "/v1/devices/ABC"), Some("ABC"));
        assert_eq!(route_device("/v1/devices/{id}/commands", "/v1/devices/ABC/commands"), Some("ABC"));
        assert_eq!(route_device("/v1/devices", "/v1/devices"), None);
    }

    /// A token's expiry is judged at the gate's clock: the same token is accepted before its
    /// expiry and refused once the clock has passed it.
    #[tokio::test]
    async fn token_expiry_follows_the_clock() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(dir.path().join("gate.db").to_str().unwrap(), 2).unwrap();
        store.migrate().await.unwrap();
        let t = super::super::tokens::NewToken {
            name: "ward-kiosk-admin".into(),
            role: "helpdesk".into(),
            device: None,
            expires_in: Some(Duration::from_secs(3600)),
        };
        let issued = super::super::tokens::issue(&store, t, "test").await.unwrap();
        let clock = crate::clock::ManualClock::at(crate::store::now());
        let gate = Gate::new("bootstrap-key-0123456789abcdef".into(), 10, Duration::from_secs(60), None).with_clock(std::sync::Arc::new(clock.clone()));
        let client: IpAddr = "192.0.2.7".parse().unwrap();
        let who = gate.identify(&store, &issued.token, client).await.unwrap();
        assert!(matches!(who, Identified::Caller(c) if c.role == Role::Helpdesk));
        clock.advance(chrono::Duration::minutes(61));
        assert!(matches!(gate.identify(&store, &issued.token, client).await.unwrap(), Identified::Nobody), "expired by the clock");
    }
}
