//! Check-in messages: Authenticate, TokenUpdate, CheckOut, UserAuthenticate, bootstrap tokens,
//! DeclarativeManagement and GetToken.

use tracing::Instrument;

use super::{DeviceResponse, MdmService, ServiceError};
use crate::identity::IdentityInputs;
use crate::protocol::checkin::{self, CheckinKind};
use crate::protocol::enrollment::EnrollmentRef;
use crate::protocol::to_xml;
use crate::sealed::Kind;
use crate::store::devices::{AuthenticateInput, AuthenticatedDevice, CertInfo, TokenUpdateInput};
use crate::store::events::{topic, NewEvent};

/// The outbox event of a check-in: `data` plus the enrollment's type, about the message's
/// enrollment, with the plist as sent (secrets removed).
fn checkin_event(topic: &'static str, who: &EnrollmentRef, raw: &[u8], dict: &plist::Dictionary, mut data: serde_json::Value) -> NewEvent {
    if let Some(d) = data.as_object_mut() {
        d.insert("enrollment_type".into(), who.kind.as_str().into());
    }
    NewEvent::new(topic, data).on(who.device_id.as_str(), who.id.as_str()).with_payload(crate::events::format::checkin_payload(raw, dict))
}

impl MdmService {
    /// Handles a body PUT to the check-in URL.
    pub async fn checkin(&self, inputs: IdentityInputs<'_>) -> Result<DeviceResponse, ServiceError> {
        let dict = crate::protocol::parse_dict(inputs.body)?;
        self.checkin_dict(dict, inputs).await
    }

    pub(super) async fn checkin_dict(&self, dict: plist::Dictionary, inputs: IdentityInputs<'_>) -> Result<DeviceResponse, ServiceError> {
        let msg = checkin::parse(&dict)?;
        let span = tracing::info_span!("checkin", enrollment = %msg.enrollment.id, message = msg.kind.name());
        async move {
            let (hash, parsed) = self.identify(&inputs)?;
            let who = &msg.enrollment;
            let event = |topic: &'static str, data: serde_json::Value| checkin_event(topic, who, inputs.body, &dict, data);
            let resp = match msg.kind {
                CheckinKind::Authenticate(a) => {
                    if who.user_id.is_some() {
                        return Err(ServiceError::Parse(crate::protocol::ParseError::Invalid {
                            key: "UserID",
                            reason: "Authenticate is sent on the device channel only".into(),
                        }));
                    }
                    let cert = match parsed {
                        Some(c) => c,
                        None => self.identify_cert(&inputs)?,
                    };
                    let ev = event(
                        topic::AUTHENTICATED,
                        serde_json::json!({"serial_number": a.serial_number, "model": a.model, "os_version": a.os_version, "device_name": a.device_name, "topic": a.topic}),
                    );
                    let input = AuthenticateInput {
                        device: AuthenticatedDevice {
                            id: who.device_id.clone(),
                            serial_number: a.serial_number,
                            model: a.model,
                            model_name: a.model_name,
                            product_name: a.product_name,
                            os_version: a.os_version,
                            build_version: a.build_version,
                            device_name: a.device_name,
                            imei: a.imei,
                            meid: a.meid,
                        },
                        enrollment_type: who.kind.as_str().to_string(),
                        topic: a.topic,
                        cert: Some(CertInfo {
                            hash: cert.hash.clone(),
                            subject: cert.subject(),
                            issuer: cert.issuer(),
                            not_after: cert.not_after(),
                            der: cert.cert.to_der().ok(),
                        }),
                    };
                    let replaced = self.devices.authenticate(input, ev).await.inspect_err(|e| {
                        if let crate::store::StoreError::CertRefused { reason, .. } = e {
                            tracing::warn!(cert = %cert.hash, subject = %cert.subject(), %reason, "Authenticate refused: the certificate may not take over this device; the enrolled device is unchanged");
                        }
                    })?;
                    self.rebound(&who.device_id, &cert.hash);
                    match replaced {
                        Some(reason) => tracing::info!(cert = %cert.hash, reason = reason.as_str(), "device authenticated with a new certificate; enrollment reset"),
                        None => tracing::info!(cert = %cert.hash, "device authenticated; enrollment reset"),
                    }
                    DeviceResponse::empty()
                }
                CheckinKind::TokenUpdate(t) => {
                    self.require_bound(&hash, who).await?;
                    let ev = event(topic::TOKEN_UPDATED, serde_json::json!({"awaiting_configuration": t.awaiting_configuration, "topic": t.topic}));
                    let outcome = self.devices.token_update(TokenUpdateInput {
                            enrollment_id: who.id.clone(),
                            device_id: who.device_id.clone(),
                            channel: who.kind.channel().to_string(),
                            enrollment_type: who.kind.as_str().to_string(),
                            user_id: who.user_id.clone(),
                            user_short_name: t.user_short_name,
                            user_long_name: t.user_long_name,
                            topic: t.topic,
                            token: t.token,
                            push_magic: t.push_magic,
                            unlock_token: t.unlock_token.map(|u| self.vault.seal(Kind::UnlockToken, &who.id, &u)).transpose()?,
                            awaiting_configuration: t.awaiting_configuration,
                        }, ev)
                        .await?;
                    if outcome.first {
                        tracing::info!(awaiting_configuration = t.awaiting_configuration, "enrollment enabled");
                        if let Some(h) = &self.hooks {
                            h.enrolled(who.id.clone(), who.device_id.clone()).await;
                        }
                    }
                    DeviceResponse::empty()
                }
                CheckinKind::CheckOut => {
                    self.require_bound(&hash, who).await?;
                    self.devices.checkout(who.id.clone(), event(topic::CHECKED_OUT, serde_json::json!({}))).await?;
                    tracing::info!("enrollment checked out");
                    if let Some(h) = &self.hooks {
                        h.checked_out(who.id.clone(), who.device_id.clone()).await;
                    }
                    DeviceResponse::empty()
                }
                CheckinKind::UserAuthenticate { digest_response } => {
                    self.require_bound(&hash, who).await?;
                    if !self.opts.user_authenticate {
                        return Err(ServiceError::UserAuthNotConfigured);
                    }
                    self.events.write(vec![event(topic::USER_AUTHENTICATED, serde_json::json!({"digest_response": digest_response.is_some()}))]).await?;
                    // An empty DigestChallenge accepts the user without prompting for a password.
                    let mut d = plist::Dictionary::new();
                    if digest_response.is_none() {
                        d.insert("DigestChallenge".into(), plist::Value::String(String::new()));
                    }
                    DeviceResponse::plist(to_xml(&d))
                }
                CheckinKind::SetBootstrapToken { token } => {
                    self.require_bound(&hash, who).await?;
                    let ev = event(topic::BOOTSTRAP_TOKEN_SET, serde_json::json!({"removed": token.is_none()}));
                    let sealed = token.map(|t| self.vault.seal(Kind::BootstrapToken, &who.device_id, &t)).transpose()?;
                    self.devices.set_bootstrap_token(who.device_id.clone(), sealed, ev).await?;
                    DeviceResponse::empty()
                }
                CheckinKind::GetBootstrapToken => {
                    self.require_bound(&hash, who).await?;
                    let stored = self.devices.bootstrap_token(who.device_id.clone()).await?;
                    let token = stored.map(|t| self.vault.open(Kind::BootstrapToken, &who.device_id, &t)).transpose()?;
                    self.events.write(vec![event(topic::BOOTSTRAP_TOKEN_FETCHED, serde_json::json!({"present": token.is_some()}))]).await?;
                    let mut d = plist::Dictionary::new();
                    if let Some(t) = token {
                        d.insert("BootstrapToken".into(), plist::Value::Data(t));
                    }
                    DeviceResponse::plist(to_xml(&d))
                }
                CheckinKind::DeclarativeManagement(dm) => {
                    self.require_bound(&hash, who).await?;
                    if self.devices.enrollment(who.id.clone()).await?.is_none() {
                        return Err(ServiceError::UnknownEnrollment(who.id.clone()));
                    }
                    let ev = event(topic::DECLARATIVE_CHECKIN, serde_json::json!({"endpoint": dm.endpoint}));
                    self.retention.store_declarative(who.id.clone(), dm.endpoint, dm.data, self.opts.declarative_per_enrollment, ev).await?;
                    DeviceResponse::empty()
                }
                CheckinKind::GetToken { .. } => {
                    self.require_bound(&hash, who).await?;
                    self.events.write(vec![event(topic::GET_TOKEN, serde_json::json!({}))]).await?;
                    return Err(ServiceError::Unsupported("GetToken"));
                }
            };
            Ok(resp)
        }
        .instrument(span)
        .await
    }
}
