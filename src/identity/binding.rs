//! Which certificate may speak for which device: the rule applied when an Authenticate presents
//! a certificate for a device id (docs/SECURITY.md, "Device identity"). Pure: the store gathers
//! the [`Facts`] inside the Authenticate transaction and applies the [`Admission`].
//!
//! A certificate that chains to a trusted CA proves only that *someone* enrolled; anyone holding
//! an enrollment link can get one. So a new certificate may take over a device id that already
//! has a bound certificate only when something ties it to that device:
//! - it is the MDM identity of an over-the-air session whose phase 2 was signed by the device's
//!   own identity with this UDID (a wiped device enrolling again);
//! - it is a SCEP renewal signed by the bound certificate (or by a renewal of it);
//! - the device checked out (its bound certificate said goodbye), so the id is free again;
//! - an admin allowed this device to enroll again, and the allowance has not run out.
//!
//! A certificate issued for one device's session never enrolls another device id.

/// What the store knows about an Authenticate's certificate and device, read in its transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The device the certificate is already bound to, if any.
    pub cert_bound_to: Option<String>,
    /// Whether the device has a bound certificate (another one, or this one).
    pub device_bound: bool,
    /// The UDID the certificate's issuing session attested in phase 2, when it was issued for a
    /// session that has one.
    pub issued_for: Option<String>,
    /// Whether the certificate is the MDM identity (not the phase-2 enrollment identity) of that
    /// session.
    pub mdm_identity: bool,
    /// Whether the certificate renews (directly or through renewals) the device's bound one.
    pub renews_bound: bool,
    /// Whether the device channel checked out since it last authenticated.
    pub checked_out: bool,
    /// Whether an admin's re-enrollment allowance for the device is in force.
    pub reenroll_allowed: bool,
}

/// Why a certificate replaces a device's bound one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The MDM identity of an over-the-air session that attested this UDID.
    Attested,
    /// A SCEP renewal of the bound certificate.
    Renewal,
    /// The device had checked out.
    CheckedOut,
    /// An admin allowed re-enrollment (the allowance is used up).
    AdminAllowed,
}

impl Reason {
    /// A short name for logs and events.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Attested => "attested re-enrollment",
            Reason::Renewal => "renewal",
            Reason::CheckedOut => "checked out before",
            Reason::AdminAllowed => "allowed by an admin",
        }
    }
}

/// What to do with the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Already this device's certificate.
    Known,
    /// The device has no certificate yet: bind it.
    New,
    /// Replace the device's certificate with it.
    Replace(Reason),
}

/// Why the certificate may not speak for the device.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The certificate is another device's.
    #[error("the certificate is bound to another device")]
    BoundElsewhere(String),
    /// The certificate was issued for another device's enrollment session.
    #[error("the certificate was issued for the enrollment of device {0}")]
    IssuedForOther(String),
    /// The device has a certificate and nothing ties this one to it.
    #[error("the device is enrolled with another certificate, and this one is neither its renewal nor an attested or allowed re-enrollment")]
    Takeover,
}

/// Applies the rule.
pub fn decide(device_id: &str, f: &Facts) -> Result<Admission, Refusal> {
    match f.cert_bound_to.as_deref() {
        Some(d) if d == device_id => return Ok(Admission::Known),
        Some(d) => return Err(Refusal::BoundElsewhere(d.to_string())),
        None => {}
    }
    if let Some(u) = f.issued_for.as_deref().filter(|u| *u != device_id) {
        return Err(Refusal::IssuedForOther(u.to_string()));
    }
    if !f.device_bound {
        return Ok(Admission::New);
    }
    let attested = f.mdm_identity && f.issued_for.as_deref() == Some(device_id);
    let reason = if attested {
        Reason::Attested
    } else if f.renews_bound {
        Reason::Renewal
    } else if f.checked_out {
        Reason::CheckedOut
    } else if f.reenroll_allowed {
        Reason::AdminAllowed
    } else {
        return Err(Refusal::Takeover);
    };
    Ok(Admission::Replace(reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEV: &str = "VICTIM";

    fn bound() -> Facts {
        Facts { device_bound: true, ..Facts::default() }
    }

    #[test]
    fn a_new_device_binds_any_trusted_certificate_not_issued_for_another() {
        assert_eq!(decide(DEV, &Facts::default()), Ok(Admission::New));
        let issued_for_me = Facts { issued_for: Some(DEV.into()), mdm_identity: true, ..Facts::default() };
        assert_eq!(decide(DEV, &issued_for_me), Ok(Admission::New));
        let issued_for_other = Facts { issued_for: Some("OTHER".into()), mdm_identity: true, ..Facts::default() };
        assert_eq!(decide(DEV, &issued_for_other), Err(Refusal::IssuedForOther("OTHER".into())));
    }

    #[test]
    fn the_bound_certificate_is_known_and_never_serves_another_device() {
        assert_eq!(decide(DEV, &Facts { cert_bound_to: Some(DEV.into()), device_bound: true, ..Facts::default() }), Ok(Admission::Known));
        assert_eq!(decide("OTHER", &Facts { cert_bound_to: Some(DEV.into()), ..Facts::default() }), Err(Refusal::BoundElsewhere(DEV.into())));
    }

    #[test]
    fn an_enrolled_device_is_taken_over_only_with_a_tie_to_it() {
        // The finding: a certificate from a multi-use link (no session UDID, same issuer).
        assert_eq!(decide(DEV, &bound()), Err(Refusal::Takeover));
        // A phase-2 enrollment identity is not the MDM identity.
        assert_eq!(decide(DEV, &Facts { issued_for: Some(DEV.into()), ..bound() }), Err(Refusal::Takeover));
        assert_eq!(decide(DEV, &Facts { issued_for: Some(DEV.into()), mdm_identity: true, ..bound() }), Ok(Admission::Replace(Reason::Attested)));
        assert_eq!(decide(DEV, &Facts { renews_bound: true, ..bound() }), Ok(Admission::Replace(Reason::Renewal)));
        assert_eq!(decide(DEV, &Facts { checked_out: true, ..bound() }), Ok(Admission::Replace(Reason::CheckedOut)));
        assert_eq!(decide(DEV, &Facts { reenroll_allowed: true, ..bound() }), Ok(Admission::Replace(Reason::AdminAllowed)));
        // No allowance reaches past a certificate issued for someone else.
        let other = Facts { issued_for: Some("OTHER".into()), mdm_identity: true, reenroll_allowed: true, checked_out: true, ..bound() };
        assert_eq!(decide(DEV, &other), Err(Refusal::IssuedForOther("OTHER".into())));
    }
}
