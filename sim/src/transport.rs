//! How a simulated device reaches the server and proves who it is: mTLS (own client certificate
//! per device), `Mdm-Signature` over each body, or a proxy header carrying its certificate
//! (the "behind a TLS-terminating load balancer" deployment).

use mdm_pki::Issued;

use super::SimError;

/// How the device authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// TLS client certificate (one HTTP client per device).
    Mtls,
    /// `Mdm-Signature` header (SignMessage=true), shared HTTP client.
    Signature,
    /// The certificate in a proxy header (URL-escaped PEM), shared HTTP client.
    Header(String),
}

/// Where the server is and how to talk to it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Base URL, e.g. `https://127.0.0.1:8443`.
    pub base_url: String,
    /// Identity transport.
    pub transport: Transport,
    /// PEM of the CA that signed the server's TLS certificate (None: system roots / plain HTTP).
    pub server_ca_pem: Option<Vec<u8>>,
    /// APNs topic the devices report.
    pub topic: String,
    /// Check-in path (default `/mdm/checkin`).
    pub checkin_path: String,
    /// Command path (default `/mdm/connect`).
    pub connect_path: String,
}

impl Endpoint {
    /// An endpoint with the default paths.
    pub fn new(base_url: impl Into<String>, transport: Transport, server_ca_pem: Option<Vec<u8>>, topic: impl Into<String>) -> Endpoint {
        Endpoint {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            transport,
            server_ca_pem,
            topic: topic.into(),
            checkin_path: "/mdm/checkin".into(),
            connect_path: "/mdm/connect".into(),
        }
    }

    /// Builds an HTTP client; with `identity` it presents that client certificate.
    pub fn client(&self, identity: Option<&Issued>) -> Result<reqwest::Client, SimError> {
        let mut b = reqwest::Client::builder().use_rustls_tls().timeout(std::time::Duration::from_secs(60)).pool_max_idle_per_host(64);
        if let Some(pem) = &self.server_ca_pem {
            b = b.add_root_certificate(reqwest::Certificate::from_pem(pem)?);
        }
        if let Some(id) = identity {
            let mut pem = id.key.private_key_to_pem_pkcs8().map_err(mdm_pki::PkiError::from)?;
            pem.extend(id.cert.to_pem().map_err(mdm_pki::PkiError::from)?);
            b = b.identity(reqwest::Identity::from_pem(&pem)?);
        }
        Ok(b.build()?)
    }
}

/// URL-escapes a PEM the way nginx's `$ssl_client_escaped_cert` does.
pub fn escaped_pem(identity: &Issued) -> Result<String, SimError> {
    let pem = identity.cert.to_pem().map_err(mdm_pki::PkiError::from)?;
    Ok(percent_encoding::percent_encode(&pem, percent_encoding::NON_ALPHANUMERIC).to_string())
}
