//! `com.apple.mobiledevice.passwordpolicy`: the device passcode policy.
//!
//! Also home of [`Ranged`], the integer type for keys Apple bounds with a `range` in its schema
//! (used by the restrictions payload too).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::PayloadKind;
use crate::issue::{key_path, Issue};

/// An integer Apple bounds to `MIN..=MAX`. Reading any other value fails, so a payload holding
/// one does not parse as the typed model (it stays raw and the schema validator reports it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Ranged<const MIN: i64, const MAX: i64>(i64);

/// A value outside the range Apple allows for a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value} is outside the allowed range {min}..={max}")]
pub struct OutOfRange {
    /// The refused value.
    pub value: i64,
    /// The smallest allowed value.
    pub min: i64,
    /// The largest allowed value.
    pub max: i64,
}

impl<const MIN: i64, const MAX: i64> Ranged<MIN, MAX> {
    /// The smallest allowed value.
    pub const MIN: i64 = MIN;
    /// The largest allowed value.
    pub const MAX: i64 = MAX;

    /// `v` when it is within `MIN..=MAX`.
    pub const fn new(v: i64) -> Result<Self, OutOfRange> {
        if v >= MIN && v <= MAX {
            Ok(Ranged(v))
        } else {
            Err(OutOfRange { value: v, min: MIN, max: MAX })
        }
    }

    /// `v` moved into `MIN..=MAX` (the nearest bound when outside).
    pub const fn saturating(v: i64) -> Self {
        if v < MIN {
            Ranged(MIN)
        } else if v > MAX {
            Ranged(MAX)
        } else {
            Ranged(v)
        }
    }

    /// The value.
    pub const fn get(self) -> i64 {
        self.0
    }
}

impl<const MIN: i64, const MAX: i64> TryFrom<i64> for Ranged<MIN, MAX> {
    type Error = OutOfRange;
    fn try_from(v: i64) -> Result<Self, OutOfRange> {
        Ranged::new(v)
    }
}

impl<const MIN: i64, const MAX: i64> From<Ranged<MIN, MAX>> for i64 {
    fn from(r: Ranged<MIN, MAX>) -> i64 {
        r.0
    }
}

impl<const MIN: i64, const MAX: i64> fmt::Display for Ranged<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// `com.apple.mobiledevice.passwordpolicy` payload: passcode rules. Apple spells these keys in
/// lowerCamelCase. Every key is optional; an absent key leaves the device default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Passcode {
    /// `allowSimple` (default true): if false, passcodes with repeated or sequential characters
    /// (`123`, `CBA`) are refused.
    #[serde(rename = "allowSimple", default, skip_serializing_if = "Option::is_none")]
    pub allow_simple: Option<bool>,
    /// `forcePIN` (default false): if true, the user must set a passcode.
    #[serde(rename = "forcePIN", default, skip_serializing_if = "Option::is_none")]
    pub force_pin: Option<bool>,
    /// `maxFailedAttempts` (2–11, default 11): failed attempts before iOS wipes the device
    /// (macOS locks it).
    #[serde(rename = "maxFailedAttempts", default, skip_serializing_if = "Option::is_none")]
    pub max_failed_attempts: Option<Ranged<2, 11>>,
    /// `maxInactivity` (0–15): minutes idle before the device locks.
    #[serde(rename = "maxInactivity", default, skip_serializing_if = "Option::is_none")]
    pub max_inactivity: Option<Ranged<0, 15>>,
    /// `maxPINAgeInDays` (0–730): days before the passcode must be changed.
    #[serde(rename = "maxPINAgeInDays", default, skip_serializing_if = "Option::is_none")]
    pub max_pin_age_in_days: Option<Ranged<0, 730>>,
    /// `minComplexChars` (0–4, default 0): characters other than letters and digits required.
    #[serde(rename = "minComplexChars", default, skip_serializing_if = "Option::is_none")]
    pub min_complex_chars: Option<Ranged<0, 4>>,
    /// `minLength` (0–16, default 0): minimum passcode length.
    #[serde(rename = "minLength", default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<Ranged<0, 16>>,
    /// `requireAlphanumeric` (default false): if true, letters are required, not only digits.
    #[serde(rename = "requireAlphanumeric", default, skip_serializing_if = "Option::is_none")]
    pub require_alphanumeric: Option<bool>,
    /// `pinHistory` (1–50): a new passcode must differ from the last N.
    #[serde(rename = "pinHistory", default, skip_serializing_if = "Option::is_none")]
    pub pin_history: Option<Ranged<1, 50>>,
    /// `maxGracePeriod` (minutes, default 0): how long after locking the device unlocks without
    /// the passcode.
    #[serde(rename = "maxGracePeriod", default, skip_serializing_if = "Option::is_none")]
    pub max_grace_period: Option<i64>,
    /// `minutesUntilFailedLoginReset` (macOS): minutes before failed attempts reset; requires
    /// `maxFailedAttempts`.
    #[serde(rename = "minutesUntilFailedLoginReset", default, skip_serializing_if = "Option::is_none")]
    pub minutes_until_failed_login_reset: Option<i64>,
    /// `changeAtNextAuth` (macOS, default false): force a password reset at the next login.
    #[serde(rename = "changeAtNextAuth", default, skip_serializing_if = "Option::is_none")]
    pub change_at_next_auth: Option<bool>,
    /// `customRegex` (macOS 14+): a regular expression passwords must match.
    #[serde(rename = "customRegex", default, skip_serializing_if = "Option::is_none")]
    pub custom_regex: Option<CustomRegex>,
}

/// `customRegex`: a password-compliance regular expression and its description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomRegex {
    /// `passwordContentRegex`: ICU regular expression, at most 2048 characters.
    #[serde(rename = "passwordContentRegex")]
    pub password_content_regex: String,
    /// `passwordContentDescription`: language ID (`en-US`, or `default`) → description.
    #[serde(rename = "passwordContentDescription", default, skip_serializing_if = "Option::is_none")]
    pub password_content_description: Option<BTreeMap<String, String>>,
}

/// Apple: "The string must not exceed 2048 characters in length."
pub const MAX_REGEX_CHARS: usize = 2048;

impl PayloadKind for Passcode {
    const TYPE: &'static str = "com.apple.mobiledevice.passwordpolicy";

    fn check(&self, path: &str, out: &mut Vec<Issue>) {
        if self.minutes_until_failed_login_reset.is_some() && self.max_failed_attempts.is_none() {
            out.push(Issue::error(key_path(path, "minutesUntilFailedLoginReset"), "this key requires setting maxFailedAttempts"));
        }
        for (key, v) in [("maxGracePeriod", self.max_grace_period), ("minutesUntilFailedLoginReset", self.minutes_until_failed_login_reset)] {
            if let Some(v) = v {
                if v < 0 {
                    out.push(Issue::error(key_path(path, key), format!("a number of minutes cannot be negative ({v})")));
                }
            }
        }
        if let Some(re) = &self.custom_regex {
            let p = key_path(&key_path(path, "customRegex"), "passwordContentRegex");
            let n = re.password_content_regex.chars().count();
            if n > MAX_REGEX_CHARS {
                out.push(Issue::error(p, format!("the regular expression has {n} characters; Apple allows at most {MAX_REGEX_CHARS}")));
            } else if re.password_content_regex.is_empty() {
                out.push(Issue::error(p, "the regular expression is empty"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranged_refuses_out_of_range() {
        assert!(Ranged::<2, 11>::new(1).is_err());
        assert_eq!(Ranged::<2, 11>::new(11).unwrap().get(), 11);
        assert_eq!(Ranged::<2, 11>::saturating(40).get(), 11);
        let e = Ranged::<2, 11>::new(12).unwrap_err();
        assert_eq!(e.to_string(), "12 is outside the allowed range 2..=11");
        assert!(serde_json::from_value::<Passcode>(serde_json::json!({"minLength": 17})).is_err());
        assert!(serde_json::from_value::<Passcode>(serde_json::json!({"maxFailedAttempts": 1})).is_err());
        assert!(serde_json::from_value::<Passcode>(serde_json::json!({"pinHistory": 0})).is_err());
    }

    #[test]
    fn apple_spelling() {
        let p = Passcode {
            force_pin: Some(true),
            max_pin_age_in_days: Some(Ranged::saturating(90)),
            min_length: Some(Ranged::saturating(6)),
            ..Passcode::default()
        };
        let v = plist::to_value(&p).unwrap();
        let d = v.as_dictionary().unwrap();
        assert_eq!(d["forcePIN"], plist::Value::Boolean(true));
        assert_eq!(d["maxPINAgeInDays"], plist::Value::Integer(90.into()));
        assert_eq!(d["minLength"], plist::Value::Integer(6.into()));
        assert_eq!(d.len(), 3);
        assert_eq!(plist::from_value::<Passcode>(&v).unwrap(), p);
    }

    #[test]
    fn prose_rules() {
        let mut out = Vec::new();
        let p = Passcode { minutes_until_failed_login_reset: Some(5), ..Passcode::default() };
        p.check("PayloadContent[0]", &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].path, "PayloadContent[0].minutesUntilFailedLoginReset");
        out.clear();
        let p = Passcode {
            minutes_until_failed_login_reset: Some(5),
            max_failed_attempts: Some(Ranged::saturating(5)),
            custom_regex: Some(CustomRegex { password_content_regex: "a".repeat(2049), password_content_description: None }),
            ..Passcode::default()
        };
        p.check("P", &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].path, "P.customRegex.passwordContentRegex");
    }
}
