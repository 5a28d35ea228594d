//! An async SCEP client over HTTP (feature `client`).

use base64::Engine as _;
use openssl::pkey::{PKey, Private};
use openssl::x509::{X509Name, X509};

pub use crate::pick_recipient;
use crate::{build_csr, parse_cert_rep, parse_degenerate_certs, self_signed_for, transaction_id_for, Caps, CertRep, MessageType, RequestBuilder, ScepError};

/// A SCEP client for one server endpoint (e.g. `https://host/scep`).
#[derive(Debug, Clone)]
pub struct Client {
    url: String,
    http: reqwest::Client,
}

/// What [`Client::enroll`] needs.
pub struct EnrollRequest<'a> {
    /// The key pair the certificate is for.
    pub key: &'a PKey<Private>,
    /// The subject's common name.
    pub subject_cn: &'a str,
    /// The challenge password to put into the CSR, if the server wants one.
    pub challenge: Option<&'a str>,
    /// Renew with an existing certificate and its key: the request is signed
    /// with them (RenewalReq when the server advertises Renewal, else a
    /// PKCSReq signed with the existing certificate).
    pub renew_with: Option<(&'a X509, &'a PKey<Private>)>,
}

/// Escapes base64 for a URL query value.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '+' => out.push_str("%2B"),
            '/' => out.push_str("%2F"),
            '=' => out.push_str("%3D"),
            c => out.push(c),
        }
    }
    out
}

fn http_err(e: reqwest::Error) -> ScepError {
    ScepError::Http(e.to_string())
}

impl Client {
    /// A client for the SCEP endpoint `url`, using `http` for transport.
    pub fn new(url: &str, http: reqwest::Client) -> Client {
        Client { url: url.to_owned(), http }
    }

    fn op_url(&self, operation: &str, message: Option<&str>) -> String {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        match message {
            Some(m) => format!("{}{sep}operation={operation}&message={m}", self.url),
            None => format!("{}{sep}operation={operation}", self.url),
        }
    }

    async fn check(resp: reqwest::Response) -> Result<(Option<String>, Vec<u8>), ScepError> {
        let status = resp.status();
        let ctype = resp.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(|s| s.to_ascii_lowercase());
        let body = resp.bytes().await.map_err(http_err)?.to_vec();
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
            return Err(ScepError::HttpStatus { status: status.as_u16(), body: text });
        }
        Ok((ctype, body))
    }

    /// GetCACaps.
    pub async fn get_ca_caps(&self) -> Result<Caps, ScepError> {
        let resp = self.http.get(self.op_url("GetCACaps", None)).send().await.map_err(http_err)?;
        let (_, body) = Self::check(resp).await?;
        Ok(Caps::parse(&String::from_utf8_lossy(&body)))
    }

    /// GetCACert: a single DER certificate (`application/x-x509-ca-cert`) or
    /// a certs-only PKCS#7 (`application/x-x509-ca-ra-cert`) with RA and CA.
    pub async fn get_ca_certs(&self) -> Result<Vec<X509>, ScepError> {
        let resp = self.http.get(self.op_url("GetCACert", None)).send().await.map_err(http_err)?;
        let (ctype, body) = Self::check(resp).await?;
        let is_pkcs7 = ctype.as_deref().is_some_and(|c| c.contains("ca-ra-cert"));
        let certs = if is_pkcs7 {
            parse_degenerate_certs(&body)?
        } else {
            match X509::from_der(&body) {
                Ok(c) => vec![c],
                // Be lenient about a mislabelled answer.
                Err(_) => {
                    parse_degenerate_certs(&body).map_err(|e| ScepError::BadResponse(format!("GetCACert answer is neither a certificate nor PKCS#7: {e}")))?
                }
            }
        };
        if certs.is_empty() {
            return Err(ScepError::BadResponse("GetCACert returned no certificates".into()));
        }
        Ok(certs)
    }

    /// PKIOperation: sends a PKIMessage and returns the raw CertRep. With
    /// `post`, an HTTP POST of `application/x-pki-message`; otherwise a GET
    /// with the base64, URL-escaped message in the query.
    pub async fn pki_operation(&self, der: Vec<u8>, post: bool) -> Result<Vec<u8>, ScepError> {
        let req = if post {
            self.http.post(self.op_url("PKIOperation", None)).header(reqwest::header::CONTENT_TYPE, "application/x-pki-message").body(der)
        } else {
            let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
            self.http.get(self.op_url("PKIOperation", Some(&query_escape(&b64))))
        };
        let resp = req.send().await.map_err(http_err)?;
        let (_, body) = Self::check(resp).await?;
        Ok(body)
    }

    /// Sends a request built by `builder`, then verifies the CertRep against
    /// `verify_with`, decrypts it with the builder's signer and checks that
    /// its transactionID and recipientNonce match the request.
    pub async fn transact(&self, builder: &RequestBuilder<'_>, verify_with: &[X509], post: bool) -> Result<CertRep, ScepError> {
        let (der, nonce) = builder.build()?;
        let answer = self.pki_operation(der, post).await?;
        let rep = parse_cert_rep(&answer, verify_with, builder.signer_cert, builder.signer_key)?;
        if rep.transaction_id != builder.transaction_id {
            return Err(ScepError::Mismatch(format!("transactionID {:?} != {:?}", rep.transaction_id, builder.transaction_id)));
        }
        if rep.recipient_nonce != nonce {
            return Err(ScepError::Mismatch("recipientNonce is not our senderNonce".into()));
        }
        Ok(rep)
    }

    /// Full enrollment: GetCACaps, GetCACert, picks the recipient (RA if
    /// any, else CA), builds a CSR for `CN=subject_cn` with the challenge,
    /// uses AES-256-CBC/SHA-256 when advertised (else DES-EDE3-CBC/SHA-1),
    /// POSTs when allowed, and returns the verified CertRep (check its
    /// `status`; PENDING answers can be polled with [`Client::transact`] and
    /// a CertPoll builder).
    pub async fn enroll(&self, req: EnrollRequest<'_>) -> Result<CertRep, ScepError> {
        let caps = self.get_ca_caps().await?;
        let ca_certs = self.get_ca_certs().await?;
        let recipient = pick_recipient(&ca_certs).ok_or_else(|| ScepError::BadResponse("GetCACert returned no certificates".into()))?;
        let mut name = X509Name::builder()?;
        name.append_entry_by_text("CN", req.subject_cn)?;
        let name = name.build();
        let csr = build_csr(req.key, &name, req.challenge)?;
        let (cipher, digest) = caps.algorithms();
        let self_signed;
        let (message_type, signer_cert, signer_key) = match req.renew_with {
            Some((cert, key)) => {
                let t = if caps.renewal { MessageType::RenewalReq } else { MessageType::PkcsReq };
                (t, cert, key)
            }
            None => {
                self_signed = self_signed_for(req.key, &name)?;
                (MessageType::PkcsReq, &self_signed, req.key)
            }
        };
        let builder =
            RequestBuilder { message_type, csr: &csr, signer_cert, signer_key, recipient, cipher, digest, transaction_id: transaction_id_for(req.key)? };
        self.transact(&builder, &ca_certs, caps.supports_post()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_base64() {
        assert_eq!(query_escape("ab+/c=="), "ab%2B%2Fc%3D%3D");
    }

    #[test]
    fn op_url_variants() {
        let c = Client::new("http://h/scep", reqwest::Client::new());
        assert_eq!(c.op_url("GetCACaps", None), "http://h/scep?operation=GetCACaps");
        let c = Client::new("http://h/scep?x=1", reqwest::Client::new());
        assert_eq!(c.op_url("PKIOperation", Some("m")), "http://h/scep?x=1&operation=PKIOperation&message=m");
    }
}
