//! What other parts of the server learn from the device side: a command answered, an
//! enrollment enabled. The MDM service calls these after the change is stored; a hook's failure
//! is its own to log and never fails the device's request.

use futures::future::BoxFuture;

use crate::protocol::report::Status;

/// A result that took a command out of the queue.
#[derive(Debug, Clone)]
pub struct Answered {
    /// The enrollment that answered.
    pub enrollment_id: String,
    /// CommandUUID.
    pub command_uuid: String,
    /// Acknowledged, Error or CommandFormatError.
    pub status: Status,
    /// The whole report dictionary (result keys included).
    pub report: plist::Dictionary,
}

/// Listeners for device-side events.
pub trait DeviceHooks: Send + Sync + std::fmt::Debug {
    /// Cheap, synchronous filter: whether [`DeviceHooks::answered`] wants this result.
    fn wants_result(&self, command_uuid: &str, report: &plist::Dictionary) -> bool;
    /// A command was answered (called only when `wants_result` said so).
    fn answered(&self, answer: Answered) -> BoxFuture<'static, ()>;
    /// An enrollment completed its first TokenUpdate after Authenticate.
    fn enrolled(&self, enrollment_id: String, device_id: String) -> BoxFuture<'static, ()>;
}
