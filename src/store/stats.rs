//! Figures for `/metrics`, read at scrape time: the queue's depth and its oldest waiting
//! command, enrolled devices, SCEP certificates issued, profile and app install states, and each
//! webhook's backlog.
//! Each is one aggregate query; the enrollment, install-state and SCEP ones read their whole
//! tables (a few milliseconds per scrape at fleet size), the queue one only waiting rows.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{device_apps, device_profiles, enrollment_queue, scep_certs};
use super::{Store, StoreResult};
use crate::queue::QueueStatus;

/// One snapshot of the gauges.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Queue rows waiting for a device (queued or answered NotNow).
    pub queue_depth: i64,
    /// When the oldest of them was queued.
    pub oldest_queued_at: Option<NaiveDateTime>,
    /// Enrollments by channel (`device`, `user`) and state (`enrolled`, `pending`, `checked_out`).
    pub enrollments: Vec<(String, String, i64)>,
    /// Certificates issued over SCEP.
    pub scep_issued: i64,
    /// Library profiles per device by install state.
    pub profiles: Vec<(String, i64)>,
    /// Managed apps per device by install state.
    pub apps: Vec<(String, i64)>,
    /// Each enabled webhook's backlog.
    pub webhooks: Vec<super::webhooks::Backlog>,
}

/// Enrollments of one channel in one state (0 pending, 1 enrolled, 2 checked out).
#[derive(QueryableByName)]
struct EnrollmentCount {
    #[diesel(sql_type = diesel::sql_types::Text)]
    channel: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    state: i32,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// The stats handle (see [`Store::stats`]).
#[derive(Debug, Clone)]
pub struct StatsStore(pub(super) Store);

impl StatsStore {
    /// Reads every figure.
    pub async fn snapshot(&self) -> StoreResult<Snapshot> {
        self.0
            .run(|conn| {
                let waiting = [QueueStatus::Queued.as_sql(), QueueStatus::NotNow.as_sql()];
                let (queue_depth, oldest_queued_at): (i64, Option<NaiveDateTime>) = enrollment_queue::table
                    .filter(enrollment_queue::status.eq_any(waiting))
                    .select((diesel::dsl::count_star(), diesel::dsl::min(enrollment_queue::created_at)))
                    .first(conn)?;
                let rows: Vec<EnrollmentCount> = diesel::sql_query(
                    "SELECT channel, CASE WHEN unenrolled_at IS NOT NULL THEN 2 WHEN enabled THEN 1 ELSE 0 END AS state, COUNT(*) AS n \
                     FROM enrollments GROUP BY channel, CASE WHEN unenrolled_at IS NOT NULL THEN 2 WHEN enabled THEN 1 ELSE 0 END",
                )
                .load(conn)?;
                let enrollments = rows
                    .into_iter()
                    .map(|r| {
                        let state = match r.state {
                            2 => "checked_out",
                            1 => "enrolled",
                            _ => "pending",
                        };
                        (r.channel, state.to_string(), r.n)
                    })
                    .collect();
                let scep_issued = scep_certs::table.count().get_result(conn)?;
                let profiles =
                    device_profiles::table.group_by(device_profiles::status).select((device_profiles::status, diesel::dsl::count_star())).load(conn)?;
                let apps = device_apps::table.group_by(device_apps::status).select((device_apps::status, diesel::dsl::count_star())).load(conn)?;
                let webhooks = super::webhooks::backlogs(conn)?;
                Ok(Snapshot { queue_depth, oldest_queued_at, enrollments, scep_issued, profiles, apps, webhooks })
            })
            .await
    }
}
