//! Events and webhooks: what the outbox holds (written by the store with each change,
//! [`crate::store::events`]), how a webhook receives it ([`format`]) and how it is delivered
//! ([`deliver`]).

pub mod deliver;
pub mod format;

pub use crate::store::events::{topic, NewEvent};
