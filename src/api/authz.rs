//! Who may call what: roles of admin API tokens and what each route needs. Pure; the auth
//! middleware ([`super::auth`]) applies it to every `/v1` route and `/metrics`.

use axum::http::Method;

/// A token's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything.
    Admin,
    /// Devices and commands: look up and act on devices; no settings, no secrets.
    Helpdesk,
    /// Read everything but secrets and tokens; change nothing.
    ReadOnly,
    /// Machines (an identity provider or gateway): the posture API only.
    Posture,
    /// One device's shared-device calls (a kiosk or locker), its device named by the token.
    Kiosk,
}

impl Role {
    /// Every role, as the API names them.
    pub const ALL: [Role; 5] = [Role::Admin, Role::Helpdesk, Role::ReadOnly, Role::Posture, Role::Kiosk];

    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Helpdesk => "helpdesk",
            Role::ReadOnly => "read-only",
            Role::Posture => "posture",
            Role::Kiosk => "kiosk",
        }
    }

    /// Parses a role's name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Looking up devices (`GET /v1/devices`, `GET /v1/devices/{id}`).
    DeviceLookup,
    /// The posture API (`GET /v1/posture/...`).
    Posture,
    /// Reading anything that is not a secret or a token.
    Read,
    /// Acting on devices: commands, pushes, checks, re-enrollment allowances.
    Operate,
    /// Checking a shared device out or in (admin, helpdesk, or the device's own kiosk token).
    Shared,
    /// Settings, secrets, certificates, tokens.
    Admin,
}

/// What the route `route` (its template, e.g. `/v1/devices/{id}`) needs for `method`.
pub fn need(method: &Method, route: &str) -> Need {
    let get = method == Method::GET || method == Method::HEAD;
    match (get, route) {
        (false, "/v1/shared/checkout" | "/v1/shared/checkin") => Need::Shared,
        (false, "/v1/connector-calls/{id}/retry") => Need::Operate,
        (true, "/v1/devices" | "/v1/devices/{id}") => Need::DeviceLookup,
        (true, "/v1/posture/devices" | "/v1/posture/devices/{id}") => Need::Posture,
        (true, "/v1/secrets" | "/v1/tokens") => Need::Admin,
        (true, "/v1/push/{ids}") => Need::Operate,
        (true, _) => Need::Read,
        (
            false,
            "/v1/commands"
            | "/v1/enqueue/{ids}"
            | "/v1/push/{ids}"
            | "/v1/devices/{id}/profiles/check"
            | "/v1/devices/{id}/apps/check"
            | "/v1/devices/{id}/reenroll"
            | "/v1/devices/{id}/inventory",
        ) => Need::Operate,
        (false, _) => Need::Admin,
    }
}

/// Whether `role` (with `scope`, a kiosk token's device) may do what `need` names; `device` is
/// the device a device route names.
pub fn allows(role: Role, scope: Option<&str>, need: Need, route: &str, device: Option<&str>) -> bool {
    match role {
        Role::Admin => true,
        Role::Helpdesk => need != Need::Admin,
        Role::ReadOnly => matches!(need, Need::DeviceLookup | Need::Read | Need::Posture),
        Role::Posture => need == Need::Posture,
        // A kiosk token's check-out and check-in name their device in the body: the handler
        // holds it to the token's device.
        Role::Kiosk => scope.is_some() && (need == Need::Shared || need == Need::DeviceLookup && route == "/v1/devices/{id}" && device == scope),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn may(role: Role, method: Method, route: &str) -> bool {
        allows(role, None, need(&method, route), route, None)
    }

    #[test]
    fn each_role_gets_its_share() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert!(may(Role::Admin, Method::PUT, "/v1/secrets/{name}"));
        // Helpdesk: devices and commands, no settings or secrets.
        assert!(may(Role::Helpdesk, Method::POST, "/v1/commands"));
        assert!(may(Role::Helpdesk, Method::PUT, "/v1/enqueue/{ids}"));
        assert!(may(Role::Helpdesk, Method::GET, "/v1/devices/{id}/commands"));
        assert!(!may(Role::Helpdesk, Method::GET, "/v1/secrets"));
        assert!(!may(Role::Helpdesk, Method::PUT, "/v1/pushcert"));
        assert!(!may(Role::Helpdesk, Method::POST, "/v1/profiles"));
        assert!(!may(Role::Helpdesk, Method::POST, "/v1/tokens"));
        // Read-only reads, never acts.
        assert!(may(Role::ReadOnly, Method::GET, "/v1/profiles"));
        assert!(may(Role::ReadOnly, Method::GET, "/v1/audit"));
        assert!(!may(Role::ReadOnly, Method::POST, "/v1/commands"));
        assert!(!may(Role::ReadOnly, Method::GET, "/v1/push/{ids}"), "a GET that pushes is an action");
        assert!(!may(Role::ReadOnly, Method::GET, "/v1/tokens"));
        // Posture: the posture API only.
        assert!(may(Role::Posture, Method::GET, "/v1/posture/devices/{id}"));
        assert!(may(Role::Posture, Method::GET, "/v1/posture/devices"));
        assert!(!may(Role::Posture, Method::GET, "/v1/devices/{id}"));
        assert!(!may(Role::Posture, Method::GET, "/v1/devices"));
        assert!(may(Role::ReadOnly, Method::GET, "/v1/posture/devices/{id}"));
        assert!(!may(Role::Kiosk, Method::GET, "/v1/posture/devices/{id}"));
        assert!(!may(Role::Posture, Method::GET, "/v1/devices/{id}/commands"));
        assert!(!may(Role::Posture, Method::GET, "/v1/profiles"));
    }

    #[test]
    fn a_kiosk_token_sees_its_own_device_only() {
        let lookup = need(&Method::GET, "/v1/devices/{id}");
        assert!(allows(Role::Kiosk, Some("KIOSK-1"), lookup, "/v1/devices/{id}", Some("KIOSK-1")));
        assert!(!allows(Role::Kiosk, Some("KIOSK-1"), lookup, "/v1/devices/{id}", Some("OTHER")));
        assert!(!allows(Role::Kiosk, Some("KIOSK-1"), need(&Method::GET, "/v1/devices"), "/v1/devices", None));
        assert!(!allows(Role::Kiosk, None, lookup, "/v1/devices/{id}", None));
        let checkin = need(&Method::POST, "/v1/shared/checkin");
        assert!(allows(Role::Kiosk, Some("KIOSK-1"), checkin, "/v1/shared/checkin", None));
        assert!(allows(Role::Helpdesk, None, checkin, "/v1/shared/checkin", None));
        assert!(!allows(Role::ReadOnly, None, checkin, "/v1/shared/checkin", None));
        assert!(!allows(Role::Kiosk, Some("KIOSK-1"), need(&Method::POST, "/v1/shared/pools"), "/v1/shared/pools", None));
        assert!(!allows(Role::Kiosk, Some("KIOSK-1"), need(&Method::GET, "/v1/shared/sessions"), "/v1/shared/sessions", None));
    }
}
