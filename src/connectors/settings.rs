//! What an admin configures for a connector, checked once when it is stored: an HTTP call (with
//! the `vocera` preset) or Epic's DisassociateMobileDevice. Credentials live apart
//! ([`Secrets`]), sealed, and are never shown again.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The variables a connector's templates may use (filled when the call is queued).
pub const VARIABLES: [(&str, &str); 14] = [
    ("PreviousUser", "the user who held the device (the one being logged out)"),
    ("PreviousUserEmail", "that user's e-mail address"),
    ("DeviceSerialNumber", "the device's serial number"),
    ("DeviceUDID", "the device's UDID"),
    ("DeviceName", "the device's name"),
    ("InstallID", "Epic's install id: serial number + app name"),
    ("EpicAppName", "the Epic app name of the connector"),
    ("Pool", "the shared pool"),
    ("SessionID", "the check-out session"),
    ("EventTopic", "the event an automation reacts to"),
    ("User", "the device's current user (a compliance action)"),
    ("UserEmail", "that user's e-mail address"),
    ("ComplianceStatus", "Compliant, NonCompliant or NotAvailable (a compliance action)"),
    ("CompliancePolicy", "the policy whose action calls the connector"),
];

/// Whether `name` is a connector template variable (or `Event.FIELD` of an automation's event).
pub fn is_variable(name: &str) -> bool {
    VARIABLES.iter().any(|(n, _)| *n == name) || name.strip_prefix("Event.").is_some_and(|f| !f.is_empty())
}

/// The longest deadline of one exchange (a call makes two at most: token, then the call; the
/// worker also ends a call at four fifths of `connectors.lease`).
pub const MAX_TIMEOUT_SECS: u64 = 60;

/// How a body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BodyFormat {
    /// `application/x-www-form-urlencoded`.
    #[default]
    Form,
    /// A JSON object of strings.
    Json,
    /// No body.
    None,
}

/// A body: fields whose values are templates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Body {
    /// Encoding.
    #[serde(default)]
    pub format: BodyFormat,
    /// Field name → template (`{PreviousUser}` …).
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

/// How an HTTP connector authenticates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Auth {
    /// None.
    #[default]
    None,
    /// HTTP Basic; the password is a secret.
    Basic {
        /// User name.
        username: String,
    },
    /// `Authorization: Bearer`; the token is a secret.
    Bearer,
    /// OAuth2 client credentials; the client secret is a secret.
    Oauth2 {
        /// Token endpoint.
        token_url: String,
        /// Client id.
        client_id: String,
        /// Scope, when the endpoint needs one.
        #[serde(default)]
        scope: Option<String>,
    },
}

/// An HTTP connector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    #[serde(default = "post")]
    pub method: String,
    /// URL; may hold variables (`{DeviceSerialNumber}`), encoded as a path or query part.
    pub url: String,
    /// Extra headers (values are templates).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The body.
    #[serde(default)]
    pub body: Body,
    /// Authentication.
    #[serde(default)]
    pub auth: Auth,
    /// The whole exchange's deadline, seconds.
    #[serde(default = "ten")]
    pub timeout_secs: u64,
    /// Statuses that count as success; empty: 200–299.
    #[serde(default)]
    pub success_statuses: Vec<u16>,
    /// A text in the answer meaning "this user or device is not known there": recorded as
    /// `not_found`, not retried, not failed.
    #[serde(default)]
    pub not_found_match: Option<String>,
}

/// Epic environment type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Environment {
    /// Production.
    Production,
    /// Non-production (test, showroom).
    NonProduction,
}

/// Epic's default token path, below `{interconnect_url}/{instance}/`.
pub const EPIC_TOKEN_PATH: &str = "oauth2/token";
/// Epic's default DisassociateMobileDevice path, below `{interconnect_url}/{instance}/`.
pub const EPIC_LOGOUT_PATH: &str = "api/epic/2019/Security/MobileDevice/DisassociateMobileDevice";
/// Epic's answer when no install with the id exists (nobody signed in to the app yet).
pub const EPIC_NOT_FOUND: &str = "Install ID not found";

/// An Epic connector: OAuth2 backend services (a JWT client assertion signed by the server's
/// key, published as a JWK Set) and DisassociateMobileDevice for the install id
/// serial number + app name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpicSettings {
    /// Shown to admins.
    pub display_name: String,
    /// Production or non-production.
    pub environment: Environment,
    /// The Epic app, case sensitive: `Rover`, `Haiku`, `Canto`, `Limerick`.
    pub app_name: String,
    /// Interconnect server URL, e.g. `https://epic.example.org/Interconnect-PRD`.
    pub interconnect_url: String,
    /// Interconnect instance, e.g. `APIProxyPRD`.
    pub instance: String,
    /// The OAuth2 client id Epic issued for the backend service.
    pub client_id: String,
    /// Token endpoint, relative to `{interconnect_url}/{instance}/` or absolute.
    #[serde(default = "epic_token_path")]
    pub token_path: String,
    /// DisassociateMobileDevice endpoint, relative or absolute.
    #[serde(default = "epic_logout_path")]
    pub logout_path: String,
    /// The logout body (JSON fields, values are templates).
    #[serde(default = "epic_logout_fields")]
    pub logout_fields: BTreeMap<String, String>,
    /// The answer text that means the install id is unknown.
    #[serde(default = "epic_not_found")]
    pub not_found_match: String,
    /// The whole exchange's deadline, seconds.
    #[serde(default = "ten")]
    pub timeout_secs: u64,
}

impl EpicSettings {
    fn url(&self, path: &str) -> String {
        if path.starts_with("https://") || path.starts_with("http://") {
            return path.to_string();
        }
        format!("{}/{}/{}", self.interconnect_url.trim_end_matches('/'), self.instance.trim_matches('/'), path.trim_start_matches('/'))
    }

    /// The token endpoint (the assertion's audience).
    pub fn token_url(&self) -> String {
        self.url(&self.token_path)
    }

    /// The DisassociateMobileDevice endpoint.
    pub fn logout_url(&self) -> String {
        self.url(&self.logout_path)
    }
}

fn post() -> String {
    "POST".into()
}
fn ten() -> u64 {
    10
}
fn epic_token_path() -> String {
    EPIC_TOKEN_PATH.into()
}
fn epic_logout_path() -> String {
    EPIC_LOGOUT_PATH.into()
}
fn epic_not_found() -> String {
    EPIC_NOT_FOUND.into()
}
fn epic_logout_fields() -> BTreeMap<String, String> {
    BTreeMap::from([("InstallID".to_string(), "{InstallID}".to_string())])
}

/// A connector's settings (stored as JSON, without secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Settings {
    /// An HTTP call.
    Http(HttpSettings),
    /// Epic DisassociateMobileDevice.
    Epic(EpicSettings),
}

impl Settings {
    /// `http` or `epic`.
    pub fn kind(&self) -> &'static str {
        match self {
            Settings::Http(_) => "http",
            Settings::Epic(_) => "epic",
        }
    }

    /// Every problem with the settings (empty when fine); `secrets` are the credentials given
    /// or already stored.
    pub fn check(&self, secrets: &Secrets) -> Vec<String> {
        let mut out = Vec::new();
        fn template(out: &mut Vec<String>, what: &str, t: &str) {
            for n in mdm_profiles::vars::names_in(t) {
                if !is_variable(n) {
                    out.push(format!("{what}: unknown variable {{{n}}}; known: {}", VARIABLES.map(|v| v.0).join(", ")));
                }
            }
        }
        match self {
            Settings::Http(h) => {
                template(&mut out, "url", &h.url);
                for (k, v) in &h.headers {
                    template(&mut out, &format!("headers.{k}"), v);
                }
                for (k, v) in &h.body.fields {
                    template(&mut out, &format!("body.fields.{k}"), v);
                }
                if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&h.method.as_str()) {
                    out.push(format!("method {:?}: GET, POST, PUT, PATCH or DELETE", h.method));
                }
                check_url("url", &h.url.replace(['{', '}'], ""), &mut out);
                for k in h.headers.keys() {
                    if axum::http::HeaderName::from_bytes(k.as_bytes()).is_err() || k.eq_ignore_ascii_case("authorization") && h.auth != Auth::None {
                        out.push(format!("headers.{k}: not a header name, or set by auth"));
                    }
                }
                if h.body.format == BodyFormat::None && !h.body.fields.is_empty() {
                    out.push("body.fields: a body of format none has no fields".into());
                }
                match &h.auth {
                    Auth::None => {}
                    Auth::Basic { username } if username.is_empty() || username.contains(':') => out.push("auth.username: not empty, no ':'".into()),
                    Auth::Basic { .. } if secrets.password.is_none() => out.push("secrets.password: basic auth needs a password".into()),
                    Auth::Bearer if secrets.token.is_none() => out.push("secrets.token: bearer auth needs a token".into()),
                    Auth::Oauth2 { token_url, client_id, .. } => {
                        check_url("auth.token_url", token_url, &mut out);
                        if client_id.is_empty() {
                            out.push("auth.client_id: must not be empty".into());
                        }
                        if secrets.client_secret.is_none() {
                            out.push("secrets.client_secret: OAuth2 client credentials need a client secret".into());
                        }
                    }
                    _ => {}
                }
                if !(1..=MAX_TIMEOUT_SECS).contains(&h.timeout_secs) {
                    out.push(format!("timeout_secs: 1 to {MAX_TIMEOUT_SECS}"));
                }
                if h.success_statuses.iter().any(|s| !(100..=599).contains(s)) {
                    out.push("success_statuses: HTTP statuses (100–599)".into());
                }
            }
            Settings::Epic(e) => {
                for (what, v) in [("display_name", &e.display_name), ("app_name", &e.app_name), ("instance", &e.instance), ("client_id", &e.client_id)] {
                    if v.trim().is_empty() {
                        out.push(format!("{what}: must not be empty"));
                    }
                }
                if !e.app_name.chars().all(|c| c.is_ascii_alphanumeric()) {
                    out.push(format!("app_name {:?}: letters and digits (the install id is serial number + app name)", e.app_name));
                }
                if e.instance.contains(['/', '?', '#']) {
                    out.push("instance: a name such as APIProxyPRD, not a path".into());
                }
                check_url("interconnect_url", &e.interconnect_url, &mut out);
                check_url("token_path", &e.token_url(), &mut out);
                check_url("logout_path", &e.logout_url(), &mut out);
                for (k, v) in &e.logout_fields {
                    template(&mut out, &format!("logout_fields.{k}"), v);
                }
                if !(1..=MAX_TIMEOUT_SECS).contains(&e.timeout_secs) {
                    out.push(format!("timeout_secs: 1 to {MAX_TIMEOUT_SECS}"));
                }
            }
        }
        out
    }
}

fn check_url(what: &str, u: &str, out: &mut Vec<String>) {
    if let Err(e) = crate::outbound::check_url(u) {
        out.push(format!("{what}: {e}"));
    }
}

/// A connector's credentials (sealed at rest, never returned).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Secrets {
    /// Basic auth password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// OAuth2 client secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl Secrets {
    /// `other`'s values over these.
    pub fn merged(self, other: Secrets) -> Secrets {
        Secrets { password: other.password.or(self.password), token: other.token.or(self.token), client_secret: other.client_secret.or(self.client_secret) }
    }

    /// Which are set, by name (what the API shows).
    pub fn names(&self) -> Vec<&'static str> {
        [("password", &self.password), ("token", &self.token), ("client_secret", &self.client_secret)]
            .into_iter()
            .filter(|(_, v)| v.is_some())
            .map(|(n, _)| n)
            .collect()
    }

    /// Whether none is set.
    pub fn is_empty(&self) -> bool {
        self.names().is_empty()
    }
}

/// Vocera's web logout path.
pub const VOCERA_LOGOUT_PATH: &str = "/vocera/SAML/webLogout";

/// The `vocera` preset: `POST https://<host>/vocera/SAML/webLogout` with the previous user's
/// name in field `username` (form, or JSON with `format: json`).
pub fn vocera(host: &str, format: BodyFormat, field: Option<&str>) -> Result<HttpSettings, String> {
    let host = host.trim().trim_start_matches("https://").trim_end_matches('/');
    if host.is_empty() || host.contains(['/', '?', '#', '@', ' ']) {
        return Err(format!("preset vocera: host {host:?} must be a host name (and port), e.g. vocera.example.org"));
    }
    if format == BodyFormat::None {
        return Err("preset vocera: the body is form or json".into());
    }
    Ok(HttpSettings {
        method: "POST".into(),
        url: format!("https://{host}{VOCERA_LOGOUT_PATH}"),
        headers: BTreeMap::new(),
        body: Body { format, fields: BTreeMap::from([(field.unwrap_or("username").to_string(), "{PreviousUser}".to_string())]) },
        auth: Auth::None,
        timeout_secs: 10,
        success_statuses: Vec::new(),
        not_found_match: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocera_preset_posts_the_previous_user() {
        let h = vocera("vocera.example.org", BodyFormat::Form, None).unwrap();
        assert_eq!(h.url, "https://vocera.example.org/vocera/SAML/webLogout");
        assert_eq!(h.body.fields["username"], "{PreviousUser}");
        assert!(Settings::Http(h).check(&Secrets::default()).is_empty());
        assert!(vocera("evil.example/x", BodyFormat::Form, None).is_err());
    }

    #[test]
    fn epic_urls_follow_server_and_instance() {
        let e: EpicSettings = serde_json::from_value(serde_json::json!({
            "display_name": "Rover logout", "environment": "production", "app_name": "Rover",
            "interconnect_url": "https://epic.example.org/Interconnect-PRD/", "instance": "APIProxyPRD", "client_id": "abc"
        }))
        .unwrap();
        assert_eq!(e.token_url(), "https://epic.example.org/Interconnect-PRD/APIProxyPRD/oauth2/token");
        assert_eq!(e.logout_url(), format!("https://epic.example.org/Interconnect-PRD/APIProxyPRD/{EPIC_LOGOUT_PATH}"));
        assert!(Settings::Epic(e.clone()).check(&Secrets::default()).is_empty());
        let bad = EpicSettings { app_name: "Ro ver".into(), ..e };
        assert_eq!(Settings::Epic(bad).check(&Secrets::default()).len(), 1);
    }

    #[test]
    fn templates_and_auth_are_checked() {
        let mut h = vocera("v.example.org", BodyFormat::Json, Some("user")).unwrap();
        h.body.fields.insert("x".into(), "{Nope}".into());
        h.auth = Auth::Bearer;
        let problems = Settings::Http(h).check(&Secrets::default());
        assert_eq!(problems.len(), 2, "{problems:?}");
    }
}
