//! Certificate material shared by the server and the simulated devices: the CA the server and
//! `mdm init` make ([`Ca`], [`Issued`]), the device identity `Mdm-Signature` header
//! ([`mdm_signature`]), reading and verifying certificates ([`x509`]) and the TLS verifier that
//! asks for a client certificate and leaves the trust decision to the application ([`tls`]).
//! A crate of its own so the simulator and the mock APNs need nothing of the server.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod ca;
pub mod tls;
pub mod x509;

pub use ca::*;
