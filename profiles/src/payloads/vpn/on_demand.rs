//! VPN On Demand rules.

use super::*;

// ---------------------------------------------------------------------------------------------
// On-demand rules
// ---------------------------------------------------------------------------------------------

/// `OnDemandRules[].Action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OnDemandAction {
    /// `Allow` (deprecated): allow on-demand connection if triggered.
    Allow,
    /// `Connect`: connect on the next network attempt.
    Connect,
    /// `Disconnect`: tear down and do not reconnect while the rule matches.
    Disconnect,
    /// `EvaluateConnection`: evaluate `ActionParameters` per connection.
    EvaluateConnection,
    /// `Ignore`: leave the VPN as is, do not reconnect on demand.
    Ignore,
}

/// `OnDemandRules[].InterfaceTypeMatch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InterfaceType {
    /// `Ethernet`.
    Ethernet,
    /// `WiFi`.
    WiFi,
    /// `Cellular`.
    Cellular,
}

/// `ActionParameters[].DomainAction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DomainAction {
    /// `ConnectIfNeeded`: connect when the domain does not resolve.
    ConnectIfNeeded,
    /// `NeverConnect`.
    NeverConnect,
}

/// An `ActionParameters` entry of an `EvaluateConnection` rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionParameter {
    /// `Domains`.
    #[serde(rename = "Domains")]
    pub domains: Vec<String>,
    /// `DomainAction`.
    #[serde(rename = "DomainAction")]
    pub domain_action: DomainAction,
    /// `RequiredDNSServers` (only with `ConnectIfNeeded`).
    #[serde(rename = "RequiredDNSServers", default, skip_serializing_if = "Option::is_none")]
    pub required_dns_servers: Option<Vec<String>>,
    /// `RequiredURLStringProbe` (only with `ConnectIfNeeded`).
    #[serde(rename = "RequiredURLStringProbe", default, skip_serializing_if = "Option::is_none")]
    pub required_url_string_probe: Option<String>,
}

/// An `OnDemandRules` entry: match conditions (all given ones must match) and an action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnDemandRule {
    /// `Action`.
    #[serde(rename = "Action")]
    pub action: OnDemandAction,
    /// `ActionParameters` (only with `EvaluateConnection`).
    #[serde(rename = "ActionParameters", default, skip_serializing_if = "Option::is_none")]
    pub action_parameters: Option<Vec<ActionParameter>>,
    /// `DNSDomainMatch`: search domains, `*` prefix allowed.
    #[serde(rename = "DNSDomainMatch", default, skip_serializing_if = "Option::is_none")]
    pub dns_domain_match: Option<Vec<String>>,
    /// `DNSServerAddressMatch`: DNS server addresses, one trailing `*` allowed.
    #[serde(rename = "DNSServerAddressMatch", default, skip_serializing_if = "Option::is_none")]
    pub dns_server_address_match: Option<Vec<String>>,
    /// `InterfaceTypeMatch`.
    #[serde(rename = "InterfaceTypeMatch", default, skip_serializing_if = "Option::is_none")]
    pub interface_type_match: Option<InterfaceType>,
    /// `SSIDMatch`.
    #[serde(rename = "SSIDMatch", default, skip_serializing_if = "Option::is_none")]
    pub ssid_match: Option<Vec<String>>,
    /// `URLStringProbe`: matches when this URL answers 200 without redirect.
    #[serde(rename = "URLStringProbe", default, skip_serializing_if = "Option::is_none")]
    pub url_string_probe: Option<String>,
}

impl OnDemandRule {
    /// A rule with `action` and no match conditions (matches every network).
    pub fn new(action: OnDemandAction) -> OnDemandRule {
        OnDemandRule {
            action,
            action_parameters: None,
            dns_domain_match: None,
            dns_server_address_match: None,
            interface_type_match: None,
            ssid_match: None,
            url_string_probe: None,
        }
    }

    /// `Connect` always: the common "on demand, everywhere" rule.
    pub fn connect() -> OnDemandRule {
        OnDemandRule::new(OnDemandAction::Connect)
    }

    /// `Disconnect` on the given Wi-Fi networks (e.g. the hospital's own SSIDs).
    pub fn disconnect_on_ssids(ssids: Vec<String>) -> OnDemandRule {
        let mut r = OnDemandRule::new(OnDemandAction::Disconnect);
        r.interface_type_match = Some(InterfaceType::WiFi);
        r.ssid_match = Some(ssids);
        r
    }
}

/// Apple's rules for on-demand rule lists, at `path.OnDemandRules[i]`.
pub(super) fn check_on_demand_rules(rules: Option<&[OnDemandRule]>, path: &str, out: &mut Vec<Issue>) {
    let Some(rules) = rules else { return };
    let base = key_path(path, "OnDemandRules");
    for (i, r) in rules.iter().enumerate() {
        let rp = index_path(&base, i);
        match (r.action, &r.action_parameters) {
            (OnDemandAction::EvaluateConnection, None) => {
                out.push(Issue::error(key_path(&rp, "ActionParameters"), "Action EvaluateConnection evaluates ActionParameters, which are missing"))
            }
            (OnDemandAction::EvaluateConnection, Some(_)) => {}
            (_, Some(_)) => out.push(Issue::error(key_path(&rp, "ActionParameters"), "ActionParameters are only used with Action EvaluateConnection")),
            (_, None) => {}
        }
        if r.action == OnDemandAction::Allow {
            out.push(Issue::warning(key_path(&rp, "Action"), "Action Allow is deprecated; use Connect or EvaluateConnection"));
        }
        for (j, p) in r.action_parameters.iter().flatten().enumerate() {
            let pp = index_path(&key_path(&rp, "ActionParameters"), j);
            if p.domain_action == DomainAction::NeverConnect {
                if p.required_dns_servers.is_some() {
                    out.push(Issue::error(key_path(&pp, "RequiredDNSServers"), "RequiredDNSServers is only valid with DomainAction ConnectIfNeeded"));
                }
                if p.required_url_string_probe.is_some() {
                    out.push(Issue::error(key_path(&pp, "RequiredURLStringProbe"), "RequiredURLStringProbe is only valid with DomainAction ConnectIfNeeded"));
                }
            }
        }
    }
}
