//! JSON command endpoints: `POST /v1/commands` (typed builders) and `GET /v1/commands/{uuid}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use super::enqueue::{enqueue_and_push, EnqueueResponse};
use super::json::plist_bytes_to_json;
use super::{ApiError, ApiState};
use crate::protocol::command::envelope;
use crate::store::models::Command;

/// Body of `POST /v1/commands`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCommand {
    /// RequestType, e.g. `DeviceInformation`.
    pub request_type: String,
    /// Enrollment ids.
    pub targets: Vec<String>,
    /// The command's keys, in Apple's spelling.
    #[serde(default)]
    pub payload: serde_json::Value,
    /// Skip the APNs push.
    #[serde(default)]
    pub nopush: bool,
}

/// `POST /v1/commands`: builds the command from typed fields and queues it for every target.
/// Commands that carry per-device secrets (ClearPasscode's UnlockToken) get one command per target.
pub async fn create(State(st): State<ApiState>, body: super::json::JsonBody<NewCommand>) -> Result<(StatusCode, Json<EnqueueResponse>), ApiError> {
    let req = super::json::body(body)?;
    let targets = super::split_ids(&req.targets.join(","))?;
    let payload = if req.payload.is_null() { serde_json::json!({}) } else { req.payload };
    let command = crate::commands::build(&req.request_type, &payload).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let bad = |e: crate::protocol::ParseError| ApiError::Internal(e.to_string());
    let (cmds, rows) = if crate::commands::needs_unlock_token(&req.request_type) {
        let found = st.store.devices().enrollments_by_ids(targets.clone()).await?;
        let mut cmds = Vec::new();
        let mut rows = Vec::new();
        let mut missing = Vec::new();
        for t in &targets {
            match found.iter().find(|e| &e.id == t).and_then(|e| e.unlock_token.as_ref()) {
                Some(sealed) => {
                    let token = st.vault.open(crate::sealed::Kind::UnlockToken, t, sealed).map_err(|e| ApiError::Internal(e.to_string()))?;
                    let mut c = command.clone();
                    crate::commands::with_unlock_token(&mut c, &token);
                    let env = envelope(c).map_err(bad)?;
                    rows.push((t.clone(), env.uuid.clone()));
                    cmds.push(Command::from(env));
                }
                None => missing.push(t.clone()),
            }
        }
        if !missing.is_empty() {
            return Err(ApiError::BadRequest(format!(
                "{} needs the device's UnlockToken, which is not escrowed for: {}",
                req.request_type,
                missing.join(", ")
            )));
        }
        (cmds, rows)
    } else {
        let env = envelope(command).map_err(bad)?;
        let rows = targets.iter().map(|t| (t.clone(), env.uuid.clone())).collect();
        (vec![Command::from(env)], rows)
    };
    enqueue_and_push(&st, cmds, rows, req.request_type, req.nopush).await
}

/// `GET /v1/commands/{uuid}`: the command, each target's queue status and reported results.
pub async fn show(State(st): State<ApiState>, Path(uuid): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    let Some(cmd) = st.queue.listing().command(uuid.clone()).await? else {
        return Err(ApiError::NotFound(format!("unknown command {uuid}")));
    };
    let targets = st.queue.listing().command_targets(uuid.clone()).await?;
    let results = st.queue.listing().command_results(uuid.clone()).await?;
    let targets: Vec<serde_json::Value> = targets
        .into_iter()
        .map(|t| {
            let rs: Vec<serde_json::Value> = results
                .iter()
                .filter(|r| r.enrollment_id == t.enrollment_id)
                .rev()
                .map(|r| serde_json::json!({ "status": r.status, "received_at": crate::timefmt::text(&r.received_at), "result": plist_bytes_to_json(&r.body) }))
                .collect();
            serde_json::json!({
                "enrollment_id": t.enrollment_id,
                "status": t.status,
                "not_now_count": t.not_now_count,
                "deliveries": t.deliveries,
                "last_delivered_at": t.last_delivered_at.as_ref().map(crate::timefmt::text),
                "done_at": t.done_at.as_ref().map(crate::timefmt::text),
                "results": rs,
            })
        })
        .collect();
    // A command that may carry secrets is stored sealed (`sealed::carries_secret`) and shown to
    // the device only.
    let command = if crate::sealed::is_sealed(&cmd.body) {
        serde_json::Value::String("(sealed: this command carries secrets — an UnlockToken or AppConfig)".into())
    } else {
        plist_bytes_to_json(&cmd.body)
    };
    Ok(Json(serde_json::json!({
        "command_uuid": cmd.uuid,
        "request_type": cmd.request_type,
        "created_at": crate::timefmt::text(&cmd.created_at),
        "command": command,
        "targets": targets,
    })))
}
