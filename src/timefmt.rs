//! Times as the API shows them: RFC 3339 in UTC with a `Z` (`2026-12-07T11:38:00.742920Z`).
//! The database keeps UTC without a zone (`NaiveDateTime`); every time leaving the server in
//! JSON goes through here so that clients never have to guess the zone.

use chrono::{NaiveDateTime, SecondsFormat};
use serde::Serializer;

/// The RFC 3339 text of a UTC time, to microseconds.
pub fn text(t: &NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// `serialize_with` for a UTC time.
pub fn utc<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&text(t))
}

/// `serialize_with` for an optional UTC time (`null` when absent).
pub fn utc_opt<S: Serializer>(t: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&text(t)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_with_zone() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap().and_hms_micro_opt(11, 38, 0, 742_920).unwrap();
        assert_eq!(super::text(&t), "2026-12-07T11:38:00.742920Z");
        #[derive(serde::Serialize)]
        struct Row {
            #[serde(serialize_with = "super::utc")]
            at: chrono::NaiveDateTime,
            #[serde(serialize_with = "super::utc_opt")]
            done: Option<chrono::NaiveDateTime>,
        }
        assert_eq!(serde_json::to_string(&Row { at: t, done: None }).unwrap(), r#"{"at":"2026-12-07T11:38:00.742920Z","done":null}"#);
    }
}
