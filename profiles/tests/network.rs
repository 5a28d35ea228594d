//! Network payloads through the public API: Wi-Fi, VPN, per-app VPN and its mapping, extensible
//! SSO (generic and Kerberos) and Device Traffic Rules. Each typed value round-trips through a
//! dictionary and through a whole profile (XML and back) staying typed; each semantic check has a
//! failing example; JSON input uses Apple's key names; every profile built here validates
//! against Apple's schema without findings.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mdm_profiles::payloads::sso::{CredentialUseMode, ExtensibleSso, ExtensionData, KerberosExtensionData, ScreenLockedBehavior, SsoType};
use mdm_profiles::payloads::traffic::{Action, Applications, Destination, DomainScope, TrafficRule, TrafficRules, ENTRA_AUTH_DESTINATIONS, VENDOR_CONFIG_KEY};
use mdm_profiles::payloads::vpn::{
    ActionParameter, AlwaysOn, AppLayerVpn, AppMapping, AppMappingItem, DeadPeerDetectionRate, DiffieHellmanGroup, Dns, DnsProtocol, DomainAction,
    EncryptionAlgorithm, ExemptService, IkeAuthMethod, IkeTlsVersion, IkeV2, IntBool, IntegrityAlgorithm, InterfaceType, IpSec, IpSecAuthMethod,
    LifetimeMinutes, Mtu, OnDemandAction, OnDemandRule, Ppp, ProviderAuthMethod, ProviderType, Proxies, SecurityAssociationParameters, ServiceException,
    ServiceExceptionAction, TransparentProxy, TunnelConfiguration, TunnelInterface, TunnelProtocol, Vpn, VpnProvider, VpnType,
};
use mdm_profiles::payloads::wifi::{
    EapClientConfiguration, EapSimRands, EapType, EncryptionType, ProxyType, QosMarkingPolicy, TlsVersion, TtlsInnerAuthentication, Wifi,
};
use mdm_profiles::payloads::Raw;
use mdm_profiles::value::Data;
use mdm_profiles::{Issue, Payload, PayloadBody, PayloadKind, Profile, Severity};
use plist::Value;
use serde_json::json;

// ------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------

const SCEP_UUID: &str = "6F1C2A5E-3B4D-4E8F-9A0B-1C2D3E4F5A6B";
const ROOT_UUID: &str = "0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D";
const VPN_UUID: &str = "B7D3E1F0-5A4C-4B2D-9E8F-7A6B5C4D3E2F";

fn to_dict<T: serde::Serialize>(v: &T) -> plist::Dictionary {
    match plist::to_value(v).unwrap() {
        Value::Dictionary(d) => d,
        other => panic!("not a dictionary: {other:?}"),
    }
}

/// typed → dictionary → typed, and the dictionary read as a payload body stays typed.
fn round_trip<T>(v: &T) -> plist::Dictionary
where
    T: PayloadKind + Into<PayloadBody>,
{
    let d = to_dict(v);
    let back: T = plist::from_value(&Value::Dictionary(d.clone())).unwrap();
    assert_eq!(&back, v, "dictionary round trip of {}", T::TYPE);
    let body = PayloadBody::from_dict(T::TYPE, d.clone());
    assert!(!matches!(body, PayloadBody::Raw(_)), "{} read back raw: {d:?}", T::TYPE);
    assert_eq!(body, v.clone().into());
    d
}

/// The profile written as XML and read back: equal, no raw payload except `raw_ok`, no
/// findings from the profile's own checks or from Apple's schema.
fn profile_round_trip(p: &Profile, raw_ok: &[&str]) -> Profile {
    let xml = p.to_xml().unwrap();
    let back = Profile::from_plist_bytes(&xml).unwrap();
    for (i, item) in back.content.iter().enumerate() {
        if let PayloadBody::Raw(r) = &item.body {
            assert!(raw_ok.contains(&r.payload_type.as_str()), "PayloadContent[{i}] ({}) read back raw", r.payload_type);
        }
    }
    for (a, b) in p.content.iter().zip(&back.content) {
        if !matches!(a.body, PayloadBody::Raw(_)) {
            assert_eq!(a, b);
        } else {
            assert_eq!(a.to_dict().unwrap(), b.to_dict().unwrap());
        }
    }
    assert_eq!(back.top, p.top);
    assert_eq!(back.to_dict().unwrap(), p.to_dict().unwrap());
    let issues = p.check();
    assert!(issues.is_empty(), "profile checks: {issues:#?}");
    assert_schema_clean(p);
    back
}

fn assert_schema_clean(p: &Profile) {
    let issues = mdm_profiles::schema::validate_profile(&p.to_dict().unwrap());
    assert!(issues.is_empty(), "{}: schema findings: {issues:#?}", p.identifier());
}

fn check<T: PayloadKind>(v: &T) -> Vec<Issue> {
    let mut out = Vec::new();
    v.check("PayloadContent[0]", &mut out);
    out
}

/// The (path, severity) of each finding.
fn findings<T: PayloadKind>(v: &T) -> Vec<(String, Severity)> {
    check(v).into_iter().map(|i| (i.path, i.severity)).collect()
}

fn err(path: &str) -> (String, Severity) {
    (format!("PayloadContent[0].{path}"), Severity::Error)
}

fn warn(path: &str) -> (String, Severity) {
    (format!("PayloadContent[0].{path}"), Severity::Warning)
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A SCEP identity payload, built raw so this test depends only on Apple's keys.
fn scep_payload(identifier: &str) -> Payload {
    let content = json!({
        "URL": "https://scep.hospital.example.org/scep",
        "Name": "HOSPITAL-CA",
        "Subject": [[["CN", "$SERIALNUMBER"]], [["O", "Example Hospital"]]],
        "Challenge": "one-time-secret",
        "Keysize": 2048,
        "Key Type": "RSA",
        "Key Usage": 5,
    });
    let mut body = plist::Dictionary::new();
    body.insert("PayloadContent".into(), plist::to_value(&content).unwrap());
    Payload::new(identifier, PayloadBody::Raw(Raw { payload_type: "com.apple.security.scep".into(), content: body })).with_uuid(SCEP_UUID)
}

/// A root CA payload (raw `com.apple.security.root`) trusted for the RADIUS server.
fn root_payload(identifier: &str) -> Payload {
    let mut body = plist::Dictionary::new();
    body.insert("PayloadContent".into(), Value::Data(b"0\x82 not a real certificate".to_vec()));
    Payload::new(identifier, PayloadBody::Raw(Raw { payload_type: "com.apple.security.root".into(), content: body })).with_uuid(ROOT_UUID)
}

fn okta_rules() -> TrafficRules {
    TrafficRules::okta_entra_auth_tunnel("acme-health", Applications::bundles(["com.okta.mobile", "com.microsoft.azureauthenticator", "com.epic.haiku"]))
        .unwrap()
}

// ------------------------------------------------------------------------------------------------
// Wi-Fi
// ------------------------------------------------------------------------------------------------

fn full_eap() -> EapClientConfiguration {
    let mut eap = EapClientConfiguration::new(vec![EapType::Tls, EapType::Ttls, EapType::Peap, EapType::Fast, EapType::Sim]);
    eap.user_name = Some("nurse.station4".into());
    eap.user_password = Some("pw".into());
    eap.payload_certificate_anchor_uuid = Some(vec![ROOT_UUID.into()]);
    eap.tls_trusted_certificates = Some(vec!["radius-ca".into()]);
    eap.tls_trusted_server_names = Some(strings(&["radius.hospital.example.org", "wpa.*.example.org"]));
    eap.tls_allow_trust_exceptions = Some(false);
    eap.tls_certificate_is_required = Some(true);
    eap.ttls_inner_authentication = Some(TtlsInnerAuthentication::MsChapV2);
    eap.tls_minimum_version = Some(TlsVersion::V1_2);
    eap.tls_maximum_version = Some(TlsVersion::V1_3);
    eap.outer_identity = Some("anonymous@hospital.example.org".into());
    eap.eap_fast_use_pac = Some(true);
    eap.eap_fast_provision_pac = Some(true);
    eap.eap_fast_provision_pac_anonymously = Some(false);
    eap.eap_sim_number_of_rands = Some(EapSimRands::Two);
    eap.one_time_user_password = Some(false);
    eap
}

fn every_wifi() -> Vec<Wifi> {
    let mut hotspot = Wifi { ssid: None, ..Wifi::eap_tls("", SCEP_UUID, vec![]) };
    hotspot.is_hotspot = Some(true);
    hotspot.domain_name = Some("hotspot.example.net".into());
    hotspot.service_provider_roaming_enabled = Some(true);
    hotspot.roaming_consortium_ois = Some(strings(&["5A03BA", "00500F2C3"]));
    hotspot.nai_realm_names = Some(strings(&["example.net"]));
    hotspot.mcc_and_mncs = Some(strings(&["310410"]));
    hotspot.displayed_operator_name = Some("Example Roaming".into());
    hotspot.hessid = Some("00:11:22:33:44:55".into());

    let mut everything = Wifi::eap_tls("Clinical", SCEP_UUID, vec![]);
    everything.eap_client_configuration = Some(full_eap());
    everything.hidden_network = Some(true);
    everything.auto_join = Some(false);
    everything.captive_bypass = Some(true);
    everything.disable_association_mac_randomization = Some(true);
    everything.enable_ipv6 = Some(true);
    everything.tls_certificate_required = Some(true);
    everything.qos_marking_policy = Some(QosMarkingPolicy {
        allow_list_app_identifiers: Some(strings(&["com.cisco.jabber", "com.vocera.vocera"])),
        whitelisted_app_identifiers: None,
        apple_audio_video_calls: Some(true),
        enabled: Some(true),
    });
    everything = everything.with_manual_proxy("proxy.hospital.example.org", 3128);
    everything.proxy_username = Some("proxyuser".into());
    everything.proxy_password = Some("proxypw".into());

    let mut auto_proxy = Wifi::wpa3_personal("Research", "correct horse battery staple");
    auto_proxy.proxy_type = Some(ProxyType::Auto);
    auto_proxy.proxy_pac_url = Some("http://wpad.hospital.example.org/wpad.dat".into());
    auto_proxy.proxy_pac_fallback_allowed = Some(true);

    vec![
        Wifi::wpa2_personal("Ward-5", "s3cret-psk"),
        Wifi::open("Guest"),
        Wifi::eap_tls("Clinical", SCEP_UUID, strings(&["radius.hospital.example.org"])),
        Wifi::peap("Staff", strings(&["radius.hospital.example.org"])).with_eap_credentials("jdoe", None).with_anchor_uuids(vec![ROOT_UUID.into()]),
        hotspot,
        everything,
        auto_proxy,
    ]
}

#[test]
fn wifi_round_trips_typed() {
    for w in every_wifi() {
        round_trip(&w);
    }
    let d = round_trip(&Wifi::eap_tls("Clinical", SCEP_UUID, strings(&["radius.hospital.example.org"])));
    assert_eq!(d["SSID_STR"], "Clinical".into());
    assert_eq!(d["EncryptionType"], "WPA2".into());
    assert_eq!(d["PayloadCertificateUUID"], SCEP_UUID.into());
    let eap = d["EAPClientConfiguration"].as_dictionary().unwrap();
    assert_eq!(eap["AcceptEAPTypes"], Value::Array(vec![Value::Integer(13.into())]));
    assert_eq!(eap["TLSTrustedServerNames"], Value::Array(vec!["radius.hospital.example.org".into()]));
}

#[test]
fn wifi_eap_tls_profile_with_scep_identity() {
    let mut p = Profile::new("org.example.hospital.wifi.clinical", "Clinical Wi-Fi");
    p.push(scep_payload("org.example.hospital.wifi.clinical.scep"));
    p.push(root_payload("org.example.hospital.wifi.clinical.root"));
    let wifi = Wifi::eap_tls("Clinical", SCEP_UUID, strings(&["radius.hospital.example.org"])).with_anchor_uuids(vec![ROOT_UUID.into()]);
    p.add("wifi", wifi.clone());
    let back = profile_round_trip(&p, &["com.apple.security.scep", "com.apple.security.root"]);
    let PayloadBody::Wifi(read) = &back.content[2].body else { panic!("Wi-Fi payload not typed: {:?}", back.content[2]) };
    assert_eq!(read, &wifi);
    // The identity reference names the SCEP payload of the same profile.
    assert_eq!(read.payload_certificate_uuid.as_deref(), Some(back.content[0].uuid()));
    assert_eq!(back.content[0].body.payload_type(), "com.apple.security.scep");
}

#[test]
fn every_wifi_validates_in_a_profile() {
    let mut p = Profile::new("org.example.hospital.wifi.all", "All Wi-Fi");
    p.push(scep_payload("org.example.hospital.wifi.all.scep"));
    p.push(root_payload("org.example.hospital.wifi.all.root"));
    for (i, w) in every_wifi().into_iter().enumerate() {
        p.add(&format!("wifi{i}"), w);
    }
    profile_round_trip(&p, &["com.apple.security.scep", "com.apple.security.root"]);
}

#[test]
fn wifi_checks_have_failing_examples() {
    // EAP-TLS without the identity.
    let mut w = Wifi::eap_tls("Clinical", SCEP_UUID, vec![]);
    w.payload_certificate_uuid = None;
    assert_eq!(findings(&w), [err("PayloadCertificateUUID")]);
    // An enterprise identity without EAPClientConfiguration.
    let mut w = Wifi::eap_tls("Clinical", SCEP_UUID, vec![]);
    w.eap_client_configuration = None;
    assert_eq!(findings(&w), [err("EAPClientConfiguration")]);
    // Neither SSID nor Hotspot 2.0 domain.
    let mut w = Wifi::wpa2_personal("x", "y");
    w.ssid = None;
    assert_eq!(findings(&w), [err("SSID_STR")]);
    // Credentials on an open network.
    let mut w = Wifi::open("Guest");
    w.password = Some("pw".into());
    assert_eq!(findings(&w), [err("Password")]);
    // A manual proxy without server and port.
    let mut w = Wifi::wpa2_personal("Ward", "psk");
    w.proxy_type = Some(ProxyType::Manual);
    assert_eq!(findings(&w), [err("ProxyServer"), err("ProxyServerPort")]);
    // TLS 1.3 minimum without an outer identity.
    let mut w = Wifi::peap("Staff", vec![]);
    w.eap_client_configuration.as_mut().unwrap().tls_minimum_version = Some(TlsVersion::V1_3);
    assert_eq!(findings(&w), [err("EAPClientConfiguration.OuterIdentity")]);
    // Dynamic WEP is flagged, not refused.
    let mut w = Wifi::peap("Old", vec![]);
    w.encryption_type = Some(EncryptionType::Wep);
    assert_eq!(findings(&w), [warn("EncryptionType")]);
    // A WPA personal network without a password is fine: the device asks.
    let mut w = Wifi::wpa2_personal("Ward", "psk");
    w.password = None;
    assert!(findings(&w).is_empty());
}

#[test]
fn wifi_dictionaries_that_do_not_fit_stay_raw() {
    let good = to_dict(&Wifi::eap_tls("Clinical", SCEP_UUID, vec![]));
    let raw = |d: plist::Dictionary| matches!(PayloadBody::from_dict("com.apple.wifi.managed", d), PayloadBody::Raw(_));
    assert!(!raw(good.clone()));
    // A key the model (and Apple) does not have.
    let mut d = good.clone();
    d.insert("SSID".into(), "typo".into());
    assert!(raw(d));
    // An EAP type Apple does not list.
    let mut d = good.clone();
    let mut eap = d["EAPClientConfiguration"].as_dictionary().unwrap().clone();
    eap.insert("AcceptEAPTypes".into(), Value::Array(vec![Value::Integer(50.into())]));
    d.insert("EAPClientConfiguration".into(), Value::Dictionary(eap));
    assert!(raw(d));
    // An encryption type outside the list.
    let mut d = good.clone();
    d.insert("EncryptionType".into(), "WPA2 Enterprise".into());
    assert!(raw(d));
    // A port out of range.
    let mut d = good;
    d.insert("ProxyServerPort".into(), Value::Integer(70000.into()));
    assert!(raw(d));
}

// ------------------------------------------------------------------------------------------------
// VPN
// ------------------------------------------------------------------------------------------------

fn full_ikev2() -> IkeV2 {
    let mut ike = IkeV2::certificate("vpn.hospital.example.org", "device.hospital.example.org", "vpn.hospital.example.org", SCEP_UUID);
    ike.certificate_type = Some(mdm_profiles::payloads::vpn::IkeCertificateType::Ecdsa256);
    ike.server_certificate_issuer_common_name = Some("Hospital Issuing CA".into());
    ike.server_certificate_common_name = Some("vpn.hospital.example.org".into());
    ike.extended_auth_enabled = Some(IntBool::OFF);
    ike.dead_peer_detection_rate = Some(DeadPeerDetectionRate::Medium);
    ike.tls_minimum_version = Some(IkeTlsVersion::V1_2);
    ike.tls_maximum_version = Some(IkeTlsVersion::V1_2);
    ike.disable_mobike = Some(IntBool::OFF);
    ike.disable_redirect = Some(IntBool::ON);
    ike.enable_pfs = Some(IntBool::ON);
    ike.enable_certificate_revocation_check = Some(IntBool::ON);
    ike.nat_keep_alive_offload_enable = Some(IntBool::ON);
    ike.nat_keep_alive_interval = Some(110);
    ike.mtu = Some(Mtu::new(1360).unwrap());
    ike.include_all_networks = Some(IntBool::ON);
    ike.exclude_local_networks = Some(IntBool::ON);
    ike.exclude_cellular_services = Some(IntBool::ON);
    ike.exclude_apns = Some(IntBool::ON);
    ike.exclude_device_communication = Some(IntBool::ON);
    ike.ppk = Some(Data(vec![7; 32]));
    ike.ppk_identifier = Some("ppk-1".into());
    ike.ppk_mandatory = Some(IntBool::OFF);
    let sa = SecurityAssociationParameters {
        encryption_algorithm: Some(EncryptionAlgorithm::Aes256Gcm),
        integrity_algorithm: Some(IntegrityAlgorithm::Sha2_384),
        diffie_hellman_group: Some(DiffieHellmanGroup::G20),
        lifetime_in_minutes: Some(LifetimeMinutes::new(480).unwrap()),
    };
    ike.ike_security_association_parameters = Some(sa.clone());
    ike.child_security_association_parameters = Some(SecurityAssociationParameters { lifetime_in_minutes: Some(LifetimeMinutes::new(60).unwrap()), ..sa });
    ike.on_demand_enabled = Some(IntBool::ON);
    ike.on_demand_user_override_disabled = Some(IntBool::ON);
    let mut evaluate = OnDemandRule::new(OnDemandAction::EvaluateConnection);
    evaluate.action_parameters = Some(vec![
        ActionParameter {
            domains: strings(&["ehr.hospital.example.org"]),
            domain_action: DomainAction::ConnectIfNeeded,
            required_dns_servers: Some(strings(&["10.10.0.53"])),
            required_url_string_probe: Some("https://ehr.hospital.example.org/health".into()),
        },
        ActionParameter {
            domains: strings(&["www.example.com"]),
            domain_action: DomainAction::NeverConnect,
            required_dns_servers: None,
            required_url_string_probe: None,
        },
    ]);
    evaluate.interface_type_match = Some(InterfaceType::Cellular);
    let mut on_site = OnDemandRule::disconnect_on_ssids(strings(&["Clinical", "Staff"]));
    on_site.dns_domain_match = Some(strings(&["*.hospital.example.org"]));
    on_site.dns_server_address_match = Some(strings(&["10.10.*"]));
    on_site.url_string_probe = Some("https://intranet.hospital.example.org/probe".into());
    ike.on_demand_rules = Some(vec![on_site, evaluate, OnDemandRule::connect()]);
    ike
}

fn every_vpn() -> Vec<Vpn> {
    let mut ike = Vpn::ikev2("Hospital IKEv2", full_ikev2());
    ike.dns = Some(Dns {
        dns_protocol: DnsProtocol::Https,
        server_url: Some("https://dns.hospital.example.org/dns-query".into()),
        server_name: None,
        server_addresses: strings(&["10.10.0.53", "fd00::53"]),
        search_domains: Some(strings(&["hospital.example.org"])),
        domain_name: Some("hospital.example.org".into()),
        supplemental_match_domains: Some(strings(&["hospital.example.org"])),
        supplemental_match_domains_no_search: Some(IntBool::OFF),
        payload_certificate_uuid: None,
    });
    ike.proxies = Some(Proxies {
        proxy_auto_config_enable: Some(IntBool::OFF),
        http_enable: Some(IntBool::ON),
        http_proxy: Some("proxy.hospital.example.org".into()),
        http_port: Some(3128),
        https_enable: Some(IntBool::ON),
        https_proxy: Some("proxy.hospital.example.org".into()),
        https_port: Some(3128),
        supplemental_match_domains: Some(strings(&["hospital.example.org"])),
        ..Proxies::default()
    });

    let mut provider = okta_rules().provider_vpn("Auth Tunnel", "com.example.tunnel", "com.example.tunnel.provider");
    if let Some(v) = &mut provider.vpn {
        v.authentication_method = Some(ProviderAuthMethod::Certificate);
        v.payload_certificate_uuid = Some(SCEP_UUID.into());
        v.on_demand_enabled = Some(IntBool::ON);
        v.on_demand_rules = Some(vec![OnDemandRule::connect()]);
        v.disconnect_on_idle = Some(IntBool::ON);
        v.disconnect_on_idle_timer = Some(600);
        v.include_all_networks = Some(IntBool::OFF);
        v.enforce_routes = Some(IntBool::ON);
    }
    provider.vendor_config.as_mut().unwrap().insert("Group".into(), "clinical".into());

    let mut l2tp = Vpn::new("Legacy L2TP", VpnType::L2tp);
    l2tp.ppp = Some(Ppp {
        auth_name: Some("jdoe".into()),
        comm_remote_address: Some("l2tp.hospital.example.org".into()),
        token_card: Some(IntBool::OFF),
        ccp_enabled: Some(IntBool::ON),
        ..Ppp::default()
    });
    l2tp.ipsec = Some(IpSec {
        authentication_method: Some(IpSecAuthMethod::SharedSecret),
        local_identifier_type: Some(mdm_profiles::payloads::vpn::LocalIdentifierType::KeyId),
        shared_secret: Some(Data(b"shared".to_vec())),
        ..IpSec::default()
    });
    l2tp.ipv4 = Some(mdm_profiles::payloads::vpn::Ipv4 { override_primary: Some(IntBool::ON) });

    let mut cisco = Vpn::new("Cisco IPSec", VpnType::IpSec);
    cisco.ipsec = Some(IpSec {
        remote_address: Some("ipsec.hospital.example.org".into()),
        authentication_method: Some(IpSecAuthMethod::Certificate),
        payload_certificate_uuid: Some(SCEP_UUID.into()),
        xauth_enabled: Some(IntBool::ON),
        xauth_name: Some("jdoe".into()),
        xauth_password_encryption: Some(mdm_profiles::payloads::vpn::XAuthPasswordEncryption::Prompt),
        prompt_for_vpn_pin: Some(false),
        on_demand_enabled: Some(IntBool::ON),
        on_demand_rules: Some(vec![OnDemandRule::connect()]),
        ..IpSec::default()
    });

    let mut always_on = Vpn::new("Always On", VpnType::AlwaysOn);
    always_on.always_on = Some(AlwaysOn {
        ui_toggle_enabled: Some(IntBool::OFF),
        tunnel_configurations: vec![TunnelConfiguration {
            protocol_type: TunnelProtocol::IkeV2,
            interfaces: Some(vec![TunnelInterface::Cellular, TunnelInterface::WiFi]),
        }],
        service_exceptions: Some(vec![ServiceException { service_name: ExemptService::VoiceMail, action: ServiceExceptionAction::Allow }]),
        application_exceptions: None,
        allow_captive_web_sheet: Some(IntBool::ON),
        allow_all_captive_network_plugins: Some(IntBool::OFF),
        allowed_captive_network_plugins: None,
    });

    let mut tp = Vpn::new("Transparent Proxy", VpnType::TransparentProxy);
    tp.vpn_sub_type = Some("com.example.proxy".into());
    tp.transparent_proxy = Some(TransparentProxy {
        provider_bundle_identifier: Some("com.example.proxy.extension".into()),
        provider_designated_requirement: Some("anchor apple generic".into()),
        provider_type: Some(ProviderType::AppProxy),
        order: Some(1),
        ..TransparentProxy::default()
    });

    vec![ike, provider, l2tp, cisco, always_on, tp]
}

#[test]
fn vpn_round_trips_typed() {
    for v in every_vpn() {
        round_trip(&v);
        assert!(check(&v).is_empty(), "{}: {:?}", v.user_defined_name, check(&v));
    }
    let d = round_trip(&Vpn::ikev2("Hospital IKEv2", full_ikev2()));
    let ike = d["IKEv2"].as_dictionary().unwrap();
    assert_eq!(ike["MTU"], Value::Integer(1360.into()));
    assert_eq!(ike["EnablePFS"], Value::Integer(1.into()));
    assert_eq!(ike["IKESecurityAssociationParameters"].as_dictionary().unwrap()["DiffieHellmanGroup"], Value::Integer(20.into()));
    assert_eq!(ike["PPK"], Value::Data(vec![7; 32]));
    let rules = ike["OnDemandRules"].as_array().unwrap();
    assert_eq!(rules[0].as_dictionary().unwrap()["Action"], "Disconnect".into());
    assert_eq!(rules[0].as_dictionary().unwrap()["InterfaceTypeMatch"], "WiFi".into());
}

#[test]
fn every_vpn_validates_in_a_profile() {
    let mut p = Profile::new("org.example.hospital.vpn.all", "All VPNs");
    p.push(scep_payload("org.example.hospital.vpn.all.scep"));
    for (i, v) in every_vpn().into_iter().enumerate() {
        p.add(&format!("vpn{i}"), v);
    }
    profile_round_trip(&p, &["com.apple.security.scep"]);
}

#[test]
fn vpn_dictionaries_that_do_not_fit_stay_raw() {
    let good = to_dict(&Vpn::ikev2("Hospital IKEv2", full_ikev2()));
    let raw = |d: plist::Dictionary| matches!(PayloadBody::from_dict("com.apple.vpn.managed", d), PayloadBody::Raw(_));
    assert!(!raw(good.clone()));
    let with_ike = |k: &str, v: Value| {
        let mut d = good.clone();
        let mut ike = d["IKEv2"].as_dictionary().unwrap().clone();
        ike.insert(k.into(), v);
        d.insert("IKEv2".into(), Value::Dictionary(ike));
        d
    };
    assert!(raw(with_ike("IncludeAllNetworks", Value::Integer(2.into()))));
    assert!(raw(with_ike("IncludeAllNetworks", Value::Boolean(true))));
    assert!(raw(with_ike("MTU", Value::Integer(1500.into()))));
    assert!(raw(with_ike("AuthenticationMethod", "Password".into())));
    assert!(raw(with_ike("Unknown", "x".into())));
    let mut d = good.clone();
    d.insert("VPNType".into(), "PPTP".into());
    assert!(raw(d));
    let mut d = good;
    d.insert("VPNUUID".into(), VPN_UUID.into());
    assert!(raw(d), "VPNUUID belongs to the per-app payload");
}

#[test]
fn vpn_checks_have_failing_examples() {
    // VPN / TransparentProxy without VPNSubType.
    let mut v = Vpn::provider("X", "com.example.app", "com.example.app.ext", ProviderType::PacketTunnel);
    v.vpn_sub_type = None;
    assert_eq!(findings(&v), [err("VPNSubType")]);
    // IKEv2 with a non-empty VPNSubType, and without its dictionary.
    let mut v = Vpn::ikev2("X", full_ikev2());
    v.vpn_sub_type = Some("com.example".into());
    assert_eq!(findings(&v), [err("VPNSubType")]);
    assert_eq!(findings(&Vpn::new("X", VpnType::IkeV2)), [err("IKEv2")]);
    assert_eq!(findings(&Vpn::new("X", VpnType::AlwaysOn)), [err("AlwaysOn")]);
    // Certificate authentication without a certificate; CertificateType without issuer; PPK pairs.
    let mut ike = full_ikev2();
    ike.payload_certificate_uuid = None;
    ike.server_certificate_issuer_common_name = None;
    ike.ppk_identifier = None;
    ike.tls_minimum_version = Some(IkeTlsVersion::V1_2);
    ike.tls_maximum_version = Some(IkeTlsVersion::V1_0);
    assert_eq!(
        findings(&Vpn::ikev2("X", ike)),
        [err("IKEv2.PayloadCertificateUUID"), err("IKEv2.ServerCertificateIssuerCommonName"), err("IKEv2.PPKIdentifier"), err("IKEv2.TLSMinimumVersion"),]
    );
    let mut v = Vpn::provider("X", "com.example.app", "com.example.app.ext", ProviderType::PacketTunnel);
    v.vpn.as_mut().unwrap().authentication_method = Some(ProviderAuthMethod::PasswordAndCertificate);
    assert_eq!(findings(&v), [err("VPN.PayloadCertificateUUID")]);
    let mut v = Vpn::new("X", VpnType::IpSec);
    v.ipsec = Some(IpSec { authentication_method: Some(IpSecAuthMethod::Certificate), ..IpSec::default() });
    assert_eq!(findings(&v), [err("IPSec.PayloadCertificateUUID")]);
    // On-demand rules: parameters only with EvaluateConnection; deprecated Allow.
    let mut v = Vpn::provider("X", "com.example.app", "com.example.app.ext", ProviderType::PacketTunnel);
    let mut connect = OnDemandRule::connect();
    connect.action_parameters = Some(vec![]);
    v.vpn.as_mut().unwrap().on_demand_rules = Some(vec![connect, OnDemandRule::new(OnDemandAction::Allow)]);
    assert_eq!(findings(&v), [err("VPN.OnDemandRules[0].ActionParameters"), warn("VPN.OnDemandRules[1].Action")]);
    // DNS and proxies.
    let mut v = Vpn::ikev2("X", full_ikev2());
    v.dns = Some(Dns { dns_protocol: DnsProtocol::Tls, ..Dns::cleartext(strings(&["10.0.0.53"])) });
    v.proxies = Some(Proxies { http_proxy: Some("p".into()), https_proxy: Some("p".into()), ..Proxies::default() });
    assert_eq!(findings(&v), [err("DNS.ServerName"), err("Proxies.HTTPPort"), err("Proxies.HTTPSPort")]);
    let mut v = Vpn::ikev2("X", full_ikev2());
    v.dns = Some(Dns { dns_protocol: DnsProtocol::Https, server_url: Some("http://dns.example.org/q".into()), ..Dns::cleartext(vec![]) });
    assert_eq!(findings(&v), [err("DNS.ServerURL")]);
    // Malformed traffic rules in VendorConfig.
    let mut v = okta_rules().provider_vpn("X", "com.example.app", "com.example.app.ext");
    let vc = v.vendor_config.as_mut().unwrap();
    let mut dtr = vc[VENDOR_CONFIG_KEY].as_dictionary().unwrap().clone();
    let mut rules = dtr["Rules"].as_array().unwrap().clone();
    let mut r0 = rules[0].as_dictionary().unwrap().clone();
    r0.insert("Destinations".into(), Value::Array(vec!["login..example.org".into()]));
    rules[0] = Value::Dictionary(r0);
    dtr.insert("Rules".into(), Value::Array(rules));
    vc.insert(VENDOR_CONFIG_KEY.into(), Value::Dictionary(dtr));
    let issues = check(&v);
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].path, "PayloadContent[0].VendorConfig.DeviceTrafficRules.Rules[0].Destinations[0]");
    assert!(issues[0].message.contains("empty label"), "{}", issues[0].message);
}

// ------------------------------------------------------------------------------------------------
// Device Traffic Rules, provider VPN, per-app VPN, app mapping
// ------------------------------------------------------------------------------------------------

#[test]
fn okta_entra_rules_tunnel_auth_and_bypass_the_rest() {
    let rules = okta_rules();
    assert_eq!(rules.rules().len(), 1);
    assert_eq!(rules.default_action(), &Action::Bypass);
    let dests: Vec<String> = rules.rules()[0].destinations.iter().map(ToString::to_string).collect();
    let mut want = vec!["*acme-health.okta.com".to_string()];
    want.extend(ENTRA_AUTH_DESTINATIONS.iter().map(|s| s.to_string()));
    assert_eq!(dests, want);
    let all = rules.all_rules();
    assert_eq!(all.len(), 2);
    assert!(all[1].is_default());

    let epic = "com.epic.haiku";
    assert_eq!(rules.action_for(epic, "acme-health.okta.com"), &Action::Tunnel);
    assert_eq!(rules.action_for(epic, "login.acme-health.okta.com"), &Action::Tunnel);
    assert_eq!(rules.action_for(epic, "login.microsoftonline.com"), &Action::Tunnel);
    assert_eq!(rules.action_for(epic, "autologon.microsoftazuread-sso.com"), &Action::Bypass);
    assert_eq!(rules.action_for(epic, "sts.windows.net"), &Action::Tunnel);
    assert_eq!(rules.action_for(epic, "other.okta.com"), &Action::Bypass);
    assert_eq!(rules.action_for(epic, "www.apple.com"), &Action::Bypass);
    assert_eq!(rules.action_for(epic, "17.253.144.10"), &Action::Bypass);
    // Apps the rule does not name take the default.
    assert_eq!(rules.action_for("com.apple.mobilesafari", "login.microsoftonline.com"), &Action::Bypass);
    // The tenant may be given as a full host.
    let preview = TrafficRules::okta_entra_auth_tunnel("acme.oktapreview.com", Applications::All).unwrap();
    assert_eq!(preview.rules()[0].destinations[0].to_string(), "*acme.oktapreview.com");
    assert_eq!(preview.action_for("any.app", "acme.oktapreview.com"), &Action::Tunnel);
    assert!(preview.bundle_ids().is_empty());
    assert!(TrafficRules::okta_entra_auth_tunnel("bad tenant", Applications::All).is_err());
}

#[test]
fn traffic_rules_vendor_config_shape_and_round_trip() {
    let rules = okta_rules();
    let vpn = rules.provider_vpn("Auth Tunnel", "com.example.tunnel", "com.example.tunnel.provider");
    let vc = vpn.vendor_config.as_ref().unwrap();
    let expected = json!({
        "Version": 1,
        "Rules": [{
            "Applications": ["com.okta.mobile", "com.microsoft.azureauthenticator", "com.epic.haiku"],
            "Destinations": ["*acme-health.okta.com", "*login.microsoftonline.com", "*login.windows.net",
                             "*login.microsoft.com", "*sts.windows.net"],
            "Action": "Tunnel",
        }],
        "DefaultAction": "Bypass",
    });
    let mut got = vc[VENDOR_CONFIG_KEY].clone();
    if let Value::Dictionary(d) = &mut got {
        d.sort_keys();
    }
    let mut want = plist::to_value(&expected).unwrap();
    if let Value::Dictionary(d) = &mut want {
        d.sort_keys();
    }
    assert_eq!(got, want);
    assert_eq!(vpn.traffic_rules().unwrap(), Some(rules.clone()));
    assert_eq!(TrafficRules::from_vendor_config(vc).unwrap(), Some(rules.clone()));
    assert_eq!(TrafficRules::from_vendor_config(&plist::Dictionary::new()).unwrap(), None);

    // Through a whole profile: the VPN stays typed and the rules come back.
    let mut p = Profile::new("org.example.hospital.authtunnel", "Auth Tunnel");
    p.add("vpn", vpn.clone());
    let back = profile_round_trip(&p, &[]);
    let PayloadBody::Vpn(read) = &back.content[0].body else { panic!("VPN payload not typed") };
    assert_eq!(read.traffic_rules().unwrap(), Some(rules.clone()));

    // A rule set with every action and destination kind round-trips too.
    let rich = TrafficRules::new(vec![
        TrafficRule::parse(Applications::bundles(["com.example.ehr"]), Action::Block, &["*.ads.example.com", "203.0.113.7"]).unwrap(),
        TrafficRule::parse(
            Applications::All,
            Action::Proxy { host: "proxy.hospital.example.org".into(), port: 8080 },
            &["10.0.0.0/8", "2001:db8::/32", "fd00::1", "pacs.hospital.example.org"],
        )
        .unwrap(),
        TrafficRule::parse(Applications::bundles(["com.example.ehr", "com.example.pacs"]), Action::Tunnel, &["*hospital.example.org"]).unwrap(),
        TrafficRule::default_rule(Action::Proxy { host: "10.1.1.1".into(), port: 3128 }),
    ])
    .unwrap();
    let v = rich.to_plist();
    let d = v.as_dictionary().unwrap();
    assert_eq!(d["DefaultAction"], "Proxy".into());
    assert_eq!(d["DefaultProxyHost"], "10.1.1.1".into());
    assert_eq!(d["DefaultProxyPort"], Value::Integer(3128.into()));
    let r1 = d["Rules"].as_array().unwrap()[1].as_dictionary().unwrap();
    assert_eq!(r1["Applications"], "All".into());
    assert_eq!(r1["ProxyPort"], Value::Integer(8080.into()));
    assert_eq!(TrafficRules::from_plist(&v).unwrap(), rich);
    assert_eq!(rich.bundle_ids(), strings(&["com.example.ehr", "com.example.pacs"]));
    assert_eq!(rich.action_for("com.example.ehr", "x.ads.example.com"), &Action::Block);
    assert_eq!(rich.action_for("com.example.ehr", "10.9.8.7"), &Action::Proxy { host: "proxy.hospital.example.org".into(), port: 8080 });
    assert_eq!(rich.action_for("com.example.pacs", "imaging.hospital.example.org"), &Action::Tunnel);
    assert_eq!(rich.action_for("com.other", "imaging.hospital.example.org"), &Action::Proxy { host: "10.1.1.1".into(), port: 3128 });
    // Other VendorConfig keys survive setting the rules.
    let mut vpn = Vpn::provider("X", "com.example.app", "com.example.app.ext", ProviderType::AppProxy);
    vpn.vendor_config = Some([("Role".to_string(), Value::from("clinician"))].into_iter().collect());
    vpn.set_traffic_rules(&rich);
    assert_eq!(vpn.vendor_config.as_ref().unwrap()["Role"], "clinician".into());
    assert_eq!(vpn.traffic_rules().unwrap(), Some(rich));
}

#[test]
fn traffic_rules_vendor_config_errors() {
    let good = okta_rules().to_plist();
    let edit = |f: &dyn Fn(&mut plist::Dictionary)| {
        let mut d = good.as_dictionary().unwrap().clone();
        f(&mut d);
        TrafficRules::from_plist(&Value::Dictionary(d)).unwrap_err()
    };
    let edit_rule = |f: &dyn Fn(&mut plist::Dictionary)| {
        edit(&|d| {
            let mut rules = d["Rules"].as_array().unwrap().clone();
            let mut r = rules[0].as_dictionary().unwrap().clone();
            f(&mut r);
            rules[0] = Value::Dictionary(r);
            d.insert("Rules".into(), Value::Array(rules));
        })
    };
    assert_eq!(
        edit(&|d| {
            d.insert("Version".into(), Value::Integer(2.into()));
        })
        .path,
        "Version"
    );
    assert_eq!(
        edit(&|d| {
            d.remove("DefaultAction");
        })
        .path,
        "DefaultAction"
    );
    assert_eq!(
        edit(&|d| {
            d.insert("DefaultAction".into(), "Tunel".into());
        })
        .path,
        "DefaultAction"
    );
    assert_eq!(
        edit(&|d| {
            d.insert("DefaultProxyPort".into(), Value::Integer(1.into()));
        })
        .path,
        "DefaultProxyHost"
    );
    assert_eq!(
        edit(&|d| {
            d.insert("Extra".into(), true.into());
        })
        .path,
        "Extra"
    );
    assert_eq!(
        edit_rule(&|r| {
            r.insert("Applications".into(), "Some".into());
        })
        .path,
        "Rules[0].Applications"
    );
    assert_eq!(
        edit_rule(&|r| {
            r.insert("Applications".into(), Value::Array(vec!["com..bad".into()]));
        })
        .path,
        "Rules[0].Applications[0]"
    );
    assert_eq!(
        edit_rule(&|r| {
            r.insert("Destinations".into(), Value::Array(vec![]));
        })
        .path,
        "Rules[0].Destinations"
    );
    assert_eq!(
        edit_rule(&|r| {
            r.insert("Destinations".into(), Value::Array(vec!["*".into()]));
        })
        .path,
        "Rules[0].Destinations"
    );
    assert_eq!(
        edit_rule(&|r| {
            r.insert("Action".into(), "Proxy".into());
        })
        .path,
        "Rules[0].ProxyHost"
    );
    assert_eq!(
        edit_rule(&|r| {
            r.insert("Action".into(), "Proxy".into());
            r.insert("ProxyHost".into(), "proxy.example.org".into());
            r.insert("ProxyPort".into(), Value::Integer(70000.into()));
        })
        .path,
        "Rules[0].ProxyPort"
    );
    assert!(TrafficRules::from_plist(&Value::String("x".into())).is_err());
}

#[test]
fn traffic_rules_construction_is_validated() {
    let tunnel = |apps: Applications, d: &[&str]| TrafficRule::parse(apps, Action::Tunnel, d).unwrap();
    let default = TrafficRule::default_rule(Action::Bypass);
    let path = |rules: Vec<TrafficRule>| TrafficRules::new(rules).unwrap_err().path;
    // At least one rule, ending with the default.
    assert_eq!(path(vec![]), "");
    assert_eq!(path(vec![tunnel(Applications::All, &["example.org"])]), "Rules[0]");
    // The default rule is last and only last.
    assert_eq!(path(vec![default.clone(), tunnel(Applications::All, &["example.org"])]), "Rules[1]");
    assert_eq!(path(vec![default.clone(), default.clone()]), "Rules[0].Destinations");
    assert_eq!(path(vec![tunnel(Applications::All, &["*", "example.org"]), default.clone()]), "Rules[0].Destinations");
    // The default applies to all apps and only to *.
    assert_eq!(path(vec![tunnel(Applications::bundles(["com.example.a"]), &["*"])]), "Rules[0]");
    assert_eq!(path(vec![tunnel(Applications::All, &["*", "10.0.0.0/8"])]), "Rules[0]");
    // Destinations non-empty; bundle identifiers well-formed.
    assert_eq!(path(vec![tunnel(Applications::All, &[]), default.clone()]), "Rules[0].Destinations");
    assert_eq!(path(vec![tunnel(Applications::Bundles(vec![]), &["example.org"]), default.clone()]), "Rules[0].Applications");
    for bad in ["", "noreverse", "com.example.", ".com.example", "com..example", "com.example.app!", "com.exa mple", "com.*"] {
        let e = TrafficRules::new(vec![tunnel(Applications::bundles([bad]), &["example.org"]), default.clone()]).unwrap_err();
        assert_eq!(e.path, "Rules[0].Applications[0]", "{bad:?}");
    }
    for good in ["com.example.app", "org.epic.Haiku-2", "com.microsoft.azureauthenticator"] {
        TrafficRules::new(vec![tunnel(Applications::bundles([good]), &["example.org"]), default.clone()]).unwrap();
    }
    // Only the default rule is a valid (trivial) rule set.
    let only = TrafficRules::new(vec![TrafficRule::default_rule(Action::Tunnel)]).unwrap();
    assert!(only.rules().is_empty());
    assert_eq!(only.action_for("com.example.app", "anything.example"), &Action::Tunnel);
}

#[test]
fn destination_parsing_table() {
    let accepted: &[(&str, &str)] = &[
        ("*", "*"),
        ("*tenant.okta.com", "*tenant.okta.com"),
        ("*Login.MicrosoftOnline.com", "*login.microsoftonline.com"),
        ("*.example.org", "*.example.org"),
        ("login.example.org", "login.example.org"),
        ("localhost", "localhost"),
        ("  example.org  ", "example.org"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("10.0.0.1", "10.0.0.1"),
        ("255.255.255.255", "255.255.255.255"),
        ("::1", "::1"),
        ("2001:DB8::1", "2001:db8::1"),
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("192.168.1.7/32", "192.168.1.7/32"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("2001:db8::/32", "2001:db8::/32"),
        ("::/0", "::/0"),
        ("fd00::/8", "fd00::/8"),
    ];
    for (input, canonical) in accepted {
        let d = Destination::parse(input).unwrap_or_else(|e| panic!("{input:?} refused: {e}"));
        assert_eq!(d.to_string(), *canonical, "{input:?}");
        assert_eq!(Destination::parse(canonical).unwrap(), d, "{canonical:?} re-parses");
    }
    assert!(
        matches!(Destination::parse("*tenant.okta.com").unwrap(), Destination::Domain(ref p) if p.scope() == DomainScope::WithSubdomains && p.name() == "tenant.okta.com")
    );
    assert!(matches!(Destination::parse("*.example.org").unwrap(), Destination::Domain(ref p) if p.scope() == DomainScope::SubdomainsOnly));
    assert!(matches!(Destination::parse("10.0.0.1").unwrap(), Destination::Ip(_)));
    assert!(matches!(Destination::parse("10.0.0.0/8").unwrap(), Destination::Cidr(c) if c.prefix() == 8));

    let refused: &[&str] = &[
        "",
        "   ",
        "**",
        "*.",
        "*.*",
        "example..org",
        ".example.org",
        "example.org.",
        "-example.org",
        "example-.org",
        "ex_ample.org",
        "exa mple.org",
        "a*b.example.org",
        "login.*.example.org",
        "http://example.org",
        "example.org:443",
        "example.org/path",
        "*10.0.0.1",
        "999.1.1.1",
        "1.2.3",
        "10.0.0.256",
        "10.0.0.0/33",
        "10.0.0.1/8",
        "10.0.0.0/",
        "10.0.0.0/-1",
        "10.0.0.0/+8",
        "/8",
        "::1/129",
        "2001:db8::1/32",
        "fe80::1%en0",
        "example.org/8",
        &"a".repeat(64),
    ];
    for input in refused {
        assert!(Destination::parse(input).is_err(), "{input:?} accepted as {:?}", Destination::parse(input));
    }
    let long = format!("{}.org", ["abcdefghij"; 25].join("."));
    assert!(long.len() > 253);
    assert!(Destination::parse(&long).is_err());
    let e = Destination::parse("10.0.0.1/8").unwrap_err();
    assert!(e.to_string().contains("10.0.0.0/8"), "{e}");
}

#[test]
fn per_app_vpn_with_safari_domains_and_app_mapping() {
    let rules = okta_rules();
    let mut per_app = rules.per_app_vpn("Auth Tunnel", "com.example.tunnel", "com.example.tunnel.provider", VPN_UUID);
    per_app.app_layer.safari_domains = Some(strings(&["acme-health.okta.com", "login.microsoftonline.com"]));
    per_app.app_layer.associated_domains = Some(strings(&["acme-health.okta.com"]));
    per_app.app_layer.excluded_domains = Some(strings(&["www.apple.com"]));
    per_app.app_layer.smb_domains = Some(strings(&["files.hospital.example.org"]));
    per_app.app_layer.calendar_domains = Some(strings(&["calendar.hospital.example.org"]));
    per_app.app_layer.contacts_domains = Some(strings(&["contacts.hospital.example.org"]));
    per_app.app_layer.mail_domains = Some(strings(&["mail.hospital.example.org"]));
    let d = round_trip(&per_app);
    assert_eq!(d["VPNUUID"], VPN_UUID.into());
    assert_eq!(d["VPNType"], "VPN".into());
    assert_eq!(d["OnDemandMatchAppEnabled"], true.into());
    assert!(d["VendorConfig"].as_dictionary().unwrap().contains_key(VENDOR_CONFIG_KEY));
    assert_eq!(per_app.vpn.traffic_rules().unwrap(), Some(rules.clone()));
    assert_eq!(per_app.vpn_uuid(), VPN_UUID);

    // The apps to associate: the plain list (iOS: install with the VPNUUID attribute) ...
    let apps = rules.bundle_ids();
    assert_eq!(apps, strings(&["com.okta.mobile", "com.microsoft.azureauthenticator", "com.epic.haiku"]));
    // ... and the macOS mapping payload.
    let mapping = rules.app_mapping(VPN_UUID);
    assert_eq!(mapping.mapping.len(), 3);
    assert_eq!(mapping.mapping[2], AppMappingItem::for_bundle("com.epic.haiku", VPN_UUID));
    assert_eq!(mapping.mapping[2].designated_requirement, "identifier \"com.epic.haiku\" and anchor apple generic");
    assert!(mapping.mapping.iter().all(|m| m.vpn_uuid == VPN_UUID && m.signing_identifier == m.identifier));
    let md = round_trip(&mapping);
    let first = md["AppLayerVPNMapping"].as_array().unwrap()[0].as_dictionary().unwrap();
    assert_eq!(first["Identifier"], "com.okta.mobile".into());
    assert_eq!(first["VPNUUID"], VPN_UUID.into());
    let mut tools = mapping.clone();
    tools.mapping[0].path = Some("/Applications/Okta Verify.app".into());
    tools.mapping[0].match_tools = Some(vec![mdm_profiles::payloads::vpn::MatchTool {
        designated_requirement: "identifier \"com.apple.curl\" and anchor apple".into(),
        signing_identifier: "com.apple.curl".into(),
        path: Some("/usr/bin/curl".into()),
    }]);
    round_trip(&tools);

    let mut p = Profile::new("org.example.hospital.perapp", "Per-app Auth Tunnel");
    p.add("vpn", per_app.clone());
    p.add("mapping", mapping);
    let back = profile_round_trip(&p, &[]);
    assert!(matches!(&back.content[0].body, PayloadBody::AppLayerVpn(v) if *v == per_app));
    assert!(matches!(&back.content[1].body, PayloadBody::VpnAppMapping(_)));
}

#[test]
fn per_app_and_mapping_checks_have_failing_examples() {
    let mut per_app = AppLayerVpn::new(Vpn::new("X", VpnType::Vpn), " ");
    per_app.vpn.vpn_sub_type = Some("com.example.app".into());
    assert_eq!(findings(&per_app), [err("VPNUUID")]);
    per_app.vpn.vpn_sub_type = None;
    assert_eq!(findings(&per_app), [err("VPNSubType"), err("VPNUUID")]);
    let mut m = AppMapping::for_bundles(["com.example.a", "com.example.a"], VPN_UUID);
    m.mapping[0].designated_requirement.clear();
    assert_eq!(findings(&m), [err("AppLayerVPNMapping[0].DesignatedRequirement"), err("AppLayerVPNMapping[1].Identifier")]);
    // A per-app dictionary with an unknown key stays raw.
    let mut d = to_dict(&AppLayerVpn::new(Vpn::ikev2("X", full_ikev2()), VPN_UUID));
    assert!(!matches!(PayloadBody::from_dict("com.apple.vpn.managed.applayer", d.clone()), PayloadBody::Raw(_)));
    d.insert("SafariDomain".into(), Value::Array(vec![]));
    assert!(matches!(PayloadBody::from_dict("com.apple.vpn.managed.applayer", d), PayloadBody::Raw(_)));
}

// ------------------------------------------------------------------------------------------------
// Extensible SSO
// ------------------------------------------------------------------------------------------------

fn entra_sso() -> ExtensibleSso {
    let mut s = ExtensibleSso::redirect(
        "com.microsoft.azureauthenticator.ssoextension",
        "SGGM6D27TK",
        strings(&["https://login.microsoftonline.com", "https://login.microsoft.com", "https://sts.windows.net"]),
    );
    s.screen_locked_behavior = Some(ScreenLockedBehavior::DoNotHandle);
    s.denied_bundle_identifiers = Some(strings(&["com.example.kiosk"]));
    let data: plist::Dictionary = [
        ("browser_sso_interaction_enabled".to_string(), Value::Integer(1.into())),
        ("disable_explicit_app_prompt".to_string(), Value::Integer(1.into())),
        ("AppPrefixAllowList".to_string(), Value::from("com.microsoft.,com.apple.")),
    ]
    .into_iter()
    .collect();
    s.with_extension_data(data)
}

fn kerberos_sso() -> ExtensibleSso {
    let data = KerberosExtensionData {
        principal_name: Some("jdoe".into()),
        site_code: Some("Main-Campus".into()),
        certificate_uuid: Some(SCEP_UUID.into()),
        use_site_auto_discovery: Some(false),
        credential_bundle_id_acl: Some(strings(&["com.apple.mobilesafari", "com.epic.haiku"])),
        include_managed_apps_in_bundle_id_acl: Some(true),
        domain_realm_mapping: Some([("HOSPITAL.EXAMPLE.ORG".to_string(), strings(&[".hospital.example.org"]))].into()),
        is_default_realm: Some(true),
        custom_username_label: Some("Hospital ID".into()),
        help_text: Some("Use your hospital ID and password.".into()),
        allow_automatic_login: Some(true),
        require_user_presence: Some(false),
        require_tls_for_ldap: Some(true),
        credential_use_mode: Some(CredentialUseMode::Always),
        preferred_kdcs: Some(strings(&["kdc1.hospital.example.org", "tcp/kdc2.hospital.example.org:88"])),
        perform_kerberos_only: Some(true),
        ..KerberosExtensionData::default()
    };
    ExtensibleSso::kerberos("HOSPITAL.EXAMPLE.ORG", strings(&[".hospital.example.org", "hospital.example.org"]), data)
}

#[test]
fn sso_round_trips_typed() {
    let d = round_trip(&entra_sso());
    assert_eq!(d["Type"], "Redirect".into());
    assert_eq!(d["ExtensionData"].as_dictionary().unwrap()["browser_sso_interaction_enabled"], Value::Integer(1.into()));
    let k = kerberos_sso();
    let d = round_trip(&k);
    assert_eq!(d["ExtensionIdentifier"], "com.apple.AppSSOKerberos.KerberosExtension".into());
    assert_eq!(d["TeamIdentifier"], "apple".into());
    assert_eq!(d["Type"], "Credential".into());
    let ed = d["ExtensionData"].as_dictionary().unwrap();
    assert_eq!(ed["credentialBundleIdACL"].as_array().unwrap().len(), 2);
    assert_eq!(ed["domainRealmMapping"].as_dictionary().unwrap()["HOSPITAL.EXAMPLE.ORG"], Value::Array(vec![".hospital.example.org".into()]));
    assert!(matches!(k.extension_data, Some(ExtensionData::Kerberos(_))));
    let cred = ExtensibleSso::credential("com.example.sso.credential", "ABCDE12345", "EXAMPLE.ORG", strings(&[".example.org"]));
    round_trip(&cred);
    for s in [entra_sso(), k, cred] {
        assert!(check(&s).is_empty(), "{:?}", check(&s));
    }
}

#[test]
fn sso_profiles_validate() {
    let mut p = Profile::new("org.example.hospital.sso.entra", "Microsoft Enterprise SSO");
    p.add("sso", entra_sso());
    let back = profile_round_trip(&p, &[]);
    assert!(matches!(&back.content[0].body, PayloadBody::Sso(s) if s.sso_type == SsoType::Redirect));

    let mut p = Profile::new("org.example.hospital.sso.kerberos", "Kerberos SSO");
    p.push(scep_payload("org.example.hospital.sso.kerberos.pkinit"));
    p.add("kerberos", kerberos_sso());
    let back = profile_round_trip(&p, &["com.apple.security.scep"]);
    let PayloadBody::Sso(s) = &back.content[1].body else { panic!("Kerberos payload not typed") };
    assert_eq!(s.kerberos_data().and_then(|d| d.certificate_uuid.as_deref()), Some(back.content[0].uuid()));
}

#[test]
fn sso_checks_have_failing_examples() {
    let mut s = entra_sso();
    s.urls = None;
    assert_eq!(findings(&s), [err("URLs")]);
    let mut s = entra_sso();
    s.urls = Some(strings(&["login.microsoftonline.com", "https://idp.example.org/?x=1"]));
    assert_eq!(findings(&s), [err("URLs[0]"), err("URLs[1]")]);
    let mut s = ExtensibleSso::credential("com.example.sso", "ABCDE12345", "EXAMPLE.ORG", vec![]);
    s.realm = None;
    assert_eq!(findings(&s), [err("Realm"), err("Hosts")]);
    // Kerberos: Realm required, Type Credential, TeamIdentifier apple.
    let mut k = kerberos_sso();
    k.realm = None;
    k.team_identifier = None;
    assert_eq!(findings(&k), [err("Realm"), err("TeamIdentifier")]);
    let mut k = kerberos_sso();
    k.sso_type = SsoType::Redirect;
    k.urls = Some(strings(&["https://kdc.example.org"]));
    assert_eq!(findings(&k), [err("Type")]);
    // A third-party extension without TeamIdentifier: macOS needs it.
    let mut s = entra_sso();
    s.team_identifier = None;
    assert_eq!(findings(&s), [warn("TeamIdentifier")]);
    // Kerberos settings on another extension.
    let mut s = entra_sso();
    s.extension_data = kerberos_sso().extension_data;
    assert_eq!(findings(&s), [err("ExtensionData")]);
    // Kerberos with undocumented ExtensionData keys stays raw.
    let mut d = to_dict(&kerberos_sso());
    let mut ed = d["ExtensionData"].as_dictionary().unwrap().clone();
    ed.insert("browser_sso_interaction_enabled".into(), Value::Integer(1.into()));
    d.insert("ExtensionData".into(), Value::Dictionary(ed));
    assert!(matches!(PayloadBody::from_dict("com.apple.extensiblesso", d), PayloadBody::Raw(_)));
}

// ------------------------------------------------------------------------------------------------
// JSON input
// ------------------------------------------------------------------------------------------------

#[test]
fn json_input_uses_apple_key_names() {
    let w: Wifi = serde_json::from_value(json!({
        "SSID_STR": "Clinical",
        "EncryptionType": "WPA2",
        "AutoJoin": true,
        "PayloadCertificateUUID": SCEP_UUID,
        "EAPClientConfiguration": {
            "AcceptEAPTypes": [13],
            "TLSTrustedServerNames": ["radius.hospital.example.org"],
            "TLSMinimumVersion": "1.2"
        },
        "ProxyType": "Manual", "ProxyServer": "proxy", "ProxyServerPort": 8080
    }))
    .unwrap();
    assert_eq!(
        w,
        Wifi::eap_tls("Clinical", SCEP_UUID, strings(&["radius.hospital.example.org"]))
            .with_manual_proxy("proxy", 8080)
            .tap_eap(|e| e.tls_minimum_version = Some(TlsVersion::V1_2))
    );
    assert!(serde_json::from_value::<Wifi>(json!({"SSID_STR": "x", "EAPClientConfiguration": {"AcceptEAPTypes": [50]}})).is_err());
    assert!(serde_json::from_value::<Wifi>(json!({"SSID": "x"})).is_err());

    let v: Vpn = serde_json::from_value(json!({
        "UserDefinedName": "Hospital IKEv2",
        "VPNType": "IKEv2",
        "IKEv2": {
            "RemoteAddress": "vpn.hospital.example.org",
            "LocalIdentifier": "device",
            "RemoteIdentifier": "vpn.hospital.example.org",
            "AuthenticationMethod": "SharedSecret",
            "SharedSecret": "s3cret",
            "PPK": "AQID",
            "PPKIdentifier": "ppk",
            "OnDemandEnabled": 1,
            "OnDemandRules": [{"Action": "Connect", "InterfaceTypeMatch": "Cellular"}],
            "ChildSecurityAssociationParameters": {"DiffieHellmanGroup": 19, "LifeTimeInMinutes": 120}
        }
    }))
    .unwrap();
    let ike = v.ikev2.as_ref().unwrap();
    assert_eq!(ike.authentication_method, IkeAuthMethod::SharedSecret);
    assert_eq!(ike.ppk, Some(Data(vec![1, 2, 3])));
    assert_eq!(ike.on_demand_enabled, Some(IntBool::ON));
    assert_eq!(ike.child_security_association_parameters.as_ref().unwrap().diffie_hellman_group, Some(DiffieHellmanGroup::G19));
    assert!(serde_json::from_value::<Vpn>(json!({"UserDefinedName": "x", "VPNType": "PPTP"})).is_err());

    let per_app: AppLayerVpn = serde_json::from_value(json!({
        "UserDefinedName": "Auth Tunnel",
        "VPNType": "VPN",
        "VPNSubType": "com.example.tunnel",
        "VPNUUID": VPN_UUID,
        "SafariDomains": ["acme-health.okta.com"],
        "VPN": {"ProviderBundleIdentifier": "com.example.tunnel.provider", "ProviderType": "packet-tunnel"},
        "VendorConfig": {"DeviceTrafficRules": {
            "Version": 1,
            "Rules": [{"Applications": ["com.epic.haiku"], "Destinations": ["*acme-health.okta.com"], "Action": "Tunnel"}],
            "DefaultAction": "Bypass"
        }}
    }))
    .unwrap();
    assert_eq!(per_app.vpn_uuid(), VPN_UUID);
    assert_eq!(per_app.vpn.vpn.as_ref().unwrap().provider_type, Some(ProviderType::PacketTunnel));
    let rules = per_app.vpn.traffic_rules().unwrap().unwrap();
    assert_eq!(rules.bundle_ids(), strings(&["com.epic.haiku"]));

    let rules: TrafficRules = serde_json::from_value(json!({
        "Version": 1,
        "Rules": [{"Applications": "All", "Destinations": ["10.0.0.0/8"], "Action": "Proxy", "ProxyHost": "p.example.org", "ProxyPort": 3128}],
        "DefaultAction": "Block"
    }))
    .unwrap();
    assert_eq!(rules.default_action(), &Action::Block);
    assert_eq!(serde_json::to_value(&rules).unwrap()["Rules"][0]["ProxyPort"], json!(3128));
    assert!(serde_json::from_value::<TrafficRules>(json!({"Version": 1, "Rules": [], "DefaultAction": "Maybe"})).is_err());
    assert!(serde_json::from_value::<Destination>(json!("*tenant.okta.com")).is_ok());
    assert!(serde_json::from_value::<Destination>(json!("tenant..okta.com")).is_err());

    let k: ExtensibleSso = serde_json::from_value(json!({
        "ExtensionIdentifier": "com.apple.AppSSOKerberos.KerberosExtension",
        "TeamIdentifier": "apple",
        "Type": "Credential",
        "Realm": "HOSPITAL.EXAMPLE.ORG",
        "Hosts": [".hospital.example.org"],
        "ExtensionData": {"principalName": "jdoe", "allowAutomaticLogin": false, "pwReqRTFData": "e1xydGYxfQ=="}
    }))
    .unwrap();
    let data = k.kerberos_data().unwrap();
    assert_eq!(data.principal_name.as_deref(), Some("jdoe"));
    assert_eq!(data.pw_req_rtf_data, Some(Data(b"{\\rtf1}".to_vec())));
    assert!(check(&k).is_empty());
    let r: ExtensibleSso = serde_json::from_value(json!({
        "ExtensionIdentifier": "com.example.sso", "TeamIdentifier": "ABCDE12345", "Type": "Redirect",
        "URLs": ["https://idp.example.org"], "ExtensionData": {"anything": {"nested": [1, 2]}}
    }))
    .unwrap();
    assert!(matches!(r.extension_data, Some(ExtensionData::Other(_))));
    assert!(serde_json::from_value::<ExtensibleSso>(json!({"ExtensionIdentifier": "x", "Type": "Magic"})).is_err());

    let m: AppMapping = serde_json::from_value(json!({"AppLayerVPNMapping": [{
        "Identifier": "com.epic.haiku", "VPNUUID": VPN_UUID,
        "DesignatedRequirement": "identifier \"com.epic.haiku\" and anchor apple generic",
        "SigningIdentifier": "com.epic.haiku"
    }]}))
    .unwrap();
    assert_eq!(m, AppMapping::for_bundles(["com.epic.haiku"], VPN_UUID));
}

/// Small builder helper for the JSON test.
trait TapEap {
    fn tap_eap(self, f: impl FnOnce(&mut EapClientConfiguration)) -> Self;
}

impl TapEap for Wifi {
    fn tap_eap(mut self, f: impl FnOnce(&mut EapClientConfiguration)) -> Wifi {
        if let Some(e) = &mut self.eap_client_configuration {
            f(e);
        }
        self
    }
}

#[test]
fn enum_spellings_match_apple() {
    let s = |v: Value| v.as_string().unwrap().to_string();
    assert_eq!(s(plist::to_value(&VpnType::IkeV2).unwrap()), "IKEv2");
    assert_eq!(s(plist::to_value(&VpnType::IpSec).unwrap()), "IPSec");
    assert_eq!(s(plist::to_value(&VpnType::TransparentProxy).unwrap()), "TransparentProxy");
    assert_eq!(s(plist::to_value(&ProviderAuthMethod::PasswordAndCertificate).unwrap()), "Password+Certificate");
    assert_eq!(s(plist::to_value(&ProviderType::AppProxy).unwrap()), "app-proxy");
    assert_eq!(s(plist::to_value(&EncryptionAlgorithm::ChaCha20Poly1305).unwrap()), "ChaCha20Poly1305");
    assert_eq!(s(plist::to_value(&EncryptionAlgorithm::TripleDes).unwrap()), "3DES");
    assert_eq!(s(plist::to_value(&IntegrityAlgorithm::Sha1_96).unwrap()), "SHA1-96");
    assert_eq!(s(plist::to_value(&OnDemandAction::EvaluateConnection).unwrap()), "EvaluateConnection");
    assert_eq!(s(plist::to_value(&TtlsInnerAuthentication::MsChapV2).unwrap()), "MSCHAPv2");
    assert_eq!(s(plist::to_value(&TlsVersion::V1_3).unwrap()), "1.3");
    assert_eq!(s(plist::to_value(&EncryptionType::Any).unwrap()), "Any");
    assert_eq!(s(plist::to_value(&ScreenLockedBehavior::DoNotHandle).unwrap()), "DoNotHandle");
    assert_eq!(s(plist::to_value(&CredentialUseMode::WhenNotSpecified).unwrap()), "whenNotSpecified");
    assert_eq!(s(plist::to_value(&VpnProvider::default().provider_type.unwrap_or(ProviderType::PacketTunnel)).unwrap()), "packet-tunnel");
    assert_eq!(EapType::from_value(43), Some(EapType::Fast));
    assert_eq!(EapType::Aka.value(), 23);
}

#[test]
fn configurator_style_fixture_reads_typed() {
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/network/clinical-wifi-vpn.mobileconfig")).unwrap();
    let p = Profile::from_plist_bytes(&bytes).unwrap();
    let PayloadBody::Wifi(w) = &p.content[1].body else { panic!("Wi-Fi read raw: {:?}", p.content[1]) };
    assert_eq!(w.ssid.as_deref(), Some("Clinical"));
    assert_eq!(w.payload_certificate_uuid.as_deref(), Some(p.content[0].uuid()));
    assert_eq!(w.eap_client_configuration.as_ref().unwrap().accept_eap_types, [EapType::Tls]);
    let PayloadBody::Vpn(v) = &p.content[2].body else { panic!("VPN read raw: {:?}", p.content[2]) };
    let ike = v.ikev2.as_ref().unwrap();
    assert_eq!(ike.authentication_method, IkeAuthMethod::Certificate);
    assert_eq!(ike.on_demand_rules.as_ref().unwrap()[0].action, OnDemandAction::Disconnect);
    // Nothing is lost: the re-written dictionary is the one read.
    let original = Value::from_reader_xml(bytes.as_slice()).unwrap().into_dictionary().unwrap();
    let mut want = original.clone();
    want.sort_keys();
    assert_eq!(Value::Dictionary(p.to_dict().unwrap()), normalize(Value::Dictionary(want)));
    assert!(p.check().is_empty(), "{:?}", p.check());
    assert!(mdm_profiles::schema::validate_profile(&original).is_empty());
}

/// Sorts the keys of every dictionary, as `Profile::to_dict` writes them.
fn normalize(v: Value) -> Value {
    match v {
        Value::Dictionary(d) => {
            let mut out: plist::Dictionary = d.into_iter().map(|(k, v)| (k, normalize(v))).collect();
            out.sort_keys();
            Value::Dictionary(out)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(normalize).collect()),
        other => other,
    }
}
