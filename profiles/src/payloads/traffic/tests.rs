use super::*;

#[test]
fn cidr_contains_and_masks() {
    let Destination::Cidr(c) = Destination::parse("10.0.0.0/8").unwrap() else { panic!() };
    assert!(c.contains("10.200.1.1".parse().unwrap()));
    assert!(!c.contains("11.0.0.1".parse().unwrap()));
    assert!(!c.contains("::1".parse().unwrap()));
    let Destination::Cidr(all) = Destination::parse("0.0.0.0/0").unwrap() else { panic!() };
    assert!(all.contains("203.0.113.9".parse().unwrap()));
    let Destination::Cidr(v6) = Destination::parse("2001:db8::/32").unwrap() else { panic!() };
    assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
    assert!(!v6.contains("2001:db9::5".parse().unwrap()));
    assert!(Destination::parse("::/0").unwrap().matches("fe80::1"));
}

#[test]
fn domain_matching_respects_labels() {
    let d = Destination::parse("*Tenant.Okta.com").unwrap();
    assert_eq!(d.to_string(), "*tenant.okta.com");
    assert!(d.matches("tenant.okta.com"));
    assert!(d.matches("login.TENANT.okta.com."));
    assert!(!d.matches("eviltenant.okta.com"));
    assert!(!d.matches("okta.com"));
    assert!(!d.matches("10.0.0.1"));
    let sub = Destination::parse("*.example.org").unwrap();
    assert!(sub.matches("a.example.org"));
    assert!(!sub.matches("example.org"));
    let exact = Destination::parse("example.org").unwrap();
    assert!(exact.matches("example.org"));
    assert!(!exact.matches("a.example.org"));
}

#[test]
fn proxy_action_is_checked() {
    let bad_port = TrafficRules::with_default(vec![], Action::Proxy { host: "proxy.example.org".into(), port: 0 });
    assert_eq!(bad_port.unwrap_err().path, "DefaultAction");
    let bad_host = TrafficRules::with_default(
        vec![TrafficRule::parse(Applications::All, Action::Proxy { host: "http://p".into(), port: 8080 }, &["10.0.0.0/8"]).unwrap()],
        Action::Bypass,
    );
    assert_eq!(bad_host.unwrap_err().path, "Rules[0].Action");
}
