//! The device-trust factor: a SAML 2.0 identity provider that an IdP (Okta's IdP
//! authenticator, Entra ID's external authentication) uses as a factor. The device's browser
//! presents its device-access certificate (issued over SCEP through the access profile, see
//! [`crate::identity::access`]); the server maps it to the device and answers with a signed
//! assertion for the device's user only when the device is enrolled and compliant, otherwise with
//! a page that says why and what to do.

pub mod page;
pub mod xml;

use std::sync::Arc;

use base64::Engine;
use openssl::pkey::PKey;
use serde::Deserialize;

use crate::compliance::eval::status;
use crate::compliance::ComplianceService;
use crate::identity::{IdentityInputs, TlsPeer, TrustPolicy};
use crate::sealed::{Kind, Vault};
use crate::store::saml::{ProviderRow, SamlKeyRow};
use crate::store::{now, Store};

/// Why a SAML operation failed.
pub type SamlError = crate::service_error::RequestError;

/// A service provider as the API takes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProvider {
    /// Unique name.
    pub name: String,
    /// Its SAML entity ID (the assertion's audience).
    pub entity_id: String,
    /// Its Assertion Consumer Service URL (https).
    pub acs_url: String,
    /// What the NameID carries: `email` (default), `username` or `udid`.
    #[serde(default)]
    pub name_id: Option<String>,
}

/// What a sign-in request gets.
#[derive(Debug)]
pub enum Sso {
    /// An auto-submitting form posting the signed Response to the provider.
    Post {
        /// Where.
        acs_url: String,
        /// base64 of the Response.
        saml_response: String,
        /// Handed back unchanged.
        relay_state: Option<String>,
    },
    /// A page saying why not (403 or 400).
    Refused {
        /// HTTP status.
        status: u16,
        /// What happened.
        why: String,
        /// What to do about it.
        what_to_do: String,
    },
}

fn refused(status: u16, why: impl Into<String>, what_to_do: impl Into<String>) -> Sso {
    Sso::Refused { status, why: why.into(), what_to_do: what_to_do.into() }
}

/// The device-trust factor. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SamlService {
    store: Store,
    vault: Vault,
    compliance: ComplianceService,
    trust: TrustPolicy,
    base: Arc<String>,
}

impl SamlService {
    /// The service; `public_url` is the server's base URL (entity ID and endpoints derive from it).
    pub fn new(store: Store, vault: Vault, compliance: ComplianceService, trust: TrustPolicy, public_url: &str) -> SamlService {
        SamlService { store, vault, compliance, trust, base: Arc::new(public_url.trim_end_matches('/').to_string()) }
    }

    /// The IdP's entity ID (its metadata URL).
    pub fn entity_id(&self) -> String {
        format!("{}/saml/metadata", self.base)
    }

    /// The single sign-on URL.
    pub fn sso_url(&self) -> String {
        format!("{}/saml/sso", self.base)
    }

    /// The metadata, with a signing key made first if there is none.
    pub async fn metadata(&self) -> Result<String, SamlError> {
        self.ensure_key().await?;
        let certs = self.store.saml().keys().await?.iter().map(|k| pem_to_der(&k.cert_pem)).collect::<Result<Vec<_>, _>>()?;
        Ok(xml::metadata(&self.entity_id(), &self.sso_url(), &certs))
    }

    async fn ensure_key(&self) -> Result<(), SamlError> {
        if self.store.saml().keys().await?.is_empty() {
            self.new_key(true).await?;
        }
        Ok(())
    }

    /// Makes a signing key (RSA 2048, a self-signed certificate valid three years). It is
    /// published at once; it signs when `activate` (else after `activate_key`), so service
    /// providers can take the new certificate from the metadata before it is used.
    pub async fn new_key(&self, activate: bool) -> Result<SamlKeyRow, SamlError> {
        let id = uuid::Uuid::new_v4().to_string();
        let (cert_pem, key_der) = make_key(&self.entity_id()).map_err(SamlError::Internal)?;
        let key_sealed = self.vault.seal(Kind::SamlKey, &id, &key_der).map_err(|e| SamlError::Internal(e.to_string()))?;
        let row = SamlKeyRow { id, cert_pem, key_sealed, active: activate, created_at: now(), activated_at: None };
        let row = self.store.saml().add_key(row).await?;
        tracing::info!(key = %row.id, active = row.active, "SAML signing key made");
        Ok(row)
    }

    /// The signing key and its certificate (DER).
    async fn signing(&self) -> Result<(PKey<openssl::pkey::Private>, Vec<u8>), SamlError> {
        self.ensure_key().await?;
        let keys = self.store.saml().keys().await?;
        let k = keys.iter().find(|k| k.active).ok_or_else(|| SamlError::Internal("no SAML signing key is active".into()))?;
        let der = self.vault.open(Kind::SamlKey, &k.id, &k.key_sealed).map_err(|e| SamlError::Internal(e.to_string()))?;
        let key = PKey::private_key_from_pkcs8(&der).map_err(|e| SamlError::Internal(e.to_string()))?;
        Ok((key, pem_to_der(&k.cert_pem)?))
    }

    /// Creates or replaces a provider.
    pub async fn put_provider(&self, key: Option<&str>, p: NewProvider) -> Result<ProviderRow, SamlError> {
        let name = crate::compliance::policy::check_text("name", &p.name).map_err(|e| SamlError::BadRequest(e.to_string()))?;
        let entity_id = p.entity_id.trim().to_string();
        if entity_id.is_empty() || entity_id.len() > 1024 || entity_id.chars().any(char::is_control) {
            return Err(SamlError::BadRequest("entity_id: 1 to 1024 printable characters".into()));
        }
        let acs = url::Url::parse(p.acs_url.trim()).map_err(|_| SamlError::BadRequest(format!("acs_url {:?} is not a URL", p.acs_url)))?;
        let local = matches!(acs.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if acs.scheme() != "https" && !(acs.scheme() == "http" && local) {
            return Err(SamlError::BadRequest("acs_url: an https:// URL (assertions are bearer tokens)".into()));
        }
        let name_id = p.name_id.unwrap_or_else(|| "email".into());
        if !["email", "username", "udid"].contains(&name_id.as_str()) {
            return Err(SamlError::BadRequest(format!("name_id {name_id:?}: email, username or udid")));
        }
        let old = match key {
            Some(k) => Some(self.store.saml().provider(k.to_string()).await?.ok_or_else(|| SamlError::NotFound(format!("no provider {k}")))?),
            None => None,
        };
        let at = now();
        let row = ProviderRow {
            id: old.as_ref().map(|o| o.id.clone()).unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            name,
            entity_id,
            acs_url: acs.to_string(),
            name_id,
            created_at: old.as_ref().map(|o| o.created_at).unwrap_or(at),
            updated_at: at,
        };
        Ok(self.store.saml().put_provider(row, old.is_none()).await?)
    }

    /// Which device presented this access certificate, if it is one issued here for a device.
    async fn device_of(&self, peer: Option<&TlsPeer>, proxy_header: Option<&str>) -> Result<Option<String>, SamlError> {
        let inputs = IdentityInputs { tls_peer: peer, proxy_header, mdm_signature: None, body: &[] };
        let Ok(cert) = crate::identity::extract(&inputs) else { return Ok(None) };
        if self.trust.check(&cert).is_err() {
            return Ok(None);
        }
        let rec = self.store.scep().scep_cert_by_hash(cert.hash.clone()).await?;
        Ok(rec.filter(|r| r.requester == "device-access").and_then(|r| r.device_id))
    }

    /// Answers a sign-in request (`saml_request` decoded by the caller's binding).
    pub async fn sso(
        &self,
        saml_request: Result<String, String>,
        relay_state: Option<String>,
        peer: Option<&TlsPeer>,
        proxy_header: Option<&str>,
    ) -> Result<Sso, SamlError> {
        let req = match saml_request.and_then(|x| xml::parse_authn_request(&x)) {
            Ok(r) => r,
            Err(e) => return Ok(refused(400, format!("The sign-in request could not be read: {e}."), "Start the sign-in again from the application.")),
        };
        let Some(sp) = self.store.saml().provider(req.issuer.clone()).await? else {
            return Ok(refused(
                403,
                format!("{} is not a service provider this server knows.", req.issuer),
                "Ask the mobile team to add the identity provider under SAML providers.",
            ));
        };
        if req.acs_url.as_deref().is_some_and(|a| a.trim_end_matches('/') != sp.acs_url.trim_end_matches('/')) {
            return Ok(refused(
                403,
                "The sign-in request asks for the answer at an address this provider is not registered with.",
                "Ask the mobile team to check the provider's ACS URL.",
            ));
        }
        let Some(device_id) = self.device_of(peer, proxy_header).await? else {
            return Ok(refused(
                403,
                "This browser did not present a device certificate from this organisation's MDM.",
                "Sign in on a managed iPhone or iPad, in Safari. If this is one, the device-access profile may be missing: open Settings → General → VPN & Device Management, or ask the helpdesk to send it again.",
            ));
        };
        let mut views = self.compliance.views(vec![device_id.clone()]).await.map_err(|e| SamlError::Internal(e.to_string()))?;
        let Some(v) = views.pop() else { return Ok(refused(403, "The device this certificate was issued to is no longer known.", "Enroll the device again.")) };
        if v["managed"] != true {
            return Ok(refused(403, "This device is no longer managed.", "Enroll it again, then sign in."));
        }
        if v["status"] != status::COMPLIANT {
            let reasons: Vec<String> = v["failed_rules"].as_array().into_iter().flatten().filter_map(|r| r["message"].as_str().map(str::to_string)).collect();
            let why = if reasons.is_empty() {
                "The device's compliance is not known yet.".to_string()
            } else {
                format!("This device does not meet the organisation's policy: {}.", reasons.join("; "))
            };
            return Ok(refused(403, why, "Fix what is listed (for example, update iOS in Settings → General → Software Update, or set a passcode), wait a minute for the device to report, then sign in again."));
        }
        let name = match sp.name_id.as_str() {
            "udid" => Some((device_id.clone(), xml::NAMEID_UNSPECIFIED)),
            "username" => v["user"].as_str().map(|u| (u.to_string(), xml::NAMEID_UNSPECIFIED)),
            _ => v["email"].as_str().map(|e| (e.to_string(), xml::NAMEID_EMAIL)),
        };
        let Some(name_id) = name else {
            return Ok(refused(
                403,
                format!("The device has no enrolled user with a{} to sign in as.", if sp.name_id == "email" { "n e-mail address" } else { " name" }),
                "Ask the helpdesk to record the device's user.",
            ));
        };
        let mut attributes = vec![("udid".to_string(), device_id.clone()), ("compliance".to_string(), status::COMPLIANT.to_string())];
        for (k, f) in [("serial_number", "serial_number"), ("user", "user"), ("email", "email")] {
            if let Some(s) = v[f].as_str() {
                attributes.push((k.to_string(), s.to_string()));
            }
        }
        let fields = xml::AssertionFields {
            issuer: self.entity_id(),
            audience: sp.entity_id.clone(),
            acs_url: sp.acs_url.clone(),
            in_response_to: req.id,
            name_id,
            attributes,
            now: now(),
            lifetime: chrono::Duration::minutes(5),
        };
        let (key, cert) = self.signing().await?;
        let response = xml::signed_response(&fields, &key, &cert).map_err(SamlError::Internal)?;
        tracing::info!(device = %device_id, provider = %sp.name, "device-trust assertion issued");
        Ok(Sso::Post { acs_url: sp.acs_url, saml_response: base64::engine::general_purpose::STANDARD.encode(response), relay_state })
    }
}

fn pem_to_der(pem: &str) -> Result<Vec<u8>, SamlError> {
    openssl::x509::X509::from_pem(pem.as_bytes()).and_then(|c| c.to_der()).map_err(|e| SamlError::Internal(format!("stored SAML certificate unreadable: {e}")))
}

/// An RSA-2048 key and a self-signed certificate naming `entity_id`, valid three years.
fn make_key(entity_id: &str) -> Result<(String, Vec<u8>), String> {
    use openssl::x509::{X509Builder, X509NameBuilder};
    let e = |e: openssl::error::ErrorStack| e.to_string();
    let key = PKey::from_rsa(openssl::rsa::Rsa::generate(2048).map_err(e)?).map_err(e)?;
    let mut name = X509NameBuilder::new().map_err(e)?;
    let host = url::Url::parse(entity_id).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_else(|| "mdm".into());
    name.append_entry_by_text("CN", &format!("{host} SAML signing")).map_err(e)?;
    let name = name.build();
    let mut b = X509Builder::new().map_err(e)?;
    b.set_version(2).map_err(e)?;
    let mut serial = openssl::bn::BigNum::new().map_err(e)?;
    serial.rand(127, openssl::bn::MsbOption::MAYBE_ZERO, false).map_err(e)?;
    let serial = serial.to_asn1_integer().map_err(e)?;
    b.set_serial_number(&serial).map_err(e)?;
    b.set_subject_name(&name).map_err(e)?;
    b.set_issuer_name(&name).map_err(e)?;
    b.set_pubkey(&key).map_err(e)?;
    let (from, until) = (openssl::asn1::Asn1Time::days_from_now(0).map_err(e)?, openssl::asn1::Asn1Time::days_from_now(3 * 365).map_err(e)?);
    b.set_not_before(&from).map_err(e)?;
    b.set_not_after(&until).map_err(e)?;
    b.sign(&key, openssl::hash::MessageDigest::sha256()).map_err(e)?;
    let cert = b.build();
    Ok((String::from_utf8(cert.to_pem().map_err(e)?).map_err(|x| x.to_string())?, key.private_key_to_pkcs8().map_err(e)?))
}
