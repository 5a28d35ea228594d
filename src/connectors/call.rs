//! One connector call: templates filled from the call's variables, authentication (Basic,
//! Bearer, OAuth2 client credentials, Epic's JWT client assertion) and the outcome read from
//! the answer.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;

use super::jwt::Keys;
use super::settings::{Auth, Body, BodyFormat, EpicSettings, HttpSettings, Secrets, Settings};
use crate::outbound::{Outbound, Request, ANSWER_BYTES, MAX_READ};

/// How one call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Success.
    Done,
    /// The far end does not know the user or install (recorded, not failed).
    NotFound,
    /// Failed; worth another attempt.
    Failed(String),
}

/// The outcome of one call, as the API and the queue record it.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// What it means.
    pub verdict: Verdict,
    /// The HTTP status of the last exchange.
    pub status: Option<u16>,
    /// How long the whole call took.
    pub latency: Duration,
    /// The first bytes of the last answer.
    pub answer: Option<String>,
}

/// Access tokens got from token endpoints, reused until shortly before they expire; keyed by
/// the connector's id and version.
#[derive(Debug, Default)]
pub struct TokenCache(Mutex<HashMap<String, (String, Instant)>>);

impl TokenCache {
    fn get(&self, key: &str) -> Option<String> {
        let m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        m.get(key).filter(|(_, until)| *until > Instant::now()).map(|(t, _)| t.clone())
    }

    fn put(&self, key: String, token: String, lifetime: Duration) {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() > 1000 {
            m.clear();
        }
        m.insert(key, (token, Instant::now() + lifetime.saturating_sub(Duration::from_secs(30))));
    }

    /// Forgets a connector's token (after a 401, or a change of its settings).
    pub fn forget(&self, key: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

/// What one call needs.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The outbound policy.
    pub outbound: Arc<Outbound>,
    /// The assertion key.
    pub keys: Keys,
    /// Cached access tokens.
    pub tokens: Arc<TokenCache>,
}

fn fill(template: &str, vars: &BTreeMap<String, String>, encode: bool) -> String {
    let lookup = |n: &str| {
        vars.get(n).map(|v| if encode { url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>().replace('+', "%20") } else { v.clone() })
    };
    // A variable the call does not have is left empty rather than failing the logout.
    match mdm_profiles::vars::expand(template, &|n| lookup(n).or_else(|| Some(String::new()))) {
        Ok(s) => s.into_owned(),
        Err(_) => template.to_string(),
    }
}

fn body(b: &Body, vars: &BTreeMap<String, String>) -> (Vec<u8>, Option<&'static str>) {
    let fields: BTreeMap<&String, String> = b.fields.iter().map(|(k, v)| (k, fill(v, vars, false))).collect();
    match b.format {
        BodyFormat::None => (Vec::new(), None),
        BodyFormat::Json => (serde_json::to_vec(&fields).unwrap_or_default(), Some("application/json")),
        BodyFormat::Form => {
            let mut s = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in &fields {
                s.append_pair(k, v);
            }
            (s.finish().into_bytes(), Some("application/x-www-form-urlencoded"))
        }
    }
}

fn failed(why: impl Into<String>, started: Instant) -> Outcome {
    Outcome { verdict: Verdict::Failed(why.into()), status: None, latency: started.elapsed(), answer: None }
}

impl Caller {
    /// Runs the call `settings` describe with `vars`.
    pub async fn run(&self, connector_id: &str, settings: &Settings, secrets: &Secrets, vars: &BTreeMap<String, String>) -> Outcome {
        let started = Instant::now();
        match settings {
            Settings::Http(h) => self.http(connector_id, h, secrets, vars, started).await,
            Settings::Epic(e) => self.epic(connector_id, e, vars, started).await,
        }
    }

    /// Reaches the connector's server without logging anyone out: the token endpoint when it
    /// has one (a token is got), else the URL itself with `HEAD`-like `OPTIONS`.
    pub async fn test_connection(&self, connector_id: &str, settings: &Settings, secrets: &Secrets) -> Outcome {
        let started = Instant::now();
        let token = match settings {
            Settings::Epic(e) => self.epic_token(connector_id, e, started).await,
            Settings::Http(HttpSettings { auth: Auth::Oauth2 { token_url, client_id, scope }, .. }) => {
                self.client_credentials(connector_id, token_url, client_id, scope.as_deref(), secrets, started).await
            }
            Settings::Http(h) => return self.reach(h, started).await,
        };
        match token {
            Ok(_) => Outcome { verdict: Verdict::Done, status: Some(200), latency: started.elapsed(), answer: Some("access token issued".into()) },
            Err(o) => o,
        }
    }

    /// Any answer at all from the URL (`OPTIONS`) means the server is there and speaks HTTP.
    async fn reach(&self, h: &HttpSettings, started: Instant) -> Outcome {
        let url = fill(&h.url, &BTreeMap::new(), true);
        let r = Request {
            method: reqwest::Method::OPTIONS,
            url: &url,
            headers: &[],
            body: Vec::new(),
            content_type: None,
            timeout: Some(Duration::from_secs(h.timeout_secs)),
            read: ANSWER_BYTES,
        };
        match self.outbound.request(r).await {
            Ok(a) => Outcome { verdict: Verdict::Done, status: Some(a.status), latency: started.elapsed(), answer: Some(a.first_bytes) },
            Err(e) => failed(e.to_string(), started),
        }
    }

    async fn http(&self, connector_id: &str, h: &HttpSettings, secrets: &Secrets, vars: &BTreeMap<String, String>, started: Instant) -> Outcome {
        let url = fill(&h.url, vars, true);
        let mut headers: Vec<(&str, String)> = h.headers.iter().map(|(k, v)| (k.as_str(), fill(v, vars, false))).collect();
        match &h.auth {
            Auth::None => {}
            Auth::Basic { username } => {
                let pw = secrets.password.clone().unwrap_or_default();
                headers.push(("authorization", format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{username}:{pw}")))));
            }
            Auth::Bearer => headers.push(("authorization", format!("Bearer {}", secrets.token.clone().unwrap_or_default()))),
            Auth::Oauth2 { token_url, client_id, scope } => {
                match self.client_credentials(connector_id, token_url, client_id, scope.as_deref(), secrets, started).await {
                    Ok(t) => headers.push(("authorization", format!("Bearer {t}"))),
                    Err(o) => return o,
                }
            }
        }
        let (bytes, ct) = body(&h.body, vars);
        let method = reqwest::Method::from_bytes(h.method.as_bytes()).unwrap_or(reqwest::Method::POST);
        let r = Request {
            method,
            url: &url,
            headers: &headers,
            body: bytes,
            content_type: ct,
            timeout: Some(Duration::from_secs(h.timeout_secs)),
            read: ANSWER_BYTES,
        };
        let answer = match self.outbound.request(r).await {
            Ok(a) => a,
            Err(e) => return failed(e.to_string(), started),
        };
        if answer.status == 401 {
            self.tokens.forget(connector_id);
        }
        let ok = if h.success_statuses.is_empty() { (200..300).contains(&answer.status) } else { h.success_statuses.contains(&answer.status) };
        let not_found = h.not_found_match.as_deref().is_some_and(|m| !m.is_empty() && answer.first_bytes.to_lowercase().contains(&m.to_lowercase()));
        let verdict = match (ok, not_found) {
            (_, true) => Verdict::NotFound,
            (true, false) => Verdict::Done,
            (false, false) => Verdict::Failed(format!("answered HTTP {}", answer.status)),
        };
        Outcome { verdict, status: Some(answer.status), latency: started.elapsed(), answer: Some(answer.first_bytes) }
    }

    async fn epic(&self, connector_id: &str, e: &EpicSettings, vars: &BTreeMap<String, String>, started: Instant) -> Outcome {
        let token = match self.epic_token(connector_id, e, started).await {
            Ok(t) => t,
            Err(o) => return o,
        };
        let fields: BTreeMap<&String, String> = e.logout_fields.iter().map(|(k, v)| (k, fill(v, vars, false))).collect();
        let headers = [("authorization", format!("Bearer {token}")), ("accept", "application/json".to_string())];
        let url = e.logout_url();
        let r = Request {
            method: reqwest::Method::POST,
            url: &url,
            headers: &headers,
            body: serde_json::to_vec(&fields).unwrap_or_default(),
            content_type: Some("application/json"),
            timeout: Some(Duration::from_secs(e.timeout_secs)),
            read: ANSWER_BYTES,
        };
        let answer = match self.outbound.request(r).await {
            Ok(a) => a,
            Err(err) => return failed(err.to_string(), started),
        };
        if answer.status == 401 {
            self.tokens.forget(connector_id);
        }
        let not_found = !e.not_found_match.is_empty() && answer.first_bytes.to_lowercase().contains(&e.not_found_match.to_lowercase());
        let verdict = if not_found {
            Verdict::NotFound
        } else if (200..300).contains(&answer.status) {
            Verdict::Done
        } else {
            Verdict::Failed(format!("DisassociateMobileDevice answered HTTP {}", answer.status))
        };
        Outcome { verdict, status: Some(answer.status), latency: started.elapsed(), answer: Some(answer.first_bytes) }
    }

    /// An access token through OAuth2 backend services: a JWT client assertion signed by the
    /// server's key.
    async fn epic_token(&self, connector_id: &str, e: &EpicSettings, started: Instant) -> Result<String, Outcome> {
        if let Some(t) = self.tokens.get(connector_id) {
            return Ok(t);
        }
        let aud = e.token_url();
        let assertion = self.keys.assertion(&e.client_id, &aud).await.map_err(|err| failed(err.to_string(), started))?;
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            .append_pair("client_assertion", &assertion)
            .finish();
        self.token_request(connector_id, &aud, &[], form, e.timeout_secs, started).await
    }

    async fn client_credentials(
        &self,
        connector_id: &str,
        token_url: &str,
        client_id: &str,
        scope: Option<&str>,
        secrets: &Secrets,
        started: Instant,
    ) -> Result<String, Outcome> {
        if let Some(t) = self.tokens.get(connector_id) {
            return Ok(t);
        }
        let form = {
            let mut f = url::form_urlencoded::Serializer::new(String::new());
            f.append_pair("grant_type", "client_credentials");
            if let Some(s) = scope {
                f.append_pair("scope", s);
            }
            f.finish()
        };
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{}", secrets.client_secret.clone().unwrap_or_default()));
        self.token_request(connector_id, token_url, &[("authorization", format!("Basic {basic}"))], form, 10, started).await
    }

    async fn token_request(
        &self,
        connector_id: &str,
        url: &str,
        headers: &[(&str, String)],
        form: String,
        timeout: u64,
        started: Instant,
    ) -> Result<String, Outcome> {
        let r = Request {
            method: reqwest::Method::POST,
            url,
            headers,
            body: form.into_bytes(),
            content_type: Some("application/x-www-form-urlencoded"),
            timeout: Some(Duration::from_secs(timeout)),
            read: MAX_READ,
        };
        let a = self.outbound.request(r).await.map_err(|e| failed(format!("token endpoint: {e}"), started))?;
        let refused =
            |why: String| Outcome { verdict: Verdict::Failed(why), status: Some(a.status), latency: started.elapsed(), answer: Some(a.first_bytes.clone()) };
        if !(200..300).contains(&a.status) {
            return Err(refused(format!("token endpoint answered HTTP {}", a.status)));
        }
        #[derive(serde::Deserialize)]
        struct TokenAnswer {
            access_token: String,
            #[serde(default)]
            expires_in: Option<u64>,
        }
        let t: TokenAnswer = serde_json::from_str(&a.first_bytes).map_err(|e| refused(format!("token endpoint answer unreadable: {e}")))?;
        self.tokens.put(connector_id.to_string(), t.access_token.clone(), Duration::from_secs(t.expires_in.unwrap_or(300).min(3600)));
        Ok(t.access_token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_from_the_call() {
        let vars = BTreeMap::from([("PreviousUser".to_string(), "nurse a&b".to_string())]);
        assert_eq!(fill("https://x/u/{PreviousUser}", &vars, true), "https://x/u/nurse%20a%26b");
        let (b, ct) = body(&Body { format: BodyFormat::Form, fields: BTreeMap::from([("username".into(), "{PreviousUser}".into())]) }, &vars);
        assert_eq!(String::from_utf8(b).unwrap(), "username=nurse+a%26b");
        assert_eq!(ct, Some("application/x-www-form-urlencoded"));
        let (b, _) = body(&Body { format: BodyFormat::Json, fields: BTreeMap::from([("u".into(), "{PreviousUser}/{Missing}".into())]) }, &vars);
        assert_eq!(String::from_utf8(b).unwrap(), r#"{"u":"nurse a&b/"}"#);
    }
}
