//! The APNs provider client: HTTP/2 over TLS with the MDM push certificate as client
//! certificate, `POST /3/device/<token>` per push.
//!
//! Written here on hyper's HTTP/2 connection API rather than with the `a2` crate: `a2` only
//! talks to Apple's hosts (so the push path could not be tested against a mock), trusts the
//! webpki roots only, and loads PKCS#8 keys only. This client takes any base URL and trust
//! roots, and keeps a small pool of connections per push certificate (topic): every push picks
//! the next connection round-robin, so a slow or broken connection delays only its own streams
//! and is replaced on the next use.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde::Serialize;

use super::cert::PushCert;
use super::{PushFuture, PushTarget, Pusher};
use crate::config::PushConfig;

/// Errors building the client.
#[derive(Debug, thiserror::Error)]
pub enum ApnsSetupError {
    /// The base URL is not an `https://host[:port]` URL.
    #[error("push.url {0:?} must be https://host[:port]")]
    Url(String),
    /// A trust root file could not be read or parsed.
    #[error("push.ca_certs {path}: {message}")]
    Roots {
        /// File.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// What happened to one push. Serialized for the API as `{"result": "...", ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum PushOutcome {
    /// APNs accepted the push.
    Sent {
        /// The `apns-id` APNs returned.
        apns_id: String,
    },
    /// 410: the token is no longer valid for the topic.
    Unregistered {
        /// When APNs last confirmed the token was invalid (ms since the epoch), if given.
        timestamp: Option<i64>,
    },
    /// 400 BadDeviceToken / DeviceTokenNotForTopic: this token will never work.
    BadToken {
        /// APNs' reason.
        reason: String,
    },
    /// The push certificate is missing, expired or refused (403, topic errors, TLS refusal).
    Certificate {
        /// What is wrong.
        reason: String,
    },
    /// Worth retrying later: 429, 5xx, connection failures, timeouts.
    Retry {
        /// What happened.
        reason: String,
    },
    /// Not sent at all (unknown enrollment, not enrolled, token known to be stale).
    NotSent {
        /// Why.
        reason: String,
    },
    /// Refused for another reason (a request APNs considers malformed).
    Rejected {
        /// HTTP status.
        status: u16,
        /// APNs' reason.
        reason: String,
    },
}

impl PushOutcome {
    /// Short name stored as the enrollment's last push result.
    pub fn name(&self) -> &'static str {
        match self {
            PushOutcome::Sent { .. } => "sent",
            PushOutcome::Unregistered { .. } => "unregistered",
            PushOutcome::BadToken { .. } => "bad_token",
            PushOutcome::Certificate { .. } => "certificate",
            PushOutcome::Retry { .. } => "retry",
            PushOutcome::Rejected { .. } => "rejected",
            PushOutcome::NotSent { .. } => "not_sent",
        }
    }

    /// The failure reason (None when sent).
    pub fn error(&self) -> Option<String> {
        match self {
            PushOutcome::Sent { .. } => None,
            PushOutcome::Unregistered { timestamp: Some(ms) } => Some(format!("Unregistered (token invalid since {ms} ms after the epoch)")),
            PushOutcome::Unregistered { timestamp: None } => Some("Unregistered".into()),
            PushOutcome::BadToken { reason } | PushOutcome::Certificate { reason } | PushOutcome::Retry { reason } | PushOutcome::NotSent { reason } => {
                Some(reason.clone())
            }
            PushOutcome::Rejected { status, reason } => Some(format!("{status} {reason}")),
        }
    }

    /// When APNs found the token invalid (a 410's timestamp), as UTC.
    pub fn invalid_since(&self) -> Option<chrono::NaiveDateTime> {
        match self {
            PushOutcome::Unregistered { timestamp: Some(ms) } => chrono::DateTime::from_timestamp_millis(*ms).map(|t| t.naive_utc()),
            _ => None,
        }
    }

    /// Whether the token can never work again (until the device sends a new one).
    pub fn token_is_stale(&self) -> bool {
        matches!(self, PushOutcome::Unregistered { .. } | PushOutcome::BadToken { .. })
    }

    /// Maps an APNs response status and JSON body to an outcome.
    pub fn from_response(status: u16, apns_id: Option<String>, body: &[u8]) -> PushOutcome {
        #[derive(serde::Deserialize, Default)]
        struct Reason {
            #[serde(default)]
            reason: String,
            #[serde(default)]
            timestamp: Option<i64>,
        }
        let r: Reason = serde_json::from_slice(body).unwrap_or_default();
        let reason = if r.reason.is_empty() { format!("HTTP {status}") } else { r.reason };
        match status {
            200 => PushOutcome::Sent { apns_id: apns_id.unwrap_or_default() },
            410 => PushOutcome::Unregistered { timestamp: r.timestamp },
            400 if matches!(reason.as_str(), "BadDeviceToken" | "DeviceTokenNotForTopic") => PushOutcome::BadToken { reason },
            400 if matches!(reason.as_str(), "TopicDisallowed" | "BadTopic" | "MissingTopic" | "BadCertificate" | "BadCertificateEnvironment") => {
                PushOutcome::Certificate { reason }
            }
            403 => PushOutcome::Certificate { reason },
            429 | 500..=599 => PushOutcome::Retry { reason: format!("{status} {reason}") },
            _ => PushOutcome::Rejected { status, reason },
        }
    }
}

/// One connection of a pool. `generation` changes whenever the connection is replaced, so a push
/// that gave up on a connection drops that connection and not its successor.
#[derive(Default)]
struct Slot {
    sender: Option<SendRequest<Full<Bytes>>>,
    generation: u64,
}

impl Slot {
    fn live(&self) -> Option<SendRequest<Full<Bytes>>> {
        self.sender.as_ref().filter(|s| !s.is_closed()).cloned()
    }
}

/// The connection a push went out on: slot index, its generation, and the sender.
type Picked = (usize, u64, SendRequest<Full<Bytes>>);

/// Connections for one push certificate.
struct TopicPool {
    tls: Arc<rustls::ClientConfig>,
    slots: Vec<tokio::sync::Mutex<Slot>>,
    next: AtomicUsize,
    /// Expiry of the certificate, checked before each push.
    not_after: chrono::NaiveDateTime,
}

/// The APNs HTTP/2 client. Certificates are handed in with [`ApnsClient::set_certs`].
pub struct ApnsClient {
    authority: String,
    host: String,
    port: u16,
    roots: Arc<rustls::RootCertStore>,
    connections: usize,
    in_flight: usize,
    timeout: Duration,
    expiration: Duration,
    pools: RwLock<HashMap<String, Arc<TopicPool>>>,
}

impl std::fmt::Debug for ApnsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApnsClient").field("authority", &self.authority).field("connections", &self.connections).finish()
    }
}

/// Loads trust roots: the system store (optional) plus PEM files.
fn load_roots(cfg: &PushConfig) -> Result<rustls::RootCertStore, ApnsSetupError> {
    let mut roots = rustls::RootCertStore::empty();
    if cfg.system_roots {
        let native = rustls_native_certs::load_native_certs();
        for e in &native.errors {
            tracing::warn!(error = %e, "could not load some system trust roots");
        }
        roots.add_parsable_certificates(native.certs);
    }
    for path in &cfg.ca_certs {
        let bad = |message: String| ApnsSetupError::Roots { path: path.display().to_string(), message };
        let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let mut n = 0;
        for c in CertificateDer::pem_slice_iter(&pem) {
            roots.add(c.map_err(|e| bad(e.to_string()))?).map_err(|e| bad(e.to_string()))?;
            n += 1;
        }
        if n == 0 {
            return Err(bad("no certificates in file".into()));
        }
    }
    if roots.is_empty() {
        // Not fatal: the server still serves devices; every push reports the TLS failure.
        tracing::error!("no trust roots for APNs (no system roots found and push.ca_certs empty): pushes will fail until one is configured");
    }
    Ok(roots)
}

impl ApnsClient {
    /// Builds a client for `cfg.url` trusting the configured roots. No connection is made until
    /// the first push.
    pub fn new(cfg: &PushConfig) -> Result<ApnsClient, ApnsSetupError> {
        let uri: http::Uri = cfg.url.trim_end_matches('/').parse().map_err(|_| ApnsSetupError::Url(cfg.url.clone()))?;
        if uri.scheme_str() != Some("https") || uri.path().len() > 1 {
            return Err(ApnsSetupError::Url(cfg.url.clone()));
        }
        let host = uri.host().ok_or_else(|| ApnsSetupError::Url(cfg.url.clone()))?.trim_matches(['[', ']']).to_string();
        let port = uri.port_u16().unwrap_or(443);
        let authority = uri.authority().map(|a| a.to_string()).ok_or_else(|| ApnsSetupError::Url(cfg.url.clone()))?;
        Ok(ApnsClient {
            authority,
            host,
            port,
            roots: Arc::new(load_roots(cfg)?),
            connections: cfg.connections.max(1),
            in_flight: cfg.max_in_flight.max(1),
            timeout: cfg.timeout,
            expiration: cfg.expiration,
            pools: RwLock::new(HashMap::new()),
        })
    }

    fn tls_for(&self, cert: &PushCert) -> Result<rustls::ClientConfig, String> {
        let (chain, key) = cert.rustls_identity().map_err(|e| e.to_string())?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(self.roots.clone())
            .with_client_auth_cert(chain, key)
            .map_err(|e| e.to_string())?;
        tls.alpn_protocols = vec![b"h2".to_vec()];
        Ok(tls)
    }

    /// Replaces the push certificates; every topic starts over with fresh connections (the
    /// old ones close when their in-flight pushes finish).
    pub fn set_certs(&self, certs: &[PushCert]) {
        let mut next = HashMap::new();
        for c in certs {
            match self.tls_for(c) {
                Ok(tls) => {
                    let slots = (0..self.connections).map(|_| tokio::sync::Mutex::new(Slot::default())).collect();
                    next.insert(c.topic.clone(), Arc::new(TopicPool { tls: Arc::new(tls), slots, next: AtomicUsize::new(0), not_after: c.not_after }));
                }
                Err(e) => tracing::error!(topic = %c.topic, error = %e, "push certificate unusable for TLS"),
            }
        }
        if let Ok(mut pools) = self.pools.write() {
            *pools = next;
        }
    }

    /// Topics with a usable certificate.
    pub fn topics(&self) -> Vec<String> {
        self.pools.read().map(|p| p.keys().cloned().collect()).unwrap_or_default()
    }

    fn pool(&self, topic: &str) -> Option<Arc<TopicPool>> {
        self.pools.read().ok().and_then(|p| p.get(topic).cloned())
    }

    async fn connect(&self, tls: Arc<rustls::ClientConfig>) -> Result<SendRequest<Full<Bytes>>, PushOutcome> {
        let retry = |what: &str, e: &dyn std::fmt::Display| PushOutcome::Retry { reason: format!("{what} {}: {e}", self.authority) };
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port)).await.map_err(|e| retry("connect", &e))?;
        let _ = tcp.set_nodelay(true);
        let name = ServerName::try_from(self.host.clone()).map_err(|e| retry("server name", &e))?;
        let stream = tokio_rustls::TlsConnector::from(tls).connect(name, tcp).await.map_err(|e| self.tls_failure(e))?;
        if stream.get_ref().1.alpn_protocol() != Some(b"h2") {
            return Err(PushOutcome::Rejected { status: 0, reason: format!("{} does not speak HTTP/2", self.authority) });
        }
        let mut builder = hyper::client::conn::http2::Builder::new(TokioExecutor::new());
        builder.timer(TokioTimer::new()).keep_alive_interval(Duration::from_secs(60)).keep_alive_while_idle(true);
        let (sender, conn) = builder.handshake(TokioIo::new(stream)).await.map_err(|e| retry("HTTP/2 handshake with", &e))?;
        let authority = self.authority.clone();
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%authority, error = %e, "APNs connection closed");
            }
        });
        Ok(sender)
    }

    /// What a failed TLS handshake means: APNs refusing the push certificate is a certificate
    /// problem; APNs' own certificate not being trusted is a configuration problem on this side
    /// (`push.ca_certs`, system roots), retried once that is fixed; anything else is retried.
    fn tls_failure(&self, e: std::io::Error) -> PushOutcome {
        use rustls::AlertDescription as A;
        match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
            Some(rustls::Error::AlertReceived(
                alert @ (A::BadCertificate
                | A::UnsupportedCertificate
                | A::CertificateRevoked
                | A::CertificateExpired
                | A::CertificateUnknown
                | A::UnknownCA
                | A::AccessDenied
                | A::CertificateRequired),
            )) => PushOutcome::Certificate { reason: format!("{} refused the push certificate (TLS alert {alert:?})", self.authority) },
            Some(rustls::Error::InvalidCertificate(why)) => PushOutcome::Retry {
                reason: format!("the TLS certificate of {} is not trusted ({why:?}): check push.ca_certs and push.system_roots", self.authority),
            },
            _ => PushOutcome::Retry { reason: format!("TLS with {}: {e}", self.authority) },
        }
    }

    /// A live connection of `pool`: this push's turn in the round-robin, connecting it if needed.
    /// While that slot is busy (being connected by another push, which may hang until its
    /// timeout), any other live connection is taken instead, so one bad connection attempt does
    /// not hold up pushes that could go out elsewhere.
    async fn sender(&self, pool: &TopicPool) -> Result<Picked, PushOutcome> {
        let n = pool.slots.len();
        let turn = pool.next.fetch_add(1, Ordering::Relaxed) % n;
        let mut slot = match pool.slots[turn].try_lock() {
            Ok(slot) => slot,
            Err(_) => {
                for i in (1..n).map(|k| (turn + k) % n) {
                    if let Some(s) = pool.slots[i].try_lock().ok().and_then(|slot| slot.live().map(|s| (slot.generation, s))) {
                        return Ok((i, s.0, s.1));
                    }
                }
                pool.slots[turn].lock().await
            }
        };
        if let Some(s) = slot.live() {
            return Ok((turn, slot.generation, s));
        }
        let s = self.connect(pool.tls.clone()).await?;
        slot.generation += 1;
        slot.sender = Some(s.clone());
        Ok((turn, slot.generation, s))
    }

    /// Sends one push.
    pub async fn push_one(&self, t: &PushTarget) -> PushOutcome {
        let Some(pool) = self.pool(&t.topic) else {
            return PushOutcome::Certificate { reason: format!("no push certificate for topic {}: import one with `mdm push-cert import`", t.topic) };
        };
        if pool.not_after <= crate::store::now() {
            return PushOutcome::Certificate { reason: format!("push certificate for topic {} expired at {} UTC", t.topic, pool.not_after) };
        }
        let deadline = tokio::time::Instant::now() + self.timeout;
        let (i, generation, sender) = match tokio::time::timeout_at(deadline, self.sender(&pool)).await {
            Ok(Ok(picked)) => picked,
            Ok(Err(o)) => return o,
            Err(_) => return PushOutcome::Retry { reason: format!("no connection to {} within {:?}", self.authority, self.timeout) },
        };
        match tokio::time::timeout_at(deadline, self.send(sender, t)).await {
            Ok(o) => o,
            Err(_) => {
                // An open connection that does not answer within the timeout is as good as
                // dead (black-holed): later pushes get a new one. Streams still waiting on it
                // run out their own timeouts.
                if let Ok(mut slot) = pool.slots[i].try_lock() {
                    if slot.generation == generation {
                        slot.sender = None;
                    }
                }
                PushOutcome::Retry { reason: format!("no answer from {} within {:?}", self.authority, self.timeout) }
            }
        }
    }

    async fn send(&self, mut sender: SendRequest<Full<Bytes>>, t: &PushTarget) -> PushOutcome {
        let expiration = (chrono::Utc::now() + self.expiration).timestamp();
        let body = format!("{{\"mdm\":{}}}", serde_json::Value::String(t.push_magic.clone()));
        let req = http::Request::post(format!("https://{}/3/device/{}", self.authority, hex::encode(&t.token)))
            .header("apns-push-type", "mdm")
            .header("apns-topic", &t.topic)
            .header("apns-priority", "10")
            .header("apns-expiration", expiration.to_string())
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)));
        let req = match req {
            Ok(r) => r,
            Err(e) => return PushOutcome::Rejected { status: 0, reason: format!("cannot build request: {e}") },
        };
        if let Err(e) = sender.ready().await {
            return PushOutcome::Retry { reason: format!("connection to {} lost: {e}", self.authority) };
        }
        let resp = match sender.send_request(req).await {
            Ok(r) => r,
            Err(e) => return PushOutcome::Retry { reason: format!("push to {} failed: {e}", self.authority) },
        };
        let status = resp.status().as_u16();
        let apns_id = resp.headers().get("apns-id").and_then(|v| v.to_str().ok()).map(str::to_string);
        let body = match Limited::new(resp.into_body(), 64 * 1024).collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => return PushOutcome::Retry { reason: format!("reading APNs answer: {e}") },
        };
        PushOutcome::from_response(status, apns_id, &body)
    }
}

impl Pusher for ApnsClient {
    fn push(&self, targets: Vec<PushTarget>) -> PushFuture<'_> {
        Box::pin(async move {
            futures::stream::iter(targets)
                .map(|t| async move {
                    let o = self.push_one(&t).await;
                    (t.enrollment_id, o)
                })
                .buffer_unordered(self.in_flight)
                .collect()
                .await
        })
    }

    fn set_certs(&self, certs: &[PushCert]) {
        ApnsClient::set_certs(self, certs);
    }
}

#[cfg(test)]
mod tests;
