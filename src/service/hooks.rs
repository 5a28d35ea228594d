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

/// Listeners for device-side events. Each method has a do-nothing default.
pub trait DeviceHooks: Send + Sync + std::fmt::Debug {
    /// Cheap, synchronous filter: whether [`DeviceHooks::answered`] wants this result.
    fn wants_result(&self, _command_uuid: &str, _report: &plist::Dictionary) -> bool {
        false
    }
    /// A command was answered (called only when `wants_result` said so).
    fn answered(&self, _answer: Answered) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }
    /// An enrollment completed its first TokenUpdate after Authenticate.
    fn enrolled(&self, _enrollment_id: String, _device_id: String) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }
    /// An enrollment sent CheckOut (it left management).
    fn checked_out(&self, _enrollment_id: String, _device_id: String) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }
}

/// Several listeners, called in order.
#[derive(Debug, Default)]
pub struct HookChain(pub Vec<std::sync::Arc<dyn DeviceHooks>>);

impl DeviceHooks for HookChain {
    fn wants_result(&self, command_uuid: &str, report: &plist::Dictionary) -> bool {
        self.0.iter().any(|h| h.wants_result(command_uuid, report))
    }

    fn answered(&self, answer: Answered) -> BoxFuture<'static, ()> {
        let calls: Vec<_> = self.0.iter().filter(|h| h.wants_result(&answer.command_uuid, &answer.report)).map(|h| h.answered(answer.clone())).collect();
        Box::pin(async move {
            for c in calls {
                c.await;
            }
        })
    }

    fn enrolled(&self, enrollment_id: String, device_id: String) -> BoxFuture<'static, ()> {
        let calls: Vec<_> = self.0.iter().map(|h| h.enrolled(enrollment_id.clone(), device_id.clone())).collect();
        Box::pin(async move {
            for c in calls {
                c.await;
            }
        })
    }

    fn checked_out(&self, enrollment_id: String, device_id: String) -> BoxFuture<'static, ()> {
        let calls: Vec<_> = self.0.iter().map(|h| h.checked_out(enrollment_id.clone(), device_id.clone())).collect();
        Box::pin(async move {
            for c in calls {
                c.await;
            }
        })
    }
}
