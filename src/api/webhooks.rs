//! Webhooks (`/v1/webhooks`): settings (the secret sealed and never shown), the delivery log,
//! dead letters and replays.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::json::JsonBody;
use super::{ApiError, ApiState};
use crate::events::format::Format;
use crate::sealed::Kind;
use crate::store::now;
use crate::store::webhooks::{DeadLetter, DeliveryRow, Replay, WebhookPatch, WebhookRow};

/// The shortest secret accepted.
pub const MIN_SECRET: usize = 16;

/// Body of `POST /v1/webhooks`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Unique name.
    pub name: String,
    /// Where events are POSTed (http or https; public addresses unless `outbound.allow_private`).
    pub url: String,
    /// Topics delivered (empty or omitted: every topic the format carries).
    #[serde(default)]
    pub topics: Vec<String>,
    /// `native` (default) or `nanomdm`.
    #[serde(default)]
    pub format: Option<String>,
    /// The HMAC key (at least 16 characters). Stored sealed, never shown again.
    pub secret: String,
    /// Delivered (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Body of `PATCH /v1/webhooks/{id}`: what changes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeWebhook {
    /// New URL.
    pub url: Option<String>,
    /// New topics.
    pub topics: Option<Vec<String>>,
    /// New format.
    pub format: Option<String>,
    /// New secret.
    pub secret: Option<String>,
    /// Enabled or not.
    pub enabled: Option<bool>,
}

/// A webhook as the API shows it (never its secret).
#[derive(Debug, Serialize)]
pub struct WebhookView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// URL.
    pub url: String,
    /// Topics (empty: every topic the format carries).
    pub topics: Vec<String>,
    /// Format.
    pub format: String,
    /// Delivered or not.
    pub enabled: bool,
    /// Whether a secret is set (it is never shown).
    pub secret_set: bool,
    /// Every event up to this id has been delivered or dead-lettered.
    pub cursor: i64,
    /// Failed attempts at the current head event.
    pub attempts: i32,
    /// When the next attempt is due after a failure.
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub next_attempt_at: Option<chrono::NaiveDateTime>,
    /// The last failure.
    pub last_error: Option<String>,
    /// The last successful delivery.
    #[serde(serialize_with = "crate::timefmt::utc_opt")]
    pub last_success_at: Option<chrono::NaiveDateTime>,
    /// Created.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub created_at: chrono::NaiveDateTime,
    /// Last changed.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub updated_at: chrono::NaiveDateTime,
}

impl From<WebhookRow> for WebhookView {
    fn from(w: WebhookRow) -> Self {
        WebhookView {
            topics: w.topic_list(),
            id: w.id,
            name: w.name,
            url: w.url,
            format: w.format,
            enabled: w.enabled,
            secret_set: w.secret.is_some(),
            cursor: w.cursor,
            attempts: w.attempts,
            next_attempt_at: w.next_attempt_at,
            last_error: w.last_error,
            last_success_at: w.last_success_at,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

fn format_of(raw: Option<&str>) -> Result<Format, ApiError> {
    let raw = raw.unwrap_or("native");
    Format::parse(raw).ok_or_else(|| ApiError::BadRequest(format!("format {raw:?}: native, nanomdm or okta-workflows")))
}

/// Checks topics against the outbox and the format; returns them as stored (JSON).
fn topics_json(list: &[String], format: Format) -> Result<String, ApiError> {
    super::events::check_topics(list)?;
    let carried = format.topics();
    if let Some(t) = list.iter().find(|t| !carried.contains(&t.as_str())) {
        return Err(ApiError::BadRequest(format!("the {} format does not carry topic {t} (it carries: {})", format.as_str(), carried.join(", "))));
    }
    serde_json::to_string(list).map_err(|e| ApiError::Internal(e.to_string()))
}

fn check_secret(s: &str) -> Result<(), ApiError> {
    if s.len() < MIN_SECRET || s.len() > 512 || s.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(format!("secret: {MIN_SECRET} to 512 printable characters")));
    }
    Ok(())
}

async fn check_url(st: &ApiState, url: &str) -> Result<String, ApiError> {
    let url = url.trim();
    if url.len() > 2048 {
        return Err(ApiError::BadRequest("url: at most 2048 characters".into()));
    }
    st.outbound.check(url).await.map_err(|e| ApiError::BadRequest(format!("url: {e}")))?;
    Ok(url.to_string())
}

async fn find(st: &ApiState, id: &str) -> Result<WebhookRow, ApiError> {
    st.store.webhooks().get(id.to_string()).await?.ok_or_else(|| ApiError::NotFound(format!("no webhook {id}")))
}

/// `POST /v1/webhooks`: it gets every event from now on.
pub async fn create(State(st): State<ApiState>, b: JsonBody<NewWebhook>) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
    let w = super::json::body(b)?;
    let name = w.name.trim().to_string();
    if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
        return Err(ApiError::BadRequest("name: 1 to 64 printable characters".into()));
    }
    let format = format_of(w.format.as_deref())?;
    let topics = topics_json(&w.topics, format)?;
    check_secret(&w.secret)?;
    let url = check_url(&st, &w.url).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let secret = st.vault.seal(Kind::WebhookSecret, &id, w.secret.as_bytes()).map_err(|e| ApiError::Internal(e.to_string()))?;
    let at = now();
    let row = WebhookRow {
        id,
        name,
        url,
        topics,
        format: format.as_str().to_string(),
        secret: Some(secret),
        enabled: w.enabled.unwrap_or(true),
        cursor: 0,
        lease_owner: None,
        lease_until: None,
        attempts: 0,
        next_attempt_at: None,
        last_error: None,
        last_success_at: None,
        created_at: at,
        updated_at: at,
    };
    let row = st.store.webhooks().create(row).await?;
    tracing::info!(webhook = %row.name, format = %row.format, "webhook created");
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// `GET /v1/webhooks`.
pub async fn list(State(st): State<ApiState>) -> Result<Json<Vec<WebhookView>>, ApiError> {
    Ok(Json(st.store.webhooks().list().await?.into_iter().map(Into::into).collect()))
}

/// `GET /v1/webhooks/{id}` (id or name).
pub async fn show(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<WebhookView>, ApiError> {
    Ok(Json(find(&st, &id).await?.into()))
}

/// `PATCH /v1/webhooks/{id}`.
pub async fn change(State(st): State<ApiState>, Path(id): Path<String>, b: JsonBody<ChangeWebhook>) -> Result<Json<WebhookView>, ApiError> {
    let c = super::json::body(b)?;
    let w = find(&st, &id).await?;
    let format = format_of(Some(c.format.as_deref().unwrap_or(&w.format)))?;
    let topics = c.topics.clone().unwrap_or_else(|| w.topic_list());
    let mut p = WebhookPatch { enabled: c.enabled, ..Default::default() };
    if c.topics.is_some() || c.format.is_some() {
        p.topics = Some(topics_json(&topics, format)?);
    }
    if c.format.is_some() {
        p.format = Some(format.as_str().to_string());
    }
    if let Some(u) = &c.url {
        p.url = Some(check_url(&st, u).await?);
    }
    if let Some(s) = &c.secret {
        check_secret(s)?;
        p.secret = Some(st.vault.seal(Kind::WebhookSecret, &w.id, s.as_bytes()).map_err(|e| ApiError::Internal(e.to_string()))?);
    }
    Ok(Json(st.store.webhooks().update(w.id, p, now()).await?.into()))
}

/// `DELETE /v1/webhooks/{id}`.
pub async fn remove(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    if !st.store.webhooks().delete(id.clone()).await? {
        return Err(ApiError::NotFound(format!("no webhook {id}")));
    }
    Ok(Json(serde_json::json!({ "deleted": id })))
}

/// Query of the delivery log.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    /// Most lines (default 100, at most 1000).
    pub limit: Option<i64>,
    /// Lines older than this id (paging).
    pub before: Option<i64>,
}

/// `GET /v1/webhooks/{id}/deliveries`: attempts, newest first.
pub async fn deliveries(State(st): State<ApiState>, Path(id): Path<String>, Query(q): Query<LogQuery>) -> Result<Json<Vec<DeliveryRow>>, ApiError> {
    let w = find(&st, &id).await?;
    Ok(Json(st.store.webhooks().deliveries(w.id, q.limit.unwrap_or(100).clamp(1, 1000), q.before).await?))
}

/// A dead letter as the API shows it.
#[derive(Debug, Serialize)]
pub struct DeadView {
    /// The event.
    pub event_id: i64,
    /// Attempts made.
    pub attempts: i32,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it was given up.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub dead_at: chrono::NaiveDateTime,
}

/// `GET /v1/webhooks/{id}/dead-letters`.
pub async fn dead_letters(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<Vec<DeadView>>, ApiError> {
    let w = find(&st, &id).await?;
    let rows: Vec<DeadLetter> = st.store.webhooks().dead_letters(w.id).await?;
    Ok(Json(rows.into_iter().map(|d| DeadView { event_id: d.event_id, attempts: d.attempts, last_error: d.last_error, dead_at: d.dead_at }).collect()))
}

/// Body of `POST /v1/webhooks/{id}/replay`: one of `event`, `from` + `to`, `dead_letters`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// One event.
    pub event: Option<i64>,
    /// First event of a range.
    pub from: Option<i64>,
    /// Last event of a range.
    pub to: Option<i64>,
    /// Every dead letter.
    #[serde(default)]
    pub dead_letters: bool,
}

/// `POST /v1/webhooks/{id}/replay`: the events are sent again, before the live stream.
pub async fn replay(State(st): State<ApiState>, Path(id): Path<String>, b: JsonBody<ReplayRequest>) -> Result<Json<serde_json::Value>, ApiError> {
    let r = super::json::body(b)?;
    let what = match (r.event, r.from, r.to, r.dead_letters) {
        (Some(e), None, None, false) if e > 0 => Replay::One(e),
        (None, Some(f), Some(t), false) if 0 < f && f <= t && t - f < 100_000 => Replay::Range(f, t),
        (None, None, None, true) => Replay::DeadLetters,
        _ => {
            return Err(ApiError::BadRequest(
                "give one of: {\"event\": ID}, {\"from\": ID, \"to\": ID} (at most 100000 apart), {\"dead_letters\": true}".into(),
            ))
        }
    };
    let w = find(&st, &id).await?;
    let format = format_of(Some(&w.format))?;
    let topics = format.delivered(&w.topic_list());
    let n = st.store.webhooks().replay(w, topics, what).await?;
    Ok(Json(serde_json::json!({ "queued": n })))
}
