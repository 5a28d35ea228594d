//! End-to-end tests: the real server on an ephemeral port, real databases (SQLite and
//! PostgreSQL), simulated devices. One binary so link time stays low.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod apps;
mod bad_input;
mod checkin;
mod cli;
mod compliance;
mod edges;
mod enroll;
mod events;
mod harness;
mod identity;
#[path = "../kit/mod.rs"]
mod kit;
mod profiles;
mod push;
mod queue;
mod readme;
mod replicas;
mod retention;
mod saml;
mod scep;
mod secrets;
mod shared;
mod shutdown;
mod tokens;
