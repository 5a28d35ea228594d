//! Assembles the server: store, identity policy, services, routers and listeners. The only
//! module that knows every other one.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::Router;
use tower_http::trace::TraceLayer;

use crate::api::{self, ApiState};
use crate::apps::AppService;
use crate::config::PushConfig;
use crate::config::{Config, TrustMode};
use crate::enroll::EnrollService;
use crate::http::device::{self, DeviceState};
use crate::http::enroll::{self as http_enroll, EnrollState};
use crate::http::listener;
use crate::identity::TrustPolicy;
use crate::metrics::Metrics;
use crate::profiles::render::Sealer;
use crate::profiles::ProfileLibrary;
use crate::push::apns::ApnsClient;
use crate::push::scheduler::Scheduler;
use crate::push::{PushService, Pusher};
use crate::queue::Queue;
use crate::scep_server::ScepService;
use crate::service::hooks::HookChain;
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
    /// APNs client problem.
    #[error("{0}")]
    Apns(#[from] crate::push::apns::ApnsSetupError),
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

/// Builds the push service: the secrets key (optional until a certificate is imported), metrics
/// and the given pusher.
pub fn push_service(cfg: &Config, store: Store, pusher: Arc<dyn Pusher>, wake: crate::queue::Waker) -> Result<PushService, StartError> {
    let secrets = match cfg.secret_key() {
        Ok(k) => Some(k),
        Err(crate::secrets::SecretsError::NotConfigured) => {
            tracing::warn!("no [secrets] key configured: push certificates cannot be imported or used (mdm init writes one)");
            None
        }
        Err(e) => return Err(StartError::Invalid(e.to_string())),
    };
    Ok(PushService::new(store, pusher, secrets, Arc::new(Metrics::new()), wake, &cfg.push))
}

/// Builds the SCEP service when `scep.enabled` and the `[ca]` certificate and key are set.
pub fn scep_service(cfg: &Config, store: Store) -> Result<Option<ScepService>, StartError> {
    if !cfg.scep.enabled {
        return Ok(None);
    }
    let (Some(cert), Some(key)) = (&cfg.ca.cert, &cfg.ca.key) else {
        tracing::warn!("SCEP server disabled: [ca] cert and key are not configured");
        return Ok(None);
    };
    if !cfg.scep.path.starts_with('/') || cfg.scep.path.len() < 2 {
        return Err(StartError::Invalid(format!("scep.path {:?} must start with / and name a path", cfg.scep.path)));
    }
    let ca = crate::pki::Ca::load(cert, key).map_err(|e| StartError::Invalid(format!("[ca]: {e}")))?;
    // Older clients (micromdm's scepclient among them) encrypt with single DES, which OpenSSL 3
    // only has in its legacy provider.
    if !scep::enable_legacy_ciphers() {
        tracing::warn!("OpenSSL legacy provider unavailable: SCEP requests encrypted with DES will be refused");
    }
    if ca.key.rsa().is_err() {
        return Err(StartError::Invalid("the SCEP CA key must be RSA (SCEP encrypts to and signs with RSA)".into()));
    }
    let access = crate::identity::access::AccessChallenges::new(vault(cfg)?.key());
    Ok(Some(ScepService::new(store, ca, &cfg.scep).map_err(|e| StartError::Invalid(e.to_string()))?.with_access(access)))
}

/// Loads the profile signing identity: `[profiles] signing_*`, else the TLS certificate and
/// key with the `[ca]` certificate as chain. `None` (unsigned profiles) when signing is off or
/// no identity is configured.
pub fn profile_signer(cfg: &Config) -> Result<Option<mdm_profiles::cms::Signer>, StartError> {
    if !cfg.profiles.sign {
        tracing::warn!("profiles.sign = false: profiles go to devices unsigned");
        return Ok(None);
    }
    let cert = cfg.profiles.signing_cert.as_ref().or(cfg.server.tls_cert.as_ref());
    let key = cfg.profiles.signing_key.as_ref().or(cfg.server.tls_key.as_ref());
    let chain = cfg.profiles.signing_chain.as_ref().or(cfg.ca.cert.as_ref());
    let (Some(cert), Some(key)) = (cert, key) else {
        tracing::warn!("no profile signing identity ([profiles] signing_cert/signing_key or [server] tls_cert/tls_key): profiles go out unsigned");
        return Ok(None);
    };
    let read = |p: &std::path::PathBuf| std::fs::read(p).map_err(|e| StartError::Invalid(format!("profile signing: cannot read {}: {e}", p.display())));
    let chain = match chain {
        Some(p) => read(p)?,
        None => Vec::new(),
    };
    let signer = mdm_profiles::cms::Signer::from_pem(&read(cert)?, &read(key)?, &chain).map_err(|e| StartError::Invalid(format!("profile signing: {e}")))?;
    tracing::info!(signer = %mdm_profiles::cms::subject_line(signer.cert()), "profiles are signed");
    Ok(Some(signer))
}

/// Builds the profile library service.
pub fn profile_service(cfg: &Config, store: Store, queue: Queue) -> Result<ProfileLibrary, StartError> {
    let access = crate::identity::access::AccessChallenges::new(vault(cfg)?.key());
    let sealer = Sealer::new(profile_signer(cfg)?, cfg.profiles.encrypt).with_access(access);
    Ok(ProfileLibrary::new(store, sealer, queue))
}

/// The vault sealing secrets at rest. A server always has one: devices send UnlockTokens and
/// BootstrapTokens, which are never stored in clear.
pub fn vault(cfg: &Config) -> Result<crate::sealed::Vault, StartError> {
    let key = cfg.secret_key().map_err(|e| StartError::Invalid(e.to_string()))?;
    Ok(crate::sealed::Vault::new(key))
}

/// The services one process runs, built once and shared by the routers and background work.
#[derive(Debug, Clone)]
pub struct Services {
    /// Storage.
    pub store: Store,
    /// The command queue (one per process: its batchers group the process's device requests).
    pub queue: Queue,
    /// Push certificates, pushes and their bookkeeping.
    pub push: PushService,
    /// The profile library.
    pub profiles: ProfileLibrary,
    /// Managed apps.
    pub apps: AppService,
    /// Seals and opens secrets at rest.
    pub vault: crate::sealed::Vault,
    /// Where outbound URLs (webhooks) may point.
    pub outbound: Arc<crate::outbound::Outbound>,
    /// Connectors (one per process: its token cache is shared by the API and the worker).
    pub connectors: crate::connectors::ConnectorService,
    /// Compliance (one per process: the API's policy changes wake its sweeper).
    pub compliance: crate::compliance::ComplianceService,
}

/// The outbound policy from `[outbound]`.
pub fn outbound(cfg: &Config) -> Result<Arc<crate::outbound::Outbound>, StartError> {
    crate::outbound::Outbound::new(&cfg.outbound, cfg.events.timeout).map(Arc::new).map_err(StartError::Invalid)
}

/// Builds the full application router.
pub fn app(cfg: &Config, services: Services) -> Result<Router, StartError> {
    let Services { store, queue, push, profiles, apps, vault, outbound, connectors, compliance } = services;
    let metrics = push.metrics().clone();
    let scep = scep_service(cfg, store.clone())?;
    let enroll = EnrollService::new(cfg, store.clone(), queue.clone(), scep.clone(), push.clone(), profiles.clone(), apps.clone())
        .map_err(|e| StartError::Invalid(e.to_string()))?;
    let shared = crate::shared::SharedService::new(store.clone(), queue.clone(), profiles.clone(), apps.clone(), vault.clone());
    let hooks =
        HookChain(vec![Arc::new(profiles.clone()), Arc::new(apps.clone()), Arc::new(shared.clone()), Arc::new(enroll.clone()), Arc::new(compliance.clone())]);
    let service = MdmService::new(
        store.clone(),
        queue.clone(),
        trust_policy(cfg)?,
        vault.clone(),
        ServiceOptions { user_authenticate: cfg.checkin.user_authenticate, declarative_per_enrollment: cfg.retention.declarative_per_enrollment },
    )
    .with_hooks(Arc::new(hooks));
    let devices =
        Router::new().route("/mdm/checkin", put(device::checkin)).route("/mdm/connect", put(device::connect)).route("/mdm", put(device::any)).with_state(
            DeviceState {
                service,
                cert_header: header_name(&cfg.identity.client_cert_header, "identity.client_cert_header")?,
                mdm_signature: cfg.identity.mdm_signature,
            },
        );
    let scep_routes = match &scep {
        Some(svc) => Router::new().route(svc.path(), get(crate::scep_server::http::get).post(crate::scep_server::http::post)).with_state(svc.clone()),
        None => Router::new(),
    };
    let enroll_routes = if cfg.enroll.enabled {
        Router::new()
            .route("/enroll", get(http_enroll::page).post(http_enroll::login))
            .route("/enroll/profile", get(http_enroll::token_profile))
            .route("/enroll/device", post(http_enroll::device))
            .route("/mdm/enroll", get(http_enroll::direct))
            .with_state(EnrollState { service: enroll.clone(), client_ip_header: header_name(&cfg.enroll.client_ip_header, "enroll.client_ip_header")? })
    } else {
        Router::new()
    };
    let gate =
        api::auth::Gate::new(cfg.api_key()?, cfg.api.auth_failures, cfg.api.auth_window, header_name(&cfg.api.client_ip_header, "api.client_ip_header")?);
    let public = Router::new().route("/connectors/jwks.json", get(crate::api::connectors::jwks)).with_state(connectors.clone());
    let saml = crate::saml::SamlService::new(store.clone(), vault.clone(), compliance.clone(), trust_policy(cfg)?, &cfg.server.public_url);
    let saml_routes = Router::new()
        .route("/saml/metadata", get(crate::http::saml::metadata))
        .route("/saml/sso", get(crate::http::saml::sso_redirect).post(crate::http::saml::sso_post))
        .with_state(crate::http::saml::SamlState {
            service: saml.clone(),
            cert_header: header_name(&cfg.identity.client_cert_header, "identity.client_cert_header")?,
        });
    let api_state = ApiState { store, push, queue, scep, profiles, enroll, apps, vault, gate: Arc::new(gate), outbound, shared, connectors, compliance, saml };
    Ok(Router::new()
        .merge(devices)
        .merge(scep_routes)
        .merge(enroll_routes)
        .merge(api::router(api_state))
        .merge(public)
        .merge(saml_routes)
        .route("/healthz", get(|| async { "ok\n" }))
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(crate::http::uri_guard::layer))
        // Outside every layer that may answer early: the body is read (or, past the limit,
        // drained) before any answer goes out, so HTTP/2 clients get the answer, not a reset.
        .layer(axum::middleware::from_fn_with_state(crate::http::body_limit::MaxBody(cfg.server.max_body_bytes), crate::http::body_limit::layer))
        // Around every answer (413s and bad URLs included), the body's reading counted in the
        // latency; the route template is known here already (routing happens first).
        .layer(axum::middleware::from_fn_with_state(metrics, crate::metrics::track))
        .layer(
            TraceLayer::new_for_http()
                // The path only: query strings carry enrollment tokens.
                .make_span_with(|req: &axum::http::Request<axum::body::Body>| {
                    let id = req.extensions().get::<crate::http::request_id::RequestId>().map(|r| r.0.as_str()).unwrap_or("-");
                    tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
                })
                .on_request(())
                .on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::DEBUG)),
        )
        .layer(axum::middleware::from_fn(crate::http::request_id::layer)))
}

/// Development push (`push.development`): checks that pushes stay on this machine and imports
/// the development push certificate when no push certificate is stored yet.
async fn development_push(cfg: &Config, push: &PushService) -> Result<(), StartError> {
    if !cfg.push.development {
        return Ok(());
    }
    cfg.push.development_port().map_err(StartError::Invalid)?;
    tracing::warn!(url = %cfg.push.url, "DEVELOPMENT push: pushes go to the mock APNs of `mdm sim` on this machine, never to Apple; real devices are not woken");
    let Some(path) = &cfg.push.development_cert else { return Ok(()) };
    let pem = std::fs::read(path).map_err(|e| StartError::Invalid(format!("push.development_cert: cannot read {}: {e}", path.display())))?;
    let cert =
        crate::push::cert::PushCert::from_combined_pem(&pem).map_err(|e| StartError::Invalid(format!("push.development_cert {}: {e}", path.display())))?;
    if !cert.development {
        return Err(StartError::Invalid(format!(
            "push.development_cert {} is not a development push certificate (Apple's certificates are imported with `mdm push-cert import`)",
            path.display()
        )));
    }
    let stored = push.certs().await.map_err(|e| StartError::Invalid(e.to_string()))?;
    if let Some(other) = stored.iter().find(|c| c.active) {
        if other.topic != cert.topic {
            tracing::info!(topic = %other.topic, "a push certificate is stored; the development push certificate is not imported");
        }
        return Ok(());
    }
    let imported =
        push.import(&pem, None, crate::store::push::TopicChange::Refuse).await.map_err(|e| StartError::Invalid(format!("push.development_cert: {e}")))?;
    tracing::info!(topic = %imported.certificate.topic, "development push certificate imported");
    Ok(())
}

/// A configured header name, or `None` when the setting is empty.
fn header_name(value: &str, setting: &str) -> Result<Option<axum::http::HeaderName>, StartError> {
    let h = value.trim();
    if h.is_empty() {
        return Ok(None);
    }
    axum::http::HeaderName::from_bytes(h.to_ascii_lowercase().as_bytes()).map(Some).map_err(|e| StartError::Invalid(format!("{setting}: {e}")))
}

/// A bound, not yet running server.
pub struct Server {
    listener: tokio::net::TcpListener,
    tls: Option<rustls::ServerConfig>,
    app: Router,
    push: PushService,
    push_cfg: PushConfig,
    profiles: ProfileLibrary,
    audit_interval: std::time::Duration,
    apps: AppService,
    app_audit_interval: std::time::Duration,
    store: Store,
    retention: crate::config::RetentionConfig,
    drain_timeout: std::time::Duration,
    deliverer: crate::events::deliver::Deliverer,
    connector_worker: crate::connectors::worker::Worker,
    shared: crate::shared::SharedService,
    resend_after: std::time::Duration,
    compliance: crate::compliance::ComplianceService,
    inventory_interval: std::time::Duration,
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
        let apns = ApnsClient::new(&cfg.push)?;
        tracing::info!(url = %cfg.push.url, "APNs client ready");
        Server::bind_with(cfg, store, Arc::new(apns)).await
    }

    /// Like [`Server::bind`] with a given store and pusher. Loads the stored push certificates
    /// into the pusher.
    pub async fn bind_with(cfg: &Config, store: Store, pusher: Arc<dyn Pusher>) -> Result<Server, StartError> {
        cfg.check_lifetimes().map_err(|e| StartError::Invalid(e.to_string()))?;
        let queue = Queue::new(store.clone());
        let push = push_service(cfg, store.clone(), pusher, queue.waker())?;
        development_push(cfg, &push).await?;
        match push.reload().await {
            Ok(0) => tracing::warn!("no APNs push certificate stored: devices cannot be woken (mdm push-cert import FILE)"),
            Ok(n) => tracing::info!(certificates = n, "push certificates loaded"),
            Err(e) => tracing::error!(error = %e, "loading push certificates failed"),
        }
        let profiles = profile_service(cfg, store.clone(), queue.clone())?;
        let vault = vault(cfg)?;
        match crate::sealed::seal_existing(&store, &vault).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(values = n, "secrets stored in clear by an earlier version are sealed now"),
            Err(e) => return Err(StartError::Store(e)),
        }
        let apps = AppService::new(store.clone(), queue.clone(), Some(vault.clone()));
        let outbound = outbound(cfg)?;
        let deliverer = crate::events::deliver::Deliverer::new(
            &store,
            vault.clone(),
            outbound.clone(),
            cfg.events.clone(),
            push.metrics().clone(),
            cfg.push.expiry_warning,
        );
        let connectors = crate::connectors::ConnectorService::new(store.clone(), vault.clone(), outbound.clone());
        let connector_worker = crate::connectors::worker::Worker::new(connectors.clone(), cfg.connectors.clone());
        let shared = crate::shared::SharedService::new(store.clone(), queue.clone(), profiles.clone(), apps.clone(), vault.clone());
        let compliance = crate::compliance::ComplianceService::new(store.clone(), queue.clone(), profiles.clone(), apps.clone(), cfg.compliance.clone())
            .map_err(StartError::Invalid)?;
        let services = Services {
            store: store.clone(),
            queue,
            push: push.clone(),
            profiles: profiles.clone(),
            apps: apps.clone(),
            vault,
            outbound,
            connectors,
            compliance: compliance.clone(),
        };
        let app = app(cfg, services)?;
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
        Ok(Server {
            listener: l,
            tls,
            app,
            push,
            push_cfg: cfg.push.clone(),
            profiles,
            audit_interval: cfg.profiles.audit_interval,
            apps,
            app_audit_interval: cfg.apps.audit_interval,
            store,
            retention: cfg.retention.clone(),
            drain_timeout: cfg.server.drain_timeout,
            deliverer,
            connector_worker,
            shared,
            resend_after: cfg.connectors.resend_after,
            compliance,
            inventory_interval: cfg.compliance.inventory_interval,
            local_addr,
        })
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully ([`Server::run_until`]).
    pub async fn run(self) {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes, running this replica's push scheduler, profile and app
    /// audits, retention sweep and webhook delivery alongside. Then: no new connections, requests in flight
    /// finished within `server.drain_timeout`, background work stopped, and the push lease of a
    /// batch that was out given back so the next process pushes those devices at once.
    pub async fn run_until(self, shutdown: impl std::future::Future<Output = ()>) {
        let scheduler = Scheduler::new(self.push.clone(), &self.push_cfg);
        let lease = scheduler.lease();
        let scheduler = AbortOnDrop::spawn(scheduler.run());
        let audit = (!self.audit_interval.is_zero()).then(|| AbortOnDrop::spawn(self.profiles.clone().run_audits(self.audit_interval)));
        let app_audit = (!self.app_audit_interval.is_zero()).then(|| AbortOnDrop::spawn(self.apps.clone().run_audits(self.app_audit_interval)));
        let retention = AbortOnDrop::spawn(crate::service::retention::run(self.store.clone(), self.retention.clone()));
        let deliverer = AbortOnDrop::spawn(self.deliverer.clone().run());
        let connector_worker = AbortOnDrop::spawn(self.connector_worker.clone().run());
        let sweeps = AbortOnDrop::spawn(self.shared.clone().run_sweeps(self.resend_after));
        let compliance = AbortOnDrop::spawn(self.compliance.clone().run_sweeps(uuid::Uuid::new_v4().to_string()));
        let inventory = (!self.inventory_interval.is_zero()).then(|| AbortOnDrop::spawn(self.compliance.clone().run_inventory()));
        listener::serve(self.listener, self.tls, self.app, shutdown, self.drain_timeout).await;
        scheduler.stop().await;
        deliverer.stop().await;
        connector_worker.stop().await;
        drop((audit, app_audit, retention, sweeps, compliance, inventory));
        match self.connector_worker.release().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(calls = n, "connector call leases released"),
            Err(e) => tracing::warn!(error = %e, "releasing connector call leases failed; they run out by themselves"),
        }
        match self.deliverer.release().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(webhooks = n, "webhook leases released: another replica goes on at once"),
            Err(e) => tracing::warn!(error = %e, "releasing webhook leases failed; they run out by themselves"),
        }
        match lease.release(&self.store).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(enrollments = n, "push lease released: the next process pushes them at once"),
            Err(e) => tracing::warn!(error = %e, "releasing the push lease failed; it runs out by itself"),
        }
        tracing::info!("server stopped");
    }
}

/// Completes on SIGTERM (systemd, Kubernetes) or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = term => tracing::info!("SIGTERM: shutting down"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: shutting down"),
    }
}

/// Aborts the task when dropped, so background work stops with the server.
struct AbortOnDrop(Option<tokio::task::JoinHandle<()>>);

impl AbortOnDrop {
    fn spawn(f: impl std::future::Future<Output = ()> + Send + 'static) -> AbortOnDrop {
        AbortOnDrop(Some(tokio::spawn(f)))
    }

    /// Aborts the task and waits until it has stopped.
    async fn stop(mut self) {
        if let Some(h) = self.0.take() {
            h.abort();
            let _ = h.await;
        }
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(h) = &self.0 {
            h.abort();
        }
    }
}
