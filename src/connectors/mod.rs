//! Connectors: calls the server makes to other systems for an admin — app logouts at a shared
//! device's check-in (a Vocera-style web logout, Epic's DisassociateMobileDevice) and the calls
//! automations make on events. Settings are checked when stored, credentials sealed and never
//! shown; calls run from a durable queue ([`worker`]) so nothing waits for them.

pub mod call;
pub mod jwt;
pub mod settings;
pub mod worker;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use self::call::{Caller, Outcome, TokenCache, Verdict};
use self::settings::{Secrets, Settings};
use crate::sealed::{Kind, Vault};
use crate::store::connectors::{AutomationRow, CallRow, ConnectorRow, ConnectorStore};
use crate::store::{now, Store};

/// Why a connector request failed.
pub type ConnectorError = crate::service_error::RequestError;

/// A connector to store: its name, kind-tagged settings (or a preset) and credentials.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewConnector {
    /// Unique name.
    pub name: String,
    /// The settings, tagged by `kind` (`http` or `epic`); absent with a preset.
    #[serde(default)]
    pub settings: Option<Settings>,
    /// A preset the settings are made from: `vocera`.
    #[serde(default)]
    pub preset: Option<Preset>,
    /// Credentials (sealed, never returned); on a change, only those given are replaced.
    #[serde(default)]
    pub secrets: Secrets,
}

/// A preset's parameters.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "name", rename_all = "lowercase", deny_unknown_fields)]
pub enum Preset {
    /// Vocera web logout.
    Vocera {
        /// Vocera server host (and port).
        host: String,
        /// `form` (default) or `json`.
        #[serde(default)]
        format: settings::BodyFormat,
        /// The body field carrying the user name (default `username`).
        #[serde(default)]
        field: Option<String>,
    },
}

/// A connector as the API shows it: settings, which credentials are set (never their values).
#[derive(Debug, Clone, Serialize)]
pub struct ConnectorView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `http` or `epic`.
    pub kind: String,
    /// Settings.
    pub settings: Settings,
    /// Names of the credentials set.
    pub secrets_set: Vec<&'static str>,
    /// Epic: the token endpoint (the assertion's audience) and the logout URL used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<serde_json::Value>,
    /// Created.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub created_at: chrono::NaiveDateTime,
    /// Changed.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub updated_at: chrono::NaiveDateTime,
}

/// A readable outcome of a test call.
#[derive(Debug, Clone, Serialize)]
pub struct TestOutcome {
    /// `done`, `not_found` or `failed`.
    pub outcome: &'static str,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// HTTP status of the last exchange.
    pub status: Option<u16>,
    /// Milliseconds.
    pub latency_ms: u128,
    /// The first bytes of the answer.
    pub answer: Option<String>,
}

impl From<Outcome> for TestOutcome {
    fn from(o: Outcome) -> Self {
        let (outcome, error) = match o.verdict {
            Verdict::Done => ("done", None),
            Verdict::NotFound => ("not_found", None),
            Verdict::Failed(e) => ("failed", Some(e)),
        };
        TestOutcome { outcome, error, status: o.status, latency_ms: o.latency.as_millis(), answer: o.answer }
    }
}

/// An automation to store.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAutomation {
    /// Unique name.
    pub name: String,
    /// The event topic (`shared.checkin` …).
    pub topic: String,
    /// `data` fields and the values a matching event has (all must match).
    #[serde(default)]
    pub condition: serde_json::Map<String, serde_json::Value>,
    /// The connector (id or name) it calls.
    pub connector: String,
    /// Whether it runs (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// Connector settings, calls and automations. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ConnectorService {
    store: ConnectorStore,
    all: Store,
    vault: Vault,
    caller: Caller,
}

impl ConnectorService {
    /// The service over `store`, calling out under `outbound`.
    pub fn new(store: Store, vault: Vault, outbound: Arc<crate::outbound::Outbound>) -> ConnectorService {
        let keys = jwt::Keys::new(store.connectors(), vault.clone());
        ConnectorService { store: store.connectors(), all: store, vault, caller: Caller { outbound, keys, tokens: Arc::new(TokenCache::default()) } }
    }

    /// The JWK Set of the client-assertion key.
    pub async fn jwks(&self) -> Result<serde_json::Value, ConnectorError> {
        self.caller.keys.jwks().await.map_err(|e| ConnectorError::Internal(e.to_string()))
    }

    fn settings_of(n: &NewConnector) -> Result<Settings, ConnectorError> {
        match (&n.settings, &n.preset) {
            (Some(_), Some(_)) => Err(ConnectorError::BadRequest("give settings or a preset, not both".into())),
            (None, None) => Err(ConnectorError::BadRequest("give settings (with kind http or epic) or a preset".into())),
            (Some(s), None) => Ok(s.clone()),
            (None, Some(Preset::Vocera { host, format, field })) => {
                Ok(Settings::Http(settings::vocera(host, *format, field.as_deref()).map_err(ConnectorError::BadRequest)?))
            }
        }
    }

    fn seal(&self, id: &str, s: &Secrets) -> Result<Option<Vec<u8>>, ConnectorError> {
        if s.is_empty() {
            return Ok(None);
        }
        let plain = serde_json::to_vec(s).map_err(|e| ConnectorError::Internal(e.to_string()))?;
        Ok(Some(self.vault.seal(Kind::ConnectorSecret, id, &plain).map_err(|e| ConnectorError::Internal(e.to_string()))?))
    }

    /// A stored connector's settings and credentials.
    pub fn open(&self, row: &ConnectorRow) -> Result<(Settings, Secrets), ConnectorError> {
        let settings: Settings = serde_json::from_str(&row.settings).map_err(|e| ConnectorError::Internal(format!("stored settings of {}: {e}", row.id)))?;
        let secrets = match &row.secret {
            None => Secrets::default(),
            Some(sealed) => {
                let plain = self.vault.open(Kind::ConnectorSecret, &row.id, sealed).map_err(|e| ConnectorError::Internal(e.to_string()))?;
                serde_json::from_slice(&plain).map_err(|e| ConnectorError::Internal(e.to_string()))?
            }
        };
        Ok((settings, secrets))
    }

    /// How the API shows a connector.
    pub fn view(&self, row: &ConnectorRow) -> Result<ConnectorView, ConnectorError> {
        let (settings, secrets) = self.open(row)?;
        let endpoints = match &settings {
            Settings::Epic(e) => Some(serde_json::json!({"token_url": e.token_url(), "logout_url": e.logout_url(), "jwks_path": "/connectors/jwks.json"})),
            Settings::Http(_) => None,
        };
        Ok(ConnectorView {
            id: row.id.clone(),
            name: row.name.clone(),
            kind: row.kind.clone(),
            settings,
            secrets_set: secrets.names(),
            endpoints,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }

    fn checked(settings: &Settings, secrets: &Secrets) -> Result<(), ConnectorError> {
        let problems = settings.check(secrets);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConnectorError::BadRequest(format!("the connector is not valid: {}", problems.join("; "))))
        }
    }

    /// Stores a new connector.
    pub async fn create(&self, n: NewConnector) -> Result<ConnectorRow, ConnectorError> {
        let name = n.name.trim().to_string();
        if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
            return Err(ConnectorError::BadRequest("name: 1 to 100 printable characters".into()));
        }
        let settings = Self::settings_of(&n)?;
        Self::checked(&settings, &n.secrets)?;
        let id = uuid::Uuid::new_v4().to_string();
        let at = now();
        let row = ConnectorRow {
            secret: self.seal(&id, &n.secrets)?,
            id,
            name,
            kind: settings.kind().into(),
            settings: serde_json::to_string(&settings).map_err(|e| ConnectorError::Internal(e.to_string()))?,
            created_at: at,
            updated_at: at,
        };
        self.store.create(row.clone()).await?;
        tracing::info!(connector = %row.id, kind = %row.kind, "connector added");
        Ok(row)
    }

    /// Replaces a connector's settings; credentials given replace the stored ones, the others stay.
    pub async fn update(&self, key: &str, n: NewConnector) -> Result<ConnectorRow, ConnectorError> {
        let old = self.get(key).await?;
        let name = n.name.trim().to_string();
        if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
            return Err(ConnectorError::BadRequest("name: 1 to 100 printable characters".into()));
        }
        let (_, stored) = self.open(&old)?;
        let settings = Self::settings_of(&n)?;
        let secrets = stored.merged(n.secrets);
        Self::checked(&settings, &secrets)?;
        let row = ConnectorRow {
            secret: self.seal(&old.id, &secrets)?,
            name,
            kind: settings.kind().into(),
            settings: serde_json::to_string(&settings).map_err(|e| ConnectorError::Internal(e.to_string()))?,
            updated_at: now(),
            ..old
        };
        self.store.update(row.clone()).await?;
        Ok(row)
    }

    /// A connector by id or name.
    pub async fn get(&self, key: &str) -> Result<ConnectorRow, ConnectorError> {
        self.store.get(key.to_string()).await?.ok_or_else(|| ConnectorError::NotFound(format!("no connector {key}")))
    }

    /// Every connector.
    pub async fn list(&self) -> Result<Vec<ConnectorRow>, ConnectorError> {
        Ok(self.store.list().await?)
    }

    /// Deletes a connector no pool uses (automations and calls go with it).
    pub async fn delete(&self, key: &str) -> Result<bool, ConnectorError> {
        let row = self.get(key).await?;
        let users: Vec<String> =
            self.all.shared().pools().await?.into_iter().filter(|p| p.row.parsed().logout_connectors.contains(&row.id)).map(|p| p.row.name).collect();
        if !users.is_empty() {
            return Err(ConnectorError::Conflict(format!("connector {} is a logout connector of pool(s) {}", row.name, users.join(", "))));
        }
        Ok(self.store.delete(row.id).await?)
    }

    /// Runs a call now, outside the queue.
    async fn run_now(&self, row: &ConnectorRow, vars: &BTreeMap<String, String>) -> Result<Outcome, ConnectorError> {
        let (settings, secrets) = self.open(row)?;
        Ok(self.caller.run(&cache_key(row), &settings, &secrets, &with_install_id(&settings, vars.clone())).await)
    }

    /// Test connection: reaches the server (and its token endpoint) without logging anyone out.
    pub async fn test_connection(&self, key: &str) -> Result<TestOutcome, ConnectorError> {
        let row = self.get(key).await?;
        let (settings, secrets) = self.open(&row)?;
        Ok(self.caller.test_connection(&cache_key(&row), &settings, &secrets).await.into())
    }

    /// Test logout: the real logout call for the device with `serial` (its last user, when a
    /// session is recorded, else `user`).
    pub async fn test_logout(&self, key: &str, serial: &str, user: Option<String>) -> Result<TestOutcome, ConnectorError> {
        let row = self.get(key).await?;
        let serial = serial.trim();
        if serial.is_empty() || serial.len() > 64 || !serial.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ConnectorError::BadRequest("serial_number: letters and digits".into()));
        }
        let mut vars = BTreeMap::from([("DeviceSerialNumber".to_string(), serial.to_string())]);
        if let Some(d) = self.all.devices().device_by_serial(serial.to_string()).await? {
            vars.insert("DeviceUDID".into(), d.id.clone());
            if let Some(n) = d.device_name {
                vars.insert("DeviceName".into(), n);
            }
            let last = self.all.shared().sessions(crate::store::shared::SessionQuery { device: Some(d.id), limit: 1, ..Default::default() }).await?;
            if let Some(s) = last.into_iter().next() {
                vars.insert("PreviousUser".into(), s.username);
                if let Some(e) = s.email {
                    vars.insert("PreviousUserEmail".into(), e);
                }
            }
        }
        if let Some(u) = user {
            vars.insert("PreviousUser".into(), u);
        }
        Ok(self.run_now(&row, &vars).await?.into())
    }

    /// Calls, newest first.
    pub async fn calls(&self, connector: Option<String>, session: Option<String>, status: Option<String>, limit: i64) -> Result<Vec<CallRow>, ConnectorError> {
        let connector = match connector {
            Some(k) => Some(self.get(&k).await?.id),
            None => None,
        };
        Ok(self.store.calls(connector, session, status, limit).await?)
    }

    /// Makes a failed call due again now.
    pub async fn retry(&self, id: &str) -> Result<CallRow, ConnectorError> {
        if !self.store.retry(id.to_string()).await? {
            return Err(ConnectorError::Conflict(format!("call {id} is not failed (unknown, pending or finished)")));
        }
        self.store.call(id.to_string()).await?.ok_or_else(|| ConnectorError::NotFound(format!("no call {id}")))
    }

    /// Stores an automation; it reacts to events written from now on.
    pub async fn create_automation(&self, a: NewAutomation) -> Result<AutomationRow, ConnectorError> {
        if !crate::store::events::topic::ALL.contains(&a.topic.as_str()) {
            return Err(ConnectorError::BadRequest(format!("topic {:?} is not an event topic (docs/EVENTS.md)", a.topic)));
        }
        let name = a.name.trim().to_string();
        if name.is_empty() || name.len() > 100 {
            return Err(ConnectorError::BadRequest("name: 1 to 100 characters".into()));
        }
        if a.condition.values().any(|v| v.is_object() || v.is_array()) {
            return Err(ConnectorError::BadRequest("condition: each field's value is a string, number, boolean or null".into()));
        }
        let connector = self.get(&a.connector).await?;
        let at = now();
        let row = AutomationRow {
            id: uuid::Uuid::new_v4().to_string(),
            name,
            topic: a.topic,
            condition: serde_json::Value::Object(a.condition).to_string(),
            connector_id: connector.id,
            enabled: a.enabled.unwrap_or(true),
            cursor: 0,
            created_at: at,
            updated_at: at,
        };
        Ok(self.store.create_automation(row).await?)
    }

    /// Every automation.
    pub async fn automations(&self) -> Result<Vec<AutomationRow>, ConnectorError> {
        Ok(self.store.automations().await?)
    }

    /// One automation by id or name.
    pub async fn automation(&self, key: &str) -> Result<AutomationRow, ConnectorError> {
        self.store.automation(key.to_string()).await?.ok_or_else(|| ConnectorError::NotFound(format!("no automation {key}")))
    }

    /// Turns an automation on or off.
    pub async fn enable_automation(&self, key: &str, enabled: bool) -> Result<AutomationRow, ConnectorError> {
        let a = self.automation(key).await?;
        self.store.enable_automation(a.id.clone(), enabled).await?;
        self.automation(&a.id).await
    }

    /// Deletes an automation.
    pub async fn delete_automation(&self, key: &str) -> Result<bool, ConnectorError> {
        let a = self.automation(key).await?;
        Ok(self.store.delete_automation(a.id).await?)
    }
}

/// The key of a connector's cached access token: its id and version, so a token got for
/// settings since changed (another URL, client or secret) is never sent again.
fn cache_key(row: &ConnectorRow) -> String {
    format!("{}@{}", row.id, row.updated_at.and_utc().timestamp_micros())
}

/// Adds what an Epic connector computes itself: `EpicAppName` and `InstallID` (serial number
/// + app name, as the `epic` AppConfig preset makes the app report it).
pub fn with_install_id(settings: &Settings, mut vars: BTreeMap<String, String>) -> BTreeMap<String, String> {
    if let Settings::Epic(e) = settings {
        let serial = vars.get("DeviceSerialNumber").cloned().unwrap_or_default();
        vars.insert("EpicAppName".into(), e.app_name.clone());
        vars.insert("InstallID".into(), format!("{serial}{}", e.app_name));
    }
    vars
}
