use super::*;

#[test]
fn spelling_and_closed_sets() {
    let r: Restrictions = serde_json::from_value(serde_json::json!({
        "allowCamera": false,
        "allowiTunes": false,
        "allowUIAppInstallation": false,
        "forceWiFiToAllowedNetworksOnly": true,
        "allowListedAppBundleIDs": ["com.example.ehr", "com.apple.webapp"],
        "ratingRegion": "gb",
        "ratingApps": 300,
        "safariAcceptCookies": 1.5,
        "enforcedSoftwareUpdateDelay": 14,
    }))
    .unwrap();
    assert_eq!(r.allow_camera, Some(false));
    assert_eq!(r.allow_itunes, Some(false));
    assert_eq!(r.safari_accept_cookies, Some(CookiePolicy::PreventCrossSiteTrackingLegacy));
    let v = plist::to_value(&r).unwrap();
    let d = v.as_dictionary().unwrap();
    assert_eq!(d["safariAcceptCookies"], plist::Value::Real(1.5));
    assert_eq!(d["allowUIAppInstallation"], false.into());
    assert_eq!(plist::from_value::<Restrictions>(&v).unwrap(), r);
    for bad in [
        serde_json::json!({"ratingRegion": "xx"}),
        serde_json::json!({"ratingApps": 1001}),
        serde_json::json!({"safariAcceptCookies": 3}),
        serde_json::json!({"enforcedSoftwareUpdateDelay": 0}),
        serde_json::json!({"allowSiri": false}),
    ] {
        assert!(serde_json::from_value::<Restrictions>(bad.clone()).is_err(), "{bad}");
    }
    let int_cookie: Restrictions = serde_json::from_value(serde_json::json!({"safariAcceptCookies": 2})).unwrap();
    assert_eq!(int_cookie.safari_accept_cookies, Some(CookiePolicy::Default));
}

#[test]
fn prose_rules() {
    let r = Restrictions {
        whitelisted_app_bundle_ids: Some(vec!["com.example.app".into(), "bad id".into()]),
        rating_movies: Some(Ranged::saturating(250)),
        ..Restrictions::default()
    };
    let mut out = Vec::new();
    r.check("P", &mut out);
    let paths: Vec<_> = out.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(paths, ["P.whitelistedAppBundleIDs", "P.whitelistedAppBundleIDs[1]", "P.ratingMovies"]);
    let mut out = Vec::new();
    Restrictions::shared_clinical_device().check("P", &mut out);
    assert!(out.is_empty(), "{out:?}");
}
