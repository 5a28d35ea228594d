//! The device-trust factor against a minimal service provider: the device gets its access
//! certificate through the access profile's SCEP payload, its browser presents it, and the
//! assertion's signature is checked by xmlsec1 with the certificate from the published metadata;
//! a non-compliant device and a browser without the certificate get the refusal page; a new
//! signing key is published before it signs.

use std::io::Write;

use base64::Engine;
use mdm_sim::transport::Transport;

use crate::both;
use crate::harness::{drain, Db, Harness};

const SP: &str = "https://example.okta.com/saml2/service-provider/spxyz";
const ACS: &str = "https://example.okta.com/sso/saml2/0oa1factor";

/// What the service provider sends: an AuthnRequest, HTTP-Redirect encoded.
fn authn_request(id: &str) -> String {
    let xml = format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="2026-12-08T00:00:00Z" AssertionConsumerServiceURL="{ACS}"><saml:Issuer>{SP}</saml:Issuer></samlp:AuthnRequest>"#
    );
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(xml.as_bytes()).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(e.finish().unwrap());
    url::form_urlencoded::Serializer::new(String::new()).append_pair("SAMLRequest", &b64).append_pair("RelayState", "state-42").finish()
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = s.find(start)? + start.len();
    Some(&s[i..i + s[i..].find(end)?])
}

/// The service provider's check: the signature verifies (xmlsec1) with a certificate from the
/// IdP's metadata.
fn verifies(response_xml: &str, cert_b64: &str) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let pem = format!("-----BEGIN CERTIFICATE-----\n{cert_b64}\n-----END CERTIFICATE-----\n");
    std::fs::write(dir.path().join("idp.pem"), pem).unwrap();
    std::fs::write(dir.path().join("response.xml"), response_xml).unwrap();
    let out = std::process::Command::new("xmlsec1")
        .args(["--verify", "--pubkey-cert-pem", "idp.pem", "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion", "response.xml"])
        .current_dir(dir.path())
        .output()
        .expect("xmlsec1 (make deps installs it)");
    out.status.success()
}

async fn metadata_certs(h: &Harness) -> Vec<String> {
    let md = h.api.get(h.url("/saml/metadata")).send().await.unwrap().text().await.unwrap();
    assert!(md.contains(&format!("entityID=\"{}/saml/metadata\"", h.base)), "{md}");
    md.split("<ds:X509Certificate>").skip(1).filter_map(|p| p.split("</ds:X509Certificate>").next()).map(str::to_string).collect()
}

both!(the_factor_vouches_for_compliant_devices_only);
async fn the_factor_vouches_for_compliant_devices_only(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let mut d = h.enrolled(0).await;
    // The nurse who enrolled it.
    let (s, _) =
        h.post_json("/v1/users", serde_json::json!({"username": "nurse.a", "password": "correct horse battery", "email": "nurse.a@example.org"})).await;
    assert_eq!(s, 201);
    h.sql(&format!("UPDATE devices SET enrolled_user = 'nurse.a' WHERE id = '{}'", d.udid));
    let (s, p) = h.post_json("/v1/saml/providers", serde_json::json!({"name": "okta", "entity_id": SP, "acs_url": ACS})).await;
    assert_eq!(s, 201, "{p}");
    let (s, bad) = h.post_json("/v1/saml/providers", serde_json::json!({"name": "x", "entity_id": "y", "acs_url": "http://evil.example/acs"})).await;
    assert_eq!(s, 400, "{bad}");
    let (s, ap) = h.post_json("/v1/saml/access-profile", serde_json::json!({})).await;
    assert_eq!(s, 201, "{ap}");
    let profile = ap["profile"].as_str().unwrap();
    assert_eq!(h.post_json(&format!("/v1/profiles/{profile}/assign"), serde_json::json!({"devices": [d.udid]})).await.0, 200);
    drain(&mut d).await;
    let access = d.scep_identities.values().next().cloned().expect("the access profile's SCEP payload ran");
    assert_eq!(mdm::identity::cert::name_line(access.cert.subject_name()).split(", ").next(), Some(format!("CN={}", d.udid).as_str()));
    // The policy: a passcode. The nurse sets one.
    let policy = serde_json::json!({"name": "passcode", "scope": {"all": true}, "rules": [{"type": "passcode"}]});
    assert_eq!(h.post_json("/v1/compliance/policies", policy).await.0, 201);
    assert!(d.user_sets_passcode("2468"));
    assert_eq!(h.post_json(&format!("/v1/devices/{}/inventory", d.udid), serde_json::json!({})).await.0, 202);
    drain(&mut d).await;
    let (_, c) = h.get(&format!("/v1/devices/{}/compliance", d.udid)).await;
    assert_eq!(c["status"], "compliant", "{c}");

    // The device's Safari, with its access certificate.
    let ep = h.endpoint(Transport::Mtls);
    let safari = ep.client(Some(&access)).unwrap();
    let r = safari.get(h.url(&format!("/saml/sso?{}", authn_request("req-1")))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!("action=\"{ACS}\"")), "{html}");
    assert!(html.contains("name=\"RelayState\" value=\"state-42\""), "{html}");
    let b64 = between(&html, "name=\"SAMLResponse\" value=\"", "\"").unwrap();
    let xml = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap();
    let certs = metadata_certs(&h).await;
    assert_eq!(certs.len(), 1);
    assert!(verifies(&xml, &certs[0]), "{xml}");
    assert_eq!(between(&xml, "emailAddress\">", "</saml:NameID>"), Some("nurse.a@example.org"));
    assert_eq!(between(&xml, "<saml:Audience>", "</saml:Audience>"), Some(SP));
    assert!(xml.contains("InResponseTo=\"req-1\"") && xml.contains(&format!("Recipient=\"{ACS}\"")), "{xml}");
    // The check can fail: a forged user does not verify.
    assert!(!verifies(&xml.replace("nurse.a@example.org", "chief@example.org"), &certs[0]));

    // No certificate: refused, with what to do.
    let plain = ep.client(None).unwrap();
    let r = plain.get(h.url(&format!("/saml/sso?{}", authn_request("req-2")))).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("did not present a device certificate"));
    // The MDM identity is not an access certificate.
    let mdm = ep.client(Some(&d.identity)).unwrap();
    assert_eq!(mdm.get(h.url(&format!("/saml/sso?{}", authn_request("req-3")))).send().await.unwrap().status(), 403);
    // An unknown provider, a broken request.
    let r = safari.get(h.url("/saml/sso?SAMLRequest=not-base64")).send().await.unwrap();
    assert_eq!(r.status(), 400);

    // A new key is published first, then signs; the old one can then be retired.
    let (s, k) = h.post_json("/v1/saml/keys", serde_json::json!({})).await;
    assert_eq!((s, &k["active"]), (201, &serde_json::json!(false)), "{k}");
    let both_certs = metadata_certs(&h).await;
    assert_eq!(both_certs.len(), 2);
    let new_id = k["id"].as_str().unwrap();
    let (_, keys) = h.get("/v1/saml/keys").await;
    let old_id = keys.as_array().unwrap().iter().find(|x| x["active"] == true).unwrap()["id"].as_str().unwrap().to_string();
    assert!(!keys.to_string().contains("PRIVATE KEY"), "{keys}");
    assert_eq!(h.delete(&format!("/v1/saml/keys/{old_id}")).await.0, 409, "the signing key is not retired");
    assert_eq!(h.post_json(&format!("/v1/saml/keys/{new_id}/activate"), serde_json::json!({})).await.0, 200);
    let html = safari.get(h.url(&format!("/saml/sso?{}", authn_request("req-4")))).send().await.unwrap().text().await.unwrap();
    let xml =
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(between(&html, "name=\"SAMLResponse\" value=\"", "\"").unwrap()).unwrap()).unwrap();
    let new_cert = both_certs.iter().find(|c| **c != certs[0]).unwrap();
    assert!(verifies(&xml, new_cert) && !verifies(&xml, &certs[0]));
    assert_eq!(h.delete(&format!("/v1/saml/keys/{old_id}")).await.0, 204);
    assert_eq!(metadata_certs(&h).await, vec![new_cert.clone()]);

    // The passcode goes: the device is refused, and the page says why.
    d.passcode = None;
    assert_eq!(h.post_json(&format!("/v1/devices/{}/inventory", d.udid), serde_json::json!({})).await.0, 202);
    drain(&mut d).await;
    let r = safari.get(h.url(&format!("/saml/sso?{}", authn_request("req-5")))).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let page = r.text().await.unwrap();
    assert!(page.contains("no passcode is set"), "{page}");
    assert!(!page.contains("SAMLResponse"));
}
