//! SCEP bookkeeping: one-time challenges (hashed) and every certificate issued.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::{ScepCert, ScepChallenge};
use super::schema::{scep_certs, scep_challenges};
use super::{write_tx, Store, StoreError, StoreResult};

/// SCEP issuing records and one-time challenges (reached through [`Store::scep`]).
#[derive(Debug, Clone)]
pub struct ScepStore(pub(super) Store);

impl ScepStore {
    /// Stores a new one-time challenge.
    pub async fn create_scep_challenge(&self, c: ScepChallenge) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                diesel::insert_into(scep_challenges::table).values(&c).execute(conn)?;
                Ok(())
            })
            .await
    }

    /// Records an issued certificate. With `challenge_hash`, the one-time challenge is consumed
    /// in the same transaction: if it is unknown, used or expired nothing is stored and the
    /// reason comes back as [`StoreError::Challenge`].
    pub async fn record_scep_cert(&self, mut cert: ScepCert, challenge_hash: Option<String>, at: NaiveDateTime) -> StoreResult<()> {
        self.0
            .run(move |conn| {
                write_tx(conn, |conn| {
                    if let Some(hash) = &challenge_hash {
                        let used = diesel::update(
                            scep_challenges::table
                                .filter(scep_challenges::challenge_hash.eq(hash))
                                .filter(scep_challenges::used_at.is_null())
                                .filter(scep_challenges::expires_at.gt(at)),
                        )
                        .set((scep_challenges::used_at.eq(Some(at)), scep_challenges::used_by.eq(Some(&cert.transaction_id))))
                        .execute(conn)?;
                        if used == 0 {
                            let row: Option<ScepChallenge> = scep_challenges::table
                                .filter(scep_challenges::challenge_hash.eq(hash))
                                .select(ScepChallenge::as_select())
                                .first(conn)
                                .optional()?;
                            let why = match row {
                                None => "unknown challenge".to_string(),
                                Some(c) if c.used_at.is_some() => format!("challenge {} was already used", c.id),
                                Some(c) => format!("challenge {} expired at {}", c.id, c.expires_at),
                            };
                            return Err(StoreError::Challenge(why));
                        }
                        cert.challenge_id =
                            scep_challenges::table.filter(scep_challenges::challenge_hash.eq(hash)).select(scep_challenges::id).first(conn).optional()?;
                    }
                    diesel::insert_into(scep_certs::table).values(&cert).execute(conn)?;
                    let (t, device) = match &cert.renewed_from {
                        Some(old) => (super::events::topic::SCEP_RENEWED, super::devices::bound_device(conn, old)?),
                        None => (super::events::topic::SCEP_ISSUED, None),
                    };
                    let data = serde_json::json!({
                        "serial": cert.serial, "subject": cert.subject, "not_after": crate::timefmt::text(&cert.not_after),
                        "requester": cert.requester, "challenge_id": cert.challenge_id,
                    });
                    let mut ev = super::events::NewEvent::new(t, data);
                    if let Some(d) = device {
                        ev = ev.on_device(d);
                    }
                    super::events::emit_one(conn, at, ev)
                })
            })
            .await
    }

    /// The issued certificate with this SHA-256 (hex), if it was issued here.
    pub async fn scep_cert_by_hash(&self, hash: String) -> StoreResult<Option<ScepCert>> {
        self.0.run(move |conn| Ok(scep_certs::table.filter(scep_certs::cert_hash.eq(hash)).select(ScepCert::as_select()).first(conn).optional()?)).await
    }

    /// The newest certificate issued for a SCEP transaction (GetCertInitial polling).
    pub async fn scep_cert_by_transaction(&self, transaction_id: String) -> StoreResult<Option<ScepCert>> {
        self.0
            .run(move |conn| {
                Ok(scep_certs::table
                    .filter(scep_certs::transaction_id.eq(transaction_id))
                    .order(scep_certs::created_at.desc())
                    .select(ScepCert::as_select())
                    .first(conn)
                    .optional()?)
            })
            .await
    }

    /// Issued certificates, newest first.
    pub async fn scep_certs(&self, limit: i64) -> StoreResult<Vec<ScepCert>> {
        self.0.run(move |conn| Ok(scep_certs::table.order(scep_certs::created_at.desc()).limit(limit).select(ScepCert::as_select()).load(conn)?)).await
    }
}

/// Called from Authenticate: the issued certificate with this hash now belongs to `device_id`.
pub fn bind_issued(conn: &mut super::DbConn, cert_hash: &str, device_id: &str) -> StoreResult<()> {
    diesel::update(scep_certs::table.filter(scep_certs::cert_hash.eq(cert_hash))).set(scep_certs::device_id.eq(Some(device_id))).execute(conn)?;
    Ok(())
}
