//! A request id for every request: made here, carried in the `X-Request-Id` response header and
//! the request's tracing span, and quoted in the body of every server-error answer. A server
//! error tells the caller nothing else (database error text stays in the log), so the id is how
//! a report finds its log line.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

tokio::task_local! {
    static CURRENT: String;
}

/// The response header carrying the id.
pub const HEADER: &str = "x-request-id";

/// The id of the request being handled on this task (`-` outside one).
pub fn current() -> String {
    CURRENT.try_with(Clone::clone).unwrap_or_else(|_| "-".to_string())
}

/// What a caller is told about a server-side failure.
pub fn server_error_message() -> String {
    format!("internal server error (request id {}); the server log has the details", current())
}

/// What a caller is told when the database is unreachable.
pub fn unavailable_message() -> String {
    format!("service temporarily unavailable (request id {}); try again shortly", current())
}

/// Seconds a caller is asked to wait after a 503.
pub const RETRY_AFTER_SECS: u64 = 5;

/// Asks the caller of `resp` to come back in `secs` seconds (`Retry-After`).
pub fn retry_after(resp: &mut Response, secs: u64) {
    resp.headers_mut().insert(axum::http::header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
}

/// The request id of a request, put into its extensions for the tracing span.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Middleware: gives the request an id (the span, the task, the response header).
pub async fn layer(mut req: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().simple().to_string();
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut resp = CURRENT.scope(id.clone(), next.run(req)).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(HEADER, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_id_is_known_inside_the_request_only() {
        assert_eq!(current(), "-");
        let inside = CURRENT.scope("abc".into(), async { server_error_message() }).await;
        assert!(inside.contains("request id abc"), "{inside}");
    }
}
