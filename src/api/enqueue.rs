//! NanoMDM-compatible raw endpoints: `PUT /v1/enqueue/{ids}` (raw command plist body) and
//! `GET|POST /v1/push/{ids}`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::{split_ids, ApiError, ApiState};
use crate::push::PushOutcome;
use crate::queue::{Enqueue, EnqueueOutcome, Wake};
use crate::store::models::Command;

/// Query of the enqueue endpoint.
#[derive(Debug, Deserialize)]
pub struct EnqueueQuery {
    /// `nopush=1` skips the APNs push.
    #[serde(default)]
    pub nopush: Option<String>,
}

/// What enqueueing reports.
#[derive(Debug, Serialize)]
pub struct EnqueueResponse {
    /// CommandUUID (of the first command when several were made).
    pub command_uuid: String,
    /// Every CommandUUID, when a command was made per target (those carrying a device's
    /// UnlockToken); absent otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub command_uuids: Vec<String>,
    /// RequestType.
    pub request_type: String,
    /// Per-target outcome.
    #[serde(flatten)]
    pub outcome: EnqueueOutcome,
    /// `"scheduled"`: the queued targets are due for a push, sent by the push scheduler at once
    /// and repeated with backoff until they fetch (absent with nopush). Outcomes appear per
    /// enrollment in `GET /v1/devices/{id}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push: Option<&'static str>,
}

/// Stores `cmds`, queues `rows`, pushes unless told not to; the shared tail of both enqueue APIs.
pub async fn enqueue_and_push(
    st: &ApiState,
    cmds: Vec<Command>,
    rows: Vec<(String, String)>,
    request_type: String,
    nopush: bool,
) -> Result<(StatusCode, Json<EnqueueResponse>), ApiError> {
    let command_uuid = cmds.first().map(|c| c.uuid.clone()).unwrap_or_default();
    let command_uuids = if cmds.len() > 1 { cmds.iter().map(|c| c.uuid.clone()).collect() } else { Vec::new() };
    let mut cmds = cmds;
    for c in &mut cmds {
        st.vault.seal_command(c).map_err(|e| ApiError::Internal(e.to_string()))?;
    }
    let wake = if nopush { Wake::NextCheckIn } else { Wake::Push };
    let outcome = st.queue.enqueue(Enqueue::new(cmds, rows).with_wake(wake)).await?;
    let push = (wake == Wake::Push && !outcome.queued.is_empty()).then_some("scheduled");
    let status = if outcome.queued.is_empty() {
        if outcome.not_enrolled.is_empty() {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::CONFLICT
        }
    } else {
        StatusCode::OK
    };
    tracing::info!(%command_uuid, %request_type, queued = outcome.queued.len(), unknown = outcome.unknown.len(), "command enqueued");
    Ok((status, Json(EnqueueResponse { command_uuid, command_uuids, request_type, outcome, push })))
}

/// `PUT /v1/enqueue/{ids}`: queue a raw command plist for every id.
pub async fn enqueue_raw(
    State(st): State<ApiState>,
    Path(ids): Path<String>,
    Query(q): Query<EnqueueQuery>,
    body: Bytes,
) -> Result<(StatusCode, Json<EnqueueResponse>), ApiError> {
    let ids = split_ids(&ids)?;
    let env = crate::protocol::command::from_raw(&body).map_err(|e| ApiError::BadRequest(format!("command plist: {e}")))?;
    let cmd = Command { uuid: env.uuid.clone(), request_type: env.request_type.clone(), body: env.body, created_at: crate::store::now() };
    let rows = ids.iter().map(|id| (id.clone(), env.uuid.clone())).collect();
    let nopush = q.nopush.as_deref().is_some_and(|v| !v.is_empty() && v != "0" && v != "false");
    enqueue_and_push(&st, vec![cmd], rows, env.request_type, nopush).await
}

/// Response of the push endpoint.
#[derive(Debug, Serialize)]
pub struct PushResponse {
    /// Outcome per id.
    pub status: BTreeMap<String, PushOutcome>,
}

/// `GET|POST /v1/push/{ids}`: pushes now and answers with APNs' outcome per id.
pub async fn push(State(st): State<ApiState>, Path(ids): Path<String>) -> Result<Json<PushResponse>, ApiError> {
    let ids = split_ids(&ids)?;
    Ok(Json(PushResponse { status: st.push.push_now(&ids).await? }))
}
