//! The SQLite path of the command endpoint: portable diesel queries inside `BEGIN IMMEDIATE`
//! (which serialises writers). PostgreSQL takes `postgres.rs` instead; both are exercised by
//! the same end-to-end suite.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{BindingCheck, Claimed, QueueStatus, ResultEffect};
use crate::store::events::NewEvent;
use crate::store::models::NewResultRow;
use crate::store::schema::{command_results, commands, enrollment_queue, enrollments};
use crate::store::{DbConn, StoreError, StoreResult};

/// Whether a claim may hand out a command the device answered NotNow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NotNow {
    /// At the start of a connection (Status Idle): NotNow commands are due again.
    Included,
    /// After a result: a command answered NotNow is never handed again in the same connection.
    Excluded,
}

/// The SQLite side of a [`BindingCheck`] (inside the caller's transaction).
fn check_binding(conn: &mut DbConn, check: Option<&BindingCheck>) -> StoreResult<()> {
    let Some(c) = check else { return Ok(()) };
    c.outcome(crate::store::devices::bound_device(conn, &c.cert_hash)?)
}

/// Claims the oldest deliverable command of an enrollment and counts the delivery.
pub(super) fn claim_next(conn: &mut DbConn, enrollment_id: &str, not_now: NotNow, at: NaiveDateTime) -> StoreResult<Option<Claimed>> {
    let pick = enrollment_queue::table
        .filter(enrollment_queue::enrollment_id.eq(enrollment_id))
        .order((enrollment_queue::priority.desc(), enrollment_queue::id.asc()))
        .select((enrollment_queue::id, enrollment_queue::command_uuid));
    let [queued, deferred] = QueueStatus::ACTIVE_SQL;
    // Two fixed filters rather than `eq_any`: diesel caches neither an `IN` list's statement nor
    // its plan, and this runs on every command fetch.
    let row: Option<(i64, String)> = match not_now {
        NotNow::Included => pick.filter(enrollment_queue::status.eq(queued).or(enrollment_queue::status.eq(deferred))).first(conn).optional()?,
        NotNow::Excluded => pick.filter(enrollment_queue::status.eq(queued)).first(conn).optional()?,
    };
    let Some((id, uuid)) = row else { return Ok(None) };
    diesel::update(enrollment_queue::table.find(id))
        .set((enrollment_queue::deliveries.eq(enrollment_queue::deliveries + 1), enrollment_queue::last_delivered_at.eq(Some(at))))
        .execute(conn)?;
    let body: Vec<u8> = commands::table.find(&uuid).select(commands::body).first(conn)?;
    Ok(Some(Claimed { uuid, body }))
}

/// Idle: moves last-seen and claims the next command (NotNow ones included), after the check.
pub(super) fn next(conn: &mut DbConn, enrollment_id: &str, check: Option<&BindingCheck>, at: NaiveDateTime) -> StoreResult<Option<Claimed>> {
    check_binding(conn, check)?;
    let seen = diesel::update(enrollments::table.find(enrollment_id)).set(enrollments::last_seen_at.eq(Some(at))).execute(conn)?;
    if seen == 0 {
        return Err(StoreError::UnknownEnrollment(enrollment_id.to_string()));
    }
    claim_next(conn, enrollment_id, NotNow::Included, at)
}

/// Records a report and claims the next command (NotNow ones excluded), after the check.
pub(super) fn report(conn: &mut DbConn, r: &super::RecordRequest, at: NaiveDateTime) -> StoreResult<(ResultEffect, Option<Claimed>)> {
    check_binding(conn, r.check.as_ref())?;
    let unknown_command = || StoreError::UnknownCommand { enrollment: r.enrollment_id.clone(), command: r.uuid.clone() };
    // last_seen_at moves on Idle (the start of every connection loop), not per result.
    let known: i64 = enrollments::table.filter(enrollments::id.eq(&r.enrollment_id)).count().get_result(conn)?;
    if known == 0 {
        return Err(StoreError::UnknownEnrollment(r.enrollment_id.clone()));
    }
    let row: Option<(i64, QueueStatus)> = enrollment_queue::table
        .filter(enrollment_queue::enrollment_id.eq(&r.enrollment_id))
        .filter(enrollment_queue::command_uuid.eq(&r.uuid))
        .select((enrollment_queue::id, enrollment_queue::status))
        .first::<(i64, String)>(conn)
        .optional()?
        .map(|(id, s)| QueueStatus::try_from(s).map(|s| (id, s)))
        .transpose()
        .map_err(|e| StoreError::Task(e.to_string()))?;
    let Some((row_id, current)) = row else { return Err(unknown_command()) };
    let effect = if !current.is_active() {
        ResultEffect::AlreadyDone
    } else {
        diesel::insert_into(command_results::table)
            .values(&NewResultRow {
                enrollment_id: r.enrollment_id.clone(),
                command_uuid: r.uuid.clone(),
                status: r.reported.as_str().to_string(),
                body: r.body.clone(),
                received_at: at,
            })
            .execute(conn)?;
        if let Some((topic, data)) = &r.event {
            let request_type: Option<String> = commands::table.find(&r.uuid).select(commands::request_type).first(conn).optional()?;
            let mut data: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
            if let Some(d) = data.as_object_mut() {
                d.insert("request_type".into(), request_type.into());
            }
            let ev = NewEvent::new(topic, data).on(r.device_id.as_str(), r.enrollment_id.as_str()).with_payload(r.body.clone());
            crate::store::events::emit_one(conn, at, ev)?;
        }
        if r.status == QueueStatus::NotNow {
            diesel::update(enrollment_queue::table.find(row_id))
                .set((enrollment_queue::status.eq(QueueStatus::NotNow.as_sql()), enrollment_queue::not_now_count.eq(enrollment_queue::not_now_count + 1)))
                .execute(conn)?;
            ResultEffect::Deferred
        } else {
            diesel::update(enrollment_queue::table.find(row_id))
                .set((enrollment_queue::status.eq(r.status.as_sql()), enrollment_queue::done_at.eq(Some(at))))
                .execute(conn)?;
            ResultEffect::Done
        }
    };
    let next = claim_next(conn, &r.enrollment_id, NotNow::Excluded, at)?;
    Ok((effect, next))
}
