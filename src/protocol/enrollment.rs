//! Which enrollment (channel) a message speaks for, resolved from UDID/UserID or
//! EnrollmentID/EnrollmentUserID.

use super::dict::DictExt;
use super::ParseError;

/// The kind of enrollment a channel belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrollmentType {
    /// Device channel of a device enrollment (id = UDID).
    Device,
    /// User channel of a device enrollment (id = UDID:UserID), e.g. Shared iPad users.
    User,
    /// Device channel of a User Enrollment (id = EnrollmentID).
    UserEnrollmentDevice,
    /// User channel of a User Enrollment (id = EnrollmentID:EnrollmentUserID).
    UserEnrollment,
}

impl EnrollmentType {
    /// The name stored and shown in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            EnrollmentType::Device => "Device",
            EnrollmentType::User => "User",
            EnrollmentType::UserEnrollmentDevice => "UserEnrollmentDevice",
            EnrollmentType::UserEnrollment => "UserEnrollment",
        }
    }

    /// `device` or `user`.
    pub fn channel(self) -> &'static str {
        match self {
            EnrollmentType::Device | EnrollmentType::UserEnrollmentDevice => "device",
            EnrollmentType::User | EnrollmentType::UserEnrollment => "user",
        }
    }
}

/// A resolved enrollment identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentRef {
    /// Enrollment id (queue key).
    pub id: String,
    /// Device id (UDID or EnrollmentID): what the identity certificate is bound to.
    pub device_id: String,
    /// Kind of enrollment.
    pub kind: EnrollmentType,
    /// UserID or EnrollmentUserID, for user channels.
    pub user_id: Option<String>,
}

/// Resolves the enrollment a check-in or command report speaks for.
pub fn resolve(d: &plist::Dictionary) -> Result<EnrollmentRef, ParseError> {
    if let Some(udid) = d.opt_str("UDID")?.filter(|s| !s.is_empty()) {
        check_id("UDID", &udid)?;
        return Ok(match d.opt_str("UserID")?.filter(|s| !s.is_empty()) {
            Some(user) => {
                check_id("UserID", &user)?;
                EnrollmentRef { id: format!("{udid}:{user}"), device_id: udid, kind: EnrollmentType::User, user_id: Some(user) }
            }
            None => EnrollmentRef { id: udid.clone(), device_id: udid, kind: EnrollmentType::Device, user_id: None },
        });
    }
    if let Some(eid) = d.opt_str("EnrollmentID")?.filter(|s| !s.is_empty()) {
        check_id("EnrollmentID", &eid)?;
        return Ok(match d.opt_str("EnrollmentUserID")?.filter(|s| !s.is_empty()) {
            Some(user) => {
                check_id("EnrollmentUserID", &user)?;
                EnrollmentRef { id: format!("{eid}:{user}"), device_id: eid, kind: EnrollmentType::UserEnrollment, user_id: Some(user) }
            }
            None => EnrollmentRef { id: eid.clone(), device_id: eid, kind: EnrollmentType::UserEnrollmentDevice, user_id: None },
        });
    }
    Err(ParseError::NoDeviceId)
}

/// Ids are used as keys and in URLs (`/v1/enqueue/a,b`): keep them printable and bounded.
fn check_id(key: &'static str, v: &str) -> Result<(), ParseError> {
    if v.len() > 128 || v.chars().any(|c| c.is_control() || c == ',' || c == '/' || c.is_whitespace()) {
        return Err(ParseError::Invalid { key, reason: "must be at most 128 printable characters without ',' or '/'".into() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dict(pairs: &[(&str, &str)]) -> plist::Dictionary {
        pairs.iter().map(|(k, v)| (k.to_string(), plist::Value::String(v.to_string()))).collect()
    }

    #[test]
    fn resolves_every_channel_kind() {
        let d = resolve(&dict(&[("UDID", "U1")])).unwrap();
        assert_eq!((d.id.as_str(), d.kind), ("U1", EnrollmentType::Device));
        let u = resolve(&dict(&[("UDID", "U1"), ("UserID", "X")])).unwrap();
        assert_eq!((u.id.as_str(), u.device_id.as_str(), u.kind), ("U1:X", "U1", EnrollmentType::User));
        let e = resolve(&dict(&[("EnrollmentID", "E")])).unwrap();
        assert_eq!(e.kind, EnrollmentType::UserEnrollmentDevice);
        let eu = resolve(&dict(&[("EnrollmentID", "E"), ("EnrollmentUserID", "Y")])).unwrap();
        assert_eq!((eu.id.as_str(), eu.kind), ("E:Y", EnrollmentType::UserEnrollment));
    }

    #[test]
    fn refuses_missing_or_bad_ids() {
        assert_eq!(resolve(&dict(&[])), Err(ParseError::NoDeviceId));
        assert!(resolve(&dict(&[("UDID", "a,b")])).is_err());
        let mut d = dict(&[]);
        d.insert("UDID".into(), plist::Value::Integer(3.into()));
        assert_eq!(resolve(&d), Err(ParseError::WrongType { key: "UDID", expected: "<string>" }));
    }
}
