use super::*;

#[test]
fn kerberos_extension_data_is_typed_when_read() {
    let data = KerberosExtensionData {
        principal_name: Some("jdoe".into()),
        domain_realm_mapping: Some([("HOSPITAL.EXAMPLE.ORG".to_string(), vec![".hospital.example.org".to_string()])].into()),
        credential_use_mode: Some(CredentialUseMode::WhenNotSpecified),
        ..KerberosExtensionData::default()
    };
    let k = ExtensibleSso::kerberos("HOSPITAL.EXAMPLE.ORG", vec![".hospital.example.org".into()], data);
    let v = plist::to_value(&k).unwrap();
    let d = v.as_dictionary().unwrap();
    let ed = d["ExtensionData"].as_dictionary().unwrap();
    assert_eq!(ed["principalName"], "jdoe".into());
    assert_eq!(ed["credentialUseMode"], "whenNotSpecified".into());
    let back: ExtensibleSso = plist::from_value(&v).unwrap();
    assert_eq!(back, k);
    assert_eq!(back.kerberos_data().and_then(|d| d.principal_name.as_deref()), Some("jdoe"));

    // An undocumented Kerberos key is refused (the payload then stays raw).
    let mut bad = d.clone();
    let mut ed = ed.clone();
    ed.insert("madeUp".into(), true.into());
    bad.insert("ExtensionData".into(), plist::Value::Dictionary(ed.clone()));
    assert!(plist::from_value::<ExtensibleSso>(&plist::Value::Dictionary(bad)).is_err());
    // The same dictionary is fine for a third-party extension.
    let other = ExtensibleSso::credential("com.example.sso", "ABCDE12345", "EXAMPLE", vec!["example.org".into()]).with_extension_data(ed);
    let back: ExtensibleSso = plist::from_value(&plist::to_value(&other).unwrap()).unwrap();
    assert_eq!(back, other);
}

#[test]
fn unknown_top_level_keys_are_refused() {
    let mut d =
        plist::to_value(&ExtensibleSso::redirect("com.example.sso", "ABCDE12345", vec!["https://idp.example.org".into()])).unwrap().into_dictionary().unwrap();
    d.insert("Nonsense".into(), 1.into());
    assert!(plist::from_value::<ExtensibleSso>(&plist::Value::Dictionary(d)).is_err());
}

#[test]
fn platform_sso_rules() {
    let mut s = ExtensibleSso::redirect("com.example.psso", "ABCDE12345", vec!["https://idp.example.org".into()]);
    s.registration_token = Some("t".into());
    s.platform_sso = Some(PlatformSso {
        enable_authorization: Some(true),
        login_policy: Some(vec![PlatformSsoPolicy::AllowOfflineGracePeriod]),
        unlock_policy: Some(vec![UnlockPolicy::AllowAuthenticationGracePeriod]),
        ..PlatformSso::default()
    });
    let mut out = Vec::new();
    s.check("P", &mut out);
    let paths: Vec<&str> = out.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(
        paths,
        ["P.RegistrationToken", "P.PlatformSSO.EnableAuthorization", "P.PlatformSSO.OfflineGracePeriod", "P.PlatformSSO.AuthenticationGracePeriod"]
    );
    assert!(plist::from_value::<PlatformSso>(&plist::Value::Dictionary(
        [("LoginFrequency".to_string(), plist::Value::Integer(60.into()))].into_iter().collect()
    ))
    .is_err());
}
