//! Row types read from and written to the tables in [`super::schema`].

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::schema::{
    cert_bindings, command_results, commands, device_groups, device_profiles, devices, enrollment_queue, enrollments, profile_versions, profiles, push_certs,
    push_state, scep_certs, scep_challenges,
};

/// A device as last described by its Authenticate check-in.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Serialize)]
#[diesel(table_name = devices)]
pub struct Device {
    /// UDID, or EnrollmentID for User Enrollment.
    pub id: String,
    /// SerialNumber.
    pub serial_number: Option<String>,
    /// Model (e.g. MQ3D2LL/A).
    pub model: Option<String>,
    /// ModelName (e.g. iPhone).
    pub model_name: Option<String>,
    /// ProductName (e.g. iPhone15,2).
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
    /// Escrowed bootstrap token (never serialized to the API).
    #[serde(skip)]
    pub bootstrap_token: Option<Vec<u8>>,
    /// First Authenticate.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub created_at: NaiveDateTime,
    /// Last change.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub updated_at: NaiveDateTime,
}

/// A device certificate bound to a device on Authenticate.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = cert_bindings)]
pub struct CertBinding {
    /// Hex SHA-256 of the certificate's DER.
    pub cert_hash: String,
    /// The device it identifies.
    pub device_id: String,
    /// Subject, one line.
    pub subject: String,
    /// Issuer, one line.
    pub issuer: String,
    /// notAfter.
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub not_after: Option<NaiveDateTime>,
    /// When the binding was made.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub created_at: NaiveDateTime,
    /// The certificate (DER), so profiles can be encrypted to it. Not shown in the API.
    #[serde(skip)]
    pub cert_der: Option<Vec<u8>>,
}

/// One MDM channel of a device: the device channel (id = UDID) or a user channel (UDID:UserID).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = enrollments)]
pub struct Enrollment {
    /// Enrollment id.
    pub id: String,
    /// Device id this channel belongs to.
    pub device_id: String,
    /// `device` or `user`.
    pub channel: String,
    /// Device, User, UserEnrollmentDevice or UserEnrollment.
    pub enrollment_type: String,
    /// UserID for user channels.
    pub user_id: Option<String>,
    /// UserShortName.
    pub user_short_name: Option<String>,
    /// UserLongName.
    pub user_long_name: Option<String>,
    /// APNs topic.
    pub topic: String,
    /// PushMagic (secret: never serialized).
    #[serde(skip)]
    pub push_magic: Option<String>,
    /// APNs device token (secret: never serialized).
    #[serde(skip)]
    pub token: Option<Vec<u8>>,
    /// UnlockToken (secret: never serialized).
    #[serde(skip)]
    pub unlock_token: Option<Vec<u8>>,
    /// True after TokenUpdate, false after Authenticate (until TokenUpdate) and CheckOut.
    pub enabled: bool,
    /// The device waits for DeviceConfigured.
    pub awaiting_configuration: bool,
    /// How many TokenUpdates since the last Authenticate.
    pub token_update_count: i64,
    /// Last Authenticate.
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub authenticated_at: Option<NaiveDateTime>,
    /// Last request of any kind.
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub last_seen_at: Option<NaiveDateTime>,
    /// When CheckOut arrived.
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub unenrolled_at: Option<NaiveDateTime>,
    /// Row creation.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub created_at: NaiveDateTime,
    /// Last change.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub updated_at: NaiveDateTime,
}

/// A stored command (shared by every target it was queued for).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = commands)]
pub struct Command {
    /// CommandUUID.
    pub uuid: String,
    /// Command.RequestType.
    pub request_type: String,
    /// The full command plist as sent to devices.
    pub body: Vec<u8>,
    /// When it was enqueued.
    pub created_at: NaiveDateTime,
}

impl From<crate::protocol::command::CommandEnvelope> for Command {
    /// A command to store, enqueued now.
    fn from(env: crate::protocol::command::CommandEnvelope) -> Command {
        Command { uuid: env.uuid, request_type: env.request_type, body: env.body, created_at: super::now() }
    }
}

/// One command queued for one enrollment.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = enrollment_queue)]
pub struct QueueRow {
    /// Row id (orders the queue).
    pub id: i64,
    /// Target enrollment.
    pub enrollment_id: String,
    /// CommandUUID.
    pub command_uuid: String,
    /// Where the command stands for this enrollment.
    #[diesel(deserialize_as = String)]
    pub status: crate::queue::QueueStatus,
    /// Higher goes first.
    pub priority: i32,
    /// How many times the device answered NotNow.
    pub not_now_count: i32,
    /// How many times it was handed to the device.
    pub deliveries: i32,
    /// Last time it was handed out.
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub last_delivered_at: Option<NaiveDateTime>,
    /// When it left the queue.
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub done_at: Option<NaiveDateTime>,
    /// When it was queued.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub created_at: NaiveDateTime,
}

/// A new queue row.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = enrollment_queue)]
pub struct NewQueueRow {
    /// Target enrollment.
    pub enrollment_id: String,
    /// CommandUUID.
    pub command_uuid: String,
    /// Always [`crate::queue::QueueStatus::Queued`] on insert, as stored.
    pub status: &'static str,
    /// Higher goes first.
    pub priority: i32,
    /// 0.
    pub not_now_count: i32,
    /// 0.
    pub deliveries: i32,
    /// Now.
    pub created_at: NaiveDateTime,
}

/// A result reported by a device (every report is kept, NotNow included).
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = command_results)]
pub struct ResultRow {
    /// Row id.
    pub id: i64,
    /// Reporting enrollment.
    pub enrollment_id: String,
    /// CommandUUID.
    pub command_uuid: String,
    /// Status as reported (Acknowledged, Error, CommandFormatError, NotNow).
    pub status: String,
    /// The raw result plist.
    #[serde(skip)]
    pub body: Vec<u8>,
    /// When it arrived.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub received_at: NaiveDateTime,
}

/// A new result row.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = command_results)]
pub struct NewResultRow {
    /// Reporting enrollment.
    pub enrollment_id: String,
    /// CommandUUID.
    pub command_uuid: String,
    /// Status as reported.
    pub status: String,
    /// The raw result plist.
    pub body: Vec<u8>,
    /// Now.
    pub received_at: NaiveDateTime,
}

/// A stored APNs push certificate; the private key is sealed and never serialized.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = push_certs)]
pub struct PushCertRow {
    /// APNs topic (the certificate's UID).
    pub topic: String,
    /// Subject, one line.
    pub subject: String,
    /// Certificate chain, leaf first (PEM).
    pub cert_chain_pem: String,
    /// PKCS#8 private key sealed with the secrets key (see `crate::secrets`).
    pub key_sealed: Vec<u8>,
    /// Start of validity.
    pub not_before: NaiveDateTime,
    /// End of validity.
    pub not_after: NaiveDateTime,
    /// First import.
    pub created_at: NaiveDateTime,
    /// Last import (renewal).
    pub updated_at: NaiveDateTime,
}

/// An enrollment's push schedule and last outcome.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = push_state)]
pub struct PushState {
    /// Enrollment id.
    #[serde(skip)]
    pub enrollment_id: String,
    /// Next (re-)push, if one is scheduled.
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub next_push_at: Option<NaiveDateTime>,
    /// Pushes sent since commands were last queued.
    pub attempts: i32,
    /// Last push attempt.
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub last_push_at: Option<NaiveDateTime>,
    /// Last result (`sent`, `unregistered`, `bad_token`, `certificate`, `retry`, `error`).
    pub last_result: Option<String>,
    /// Last failure reason.
    pub last_error: Option<String>,
    /// When APNs said the token is no longer valid; no pushes until the next TokenUpdate.
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub token_stale_at: Option<NaiveDateTime>,
    /// Last change.
    #[serde(skip)]
    pub updated_at: NaiveDateTime,
    /// The device's last TokenUpdate.
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub token_updated_at: Option<NaiveDateTime>,
}

/// A certificate issued over SCEP.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = scep_certs)]
pub struct ScepCert {
    /// Serial number, hex.
    pub serial: String,
    /// Subject, one line.
    pub subject: String,
    /// Start of validity.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub not_before: NaiveDateTime,
    /// End of validity.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub not_after: NaiveDateTime,
    /// The certificate (DER).
    #[serde(skip)]
    pub cert_der: Vec<u8>,
    /// SHA-256 of the DER, hex (what device bindings use).
    pub cert_hash: String,
    /// Who asked: `one-time-challenge`, `static-challenge`, `renewal:<serial>`.
    pub requester: String,
    /// The SCEP transactionID.
    pub transaction_id: String,
    /// The device it was bound to at Authenticate, once it was.
    pub device_id: Option<String>,
    /// When it was issued.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub created_at: NaiveDateTime,
    /// The one-time challenge it was requested with, when it was.
    pub challenge_id: Option<String>,
    /// For a renewal: the certificate (SHA-256, hex) that signed the request.
    pub renewed_from: Option<String>,
}

/// A one-time SCEP challenge (only its hash is stored).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = scep_challenges)]
pub struct ScepChallenge {
    /// Id.
    pub id: String,
    /// SHA-256 of the value, hex.
    #[serde(skip)]
    pub challenge_hash: String,
    /// Admin's note (e.g. who it is for).
    pub note: Option<String>,
    /// Created.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub created_at: NaiveDateTime,
    /// Not usable after this.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub expires_at: NaiveDateTime,
    /// When it was used.
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub used_at: Option<NaiveDateTime>,
    /// The SCEP transaction that used it.
    pub used_by: Option<String>,
}

/// A profile in the library.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = profiles)]
pub struct ProfileRow {
    /// Server id.
    pub id: String,
    /// The profile's PayloadIdentifier (unique in the library).
    pub identifier: String,
    /// PayloadDisplayName, or the identifier.
    pub name: String,
    /// The current version (1, 2, ...).
    pub version: i32,
    /// Created.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub created_at: NaiveDateTime,
    /// Last changed.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub updated_at: NaiveDateTime,
}

/// One stored version of a profile.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = profile_versions)]
pub struct ProfileVersion {
    /// The profile.
    pub profile_id: String,
    /// Version number.
    pub version: i32,
    /// Top-level PayloadUUID of this version.
    pub payload_uuid: String,
    /// The unsigned profile, XML plist, variables unexpanded.
    #[serde(skip)]
    pub body: Vec<u8>,
    /// `json`, `upload` or `upload-signed`.
    pub source: String,
    /// Subject of the uploaded profile's signer, when it was signed.
    pub signer: Option<String>,
    /// Created.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub created_at: NaiveDateTime,
}

/// A named group of devices.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = device_groups)]
pub struct DeviceGroup {
    /// Name (the group's id).
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Created.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub created_at: NaiveDateTime,
}

/// Where one library profile stands on one enrollment.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = device_profiles)]
pub struct DeviceProfile {
    /// The enrollment (device channel).
    pub enrollment_id: String,
    /// The library profile.
    pub profile_id: String,
    /// Its PayloadIdentifier (what ProfileList reports).
    pub identifier: String,
    /// The version sent.
    pub version: i32,
    /// That version's PayloadUUID.
    pub payload_uuid: String,
    /// `pending` (InstallProfile queued), `installed` (acknowledged), `verified` (seen in
    /// ProfileList), `failed`, or `removing` (RemoveProfile queued).
    pub status: String,
    /// The InstallProfile/RemoveProfile command in flight or last answered.
    pub command_uuid: Option<String>,
    /// Why it failed, or what happened last.
    pub detail: Option<String>,
    /// How often it was re-sent because it disappeared from the device.
    pub reinstalls: i32,
    /// Last change.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub updated_at: NaiveDateTime,
    /// When a ProfileList check was last queued or answered for the enrollment.
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub checked_at: Option<NaiveDateTime>,
}
