//! The MDM service: what a check-in or command report does, independent of HTTP.
//! Handlers in `http/` parse nothing themselves; they pass the body and identity inputs here.

pub(crate) mod binding_cache;
pub(crate) mod checkin;
pub(crate) mod connect;
pub(crate) mod error;
pub(crate) mod hooks;
pub(crate) mod periodic;
pub mod retention;

use crate::identity::{self, DeviceCert, IdentityInputs, TrustPolicy};
use crate::protocol::enrollment::EnrollmentRef;
use crate::queue::{BindingCheck, Queue};
use crate::store::{Store, StoreError};

pub use error::ServiceError;

/// Behaviour switches from the configuration.
#[derive(Debug, Clone)]
pub struct ServiceOptions {
    /// Accept UserAuthenticate (otherwise answered 410).
    pub user_authenticate: bool,
    /// DeclarativeManagement messages kept per enrollment (`retention.declarative_per_enrollment`).
    pub declarative_per_enrollment: u32,
}

/// What the HTTP layer sends back to the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceResponse {
    /// HTTP status (200 for every success).
    pub status: u16,
    /// Body: empty, or an XML plist.
    pub body: Vec<u8>,
}

impl DeviceResponse {
    /// Empty 200.
    pub fn empty() -> DeviceResponse {
        DeviceResponse { status: 200, body: Vec::new() }
    }

    /// 200 with a plist body.
    pub fn plist(body: Vec<u8>) -> DeviceResponse {
        DeviceResponse { status: 200, body }
    }
}

/// The service. Cheap to clone.
#[derive(Debug, Clone)]
pub struct MdmService {
    /// The command queue.
    queue: Queue,
    /// Devices, enrollments and bindings.
    devices: crate::store::devices::DeviceStore,
    /// Retention and per-message trimming.
    retention: crate::store::retention::RetentionStore,
    /// The outbox, for check-ins that change nothing else.
    events: crate::store::events::EventStore,
    trust: TrustPolicy,
    vault: crate::sealed::Vault,
    opts: ServiceOptions,
    bindings: std::sync::Arc<binding_cache::BindingCache>,
    verified: std::sync::Arc<binding_cache::VerifiedCache>,
    hooks: Option<std::sync::Arc<dyn hooks::DeviceHooks>>,
}

impl MdmService {
    /// Builds the service.
    pub fn new(store: Store, queue: Queue, trust: TrustPolicy, vault: crate::sealed::Vault, opts: ServiceOptions) -> MdmService {
        MdmService {
            devices: store.devices(),
            retention: store.retention(),
            events: store.events(),
            queue,
            trust,
            vault,
            opts,
            bindings: Default::default(),
            verified: Default::default(),
            hooks: None,
        }
    }

    /// Adds listeners for answered commands and enabled enrollments.
    pub fn with_hooks(mut self, hooks: std::sync::Arc<dyn hooks::DeviceHooks>) -> MdmService {
        self.hooks = Some(hooks);
        self
    }

    /// Handles a body PUT to the single `/mdm` URL: a check-in if it has `MessageType`,
    /// a command report if it has `Status`.
    pub async fn handle_any(&self, inputs: IdentityInputs<'_>) -> Result<DeviceResponse, ServiceError> {
        let dict = crate::protocol::parse_dict(inputs.body)?;
        if dict.contains_key("MessageType") {
            self.checkin_dict(dict, inputs).await
        } else if dict.contains_key("Status") {
            self.connect_dict(dict, inputs).await
        } else {
            Err(ServiceError::Parse(crate::protocol::ParseError::Missing("MessageType or Status")))
        }
    }

    /// Records that `device` was just (re)bound to `hash` by this process.
    fn rebound(&self, device: &str, hash: &str) {
        self.bindings.forget_device(device);
        self.bindings.put(hash, device, std::time::Instant::now());
    }

    /// Identifies the request's device certificate: its hash, once it has passed the trust
    /// policy, and the parsed certificate when it had to be parsed (not cached). Certificates
    /// that arrive by transport (mTLS or proxy header) are cached by the hash of what was
    /// presented; an `Mdm-Signature` is verified against every body.
    fn identify(&self, inputs: &IdentityInputs<'_>) -> Result<(String, Option<DeviceCert>), ServiceError> {
        let key = presented_key(inputs);
        if let Some(v) = key.as_ref().and_then(|k| self.verified.get(k, chrono::Utc::now().naive_utc())) {
            return Ok((v.hash, None));
        }
        let cert = self.verify_presented(inputs, key)?;
        Ok((cert.hash.clone(), Some(cert)))
    }

    /// Parses the request's certificate and checks it against the trust policy, without asking
    /// the cache (Authenticate needs the certificate itself).
    fn identify_cert(&self, inputs: &IdentityInputs<'_>) -> Result<DeviceCert, ServiceError> {
        self.verify_presented(inputs, presented_key(inputs))
    }

    /// Parses and checks; remembers the decision under `key`.
    fn verify_presented(&self, inputs: &IdentityInputs<'_>, key: Option<[u8; 32]>) -> Result<DeviceCert, ServiceError> {
        let cert = identity::extract(inputs)?;
        let until = self.trust.check(&cert)?;
        if let (Some(k), Some(until)) = (key, until) {
            self.verified.put(k, binding_cache::Verified { hash: cert.hash.clone(), until });
        }
        Ok(cert)
    }

    /// Requires that the certificate with this hash is the one bound to the enrollment's device.
    async fn require_bound(&self, hash: &str, who: &EnrollmentRef) -> Result<(), ServiceError> {
        let Some(check) = self.binding_check(hash, who) else { return Ok(()) };
        let bound = self.devices.cert_device(hash.to_string()).await;
        self.binding_learned(Some(&check), who, bound.and_then(|b| check.outcome(b)))
    }

    /// The binding check a store call must make for this request: `None` when this process
    /// saw the certificate bound to the device within [`binding_cache::TTL`].
    fn binding_check(&self, hash: &str, who: &EnrollmentRef) -> Option<BindingCheck> {
        let cached = self.bindings.get(hash, std::time::Instant::now());
        (cached.as_deref() != Some(who.device_id.as_str())).then(|| BindingCheck { cert_hash: hash.to_string(), device_id: who.device_id.clone() })
    }

    /// Remembers what a store call found out about a binding it checked (if it checked one),
    /// logs a refusal, and passes the call's result on.
    fn binding_learned<T>(&self, check: Option<&BindingCheck>, who: &EnrollmentRef, result: Result<T, StoreError>) -> Result<T, ServiceError> {
        let Some(check) = check else { return Ok(result?) };
        let now = std::time::Instant::now();
        match &result {
            Ok(_) => self.bindings.put(&check.cert_hash, &check.device_id, now),
            Err(StoreError::NotBound { bound_to: Some(other), .. }) => {
                self.bindings.put(&check.cert_hash, other, now);
                tracing::warn!(enrollment = %who.id, cert = %check.cert_hash, bound_to = %other, "certificate bound to another device");
            }
            Err(StoreError::NotBound { bound_to: None, .. }) => {
                tracing::warn!(enrollment = %who.id, cert = %check.cert_hash, "certificate not bound to any device");
            }
            Err(_) => {}
        }
        Ok(result?)
    }
}

/// The cache key of a transport-presented certificate: the hash of the TLS chain or of the proxy
/// header value. `None` when the request is signed (`Mdm-Signature` is verified every time) or
/// presents nothing.
fn presented_key(inputs: &IdentityInputs<'_>) -> Option<[u8; 32]> {
    if inputs.mdm_signature.is_some() {
        return None;
    }
    match (inputs.tls_peer, inputs.proxy_header) {
        (Some(peer), _) if !peer.0.is_empty() => Some(identity::cert::sha256(&peer.0.concat())),
        (_, Some(h)) => Some(identity::cert::sha256(h.as_bytes())),
        _ => None,
    }
}
