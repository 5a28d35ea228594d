use super::*;

fn dict(v: &impl Serialize) -> plist::Dictionary {
    match plist::to_value(v).unwrap() {
        plist::Value::Dictionary(d) => d,
        other => panic!("not a dictionary: {other:?}"),
    }
}

#[test]
fn int_bool_and_ranges_refuse_other_values() {
    assert_eq!(plist::to_value(&IntBool::ON).unwrap(), plist::Value::Integer(1.into()));
    assert!(plist::from_value::<IntBool>(&plist::Value::Integer(2.into())).is_err());
    assert!(plist::from_value::<IntBool>(&plist::Value::Boolean(true)).is_err());
    assert_eq!(plist::from_value::<IntBool>(&plist::Value::Integer(0.into())).unwrap(), IntBool::OFF);
    assert!(Mtu::new(1279).is_err());
    assert_eq!(Mtu::new(1400).unwrap().get(), 1400);
    assert!(plist::from_value::<LifetimeMinutes>(&plist::Value::Integer(5.into())).is_err());
    assert_eq!(DiffieHellmanGroup::from_value(14), Some(DiffieHellmanGroup::G14));
    assert!(plist::from_value::<DiffieHellmanGroup>(&plist::Value::Integer(3.into())).is_err());
    assert_eq!(plist::to_value(&DiffieHellmanGroup::G19).unwrap(), plist::Value::Integer(19.into()));
}

#[test]
fn app_layer_keys_match_the_struct() {
    let mut s = AppLayerSettings::new("U");
    s.cellular_slice_uuid = Some("x".into());
    s.safari_domains = Some(vec![]);
    s.mail_domains = Some(vec![]);
    s.calendar_domains = Some(vec![]);
    s.contacts_domains = Some(vec![]);
    s.associated_domains = Some(vec![]);
    s.excluded_domains = Some(vec![]);
    s.on_demand_match_app_enabled = Some(true);
    s.smb_domains = Some(vec![]);
    let d = dict(&s);
    let mut keys: Vec<&str> = d.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut want = APP_LAYER_KEYS.to_vec();
    want.sort_unstable();
    assert_eq!(keys, want);
}

#[test]
fn app_layer_vpn_refuses_unknown_keys() {
    let v = AppLayerVpn::new(Vpn::provider("X", "com.example.vpn", "com.example.vpn.tunnel", ProviderType::PacketTunnel), "U");
    let mut d = dict(&v);
    let back: AppLayerVpn = plist::from_value(&plist::Value::Dictionary(d.clone())).unwrap();
    assert_eq!(back, v);
    d.insert("Bogus".into(), true.into());
    assert!(plist::from_value::<AppLayerVpn>(&plist::Value::Dictionary(d)).is_err());
}

#[test]
fn on_demand_rule_checks() {
    let mut ike = IkeV2::new("vpn.example.org", "client", "vpn.example.org", IkeAuthMethod::SharedSecret);
    let mut eval = OnDemandRule::new(OnDemandAction::EvaluateConnection);
    eval.action_parameters = Some(vec![ActionParameter {
        domains: vec!["intranet.example.org".into()],
        domain_action: DomainAction::NeverConnect,
        required_dns_servers: Some(vec!["10.0.0.53".into()]),
        required_url_string_probe: None,
    }]);
    let mut connect = OnDemandRule::connect();
    connect.action_parameters = Some(vec![]);
    ike.on_demand_rules = Some(vec![OnDemandRule::new(OnDemandAction::EvaluateConnection), eval, connect]);
    let mut out = Vec::new();
    ike.check("P", &mut out);
    let paths: Vec<&str> = out.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(
        paths,
        ["P.OnDemandRules[0].ActionParameters", "P.OnDemandRules[1].ActionParameters[0].RequiredDNSServers", "P.OnDemandRules[2].ActionParameters"]
    );
}
