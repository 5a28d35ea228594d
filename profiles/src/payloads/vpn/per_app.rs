//! Per-app VPN (`com.apple.vpn.managed.applayer`) and the macOS app mapping (`com.apple.vpn.managed.appmapping`).

use super::*;

// ---------------------------------------------------------------------------------------------
// com.apple.vpn.managed.applayer
// ---------------------------------------------------------------------------------------------

/// The keys a per-app VPN payload adds to the VPN payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppLayerSettings {
    /// `VPNUUID`: the identifier apps (and Mail, Safari, ...) use to select this VPN; an app is
    /// associated by giving it this value as its `VPNUUID` attribute.
    #[serde(rename = "VPNUUID")]
    pub vpn_uuid: String,
    /// `CellularSliceUUID` (iOS 18+).
    #[serde(rename = "CellularSliceUUID", default, skip_serializing_if = "Option::is_none")]
    pub cellular_slice_uuid: Option<String>,
    /// `SafariDomains`: domains that trigger the VPN in Safari.
    #[serde(rename = "SafariDomains", default, skip_serializing_if = "Option::is_none")]
    pub safari_domains: Option<Vec<String>>,
    /// `MailDomains` (deprecated on iOS 13.4+).
    #[serde(rename = "MailDomains", default, skip_serializing_if = "Option::is_none")]
    pub mail_domains: Option<Vec<String>>,
    /// `CalendarDomains` (deprecated on iOS 13.4+).
    #[serde(rename = "CalendarDomains", default, skip_serializing_if = "Option::is_none")]
    pub calendar_domains: Option<Vec<String>>,
    /// `ContactsDomains` (deprecated on iOS 13.4+).
    #[serde(rename = "ContactsDomains", default, skip_serializing_if = "Option::is_none")]
    pub contacts_domains: Option<Vec<String>>,
    /// `AssociatedDomains`.
    #[serde(rename = "AssociatedDomains", default, skip_serializing_if = "Option::is_none")]
    pub associated_domains: Option<Vec<String>>,
    /// `ExcludedDomains`.
    #[serde(rename = "ExcludedDomains", default, skip_serializing_if = "Option::is_none")]
    pub excluded_domains: Option<Vec<String>>,
    /// `OnDemandMatchAppEnabled`: connect automatically when an associated app needs the network.
    #[serde(rename = "OnDemandMatchAppEnabled", default, skip_serializing_if = "Option::is_none")]
    pub on_demand_match_app_enabled: Option<bool>,
    /// `SMBDomains`.
    #[serde(rename = "SMBDomains", default, skip_serializing_if = "Option::is_none")]
    pub smb_domains: Option<Vec<String>>,
}

impl AppLayerSettings {
    /// Settings with only `VPNUUID`.
    pub fn new(vpn_uuid: impl Into<String>) -> AppLayerSettings {
        AppLayerSettings {
            vpn_uuid: vpn_uuid.into(),
            cellular_slice_uuid: None,
            safari_domains: None,
            mail_domains: None,
            calendar_domains: None,
            contacts_domains: None,
            associated_domains: None,
            excluded_domains: None,
            on_demand_match_app_enabled: None,
            smb_domains: None,
        }
    }
}

/// The top-level keys of [`AppLayerSettings`], which [`AppLayerVpn`] separates from the VPN keys
/// when reading.
pub const APP_LAYER_KEYS: [&str; 10] = [
    "VPNUUID",
    "CellularSliceUUID",
    "SafariDomains",
    "MailDomains",
    "CalendarDomains",
    "ContactsDomains",
    "AssociatedDomains",
    "ExcludedDomains",
    "OnDemandMatchAppEnabled",
    "SMBDomains",
];

/// `com.apple.vpn.managed.applayer` payload (per-app VPN): a [`Vpn`] plus [`AppLayerSettings`],
/// written as one dictionary.
#[derive(Debug, Clone, PartialEq)]
pub struct AppLayerVpn {
    /// The VPN keys (`VPNType`, `VPN`, `VendorConfig`, ...).
    pub vpn: Vpn,
    /// The per-app keys (`VPNUUID`, `SafariDomains`, ...).
    pub app_layer: AppLayerSettings,
}

impl Serialize for AppLayerVpn {
    /// Both parts merged into one dictionary. (Serde's `flatten` would write optional values
    /// through the plist serializer as `{Some: ...}`, so the parts are encoded separately.)
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut d = match plist::to_value(&self.vpn).map_err(serde::ser::Error::custom)? {
            plist::Value::Dictionary(d) => d,
            _ => return Err(serde::ser::Error::custom("the VPN keys did not encode as a dictionary")),
        };
        if let plist::Value::Dictionary(app) = plist::to_value(&self.app_layer).map_err(serde::ser::Error::custom)? {
            for (k, v) in app {
                d.insert(k, v);
            }
        }
        d.serialize(s)
    }
}

impl AppLayerVpn {
    /// The per-app form of `vpn`, selected by apps through `vpn_uuid`.
    pub fn new(vpn: Vpn, vpn_uuid: impl Into<String>) -> AppLayerVpn {
        AppLayerVpn { vpn, app_layer: AppLayerSettings::new(vpn_uuid) }
    }

    /// `VPNUUID`.
    pub fn vpn_uuid(&self) -> &str {
        &self.app_layer.vpn_uuid
    }
}

impl<'de> Deserialize<'de> for AppLayerVpn {
    /// Splits the dictionary into the per-app keys and the VPN keys and reads each strictly, so
    /// an unknown key anywhere is refused (serde cannot combine `flatten` with
    /// `deny_unknown_fields`).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let all = plist::Dictionary::deserialize(d)?;
        let mut app = plist::Dictionary::new();
        let mut rest = plist::Dictionary::new();
        for (k, v) in all {
            if APP_LAYER_KEYS.contains(&k.as_str()) {
                app.insert(k, v);
            } else {
                rest.insert(k, v);
            }
        }
        let vpn: Vpn = plist::from_value(&plist::Value::Dictionary(rest)).map_err(de::Error::custom)?;
        let app_layer: AppLayerSettings = plist::from_value(&plist::Value::Dictionary(app)).map_err(de::Error::custom)?;
        Ok(AppLayerVpn { vpn, app_layer })
    }
}

impl PayloadKind for AppLayerVpn {
    const TYPE: &'static str = "com.apple.vpn.managed.applayer";

    /// The VPN rules, plus a non-empty `VPNUUID`.
    fn check(&self, path: &str, out: &mut Vec<Issue>) {
        self.vpn.check_vpn(path, out);
        if self.app_layer.vpn_uuid.trim().is_empty() {
            out.push(Issue::error(key_path(path, "VPNUUID"), "VPNUUID must not be empty; apps select the VPN by it"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// com.apple.vpn.managed.appmapping
// ---------------------------------------------------------------------------------------------

/// A `MatchTools` entry: a helper tool of the app whose traffic the rule matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchTool {
    /// `DesignatedRequirement` of the tool.
    #[serde(rename = "DesignatedRequirement")]
    pub designated_requirement: String,
    /// `SigningIdentifier` of the tool.
    #[serde(rename = "SigningIdentifier")]
    pub signing_identifier: String,
    /// `Path` of the tool.
    #[serde(rename = "Path", default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// An `AppLayerVPNMapping` entry: one app and the per-app VPN it uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppMappingItem {
    /// `Identifier`: the app's bundle identifier.
    #[serde(rename = "Identifier")]
    pub identifier: String,
    /// `VPNUUID` of the [`AppLayerVpn`] the app uses.
    #[serde(rename = "VPNUUID")]
    pub vpn_uuid: String,
    /// `DesignatedRequirement`: the app's code-signing designated requirement.
    #[serde(rename = "DesignatedRequirement")]
    pub designated_requirement: String,
    /// `SigningIdentifier`: the app's code-signing identifier.
    #[serde(rename = "SigningIdentifier")]
    pub signing_identifier: String,
    /// `Path` of the app's executable.
    #[serde(rename = "Path", default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `MatchTools`: limit the rule to these helper tools.
    #[serde(rename = "MatchTools", default, skip_serializing_if = "Option::is_none")]
    pub match_tools: Option<Vec<MatchTool>>,
}

impl AppMappingItem {
    /// A mapping for an app signed with its bundle identifier as signing identifier. The
    /// designated requirement is `identifier "<bundle id>" and anchor apple generic` (any
    /// Apple-issued signing certificate); supply the app's real requirement
    /// (`codesign -d -r- App.app`) when it is known.
    pub fn for_bundle(bundle_id: impl Into<String>, vpn_uuid: impl Into<String>) -> AppMappingItem {
        let id = bundle_id.into();
        AppMappingItem {
            designated_requirement: format!("identifier \"{id}\" and anchor apple generic"),
            signing_identifier: id.clone(),
            identifier: id,
            vpn_uuid: vpn_uuid.into(),
            path: None,
            match_tools: None,
        }
    }
}

/// `com.apple.vpn.managed.appmapping` payload (macOS): which apps use which per-app VPN. iOS has
/// no such payload; there an app is associated by its `VPNUUID` attribute when installed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppMapping {
    /// `AppLayerVPNMapping`.
    #[serde(rename = "AppLayerVPNMapping")]
    pub mapping: Vec<AppMappingItem>,
}

impl AppMapping {
    /// A mapping of each bundle identifier to the per-app VPN `vpn_uuid` (see
    /// [`AppMappingItem::for_bundle`]).
    pub fn for_bundles<I, S>(bundle_ids: I, vpn_uuid: &str) -> AppMapping
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        AppMapping { mapping: bundle_ids.into_iter().map(|b| AppMappingItem::for_bundle(b, vpn_uuid)).collect() }
    }
}

impl PayloadKind for AppMapping {
    const TYPE: &'static str = "com.apple.vpn.managed.appmapping";

    /// No empty identifiers, and one entry per app.
    fn check(&self, path: &str, out: &mut Vec<Issue>) {
        let base = key_path(path, "AppLayerVPNMapping");
        let mut seen = std::collections::HashSet::new();
        for (i, m) in self.mapping.iter().enumerate() {
            let p = index_path(&base, i);
            for (key, v) in [
                ("Identifier", &m.identifier),
                ("VPNUUID", &m.vpn_uuid),
                ("DesignatedRequirement", &m.designated_requirement),
                ("SigningIdentifier", &m.signing_identifier),
            ] {
                if v.trim().is_empty() {
                    out.push(Issue::error(key_path(&p, key), format!("{key} must not be empty")));
                }
            }
            if !seen.insert(m.identifier.as_str()) {
                out.push(Issue::error(key_path(&p, "Identifier"), format!("{} is mapped more than once; an app uses one per-app VPN", m.identifier)));
            }
        }
    }
}
