//! Kiosk tokens: one per shared device, made by the server, delivered to the device's locker
//! app through AppConfig (`{KioskToken}`), stored hashed (for lookup) and sealed (to render the
//! AppConfig), and rotated at every check-in.

use base64::Engine;
use rand::RngCore;

use crate::identity::cert::sha256_hex;
use crate::sealed::{Kind, Vault};
use crate::secrets::SecretsError;

/// Every kiosk token starts with this, so a leaked one is recognisable.
pub const PREFIX: &str = "mdmk_";

/// A new token for `device_id`: (SHA-256 of the value, sealed value).
pub fn mint(vault: &Vault, device_id: &str) -> Result<(String, Vec<u8>), SecretsError> {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let value = format!("{PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw));
    let sealed = vault.seal(Kind::KioskToken, device_id, value.as_bytes())?;
    Ok((hash(&value), sealed))
}

/// The stored hash of a presented token.
pub fn hash(value: &str) -> String {
    sha256_hex(value.as_bytes())
}
