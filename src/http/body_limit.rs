//! The body limit (`server.max_body_bytes`) for every route, answered the same way over HTTP/1
//! and HTTP/2. The body is read here, within the limit, and handed on whole; a larger one is
//! read on and discarded (up to four times the limit, for a few seconds) before the 413 goes out, so
//! the client finishes sending and reads the answer. Answering while the client is still
//! sending makes HTTP/2 reset the stream, which clients report as a framing error, not a 413.
//! This is the server's one body limit: axum's own extractor limit is switched off.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// How long an oversized body is read on before the answer goes out anyway.
const DRAIN_FOR: Duration = Duration::from_secs(5);

/// Middleware state: the limit in bytes.
#[derive(Debug, Clone, Copy)]
pub struct MaxBody(pub usize);

/// Middleware: reads the body within the limit, or answers 413.
pub async fn layer(State(MaxBody(max)): State<MaxBody>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let mut body = body.into_data_stream();
    let mut buf = Vec::with_capacity(declared.map_or(0, |n| usize::try_from(n).unwrap_or(0).min(max)));
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("request body larger than {max} bytes (server.max_body_bytes)\n"),
        )
            .into_response()
    };
    // An oversized body is read on up to four times the limit (at least 16 MiB) before the 413.
    let drain_budget = max.saturating_mul(4).max(16 << 20);
    if declared.is_some_and(|n| n > max as u64) {
        drain(body, drain_budget).await;
        return too_large();
    }
    while let Some(chunk) = futures::StreamExt::next(&mut body).await {
        let Ok(chunk) = chunk else {
            return (StatusCode::BAD_REQUEST, "the request body could not be read\n").into_response();
        };
        if buf.len() + chunk.len() > max {
            drain(body, drain_budget).await;
            return too_large();
        }
        buf.extend_from_slice(&chunk);
    }
    next.run(Request::from_parts(parts, Body::from(buf))).await
}

/// Reads and discards up to `budget` more bytes, for at most [`DRAIN_FOR`].
async fn drain(mut body: axum::body::BodyDataStream, budget: usize) {
    let read = async {
        let mut left = budget;
        while let Some(Ok(chunk)) = futures::StreamExt::next(&mut body).await {
            if chunk.len() > left {
                return;
            }
            left -= chunk.len();
        }
    };
    let _ = tokio::time::timeout(DRAIN_FOR, read).await;
}
