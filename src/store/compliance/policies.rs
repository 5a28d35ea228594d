//! Policies and the fleet-wide sweep.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{ComplianceStore, PolicyRow, SweepRow};
use crate::store::schema::{compliance_policies, compliance_sweep};
use crate::store::{write_tx, StoreError, StoreResult};

impl ComplianceStore {
    /// Every policy, by name.
    pub async fn policies(&self) -> StoreResult<Vec<PolicyRow>> {
        self.0.run(|conn| Ok(compliance_policies::table.order(compliance_policies::name).select(PolicyRow::as_select()).load(conn)?)).await
    }

    /// One policy by id or name.
    pub async fn policy(&self, key: String) -> StoreResult<Option<PolicyRow>> {
        self.0
            .run(move |conn| {
                Ok(compliance_policies::table
                    .filter(compliance_policies::id.eq(&key).or(compliance_policies::name.eq(&key)))
                    .select(PolicyRow::as_select())
                    .first(conn)
                    .optional()?)
            })
            .await
    }

    /// Stores a new policy (its name must be free) or replaces one (by id).
    pub async fn put_policy(&self, row: PolicyRow, create: bool) -> StoreResult<PolicyRow> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    let taken: i64 = compliance_policies::table
                        .filter(compliance_policies::name.eq(&row.name))
                        .filter(compliance_policies::id.ne(&row.id))
                        .count()
                        .get_result(conn)?;
                    if taken > 0 {
                        return Err(StoreError::Conflict(format!("a policy named {} exists", row.name)));
                    }
                    if create {
                        diesel::insert_into(compliance_policies::table).values(&row).execute(conn)?;
                    } else if diesel::update(compliance_policies::table.find(&row.id)).set(&row).execute(conn)? == 0 {
                        return Err(StoreError::NotFound(format!("no policy {}", row.id)));
                    }
                    Ok(row)
                })
            })
            .await
    }

    /// Deletes a policy; false when there was none.
    pub async fn delete_policy(&self, id: String) -> StoreResult<bool> {
        self.0.run(move |conn| Ok(diesel::delete(compliance_policies::table.find(id)).execute(conn)? > 0)).await
    }

    /// Asks for a fleet-wide evaluation (after a policy change).
    pub async fn request_sweep(&self, reason: String) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                diesel::update(compliance_sweep::table.find(1))
                    .set((compliance_sweep::requested_at.eq(Some(crate::store::now())), compliance_sweep::reason.eq(Some(reason))))
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    /// Claims the next sweep for `owner` when one is asked for or the last one started before
    /// `due_before`, and no other replica runs one (a pass left unfinished for `stale` is
    /// taken over). Returns the reason.
    pub async fn claim_sweep(&self, owner: String, due_before: NaiveDateTime, stale: NaiveDateTime) -> StoreResult<Option<String>> {
        self.0
            .run(move |conn| {
                // Whether a pass is due and nobody runs one; asked every few seconds by every
                // replica, so answered by a read, and the write taken only to claim.
                let wanted = |s: &SweepRow| {
                    let running = s.started_at.is_some() && s.finished_at.is_none() && s.started_at.is_some_and(|t| t > stale);
                    let asked = s.requested_at.is_some_and(|r| s.started_at.is_none_or(|st| r >= st));
                    let due = s.started_at.is_none_or(|t| t < due_before);
                    (!running && (asked || due)).then_some(asked)
                };
                let first: SweepRow = compliance_sweep::table.find(1).select(SweepRow::as_select()).first(conn)?;
                if wanted(&first).is_none() {
                    return Ok(None);
                }
                write_tx(conn, |conn| {
                    let s: SweepRow = compliance_sweep::table.find(1).select(SweepRow::as_select()).first(conn)?;
                    let Some(asked) = wanted(&s) else { return Ok(None) };
                    let reason = if asked { s.reason.clone().unwrap_or_else(|| "requested".into()) } else { "schedule".into() };
                    let at = crate::store::now();
                    let values = (
                        compliance_sweep::started_at.eq(Some(at)),
                        compliance_sweep::finished_at.eq(None::<NaiveDateTime>),
                        compliance_sweep::owner.eq(Some(&owner)),
                        compliance_sweep::reason.eq(Some(&reason)),
                        compliance_sweep::evaluated.eq(0),
                        compliance_sweep::changed.eq(0),
                    );
                    // Compare-and-set on the start time read above: one replica wins.
                    let n = match s.started_at {
                        Some(t) => diesel::update(compliance_sweep::table.find(1).filter(compliance_sweep::started_at.eq(t))).set(values).execute(conn)?,
                        None => diesel::update(compliance_sweep::table.find(1).filter(compliance_sweep::started_at.is_null())).set(values).execute(conn)?,
                    };
                    Ok((n == 1).then_some(reason))
                })
            })
            .await
    }

    /// Records a sweep's progress (`done`: it finished).
    pub async fn sweep_progress(&self, owner: String, evaluated: i64, changed: i64, done: bool) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                let finished = done.then(crate::store::now);
                diesel::update(compliance_sweep::table.find(1).filter(compliance_sweep::owner.eq(owner)))
                    .set((compliance_sweep::evaluated.eq(evaluated), compliance_sweep::changed.eq(changed), compliance_sweep::finished_at.eq(finished)))
                    .execute(conn)?;
                Ok(())
            })
            .await
    }

    /// The last sweep.
    pub async fn sweep(&self) -> StoreResult<SweepRow> {
        self.0.run(|conn| Ok(compliance_sweep::table.find(1).select(SweepRow::as_select()).first(conn)?)).await
    }
}
