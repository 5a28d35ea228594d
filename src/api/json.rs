//! plist → JSON for showing stored commands and results to admins (`<data>` becomes base64,
//! `<date>` RFC 3339).

use base64::Engine;

/// Converts a plist value to JSON.
pub fn plist_to_json(v: &plist::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        plist::Value::Array(a) => J::Array(a.iter().map(plist_to_json).collect()),
        plist::Value::Dictionary(d) => J::Object(d.iter().map(|(k, v)| (k.clone(), plist_to_json(v))).collect()),
        plist::Value::Boolean(b) => J::Bool(*b),
        plist::Value::Data(d) => J::String(base64::engine::general_purpose::STANDARD.encode(d)),
        plist::Value::Date(d) => J::String(d.to_xml_format()),
        plist::Value::Real(r) => serde_json::Number::from_f64(*r).map(J::Number).unwrap_or(J::Null),
        plist::Value::Integer(i) => match (i.as_signed(), i.as_unsigned()) {
            (Some(s), _) => J::from(s),
            (None, Some(u)) => J::from(u),
            _ => J::Null,
        },
        plist::Value::String(s) => J::String(s.clone()),
        plist::Value::Uid(u) => J::from(u.get()),
        _ => J::Null,
    }
}

/// Parses stored plist bytes and converts them; unparsable bytes become `null`.
pub fn plist_bytes_to_json(bytes: &[u8]) -> serde_json::Value {
    mdm_profiles::limits::parse_plist(bytes).map(|v| plist_to_json(&v)).unwrap_or(serde_json::Value::Null)
}

/// A JSON request body, kept as a `Result` so a malformed one becomes our 400, not axum's.
pub type JsonBody<T> = Result<LimitedJson<T>, super::ApiError>;

/// The body's value, or a 400 saying why it is not valid JSON of the expected shape.
pub fn body<T>(b: JsonBody<T>) -> Result<T, super::ApiError> {
    b.map(|LimitedJson(t)| t)
}

/// A JSON body checked against the document limits ([`mdm_profiles::limits`]) before it is
/// parsed; any content type is accepted (admin tools often send none).
#[derive(Debug)]
pub struct LimitedJson<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for LimitedJson<T> {
    type Rejection = super::ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        // The body's size was checked by `http::body_limit` before any handler runs.
        let bytes =
            axum::body::Bytes::from_request(req, state).await.map_err(|e| super::ApiError::BadRequest(format!("unreadable body: {}", e.body_text())))?;
        parse_json(&bytes).map(LimitedJson)
    }
}

/// An optional JSON body: empty means `T::default()`, anything else is parsed by [`parse_json`].
pub fn parse_json_or_default<T: serde::de::DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, super::ApiError> {
    if bytes.is_empty() {
        return Ok(T::default());
    }
    parse_json(bytes)
}

/// Parses a JSON document within the document limits; a 400 names the limit or the syntax error.
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, super::ApiError> {
    mdm_profiles::limits::check_json(bytes).map_err(|e| super::ApiError::BadRequest(format!("JSON body refused: {e}")))?;
    serde_json::from_slice(bytes).map_err(|e| super::ApiError::BadRequest(format!("invalid JSON body: {e}")))
}
