//! Refuses a request whose path or query, once percent-decoded, holds control characters
//! (`/v1/devices/%00`): no id, token or name has one, PostgreSQL cannot store NUL, and logs and
//! the console should never show them. 400 before any handler runs, on every route.

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Whether percent-decoding `s` gives a control character (a raw one counts too).
pub fn has_control(s: &str) -> bool {
    percent_encoding::percent_decode_str(s).any(|b| b < 0x20 || b == 0x7f)
}

/// Middleware: 400 for control characters in the path or query.
pub async fn layer(req: Request, next: Next) -> Response {
    let uri = req.uri();
    let bad = has_control(uri.path()) || uri.query().is_some_and(has_control);
    if bad {
        tracing::warn!("request refused: control characters in the URL");
        return (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "control characters are not allowed in the URL\n")
            .into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_encoded_and_raw_controls() {
        assert!(super::has_control("/v1/devices/%00"));
        assert!(super::has_control("token=a%0Ab"));
        assert!(super::has_control("x=%7f"));
        assert!(!super::has_control("/v1/devices/00008110-ABC%20x"));
        assert!(!super::has_control("/v1/devices/%E2%9C%93"));
    }
}
