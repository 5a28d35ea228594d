//! A mock of Apple's APNs provider API for MDM pushes, used by end-to-end tests and benchmarks.
//!
//! It behaves like `api.push.apple.com` as far as a provider can observe: HTTP/2 only over TLS
//! (ALPN `h2`, no HTTP/1.1), a TLS client certificate required at the handshake, up to 1000
//! concurrent streams per connection, and per request the status codes and `{"reason":"..."}`
//! bodies Apple documents. The client certificate must chain to the configured "Apple" CA and be
//! within its validity period, else every request on that connection gets
//! 403 `BadCertificate`; the certificate's subject UID is its topic.
//!
//! Requests that pass validation get the configured [`Behaviour`]: a default plus optional
//! per-token queues consumed one per push. Every request that reached the handler is recorded
//! as a [`ReceivedPush`]; accepted pushes (status 200) are also delivered to
//! [`MockApns::subscribe`] receivers as they happen, which tests use to wake the matching
//! simulated device.
//!
//! Cost per request is kept low for benchmarks: the client certificate is verified once per TLS
//! connection, recording is one mutex-protected `Vec::push` (and can be switched off with
//! [`MockApnsConfig::record`]), counters are atomics.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use openssl::nid::Nid;
use openssl::x509::store::{X509Store, X509StoreBuilder};
use openssl::x509::{X509PurposeId, X509};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

use mdm_pki::tls::AnyClientCert;
use mdm_pki::x509::verify_chain;
use mdm_pki::{Ca, Issued, PkiError};

/// Maximum concurrent HTTP/2 streams per connection, as APNs advertises.
pub const MAX_CONCURRENT_STREAMS: u32 = 1000;
/// Maximum payload size APNs accepts for a (non-VoIP) notification, in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 4096;
/// Length of an MDM device token in hex characters (32 bytes).
pub const TOKEN_HEX_LEN: usize = 64;
/// How long a TLS handshake may take before the connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Errors starting the mock.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    /// Generating certificate material failed.
    #[error("pki: {0}")]
    Pki(#[from] PkiError),
    /// OpenSSL failed (parsing the client CA, encoding PEM).
    #[error("openssl: {0}")]
    Ssl(#[from] openssl::error::ErrorStack),
    /// PEM material could not be parsed.
    #[error("{what}: {message}")]
    Pem {
        /// Which input.
        what: &'static str,
        /// Problem.
        message: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// Binding the loopback socket failed.
    #[error("bind: {0}")]
    Io(#[from] std::io::Error),
    /// [`MockApns::start`] was called outside a Tokio runtime.
    #[error("MockApns::start must be called from within a Tokio runtime")]
    NoRuntime,
}

/// What the mock does with a push that passed validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// 200 with an `apns-id` header and an empty body.
    Accept,
    /// 410 `{"reason":"Unregistered","timestamp":<now, ms since epoch>}`.
    Unregistered,
    /// 410 with this `timestamp` (ms since the epoch): the token was found invalid back then.
    UnregisteredSince(i64),
    /// 400 `{"reason":"BadDeviceToken"}`.
    BadDeviceToken,
    /// 400 `{"reason":"DeviceTokenNotForTopic"}`.
    DeviceTokenNotForTopic,
    /// 429 `{"reason":"TooManyRequests"}`.
    TooManyRequests,
    /// 500 `{"reason":"InternalServerError"}`.
    InternalServerError,
    /// 503 `{"reason":"ServiceUnavailable"}`.
    ServiceUnavailable,
    /// Abruptly closes the whole TLS connection (every stream on it) without answering.
    /// Recorded with status 0.
    Drop,
    /// Waits this long, then accepts.
    Delay(Duration),
}

/// One request that reached the mock's handler.
#[derive(Debug, Clone)]
pub struct ReceivedPush {
    /// Device token from the path, lowercased (empty if the path had none).
    pub token_hex: String,
    /// The `apns-topic` header (empty if missing).
    pub topic: String,
    /// The payload's `mdm` value (the PushMagic), when the body had one.
    pub push_magic: Option<String>,
    /// The `apns-push-type` header.
    pub push_type: Option<String>,
    /// The `apns-priority` header.
    pub priority: Option<String>,
    /// The `apns-expiration` header.
    pub expiration: Option<String>,
    /// The `apns-id` returned (echoed from the request, or generated).
    pub apns_id: String,
    /// HTTP status answered; 0 when the connection was dropped without an answer.
    pub status: u16,
    /// The `reason` answered, for errors.
    pub reason: Option<String>,
    /// When the request reached the handler.
    pub at: Instant,
}

/// Configuration for [`MockApns::start`].
#[derive(Clone)]
pub struct MockApnsConfig {
    /// TLS server certificate chain, PEM (leaf first).
    pub tls_cert_pem: Vec<u8>,
    /// TLS server private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub tls_key_pem: Vec<u8>,
    /// The "Apple" CA(s) client (push) certificates must chain to, PEM.
    pub client_ca_pem: Vec<u8>,
    /// Keep every [`ReceivedPush`] for [`MockApns::received`]. Counters and subscribers work
    /// either way; benchmarks turn this off.
    pub record: bool,
}

impl MockApnsConfig {
    /// A configuration with recording on.
    pub fn new(tls_cert_pem: Vec<u8>, tls_key_pem: Vec<u8>, client_ca_pem: Vec<u8>) -> MockApnsConfig {
        MockApnsConfig { tls_cert_pem, tls_key_pem, client_ca_pem, record: true }
    }
}

impl Default for MockApnsConfig {
    fn default() -> MockApnsConfig {
        MockApnsConfig::new(Vec::new(), Vec::new(), Vec::new())
    }
}

impl std::fmt::Debug for MockApnsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockApnsConfig").field("record", &self.record).finish_non_exhaustive()
    }
}

/// Certificate material made by [`MockApns::start_with_new_pki`].
#[derive(Clone)]
pub struct MockPki {
    /// CA that issued the mock's TLS server certificate: the trust root for clients, PEM.
    pub server_ca_pem: Vec<u8>,
    /// The "Apple" CA the mock accepts push certificates from.
    pub apple_ca: Ca,
    /// A push certificate for the topic, valid 365 days, issued by `apple_ca`.
    pub push_cert: Issued,
}

impl MockPki {
    /// The push certificate and its key (PKCS#8) as one PEM, e.g. for `reqwest::Identity::from_pem`.
    pub fn push_identity_pem(&self) -> Result<Vec<u8>, MockError> {
        identity_pem(&self.push_cert)
    }
}

impl std::fmt::Debug for MockPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockPki").finish_non_exhaustive()
    }
}

/// Certificate followed by its private key (PKCS#8), PEM.
pub fn identity_pem(issued: &Issued) -> Result<Vec<u8>, MockError> {
    let mut pem = issued.cert.to_pem()?;
    pem.extend_from_slice(&issued.key.private_key_to_pem_pkcs8()?);
    Ok(pem)
}

#[derive(Default)]
struct Behaviours {
    default: Option<Behaviour>,
    per_token: HashMap<String, VecDeque<Behaviour>>,
}

struct Shared {
    record: bool,
    client_cas: X509Store,
    behaviours: Mutex<Behaviours>,
    received: Mutex<Vec<ReceivedPush>>,
    total: AtomicUsize,
    accepted: AtomicUsize,
    connections: AtomicUsize,
    subscribers: Mutex<Vec<mpsc::UnboundedSender<ReceivedPush>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn next_behaviour(&self, token_hex: &str) -> Behaviour {
        let mut b = lock(&self.behaviours);
        if !b.per_token.is_empty() {
            if let Some(queue) = b.per_token.get_mut(token_hex) {
                let next = queue.pop_front();
                if queue.is_empty() {
                    b.per_token.remove(token_hex);
                }
                if let Some(next) = next {
                    return next;
                }
            }
        }
        b.default.unwrap_or(Behaviour::Accept)
    }

    fn record(&self, push: ReceivedPush) {
        self.total.fetch_add(1, Ordering::Relaxed);
        if push.status == 200 {
            self.accepted.fetch_add(1, Ordering::Relaxed);
            let mut subs = lock(&self.subscribers);
            if !subs.is_empty() {
                subs.retain(|s| s.send(push.clone()).is_ok());
            }
        }
        if self.record {
            lock(&self.received).push(push);
        }
    }

    /// Checks the client's certificate the way APNs does: chains to the Apple CA, within its
    /// validity period, clientAuth; returns its topic (subject UID) or the 403 reason.
    fn verdict(&self, certs: Option<&[CertificateDer<'static>]>) -> Result<String, &'static str> {
        const BAD: &str = "BadCertificate";
        let certs = certs.ok_or(BAD)?;
        let (leaf, rest) = certs.split_first().ok_or(BAD)?;
        let leaf = X509::from_der(leaf).map_err(|_| BAD)?;
        let chain = rest.iter().map(|c| X509::from_der(c)).collect::<Result<Vec<_>, _>>().map_err(|_| BAD)?;
        verify_chain(&self.client_cas, &leaf, &chain).map_err(|_| BAD)?;
        let uid = leaf.subject_name().entries_by_nid(Nid::USERID).next().ok_or(BAD)?;
        let topic = uid.data().to_string().map_err(|_| BAD)?;
        if topic.is_empty() {
            return Err(BAD);
        }
        Ok(topic)
    }
}

/// Aborts the accept loop (and with it every connection) when the last handle goes away.
struct AcceptTask(JoinHandle<()>);

impl Drop for AcceptTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A running mock APNs server. Cheap to clone; the server stops when the last clone is
/// dropped (or on [`MockApns::stop`]).
#[derive(Clone)]
pub struct MockApns {
    shared: Arc<Shared>,
    addr: SocketAddr,
    task: Arc<AcceptTask>,
}

impl std::fmt::Debug for MockApns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockApns").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl MockApns {
    /// Binds 127.0.0.1 on an ephemeral port and serves in the current Tokio runtime.
    pub fn start(cfg: MockApnsConfig) -> Result<MockApns, MockError> {
        MockApns::start_on(cfg, SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Binds `addr` (a fixed port: the development push URL of `mdm sim`) and serves in the
    /// current Tokio runtime.
    pub fn start_on(cfg: MockApnsConfig, addr: SocketAddr) -> Result<MockApns, MockError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| MockError::NoRuntime)?;
        let pem_err = |what: &'static str| move |e: rustls::pki_types::pem::Error| MockError::Pem { what, message: e.to_string() };
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(&cfg.tls_cert_pem).collect::<Result<_, _>>().map_err(pem_err("TLS certificate"))?;
        if chain.is_empty() {
            return Err(MockError::Pem { what: "TLS certificate", message: "no certificate in PEM".into() });
        }
        let key = PrivateKeyDer::from_pem_slice(&cfg.tls_key_pem).map_err(pem_err("TLS key"))?;

        let cas = X509::stack_from_pem(&cfg.client_ca_pem)?;
        if cas.is_empty() {
            return Err(MockError::Pem { what: "client CA", message: "no certificate in PEM".into() });
        }
        let mut store = X509StoreBuilder::new()?;
        for ca in cas {
            store.add_cert(ca)?;
        }
        store.set_purpose(X509PurposeId::SSL_CLIENT)?;

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = // Any client certificate gets through the handshake; the mock checks the chain itself per
        // connection so that it can answer 403 like APNs.
        AnyClientCert { hints: Vec::new(), algs: provider.signature_verification_algorithms, mandatory: true };
        let mut tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(Arc::new(verifier))
            .with_single_cert(chain, key)?;
        tls.alpn_protocols = vec![b"h2".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));

        let std_listener = std::net::TcpListener::bind(addr)?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let listener = {
            let _guard = runtime.enter();
            TcpListener::from_std(std_listener)?
        };

        let shared = Arc::new(Shared {
            record: cfg.record,
            client_cas: store.build(),
            behaviours: Mutex::new(Behaviours::default()),
            received: Mutex::new(Vec::new()),
            total: AtomicUsize::new(0),
            accepted: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            subscribers: Mutex::new(Vec::new()),
        });
        let task = runtime.spawn(accept_loop(listener, acceptor, shared.clone()));
        Ok(MockApns { shared, addr, task: Arc::new(AcceptTask(task)) })
    }

    /// Generates fresh material with [`mdm_pki`] (a server CA and a server certificate for
    /// 127.0.0.1/localhost, an "Apple" CA, a push certificate for `topic` valid 365 days) and
    /// starts a mock that trusts that Apple CA.
    pub fn start_with_new_pki(topic: &str) -> Result<(MockApns, MockPki), MockError> {
        let server_ca = Ca::generate("Mock APNs Server CA")?;
        let server = server_ca.issue_server(&["127.0.0.1".to_string(), "localhost".to_string()])?;
        let apple_ca = Ca::generate("Mock Apple Worldwide Developer Relations CA")?;
        let push_cert = apple_ca.issue_push_cert(topic, 365)?;
        let cfg = MockApnsConfig::new(server.cert.to_pem()?, server.key.private_key_to_pem_pkcs8()?, apple_ca.cert.to_pem()?);
        let mock = MockApns::start(cfg)?;
        Ok((mock, MockPki { server_ca_pem: server_ca.cert.to_pem()?, apple_ca, push_cert }))
    }

    /// The base URL, `https://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sets the behaviour for pushes whose token has no queued behaviour (initially `Accept`).
    pub fn set_default(&self, behaviour: Behaviour) {
        lock(&self.shared.behaviours).default = Some(behaviour);
    }

    /// Replaces the queue of behaviours for `token_hex` (case-insensitive); each valid push to
    /// that token consumes one, and once the queue is empty the default applies.
    pub fn set_for_token(&self, token_hex: &str, behaviours: Vec<Behaviour>) {
        let mut b = lock(&self.shared.behaviours);
        let token = token_hex.to_ascii_lowercase();
        if behaviours.is_empty() {
            b.per_token.remove(&token);
        } else {
            b.per_token.insert(token, behaviours.into());
        }
    }

    /// Every recorded request so far, oldest first (empty when recording is off).
    pub fn received(&self) -> Vec<ReceivedPush> {
        lock(&self.shared.received).clone()
    }

    /// Number of pushes answered 200 (counted even when recording is off).
    pub fn count_accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::Relaxed)
    }

    /// Number of requests that reached the handler, whatever their outcome.
    pub fn count_received(&self) -> usize {
        self.shared.total.load(Ordering::Relaxed)
    }

    /// TLS connections with HTTP/2 negotiated since the mock started.
    pub fn count_connections(&self) -> usize {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// Forgets recorded requests and resets both counters; behaviours and subscribers stay.
    pub fn clear(&self) {
        lock(&self.shared.received).clear();
        self.shared.total.store(0, Ordering::Relaxed);
        self.shared.accepted.store(0, Ordering::Relaxed);
    }

    /// A receiver of every push accepted (status 200) from now on, delivered as it is answered.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<ReceivedPush> {
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.shared.subscribers).push(tx);
        rx
    }

    /// Stops accepting and closes every open connection now (dropping the last handle does the
    /// same).
    pub fn stop(&self) {
        self.task.0.abort();
    }
}

async fn accept_loop(listener: TcpListener, acceptor: tokio_rustls::TlsAcceptor, shared: Arc<Shared>) {
    // Connections live in this JoinSet so that aborting the accept loop closes them too.
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((tcp, _)) => {
                    conns.spawn(serve_connection(tcp, acceptor.clone(), shared.clone()));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "mock APNs: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

/// Per-connection state shared with the request handler.
struct Conn {
    /// The client certificate's topic, or the 403 reason.
    verdict: Result<String, &'static str>,
    /// Set to `true` to drop the connection abruptly.
    kill: watch::Sender<bool>,
}

async fn serve_connection(tcp: TcpStream, acceptor: tokio_rustls::TlsAcceptor, shared: Arc<Shared>) {
    let _ = tcp.set_nodelay(true);
    let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "mock APNs: TLS handshake failed");
            return;
        }
        Err(_) => return,
    };
    let session = stream.get_ref().1;
    if session.alpn_protocol() != Some(b"h2".as_slice()) {
        // APNs speaks HTTP/2 only, negotiated with ALPN.
        return;
    }
    shared.connections.fetch_add(1, Ordering::Relaxed);
    let verdict = shared.verdict(session.peer_certificates());
    let (kill, mut killed) = watch::channel(false);
    let conn = Arc::new(Conn { verdict, kill });
    let svc = hyper::service::service_fn(move |req| handle(shared.clone(), conn.clone(), req));
    let mut builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
    builder.max_concurrent_streams(MAX_CONCURRENT_STREAMS);
    let serving = builder.serve_connection(TokioIo::new(stream), svc);
    tokio::select! {
        r = serving => {
            if let Err(e) = r {
                tracing::debug!(error = %e, "mock APNs: connection ended with error");
            }
        }
        _ = async {
            if killed.wait_for(|k| *k).await.is_err() {
                std::future::pending::<()>().await;
            }
        } => {
            // Dropping the connection closes the socket without GOAWAY or close_notify.
        }
    }
}

mod request;

use request::handle;

#[cfg(test)]
mod tests;
