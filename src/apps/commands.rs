//! The app commands as Apple spells them: InstallApplication (with Attributes and
//! Configuration), Settings → ApplicationConfiguration for an installed app, RemoveApplication
//! and ManagedApplicationList. Command UUIDs carry a prefix so the app service sees its answers.

use serde::{Deserialize, Serialize};

use crate::store::apps::AppRow;

/// CommandUUID prefix of InstallApplication.
pub const INSTALL_PREFIX: &str = "app-install-";
/// CommandUUID prefix of RemoveApplication.
pub const REMOVE_PREFIX: &str = "app-remove-";
/// CommandUUID prefix of Settings → ApplicationConfiguration.
pub const CONFIG_PREFIX: &str = "app-config-";
/// CommandUUID prefix of ManagedApplicationList checks.
pub const LIST_PREFIX: &str = "app-list-";

/// `InstallApplication.Attributes`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attributes {
    /// Per-app VPN: the `VPNUUID` of a per-app VPN payload.
    #[serde(rename = "VPNUUID", default, skip_serializing_if = "Option::is_none")]
    pub vpn_uuid: Option<String>,
    /// `ContentFilterUUID`.
    #[serde(rename = "ContentFilterUUID", default, skip_serializing_if = "Option::is_none")]
    pub content_filter_uuid: Option<String>,
    /// `DNSProxyUUID`.
    #[serde(rename = "DNSProxyUUID", default, skip_serializing_if = "Option::is_none")]
    pub dns_proxy_uuid: Option<String>,
    /// `RelayUUID`.
    #[serde(rename = "RelayUUID", default, skip_serializing_if = "Option::is_none")]
    pub relay_uuid: Option<String>,
    /// `CellularSliceUUID`.
    #[serde(rename = "CellularSliceUUID", default, skip_serializing_if = "Option::is_none")]
    pub cellular_slice_uuid: Option<String>,
    /// `AssociatedDomains`.
    #[serde(rename = "AssociatedDomains", default, skip_serializing_if = "Option::is_none")]
    pub associated_domains: Option<Vec<String>>,
    /// `AssociatedDomainsEnableDirectDownloads`.
    #[serde(rename = "AssociatedDomainsEnableDirectDownloads", default, skip_serializing_if = "Option::is_none")]
    pub associated_domains_enable_direct_downloads: Option<bool>,
    /// `Removable`.
    #[serde(rename = "Removable", default, skip_serializing_if = "Option::is_none")]
    pub removable: Option<bool>,
    /// `TapToPayScreenLock`.
    #[serde(rename = "TapToPayScreenLock", default, skip_serializing_if = "Option::is_none")]
    pub tap_to_pay_screen_lock: Option<bool>,
    /// `Hideable`.
    #[serde(rename = "Hideable", default, skip_serializing_if = "Option::is_none")]
    pub hideable: Option<bool>,
    /// `Lockable`.
    #[serde(rename = "Lockable", default, skip_serializing_if = "Option::is_none")]
    pub lockable: Option<bool>,
}

impl Attributes {
    /// Problems Apple's rules make: UUIDs that are not UUIDs, empty domains.
    pub fn check(&self) -> Vec<String> {
        let mut out = Vec::new();
        let uuids = [
            ("VPNUUID", &self.vpn_uuid),
            ("ContentFilterUUID", &self.content_filter_uuid),
            ("DNSProxyUUID", &self.dns_proxy_uuid),
            ("RelayUUID", &self.relay_uuid),
            ("CellularSliceUUID", &self.cellular_slice_uuid),
        ];
        for (k, v) in uuids {
            if let Some(v) = v {
                if uuid::Uuid::parse_str(v).is_err() {
                    out.push(format!("attributes.{k}: {v:?} is not a UUID (the PayloadUUID / VPNUUID of the payload it names)"));
                }
            }
        }
        for (i, d) in self.associated_domains.iter().flatten().enumerate() {
            if d.trim().is_empty() || d.contains(char::is_whitespace) {
                out.push(format!("attributes.AssociatedDomains[{i}]: {d:?} is not a domain"));
            }
        }
        out
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == Attributes::default()
    }
}

fn text(s: &str) -> plist::Value {
    plist::Value::String(s.to_string())
}

/// `InstallApplication` for `app` with the device's `configuration` (already rendered). On a
/// User Enrollment, Apple forbids ChangeManagementState and ManagementFlags.
pub fn install(app: &AppRow, attributes: &Attributes, configuration: Option<plist::Dictionary>, user_enrollment: bool) -> plist::Dictionary {
    let mut d = plist::Dictionary::new();
    d.insert("RequestType".into(), text("InstallApplication"));
    match (&app.manifest_url, app.itunes_store_id) {
        (Some(url), _) => {
            d.insert("ManifestURL".into(), text(url));
        }
        (None, Some(id)) => {
            d.insert("iTunesStoreID".into(), plist::Value::Integer(id.into()));
        }
        (None, None) => {
            d.insert("Identifier".into(), text(&app.bundle_id));
        }
    }
    if !user_enrollment {
        if app.management_flags != 0 {
            d.insert("ManagementFlags".into(), plist::Value::Integer(i64::from(app.management_flags).into()));
        }
        d.insert("ChangeManagementState".into(), text("Managed"));
    }
    if let Some(a) = attributes_dict(attributes) {
        d.insert("Attributes".into(), plist::Value::Dictionary(a));
    }
    if let Some(c) = configuration {
        d.insert("Configuration".into(), plist::Value::Dictionary(c));
    }
    d
}

fn attributes_dict(attributes: &Attributes) -> Option<plist::Dictionary> {
    match plist::to_value(attributes) {
        Ok(plist::Value::Dictionary(a)) if !a.is_empty() => Some(a),
        _ => None,
    }
}

/// `Settings` for an installed app: an `ApplicationConfiguration` item with the new
/// configuration (without one, the existing configuration is removed), then an
/// `ApplicationAttributes` item when it has attributes.
pub fn configure(bundle_id: &str, configuration: Option<plist::Dictionary>, attributes: &Attributes) -> plist::Dictionary {
    let mut item = plist::Dictionary::new();
    item.insert("Item".into(), text("ApplicationConfiguration"));
    item.insert("Identifier".into(), text(bundle_id));
    if let Some(c) = configuration {
        item.insert("Configuration".into(), plist::Value::Dictionary(c));
    }
    let mut items = vec![plist::Value::Dictionary(item)];
    if let Some(a) = attributes_dict(attributes) {
        let mut item = plist::Dictionary::new();
        item.insert("Item".into(), text("ApplicationAttributes"));
        item.insert("Identifier".into(), text(bundle_id));
        item.insert("Attributes".into(), plist::Value::Dictionary(a));
        items.push(plist::Value::Dictionary(item));
    }
    let mut d = plist::Dictionary::new();
    d.insert("RequestType".into(), text("Settings"));
    d.insert("Settings".into(), plist::Value::Array(items));
    d
}

/// `RemoveApplication`.
pub fn remove(bundle_id: &str) -> plist::Dictionary {
    let mut d = plist::Dictionary::new();
    d.insert("RequestType".into(), text("RemoveApplication"));
    d.insert("Identifier".into(), text(bundle_id));
    d
}

/// `ManagedApplicationList` (all managed apps).
pub fn managed_list() -> plist::Dictionary {
    let mut d = plist::Dictionary::new();
    d.insert("RequestType".into(), text("ManagedApplicationList"));
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(store: Option<i64>, manifest: Option<&str>) -> AppRow {
        let at = chrono::Utc::now().naive_utc();
        AppRow {
            id: "a".into(),
            name: "Rover".into(),
            bundle_id: "com.epic.rover".into(),
            itunes_store_id: store,
            manifest_url: manifest.map(str::to_string),
            management_flags: 1,
            attributes: None,
            config: None,
            preset: None,
            required: true,
            config_version: 1,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn commands_match_apples_schema() {
        let attrs = Attributes {
            vpn_uuid: Some("6A1C2F7E-0000-4000-8000-000000000001".into()),
            associated_domains: Some(vec!["applinks:example.org".into()]),
            removable: Some(false),
            ..Default::default()
        };
        assert!(attrs.check().is_empty());
        let mut cfg = plist::Dictionary::new();
        cfg.insert("EpicMobileDeviceID".into(), text("C02X"));
        for a in [app(None, None), app(Some(490179405), None), app(None, Some("https://apps.example.org/rover.plist"))] {
            let c = install(&a, &attrs, Some(cfg.clone()), false);
            crate::commands::schema::validate(&c).unwrap();
        }
        let c = install(&app(None, None), &attrs, Some(cfg.clone()), false);
        assert_eq!(c["Identifier"].as_string(), Some("com.epic.rover"));
        assert_eq!(c["ChangeManagementState"].as_string(), Some("Managed"));
        assert_eq!(c["Attributes"].as_dictionary().unwrap()["VPNUUID"].as_string(), Some("6A1C2F7E-0000-4000-8000-000000000001"));
        let ue = install(&app(None, None), &attrs, None, true);
        assert!(!ue.contains_key("ChangeManagementState") && !ue.contains_key("ManagementFlags") && !ue.contains_key("Configuration"));
        let set = configure("com.epic.rover", Some(cfg), &attrs);
        crate::commands::schema::validate(&set).unwrap();
        assert_eq!(set["Settings"].as_array().unwrap().len(), 2);
        let cleared = configure("com.epic.rover", None, &Attributes::default());
        crate::commands::schema::validate(&cleared).unwrap();
        assert!(!cleared["Settings"].as_array().unwrap()[0].as_dictionary().unwrap().contains_key("Configuration"));
        crate::commands::schema::validate(&remove("com.epic.rover")).unwrap();
        crate::commands::schema::validate(&managed_list()).unwrap();
        let bad = Attributes { vpn_uuid: Some("nope".into()), associated_domains: Some(vec![" ".into()]), ..Default::default() };
        assert_eq!(bad.check().len(), 2);
        assert!(serde_json::from_str::<Attributes>(r#"{"VPNUuid": "x"}"#).is_err());
    }
}
