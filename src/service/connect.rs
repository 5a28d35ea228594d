//! The command endpoint: a device reports `Idle` or a result and gets its next command.

use tracing::Instrument;

use super::hooks::Answered;
use super::{DeviceResponse, MdmService, ServiceError};
use crate::identity::IdentityInputs;
use crate::protocol::report::{self, Status};
use crate::queue::ResultEffect;

impl MdmService {
    /// Handles a body PUT to the command (ServerURL) endpoint.
    pub async fn connect(&self, inputs: IdentityInputs<'_>) -> Result<DeviceResponse, ServiceError> {
        let dict = crate::protocol::parse_dict(inputs.body)?;
        self.connect_dict(dict, inputs).await
    }

    pub(super) async fn connect_dict(&self, dict: plist::Dictionary, inputs: IdentityInputs<'_>) -> Result<DeviceResponse, ServiceError> {
        let r = report::parse(&dict)?;
        let span = tracing::debug_span!(
            "connect",
            enrollment = %r.enrollment.id,
            status = r.status.as_str(),
            command_uuid = r.command_uuid.as_deref().unwrap_or("")
        );
        async move {
            let (hash, _) = self.identify(&inputs)?;
            // The binding is checked by the queue statement itself unless this process saw it
            // recently: one trip to the database per request either way.
            let check = self.binding_check(&hash, &r.enrollment);
            let who = &r.enrollment;
            let next = match (r.status, r.command_uuid) {
                (Status::Idle, _) => self.binding_learned(check.as_ref(), who, self.queue.next(who.id.clone(), check.clone()).await)?,
                (status, Some(uuid)) => {
                    let (effect, next) = self.binding_learned(
                        check.as_ref(),
                        who,
                        self.queue.report(&r.enrollment, uuid.clone(), status, inputs.body.to_vec(), check.clone()).await,
                    )?;
                    let mut next = next;
                    if effect == ResultEffect::Done {
                        if let Some(h) = self.hooks.as_ref().filter(|h| h.wants_result(&uuid, &dict)) {
                            let answer = Answered { enrollment_id: r.enrollment.id.clone(), command_uuid: uuid.clone(), status, report: dict.clone() };
                            h.answered(answer).await;
                            // What the answer led to (a ProfileList after the last install, a
                            // re-send, a re-install) goes out in this same connection.
                            if next.is_none() {
                                next = self.queue.next_after_result(r.enrollment.id.clone()).await?;
                            }
                        }
                    }
                    match effect {
                        ResultEffect::Done => tracing::info!(command_uuid = %uuid, "command answered"),
                        ResultEffect::Deferred => tracing::info!(command_uuid = %uuid, "command deferred (NotNow)"),
                        ResultEffect::AlreadyDone => tracing::info!(command_uuid = %uuid, "repeated result ignored"),
                    }
                    next
                }
                (_, None) => return Err(ServiceError::Parse(crate::protocol::ParseError::Missing("CommandUUID"))),
            };
            Ok(match next {
                Some(c) => {
                    tracing::debug!(command_uuid = %c.uuid, "command handed out");
                    let body = if crate::sealed::is_sealed(&c.body) { self.vault.open(crate::sealed::Kind::CommandBody, &c.uuid, &c.body)? } else { c.body };
                    DeviceResponse::plist(body)
                }
                None => DeviceResponse::empty(),
            })
        }
        .instrument(span)
        .await
    }
}
