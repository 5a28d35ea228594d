//! Admin authentication: `Authorization: Bearer <key>`, or HTTP Basic with the key as the
//! password (any user name, as NanoMDM's tools send).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use subtle::ConstantTimeEq;

use super::{ApiError, ApiState};

/// The key a request presents, if any.
pub fn presented_key(header: &str) -> Option<String> {
    let (scheme, rest) = header.trim().split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().to_string());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let raw = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (_, password) = text.split_once(':')?;
        return Some(password.to_string());
    }
    None
}

/// Middleware: refuses requests without the admin key with 401.
pub async fn require_admin(State(st): State<ApiState>, req: Request, next: Next) -> Result<Response, ApiError> {
    let presented = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(presented_key);
    match presented {
        Some(k) if bool::from(k.as_bytes().ct_eq(st.key.as_bytes())) => Ok(next.run(req).await),
        _ => Err(ApiError::Unauthorized),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bearer_and_basic() {
        assert_eq!(presented_key("Bearer abc").as_deref(), Some("abc"));
        let basic = base64::engine::general_purpose::STANDARD.encode("nanomdm:s3cret");
        assert_eq!(presented_key(&format!("Basic {basic}")).as_deref(), Some("s3cret"));
        assert_eq!(presented_key("Digest x"), None);
        assert_eq!(presented_key("Basic !!!"), None);
    }
}
