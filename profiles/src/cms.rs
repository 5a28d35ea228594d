//! Signing and per-device encryption.
