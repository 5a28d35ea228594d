//! The MDM service: what a check-in or command report does, independent of HTTP.
//! Handlers in `http/` parse nothing themselves; they pass the body and identity inputs here.

pub mod binding_cache;
pub mod checkin;
pub mod connect;
pub mod error;
pub mod hooks;
pub mod periodic;

use crate::identity::{self, DeviceCert, IdentityInputs, TrustPolicy};
use crate::protocol::enrollment::EnrollmentRef;
use crate::store::Store;

pub use error::ServiceError;

/// Behaviour switches from the configuration.
#[derive(Debug, Clone, Default)]
pub struct ServiceOptions {
    /// Accept UserAuthenticate (otherwise answered 410).
    pub user_authenticate: bool,
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
    store: Store,
    trust: TrustPolicy,
    opts: ServiceOptions,
    bindings: std::sync::Arc<binding_cache::BindingCache>,
    verified: std::sync::Arc<binding_cache::VerifiedCache>,
    hooks: Option<std::sync::Arc<dyn hooks::DeviceHooks>>,
}

impl MdmService {
    /// Builds the service.
    pub fn new(store: Store, trust: TrustPolicy, opts: ServiceOptions) -> MdmService {
        MdmService { store, trust, opts, bindings: Default::default(), verified: Default::default(), hooks: None }
    }

    /// Adds listeners for answered commands and enabled enrollments.
    pub fn with_hooks(mut self, hooks: std::sync::Arc<dyn hooks::DeviceHooks>) -> MdmService {
        self.hooks = Some(hooks);
        self
    }

    /// The store (for the admin API).
    pub fn store(&self) -> &Store {
        &self.store
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

    /// Extracts and checks the request's certificate against the trust policy.
    /// Certificates that arrive by transport (mTLS or proxy header) are cached by the hash of
    /// what was presented; an `Mdm-Signature` is verified against every body.
    fn identify(&self, inputs: &IdentityInputs<'_>) -> Result<DeviceCert, ServiceError> {
        let key = if inputs.mdm_signature.is_some() {
            None
        } else {
            match (inputs.tls_peer, inputs.proxy_header) {
                (Some(peer), _) if !peer.0.is_empty() => Some(openssl::sha::sha256(&peer.0.concat())),
                (_, Some(h)) => Some(openssl::sha::sha256(h.as_bytes())),
                _ => None,
            }
        };
        let now = std::time::Instant::now();
        if let Some(cert) = key.as_ref().and_then(|k| self.verified.get(k, now)) {
            return Ok(cert);
        }
        let cert = identity::extract(inputs)?;
        self.trust.check(&cert)?;
        if let Some(k) = key {
            self.verified.put(k, cert.clone(), now);
        }
        Ok(cert)
    }

    /// Requires that `cert` is the one bound to the enrollment's device.
    async fn require_bound(&self, cert: &DeviceCert, who: &EnrollmentRef) -> Result<(), ServiceError> {
        let now = std::time::Instant::now();
        if self.bindings.get(&cert.hash, now).as_deref() == Some(who.device_id.as_str()) {
            return Ok(());
        }
        let bound = self.store.cert_device(cert.hash.clone()).await?;
        if let Some(dev) = &bound {
            self.bindings.put(&cert.hash, dev, now);
        }
        match bound {
            Some(dev) if dev == who.device_id => Ok(()),
            Some(other) => {
                tracing::warn!(enrollment = %who.id, cert = %cert.hash, bound_to = %other, "certificate bound to another device");
                Err(ServiceError::CertNotForDevice { device: who.device_id.clone() })
            }
            None => {
                tracing::warn!(enrollment = %who.id, cert = %cert.hash, "certificate not bound to any device");
                Err(ServiceError::CertNotBound { device: who.device_id.clone() })
            }
        }
    }
}
