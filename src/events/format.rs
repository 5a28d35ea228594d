//! What a webhook receives: the event rendered in the webhook's format, and its signature
//! headers.
//!
//! - `native`: every topic; `{"id", "topic", "created_at", "device_id", "enrollment_id",
//!   "data", "raw_payload"}` (docs/EVENTS.md has each topic's `data`), signed over
//!   `timestamp + "." + body` (`X-Mdm-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`), so a
//!   receiver can refuse an old message replayed at it, and with `X-Hmac-Signature` as well.
//! - `nanomdm`: the JSON NanoMDM's and MicroMDM's webhooks send, field for field and in their
//!   order (`acknowledge_event`/`checkin_event`, `created_at`, `event_id`, `topic`), for the
//!   check-in and command-result topics; `X-Hmac-Signature` = base64(HMAC-SHA256(secret, body)).
//! - `okta-workflows`: `compliance.changed` only, its body the flat object an Okta Workflows API
//!   endpoint flow reads (`ComplianceStatus`, `UDID`, `SerialNumber`, `Platform`,
//!   `EnrollmentEmailAddress`, …); the webhook's secret is the flow's client token, sent as
//!   `x-api-client-token` (Okta's "Secure with client token"), and signs the body as well.

use base64::Engine;
use serde::Serialize;
use serde_json::Value;

use crate::store::events::{topic, EventRow};

/// A webhook's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// This server's own: every topic, replay-safe signature.
    Native,
    /// NanoMDM/MicroMDM-compatible.
    NanoMdm,
    /// An Okta Workflows API endpoint (compliance changes).
    OktaWorkflows,
}

impl Format {
    /// The name the API and the database use.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Native => "native",
            Format::NanoMdm => "nanomdm",
            Format::OktaWorkflows => "okta-workflows",
        }
    }

    /// Parses a format's name.
    pub fn parse(s: &str) -> Option<Format> {
        [Format::Native, Format::NanoMdm, Format::OktaWorkflows].into_iter().find(|f| f.as_str() == s)
    }

    /// The topics this format carries.
    pub fn topics(self) -> Vec<&'static str> {
        match self {
            Format::Native => topic::ALL.to_vec(),
            Format::NanoMdm => topic::ALL.iter().copied().filter(|t| nanomdm_topic(t).is_some()).collect(),
            Format::OktaWorkflows => vec![topic::COMPLIANCE_CHANGED],
        }
    }

    /// The topics a webhook of this format with the filter `wanted` (empty: every one) gets.
    pub fn delivered(self, wanted: &[String]) -> Vec<String> {
        self.topics().into_iter().filter(|t| wanted.is_empty() || wanted.iter().any(|w| w == t)).map(str::to_string).collect()
    }
}

/// NanoMDM's topic name for one of ours, if NanoMDM has the event.
pub fn nanomdm_topic(t: &str) -> Option<&'static str> {
    Some(match t {
        topic::AUTHENTICATED => "mdm.Authenticate",
        topic::TOKEN_UPDATED => "mdm.TokenUpdate",
        topic::CHECKED_OUT => "mdm.CheckOut",
        topic::USER_AUTHENTICATED => "mdm.UserAuthenticate",
        topic::BOOTSTRAP_TOKEN_SET => "mdm.SetBootstrapToken",
        topic::BOOTSTRAP_TOKEN_FETCHED => "mdm.GetBootstrapToken",
        topic::DECLARATIVE_CHECKIN => "mdm.DeclarativeManagement",
        topic::GET_TOKEN => "mdm.GetToken",
        topic::COMMAND_ACKNOWLEDGED | topic::COMMAND_ERROR | topic::COMMAND_NOT_NOW | topic::COMMAND_FORMAT_ERROR => "mdm.Connect",
        _ => return None,
    })
}

/// The event as the native format and the feed show it.
#[derive(Debug, Serialize)]
pub struct NativeEvent {
    /// Event id (the idempotency key).
    pub id: i64,
    /// Topic.
    pub topic: String,
    /// When the change happened.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub created_at: chrono::NaiveDateTime,
    /// The device.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// The enrollment (channel).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrollment_id: Option<String>,
    /// The topic's fields.
    pub data: Value,
    /// Base64 of the plist the device sent (secrets removed), for check-ins and results.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_payload: Option<String>,
}

impl NativeEvent {
    /// From a numbered row.
    pub fn from_row(e: &EventRow) -> NativeEvent {
        NativeEvent {
            id: e.id.unwrap_or_default(),
            topic: e.topic.clone(),
            created_at: e.created_at,
            device_id: e.device_id.clone(),
            enrollment_id: e.enrollment_id.clone(),
            data: serde_json::from_str(&e.body).unwrap_or(Value::Null),
            raw_payload: e.payload.as_ref().map(|p| base64::engine::general_purpose::STANDARD.encode(p)),
        }
    }
}

/// NanoMDM's `ids`.
#[derive(Serialize)]
struct Ids<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_id: Option<&'a str>,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// NanoMDM's `checkin_event`, fields in its order.
#[derive(Serialize)]
struct CheckinEvent<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    enrollment_id: Option<&'a str>,
    ids: Ids<'a>,
    raw_payload: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_update_tally: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    udid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url_params: Option<&'a serde_json::Map<String, Value>>,
}

/// NanoMDM's `acknowledge_event`, fields in its order.
#[derive(Serialize)]
struct AcknowledgeEvent<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    command_uuid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    enrollment_id: Option<&'a str>,
    ids: Ids<'a>,
    raw_payload: String,
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    udid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url_params: Option<&'a serde_json::Map<String, Value>>,
}

/// NanoMDM's event, fields in its order.
#[derive(Serialize)]
struct NanoEvent<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    acknowledge_event: Option<AcknowledgeEvent<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    checkin_event: Option<CheckinEvent<'a>>,
    #[serde(serialize_with = "crate::timefmt::utc")]
    created_at: chrono::NaiveDateTime,
    event_id: String,
    topic: &'static str,
}

/// The NanoMDM body of an event, or `None` for a topic NanoMDM does not have.
pub fn nanomdm_body(e: &EventRow) -> Option<Vec<u8>> {
    let t = nanomdm_topic(&e.topic)?;
    let data: Value = serde_json::from_str(&e.body).unwrap_or(Value::Null);
    let device = e.device_id.as_deref().unwrap_or_default();
    let enrollment = e.enrollment_id.as_deref().unwrap_or(device);
    let kind = data.get("enrollment_type").and_then(Value::as_str).unwrap_or("Device");
    // A device enrollment names its device by UDID, a User Enrollment by EnrollmentID.
    let by_udid = matches!(kind, "Device" | "User");
    let (udid, enrollment_id) = if by_udid { (Some(device), None) } else { (None, Some(device)) };
    let ids = Ids {
        id: enrollment,
        parent_id: (enrollment != device).then_some(device),
        kind: match kind {
            "User" => "User",
            "UserEnrollment" => "User Enrollment",
            "UserEnrollmentDevice" => "User Enrollment (Device)",
            _ => "Device",
        },
    };
    let raw_payload = base64::engine::general_purpose::STANDARD.encode(e.payload.as_deref().unwrap_or_default());
    let url_params = data.get("url_params").and_then(Value::as_object).filter(|m| !m.is_empty());
    let mut ev = NanoEvent { acknowledge_event: None, checkin_event: None, created_at: e.created_at, event_id: e.id.unwrap_or_default().to_string(), topic: t };
    if t == "mdm.Connect" {
        ev.acknowledge_event = Some(AcknowledgeEvent {
            command_uuid: data.get("command_uuid").and_then(Value::as_str),
            enrollment_id,
            ids,
            raw_payload,
            status: data.get("status").and_then(Value::as_str).unwrap_or_default(),
            udid,
            url_params,
        });
    } else {
        ev.checkin_event = Some(CheckinEvent {
            enrollment_id,
            ids,
            raw_payload,
            token_update_tally: if t == "mdm.TokenUpdate" { data.get("token_update_tally").and_then(Value::as_i64) } else { None },
            udid,
            url_params,
        });
    }
    serde_json::to_vec(&ev).ok()
}

/// HMAC-SHA256 of `msg` under `key`.
fn hmac(key: &[u8], msg: &[&[u8]]) -> Vec<u8> {
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    let mut ctx = ring::hmac::Context::with_key(&k);
    for m in msg {
        ctx.update(m);
    }
    ctx.sign().as_ref().to_vec()
}

/// Header names and values of a delivery.
pub type Headers = Vec<(&'static str, String)>;

/// The body and headers a webhook of `format` is sent for `e` at `now` (unix seconds), or
/// `None` when the format does not carry the topic.
pub fn render(format: Format, e: &EventRow, secret: &[u8], now: i64) -> Option<(Vec<u8>, Headers)> {
    let b64 = &base64::engine::general_purpose::STANDARD;
    let id = e.id.unwrap_or_default().to_string();
    match format {
        Format::NanoMdm => {
            let body = nanomdm_body(e)?;
            let headers = vec![("X-Hmac-Signature", b64.encode(hmac(secret, &[&body])))];
            Some((body, headers))
        }
        Format::OktaWorkflows => {
            if e.topic != topic::COMPLIANCE_CHANGED {
                return None;
            }
            let mut data: serde_json::Map<String, Value> = serde_json::from_str(&e.body).ok()?;
            // Only the PascalCase fields the flow's API endpoint declares, plus the event id.
            data.retain(|k, _| k.starts_with(|c: char| c.is_ascii_uppercase()));
            data.insert("EventId".into(), id.clone().into());
            let body = serde_json::to_vec(&data).ok()?;
            let headers = vec![
                ("x-api-client-token", String::from_utf8_lossy(secret).into_owned()),
                ("X-Hmac-Signature", b64.encode(hmac(secret, &[&body]))),
                ("X-Mdm-Event-Id", id.clone()),
                ("Idempotency-Key", id),
            ];
            Some((body, headers))
        }
        Format::Native => {
            let body = serde_json::to_vec(&NativeEvent::from_row(e)).ok()?;
            let ts = now.to_string();
            let sig = hex::encode(hmac(secret, &[ts.as_bytes(), b".", &body]));
            let headers = vec![
                ("X-Hmac-Signature", b64.encode(hmac(secret, &[&body]))),
                ("X-Mdm-Signature", format!("t={ts},v1={sig}")),
                ("X-Mdm-Event-Id", id.clone()),
                ("X-Mdm-Topic", e.topic.clone()),
                ("Idempotency-Key", id),
            ];
            Some((body, headers))
        }
    }
}

/// Keys of check-in messages that carry secrets: removed from the payload kept in an event.
const SECRET_KEYS: &[&str] = &["UnlockToken", "BootstrapToken"];

/// The check-in plist as an event keeps it: the bytes the device sent, or, when they carry a
/// secret (an UnlockToken, a BootstrapToken), the message re-encoded without it.
pub fn checkin_payload(raw: &[u8], dict: &plist::Dictionary) -> Vec<u8> {
    if !SECRET_KEYS.iter().any(|k| dict.contains_key(k)) {
        return raw.to_vec();
    }
    let mut d = dict.clone();
    for k in SECRET_KEYS {
        d.remove(k);
    }
    crate::protocol::to_xml(&d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(topic: &str, body: Value, device: &str, enrollment: &str) -> EventRow {
        EventRow {
            pk: 1,
            id: Some(7),
            topic: topic.into(),
            device_id: Some(device.into()),
            enrollment_id: Some(enrollment.into()),
            body: body.to_string(),
            payload: Some(b"<plist/>".to_vec()),
            created_at: chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap().and_hms_opt(10, 0, 0).unwrap(),
        }
    }

    #[test]
    fn nanomdm_bodies_match_nanomdm_field_for_field() {
        let ack = row(
            topic::COMMAND_ACKNOWLEDGED,
            serde_json::json!({"enrollment_type": "Device", "command_uuid": "c-1", "status": "Acknowledged"}),
            "UDID-1",
            "UDID-1",
        );
        let body = String::from_utf8(nanomdm_body(&ack).unwrap()).unwrap();
        assert_eq!(
            body,
            r#"{"acknowledge_event":{"command_uuid":"c-1","ids":{"id":"UDID-1","type":"Device"},"raw_payload":"PHBsaXN0Lz4=","status":"Acknowledged","udid":"UDID-1"},"created_at":"2026-12-07T10:00:00.000000Z","event_id":"7","topic":"mdm.Connect"}"#
        );
        let tu = row(topic::TOKEN_UPDATED, serde_json::json!({"enrollment_type": "User", "token_update_tally": 2}), "UDID-1", "UDID-1:U1");
        let body = String::from_utf8(nanomdm_body(&tu).unwrap()).unwrap();
        assert_eq!(
            body,
            r#"{"checkin_event":{"ids":{"id":"UDID-1:U1","parent_id":"UDID-1","type":"User"},"raw_payload":"PHBsaXN0Lz4=","token_update_tally":2,"udid":"UDID-1"},"created_at":"2026-12-07T10:00:00.000000Z","event_id":"7","topic":"mdm.TokenUpdate"}"#
        );
        let ue = row(topic::AUTHENTICATED, serde_json::json!({"enrollment_type": "UserEnrollmentDevice"}), "ENR-1", "ENR-1");
        let body = String::from_utf8(nanomdm_body(&ue).unwrap()).unwrap();
        assert!(body.starts_with(r#"{"checkin_event":{"enrollment_id":"ENR-1","ids":{"id":"ENR-1","type":"User Enrollment (Device)"}"#), "{body}");
        assert!(nanomdm_body(&row(topic::PROFILE_INSTALLED, Value::Null, "U", "U")).is_none());
    }

    #[test]
    fn signatures_verify_with_the_secret() {
        let e = row(topic::PROFILE_INSTALLED, serde_json::json!({"profile": "wifi"}), "U", "U");
        let (body, headers) = render(Format::Native, &e, b"s3cret-s3cret-s3", 1_800_000_000).unwrap();
        let get = |k: &str| headers.iter().find(|(h, _)| *h == k).map(|(_, v)| v.clone()).unwrap();
        let b64 = &base64::engine::general_purpose::STANDARD;
        assert_eq!(b64.decode(get("X-Hmac-Signature")).unwrap(), hmac(b"s3cret-s3cret-s3", &[&body]));
        let sig = get("X-Mdm-Signature");
        let (t, v1) = sig.strip_prefix("t=").unwrap().split_once(",v1=").unwrap();
        assert_eq!(t, "1800000000");
        assert_eq!(hex::decode(v1).unwrap(), hmac(b"s3cret-s3cret-s3", &[b"1800000000.", &body]));
        assert!(render(Format::NanoMdm, &e, b"k", 0).is_none(), "NanoMDM has no profile events");
    }

    #[test]
    fn okta_workflows_gets_the_flat_compliance_body() {
        let e = row(
            topic::COMPLIANCE_CHANGED,
            serde_json::json!({"ComplianceStatus": "NonCompliant", "UDID": "U", "SerialNumber": "S", "Platform": "iOS", "EnrollmentEmailAddress": "a@b", "status": "noncompliant"}),
            "U",
            "U",
        );
        let (body, headers) = render(Format::OktaWorkflows, &e, b"client-token-123", 0).unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["ComplianceStatus"], "NonCompliant");
        assert_eq!(v["EventId"], "7");
        assert!(v.get("status").is_none(), "{v}");
        assert!(headers.iter().any(|(k, v)| *k == "x-api-client-token" && v == "client-token-123"));
        assert!(render(Format::OktaWorkflows, &row(topic::PROFILE_INSTALLED, Value::Null, "U", "U"), b"k", 0).is_none());
        assert_eq!(Format::OktaWorkflows.topics(), vec![topic::COMPLIANCE_CHANGED]);
    }

    #[test]
    fn secrets_leave_the_payload() {
        let mut d = plist::Dictionary::new();
        d.insert("MessageType".into(), "TokenUpdate".into());
        d.insert("UnlockToken".into(), plist::Value::Data(b"very secret".to_vec()));
        let raw = crate::protocol::to_xml(&d);
        let kept = checkin_payload(&raw, &d);
        let back: plist::Dictionary = plist::from_bytes(&kept).unwrap();
        assert!(!back.contains_key("UnlockToken"));
        assert_eq!(back.get("MessageType").and_then(|v| v.as_string()), Some("TokenUpdate"));
        d.remove("UnlockToken");
        let raw = crate::protocol::to_xml(&d);
        assert_eq!(checkin_payload(&raw, &d), raw, "a payload without secrets is kept as sent");
    }
}
