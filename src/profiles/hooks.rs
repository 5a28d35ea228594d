//! The profile library listening to devices: answers to its commands (and any ProfileList).
//! A new enrollment's profiles are queued by its blueprint (`enroll::blueprint`), in order with
//! the blueprint's other commands.

use futures::future::BoxFuture;

use super::service::{ProfileLibrary, CHECK_PREFIX, INSTALL_PREFIX, REMOVE_PREFIX};
use crate::service::hooks::{Answered, DeviceHooks};

impl DeviceHooks for ProfileLibrary {
    fn wants_result(&self, command_uuid: &str, report: &plist::Dictionary) -> bool {
        command_uuid.starts_with(INSTALL_PREFIX)
            || command_uuid.starts_with(REMOVE_PREFIX)
            || command_uuid.starts_with(CHECK_PREFIX)
            || report.contains_key("ProfileList")
    }

    fn answered(&self, a: Answered) -> BoxFuture<'static, ()> {
        let svc = self.clone();
        Box::pin(async move {
            if let Err(e) = svc.on_answer(&a.enrollment_id, &a.command_uuid, a.status, &a.report).await {
                tracing::error!(enrollment = %a.enrollment_id, command_uuid = %a.command_uuid, error = %e, "profile state not updated");
            }
        })
    }
}
