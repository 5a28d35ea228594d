//! Certificate bindings on Authenticate: gathers the [`Facts`] the binding rule
//! ([`crate::identity::binding`]) needs, inside the Authenticate transaction, and applies its
//! answer. A refusal leaves everything as it was (the transaction rolls back).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::devices::CertInfo;
use super::models::{CertBinding, Enrollment};
use super::schema::{cert_bindings, devices, enrollments, scep_certs};
use super::{DbConn, Store, StoreError, StoreResult};
use crate::identity::binding::{decide, Admission, Facts, Reason, Refusal};

/// Most renewals followed back from a certificate to the device's bound one.
const MAX_RENEWAL_HOPS: usize = 16;

/// Whether `hash` renews (through at most [`MAX_RENEWAL_HOPS`] renewals) one of `bound`.
fn renews(conn: &mut DbConn, hash: &str, bound: &[String]) -> StoreResult<bool> {
    let mut current = hash.to_string();
    for _ in 0..MAX_RENEWAL_HOPS {
        let from: Option<Option<String>> =
            scep_certs::table.filter(scep_certs::cert_hash.eq(&current)).select(scep_certs::renewed_from).first(conn).optional()?;
        match from.flatten() {
            Some(f) if bound.contains(&f) => return Ok(true),
            Some(f) => current = f,
            None => return Ok(false),
        }
    }
    Ok(false)
}

/// What is known about `cert` and `device_id` now.
fn facts(conn: &mut DbConn, device_id: &str, cert: &CertInfo, at: NaiveDateTime) -> StoreResult<(Facts, Vec<String>)> {
    let cert_bound_to = super::devices::bound_device(conn, &cert.hash)?;
    let bound: Vec<String> = cert_bindings::table.filter(cert_bindings::device_id.eq(device_id)).select(cert_bindings::cert_hash).load(conn)?;
    let (issued_for, mdm_identity) = match super::enroll::session_for_cert(conn, &cert.hash)? {
        Some((s, mdm)) => (s.udid, mdm),
        None => (None, false),
    };
    let renews_bound = !bound.is_empty() && cert_bound_to.is_none() && renews(conn, &cert.hash, &bound)?;
    let channel: Option<Enrollment> = enrollments::table.find(device_id).select(Enrollment::as_select()).first(conn).optional()?;
    let checked_out = channel.is_some_and(|e| !e.enabled && e.unenrolled_at.is_some());
    let allowed_until: Option<Option<NaiveDateTime>> = devices::table.find(device_id).select(devices::reenroll_until).first(conn).optional()?;
    let reenroll_allowed = allowed_until.flatten().is_some_and(|until| until > at);
    let facts = Facts { cert_bound_to, device_bound: !bound.is_empty(), issued_for, mdm_identity, renews_bound, checked_out, reenroll_allowed };
    Ok((facts, bound))
}

/// Binds `cert` to `device_id` if the rule allows it, replacing the device's previous binding;
/// refuses with [`StoreError::CertRefused`] or [`StoreError::CertBoundElsewhere`] otherwise.
/// Returns why a previous certificate was replaced, if one was.
pub(crate) fn bind_cert(conn: &mut DbConn, device_id: &str, cert: &CertInfo, at: NaiveDateTime) -> StoreResult<Option<Reason>> {
    let (facts, _) = facts(conn, device_id, cert, at)?;
    let reason = match decide(device_id, &facts) {
        Ok(Admission::Known) => {
            if cert.der.is_some() {
                // Bound before certificates were kept: keep it now.
                diesel::update(cert_bindings::table.find(&cert.hash).filter(cert_bindings::cert_der.is_null()))
                    .set(cert_bindings::cert_der.eq(&cert.der))
                    .execute(conn)?;
            }
            return Ok(None);
        }
        Ok(Admission::New) => None,
        Ok(Admission::Replace(reason)) => Some(reason),
        Err(Refusal::BoundElsewhere(other)) => return Err(StoreError::CertBoundElsewhere(other)),
        Err(reason) => return Err(StoreError::CertRefused { device: device_id.to_string(), reason }),
    };
    if facts.reenroll_allowed {
        // An allowance is good for one new certificate.
        diesel::update(devices::table.find(device_id)).set(devices::reenroll_until.eq(None::<NaiveDateTime>)).execute(conn)?;
    }
    diesel::delete(cert_bindings::table.filter(cert_bindings::device_id.eq(device_id))).execute(conn)?;
    diesel::insert_into(cert_bindings::table)
        .values(&CertBinding {
            cert_hash: cert.hash.clone(),
            device_id: device_id.to_string(),
            subject: cert.subject.clone(),
            issuer: cert.issuer.clone(),
            not_after: cert.not_after,
            created_at: at,
            cert_der: cert.der.clone(),
        })
        .execute(conn)?;
    Ok(reason)
}

impl Store {
    /// Lets `device_id` enroll again with a new certificate until `until` (used up by the first
    /// new certificate); `None` withdraws the allowance. False when the device is unknown.
    pub async fn allow_reenroll(&self, device_id: String, until: Option<NaiveDateTime>) -> StoreResult<bool> {
        self.run(move |conn| Ok(diesel::update(devices::table.find(&device_id)).set(devices::reenroll_until.eq(until)).execute(conn)? > 0)).await
    }
}
