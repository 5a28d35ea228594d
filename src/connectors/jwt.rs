//! The server's client-assertion key for OAuth2 backend services (Epic): an RSA key made on
//! first need and stored sealed, its public half published as a JWK Set
//! (`GET /connectors/jwks.json`), and RS384 assertions signed with it.

use base64::Engine;
use serde::Serialize;

use crate::sealed::{Kind, Vault};
use crate::store::connectors::ConnectorStore;
use crate::store::StoreError;

/// How long an assertion is valid (Epic allows at most five minutes).
pub const ASSERTION_LIFETIME_SECS: i64 = 240;

/// Why a key or an assertion could not be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Making, opening or using the key failed.
    #[error("signing key: {0}")]
    Key(String),
}

/// The assertion's claims (RFC 7523).
#[derive(Debug, Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    jti: String,
    iat: i64,
    nbf: i64,
    exp: i64,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Makes a new 2048-bit RSA key: (kid, PKCS#8 PEM, public JWK as JSON).
pub fn generate() -> Result<(String, Vec<u8>, String), KeyError> {
    let k = |e: openssl::error::ErrorStack| KeyError::Key(e.to_string());
    let rsa = openssl::rsa::Rsa::generate(2048).map_err(k)?;
    let (n, e) = (b64(&rsa.n().to_vec()), b64(&rsa.e().to_vec()));
    // The RFC 7638 thumbprint names the key.
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    let kid = b64(&openssl::sha::sha256(canonical.as_bytes()));
    let jwk = serde_json::json!({"kty": "RSA", "use": "sig", "alg": "RS384", "kid": kid, "n": n, "e": e}).to_string();
    let pkey = openssl::pkey::PKey::from_rsa(rsa).map_err(k)?;
    let pem = pkey.private_key_to_pem_pkcs8().map_err(k)?;
    Ok((kid, pem, jwk))
}

/// The key store of one process: creates the key once, reads it back.
#[derive(Clone)]
pub struct Keys {
    store: ConnectorStore,
    vault: Vault,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys")
    }
}

impl Keys {
    /// Over `store`, sealing with `vault`.
    pub fn new(store: ConnectorStore, vault: Vault) -> Keys {
        Keys { store, vault }
    }

    /// The JWK Set: every stored key's public half (making the first key when there is none,
    /// so the URL an admin hands to Epic works before the first call).
    pub async fn jwks(&self) -> Result<serde_json::Value, KeyError> {
        let mut keys = self.store.keys().await?;
        if keys.is_empty() {
            self.ensure().await?;
            keys = self.store.keys().await?;
        }
        let list: Vec<serde_json::Value> = keys.iter().filter_map(|(_, _, jwk)| serde_json::from_str(jwk).ok()).collect();
        Ok(serde_json::json!({ "keys": list }))
    }

    async fn ensure(&self) -> Result<(), KeyError> {
        let (kid, pem, jwk) = tokio::task::spawn_blocking(generate).await.map_err(|e| KeyError::Key(e.to_string()))??;
        let sealed = self.vault.seal(Kind::ConnectorKey, &kid, &pem).map_err(|e| KeyError::Key(e.to_string()))?;
        self.store.add_key_if_none(kid, sealed, jwk).await?;
        Ok(())
    }

    /// A signed RS384 client assertion for `client_id` at the token endpoint `aud`.
    pub async fn assertion(&self, client_id: &str, aud: &str) -> Result<String, KeyError> {
        let mut keys = self.store.keys().await?;
        if keys.is_empty() {
            self.ensure().await?;
            keys = self.store.keys().await?;
        }
        let Some((kid, sealed, _)) = keys.into_iter().next() else { return Err(KeyError::Key("no signing key stored".into())) };
        let pem = self.vault.open(Kind::ConnectorKey, &kid, &sealed).map_err(|e| KeyError::Key(e.to_string()))?;
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(&pem).map_err(|e| KeyError::Key(e.to_string()))?;
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS384);
        header.kid = Some(kid);
        header.typ = Some("JWT".into());
        let now = chrono::Utc::now().timestamp();
        let claims =
            Claims { iss: client_id, sub: client_id, aud, jti: uuid::Uuid::new_v4().to_string(), iat: now, nbf: now, exp: now + ASSERTION_LIFETIME_SECS };
        jsonwebtoken::encode(&header, &claims, &key).map_err(|e| KeyError::Key(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn generated_keys_sign_verifiable_assertions() {
        let (kid, pem, jwk) = super::generate().unwrap();
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_str(&jwk).unwrap();
        assert_eq!(jwk.common.key_id.as_deref(), Some(kid.as_str()));
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(&pem).unwrap();
        let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS384);
        let token = jsonwebtoken::encode(&header, &serde_json::json!({"sub": "x", "exp": chrono::Utc::now().timestamp() + 60}), &key).unwrap();
        let dk = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
        let v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS384);
        assert!(jsonwebtoken::decode::<serde_json::Value>(&token, &dk, &v).is_ok());
    }
}
