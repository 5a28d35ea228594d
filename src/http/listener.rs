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
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
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

/// Requests a client certificate and accepts any whose handshake signature verifies, leaving
/// the trust decision to the application (which can then answer with a clear message instead of
/// a failed handshake).
#[derive(Debug)]
pub struct AnyClientCert {
    /// CA names sent as hints to the client.
    pub hints: Vec<DistinguishedName>,
    /// Signature algorithms for the handshake check.
    pub algs: rustls::crypto::WebPkiSupportedAlgorithms,
    /// Refuse handshakes without a client certificate.
    pub mandatory: bool,
}

impl ClientCertVerifier for AnyClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(&self, _: &CertificateDer<'_>, _: &[CertificateDer<'_>], _: UnixTime) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }
}

fn material(path: &std::path::Path) -> Result<Vec<u8>, ListenerError> {
    std::fs::read(path).map_err(|e| ListenerError::Material { path: path.display().to_string(), message: e.to_string() })
}

/// Builds the rustls server configuration from PEM files; `hint_cas` are PEM files whose
/// subjects are offered as acceptable client-certificate issuers; `mtls` asks for certificates.
pub fn tls_config(cert: &std::path::Path, key: &std::path::Path, hint_cas: &[std::path::PathBuf], mtls: bool) -> Result<rustls::ServerConfig, ListenerError> {
    use rustls::pki_types::pem::PemObject;
    let bad = |path: &std::path::Path, e: &dyn std::fmt::Display| ListenerError::Material { path: path.display().to_string(), message: e.to_string() };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&material(cert)?)
        .collect::<Result<_, _>>()
        .map_err(|e| bad(cert, &e))?;
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

/// Serves `app` over TLS until the listener fails. Each request carries the peer's certificate
/// chain as a [`TlsPeer`] extension when the client sent one.
pub async fn serve_tls(listener: TcpListener, tls: rustls::ServerConfig, app: Router) {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    loop {
        let (tcp, remote) = match listener.accept().await {
            Ok(v) => v,
            Err(e) => {
                // Out of file descriptors and similar: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
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
            let peer = stream
                .get_ref()
                .1
                .peer_certificates()
                .map(|certs| TlsPeer(certs.iter().map(|c| c.to_vec()).collect()));
            let svc = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                if let Some(p) = &peer {
                    req.extensions_mut().insert(p.clone());
                }
                req.extensions_mut().insert(axum::extract::ConnectInfo(remote));
                app.clone().oneshot(req.map(axum::body::Body::new))
            });
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            if let Err(e) = builder.serve_connection(TokioIo::new(stream), svc).await {
                tracing::debug!(%remote, error = %e, "connection ended with error");
            }
        });
    }
}

/// Serves `app` over plain HTTP (TLS terminated by a proxy in front).
pub async fn serve_plain(listener: TcpListener, app: Router) -> std::io::Result<()> {
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await
}
