//! The SCEP server (RFC 8894) mounted by `mdm serve`: GetCACaps, GetCACert and PKIOperation
//! (PKCSReq with a static or one-time challenge, RenewalReq signed by a still-valid certificate
//! issued here, GetCertInitial polling). Message encoding lives in the `scep` crate; this module
//! decides who gets a certificate, issues it with the `[ca]` CA and records it.

pub(crate) mod http;

use std::sync::Arc;

use openssl::pkey::{PKey, Private};
use openssl::x509::store::{X509Store, X509StoreBuilder};
use openssl::x509::{X509Req, X509};
use scep::{FailInfo, MessageType, PkiMessage, Responder};
use subtle::ConstantTimeEq;

use crate::config::ScepConfig;
use crate::identity::cert::{asn1_to_naive, sha256_hex, verify_chain};
use crate::pki::{Ca, RequestIssuer};
use crate::store::models::{ScepCert, ScepChallenge};
use crate::store::{now, Store, StoreError};

/// Errors answering a SCEP request that cannot become a CertRep (the request itself is not
/// a PKIMessage): a 400 with the reason.
#[derive(Debug, thiserror::Error)]
pub enum ScepServeError {
    /// Not a parseable, correctly signed PKIMessage, or a bad query.
    #[error("{0}")]
    BadRequest(String),
    /// A server-side failure (database, signing).
    #[error("{0}")]
    Internal(String),
}

/// Errors setting the server up.
#[derive(Debug, thiserror::Error)]
pub enum ScepSetupError {
    /// CA or RA material could not be loaded.
    #[error("scep: {0}")]
    Material(String),
}

/// The SCEP service. Cheap to clone.
#[derive(Clone)]
pub struct ScepService {
    /// SCEP issuing records.
    scep: crate::store::scep::ScepStore,
    /// Issues certificates; holds the CA.
    issuer: Arc<RequestIssuer>,
    ra: Option<Arc<(X509, PKey<Private>)>>,
    trust: Arc<X509Store>,
    cfg: Arc<ScepConfig>,
    access: Option<crate::identity::access::AccessChallenges>,
}

impl std::fmt::Debug for ScepService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScepService").field("path", &self.cfg.path).field("ra", &self.ra.is_some()).finish()
    }
}

/// A fresh one-time challenge value: 16 random bytes, hex.
fn new_challenge_value() -> Result<String, openssl::error::ErrorStack> {
    let mut raw = [0u8; 16];
    openssl::rand::rand_bytes(&mut raw)?;
    Ok(hex::encode(raw))
}

impl ScepService {
    /// Builds the service for `ca` (and an optional RA from the configuration).
    pub fn new(store: Store, ca: Ca, cfg: &ScepConfig) -> Result<ScepService, ScepSetupError> {
        let bad = |e: &dyn std::fmt::Display| ScepSetupError::Material(e.to_string());
        let ra = match (&cfg.ra_cert, &cfg.ra_key) {
            (Some(c), Some(k)) => {
                let read = |p: &std::path::Path| std::fs::read(p).map_err(|e| ScepSetupError::Material(format!("{}: {e}", p.display())));
                Some(Arc::new((X509::from_pem(&read(c)?).map_err(|e| bad(&e))?, PKey::private_key_from_pem(&read(k)?).map_err(|e| bad(&e))?)))
            }
            (None, None) => None,
            _ => return Err(ScepSetupError::Material("scep.ra_cert and scep.ra_key go together".into())),
        };
        let mut trust = X509StoreBuilder::new().map_err(|e| bad(&e))?;
        trust.add_cert(ca.cert.clone()).map_err(|e| bad(&e))?;
        // Only client identities renew: the CA's TLS server certificate does not.
        trust.set_purpose(openssl::x509::X509PurposeId::SSL_CLIENT).map_err(|e| bad(&e))?;
        let issuer = Arc::new(RequestIssuer::new(ca).map_err(|e| bad(&e))?);
        Ok(ScepService { scep: store.scep(), issuer, ra, trust: Arc::new(trust.build()), cfg: Arc::new(cfg.clone()), access: None })
    }

    /// Also issues device-access certificates: a request whose challenge is the access challenge
    /// of the UDID in its subject's CN gets a certificate recorded as that device's.
    pub fn with_access(mut self, access: crate::identity::access::AccessChallenges) -> ScepService {
        self.access = Some(access);
        self
    }

    /// The URL path it is served at.
    pub fn path(&self) -> &str {
        &self.cfg.path
    }

    /// The issuing CA's certificate.
    pub fn ca_cert(&self) -> &X509 {
        &self.issuer.ca.cert
    }

    /// GetCACaps text.
    pub fn caps(&self) -> &'static str {
        scep::server_caps(true)
    }

    /// GetCACert: `(content type, body)`: the CA certificate (DER), or RA + CA as a certs-only
    /// PKCS#7 when an RA is configured.
    pub fn ca_certs(&self) -> Result<(&'static str, Vec<u8>), ScepServeError> {
        let internal = |e: &dyn std::fmt::Display| ScepServeError::Internal(e.to_string());
        match &self.ra {
            None => Ok(("application/x-x509-ca-cert", self.issuer.ca.cert.to_der().map_err(|e| internal(&e))?)),
            Some(ra) => Ok(("application/x-x509-ca-ra-cert", scep::degenerate_certs(&[ra.0.clone(), self.issuer.ca.cert.clone()]).map_err(|e| internal(&e))?)),
        }
    }

    /// Makes a one-time challenge valid for `ttl` (default `scep.challenge_ttl`); the value is
    /// returned once and only its hash is stored.
    pub async fn new_challenge(&self, ttl: Option<std::time::Duration>, note: Option<String>) -> Result<(String, ScepChallenge), ScepServeError> {
        let (value, row) = self.prepare_challenge(ttl, note)?;
        self.scep.create_scep_challenge(row.clone()).await.map_err(|e| ScepServeError::Internal(e.to_string()))?;
        Ok((value, row))
    }

    /// A one-time challenge (value and row) not yet stored, for callers that store it in their
    /// own transaction.
    pub fn prepare_challenge(&self, ttl: Option<std::time::Duration>, note: Option<String>) -> Result<(String, ScepChallenge), ScepServeError> {
        let at = now();
        let expires_at = crate::lifetime::expiry("the challenge lifetime", at, ttl.unwrap_or(self.cfg.challenge_ttl), crate::lifetime::MAX_CHALLENGE)
            .map_err(|e| ScepServeError::BadRequest(e.to_string()))?;
        let value = new_challenge_value().map_err(|e| ScepServeError::Internal(e.to_string()))?;
        let row = ScepChallenge {
            id: uuid::Uuid::new_v4().to_string(),
            challenge_hash: sha256_hex(value.as_bytes()),
            note,
            created_at: at,
            expires_at,
            used_at: None,
            used_by: None,
        };
        Ok((value, row))
    }

    fn signer(&self) -> (&X509, &PKey<Private>) {
        match &self.ra {
            Some(ra) => (&ra.0, &ra.1),
            None => (&self.issuer.ca.cert, &self.issuer.ca.key),
        }
    }

    /// Runs CPU-heavy work (RSA, CMS) off the async threads.
    async fn blocking<T: Send + 'static>(&self, f: impl FnOnce(&ScepService) -> T + Send + 'static) -> Result<T, ScepServeError> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || f(&me)).await.map_err(|e| ScepServeError::Internal(e.to_string()))
    }

    fn failure(&self, req: &PkiMessage, info: FailInfo, why: &str) -> Result<Vec<u8>, ScepServeError> {
        tracing::warn!(transaction_id = %req.transaction_id, fail_info = ?info, reason = why, "SCEP request refused");
        let (cert, key) = self.signer();
        Responder { signer_cert: cert, signer_key: key, cipher: openssl::symm::Cipher::aes_256_cbc() }
            .failure(req, info)
            .map_err(|e| ScepServeError::Internal(e.to_string()))
    }

    fn success(&self, req: &PkiMessage, issued: &X509) -> Result<Vec<u8>, ScepServeError> {
        let (cert, key) = self.signer();
        Responder { signer_cert: cert, signer_key: key, cipher: openssl::symm::Cipher::aes_256_cbc() }
            .success(req, issued, &[])
            .map_err(|e| ScepServeError::Internal(e.to_string()))
    }

    /// Whether `cert` was issued by our CA (for client use) and is valid now.
    pub fn issued_here_and_valid(&self, cert: &X509) -> bool {
        verify_chain(&self.trust, cert, &[]).is_ok()
    }

    /// PKIOperation: the DER (or BER) PKIMessage in, the CertRep out. All the signing happens in
    /// one trip to the blocking pool: the certificate and its CertRep are made before the
    /// certificate is recorded, and the CertRep leaves only once the record (and the one-time
    /// challenge it consumes) is stored.
    pub async fn pki_operation(&self, body: Vec<u8>) -> Result<Vec<u8>, ScepServeError> {
        let step = self.blocking(move |me| me.examine(&body).and_then(|step| me.sign(step))).await??;
        match step {
            Ready::Reply(r) => Ok(r),
            Ready::Poll(req) => {
                let found = self.scep.scep_cert_by_transaction(req.transaction_id.clone()).await.map_err(|e| ScepServeError::Internal(e.to_string()))?;
                self.blocking(move |me| match found.and_then(|c| X509::from_der(&c.cert_der).ok()) {
                    Some(cert) => me.success(&req, &cert),
                    None => me.failure(&req, FailInfo::BadCertId, "no certificate for this transaction"),
                })
                .await?
            }
            Ready::Signed { req, issued, reply, requester } => {
                let row = scep_row(&issued, &requester, &req.transaction_id)?;
                let serial = row.serial.clone();
                match self.scep.record_scep_cert(row, requester.challenge_hash, now()).await {
                    Ok(()) => {}
                    Err(StoreError::Challenge(why)) => return self.blocking(move |me| me.failure(&req, FailInfo::BadRequest, &why)).await?,
                    Err(e) => return Err(ScepServeError::Internal(e.to_string())),
                }
                tracing::info!(transaction_id = %req.transaction_id, %serial, requester = %requester.name, "SCEP certificate issued");
                Ok(reply)
            }
        }
    }

    /// Issues the certificate of a [`Step::Issue`] and signs its CertRep.
    fn sign(&self, step: Step) -> Result<Ready, ScepServeError> {
        match step {
            Step::Reply(r) => Ok(Ready::Reply(r)),
            Step::Poll(req) => Ok(Ready::Poll(req)),
            Step::Issue { req, csr, requester } => {
                let issued = self.issuer.issue(&csr, self.cfg.validity).map_err(|e| ScepServeError::Internal(e.to_string()))?;
                let reply = self.success(&req, &issued)?;
                Ok(Ready::Signed { req, issued, reply, requester })
            }
        }
    }

    /// The CPU-bound first look at a PKIMessage: parse, decrypt, check the request and its
    /// authorisation (challenge or renewal signer).
    fn examine(&self, body: &[u8]) -> Result<Step, ScepServeError> {
        let req = PkiMessage::parse(body).map_err(|e| ScepServeError::BadRequest(format!("not a valid SCEP PKIMessage: {e}")))?;
        let (cert, key) = self.signer();
        let inner = match req.decrypt(cert, key) {
            Ok(i) => i,
            Err(e) => return Ok(Step::Reply(self.failure(&req, FailInfo::BadMessageCheck, &format!("cannot decrypt: {e}"))?)),
        };
        match req.message_type {
            MessageType::PkcsReq | MessageType::RenewalReq => {
                let Ok(csr) = X509Req::from_der(&inner) else {
                    return Ok(Step::Reply(self.failure(&req, FailInfo::BadRequest, "content is not a PKCS#10 request")?));
                };
                let signed_ok = csr.public_key().and_then(|k| csr.verify(&k)).unwrap_or(false);
                if !signed_ok {
                    return Ok(Step::Reply(self.failure(&req, FailInfo::BadMessageCheck, "PKCS#10 signature does not verify")?));
                }
                if req.message_type == MessageType::RenewalReq {
                    return self.renewal(req, csr);
                }
                let challenge = match scep::challenge_password(&csr) {
                    Ok(Some(c)) => c,
                    Ok(None) => return Ok(Step::Reply(self.failure(&req, FailInfo::BadRequest, "no challengePassword in the request")?)),
                    Err(e) => return Ok(Step::Reply(self.failure(&req, FailInfo::BadRequest, &format!("unreadable challengePassword: {e}"))?)),
                };
                if let (Some(access), true) = (&self.access, challenge.starts_with(crate::identity::access::PREFIX)) {
                    let cn = csr.subject_name().entries_by_nid(openssl::nid::Nid::COMMONNAME).next().and_then(|e| e.data().to_string().ok());
                    return Ok(match cn.filter(|cn| access.verify(&challenge, cn)) {
                        Some(cn) => Step::Issue { req: Box::new(req), csr, requester: Requester { device: Some(cn), ..Requester::named("device-access") } },
                        None => Step::Reply(self.failure(&req, FailInfo::BadRequest, "the access challenge is not this subject's")?),
                    });
                }
                let fixed = &self.cfg.challenge;
                if !fixed.is_empty() && bool::from(fixed.as_bytes().ct_eq(challenge.as_bytes())) {
                    return Ok(Step::Issue { req: Box::new(req), csr, requester: Requester::named("static-challenge") });
                }
                let hash = sha256_hex(challenge.as_bytes());
                Ok(Step::Issue { req: Box::new(req), csr, requester: Requester { challenge_hash: Some(hash), ..Requester::named("one-time-challenge") } })
            }
            MessageType::CertPoll => Ok(Step::Poll(Box::new(req))),
            other => Ok(Step::Reply(self.failure(&req, FailInfo::BadRequest, &format!("unsupported messageType {other:?}"))?)),
        }
    }

    /// RenewalReq: signed by a certificate issued here that is still valid and within the
    /// renewal window; no challenge needed.
    fn renewal(&self, req: PkiMessage, csr: X509Req) -> Result<Step, ScepServeError> {
        if !self.issued_here_and_valid(&req.signer_cert) {
            return Ok(Step::Reply(self.failure(&req, FailInfo::BadMessageCheck, "renewal not signed by a valid certificate issued by this CA")?));
        }
        let same_subject = match (req.signer_cert.subject_name().to_der(), csr.subject_name().to_der()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if !same_subject {
            return Ok(Step::Reply(self.failure(&req, FailInfo::BadRequest, "a renewal must keep the certificate's subject")?));
        }
        let window = self.cfg.renewal_window;
        if !window.is_zero() {
            let limit = openssl::asn1::Asn1Time::from_unix(chrono::Utc::now().timestamp() + i64::try_from(window.as_secs()).unwrap_or(0));
            let too_early = limit.map(|l| req.signer_cert.not_after() > l).unwrap_or(true);
            if too_early {
                return Ok(Step::Reply(self.failure(&req, FailInfo::BadTime, "renewal requested before the renewal window")?));
            }
        }
        let serial = serial_hex(&req.signer_cert).unwrap_or_default();
        let renewed_from = req.signer_cert.to_der().ok().map(|d| sha256_hex(&d));
        Ok(Step::Issue {
            req: Box::new(req),
            csr,
            requester: Requester { name: format!("renewal:{serial}"), challenge_hash: None, renewed_from, device: None },
        })
    }
}

/// Who a certificate is issued to, as its record keeps it.
struct Requester {
    /// `one-time-challenge`, `static-challenge`, `renewal:<serial>`.
    name: String,
    /// The one-time challenge to consume (hash).
    challenge_hash: Option<String>,
    /// For a renewal: the signer's certificate (hash).
    renewed_from: Option<String>,
    /// For a device-access certificate: the device it is issued to.
    device: Option<String>,
}

impl Requester {
    fn named(name: &str) -> Requester {
        Requester { name: name.to_string(), challenge_hash: None, renewed_from: None, device: None }
    }
}

/// What the CPU-bound first step of a PKIOperation found.
enum Step {
    /// Answer with this CertRep (a failure).
    Reply(Vec<u8>),
    /// Issue a certificate for the request, consuming the challenge if any.
    Issue { req: Box<PkiMessage>, csr: X509Req, requester: Requester },
    /// GetCertInitial: look up the transaction.
    Poll(Box<PkiMessage>),
}

/// What a PKIOperation has when its signing is done.
enum Ready {
    /// Answer with this CertRep (a failure).
    Reply(Vec<u8>),
    /// GetCertInitial: look up the transaction.
    Poll(Box<PkiMessage>),
    /// A certificate issued for the request and its success CertRep, to be sent once the
    /// certificate is recorded.
    Signed { req: Box<PkiMessage>, issued: X509, reply: Vec<u8>, requester: Requester },
}

/// A certificate's serial number in hex.
fn serial_hex(cert: &X509) -> Result<String, openssl::error::ErrorStack> {
    Ok(cert.serial_number().to_bn()?.to_hex_str()?.to_string())
}

/// The database row for an issued certificate.
fn scep_row(cert: &X509, requester: &Requester, transaction_id: &str) -> Result<ScepCert, ScepServeError> {
    let internal = |e: &dyn std::fmt::Display| ScepServeError::Internal(e.to_string());
    let der = cert.to_der().map_err(|e| internal(&e))?;
    let serial = serial_hex(cert).map_err(|e| internal(&e))?;
    let subject = crate::identity::cert::name_line(cert.subject_name());
    Ok(ScepCert {
        serial,
        subject,
        not_before: asn1_to_naive(cert.not_before()).unwrap_or_default(),
        not_after: asn1_to_naive(cert.not_after()).unwrap_or_default(),
        cert_hash: sha256_hex(&der),
        cert_der: der,
        requester: requester.name.clone(),
        transaction_id: transaction_id.to_string(),
        device_id: requester.device.clone(),
        created_at: now(),
        challenge_id: None,
        renewed_from: requester.renewed_from.clone(),
    })
}
