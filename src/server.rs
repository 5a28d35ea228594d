//! Assembles the server: store, identity policy, services, routers and listeners. The only
//! module that knows every other one.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, put};
use axum::Router;
use tower_http::trace::TraceLayer;

use crate::api::{self, ApiState};
use crate::config::{Config, TrustMode};
use crate::http::device::{self, DeviceState};
use crate::http::listener;
use crate::identity::TrustPolicy;
use crate::push::{PushService, Pusher, Unconfigured};
use crate::service::{MdmService, ServiceOptions};
use crate::store::Store;

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Configuration problem.
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    /// Database problem.
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
    /// Trust store problem.
    #[error("{0}")]
    Trust(#[from] crate::identity::trust::TrustLoadError),
    /// Listener problem.
    #[error("{0}")]
    Listener(#[from] crate::http::listener::ListenerError),
    /// Anything else that makes the configuration unusable.
    #[error("{0}")]
    Invalid(String),
}

/// Builds the trust policy the configuration asks for.
pub fn trust_policy(cfg: &Config) -> Result<TrustPolicy, StartError> {
    match cfg.identity.trust {
        TrustMode::Any => {
            tracing::warn!("identity.trust = \"any\": device certificates from any issuer are accepted (development only)");
            Ok(TrustPolicy::Any)
        }
        TrustMode::Ca if cfg.identity.ca_certs.is_empty() => {
            Err(StartError::Invalid("identity.trust = \"ca\" needs identity.ca_certs (PEM files of trusted device CAs)".into()))
        }
        TrustMode::Ca => Ok(TrustPolicy::from_pem_files(&cfg.identity.ca_certs)?),
    }
}

/// Builds the full application router.
pub fn app(cfg: &Config, store: Store, pusher: Arc<dyn Pusher>) -> Result<Router, StartError> {
    let service = MdmService::new(store.clone(), trust_policy(cfg)?, ServiceOptions { user_authenticate: cfg.checkin.user_authenticate });
    let header = cfg.identity.client_cert_header.trim();
    let cert_header = if header.is_empty() {
        None
    } else {
        Some(
            axum::http::HeaderName::from_bytes(header.to_ascii_lowercase().as_bytes())
                .map_err(|e| StartError::Invalid(format!("identity.client_cert_header: {e}")))?,
        )
    };
    let devices = Router::new()
        .route("/mdm/checkin", put(device::checkin))
        .route("/mdm/connect", put(device::connect))
        .route("/mdm", put(device::any))
        .with_state(DeviceState { service, cert_header, mdm_signature: cfg.identity.mdm_signature });
    let api_state = ApiState {
        store: store.clone(),
        push: PushService::new(store, pusher),
        key: Arc::new(cfg.api_key()?),
    };
    Ok(Router::new()
        .merge(devices)
        .merge(api::router(api_state))
        .route("/healthz", get(|| async { "ok\n" }))
        .layer(DefaultBodyLimit::max(cfg.server.max_body_bytes))
        .layer(TraceLayer::new_for_http().make_span_with(tower_http::trace::DefaultMakeSpan::new().level(tracing::Level::DEBUG)).on_request(()).on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::DEBUG))))
}

/// A bound, not yet running server.
pub struct Server {
    listener: tokio::net::TcpListener,
    tls: Option<rustls::ServerConfig>,
    app: Router,
    /// The address actually bound (useful with port 0).
    pub local_addr: SocketAddr,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("local_addr", &self.local_addr).field("tls", &self.tls.is_some()).finish()
    }
}

impl Server {
    /// Connects the database, runs migrations, builds the app and binds the listener.
    pub async fn bind(cfg: &Config) -> Result<Server, StartError> {
        let store = Store::connect(&cfg.database.url, cfg.database.pool_size)?;
        let applied = store.migrate().await?;
        tracing::info!(backend = ?store.backend(), applied, "database ready");
        Server::bind_with(cfg, store, Arc::new(Unconfigured)).await
    }

    /// Like [`Server::bind`] with a given store and pusher (tests use a mock APNs pusher).
    pub async fn bind_with(cfg: &Config, store: Store, pusher: Arc<dyn Pusher>) -> Result<Server, StartError> {
        let app = app(cfg, store, pusher)?;
        let tls = if cfg.server.plain_http {
            None
        } else {
            let (Some(cert), Some(key)) = (&cfg.server.tls_cert, &cfg.server.tls_key) else {
                return Err(StartError::Invalid("server.tls_cert and server.tls_key are required unless server.plain_http = true".into()));
            };
            Some(listener::tls_config(cert, key, &cfg.identity.ca_certs, cfg.identity.mtls)?)
        };
        let l = listener::bind(&cfg.server.listen).await?;
        let local_addr = l.local_addr().map_err(|e| StartError::Invalid(e.to_string()))?;
        Ok(Server { listener: l, tls, app, local_addr })
    }

    /// Serves until the process ends.
    pub async fn run(self) {
        match self.tls {
            Some(tls) => listener::serve_tls(self.listener, tls, self.app).await,
            None => {
                if let Err(e) = listener::serve_plain(self.listener, self.app).await {
                    tracing::error!(error = %e, "HTTP server stopped");
                }
            }
        }
    }
}
