//! SCEP administration: `POST /v1/scep/challenges` (one-time challenges) and
//! `GET /v1/scep/certs` (issued certificates).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::{ApiError, ApiState};
use crate::store::models::ScepCert;

/// Request body (all optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewChallenge {
    /// Lifetime in minutes (default `scep.challenge_ttl`).
    #[serde(default)]
    pub ttl_minutes: Option<u64>,
    /// Note kept with it (e.g. who it is for).
    #[serde(default)]
    pub note: Option<String>,
}

/// A new challenge. The value is shown this once; only its hash is stored.
#[derive(Debug, Serialize)]
pub struct ChallengeView {
    /// Id (for audit).
    pub id: String,
    /// The value to put in the SCEP payload / client.
    pub challenge: String,
    /// Not usable after this (UTC).
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub expires_at: chrono::NaiveDateTime,
}

fn scep(st: &ApiState) -> Result<&crate::scep_server::ScepService, ApiError> {
    st.scep.as_ref().ok_or_else(|| ApiError::NotFound("the SCEP server is not enabled (scep.enabled and [ca] cert/key)".into()))
}

/// `POST /v1/scep/challenges`.
pub async fn create_challenge(State(st): State<ApiState>, body: axum::body::Bytes) -> Result<(StatusCode, Json<ChallengeView>), ApiError> {
    let req: NewChallenge = super::json::parse_json_or_default(&body)?;
    let ttl = match req.ttl_minutes {
        Some(m) => {
            let limit = crate::lifetime::MAX_CHALLENGE;
            crate::lifetime::expiry_minutes("ttl_minutes", crate::store::now(), m, limit).map_err(|e| ApiError::BadRequest(e.to_string()))?;
            Some(std::time::Duration::from_secs(m * 60))
        }
        None => None,
    };
    let (challenge, row) = scep(&st)?.new_challenge(ttl, req.note).await.map_err(|e| match e {
        crate::scep_server::ScepServeError::BadRequest(why) => ApiError::BadRequest(why),
        other => ApiError::Internal(other.to_string()),
    })?;
    tracing::info!(challenge_id = %row.id, expires_at = %row.expires_at, "SCEP challenge created");
    Ok((StatusCode::CREATED, Json(ChallengeView { id: row.id, challenge, expires_at: row.expires_at })))
}

/// Query of the certificate listing.
#[derive(Debug, Deserialize)]
pub struct CertsQuery {
    /// Most rows (default 100, max 1000).
    pub limit: Option<i64>,
}

/// `GET /v1/scep/certs`: issued certificates, newest first.
pub async fn certs(State(st): State<ApiState>, Query(q): Query<CertsQuery>) -> Result<Json<Vec<ScepCert>>, ApiError> {
    Ok(Json(st.store.scep().scep_certs(q.limit.unwrap_or(100).clamp(1, 1000)).await?))
}
