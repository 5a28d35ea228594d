//! Device-access challenges: the SCEP challenge of the access profile's SCEP payload, bound to
//! one device. It is an HMAC of the device's UDID under a key derived from the secrets key, so
//! the server need not store one per device; the SCEP server issues a certificate for it only
//! with the subject `CN=<that UDID>`, and records the certificate as that device's. The
//! challenge reaches the device inside its profile, encrypted to the device's identity.

use subtle::ConstantTimeEq;

/// What every access challenge starts with.
pub const PREFIX: &str = "access-";

/// The purpose the key is derived for.
const PURPOSE: &str = "device-access-challenge/v1";

/// Makes and checks access challenges.
#[derive(Clone)]
pub struct AccessChallenges {
    key: ring::hmac::Key,
}

impl std::fmt::Debug for AccessChallenges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessChallenges(..)")
    }
}

impl AccessChallenges {
    /// From the secrets key.
    pub fn new(secrets: &crate::secrets::SecretKey) -> AccessChallenges {
        AccessChallenges { key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &secrets.derive(PURPOSE)) }
    }

    /// The challenge of `device_id`.
    pub fn challenge(&self, device_id: &str) -> String {
        let tag = ring::hmac::sign(&self.key, device_id.as_bytes());
        format!("{PREFIX}{}", hex::encode(&tag.as_ref()[..20]))
    }

    /// Whether `challenge` is the access challenge of `device_id` (constant time).
    pub fn verify(&self, challenge: &str, device_id: &str) -> bool {
        bool::from(self.challenge(device_id).as_bytes().ct_eq(challenge.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_challenge_belongs_to_one_device() {
        let key = crate::secrets::SecretKey::from_base64(&crate::secrets::SecretKey::generate_base64().unwrap()).unwrap();
        let a = super::AccessChallenges::new(&key);
        let c = a.challenge("UDID-1");
        assert!(c.starts_with(super::PREFIX));
        assert!(a.verify(&c, "UDID-1"));
        assert!(!a.verify(&c, "UDID-2"));
        let other = crate::secrets::SecretKey::from_base64(&crate::secrets::SecretKey::generate_base64().unwrap()).unwrap();
        assert!(!super::AccessChallenges::new(&other).verify(&c, "UDID-1"));
    }
}
