//! End-to-end tests: the real server on an ephemeral port, real databases (SQLite and
//! PostgreSQL), simulated devices. One binary so link time stays low.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;
mod queue;
mod identity;
mod checkin;
mod enroll;
mod admin;
mod bad_input;
mod replicas;
mod push;
mod scep;
mod profiles;
mod apps;
mod secrets;
mod retention;
mod shutdown;
mod tokens;
mod edges;
