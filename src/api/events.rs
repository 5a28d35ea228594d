//! The event feed: `GET /v1/events` for consumers that poll, and a device's timeline
//! `GET /v1/devices/{id}/events`.

use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::{ApiError, ApiState};
use crate::events::format::NativeEvent;
use crate::store::events::{topic, Feed, FeedQuery};

/// The most events one page holds.
pub const MAX_PAGE: i64 = 1000;

/// Query of the feed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Events after this id (omitted: from the oldest kept).
    pub after: Option<i64>,
    /// Comma-separated topics (omitted: every topic).
    pub topics: Option<String>,
    /// Only this device (device or enrollment id).
    pub device: Option<String>,
    /// Most events (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// A page of the feed.
#[derive(Debug, Serialize)]
pub struct EventPage {
    /// Oldest first.
    pub events: Vec<NativeEvent>,
    /// The `after` of the next page (the last id here, or the `after` asked for when empty).
    pub next: i64,
}

/// Parses a comma-separated topics list, refusing unknown names.
pub fn parse_topics(raw: Option<&str>) -> Result<Vec<String>, ApiError> {
    let list: Vec<String> = raw.unwrap_or_default().split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect();
    check_topics(&list)?;
    Ok(list)
}

/// Refuses topic names the outbox does not write.
pub fn check_topics(list: &[String]) -> Result<(), ApiError> {
    if let Some(bad) = list.iter().find(|t| !topic::ALL.contains(&t.as_str())) {
        return Err(ApiError::BadRequest(format!("unknown topic {bad:?}; topics: {}", topic::ALL.join(", "))));
    }
    Ok(())
}

async fn page(st: &ApiState, q: EventsQuery, device: Option<String>) -> Result<Json<EventPage>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::BadRequest(format!("limit: 1 to {MAX_PAGE}")));
    }
    if q.after.is_some_and(|a| a < 0) {
        return Err(ApiError::BadRequest("after: an event id (0 or more)".into()));
    }
    let topics = parse_topics(q.topics.as_deref())?;
    let fq = FeedQuery { after: q.after, topics, device, limit };
    match st.store.events().feed(fq).await? {
        Feed::Pruned { pruned_through } => Err(ApiError::Gone(format!(
            "events after {} are no longer all kept: retention (events.retention) removed events up to {pruned_through}; \
             resume with after={pruned_through} (events in between are lost to this consumer) or omit after to start from the oldest kept",
            q.after.unwrap_or_default()
        ))),
        Feed::Page(rows) => {
            let next = rows.last().and_then(|e| e.id).unwrap_or(q.after.unwrap_or(0));
            Ok(Json(EventPage { events: rows.iter().map(NativeEvent::from_row).collect(), next }))
        }
    }
}

/// `GET /v1/events?after=ID&topics=a,b&device=X&limit=N`.
pub async fn feed(State(st): State<ApiState>, Query(q): Query<EventsQuery>) -> Result<Json<EventPage>, ApiError> {
    let device = match q.device.as_deref() {
        Some(d) => Some(super::devices::resolve_device(&st, d).await?.id),
        None => None,
    };
    page(&st, q, device).await
}

/// `GET /v1/devices/{id}/events`: the device's timeline, oldest first, paged like the feed.
pub async fn device_events(State(st): State<ApiState>, Path(id): Path<String>, Query(q): Query<EventsQuery>) -> Result<Json<EventPage>, ApiError> {
    if q.device.is_some() {
        return Err(ApiError::BadRequest("device: given by the path".into()));
    }
    let device = super::devices::resolve_device(&st, &id).await?;
    page(&st, q, Some(device.id)).await
}
