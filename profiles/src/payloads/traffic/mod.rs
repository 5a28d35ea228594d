//! Device Traffic Rules: which apps' traffic to which destinations goes through the tunnel, past
//! it, to a proxy, or nowhere.
//!
//! A [`TrafficRules`] set is an ordered list of [`TrafficRule`]s ending with a default rule that
//! applies to every app and every destination (`*`). For a connection, the first rule whose
//! [`Applications`] include the app and whose [`Destination`]s include the host or address
//! decides the [`Action`]. Construction validates the whole set: at least one rule; every rule
//! has well-formed destinations and bundle identifiers; the default rule is last and only last.
//!
//! A destination is written as text ([`Destination::parse`]):
//!
//! | text | meaning |
//! |---|---|
//! | `*` | anything (only in the default rule) |
//! | `*tenant.okta.com` | `tenant.okta.com` and every subdomain of it (whole labels: it does not match `eviltenant.okta.com`) |
//! | `*.example.org` | subdomains of `example.org` only |
//! | `login.example.org` | exactly that host |
//! | `10.1.2.3`, `2001:db8::1` | one IPv4 or IPv6 address |
//! | `10.0.0.0/8`, `2001:db8::/32` | a CIDR block (host bits zero) |
//!
//! Host names are compared case-insensitively and written lower case.
//!
//! # Where the rules travel
//!
//! **(a) To the VPN provider**, inside the provider VPN payload's `VendorConfig` (which iOS hands
//! to the network extension as its provider configuration), under the key
//! [`VENDOR_CONFIG_KEY`] (`DeviceTrafficRules`):
//!
//! ```text
//! VendorConfig
//!   DeviceTrafficRules            <dict>
//!     Version                     <integer> 1
//!     Rules                       <array>, evaluated in order, first match wins
//!       Applications              <string> "All", or <array> of bundle identifiers
//!       Destinations              <array> of <string> (see the table above; never "*")
//!       Action                    <string> "Tunnel" | "Bypass" | "Proxy" | "Block"
//!       ProxyHost                 <string>  (Action "Proxy" only)
//!       ProxyPort                 <integer> 1-65535 (Action "Proxy" only)
//!     DefaultAction               <string> for everything no rule matched (the "*" rule)
//!     DefaultProxyHost            <string>  (DefaultAction "Proxy" only)
//!     DefaultProxyPort            <integer> (DefaultAction "Proxy" only)
//! ```
//!
//! [`TrafficRules::write_vendor_config`] writes it, [`TrafficRules::from_vendor_config`] reads it
//! back (with the same validation) and [`Vpn::traffic_rules`] / [`Vpn::set_traffic_rules`] do so
//! on a VPN payload. `TrafficRules` also (de)serializes with serde in this shape, so JSON input
//! uses the same keys.
//!
//! **(b) To the per-app VPN association**: the apps the rules name
//! ([`TrafficRules::bundle_ids`]) must send their traffic to the provider. On iOS an app is
//! associated by installing it with the per-app VPN's `VPNUUID` as an attribute (the plain list);
//! on macOS the same list becomes a `com.apple.vpn.managed.appmapping` payload
//! ([`TrafficRules::app_mapping`]). Rules for [`Applications::All`] apply to whatever traffic
//! reaches the provider and add no app to the list.

use std::collections::HashSet;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use super::vpn::{AppLayerVpn, AppMapping, ProviderType, Vpn};

/// The `VendorConfig` key holding the rules.
pub const VENDOR_CONFIG_KEY: &str = "DeviceTrafficRules";

/// The `Version` written in the `VendorConfig` form.
pub const FORMAT_VERSION: i64 = 1;

/// The Microsoft Entra ID sign-in hosts tunnelled by [`TrafficRules::okta_entra_auth_tunnel`].
pub const ENTRA_AUTH_DESTINATIONS: [&str; 4] = ["*login.microsoftonline.com", "*login.windows.net", "*login.microsoft.com", "*sts.windows.net"];

/// Why a rule set, or one of its parts, is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", if path.is_empty() { message.clone() } else { format!("{path}: {message}") })]
pub struct TrafficRuleError {
    /// Where, in the `VendorConfig` form's terms (`Rules[1].Destinations[0]`); empty for the
    /// whole set.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl TrafficRuleError {
    fn new(path: impl Into<String>, message: impl Into<String>) -> TrafficRuleError {
        TrafficRuleError { path: path.into(), message: message.into() }
    }
}

/// Why a destination string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a destination: {reason}")]
pub struct DestinationError {
    /// The text given.
    pub input: String,
    /// Why it was refused.
    pub reason: String,
}

mod destination;

pub use destination::*;

/// Checks a bundle identifier: dot-separated components of letters, digits and hyphens, at
/// least two components, at most 255 characters.
pub fn check_bundle_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("a bundle identifier must not be empty".into());
    }
    if id.len() > 255 {
        return Err("a bundle identifier is at most 255 characters".into());
    }
    if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') {
        return Err(format!("{id:?} may only hold letters, digits, hyphens and dots"));
    }
    let parts: Vec<&str> = id.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("{id:?} has an empty component (leading, trailing or doubled dot)"));
    }
    if parts.len() < 2 {
        return Err(format!("{id:?} is not reverse-DNS (such as com.example.app)"));
    }
    Ok(())
}

/// The apps a rule applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applications {
    /// Every app whose traffic reaches the provider.
    All,
    /// These apps (bundle identifiers, matched exactly).
    Bundles(Vec<String>),
}

impl Applications {
    /// These apps.
    pub fn bundles<I, S>(ids: I) -> Applications
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Applications::Bundles(ids.into_iter().map(Into::into).collect())
    }

    /// Whether the rule applies to the app `bundle_id`.
    pub fn includes(&self, bundle_id: &str) -> bool {
        match self {
            Applications::All => true,
            Applications::Bundles(b) => b.iter().any(|x| x == bundle_id),
        }
    }
}

/// What happens to matching traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Through the VPN tunnel.
    Tunnel,
    /// Past the tunnel, over the device's own network.
    Bypass,
    /// To an HTTP(S) proxy.
    Proxy {
        /// The proxy's host name or address.
        host: String,
        /// The proxy's port (1-65535).
        port: u16,
    },
    /// Dropped.
    Block,
}

impl Action {
    /// The `Action` string.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Tunnel => "Tunnel",
            Action::Bypass => "Bypass",
            Action::Proxy { .. } => "Proxy",
            Action::Block => "Block",
        }
    }

    fn check(&self, path: &str) -> Result<(), TrafficRuleError> {
        if let Action::Proxy { host, port } = self {
            if *port == 0 {
                return Err(TrafficRuleError::new(path, "the proxy port must be 1 to 65535"));
            }
            if IpAddr::from_str(host).is_err() {
                check_host_name(host).map_err(|r| TrafficRuleError::new(path, format!("the proxy host {host:?} is not a host name or address: {r}")))?;
            }
        }
        Ok(())
    }
}

/// One rule: for these apps, to these destinations, do this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrafficRule {
    /// The apps.
    pub applications: Applications,
    /// What to do.
    pub action: Action,
    /// The destinations (at least one).
    pub destinations: Vec<Destination>,
}

impl TrafficRule {
    /// A rule.
    pub fn new(applications: Applications, action: Action, destinations: Vec<Destination>) -> TrafficRule {
        TrafficRule { applications, action, destinations }
    }

    /// A rule whose destinations are parsed from text.
    pub fn parse<S: AsRef<str>>(applications: Applications, action: Action, destinations: &[S]) -> Result<TrafficRule, DestinationError> {
        let destinations = destinations.iter().map(|d| Destination::parse(d.as_ref())).collect::<Result<_, _>>()?;
        Ok(TrafficRule { applications, action, destinations })
    }

    /// The default rule: every app, destination `*`.
    pub fn default_rule(action: Action) -> TrafficRule {
        TrafficRule { applications: Applications::All, action, destinations: vec![Destination::Any] }
    }

    /// Whether this is a catch-all rule (a destination is `*`).
    pub fn is_default(&self) -> bool {
        self.destinations.iter().any(Destination::is_any)
    }

    /// Whether the rule decides a connection from `bundle_id` to `target`.
    pub fn matches(&self, bundle_id: &str, target: &str) -> bool {
        self.applications.includes(bundle_id) && self.destinations.iter().any(|d| d.matches(target))
    }
}

/// A validated rule set; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrafficRules {
    rules: Vec<TrafficRule>,
    default_action: Action,
}

impl TrafficRules {
    /// Validates `rules`, which end with the default rule ([`TrafficRule::default_rule`]).
    pub fn new(mut rules: Vec<TrafficRule>) -> Result<TrafficRules, TrafficRuleError> {
        let Some(last) = rules.pop() else {
            return Err(TrafficRuleError::new("", "a rule set needs at least one rule: the default rule for destination *"));
        };
        let last_path = format!("Rules[{}]", rules.len());
        if !last.is_default() {
            return Err(TrafficRuleError::new(last_path, "the last rule must be the default rule: all applications, destination *"));
        }
        if last.destinations.len() != 1 || last.applications != Applications::All {
            return Err(TrafficRuleError::new(last_path, "the default rule applies to all applications and has the single destination *"));
        }
        TrafficRules::with_default(rules, last.action)
    }

    /// Validates `rules` (without a default rule) followed by a default rule doing
    /// `default_action`.
    pub fn with_default(rules: Vec<TrafficRule>, default_action: Action) -> Result<TrafficRules, TrafficRuleError> {
        for (i, r) in rules.iter().enumerate() {
            let p = format!("Rules[{i}]");
            if r.is_default() {
                return Err(TrafficRuleError::new(
                    format!("{p}.Destinations"),
                    "destination * makes this a default rule, which must be the last rule; no rule may follow it",
                ));
            }
            check_rule(r, &p)?;
        }
        default_action.check("DefaultAction")?;
        Ok(TrafficRules { rules, default_action })
    }

    /// The worked example: Okta and Microsoft Entra ID sign-in traffic of `applications` goes
    /// through the tunnel, everything else bypasses it. `okta_tenant` is the Okta org name
    /// (`acme` → `*acme.okta.com`) or its full host (`acme.oktapreview.com`).
    pub fn okta_entra_auth_tunnel(okta_tenant: &str, applications: Applications) -> Result<TrafficRules, TrafficRuleError> {
        let tenant = okta_tenant.trim().trim_start_matches('*').to_ascii_lowercase();
        let okta = if tenant.contains('.') { format!("*{tenant}") } else { format!("*{tenant}.okta.com") };
        let mut destinations =
            vec![Destination::parse(&okta)
                .map_err(|e| TrafficRuleError::new("Rules[0].Destinations[0]", format!("the Okta tenant gives no valid host: {e}")))?];
        for d in ENTRA_AUTH_DESTINATIONS {
            destinations.push(Destination::parse(d).map_err(|e| TrafficRuleError::new("Rules[0].Destinations", e.to_string()))?);
        }
        TrafficRules::new(vec![TrafficRule::new(applications, Action::Tunnel, destinations), TrafficRule::default_rule(Action::Bypass)])
    }

    /// The rules before the default rule, in order.
    pub fn rules(&self) -> &[TrafficRule] {
        &self.rules
    }

    /// The default rule's action.
    pub fn default_action(&self) -> &Action {
        &self.default_action
    }

    /// Every rule in order, the default rule last.
    pub fn all_rules(&self) -> Vec<TrafficRule> {
        let mut v = self.rules.clone();
        v.push(TrafficRule::default_rule(self.default_action.clone()));
        v
    }

    /// What happens to a connection from app `bundle_id` to `target` (host name or address):
    /// the first matching rule's action, else the default.
    pub fn action_for(&self, bundle_id: &str, target: &str) -> &Action {
        self.rules.iter().find(|r| r.matches(bundle_id, target)).map_or(&self.default_action, |r| &r.action)
    }

    /// The bundle identifiers the rules name, each once, in order of first mention: the apps
    /// to associate with the per-app VPN (on iOS, install them with its `VPNUUID` attribute).
    pub fn bundle_ids(&self) -> Vec<String> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for r in &self.rules {
            if let Applications::Bundles(b) = &r.applications {
                for id in b {
                    if seen.insert(id.as_str()) {
                        out.push(id.clone());
                    }
                }
            }
        }
        out
    }

    /// The macOS `com.apple.vpn.managed.appmapping` payload mapping [`Self::bundle_ids`] to the
    /// per-app VPN `vpn_uuid`.
    pub fn app_mapping(&self, vpn_uuid: &str) -> AppMapping {
        AppMapping::for_bundles(self.bundle_ids(), vpn_uuid)
    }

    /// A provider VPN payload (`VPNType` `VPN`, `ProviderType` `packet-tunnel`) carrying these
    /// rules in `VendorConfig`: `VPNSubType` is the provider app, `VPN.ProviderBundleIdentifier`
    /// its network extension.
    pub fn provider_vpn(&self, user_defined_name: &str, app_bundle_id: &str, provider_bundle_id: &str) -> Vpn {
        let mut v = Vpn::provider(user_defined_name, app_bundle_id, provider_bundle_id, ProviderType::PacketTunnel);
        v.set_traffic_rules(self);
        v
    }

    /// The per-app form of [`Self::provider_vpn`], selected through `vpn_uuid`, with on-demand
    /// connection for the associated apps.
    pub fn per_app_vpn(&self, user_defined_name: &str, app_bundle_id: &str, provider_bundle_id: &str, vpn_uuid: &str) -> AppLayerVpn {
        let mut v = AppLayerVpn::new(self.provider_vpn(user_defined_name, app_bundle_id, provider_bundle_id), vpn_uuid);
        v.app_layer.on_demand_match_app_enabled = Some(true);
        v
    }

    /// The `DeviceTrafficRules` value (see the module documentation).
    pub fn to_plist(&self) -> plist::Value {
        let mut d = plist::Dictionary::new();
        d.insert("Version".into(), plist::Value::Integer(FORMAT_VERSION.into()));
        let rules = self
            .rules
            .iter()
            .map(|r| {
                let mut rd = plist::Dictionary::new();
                rd.insert(
                    "Applications".into(),
                    match &r.applications {
                        Applications::All => plist::Value::String("All".into()),
                        Applications::Bundles(b) => plist::Value::Array(b.iter().map(|s| plist::Value::String(s.clone())).collect()),
                    },
                );
                rd.insert("Destinations".into(), plist::Value::Array(r.destinations.iter().map(|x| plist::Value::String(x.to_string())).collect()));
                write_action(&r.action, "", &mut rd);
                plist::Value::Dictionary(rd)
            })
            .collect();
        d.insert("Rules".into(), plist::Value::Array(rules));
        write_action(&self.default_action, "Default", &mut d);
        plist::Value::Dictionary(d)
    }

    /// Reads and validates a `DeviceTrafficRules` value. Unknown keys are refused.
    pub fn from_plist(v: &plist::Value) -> Result<TrafficRules, TrafficRuleError> {
        let d = v.as_dictionary().ok_or_else(|| TrafficRuleError::new("", "DeviceTrafficRules must be a dictionary"))?;
        only_keys(d, "", &["Version", "Rules", "DefaultAction", "DefaultProxyHost", "DefaultProxyPort"])?;
        match d.get("Version").map(int_of) {
            Some(Some(FORMAT_VERSION)) => {}
            Some(_) => return Err(TrafficRuleError::new("Version", format!("only version {FORMAT_VERSION} is understood"))),
            None => return Err(TrafficRuleError::new("Version", "missing")),
        }
        let items = match d.get("Rules") {
            Some(plist::Value::Array(a)) => a,
            Some(_) => return Err(TrafficRuleError::new("Rules", "must be an array of rule dictionaries")),
            None => return Err(TrafficRuleError::new("Rules", "missing (an empty array when only the default applies)")),
        };
        let mut rules = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let p = format!("Rules[{i}]");
            let rd = item.as_dictionary().ok_or_else(|| TrafficRuleError::new(&p, "must be a dictionary"))?;
            only_keys(rd, &p, &["Applications", "Destinations", "Action", "ProxyHost", "ProxyPort"])?;
            let applications = match rd.get("Applications") {
                Some(plist::Value::String(s)) if s == "All" => Applications::All,
                Some(plist::Value::Array(a)) => Applications::Bundles(
                    a.iter()
                        .enumerate()
                        .map(|(j, x)| {
                            x.as_string().map(str::to_string).ok_or_else(|| TrafficRuleError::new(format!("{p}.Applications[{j}]"), "must be a string"))
                        })
                        .collect::<Result<_, _>>()?,
                ),
                Some(_) => return Err(TrafficRuleError::new(format!("{p}.Applications"), "must be \"All\" or an array of bundle identifiers")),
                None => return Err(TrafficRuleError::new(format!("{p}.Applications"), "missing")),
            };
            let dests = match rd.get("Destinations") {
                Some(plist::Value::Array(a)) => a,
                Some(_) => return Err(TrafficRuleError::new(format!("{p}.Destinations"), "must be an array of strings")),
                None => return Err(TrafficRuleError::new(format!("{p}.Destinations"), "missing")),
            };
            let mut destinations = Vec::with_capacity(dests.len());
            for (j, x) in dests.iter().enumerate() {
                let dp = format!("{p}.Destinations[{j}]");
                let s = x.as_string().ok_or_else(|| TrafficRuleError::new(&dp, "must be a string"))?;
                destinations.push(Destination::parse(s).map_err(|e| TrafficRuleError::new(&dp, e.to_string()))?);
            }
            let action = read_action(rd, "", &p)?;
            rules.push(TrafficRule { applications, action, destinations });
        }
        let default_action = read_action(d, "Default", "")?;
        TrafficRules::with_default(rules, default_action)
    }

    /// Writes the rules into a `VendorConfig` dictionary under [`VENDOR_CONFIG_KEY`], keeping
    /// its other keys.
    pub fn write_vendor_config(&self, vendor_config: &mut plist::Dictionary) {
        vendor_config.insert(VENDOR_CONFIG_KEY.into(), self.to_plist());
    }

    /// Reads the rules from a `VendorConfig` dictionary: `None` when it has none.
    pub fn from_vendor_config(vendor_config: &plist::Dictionary) -> Result<Option<TrafficRules>, TrafficRuleError> {
        vendor_config.get(VENDOR_CONFIG_KEY).map(TrafficRules::from_plist).transpose()
    }
}

/// Rule validation shared by construction and reading.
fn check_rule(r: &TrafficRule, p: &str) -> Result<(), TrafficRuleError> {
    if let Applications::Bundles(b) = &r.applications {
        if b.is_empty() {
            return Err(TrafficRuleError::new(format!("{p}.Applications"), "name at least one bundle identifier, or use All"));
        }
        for (j, id) in b.iter().enumerate() {
            check_bundle_id(id).map_err(|m| TrafficRuleError::new(format!("{p}.Applications[{j}]"), m))?;
        }
    }
    if r.destinations.is_empty() {
        return Err(TrafficRuleError::new(format!("{p}.Destinations"), "a rule needs at least one destination"));
    }
    r.action.check(&format!("{p}.Action"))
}

fn write_action(a: &Action, prefix: &str, d: &mut plist::Dictionary) {
    d.insert(format!("{prefix}Action"), plist::Value::String(a.name().into()));
    if let Action::Proxy { host, port } = a {
        d.insert(format!("{prefix}ProxyHost"), plist::Value::String(host.clone()));
        d.insert(format!("{prefix}ProxyPort"), plist::Value::Integer(i64::from(*port).into()));
    }
}

fn read_action(d: &plist::Dictionary, prefix: &str, path: &str) -> Result<Action, TrafficRuleError> {
    let at = |k: &str| if path.is_empty() { format!("{prefix}{k}") } else { format!("{path}.{prefix}{k}") };
    let name = match d.get(&format!("{prefix}Action")) {
        Some(plist::Value::String(s)) => s.as_str(),
        Some(_) => return Err(TrafficRuleError::new(at("Action"), "must be a string")),
        None => return Err(TrafficRuleError::new(at("Action"), "missing")),
    };
    let host = d.get(&format!("{prefix}ProxyHost"));
    let port = d.get(&format!("{prefix}ProxyPort"));
    let action = match name {
        "Tunnel" => Action::Tunnel,
        "Bypass" => Action::Bypass,
        "Block" => Action::Block,
        "Proxy" => {
            let host = match host {
                Some(plist::Value::String(s)) => s.clone(),
                Some(_) => return Err(TrafficRuleError::new(at("ProxyHost"), "must be a string")),
                None => return Err(TrafficRuleError::new(at("ProxyHost"), "Action Proxy needs ProxyHost")),
            };
            let port = match port.map(int_of) {
                Some(Some(n)) => u16::try_from(n).map_err(|_| TrafficRuleError::new(at("ProxyPort"), "must be 1 to 65535"))?,
                Some(None) => return Err(TrafficRuleError::new(at("ProxyPort"), "must be an integer")),
                None => return Err(TrafficRuleError::new(at("ProxyPort"), "Action Proxy needs ProxyPort")),
            };
            return Ok(Action::Proxy { host, port });
        }
        other => return Err(TrafficRuleError::new(at("Action"), format!("{other:?} is not an action; use Tunnel, Bypass, Proxy or Block"))),
    };
    if host.is_some() || port.is_some() {
        return Err(TrafficRuleError::new(at("ProxyHost"), "ProxyHost and ProxyPort belong only to Action Proxy"));
    }
    Ok(action)
}

fn int_of(v: &plist::Value) -> Option<i64> {
    match v {
        plist::Value::Integer(i) => i.as_signed(),
        _ => None,
    }
}

fn only_keys(d: &plist::Dictionary, path: &str, allowed: &[&str]) -> Result<(), TrafficRuleError> {
    match d.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(TrafficRuleError::new(
            if path.is_empty() { k.clone() } else { format!("{path}.{k}") },
            format!("unknown key; allowed keys are {}", allowed.join(", ")),
        )),
        None => Ok(()),
    }
}

impl Serialize for TrafficRules {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_plist().serialize(s)
    }
}

impl<'de> Deserialize<'de> for TrafficRules {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = plist::Value::deserialize(d)?;
        TrafficRules::from_plist(&v).map_err(de::Error::custom)
    }
}

impl Vpn {
    /// The Device Traffic Rules in `VendorConfig`, if any.
    pub fn traffic_rules(&self) -> Result<Option<TrafficRules>, TrafficRuleError> {
        match &self.vendor_config {
            Some(vc) => TrafficRules::from_vendor_config(vc),
            None => Ok(None),
        }
    }

    /// Puts `rules` into `VendorConfig` (created if absent), keeping its other keys.
    pub fn set_traffic_rules(&mut self, rules: &TrafficRules) {
        rules.write_vendor_config(self.vendor_config.get_or_insert_with(plist::Dictionary::new));
    }
}

#[cfg(test)]
mod tests;
