//! Mock third-party endpoints the server's connectors call, over real TLS: a Vocera web logout
//! (`POST /vocera/SAML/webLogout`) and an Epic Interconnect with an OAuth2 backend-services
//! token endpoint (which fetches the server's JWK Set and verifies the client assertion as Epic
//! does) and DisassociateMobileDevice. Each records the calls it got and can be switched to
//! fail (500), hang, or answer "Install ID not found".

use std::collections::{BTreeMap, HashSet};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// How a mock answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Success.
    Ok,
    /// HTTP 500 to everything.
    Fail,
    /// Never answers.
    Hang,
    /// Epic: HTTP 400 "Install ID not found"; Vocera: 404 "user not found".
    NotFound,
}

/// A call a mock received.
#[derive(Debug, Clone)]
pub struct VendorCall {
    /// Request path.
    pub path: String,
    /// Form or JSON fields of the body (strings).
    pub fields: BTreeMap<String, String>,
    /// Whether it carried an access token the mock issued (Epic).
    pub authorized: bool,
    /// The mode it was answered in.
    pub mode: Mode,
}

/// Epic's side of the backend-services registration.
#[derive(Debug, Clone)]
pub struct EpicRegistration {
    /// The client id Epic issued.
    pub client_id: String,
    /// The JWK Set URL the customer registered (the server's `/connectors/jwks.json`).
    pub jwks_url: String,
    /// PEM of the CA the JWK Set URL's certificate chains to.
    pub ca_pem: Vec<u8>,
}

struct State {
    mode: Mutex<Mode>,
    calls: Mutex<Vec<VendorCall>>,
    epic: Option<EpicRegistration>,
    tokens: Mutex<HashSet<String>>,
    rejected: Mutex<Vec<String>>,
    addr: SocketAddr,
}

/// A running mock vendor.
pub struct MockVendor {
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for MockVendor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockVendor").field("addr", &self.state.addr).finish()
    }
}

impl Drop for MockVendor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Why a mock could not start.
#[derive(Debug, thiserror::Error)]
pub enum VendorError {
    /// Socket.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// TLS material.
    #[error("TLS: {0}")]
    Tls(String),
}

impl MockVendor {
    /// A Vocera server on 127.0.0.1 with the TLS certificate and key (PEM).
    pub async fn vocera(cert_pem: &[u8], key_pem: &[u8]) -> Result<MockVendor, VendorError> {
        Self::start(cert_pem, key_pem, None).await
    }

    /// An Epic Interconnect on 127.0.0.1 knowing one backend-services client.
    pub async fn epic(cert_pem: &[u8], key_pem: &[u8], registration: EpicRegistration) -> Result<MockVendor, VendorError> {
        Self::start(cert_pem, key_pem, Some(registration)).await
    }

    async fn start(cert_pem: &[u8], key_pem: &[u8], epic: Option<EpicRegistration>) -> Result<MockVendor, VendorError> {
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(cert_pem).collect::<Result<_, _>>().map_err(|e| VendorError::Tls(e.to_string()))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| VendorError::Tls(e.to_string()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| VendorError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| VendorError::Tls(e.to_string()))?;
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            mode: Mutex::new(Mode::Ok),
            calls: Mutex::new(Vec::new()),
            epic,
            tokens: Mutex::new(HashSet::new()),
            rejected: Mutex::new(Vec::new()),
            addr,
        });
        let st = state.clone();
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    r = listener.accept() => {
                        let Ok((tcp, _)) = r else { continue };
                        let (acceptor, st) = (acceptor.clone(), st.clone());
                        conns.spawn(async move {
                            let Ok(Ok(stream)) = tokio::time::timeout(Duration::from_secs(5), acceptor.accept(tcp)).await else { return };
                            let svc = hyper::service::service_fn(move |req| handle(st.clone(), req));
                            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), svc).await;
                        });
                    }
                    Some(_) = conns.join_next(), if !conns.is_empty() => {}
                }
            }
        });
        Ok(MockVendor { state, task })
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.state.addr)
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        self.state.addr.to_string()
    }

    /// How it answers from now on.
    pub fn set_mode(&self, m: Mode) {
        *self.state.mode.lock().unwrap_or_else(|p| p.into_inner()) = m;
    }

    /// Every call so far (token requests excluded).
    pub fn calls(&self) -> Vec<VendorCall> {
        self.state.calls.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Client assertions the token endpoint refused, with why.
    pub fn rejected(&self) -> Vec<String> {
        self.state.rejected.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

type Answer = Response<Full<Bytes>>;

fn answer(status: StatusCode, body: impl Into<Bytes>) -> Answer {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r
}

fn fields(content_type: &str, body: &[u8]) -> BTreeMap<String, String> {
    if content_type.starts_with("application/json") {
        let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        return v
            .as_object()
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))).collect())
            .unwrap_or_default();
    }
    form_pairs(body)
}

fn form_pairs(body: &[u8]) -> BTreeMap<String, String> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let dec = |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
            (dec(k), dec(v))
        })
        .collect()
}

async fn handle(st: Arc<State>, req: Request<hyper::body::Incoming>) -> Result<Answer, Infallible> {
    let path = req.uri().path().to_string();
    let ct = req.headers().get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let auth = req.headers().get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    let method = req.method().clone();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(answer(StatusCode::BAD_REQUEST, "unreadable body")),
    };
    let mode = *st.mode.lock().unwrap_or_else(|p| p.into_inner());
    if method == http::Method::OPTIONS {
        return Ok(answer(StatusCode::NO_CONTENT, ""));
    }
    match mode {
        Mode::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return Ok(answer(StatusCode::GATEWAY_TIMEOUT, ""));
        }
        Mode::Fail => {
            record(&st, &path, fields(&ct, &body), false, mode);
            return Ok(answer(StatusCode::INTERNAL_SERVER_ERROR, "internal error"));
        }
        _ => {}
    }
    if let Some(reg) = &st.epic {
        if path.ends_with("/oauth2/token") {
            return Ok(token(&st, reg, &path, &body).await);
        }
        if path.ends_with("/DisassociateMobileDevice") {
            let authorized = auth
                .and_then(|a| a.strip_prefix("Bearer ").map(str::to_string))
                .is_some_and(|t| st.tokens.lock().unwrap_or_else(|p| p.into_inner()).contains(&t));
            record(&st, &path, fields(&ct, &body), authorized, mode);
            if !authorized {
                return Ok(answer(StatusCode::UNAUTHORIZED, r#"{"Message":"invalid access token"}"#));
            }
            return Ok(match mode {
                Mode::NotFound => answer(StatusCode::BAD_REQUEST, r#"{"Message":"An error occurred: Install ID not found."}"#),
                _ => answer(StatusCode::OK, r#"{"Success":true}"#),
            });
        }
        return Ok(answer(StatusCode::NOT_FOUND, "no such Interconnect endpoint"));
    }
    if path == "/vocera/SAML/webLogout" && method == http::Method::POST {
        record(&st, &path, fields(&ct, &body), false, mode);
        return Ok(match mode {
            Mode::NotFound => answer(StatusCode::NOT_FOUND, "user not found"),
            _ => answer(StatusCode::OK, "logged out"),
        });
    }
    Ok(answer(StatusCode::NOT_FOUND, "not found"))
}

fn record(st: &State, path: &str, fields: BTreeMap<String, String>, authorized: bool, mode: Mode) {
    st.calls.lock().unwrap_or_else(|p| p.into_inner()).push(VendorCall { path: path.to_string(), fields, authorized, mode });
}

/// The token endpoint: verifies the JWT client assertion against the registered JWK Set.
async fn token(st: &State, reg: &EpicRegistration, path: &str, body: &[u8]) -> Answer {
    let form = form_pairs(body);
    let aud = format!("https://{}{path}", st.addr);
    match verify(reg, &form, &aud).await {
        Ok(()) => {
            let t = uuid::Uuid::new_v4().simple().to_string();
            st.tokens.lock().unwrap_or_else(|p| p.into_inner()).insert(t.clone());
            answer(StatusCode::OK, serde_json::json!({"access_token": t, "token_type": "bearer", "expires_in": 3600}).to_string())
        }
        Err(why) => {
            st.rejected.lock().unwrap_or_else(|p| p.into_inner()).push(why.clone());
            answer(StatusCode::BAD_REQUEST, serde_json::json!({"error": "invalid_client", "error_description": why}).to_string())
        }
    }
}

async fn verify(reg: &EpicRegistration, form: &BTreeMap<String, String>, aud: &str) -> Result<(), String> {
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return Err("grant_type must be client_credentials".into());
    }
    if form.get("client_assertion_type").map(String::as_str) != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
        return Err("client_assertion_type must be jwt-bearer".into());
    }
    let jwt = form.get("client_assertion").ok_or("no client_assertion")?;
    let header = jsonwebtoken::decode_header(jwt).map_err(|e| format!("assertion header: {e}"))?;
    if header.alg != jsonwebtoken::Algorithm::RS384 {
        return Err(format!("alg {:?}, not RS384", header.alg));
    }
    let kid = header.kid.ok_or("no kid")?;
    let ca = reqwest::Certificate::from_pem(&reg.ca_pem).map_err(|e| e.to_string())?;
    let client = reqwest::Client::builder().add_root_certificate(ca).build().map_err(|e| e.to_string())?;
    let set: jsonwebtoken::jwk::JwkSet =
        client.get(&reg.jwks_url).send().await.map_err(|e| format!("JWK Set: {e}"))?.json().await.map_err(|e| format!("JWK Set: {e}"))?;
    let jwk = set.find(&kid).ok_or_else(|| format!("kid {kid} is not in the JWK Set"))?;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS384);
    v.set_audience(&[aud]);
    v.set_issuer(&[&reg.client_id]);
    v.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
    let data = jsonwebtoken::decode::<serde_json::Value>(jwt, &key, &v).map_err(|e| format!("assertion: {e}"))?;
    let c = data.claims;
    if c.get("sub").and_then(|s| s.as_str()) != Some(reg.client_id.as_str()) {
        return Err("sub must be the client id".into());
    }
    if c.get("jti").and_then(|s| s.as_str()).is_none_or(str::is_empty) {
        return Err("no jti".into());
    }
    let exp = c.get("exp").and_then(|x| x.as_i64()).unwrap_or(0);
    if exp - chrono::Utc::now().timestamp() > 300 {
        return Err("the assertion lives longer than 5 minutes".into());
    }
    Ok(())
}
