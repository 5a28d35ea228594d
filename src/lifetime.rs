//! Lifetimes that come from outside (an admin's token expiry or challenge TTL, a configured
//! validity): checked against a maximum and added to a time without overflow, so an absurd
//! number is a clear refusal instead of a panic or a silent default.

use chrono::NaiveDateTime;
use std::time::Duration;

/// A day.
const DAY: Duration = Duration::from_secs(86_400);

/// The longest an enrollment token may stay usable.
pub const MAX_TOKEN: Duration = Duration::from_secs(5 * 366 * 86_400);
/// The longest a one-time SCEP challenge or an enrollment session may stay usable.
pub const MAX_CHALLENGE: Duration = Duration::from_secs(366 * 86_400);
/// The longest an admin's re-enrollment allowance may last.
pub const MAX_REENROLL: Duration = Duration::from_secs(30 * 86_400);
/// The longest an issued certificate or API token may be valid.
pub const MAX_VALIDITY: Duration = Duration::from_secs(20 * 366 * 86_400);

/// Why a lifetime was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifetimeError {
    /// Zero.
    #[error("{what} must be longer than zero")]
    Zero {
        /// The setting or field.
        what: &'static str,
    },
    /// Longer than allowed.
    #[error("{what} may be at most {max}")]
    TooLong {
        /// The setting or field.
        what: &'static str,
        /// The maximum, human-readable.
        max: String,
    },
}

/// Checks `lifetime` for `what` (named in the message): longer than zero, at most `max`.
pub fn check(what: &'static str, lifetime: Duration, max: Duration) -> Result<Duration, LifetimeError> {
    if lifetime.is_zero() {
        return Err(LifetimeError::Zero { what });
    }
    if lifetime > max {
        return Err(LifetimeError::TooLong { what, max: shown(max) });
    }
    Ok(lifetime)
}

/// A maximum as people read it: whole days as days.
fn shown(max: Duration) -> String {
    let secs = max.as_secs();
    if secs.is_multiple_of(DAY.as_secs()) {
        format!("{} days", secs / DAY.as_secs())
    } else {
        humantime::format_duration(max).to_string()
    }
}

/// `at + lifetime` once [`check`] passes.
pub fn expiry(what: &'static str, at: NaiveDateTime, lifetime: Duration, max: Duration) -> Result<NaiveDateTime, LifetimeError> {
    let lifetime = check(what, lifetime, max)?;
    let too_long = || LifetimeError::TooLong { what, max: shown(max) };
    let delta = chrono::Duration::from_std(lifetime).map_err(|_| too_long())?;
    at.checked_add_signed(delta).ok_or_else(too_long)
}

/// `at + minutes` minutes, for the APIs that take a count of minutes.
pub fn expiry_minutes(what: &'static str, at: NaiveDateTime, minutes: u64, max: Duration) -> Result<NaiveDateTime, LifetimeError> {
    let secs = minutes.saturating_mul(60);
    expiry(what, at, Duration::from_secs(secs), max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000, 0).map(|d| d.naive_utc()).unwrap_or_default()
    }

    #[test]
    fn absurd_lifetimes_are_refused_not_wrapped() {
        let year = humantime::parse_duration("1000000years").unwrap();
        let e = expiry("expires_in", t0(), year, MAX_TOKEN).unwrap_err();
        assert!(e.to_string().contains("expires_in may be at most"), "{e}");
        assert!(expiry_minutes("ttl_minutes", t0(), 1_000_000_000_000, MAX_CHALLENGE).is_err());
        // 2^64 - 1 minutes once became one hour.
        assert!(matches!(expiry_minutes("ttl_minutes", t0(), u64::MAX, MAX_CHALLENGE), Err(LifetimeError::TooLong { .. })));
        assert_eq!(expiry_minutes("ttl_minutes", t0(), 0, MAX_CHALLENGE), Err(LifetimeError::Zero { what: "ttl_minutes" }));
        assert_eq!(expiry_minutes("ttl_minutes", t0(), 90, MAX_CHALLENGE).unwrap(), t0() + chrono::Duration::minutes(90));
        // Even an allowed lifetime cannot overflow the calendar.
        let end = NaiveDateTime::MAX - chrono::Duration::days(1);
        assert!(expiry("x", end, Duration::from_secs(3 * 86_400), MAX_TOKEN).is_err());
    }
}
