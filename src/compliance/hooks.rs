//! What compliance learns from devices: every inventory answer is stored and the device judged
//! again before the answer goes back (so a removal the judgement queues goes out in the same
//! connection); answers to DeviceLock are written onto their actions; enrolment and CheckOut
//! re-judge the device.

use futures::future::BoxFuture;

use super::actions::{outcome, MARK};
use super::inventory::{self, Part};
use super::ComplianceService;
use crate::protocol::report::{error_text, Status};
use crate::service::hooks::{Answered, DeviceHooks};

impl ComplianceService {
    /// Stores the inventory part a result carries and judges its device again.
    pub async fn record_report(&self, enrollment_id: &str, report: &plist::Dictionary) -> Result<(), super::ComplianceError> {
        let Some(which) = inventory::part_of(report) else { return Ok(()) };
        let (name, value, columns) = match inventory::section(report) {
            Some(s) => (s.part.stored(), Some(s.value.to_string()), s.columns),
            // The app service keeps the list itself; only its time is the inventory's.
            None if which == Part::Apps => (Part::Apps.stored(), None, None),
            None => return Ok(()),
        };
        // The device channel's enrollment id is the device id; a user channel's lists are that
        // user's and do not feed the inventory (nothing is stored for an id that is no device).
        if !self.store.compliance().put_part(enrollment_id.to_string(), name, value, columns).await? {
            return Ok(());
        }
        self.evaluate(vec![enrollment_id.to_string()]).await?;
        Ok(())
    }
}

impl DeviceHooks for ComplianceService {
    fn wants_result(&self, command_uuid: &str, report: &plist::Dictionary) -> bool {
        command_uuid.starts_with(MARK) || inventory::part_of(report).is_some()
    }

    fn answered(&self, a: Answered) -> BoxFuture<'static, ()> {
        let me = self.clone();
        Box::pin(async move {
            if a.command_uuid.starts_with(MARK) {
                let (st, detail) = match a.status {
                    Status::Acknowledged => (outcome::DONE, "the device acknowledged it".to_string()),
                    Status::Error | Status::CommandFormatError => (outcome::FAILED, format!("the device refused it: {}", error_text(&a.report))),
                    _ => return,
                };
                if let Err(e) = me.store.compliance().command_answered(a.command_uuid.clone(), st, Some(detail)).await {
                    tracing::warn!(command_uuid = %a.command_uuid, error = %e, "compliance: recording the answer failed");
                }
                return;
            }
            if a.status != Status::Acknowledged {
                return;
            }
            if let Err(e) = me.record_report(&a.enrollment_id, &a.report).await {
                tracing::warn!(enrollment = %a.enrollment_id, command_uuid = %a.command_uuid, error = %e, "compliance: inventory or evaluation failed");
            }
        })
    }

    fn enrolled(&self, _enrollment_id: String, device_id: String) -> BoxFuture<'static, ()> {
        let me = self.clone();
        Box::pin(async move { me.judge_logged(device_id, "enrolled").await })
    }

    fn checked_out(&self, _enrollment_id: String, device_id: String) -> BoxFuture<'static, ()> {
        let me = self.clone();
        Box::pin(async move { me.judge_logged(device_id, "checked out").await })
    }
}

impl ComplianceService {
    async fn judge_logged(&self, device_id: String, why: &'static str) {
        if let Err(e) = self.evaluate(vec![device_id.clone()]).await {
            tracing::warn!(device = %device_id, error = %e, "compliance: evaluation after {why} failed");
        }
    }
}
