//! Devices, enrollments and certificate bindings: what the check-in messages change.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::queue::QueueStatus;

use super::events::{emit, emit_one, topic, NewEvent};
use super::models::{Device, Enrollment};
use super::schema::{cert_bindings, devices, enrollment_queue, enrollments};
use super::{now, write_tx, DbConn, Store, StoreError, StoreResult};

/// The identity certificate presented with an Authenticate.
#[derive(Debug, Clone)]
pub struct CertInfo {
    /// Hex SHA-256 of the DER.
    pub hash: String,
    /// Subject, one line.
    pub subject: String,
    /// Issuer, one line.
    pub issuer: String,
    /// notAfter.
    pub not_after: Option<NaiveDateTime>,
    /// The certificate's DER.
    pub der: Option<Vec<u8>>,
}

/// What an Authenticate check-in records.
#[derive(Debug, Clone)]
pub struct AuthenticateInput {
    /// Device attributes (id = UDID or EnrollmentID); timestamps are filled by the store.
    pub device: AuthenticatedDevice,
    /// Device or UserEnrollmentDevice.
    pub enrollment_type: String,
    /// APNs topic the device reported.
    pub topic: String,
    /// The certificate to bind, when identity checking is on.
    pub cert: Option<CertInfo>,
}

/// What an Authenticate message says of the device.
#[derive(Debug, Clone, Default)]
pub struct AuthenticatedDevice {
    /// UDID or EnrollmentID.
    pub id: String,
    /// SerialNumber.
    pub serial_number: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// ModelName.
    pub model_name: Option<String>,
    /// ProductName.
    pub product_name: Option<String>,
    /// OSVersion.
    pub os_version: Option<String>,
    /// BuildVersion.
    pub build_version: Option<String>,
    /// DeviceName.
    pub device_name: Option<String>,
    /// IMEI.
    pub imei: Option<String>,
    /// MEID.
    pub meid: Option<String>,
}

/// What a TokenUpdate check-in records.
#[derive(Debug, Clone)]
pub struct TokenUpdateInput {
    /// Enrollment id (UDID or UDID:UserID ...).
    pub enrollment_id: String,
    /// Device id.
    pub device_id: String,
    /// `device` or `user`.
    pub channel: String,
    /// Device, User, UserEnrollmentDevice, UserEnrollment.
    pub enrollment_type: String,
    /// UserID (user channel).
    pub user_id: Option<String>,
    /// UserShortName.
    pub user_short_name: Option<String>,
    /// UserLongName.
    pub user_long_name: Option<String>,
    /// Topic.
    pub topic: String,
    /// APNs token.
    pub token: Vec<u8>,
    /// PushMagic.
    pub push_magic: String,
    /// UnlockToken, when sent.
    pub unlock_token: Option<Vec<u8>>,
    /// AwaitingConfiguration.
    pub awaiting_configuration: bool,
}

/// Outcome of a TokenUpdate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenUpdateOutcome {
    /// True for the first TokenUpdate after Authenticate (the enrollment just became enabled).
    pub first: bool,
}

/// Cancels the waiting commands of `ids` (channels of `device`) and writes a
/// `command.cancelled` event for each, saying `why`.
fn cancel_active_queue(conn: &mut DbConn, device: &str, ids: &[String], at: NaiveDateTime, why: &str) -> StoreResult<usize> {
    let cancelled: Vec<(String, String)> = diesel::update(
        enrollment_queue::table.filter(enrollment_queue::enrollment_id.eq_any(ids)).filter(enrollment_queue::status.eq_any(QueueStatus::ACTIVE_SQL)),
    )
    .set((enrollment_queue::status.eq(QueueStatus::Cancelled.as_sql()), enrollment_queue::done_at.eq(Some(at))))
    .returning((enrollment_queue::enrollment_id, enrollment_queue::command_uuid))
    .get_results(conn)?;
    let list: Vec<NewEvent> = cancelled
        .iter()
        .map(|(e, uuid)| NewEvent::new(topic::COMMAND_CANCELLED, serde_json::json!({"command_uuid": uuid, "reason": why})).on(device, e.as_str()))
        .collect();
    emit(conn, at, &list)?;
    Ok(cancelled.len())
}

fn upsert_device(conn: &mut DbConn, a: &AuthenticatedDevice, at: NaiveDateTime) -> StoreResult<()> {
    let mut row = Device {
        id: a.id.clone(),
        serial_number: a.serial_number.clone(),
        model: a.model.clone(),
        model_name: a.model_name.clone(),
        product_name: a.product_name.clone(),
        os_version: a.os_version.clone(),
        build_version: a.build_version.clone(),
        device_name: a.device_name.clone(),
        imei: a.imei.clone(),
        meid: a.meid.clone(),
        bootstrap_token: None,
        created_at: at,
        updated_at: at,
    };
    let old: Option<Device> = devices::table.find(&a.id).select(Device::as_select()).first(conn).optional()?;
    match old {
        Some(old) => {
            row.created_at = old.created_at;
            // A re-enrolling device escrows a new bootstrap token; the old one is void.
            diesel::update(devices::table.find(&a.id)).set(&row).execute(conn)?;
            diesel::update(devices::table.find(&a.id)).set(devices::bootstrap_token.eq(None::<Vec<u8>>)).execute(conn)?;
        }
        None => {
            diesel::insert_into(devices::table).values(&row).execute(conn)?;
        }
    }
    Ok(())
}

/// Which device a certificate (hex SHA-256) is bound to, if any, on `conn`.
pub(crate) fn bound_device(conn: &mut DbConn, hash: &str) -> StoreResult<Option<String>> {
    Ok(cert_bindings::table.find(hash).select(cert_bindings::device_id).first(conn).optional()?)
}

/// Devices, their channels (enrollments) and certificate bindings (reached through [`Store::devices`]).
#[derive(Debug, Clone)]
pub struct DeviceStore(pub(super) Store);

impl DeviceStore {
    /// Records an Authenticate: upserts the device, binds its certificate (when the binding rule
    /// allows it: [`crate::identity::binding`]), and resets every channel of the device (tokens
    /// cleared, disabled until TokenUpdate, active queue cancelled). A refused certificate
    /// changes nothing. `event` (`enrollment.authenticated`) is written with the change. Returns
    /// why a previous certificate was replaced, if one was.
    pub async fn authenticate(&self, input: AuthenticateInput, event: NewEvent) -> StoreResult<Option<crate::identity::binding::Reason>> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let at = now();
                    let dev = &input.device.id;
                    upsert_device(conn, &input.device, at)?;
                    let mut replaced = None;
                    if let Some(cert) = &input.cert {
                        replaced = super::binding::bind_cert(conn, dev, cert, at)?;
                        super::scep::bind_issued(conn, &cert.hash, dev)?;
                    }
                    let channels: Vec<String> = enrollments::table.filter(enrollments::device_id.eq(dev)).select(enrollments::id).load(conn)?;
                    cancel_active_queue(conn, dev, &channels, at, "the device authenticated again (re-enrollment)")?;
                    diesel::update(enrollments::table.filter(enrollments::device_id.eq(dev)))
                        .set((
                            enrollments::enabled.eq(false),
                            enrollments::push_magic.eq(None::<String>),
                            enrollments::token.eq(None::<Vec<u8>>),
                            enrollments::unlock_token.eq(None::<Vec<u8>>),
                            enrollments::awaiting_configuration.eq(false),
                            enrollments::token_update_count.eq(0),
                            enrollments::updated_at.eq(at),
                        ))
                        .execute(conn)?;
                    let updated = diesel::update(enrollments::table.find(dev))
                        .set((
                            enrollments::topic.eq(&input.topic),
                            enrollments::enrollment_type.eq(&input.enrollment_type),
                            enrollments::authenticated_at.eq(Some(at)),
                            enrollments::last_seen_at.eq(Some(at)),
                            enrollments::unenrolled_at.eq(None::<NaiveDateTime>),
                        ))
                        .execute(conn)?;
                    if updated == 0 {
                        diesel::insert_into(enrollments::table)
                            .values(&Enrollment {
                                id: dev.clone(),
                                device_id: dev.clone(),
                                channel: "device".into(),
                                enrollment_type: input.enrollment_type.clone(),
                                user_id: None,
                                user_short_name: None,
                                user_long_name: None,
                                topic: input.topic.clone(),
                                push_magic: None,
                                token: None,
                                unlock_token: None,
                                enabled: false,
                                awaiting_configuration: false,
                                token_update_count: 0,
                                authenticated_at: Some(at),
                                last_seen_at: Some(at),
                                unenrolled_at: None,
                                created_at: at,
                                updated_at: at,
                            })
                            .execute(conn)?;
                    }
                    let mut event = event;
                    if let (Some(r), Some(data)) = (replaced, event.data.as_object_mut()) {
                        data.insert("certificate_replaced".into(), r.as_str().into());
                    }
                    emit_one(conn, at, event)?;
                    Ok(replaced)
                })
            })
            .await
    }

    /// Records a TokenUpdate. The device must have authenticated; a user channel is created on
    /// its first TokenUpdate. `event` (`enrollment.token_updated`) is written with the change,
    /// its `token_update_tally` filled in, and `enrollment.enrolled` after it when this enabled
    /// the enrollment. Returns whether it did.
    pub async fn token_update(&self, t: TokenUpdateInput, event: NewEvent) -> StoreResult<TokenUpdateOutcome> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let at = now();
                    let device_channel: Option<Enrollment> = enrollments::table.find(&t.device_id).select(Enrollment::as_select()).first(conn).optional()?;
                    let Some(device_channel) = device_channel else {
                        return Err(StoreError::UnknownEnrollment(t.enrollment_id.clone()));
                    };
                    if t.channel == "user" && device_channel.authenticated_at.is_none() {
                        return Err(StoreError::UnknownEnrollment(t.device_id.clone()));
                    }
                    let existing: Option<Enrollment> = enrollments::table.find(&t.enrollment_id).select(Enrollment::as_select()).first(conn).optional()?;
                    let first = existing.as_ref().is_none_or(|e| !e.enabled);
                    match existing {
                        Some(e) => {
                            let unlock = t.unlock_token.clone().or(e.unlock_token);
                            diesel::update(enrollments::table.find(&t.enrollment_id))
                                .set((
                                    enrollments::topic.eq(&t.topic),
                                    enrollments::push_magic.eq(Some(&t.push_magic)),
                                    enrollments::token.eq(Some(&t.token)),
                                    enrollments::unlock_token.eq(unlock),
                                    enrollments::enabled.eq(true),
                                    enrollments::awaiting_configuration.eq(t.awaiting_configuration),
                                    enrollments::token_update_count.eq(enrollments::token_update_count + 1),
                                    enrollments::user_short_name.eq(&t.user_short_name),
                                    enrollments::user_long_name.eq(&t.user_long_name),
                                    enrollments::last_seen_at.eq(Some(at)),
                                    enrollments::unenrolled_at.eq(None::<NaiveDateTime>),
                                    enrollments::updated_at.eq(at),
                                ))
                                .execute(conn)?;
                        }
                        None => {
                            diesel::insert_into(enrollments::table)
                                .values(&Enrollment {
                                    id: t.enrollment_id.clone(),
                                    device_id: t.device_id.clone(),
                                    channel: t.channel.clone(),
                                    enrollment_type: t.enrollment_type.clone(),
                                    user_id: t.user_id.clone(),
                                    user_short_name: t.user_short_name.clone(),
                                    user_long_name: t.user_long_name.clone(),
                                    topic: t.topic.clone(),
                                    push_magic: Some(t.push_magic.clone()),
                                    token: Some(t.token.clone()),
                                    unlock_token: t.unlock_token.clone(),
                                    enabled: true,
                                    awaiting_configuration: t.awaiting_configuration,
                                    token_update_count: 1,
                                    authenticated_at: None,
                                    last_seen_at: Some(at),
                                    unenrolled_at: None,
                                    created_at: at,
                                    updated_at: at,
                                })
                                .execute(conn)?;
                        }
                    }
                    super::push::token_refreshed(conn, &t.enrollment_id, at)?;
                    let tally: i64 = enrollments::table.find(&t.enrollment_id).select(enrollments::token_update_count).first(conn)?;
                    let mut event = event;
                    let enrollment_type = event.data.get("enrollment_type").cloned().unwrap_or_default();
                    if let Some(data) = event.data.as_object_mut() {
                        data.insert("token_update_tally".into(), tally.into());
                    }
                    let mut list = vec![event];
                    if first {
                        list.push(
                            NewEvent::new(
                                topic::ENROLLED,
                                serde_json::json!({"enrollment_type": enrollment_type, "awaiting_configuration": t.awaiting_configuration, "user_short_name": t.user_short_name}),
                            )
                            .on(t.device_id.as_str(), t.enrollment_id.as_str()),
                        );
                    }
                    emit(conn, at, &list)?;
                    Ok(TokenUpdateOutcome { first })
                })
            })
            .await
    }

    /// Records a CheckOut: the enrollment (and, for the device channel, every user channel of the
    /// device) is disabled and its pending commands cancelled; history is kept. `event`
    /// (`enrollment.checked_out`) is written with the change.
    pub async fn checkout(&self, enrollment_id: String, event: NewEvent) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let at = now();
                    let e: Option<Enrollment> = enrollments::table.find(&enrollment_id).select(Enrollment::as_select()).first(conn).optional()?;
                    let Some(e) = e else {
                        return Err(StoreError::UnknownEnrollment(enrollment_id.clone()));
                    };
                    let ids: Vec<String> = if e.channel == "device" {
                        enrollments::table.filter(enrollments::device_id.eq(&e.device_id)).select(enrollments::id).load(conn)?
                    } else {
                        vec![e.id.clone()]
                    };
                    cancel_active_queue(conn, &e.device_id, &ids, at, "the device checked out")?;
                    diesel::update(enrollments::table.filter(enrollments::id.eq_any(&ids)))
                        .set((
                            enrollments::enabled.eq(false),
                            enrollments::unenrolled_at.eq(Some(at)),
                            enrollments::last_seen_at.eq(Some(at)),
                            enrollments::updated_at.eq(at),
                        ))
                        .execute(conn)?;
                    emit_one(conn, at, event)
                })
            })
            .await
    }

    /// Which device a certificate (hex SHA-256) is bound to, if any.
    pub async fn cert_device(&self, hash: String) -> StoreResult<Option<String>> {
        self.0.run(move |conn| bound_device(conn, &hash)).await
    }

    /// One enrollment by id.
    pub async fn enrollment(&self, id: String) -> StoreResult<Option<Enrollment>> {
        self.0.run(move |conn| Ok(enrollments::table.find(&id).select(Enrollment::as_select()).first(conn).optional()?)).await
    }

    /// One device by id.
    pub async fn device(&self, id: String) -> StoreResult<Option<Device>> {
        self.0.run(move |conn| Ok(devices::table.find(&id).select(Device::as_select()).first(conn).optional()?)).await
    }

    /// The device with this serial number (the most recently seen, should two claim it).
    pub async fn device_by_serial(&self, serial: String) -> StoreResult<Option<Device>> {
        self.0
            .run(move |conn| {
                Ok(devices::table
                    .filter(devices::serial_number.eq(&serial))
                    .order(devices::updated_at.desc())
                    .select(Device::as_select())
                    .first(conn)
                    .optional()?)
            })
            .await
    }

    /// Every device, ordered by id.
    pub async fn list(&self) -> StoreResult<Vec<Device>> {
        self.0.run(|conn| Ok(devices::table.order(devices::id).select(Device::as_select()).load(conn)?)).await
    }

    /// Every enrollment (channel) of a device.
    pub async fn device_enrollments(&self, device_id: String) -> StoreResult<Vec<Enrollment>> {
        self.0
            .run(move |conn| {
                Ok(enrollments::table.filter(enrollments::device_id.eq(&device_id)).order(enrollments::id).select(Enrollment::as_select()).load(conn)?)
            })
            .await
    }

    /// The enrollments among `ids` that exist.
    pub async fn enrollments_by_ids(&self, ids: Vec<String>) -> StoreResult<Vec<Enrollment>> {
        self.0
            .run(move |conn| {
                let mut out = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(1000) {
                    out.extend(
                        enrollments::table
                            .filter(enrollments::id.eq_any(chunk))
                            .filter(super::planned_per_call())
                            .select(Enrollment::as_select())
                            .load(conn)?,
                    );
                }
                Ok(out)
            })
            .await
    }

    /// Every enrollment, ordered by id.
    pub async fn enrollments(&self) -> StoreResult<Vec<Enrollment>> {
        self.0.run(|conn| Ok(enrollments::table.order(enrollments::id).select(Enrollment::as_select()).load(conn)?)).await
    }

    /// Stores an escrowed bootstrap token for a device, with `event`
    /// (`enrollment.bootstrap_token_set`).
    pub async fn set_bootstrap_token(&self, device_id: String, token: Option<Vec<u8>>, event: NewEvent) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let at = now();
                    let n =
                        diesel::update(devices::table.find(&device_id)).set((devices::bootstrap_token.eq(token), devices::updated_at.eq(at))).execute(conn)?;
                    if n == 0 {
                        return Err(StoreError::UnknownEnrollment(device_id.clone()));
                    }
                    emit_one(conn, at, event)
                })
            })
            .await
    }

    /// Reads a device's escrowed bootstrap token.
    pub async fn bootstrap_token(&self, device_id: String) -> StoreResult<Option<Vec<u8>>> {
        self.0
            .run(move |conn| {
                let t: Option<Option<Vec<u8>>> = devices::table.find(&device_id).select(devices::bootstrap_token).first(conn).optional()?;
                t.ok_or(StoreError::UnknownEnrollment(device_id))
            })
            .await
    }
}
