//! Listeners: HTTPS with rustls (client certificates requested but optional) or plain HTTP for
//! the "behind a TLS-terminating proxy" mode.
//!
//! The TLS layer accepts any client certificate whose handshake signature is valid; whether the
//! certificate is trusted is decided per request by the identity layer with openssl, so that the
//! same chain check applies to mTLS, proxy headers and Mdm-Signature alike.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::DistinguishedName;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::identity::TlsPeer;

/// Errors setting up a listener.
#[derive(Debug, thiserror::Error)]
pub enum ListenerError {
    /// Reading key material failed.
    #[error("{path}: {message}")]
    Material {
        /// File.
        path: String,
        /// Problem.
        message: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// Binding the socket failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address.
        addr: String,
        /// Cause.
        source: std::io::Error,
    },
}

pub use mdm_pki::tls::AnyClientCert;

fn material(path: &std::path::Path) -> Result<Vec<u8>, ListenerError> {
    std::fs::read(path).map_err(|e| ListenerError::Material { path: path.display().to_string(), message: e.to_string() })
}

/// Builds the rustls server configuration from PEM files; `hint_cas` are PEM files whose
/// subjects are offered as acceptable client-certificate issuers; `mtls` asks for certificates.
pub fn tls_config(cert: &std::path::Path, key: &std::path::Path, hint_cas: &[std::path::PathBuf], mtls: bool) -> Result<rustls::ServerConfig, ListenerError> {
    use rustls::pki_types::pem::PemObject;
    let bad = |path: &std::path::Path, e: &dyn std::fmt::Display| ListenerError::Material { path: path.display().to_string(), message: e.to_string() };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&material(cert)?).collect::<Result<_, _>>().map_err(|e| bad(cert, &e))?;
    let key_der = PrivateKeyDer::from_pem_slice(&material(key)?).map_err(|e| bad(key, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions()?;
    let mut cfg = if mtls {
        let mut hints = Vec::new();
        for ca in hint_cas {
            for c in CertificateDer::pem_slice_iter(&material(ca)?) {
                let c = c.map_err(|e| bad(ca, &e))?;
                if let Ok(x) = openssl::x509::X509::from_der(&c) {
                    if let Ok(der) = x.subject_name().to_der() {
                        hints.push(DistinguishedName::from(der));
                    }
                }
            }
        }
        let verifier = AnyClientCert { hints, algs: provider.signature_verification_algorithms, mandatory: false };
        builder.with_client_cert_verifier(Arc::new(verifier)).with_single_cert(chain, key_der)?
    } else {
        builder.with_no_client_auth().with_single_cert(chain, key_der)?
    };
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(cfg)
}

/// Binds a TCP listener.
pub async fn bind(addr: &str) -> Result<TcpListener, ListenerError> {
    TcpListener::bind(addr).await.map_err(|source| ListenerError::Bind { addr: addr.to_string(), source })
}

/// Serves `app` on `listener` — over TLS with `tls`, else plain HTTP (TLS terminated by a proxy
/// in front) — until `shutdown` completes. Then no connection is accepted any more; requests in
/// flight are finished (HTTP/1 connections close after their response, HTTP/2 ones get GOAWAY)
/// for at most `drain`, and whatever is still open after that is dropped. Each request carries
/// the peer's certificate chain as a [`TlsPeer`] extension when the client sent one, and the
/// peer's address as `ConnectInfo`.
pub async fn serve(
    listener: TcpListener,
    tls: Option<rustls::ServerConfig>,
    app: Router,
    shutdown: impl std::future::Future<Output = ()>,
    drain: std::time::Duration,
) {
    let acceptor = tls.map(|t| tokio_rustls::TlsAcceptor::from(Arc::new(t)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(v) => v,
                Err(e) => {
                    // Out of file descriptors and similar: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let app = app.clone();
        let watcher = graceful.watcher();
        match &acceptor {
            None => {
                let conn = connection(TokioIo::new(tcp), None, remote, app);
                tokio::spawn(async move {
                    if let Err(e) = watcher.watch(conn).await {
                        tracing::debug!(%remote, error = %e, "connection ended with error");
                    }
                });
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let stream = match tokio::time::timeout(std::time::Duration::from_secs(15), acceptor.accept(tcp)).await {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => {
                            tracing::debug!(%remote, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%remote, "TLS handshake timed out");
                            return;
                        }
                    };
                    let peer = stream.get_ref().1.peer_certificates().map(|certs| TlsPeer(certs.iter().map(|c| c.to_vec()).collect()));
                    let conn = connection(TokioIo::new(stream), peer, remote, app);
                    if let Err(e) = watcher.watch(conn).await {
                        tracing::debug!(%remote, error = %e, "connection ended with error");
                    }
                });
            }
        }
    }
    drop(listener);
    tracing::info!(drain_secs = drain.as_secs_f32(), "no longer accepting connections; finishing requests in flight");
    if tokio::time::timeout(drain, graceful.shutdown()).await.is_err() {
        tracing::warn!("drain timeout: connections still open are closed");
    }
}

/// The service of one connection: `app`, with the connection's facts put into each request.
#[derive(Clone)]
struct Handler {
    app: Router,
    peer: Option<TlsPeer>,
    remote: SocketAddr,
}

impl hyper::service::Service<hyper::Request<hyper::body::Incoming>> for Handler {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = tower::util::Oneshot<Router, axum::extract::Request>;

    fn call(&self, mut req: hyper::Request<hyper::body::Incoming>) -> Self::Future {
        if let Some(p) = &self.peer {
            req.extensions_mut().insert(p.clone());
        }
        req.extensions_mut().insert(axum::extract::ConnectInfo(self.remote));
        self.app.clone().oneshot(req.map(axum::body::Body::new))
    }
}

/// The connection builder (HTTP/1 or HTTP/2, whichever the client speaks), made once.
fn builder() -> &'static hyper_util::server::conn::auto::Builder<TokioExecutor> {
    static BUILDER: std::sync::OnceLock<hyper_util::server::conn::auto::Builder<TokioExecutor>> = std::sync::OnceLock::new();
    BUILDER.get_or_init(|| hyper_util::server::conn::auto::Builder::new(TokioExecutor::new()))
}

/// One connection served by `app`.
fn connection<I>(
    io: I,
    peer: Option<TlsPeer>,
    remote: SocketAddr,
    app: Router,
) -> hyper_util::server::conn::auto::Connection<'static, I, Handler, TokioExecutor>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    builder().serve_connection(io, Handler { app, peer, remote })
}
