//! Over-the-air enrollment (Apple's profile service, phases 1–3) and the direct enrollment
//! profile, with the users, tokens and blueprints around them.
//!
//! 1. A person logs in on `/enroll` (or opens a token link) and gets a profile-service profile
//!    carrying a one-time challenge bound to that login (a *session*).
//! 2. The device POSTs its attributes, CMS-signed by its Apple-issued identity, with the
//!    challenge; it gets a profile with a SCEP payload (a fresh one-time SCEP challenge) for an
//!    enrollment identity.
//! 3. The device POSTs again, signed with that identity; it gets the enrollment profile,
//!    encrypted to that identity: trusted roots, a SCEP payload for the MDM identity, and the MDM
//!    payload.
//!
//! Each SCEP challenge belongs to its session, so the identity certificate a device later
//! authenticates with leads back to who enrolled it; the session's blueprint runs on the
//! enrollment's first TokenUpdate ([`blueprint`]).

pub(crate) mod admin;
pub use mdm_profiles::attributes;
pub(crate) mod blueprint;
pub(crate) mod page;
pub(crate) mod password;
pub(crate) mod profiles;
pub(crate) mod qr;

use std::sync::Arc;

use futures::future::BoxFuture;
use mdm_profiles::payloads::mdm::AccessRights;
use mdm_profiles::payloads::scep::KeySize;
use openssl::x509::store::{X509Store, X509StoreBuilder};
use openssl::x509::X509;

use crate::apps::AppService;
use crate::config::{Config, DeviceTrust, EnrollConfig};
use crate::identity::cert::{sha256_hex, verify_chain};
use crate::profiles::ProfileLibrary;
use crate::push::PushService;
use crate::scep_server::ScepService;
use crate::service::hooks::DeviceHooks;
use crate::store::enroll::{Phase2, SessionRow, TokenRow, UserRow};
use crate::store::{now, Store, StoreError};

use self::attributes::Signed;
use self::profiles::{Branding, MdmSettings, Urls};

/// An enrollment request that cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    /// Malformed input (not CMS, not a plist, a bad field).
    #[error("{0}")]
    BadRequest(String),
    /// Well-formed but not allowed: untrusted signer, unknown/used/expired challenge or token.
    #[error("{0}")]
    Refused(String),
    /// Something named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Collides with what is stored.
    #[error("{0}")]
    Conflict(String),
    /// The server is not set up for this (no SCEP CA, no push certificate, no device CAs).
    #[error("{0}")]
    Unavailable(String),
    /// A server-side failure.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for EnrollError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Challenge(why) => EnrollError::Refused(why),
            StoreError::NotFound(why) => EnrollError::NotFound(why),
            StoreError::Conflict(why) => EnrollError::Conflict(why),
            StoreError::Pool(_) | StoreError::Unavailable(_) => {
                tracing::error!(error = %e, "enrollment: database unavailable");
                EnrollError::Unavailable("the database is unavailable; try again shortly".into())
            }
            other => EnrollError::Internal(other.to_string()),
        }
    }
}

impl From<attributes::AttributesError> for EnrollError {
    fn from(e: attributes::AttributesError) -> Self {
        // Unsigned, truncated, tampered (the signature no longer verifies) or the wrong content:
        // the body is bad (400). Whether a verifying signer is trusted is decided by the phase.
        EnrollError::BadRequest(e.to_string())
    }
}

/// Why an enrollment-page login failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Too many failures from this client.
    #[error("too many failed logins; try again in {} minute(s)", .0.as_secs().div_ceil(60).max(1))]
    Blocked(std::time::Duration),
    /// Unknown user, wrong password or disabled user (not told apart).
    #[error("wrong username or password")]
    Wrong,
    /// The login was right but the profile could not be made.
    #[error(transparent)]
    Enroll(#[from] EnrollError),
}

/// How phase 2 decides whether the device's signer is trusted.
enum SignerTrust {
    /// Any signer whose signature verifies.
    Any,
    /// The signer must chain to these CAs.
    Ca(X509Store),
    /// `device_trust = "ca"` without any CA: phase 2 is refused until one is configured.
    Unconfigured,
}

/// Why the enrollment service could not be built.
#[derive(Debug, thiserror::Error)]
#[error("enroll: {0}")]
pub struct EnrollSetupError(pub String);

struct Inner {
    /// Enrollment users, tokens, sessions and blueprints.
    enroll: crate::store::enroll::EnrollStore,
    /// Devices and enrollments.
    devices: crate::store::devices::DeviceStore,
    /// Groups (blueprints add devices to them).
    library: crate::store::library::LibraryStore,
    cfg: EnrollConfig,
    urls: Urls,
    branding: Branding,
    mdm: MdmSettingsBase,
    scep: Option<ScepService>,
    push: PushService,
    queue: crate::queue::Queue,
    profiles: ProfileLibrary,
    apps: AppService,
    trust: SignerTrust,
    roots: Vec<X509>,
    limiter: crate::limiter::LoginLimiter,
    verify_slots: tokio::sync::Semaphore,
}

/// The MDM payload settings that do not depend on the device.
#[derive(Debug, Clone)]
struct MdmSettingsBase {
    access_rights: AccessRights,
    sign_message: bool,
    check_out_when_removed: bool,
}

/// The enrollment service. Cheap to clone.
#[derive(Clone)]
pub struct EnrollService {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for EnrollService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrollService").field("base", &self.inner.urls.base).finish()
    }
}

fn read_certs(paths: &[std::path::PathBuf]) -> Result<Vec<X509>, EnrollSetupError> {
    let mut out = Vec::new();
    for p in paths {
        let pem = std::fs::read(p).map_err(|e| EnrollSetupError(format!("{}: {e}", p.display())))?;
        let certs = X509::stack_from_pem(&pem).map_err(|e| EnrollSetupError(format!("{}: {e}", p.display())))?;
        if certs.is_empty() {
            return Err(EnrollSetupError(format!("{}: no certificate", p.display())));
        }
        out.extend(certs);
    }
    Ok(out)
}

/// A fresh random secret: `n` bytes, URL-safe base64 without padding.
pub fn random_secret(n: usize) -> Result<String, EnrollError> {
    use base64::Engine;
    let mut raw = vec![0u8; n];
    openssl::rand::rand_bytes(&mut raw).map_err(|e| EnrollError::Internal(e.to_string()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
}

impl EnrollService {
    /// Builds the service from the configuration.
    pub fn new(
        cfg: &Config,
        store: Store,
        queue: crate::queue::Queue,
        scep: Option<ScepService>,
        push: PushService,
        profiles: ProfileLibrary,
        apps: AppService,
    ) -> Result<EnrollService, EnrollSetupError> {
        let e = &cfg.enroll;
        let access_rights = AccessRights::from_bits(e.access_rights).map_err(|err| EnrollSetupError(format!("enroll.access_rights: {err}")))?;
        if let Some(rule) = access_rights.violations().next() {
            return Err(EnrollSetupError(format!("enroll.access_rights {}: {}", e.access_rights, rule.apple)));
        }
        let key_size = KeySize::try_from(e.key_size).map_err(|err| EnrollSetupError(format!("enroll.key_size: {err}")))?;
        let trust = match e.device_trust {
            DeviceTrust::Any => {
                tracing::warn!("enroll.device_trust = \"any\": phase 2 accepts device attributes signed by any certificate (development only)");
                SignerTrust::Any
            }
            DeviceTrust::Ca if e.device_ca_certs.is_empty() => {
                tracing::warn!("enroll.device_trust = \"ca\" but enroll.device_ca_certs is empty: over-the-air enrollment is refused until Apple's iPhone Device CA is configured");
                SignerTrust::Unconfigured
            }
            DeviceTrust::Ca => {
                let mut b = X509StoreBuilder::new().map_err(|err| EnrollSetupError(err.to_string()))?;
                for c in read_certs(&e.device_ca_certs)? {
                    b.add_cert(c).map_err(|err| EnrollSetupError(err.to_string()))?;
                }
                SignerTrust::Ca(b.build())
            }
        };
        let mut roots = Vec::new();
        if let Some(s) = &scep {
            roots.push(s.ca_cert().clone());
        }
        for c in read_certs(&e.trust_certs)? {
            let dup = roots.iter().any(|r| r.to_der().ok() == c.to_der().ok());
            if !dup {
                roots.push(c);
            }
        }
        if e.enabled && !profiles.sealer().signs() {
            tracing::warn!("no profile signing identity: enrollment profiles go out unsigned, and devices show them as unverified");
        }
        let urls = Urls { base: cfg.server.public_url.trim_end_matches('/').to_string(), scep_path: cfg.scep.path.clone() };
        Ok(EnrollService {
            inner: Arc::new(Inner {
                enroll: store.enroll(),
                devices: store.devices(),
                library: store.library(),
                cfg: e.clone(),
                urls,
                branding: Branding { organization: e.organization.clone(), key_size },
                mdm: MdmSettingsBase { access_rights, sign_message: e.sign_message, check_out_when_removed: e.check_out_when_removed },
                scep,
                push,
                queue,
                profiles,
                apps,
                trust,
                roots,
                limiter: crate::limiter::LoginLimiter::new(e.login_attempts, e.login_window),
                verify_slots: tokio::sync::Semaphore::new(4),
            }),
        })
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &EnrollConfig {
        &self.inner.cfg
    }

    /// The enrollment page URL.
    pub fn page_url(&self) -> String {
        self.inner.urls.page()
    }

    /// The organization name shown to people.
    pub fn organization(&self) -> &str {
        &self.inner.branding.organization
    }

    fn scep(&self) -> Result<&ScepService, EnrollError> {
        self.inner.scep.as_ref().ok_or_else(|| EnrollError::Unavailable("enrollment needs the SCEP server ([ca] cert and key, scep.enabled)".into()))
    }

    /// A one-time SCEP challenge for this session's identities (stored by the caller's
    /// transaction), valid as long as a session.
    fn challenge(&self, scep: &ScepService, note: String) -> Result<(String, crate::store::models::ScepChallenge), EnrollError> {
        scep.prepare_challenge(Some(self.inner.cfg.session_ttl), Some(note)).map_err(|e| EnrollError::Internal(e.to_string()))
    }

    /// Signs (and, with `recipient`, first encrypts) a profile off the async threads.
    async fn seal(&self, mut dict: plist::Dictionary, recipient: Option<X509>) -> Result<Vec<u8>, EnrollError> {
        let profiles = self.inner.profiles.clone();
        tokio::task::spawn_blocking(move || profiles.sealer().seal_to(&mut dict, recipient.as_deref()))
            .await
            .map_err(|e| EnrollError::Internal(e.to_string()))?
            .map_err(|e| EnrollError::Internal(e.to_string()))
    }

    /// The token with this value, if it can be used now.
    pub async fn usable_token(&self, value: &str) -> Result<TokenRow, EnrollError> {
        let t = self.inner.enroll.token_by_hash(sha256_hex(value.trim().as_bytes())).await?;
        let t = t.ok_or_else(|| EnrollError::Refused("unknown enrollment token".into()))?;
        match t.unusable(now()) {
            Some(why) => Err(EnrollError::Refused(why)),
            None => Ok(t),
        }
    }

    /// A new session for a login or token: the token's settings first, then its (or the logged
    /// in) user's.
    async fn session(&self, method: &str, token: Option<&TokenRow>, user: Option<UserRow>, client: Option<String>) -> Result<SessionRow, EnrollError> {
        let user = match (user, token.and_then(|t| t.username.clone())) {
            (Some(u), _) => Some(u),
            (None, Some(name)) => self.inner.enroll.user(name).await?,
            (None, None) => None,
        };
        let at = now();
        let ttl = chrono::Duration::from_std(self.inner.cfg.session_ttl).unwrap_or(chrono::Duration::hours(1));
        Ok(SessionRow {
            id: uuid::Uuid::new_v4().to_string(),
            method: method.to_string(),
            token_id: token.map(|t| t.id.clone()),
            username: token.and_then(|t| t.username.clone()).or_else(|| user.as_ref().map(|u| u.username.clone())),
            group_name: token.and_then(|t| t.group_name.clone()).or_else(|| user.as_ref().and_then(|u| u.group_name.clone())),
            blueprint: token.and_then(|t| t.blueprint.clone()).or_else(|| user.as_ref().and_then(|u| u.blueprint.clone())),
            challenge_hash: None,
            udid: None,
            attributes: None,
            phase: 1,
            scep_challenge_id: None,
            mdm_challenge_id: None,
            client,
            created_at: at,
            expires_at: at + ttl,
            updated_at: at,
            enrolled_at: None,
        })
    }

    /// Phase 1: stores the session with a fresh challenge and returns the signed profile-service
    /// profile.
    async fn phase1(&self, mut session: SessionRow) -> Result<Vec<u8>, EnrollError> {
        let challenge = random_secret(24)?;
        session.challenge_hash = Some(sha256_hex(challenge.as_bytes()));
        let id = session.id.clone();
        self.inner.enroll.create_session(session, false, None).await?;
        tracing::info!(session = %id, "enrollment: profile-service profile served");
        self.seal(profiles::profile_service(&self.inner.urls, &self.inner.branding, &challenge), None).await
    }

    /// The enrollment page's login: on success the profile-service profile.
    pub async fn login(&self, username: &str, password: &str, client: std::net::IpAddr) -> Result<Vec<u8>, LoginError> {
        // Counted before the password is checked, so parallel guesses cannot slip past the limit.
        if let Err(wait) = self.inner.limiter.attempt(client, std::time::Instant::now()) {
            tracing::warn!(%client, "enrollment login refused: too many failures");
            return Err(LoginError::Blocked(wait));
        }
        if username.chars().any(char::is_control) || username.len() > 256 {
            // No user has such a name (and PostgreSQL could not even look one up with NUL).
            return Err(LoginError::Wrong);
        }
        let user = self.inner.enroll.user(username.trim().to_string()).await.map_err(EnrollError::from)?;
        let phc = user.as_ref().filter(|u| !u.disabled).map(|u| u.password_hash.clone()).unwrap_or_else(|| password::decoy().to_string());
        let pw = password.to_string();
        // Argon2 takes ~19 MiB and tens of milliseconds per check: a few at a time.
        let _slot = self.inner.verify_slots.acquire().await.map_err(|e| EnrollError::Internal(e.to_string()))?;
        let ok = tokio::task::spawn_blocking(move || password::verify(&pw, &phc)).await.map_err(|e| EnrollError::Internal(e.to_string()))?;
        let Some(user) = user.filter(|u| ok && !u.disabled) else {
            tracing::warn!(%client, username = %username.trim(), "enrollment login failed");
            return Err(LoginError::Wrong);
        };
        self.inner.limiter.succeeded(client);
        tracing::info!(%client, username = %user.username, "enrollment login");
        let session = self.session("ota", None, Some(user), Some(client.to_string())).await?;
        Ok(self.phase1(session).await?)
    }

    /// Phase 1 for an enrollment token (the token is used when the device reaches phase 2).
    pub async fn token_profile(&self, token: &str, client: std::net::IpAddr) -> Result<Vec<u8>, EnrollError> {
        let t = self.usable_token(token).await?;
        let session = self.session("ota", Some(&t), None, Some(client.to_string())).await?;
        self.phase1(session).await
    }

    /// A device's POST to the profile service: phase 2 when signed by its device identity,
    /// phase 3 when signed by the enrollment identity issued here.
    pub async fn device_request(&self, body: &[u8]) -> Result<Vec<u8>, EnrollError> {
        let body = body.to_vec();
        let signed = tokio::task::spawn_blocking(move || attributes::read(&body)).await.map_err(|e| EnrollError::Internal(e.to_string()))??;
        let issued_here = self.inner.scep.as_ref().is_some_and(|s| s.issued_here_and_valid(&signed.signer));
        let span = tracing::info_span!("enroll", udid = %signed.attributes.udid, phase = if issued_here { 3 } else { 2 });
        let step = async move {
            if issued_here {
                self.phase3(signed).await
            } else {
                self.phase2(signed).await
            }
        };
        tracing::Instrument::instrument(step, span).await
    }

    async fn phase2(&self, s: Signed) -> Result<Vec<u8>, EnrollError> {
        match &self.inner.trust {
            SignerTrust::Any => {}
            SignerTrust::Ca(store) => verify_chain(store, &s.signer, &s.chain)
                .map_err(|why| EnrollError::Refused(format!("the device attributes are not signed by a trusted device certificate: {why}")))?,
            SignerTrust::Unconfigured => return Err(EnrollError::Unavailable("over-the-air enrollment is not set up: enroll.device_ca_certs is empty".into())),
        }
        let a = &s.attributes;
        let challenge =
            a.challenge.as_deref().filter(|c| !c.is_empty()).ok_or_else(|| EnrollError::Refused("the device attributes carry no CHALLENGE".into()))?;
        let scep = self.scep()?;
        let (value, row) = self.challenge(scep, format!("enrollment identity of {}", a.udid))?;
        let attributes = serde_json::to_string(&mdm_profiles::profile_service::DeviceAttributes { challenge: None, ..a.clone() })
            .map_err(|e| EnrollError::Internal(e.to_string()))?;
        let session = self
            .inner
            .enroll
            .session_phase2(Phase2 { challenge_hash: sha256_hex(challenge.as_bytes()), udid: a.udid.clone(), attributes }, row)
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "enrollment phase 2 refused"))?;
        let dict = profiles::identity_profile(&self.inner.urls, &self.inner.branding, scep.ca_cert(), &a.udid, &value)
            .map_err(|e| EnrollError::Internal(e.to_string()))?;
        tracing::info!(session = %session.id, "enrollment: identity profile served");
        self.seal(dict, None).await
    }

    async fn phase3(&self, s: Signed) -> Result<Vec<u8>, EnrollError> {
        let hash = sha256_hex(&s.signer.to_der().map_err(|e| EnrollError::Internal(e.to_string()))?);
        let found = self.inner.enroll.session_for_cert(hash).await?;
        let Some((session, is_mdm)) = found else {
            return Err(EnrollError::Refused("the request is signed by a certificate that was not issued for an enrollment session".into()));
        };
        if is_mdm {
            return Err(EnrollError::Refused("the request is signed by the device's MDM identity, not its enrollment identity".into()));
        }
        if session.udid.as_deref() != Some(s.attributes.udid.as_str()) {
            return Err(EnrollError::Refused("the UDID differs from the one this enrollment identity was issued for".into()));
        }
        let (value, row) = self.challenge(self.scep()?, format!("MDM identity of {}", s.attributes.udid))?;
        self.inner.enroll.session_phase3(session.id.clone(), row).await.inspect_err(|e| tracing::warn!(error = %e, "enrollment phase 3 refused"))?;
        let topic = self.topic_for(Some(&s.attributes.udid)).await?;
        let dict = self.enrollment_dict(topic, &s.attributes.udid, &value)?;
        tracing::info!(session = %session.id, "enrollment: enrollment profile served (encrypted)");
        self.seal(dict, Some(s.signer)).await
    }

    fn enrollment_dict(&self, topic: String, identity_name: &str, challenge: &str) -> Result<plist::Dictionary, EnrollError> {
        let m = &self.inner.mdm;
        let settings = MdmSettings { topic, access_rights: m.access_rights, sign_message: m.sign_message, check_out_when_removed: m.check_out_when_removed };
        profiles::enrollment_profile(&self.inner.urls, &self.inner.branding, self.scep()?.ca_cert(), &self.inner.roots, &settings, identity_name, challenge)
            .map_err(|e| EnrollError::Internal(e.to_string()))
    }

    /// The APNs topic for a device: the one it is enrolled with when that certificate is still
    /// here (a topic never changes under an enrolled device), else the newest certificate's.
    async fn topic_for(&self, udid: Option<&str>) -> Result<String, EnrollError> {
        let certs = self.inner.push.certs().await?;
        let Some(newest) = certs.iter().find(|c| c.active) else {
            return Err(EnrollError::Unavailable(
                "no APNs push certificate is installed, so enrolled devices could not be woken; import one first (mdm push-cert import)".into(),
            ));
        };
        if let Some(udid) = udid {
            if let Some(e) = self.inner.devices.enrollment(udid.to_string()).await? {
                if certs.iter().any(|c| c.topic == e.topic && c.usable) {
                    return Ok(e.topic);
                }
            }
        }
        Ok(newest.topic.clone())
    }

    /// `GET /mdm/enroll?token=`: the enrollment profile without the phases (signed, not
    /// encrypted: the device is not known yet). Uses the token once.
    pub async fn direct_profile(&self, token: &str) -> Result<Vec<u8>, EnrollError> {
        let t = self.usable_token(token).await?;
        let topic = self.topic_for(None).await?;
        let scep = self.scep()?;
        let mut session = self.session("direct", Some(&t), None, None).await?;
        let (value, row) = self.challenge(scep, format!("MDM identity of direct enrollment {}", session.id))?;
        session.phase = 3;
        session.mdm_challenge_id = Some(row.id.clone());
        let id = session.id.clone();
        let dict = self.enrollment_dict(topic, &format!("MDM Identity {}", id.split('-').next().unwrap_or(&id)), &value)?;
        self.inner.enroll.create_session(session, true, Some(row)).await?;
        tracing::info!(session = %id, token = %t.id, "enrollment: direct enrollment profile served");
        self.seal(dict, None).await
    }
}

impl DeviceHooks for EnrollService {
    fn enrolled(&self, enrollment_id: String, device_id: String) -> BoxFuture<'static, ()> {
        let svc = self.clone();
        Box::pin(async move {
            if enrollment_id != device_id {
                return; // user channels run no blueprint
            }
            match svc.run_blueprint(&device_id).await {
                Ok(ran) => {
                    for why in &ran.skipped {
                        tracing::warn!(enrollment = %enrollment_id, "blueprint: {why}");
                    }
                    tracing::info!(enrollment = %enrollment_id, blueprint = ran.blueprint.as_deref().unwrap_or("(none)"), queued = ?ran.queued, "blueprint ran");
                }
                Err(e) => tracing::error!(enrollment = %enrollment_id, error = %e, "blueprint failed"),
            }
        })
    }
}
