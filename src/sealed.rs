//! Secrets the database keeps on behalf of devices — UnlockTokens, BootstrapTokens, and the
//! bodies of commands that carry secrets (ClearPasscode's UnlockToken, a managed app's AppConfig
//! with `{Secret.NAME}` values or whatever else an admin put in it) — sealed with the `[secrets]`
//! key ([`SecretKey`]) before they are stored and opened only where they are used: when a
//! command is delivered, a bootstrap token handed back, an UnlockToken put into a command.
//!
//! A sealed value is `TAG ‖ SecretKey::seal(plain, kind:id)`: the tag tells sealed values from
//! values stored before sealing existed (which [`Vault::open`] passes through and
//! [`seal_existing`] seals at start-up); the associated data ties it to its row.

use std::sync::Arc;

use crate::secrets::{SecretKey, SecretsError};
use crate::store::{Store, StoreError};

/// Marks a sealed value.
pub const TAG: &[u8] = b"mdm-sealed:1:";

/// What a sealed value is, part of its associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An enrollment's UnlockToken (id: enrollment id).
    UnlockToken,
    /// A device's BootstrapToken (id: device id).
    BootstrapToken,
    /// A command body (id: CommandUUID).
    CommandBody,
    /// A webhook's HMAC key (id: webhook id).
    WebhookSecret,
    /// A device's current kiosk token (id: device id).
    KioskToken,
    /// A connector's credentials (id: connector id).
    ConnectorSecret,
    /// A connector signing key, PKCS#8 DER (id: key id).
    ConnectorKey,
    /// A SAML signing key, PKCS#8 DER (id: key id).
    SamlKey,
}

impl Kind {
    fn aad(self, id: &str) -> Vec<u8> {
        let kind = match self {
            Kind::UnlockToken => "unlock-token",
            Kind::BootstrapToken => "bootstrap-token",
            Kind::CommandBody => "command",
            Kind::WebhookSecret => "webhook-secret",
            Kind::KioskToken => "kiosk-token",
            Kind::ConnectorSecret => "connector-secret",
            Kind::ConnectorKey => "connector-key",
            Kind::SamlKey => "saml-key",
        };
        format!("{kind}:{id}").into_bytes()
    }
}

/// Whether a stored value is sealed.
pub fn is_sealed(stored: &[u8]) -> bool {
    stored.starts_with(TAG)
}

/// The CommandUUID prefixes of commands whose bodies may carry secrets (a managed app's
/// AppConfig: installs and configuration changes).
pub const SECRET_COMMAND_PREFIXES: [&str; 2] = [crate::apps::commands::INSTALL_PREFIX, crate::apps::commands::CONFIG_PREFIX];

/// Whether a command's body may carry a secret, and so is stored sealed.
pub fn carries_secret(uuid: &str, request_type: &str) -> bool {
    crate::commands::UNLOCK_TOKEN_TYPES.contains(&request_type) || SECRET_COMMAND_PREFIXES.iter().any(|p| uuid.starts_with(p))
}

/// Seals and opens values at rest. Cheap to clone.
#[derive(Clone)]
pub struct Vault(Arc<SecretKey>);

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(..)")
    }
}

impl Vault {
    /// A vault with this key.
    pub fn new(key: SecretKey) -> Vault {
        Vault(Arc::new(key))
    }

    /// The key itself (for secrets sealed in their own format, such as app secrets).
    pub fn key(&self) -> &SecretKey {
        &self.0
    }

    /// Seals `plain` as the `kind` value of row `id`.
    pub fn seal(&self, kind: Kind, id: &str, plain: &[u8]) -> Result<Vec<u8>, SecretsError> {
        let mut out = TAG.to_vec();
        out.extend(self.0.seal(plain, &kind.aad(id))?);
        Ok(out)
    }

    /// Seals a command's body when it may carry a secret ([`carries_secret`]).
    pub fn seal_command(&self, cmd: &mut crate::store::models::Command) -> Result<(), SecretsError> {
        if carries_secret(&cmd.uuid, &cmd.request_type) && !is_sealed(&cmd.body) {
            cmd.body = self.seal(Kind::CommandBody, &cmd.uuid, &cmd.body)?;
        }
        Ok(())
    }

    /// Opens a value stored for `kind`/`id`; a value stored unsealed comes back as it is.
    pub fn open(&self, kind: Kind, id: &str, stored: &[u8]) -> Result<Vec<u8>, SecretsError> {
        match stored.strip_prefix(TAG) {
            Some(sealed) => self.0.open(sealed, &kind.aad(id)),
            None => Ok(stored.to_vec()),
        }
    }
}

/// Seals what an earlier version stored in clear (UnlockTokens, BootstrapTokens, the bodies of
/// commands that carry secrets). Idempotent; returns how many values it sealed.
pub async fn seal_existing(store: &Store, vault: &Vault) -> Result<usize, StoreError> {
    let mut sealed = 0;
    let seal = |kind: Kind, rows: Vec<(String, Vec<u8>)>| -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        rows.into_iter().map(|(id, plain)| vault.seal(kind, &id, &plain).map(|s| (id, s)).map_err(|e| StoreError::Task(format!("sealing: {e}")))).collect()
    };
    let rows = store.at_rest().clear_unlock_tokens().await?;
    sealed += rows.len();
    store.at_rest().replace_unlock_tokens(seal(Kind::UnlockToken, rows)?).await?;
    let rows = store.at_rest().clear_bootstrap_tokens().await?;
    sealed += rows.len();
    store.at_rest().replace_bootstrap_tokens(seal(Kind::BootstrapToken, rows)?).await?;
    let prefixes = SECRET_COMMAND_PREFIXES.iter().map(|p| p.to_string()).collect();
    let types = crate::commands::UNLOCK_TOKEN_TYPES.iter().map(|t| t.to_string()).collect();
    let rows = store.at_rest().clear_secret_commands(prefixes, types).await?;
    sealed += rows.len();
    store.at_rest().replace_command_bodies(seal(Kind::CommandBody, rows)?).await?;
    if sealed > 0 {
        store.at_rest().scrub_after_sealing().await?;
    }
    Ok(sealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> Vault {
        Vault::new(SecretKey::from_base64(&SecretKey::generate_base64().unwrap()).unwrap())
    }

    #[test]
    fn sealed_values_are_tied_to_their_row_and_kind() {
        let v = vault();
        let s = v.seal(Kind::UnlockToken, "UDID-1", b"unlock me").unwrap();
        assert!(is_sealed(&s) && !s.windows(9).any(|w| w == b"unlock me"));
        assert_eq!(v.open(Kind::UnlockToken, "UDID-1", &s).unwrap(), b"unlock me");
        assert!(v.open(Kind::UnlockToken, "UDID-2", &s).is_err(), "moved to another row");
        assert!(v.open(Kind::BootstrapToken, "UDID-1", &s).is_err(), "read as another kind");
        assert!(vault().open(Kind::UnlockToken, "UDID-1", &s).is_err(), "another key");
        assert_eq!(v.open(Kind::CommandBody, "c", b"<plist/>").unwrap(), b"<plist/>", "stored before sealing");
    }
}
