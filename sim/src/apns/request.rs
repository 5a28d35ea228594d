//! One push request to the mock: the checks APNs makes (method, path, headers, token, topic, payload), the scripted behaviour, the answer.

use super::*;

/// An error answer: status and Apple's reason string.
type Rejection = (StatusCode, &'static str);

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

fn new_apns_id() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string().to_ascii_uppercase()
}

pub(super) fn is_canonical_uuid(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::try_parse(s).is_ok()
}

pub(super) async fn handle(shared: Arc<Shared>, conn: Arc<Conn>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let at = Instant::now();
    let (parts, body) = req.into_parts();
    let h = &parts.headers;
    let request_id = header(h, "apns-id");
    let mut push = ReceivedPush {
        token_hex: parts.uri.path().strip_prefix("/3/device/").unwrap_or_default().to_ascii_lowercase(),
        topic: header(h, "apns-topic").unwrap_or_default(),
        push_magic: None,
        push_type: header(h, "apns-push-type"),
        priority: header(h, "apns-priority"),
        expiration: header(h, "apns-expiration"),
        apns_id: match &request_id {
            Some(id) if is_canonical_uuid(id) => id.clone(),
            _ => new_apns_id(),
        },
        status: 0,
        reason: None,
        at,
    };

    let bad_request_id = request_id.as_deref().is_some_and(|id| !is_canonical_uuid(id));
    let checked = match validate(&conn, &parts.method, parts.uri.path(), &push, bad_request_id) {
        Err(r) => Err(r),
        Ok(()) => read_push_magic(body).await,
    };
    let magic = match checked {
        Ok(magic) => magic,
        Err((status, reason)) => return Ok(answer(&shared, push, status, Some(reason), None)),
    };
    push.push_magic = Some(magic);

    let outcome = match shared.next_behaviour(&push.token_hex) {
        Behaviour::Accept => None,
        Behaviour::Delay(d) => {
            tokio::time::sleep(d).await;
            None
        }
        Behaviour::Unregistered => Some((StatusCode::GONE, "Unregistered")),
        Behaviour::UnregisteredSince(ms) => {
            return Ok(answer(&shared, push, StatusCode::GONE, Some("Unregistered"), Some(ms)));
        }
        Behaviour::BadDeviceToken => Some((StatusCode::BAD_REQUEST, "BadDeviceToken")),
        Behaviour::DeviceTokenNotForTopic => Some((StatusCode::BAD_REQUEST, "DeviceTokenNotForTopic")),
        Behaviour::TooManyRequests => Some((StatusCode::TOO_MANY_REQUESTS, "TooManyRequests")),
        Behaviour::InternalServerError => Some((StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError")),
        Behaviour::ServiceUnavailable => Some((StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable")),
        Behaviour::Drop => {
            shared.record(push);
            conn.kill.send_replace(true);
            // Wait until the connection task has dropped the connection; whatever is returned
            // afterwards goes nowhere.
            conn.kill.closed().await;
            return Ok(Response::new(Full::new(Bytes::new())));
        }
    };
    Ok(match outcome {
        None => answer(&shared, push, StatusCode::OK, None, None),
        Some((status, reason)) if status == StatusCode::GONE => {
            let timestamp = chrono::Utc::now().timestamp_millis();
            answer(&shared, push, status, Some(reason), Some(timestamp))
        }
        Some((status, reason)) => answer(&shared, push, status, Some(reason), None),
    })
}

/// Header and path checks, in roughly the order APNs applies them.
fn validate(conn: &Conn, method: &Method, path: &str, push: &ReceivedPush, bad_request_id: bool) -> Result<(), Rejection> {
    let topic = conn.verdict.as_ref().map_err(|reason| (StatusCode::FORBIDDEN, *reason))?;
    if method != Method::POST {
        return Err((StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed"));
    }
    let token = path.strip_prefix("/3/device/").ok_or((StatusCode::NOT_FOUND, "BadPath"))?;
    if token.is_empty() {
        return Err((StatusCode::BAD_REQUEST, "MissingDeviceToken"));
    }
    if token.len() != TOKEN_HEX_LEN || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err((StatusCode::BAD_REQUEST, "BadDeviceToken"));
    }
    if bad_request_id {
        return Err((StatusCode::BAD_REQUEST, "BadMessageId"));
    }
    if push.topic.is_empty() {
        return Err((StatusCode::BAD_REQUEST, "MissingTopic"));
    }
    if &push.topic != topic {
        return Err((StatusCode::BAD_REQUEST, "TopicDisallowed"));
    }
    if push.push_type.as_deref() != Some("mdm") {
        return Err((StatusCode::BAD_REQUEST, "InvalidPushType"));
    }
    if let Some(p) = &push.priority {
        if !matches!(p.as_str(), "10" | "5" | "1") {
            return Err((StatusCode::BAD_REQUEST, "BadPriority"));
        }
    }
    if let Some(e) = &push.expiration {
        if e.parse::<i64>().is_err() {
            return Err((StatusCode::BAD_REQUEST, "BadExpirationDate"));
        }
    }
    Ok(())
}

/// Reads the payload and returns its `mdm` value (the PushMagic).
async fn read_push_magic(body: Incoming) -> Result<String, Rejection> {
    // "BadPayload" is mock-specific: APNs documents no reason for a well-formed but non-MDM
    // payload (it would deliver it); the mock rejects it so provider bugs surface in tests.
    const BAD: Rejection = (StatusCode::BAD_REQUEST, "BadPayload");
    let bytes = match Limited::new(body, MAX_PAYLOAD_BYTES).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return Err((StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLarge"));
        }
        Err(_) => return Err(BAD),
    };
    if bytes.is_empty() {
        return Err((StatusCode::BAD_REQUEST, "PayloadEmpty"));
    }
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| BAD)?;
    match value.get("mdm") {
        Some(serde_json::Value::String(magic)) => Ok(magic.clone()),
        _ => Err(BAD),
    }
}

/// Records the push and builds the response: `apns-id` header, JSON body for errors.
fn answer(shared: &Shared, mut push: ReceivedPush, status: StatusCode, reason: Option<&'static str>, timestamp: Option<i64>) -> Response<Full<Bytes>> {
    push.status = status.as_u16();
    push.reason = reason.map(str::to_string);
    let apns_id = HeaderValue::from_str(&push.apns_id).ok();
    shared.record(push);
    let body = match (reason, timestamp) {
        (None, _) => Bytes::new(),
        (Some(r), None) => Bytes::from(serde_json::json!({ "reason": r }).to_string()),
        (Some(r), Some(t)) => Bytes::from(serde_json::json!({ "reason": r, "timestamp": t }).to_string()),
    };
    let has_body = !body.is_empty();
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    if let Some(id) = apns_id {
        resp.headers_mut().insert("apns-id", id);
    }
    if has_body {
        resp.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    }
    resp
}
