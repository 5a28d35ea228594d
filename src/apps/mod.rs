//! Managed apps: the catalogue (App Store apps by bundle or store id, enterprise apps by manifest
//! URL), assignments to devices and groups, InstallApplication with Attributes and a per-device
//! AppConfig, configuration changes re-sent to every assigned device, removal, and desired
//! state: a required app that disappears from a device's app lists is installed again.
//!
//! AppConfig values use the profile variables (`{DeviceSerialNumber}` …), custom attributes of
//! the device or its groups (`{Attribute.NAME}`) and admin-defined secrets (`{Secret.NAME}`),
//! stored sealed and never shown again in full.

pub(crate) mod answers;
pub mod appconfig;
pub(crate) mod commands;
pub(crate) mod presets;
pub(crate) mod sync;

use std::collections::BTreeMap;

use mdm_profiles::Issue;
use serde::Deserialize;

use self::appconfig::{AppConfig, SECRET_PREFIX};
use self::commands::Attributes;
use crate::queue::Queue;
use crate::secrets::SecretKey;
use crate::store::apps::{AppRow, SecretRow};
use crate::store::{now, Store, StoreError};

/// Why an app request failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Well-formed but invalid content, every finding with its path.
    #[error("{message}")]
    Invalid {
        /// Summary.
        message: String,
        /// Findings.
        issues: Vec<Issue>,
    },
    /// Malformed request.
    #[error("{0}")]
    BadRequest(String),
    /// Something named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Collides with what is stored.
    #[error("{0}")]
    Conflict(String),
    /// Not set up (no secrets key).
    #[error("{0}")]
    Unavailable(String),
    /// Server-side failure.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(m) => AppError::NotFound(m),
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::Pool(p) => AppError::Unavailable(format!("database unavailable: {p}")),
            StoreError::Db(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
                AppError::Conflict("a concurrent request stored the same thing first; read it again and retry".into())
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// A preset chosen for a new app: its name and parameters.
#[derive(Debug, Clone, Deserialize)]
pub struct PresetChoice {
    /// Preset name (see [`presets::PRESETS`]).
    pub name: String,
    /// Its parameters.
    #[serde(flatten)]
    pub params: BTreeMap<String, String>,
}

/// An app to add.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewApp {
    /// Display name.
    pub name: String,
    /// Bundle identifier (always needed: app lists report apps by it).
    pub bundle_id: String,
    /// App Store id (`iTunesStoreID`); without it and without a manifest the app is installed by
    /// bundle id.
    #[serde(default)]
    pub itunes_store_id: Option<i64>,
    /// Enterprise app manifest URL (`ManifestURL`, https).
    #[serde(default)]
    pub manifest_url: Option<String>,
    /// `ManagementFlags`: 1 remove with the MDM profile (default), 4 no backup, 5 both, 0 none.
    #[serde(default)]
    pub management_flags: Option<i32>,
    /// `Attributes` (per-app VPN, associated domains …).
    #[serde(default)]
    pub attributes: Option<Attributes>,
    /// The AppConfig; on top of the preset's when both are given.
    #[serde(default)]
    pub config: Option<AppConfig>,
    /// A vendor preset the configuration starts from.
    #[serde(default)]
    pub preset: Option<PresetChoice>,
    /// Installed again when it disappears from a device (default true).
    #[serde(default)]
    pub required: Option<bool>,
}

/// Changes to an app; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppChanges {
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// `ManagementFlags`.
    #[serde(default)]
    pub management_flags: Option<i32>,
    /// `Attributes` (replaced whole).
    #[serde(default)]
    pub attributes: Option<Attributes>,
    /// The AppConfig (replaced whole; `{}` removes it).
    #[serde(default)]
    pub config: Option<AppConfig>,
    /// Desired state.
    #[serde(default)]
    pub required: Option<bool>,
}

/// The app service. Cheap to clone.
#[derive(Clone)]
pub struct AppService {
    /// The managed-app tables.
    apps: crate::store::apps::AppStore,
    /// The profile library tables.
    library: crate::store::library::LibraryStore,
    /// Assignments to devices and groups.
    assignments: crate::store::assignments::AssignmentStore,
    /// Kiosk tokens of shared devices.
    shared: crate::store::shared::SharedStore,
    queue: Queue,
    vault: Option<crate::sealed::Vault>,
}

impl std::fmt::Debug for AppService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppService").field("secrets_key", &self.vault.is_some()).finish()
    }
}

/// A secret as the API shows it: its name and the last characters only.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SecretView {
    /// Name (`{Secret.NAME}`).
    pub name: String,
    /// `…abcd`.
    pub hint: String,
    /// Last change.
    #[serde(serialize_with = "crate::timefmt::utc")]
    pub updated_at: chrono::NaiveDateTime,
}

fn invalid(what: &str, issues: Vec<Issue>) -> AppError {
    AppError::Invalid { message: format!("{what} is not valid: {}", issues.iter().map(|i| i.to_string()).collect::<Vec<_>>().join("; ")), issues }
}

fn check_flags(f: i32) -> Result<i32, AppError> {
    if [0, 1, 4, 5].contains(&f) {
        Ok(f)
    } else {
        Err(AppError::BadRequest(format!("management_flags {f}: Apple allows 1 (remove with the MDM profile), 4 (no backup), 5 (both), or 0 for none")))
    }
}

fn check_attributes(a: &Attributes) -> Result<(), AppError> {
    let problems = a.check();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AppError::BadRequest(problems.join("; ")))
    }
}

impl AppService {
    /// Builds the service; `vault` seals secrets and the commands that carry AppConfig (without
    /// it secrets cannot be stored or used).
    pub fn new(store: Store, queue: Queue, vault: Option<crate::sealed::Vault>) -> AppService {
        AppService { apps: store.apps(), library: store.library(), assignments: store.assignments(), shared: store.shared(), queue, vault }
    }

    fn key(&self) -> Result<&SecretKey, AppError> {
        self.vault().map(|v| v.key())
    }

    fn vault(&self) -> Result<&crate::sealed::Vault, AppError> {
        self.vault.as_ref().ok_or_else(|| AppError::Unavailable("no [secrets] key is configured: secrets cannot be stored or used".into()))
    }

    /// Stores a secret (sealed; the aad is its name, so a sealed value cannot be moved to another).
    pub async fn put_secret(&self, name: &str, value: &str) -> Result<bool, AppError> {
        if !appconfig::is_reference_name(name) {
            return Err(AppError::BadRequest(format!("secret name {name:?}: 1 to 64 letters, digits, _ or -")));
        }
        if value.is_empty() {
            return Err(AppError::BadRequest("a secret's value must not be empty".into()));
        }
        let sealed = self.key()?.seal(value.as_bytes(), name.as_bytes()).map_err(|e| AppError::Internal(e.to_string()))?;
        let tail: String = value.chars().rev().take(4.min(value.chars().count() / 3)).collect::<Vec<_>>().into_iter().rev().collect();
        let at = now();
        let created = self.apps.put_secret(SecretRow { name: name.to_string(), sealed, hint: format!("…{tail}"), created_at: at, updated_at: at }).await?;
        tracing::info!(secret = %name, "secret stored");
        if !created {
            // A new value: every configuration using it goes out again.
            for app in self.apps_using(&format!("{SECRET_PREFIX}{name}")).await? {
                self.bump_and_sync(app).await?;
            }
        }
        Ok(created)
    }

    /// Apps whose configuration references the variable `{wanted}`.
    async fn apps_using(&self, wanted: &str) -> Result<Vec<AppRow>, AppError> {
        let mut out = Vec::new();
        for app in self.apps.list().await? {
            let (_, cfg) = AppService::parts(&app)?;
            let refs = mdm_profiles::vars::references(&plist::Value::Dictionary(appconfig::to_dict(&cfg)), "");
            if refs.iter().any(|(_, n)| *n == wanted) {
                out.push(app);
            }
        }
        Ok(out)
    }

    /// A new configuration version for an app whose rendered values changed (a secret), sent
    /// to every device that has it.
    async fn bump_and_sync(&self, mut row: AppRow) -> Result<sync::AppSync, AppError> {
        let expected = row.config_version;
        row.config_version += 1;
        row.updated_at = now();
        self.apps.update_app(row.clone(), expected).await?;
        self.sync_app(&row.id).await
    }

    /// Custom attributes `names` of a device or group changed: configurations using them go out
    /// again — to that device, or to every device with the app for a group.
    pub async fn attributes_changed(&self, kind: &str, scope: &str, names: &[String]) -> Result<(), AppError> {
        let mut affected: Vec<AppRow> = Vec::new();
        for n in names {
            for app in self.apps_using(&format!("{}{n}", crate::profiles::render::ATTRIBUTE_PREFIX)).await? {
                if !affected.iter().any(|a| a.id == app.id) {
                    affected.push(app);
                }
            }
        }
        if affected.is_empty() {
            return Ok(());
        }
        if kind == crate::store::assignments::TARGET_DEVICE {
            let ids = affected.iter().map(|a| a.id.clone()).collect();
            self.apps.mark_apps_stale(scope.to_string(), ids).await?;
            self.sync_device(scope, crate::store::assignments::Holds::AsRecorded).await?;
        } else {
            for app in affected {
                self.bump_and_sync(app).await?;
            }
        }
        Ok(())
    }

    /// Deletes a secret no configuration uses (else a conflict naming the apps).
    pub async fn delete_secret(&self, name: &str) -> Result<bool, AppError> {
        let users = self.apps_using(&format!("{SECRET_PREFIX}{name}")).await?;
        if !users.is_empty() {
            let names: Vec<String> = users.iter().map(|a| a.bundle_id.clone()).collect();
            return Err(AppError::Conflict(format!("secret {name} is used by the configuration of {}", names.join(", "))));
        }
        Ok(self.apps.delete_secret(name.to_string()).await?)
    }

    /// Secrets as shown to admins.
    pub async fn secrets(&self) -> Result<Vec<SecretView>, AppError> {
        Ok(self.apps.secrets().await?.into_iter().map(|s| SecretView { name: s.name, hint: s.hint, updated_at: s.updated_at }).collect())
    }

    /// Every secret's value, for rendering configurations.
    async fn open_secrets(&self) -> Result<BTreeMap<String, String>, AppError> {
        let rows = self.apps.secrets().await?;
        if rows.is_empty() {
            return Ok(BTreeMap::new());
        }
        let key = self.key()?;
        rows.into_iter()
            .map(|r| {
                let v = key.open(&r.sealed, r.name.as_bytes()).map_err(|e| AppError::Internal(format!("secret {}: {e}", r.name)))?;
                Ok((r.name, String::from_utf8_lossy(&v).into_owned()))
            })
            .collect()
    }

    /// Checks a configuration's variables: built-ins, stored secrets, and custom attributes
    /// defined on some device or group.
    async fn check_config(&self, cfg: &AppConfig) -> Result<(), AppError> {
        let names: Vec<String> = self.apps.secrets().await?.into_iter().map(|s| s.name).collect();
        let attributes = self.apps.attribute_names().await?;
        let known = |n: &str| {
            mdm_profiles::vars::is_builtin(n)
                || n == appconfig::KIOSK_TOKEN
                || n.strip_prefix(SECRET_PREFIX).is_some_and(|s| names.iter().any(|x| x == s))
                || n.strip_prefix(crate::profiles::render::ATTRIBUTE_PREFIX).is_some_and(|a| attributes.iter().any(|x| x == a))
        };
        let issues = appconfig::check(cfg, &known);
        if issues.is_empty() {
            Ok(())
        } else {
            Err(invalid("the configuration", issues))
        }
    }

    /// Adds an app to the catalogue.
    pub async fn create(&self, a: NewApp) -> Result<AppRow, AppError> {
        let bundle_id = a.bundle_id.trim().to_string();
        if bundle_id.is_empty() || bundle_id.contains(char::is_whitespace) {
            return Err(AppError::BadRequest(format!("bundle_id {bundle_id:?} is not a bundle identifier")));
        }
        if a.name.trim().is_empty() {
            return Err(AppError::BadRequest("name must not be empty".into()));
        }
        if a.itunes_store_id.is_some() && a.manifest_url.is_some() {
            return Err(AppError::BadRequest("an app comes from the App Store (itunes_store_id) or a manifest (manifest_url), not both".into()));
        }
        if let Some(u) = &a.manifest_url {
            if !u.starts_with("https://") {
                return Err(AppError::BadRequest("manifest_url must be an https URL".into()));
            }
        }
        if a.itunes_store_id.is_some_and(|i| i <= 0) {
            return Err(AppError::BadRequest("itunes_store_id must be positive".into()));
        }
        let flags = check_flags(a.management_flags.unwrap_or(1))?;
        if let Some(attrs) = &a.attributes {
            check_attributes(attrs)?;
        }
        let mut config = match &a.preset {
            Some(p) => presets::build(&p.name, &p.params).map_err(AppError::BadRequest)?,
            None => AppConfig::new(),
        };
        config.extend(a.config.clone().unwrap_or_default());
        self.check_config(&config).await?;
        let at = now();
        let row = AppRow {
            id: uuid::Uuid::new_v4().to_string(),
            name: a.name.trim().to_string(),
            bundle_id,
            itunes_store_id: a.itunes_store_id,
            manifest_url: a.manifest_url,
            management_flags: flags,
            attributes: a.attributes.filter(|x| !x.is_empty()).map(|x| serde_json::to_string(&x)).transpose().map_err(|e| AppError::Internal(e.to_string()))?,
            config: (!config.is_empty()).then(|| serde_json::to_string(&config)).transpose().map_err(|e| AppError::Internal(e.to_string()))?,
            preset: a.preset.map(|p| p.name),
            required: a.required.unwrap_or(true),
            config_version: 1,
            created_at: at,
            updated_at: at,
        };
        self.apps.create_app(row.clone()).await?;
        tracing::info!(app = %row.id, bundle_id = %row.bundle_id, "app added");
        Ok(row)
    }

    /// Changes an app; a new configuration or new attributes are sent to every device it is on.
    pub async fn update(&self, id: &str, c: AppChanges) -> Result<(AppRow, sync::AppSync), AppError> {
        let mut row = self.apps.app(id.to_string()).await?.ok_or_else(|| AppError::NotFound(format!("no app {id}")))?;
        let expected = row.config_version;
        if let Some(n) = c.name.filter(|n| !n.trim().is_empty()) {
            row.name = n.trim().to_string();
        }
        if let Some(f) = c.management_flags {
            row.management_flags = check_flags(f)?;
        }
        if let Some(r) = c.required {
            row.required = r;
        }
        let mut changed = false;
        if let Some(a) = c.attributes {
            check_attributes(&a)?;
            let new = (!a.is_empty()).then(|| serde_json::to_string(&a)).transpose().map_err(|e| AppError::Internal(e.to_string()))?;
            changed |= new != row.attributes;
            row.attributes = new;
        }
        if let Some(cfg) = c.config {
            self.check_config(&cfg).await?;
            let new = (!cfg.is_empty()).then(|| serde_json::to_string(&cfg)).transpose().map_err(|e| AppError::Internal(e.to_string()))?;
            changed |= new != row.config;
            row.config = new;
        }
        if changed {
            row.config_version += 1;
        }
        row.updated_at = now();
        self.apps.update_app(row.clone(), expected).await?;
        let out = if changed { self.sync_app(&row.id).await? } else { sync::AppSync::default() };
        Ok((row, out))
    }

    /// The app's parsed attributes and configuration.
    pub fn parts(row: &AppRow) -> Result<(Attributes, AppConfig), AppError> {
        let attrs = match &row.attributes {
            Some(a) => serde_json::from_str(a).map_err(|e| AppError::Internal(format!("stored attributes of {}: {e}", row.id)))?,
            None => Attributes::default(),
        };
        let cfg = match &row.config {
            Some(c) => serde_json::from_str(c).map_err(|e| AppError::Internal(format!("stored configuration of {}: {e}", row.id)))?,
            None => AppConfig::new(),
        };
        Ok((attrs, cfg))
    }
}
