//! The event outbox: every state change worth knowing is written here by [`emit`], inside the
//! transaction of the change, and numbered after the commit by [`EventStore::sequence`].
//!
//! Why two keys: on PostgreSQL a sequence value is taken at insert time but transactions commit
//! in any order, so a reader that trusted the insertion key could see row 11, move past it and
//! never see row 10 committed a moment later. The public `id` is therefore handed out by the
//! sequencer, in insertion order, only to rows whose transaction is older than every
//! transaction still running (`xid < pg_snapshot_xmin(pg_current_snapshot())`): no row can later
//! appear below an id already handed out, so a cursor over `id` never skips one. SQLite has one
//! writer at a time, so every committed row is numbered at once.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::schema::{event_sequence, events, webhook_dead_letters, webhooks};
use super::{write_tx, DbConn, Store, StoreResult};

/// Every topic the outbox writes, by concern. Webhook topic filters and the feed's `topics`
/// take these names; docs/EVENTS.md documents each one's `data`.
pub mod topic {
    /// A device sent Authenticate (its enrollment was reset).
    pub const AUTHENTICATED: &str = "enrollment.authenticated";
    /// The first TokenUpdate after Authenticate: the enrollment is enabled.
    pub const ENROLLED: &str = "enrollment.enrolled";
    /// Every TokenUpdate (the first one included).
    pub const TOKEN_UPDATED: &str = "enrollment.token_updated";
    /// CheckOut: the device left management.
    pub const CHECKED_OUT: &str = "enrollment.checked_out";
    /// UserAuthenticate.
    pub const USER_AUTHENTICATED: &str = "enrollment.user_authenticated";
    /// SetBootstrapToken (the token itself is never in the event).
    pub const BOOTSTRAP_TOKEN_SET: &str = "enrollment.bootstrap_token_set";
    /// GetBootstrapToken.
    pub const BOOTSTRAP_TOKEN_FETCHED: &str = "enrollment.bootstrap_token_fetched";
    /// GetToken (answered as unsupported).
    pub const GET_TOKEN: &str = "enrollment.get_token";
    /// A DeclarativeManagement check-in.
    pub const DECLARATIVE_CHECKIN: &str = "declarative.checkin";
    /// A command was queued for an enrollment.
    pub const COMMAND_QUEUED: &str = "command.queued";
    /// A queued command was cancelled (by an admin, an Authenticate or a CheckOut).
    pub const COMMAND_CANCELLED: &str = "command.cancelled";
    /// Result Acknowledged.
    pub const COMMAND_ACKNOWLEDGED: &str = "command.acknowledged";
    /// Result Error.
    pub const COMMAND_ERROR: &str = "command.error";
    /// Result NotNow.
    pub const COMMAND_NOT_NOW: &str = "command.not_now";
    /// Result CommandFormatError.
    pub const COMMAND_FORMAT_ERROR: &str = "command.format_error";
    /// A profile's install was acknowledged.
    pub const PROFILE_INSTALLED: &str = "profile.installed";
    /// A ProfileList showed the profile at its version.
    pub const PROFILE_VERIFIED: &str = "profile.verified";
    /// An install or removal failed.
    pub const PROFILE_FAILED: &str = "profile.failed";
    /// A profile missing from a ProfileList (drift) was sent again.
    pub const PROFILE_RESENT: &str = "profile.resent";
    /// A profile's removal was confirmed.
    pub const PROFILE_REMOVED: &str = "profile.removed";
    /// A managed app's install was accepted.
    pub const APP_INSTALLED: &str = "app.installed";
    /// An app install, removal or configuration failed.
    pub const APP_FAILED: &str = "app.failed";
    /// A required app was missing from the device's app list.
    pub const APP_MISSING: &str = "app.missing";
    /// A missing app was installed again.
    pub const APP_REINSTALLED: &str = "app.reinstalled";
    /// An app's AppConfig was applied.
    pub const APP_CONFIGURED: &str = "app.configured";
    /// A managed app was removed.
    pub const APP_REMOVED: &str = "app.removed";
    /// APNs refused a push.
    pub const PUSH_FAILED: &str = "push.failed";
    /// APNs said the device token is no longer valid.
    pub const PUSH_TOKEN_STALE: &str = "push.token_stale";
    /// The push certificate expires within 30 days.
    pub const PUSH_CERT_EXPIRING: &str = "push_cert.expiring";
    /// The push certificate has expired.
    pub const PUSH_CERT_EXPIRED: &str = "push_cert.expired";
    /// A SCEP certificate was issued.
    pub const SCEP_ISSUED: &str = "scep.issued";
    /// A SCEP certificate was renewed (signed by the certificate it replaces).
    pub const SCEP_RENEWED: &str = "scep.renewed";
    /// An over-the-air enrollment session reached its last phase.
    pub const OTA_COMPLETED: &str = "ota.completed";
    /// An admin change (a line of the audit log).
    pub const ADMIN_CHANGE: &str = "admin.change";
    /// A shared device was checked out to a user.
    pub const SHARED_CHECKOUT: &str = "shared.checkout";
    /// A shared device was checked in (it is back with its staging user).
    pub const SHARED_CHECKIN: &str = "shared.checkin";
    /// A connector call failed for good (every attempt failed).
    pub const CONNECTOR_FAILED: &str = "connector.failed";
    /// A device's compliance status changed.
    pub const COMPLIANCE_CHANGED: &str = "compliance.changed";

    /// Every topic, in the order docs/EVENTS.md lists them.
    pub const ALL: &[&str] = &[
        AUTHENTICATED,
        ENROLLED,
        TOKEN_UPDATED,
        CHECKED_OUT,
        USER_AUTHENTICATED,
        BOOTSTRAP_TOKEN_SET,
        BOOTSTRAP_TOKEN_FETCHED,
        GET_TOKEN,
        DECLARATIVE_CHECKIN,
        COMMAND_QUEUED,
        COMMAND_CANCELLED,
        COMMAND_ACKNOWLEDGED,
        COMMAND_ERROR,
        COMMAND_NOT_NOW,
        COMMAND_FORMAT_ERROR,
        PROFILE_INSTALLED,
        PROFILE_VERIFIED,
        PROFILE_FAILED,
        PROFILE_RESENT,
        PROFILE_REMOVED,
        APP_INSTALLED,
        APP_FAILED,
        APP_MISSING,
        APP_REINSTALLED,
        APP_CONFIGURED,
        APP_REMOVED,
        PUSH_FAILED,
        PUSH_TOKEN_STALE,
        PUSH_CERT_EXPIRING,
        PUSH_CERT_EXPIRED,
        SCEP_ISSUED,
        SCEP_RENEWED,
        OTA_COMPLETED,
        ADMIN_CHANGE,
        SHARED_CHECKOUT,
        SHARED_CHECKIN,
        CONNECTOR_FAILED,
        COMPLIANCE_CHANGED,
    ];

    /// The topic of a command result with this reported status (`None` for Idle).
    pub fn of_result(status: crate::protocol::report::Status) -> Option<&'static str> {
        use crate::protocol::report::Status as S;
        match status {
            S::Idle => None,
            S::Acknowledged => Some(COMMAND_ACKNOWLEDGED),
            S::Error => Some(COMMAND_ERROR),
            S::NotNow => Some(COMMAND_NOT_NOW),
            S::CommandFormatError => Some(COMMAND_FORMAT_ERROR),
        }
    }

    /// The topic of an app event of this kind (as `app_events.kind` spells it).
    pub fn of_app(kind: &str) -> Option<&'static str> {
        ALL.iter().copied().find(|t| t.strip_prefix("app.") == Some(kind))
    }
}

/// One event to write.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// One of [`topic::ALL`].
    pub topic: &'static str,
    /// The device it concerns.
    pub device_id: Option<String>,
    /// The enrollment (channel) it concerns.
    pub enrollment_id: Option<String>,
    /// The topic's fields (docs/EVENTS.md).
    pub data: serde_json::Value,
    /// The raw plist the device sent, secrets removed (check-ins and results).
    pub payload: Option<Vec<u8>>,
}

impl NewEvent {
    /// An event of `topic` about nothing in particular.
    pub fn new(topic: &'static str, data: serde_json::Value) -> NewEvent {
        NewEvent { topic, device_id: None, enrollment_id: None, data, payload: None }
    }

    /// The same, about an enrollment of a device.
    pub fn on(self, device_id: impl Into<String>, enrollment_id: impl Into<String>) -> NewEvent {
        NewEvent { device_id: Some(device_id.into()), enrollment_id: Some(enrollment_id.into()), ..self }
    }

    /// The same, about a device (no particular channel).
    pub fn on_device(self, device_id: impl Into<String>) -> NewEvent {
        NewEvent { device_id: Some(device_id.into()), ..self }
    }

    /// The same, with the raw plist the device sent.
    pub fn with_payload(self, payload: Vec<u8>) -> NewEvent {
        NewEvent { payload: Some(payload), ..self }
    }
}

/// A row as the outbox holds it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct EventRow {
    /// Insertion key.
    pub pk: i64,
    /// Public id (`None` until sequenced).
    pub id: Option<i64>,
    /// Topic.
    pub topic: String,
    /// Device.
    pub device_id: Option<String>,
    /// Enrollment.
    pub enrollment_id: Option<String>,
    /// JSON `data`.
    pub body: String,
    /// Raw plist.
    pub payload: Option<Vec<u8>>,
    /// When the change happened.
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = events)]
struct Insert<'a> {
    topic: &'a str,
    device_id: Option<&'a str>,
    enrollment_id: Option<&'a str>,
    body: String,
    payload: Option<&'a [u8]>,
    created_at: NaiveDateTime,
}

/// Writes `list` into the outbox on `conn`, which must be inside the transaction of the change
/// the events report. One multi-row insert per thousand events.
pub(crate) fn emit(conn: &mut DbConn, at: NaiveDateTime, list: &[NewEvent]) -> StoreResult<()> {
    debug_assert!(list.iter().all(|e| topic::ALL.contains(&e.topic)), "unlisted topic");
    for chunk in list.chunks(1000) {
        let rows: Vec<Insert<'_>> = chunk
            .iter()
            .map(|e| Insert {
                topic: e.topic,
                device_id: e.device_id.as_deref(),
                enrollment_id: e.enrollment_id.as_deref(),
                body: e.data.to_string(),
                payload: e.payload.as_deref(),
                created_at: at,
            })
            .collect();
        match conn {
            DbConn::Pg(c) => diesel::insert_into(events::table).values(&rows).execute(c)?,
            DbConn::Sqlite(c) => diesel::insert_into(events::table).values(&rows).execute(c)?,
        };
    }
    Ok(())
}

/// The device of each of `ids` (enrollment ids) that exists, for events about enrollments.
pub(crate) fn devices_of(conn: &mut DbConn, ids: &[&str]) -> StoreResult<std::collections::HashMap<String, String>> {
    use super::schema::enrollments;
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(1000) {
        let rows: Vec<(String, String)> = enrollments::table
            .filter(enrollments::id.eq_any(chunk))
            .filter(super::planned_per_call())
            .select((enrollments::id, enrollments::device_id))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// Writes one event on `conn` (inside the change's transaction).
pub(crate) fn emit_one(conn: &mut DbConn, at: NaiveDateTime, e: NewEvent) -> StoreResult<()> {
    emit(conn, at, std::slice::from_ref(&e))
}

/// Numbers up to this many committed rows per pass.
const SEQUENCE_BATCH: i64 = 10_000;

/// PostgreSQL's pass (see the module comment). Serialized across replicas by the lock on
/// `event_sequence`; a replica that finds it locked skips the pass.
const PG_SEQUENCE_SQL: &str = "
WITH seq AS (
    SELECT last_id FROM event_sequence WHERE one = 1 FOR UPDATE SKIP LOCKED
), pick AS (
    SELECT e.pk, seq.last_id + row_number() OVER (ORDER BY e.pk) AS n
    FROM events e CROSS JOIN seq
    WHERE e.id IS NULL AND e.xid < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY e.pk
    LIMIT $1
), upd AS (
    UPDATE events e SET id = pick.n FROM pick WHERE e.pk = pick.pk RETURNING pick.n
), fin AS (
    UPDATE event_sequence SET last_id = (SELECT MAX(n) FROM upd) WHERE one = 1 AND EXISTS (SELECT 1 FROM upd)
    RETURNING last_id
)
SELECT COUNT(*) AS n FROM upd";

/// SQLite's pass, inside `BEGIN IMMEDIATE` (no other writer can be running).
const SQLITE_SEQUENCE_SQL: &str = "
UPDATE events SET id = p.n FROM (
    SELECT pk, (SELECT last_id FROM event_sequence WHERE one = 1) + row_number() OVER (ORDER BY pk) AS n
    FROM events WHERE id IS NULL ORDER BY pk LIMIT ?
) AS p WHERE events.pk = p.pk";

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// What a feed query asks for.
#[derive(Debug, Clone, Default)]
pub struct FeedQuery {
    /// Events after this id (`None`: from the oldest kept).
    pub after: Option<i64>,
    /// Only these topics (empty: all).
    pub topics: Vec<String>,
    /// Only this device.
    pub device: Option<String>,
    /// At most this many.
    pub limit: i64,
}

/// A feed page.
#[derive(Debug, Clone)]
pub enum Feed {
    /// The events, oldest first.
    Page(Vec<EventRow>),
    /// `after` lies below what retention removed: the consumer missed events.
    Pruned {
        /// Every id up to this one may have been removed.
        pruned_through: i64,
    },
}

/// The outbox (reached through [`Store::events`]).
#[derive(Debug, Clone)]
pub struct EventStore(pub(super) Store);

impl EventStore {
    /// Numbers committed rows (see the module comment); returns how many it numbered.
    pub async fn sequence(&self) -> StoreResult<usize> {
        self.0
            .run(|conn| {
                let pending: bool = diesel::select(diesel::dsl::exists(events::table.filter(events::id.is_null()))).get_result(conn)?;
                if !pending {
                    return Ok(0);
                }
                match conn {
                    DbConn::Pg(_) => {
                        let c: Count = diesel::sql_query(PG_SEQUENCE_SQL).bind::<BigInt, _>(SEQUENCE_BATCH).get_result(conn)?;
                        Ok(c.n as usize)
                    }
                    DbConn::Sqlite(_) => write_tx(conn, |conn| {
                        let n = diesel::sql_query(SQLITE_SEQUENCE_SQL).bind::<BigInt, _>(SEQUENCE_BATCH).execute(conn)?;
                        diesel::sql_query("UPDATE event_sequence SET last_id = MAX(last_id, COALESCE((SELECT MAX(id) FROM events), 0)) WHERE one = 1")
                            .execute(conn)?;
                        Ok(n)
                    }),
                }
            })
            .await
    }

    /// Writes events that go with no other change (a check-in that stores nothing else).
    pub async fn write(&self, list: Vec<NewEvent>) -> StoreResult<()> {
        self.0.run(move |conn| emit(conn, super::now(), &list)).await
    }

    /// Writes `e` unless an event of its topic with the same `data` exists (for conditions
    /// found by a periodic check, such as a push certificate about to expire: one event per
    /// condition, not one per check). Returns whether it wrote it.
    pub async fn write_once(&self, e: NewEvent) -> StoreResult<bool> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let body = e.data.to_string();
                    let seen: bool =
                        diesel::select(diesel::dsl::exists(events::table.filter(events::topic.eq(e.topic)).filter(events::body.eq(&body)))).get_result(conn)?;
                    if seen {
                        return Ok(false);
                    }
                    emit_one(conn, super::now(), e)?;
                    Ok(true)
                })
            })
            .await
    }

    /// A page of the feed, oldest first.
    pub async fn feed(&self, q: FeedQuery) -> StoreResult<Feed> {
        self.0
            .run(move |conn| {
                let pruned: i64 = event_sequence::table.find(1).select(event_sequence::pruned_through).first(conn)?;
                if q.after.is_some_and(|a| a < pruned) {
                    return Ok(Feed::Pruned { pruned_through: pruned });
                }
                let mut sel =
                    events::table.filter(events::id.gt(q.after.unwrap_or(0))).order(events::id.asc()).limit(q.limit).select(EventRow::as_select()).into_boxed();
                if !q.topics.is_empty() {
                    sel = sel.filter(events::topic.eq_any(q.topics));
                }
                if let Some(d) = q.device {
                    sel = sel.filter(events::device_id.eq(d));
                }
                Ok(Feed::Page(sel.load(conn)?))
            })
            .await
    }

    /// Removes events older than `cutoff` that every enabled webhook has passed and none holds
    /// as a dead letter (dead letters older than `cutoff` go first); returns how many went.
    pub async fn prune(&self, cutoff: NaiveDateTime) -> StoreResult<usize> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    diesel::delete(webhook_dead_letters::table.filter(webhook_dead_letters::dead_at.lt(cutoff))).execute(conn)?;
                    let last: i64 = event_sequence::table.find(1).select(event_sequence::last_id).first(conn)?;
                    let slowest: Option<i64> = webhooks::table.filter(webhooks::enabled.eq(true)).select(diesel::dsl::min(webhooks::cursor)).first(conn)?;
                    let upto = slowest.unwrap_or(last).min(last);
                    let held = webhook_dead_letters::table.select(webhook_dead_letters::event_id);
                    let doomed = events::table
                        .filter(events::id.le(upto))
                        .filter(events::created_at.lt(cutoff))
                        .filter(diesel::dsl::not(events::id.assume_not_null().eq_any(held)))
                        .order(events::id.asc())
                        .limit(10_000)
                        .select(events::pk);
                    let ids: Vec<i64> = doomed.load(conn)?;
                    if ids.is_empty() {
                        return Ok(0);
                    }
                    let top: Option<i64> = events::table.filter(events::pk.eq_any(&ids)).select(diesel::dsl::max(events::id)).first(conn)?;
                    let n = diesel::delete(events::table.filter(events::pk.eq_any(&ids))).execute(conn)?;
                    if let Some(top) = top {
                        diesel::update(event_sequence::table.find(1).filter(event_sequence::pruned_through.lt(top)))
                            .set(event_sequence::pruned_through.eq(top))
                            .execute(conn)?;
                    }
                    Ok(n)
                })
            })
            .await
    }
}
