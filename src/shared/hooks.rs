//! Follows the answers to the commands the workflows queue (ClearPasscode, an app's data
//! clearing, LogOutUser, DeleteUser) onto their recorded actions.

use futures::future::BoxFuture;

use super::{action, SharedService, MARK};
use crate::protocol::report::{error_text, Status};
use crate::service::hooks::{Answered, DeviceHooks};

/// Whether a CommandUUID is one a workflow queued.
pub fn is_workflow_command(uuid: &str) -> bool {
    uuid.starts_with(MARK) || uuid.strip_prefix(crate::apps::commands::INSTALL_PREFIX).is_some_and(|r| r.starts_with(MARK))
}

impl DeviceHooks for SharedService {
    fn wants_result(&self, command_uuid: &str, _report: &plist::Dictionary) -> bool {
        is_workflow_command(command_uuid)
    }

    fn answered(&self, a: Answered) -> BoxFuture<'static, ()> {
        let store = self.store.shared();
        Box::pin(async move {
            let (status, detail) = match a.status {
                Status::Acknowledged => (action::DONE, Some("the device acknowledged it".to_string())),
                Status::NotNow => (action::PENDING, Some("the device answered NotNow; it is delivered again".to_string())),
                Status::Idle => return,
                Status::Error | Status::CommandFormatError => (action::FAILED, Some(format!("the device refused it: {}", error_text(&a.report)))),
            };
            if let Err(e) = store.command_answered(a.command_uuid.clone(), status.to_string(), detail).await {
                tracing::warn!(command_uuid = %a.command_uuid, error = %e, "shared workflow: recording the answer failed");
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn recognises_workflow_commands() {
        assert!(super::is_workflow_command("shared-clear-passcode-1"));
        assert!(super::is_workflow_command("app-install-shared-1"));
        assert!(!super::is_workflow_command("app-install-1"));
        assert!(!super::is_workflow_command("profile-install-1"));
    }
}
