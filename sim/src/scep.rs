//! Simulated devices obtain their identity certificate over SCEP, as iOS does with the SCEP
//! payload of the enrollment profile: a key pair, a CSR with the challenge, PKCSReq, CertRep.
//!
//! A 2048-bit RSA key per simulated device would dominate a load run (tens of milliseconds
//! each), so an enroller holds a small pool of keys and hands them out round-robin; every
//! device still gets its own certificate, transaction id and binding.

use std::sync::atomic::{AtomicUsize, Ordering};

use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::{X509Name, X509};
use scep::client::Client;
use scep::{Caps, MessageType, PkiStatus, RequestBuilder};

use super::SimError;
use mdm_pki::Issued;

/// RSA keys kept in an enroller's pool.
pub const KEY_POOL: usize = 8;

/// A PKCSReq built and signed, ready to send.
pub struct PreparedRequest {
    /// The PKIMessage (DER).
    pub der: Vec<u8>,
    nonce: Vec<u8>,
    transaction_id: String,
    common_name: String,
    signer: X509,
    key: PKey<Private>,
}

impl std::fmt::Debug for PreparedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedRequest").field("transaction_id", &self.transaction_id).finish()
    }
}

/// Makes [`KEY_POOL`] RSA-2048 keys for an enroller.
pub fn key_pool() -> Result<Vec<PKey<Private>>, SimError> {
    (0..KEY_POOL)
        .map(|_| Rsa::generate(2048).and_then(PKey::from_rsa))
        .collect::<Result<Vec<_>, openssl::error::ErrorStack>>()
        .map_err(|e| SimError::Scep(e.to_string()))
}

/// Enrolls identities against one SCEP endpoint (caps and CA certificates fetched once).
pub struct ScepEnroller {
    client: Client,
    caps: Caps,
    ca_certs: Vec<X509>,
    keys: Vec<PKey<Private>>,
    next: AtomicUsize,
}

impl std::fmt::Debug for ScepEnroller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScepEnroller").field("ca_certs", &self.ca_certs.len()).finish()
    }
}

fn scep_err(e: scep::ScepError) -> SimError {
    SimError::Scep(e.to_string())
}

impl ScepEnroller {
    /// Connects to the SCEP endpoint `url` (GetCACaps, GetCACert) and makes the key pool.
    pub async fn new(url: &str, http: reqwest::Client) -> Result<ScepEnroller, SimError> {
        ScepEnroller::with_keys(url, http, key_pool()?).await
    }

    /// Connects to the SCEP endpoint `url` (GetCACaps, GetCACert) with a key pool made
    /// beforehand ([`key_pool`]), so that many enrollers (one per test server, say) can share
    /// one set of keys.
    pub async fn with_keys(url: &str, http: reqwest::Client, keys: Vec<PKey<Private>>) -> Result<ScepEnroller, SimError> {
        if keys.is_empty() {
            return Err(SimError::Scep("an enroller needs at least one key".into()));
        }
        let client = Client::new(url, http);
        let caps = client.get_ca_caps().await.map_err(scep_err)?;
        let ca_certs = client.get_ca_certs().await.map_err(scep_err)?;
        if ca_certs.is_empty() {
            return Err(SimError::Scep("GetCACert returned no certificate".into()));
        }
        Ok(ScepEnroller { client, caps, ca_certs, keys, next: AtomicUsize::new(0) })
    }

    /// The CA certificates the server announced.
    pub fn ca_certs(&self) -> &[X509] {
        &self.ca_certs
    }

    /// Builds the PKCSReq for `CN=common_name` with `challenge` (all the client's signing).
    pub fn prepare(&self, common_name: &str, challenge: &str) -> Result<PreparedRequest, SimError> {
        let ssl = |e: openssl::error::ErrorStack| SimError::Scep(e.to_string());
        let key = self.keys[self.next.fetch_add(1, Ordering::Relaxed) % self.keys.len()].clone();
        let (cipher, digest) = self.caps.algorithms();
        let mut name = X509Name::builder().map_err(ssl)?;
        name.append_entry_by_text("CN", common_name).map_err(ssl)?;
        let name = name.build();
        let csr = scep::build_csr(&key, &name, Some(challenge)).map_err(scep_err)?;
        let signer = scep::self_signed_for(&key, &name).map_err(scep_err)?;
        let recipient = scep::pick_recipient(&self.ca_certs).ok_or_else(|| SimError::Scep("no recipient certificate".into()))?;
        // Unique per device even though keys are pooled.
        let transaction_id = uuid::Uuid::new_v4().simple().to_string();
        let builder = RequestBuilder {
            message_type: MessageType::PkcsReq,
            csr: &csr,
            signer_cert: &signer,
            signer_key: &key,
            recipient,
            cipher,
            digest,
            transaction_id: transaction_id.clone(),
        };
        let (der, nonce) = builder.build().map_err(scep_err)?;
        Ok(PreparedRequest { der, nonce, transaction_id, common_name: common_name.to_string(), signer, key })
    }

    /// Sends a prepared request; returns the raw CertRep.
    pub async fn send(&self, req: &PreparedRequest) -> Result<Vec<u8>, SimError> {
        self.client.pki_operation(req.der.clone(), self.caps.supports_post()).await.map_err(scep_err)
    }

    /// Checks a CertRep (signature, transactionID, recipientNonce, status) and takes the
    /// certificate out of it.
    pub fn finish(&self, req: PreparedRequest, answer: &[u8]) -> Result<Issued, SimError> {
        let rep = scep::parse_cert_rep(answer, &self.ca_certs, &req.signer, &req.key).map_err(scep_err)?;
        if rep.transaction_id != req.transaction_id || rep.recipient_nonce != req.nonce {
            return Err(SimError::Scep("CertRep does not answer this request (transactionID or nonce)".into()));
        }
        match (rep.status, rep.certs.into_iter().next()) {
            (PkiStatus::Success, Some(cert)) => Ok(Issued { cert, key: req.key }),
            (status, _) => Err(SimError::Scep(format!("SCEP enrollment of {} answered {status:?} ({:?})", req.common_name, rep.fail_info))),
        }
    }

    /// Obtains a certificate for `CN=common_name` with `challenge` (PKCSReq).
    pub async fn identity(&self, common_name: &str, challenge: &str) -> Result<Issued, SimError> {
        let req = self.prepare(common_name, challenge)?;
        let answer = self.send(&req).await?;
        self.finish(req, &answer)
    }
}
