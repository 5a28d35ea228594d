//! SCEP interop: micromdm's `scepclient` (Debian package `scep`) enrolls against our server with
//! the static challenge and with one-time challenges; wrong and reused challenges are refused;
//! issued certificates verify with `openssl verify` against the CA.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::both;
use crate::harness::{Db, Harness, Opts, API_KEY, SCEP_CHALLENGE};

/// The Debian binary, or None (with a message) when absent outside CI.
fn scepclient() -> Option<&'static str> {
    let path = "/usr/bin/scepclient";
    if Path::new(path).exists() {
        return Some(path);
    }
    assert!(std::env::var("CI").map(|v| v != "true" && v != "1").unwrap_or(true), "scepclient is required under CI (make test installs the scep package)");
    eprintln!("SKIP: {path} not installed (apt-get install scep)");
    None
}

/// Runs scepclient for `cn` with `challenge`; returns (success, output, cert path).
async fn run_scepclient(bin: &str, url: &str, dir: &Path, cn: &str, challenge: &str) -> (bool, String, std::path::PathBuf) {
    // scepclient keeps its CSR as ./csr.pem and reuses it: one working directory per run.
    let dir = dir.join(cn);
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("key.pem");
    let cert = dir.join("cert.pem");
    let out = tokio::process::Command::new(bin)
        .current_dir(&dir)
        .args(["-server-url", url, "-challenge", challenge, "-private-key"])
        .arg(&key)
        .arg("-certificate")
        .arg(&cert)
        .args(["-cn", cn, "-keySize", "2048"])
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run scepclient");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success() && cert.exists(), text, cert)
}

fn openssl_verify(ca: &Path, cert: &Path) -> bool {
    std::process::Command::new("openssl").arg("verify").arg("-CAfile").arg(ca).arg(cert).output().map(|o| o.status.success()).unwrap_or(false)
}

async fn scepclient_enrolls(db: Db) {
    let Some(bin) = scepclient() else { return };
    let opts = Opts { plain_http: true, header: Some("X-Client-Cert".into()), ..Opts::default() };
    let Some(h) = Harness::start_with(db, opts).await else { return };
    let url = h.url("/scep");
    let dir = tempfile::tempdir().unwrap();

    // Static challenge.
    let (ok, out, cert) = run_scepclient(bin, &url, dir.path(), "static-device", SCEP_CHALLENGE).await;
    assert!(ok, "scepclient failed: {out}");
    assert!(openssl_verify(&h.pki.path("ca.pem"), &cert), "issued certificate does not verify");
    let issued = openssl::x509::X509::from_pem(&std::fs::read(&cert).unwrap()).unwrap();
    assert!(format!("{:?}", issued.subject_name()).contains("static-device"));

    // Wrong challenge: refused, nothing issued.
    let (ok, out, _) = run_scepclient(bin, &url, dir.path(), "wrong-device", "not-the-challenge").await;
    assert!(!ok, "wrong challenge accepted: {out}");

    // One-time challenge: works once.
    let r = h
        .api
        .post(h.url("/v1/scep/challenges"))
        .bearer_auth(API_KEY)
        .json(&serde_json::json!({ "ttl_minutes": 5, "note": "ward 7 iPad" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: serde_json::Value = r.json().await.unwrap();
    let once = body["challenge"].as_str().unwrap().to_string();
    let (ok, out, cert) = run_scepclient(bin, &url, dir.path(), "once-device", &once).await;
    assert!(ok, "one-time challenge refused: {out}");
    assert!(openssl_verify(&h.pki.path("ca.pem"), &cert));
    let (ok, out, _) = run_scepclient(bin, &url, dir.path(), "reuse-device", &once).await;
    assert!(!ok, "reused challenge accepted: {out}");

    // Every issued certificate is recorded with who asked.
    let (status, certs) = h.get("/v1/scep/certs").await;
    assert_eq!(status, 200);
    let certs = certs.as_array().unwrap();
    assert_eq!(certs.len(), 2, "{certs:?}");
    let requesters: Vec<&str> = certs.iter().map(|c| c["requester"].as_str().unwrap()).collect();
    assert!(requesters.contains(&"static-challenge") && requesters.contains(&"one-time-challenge"), "{requesters:?}");
    assert!(certs.iter().all(|c| c["serial"].as_str().unwrap().len() >= 16));
    assert_ne!(certs[0]["serial"], certs[1]["serial"]);
    // The challenge value itself is never listed.
    assert!(!serde_json::Value::Array(certs.clone()).to_string().contains(&once));
}
both!(scepclient_enrolls);

/// GetCACaps, GetCACert and bad requests over plain HTTP.
async fn scep_http_surface(db: Db) {
    let opts = Opts { plain_http: true, header: Some("X-Client-Cert".into()), ..Opts::default() };
    let Some(h) = Harness::start_with(db, opts).await else { return };
    let caps = h.api.get(h.url("/scep?operation=GetCACaps")).send().await.unwrap().text().await.unwrap();
    for c in ["POSTPKIOperation", "SHA-256", "AES", "Renewal", "SCEPStandard"] {
        assert!(caps.lines().any(|l| l == c), "{c} missing from {caps:?}");
    }
    let r = h.api.get(h.url("/scep?operation=GetCACert")).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/x-x509-ca-cert");
    let der = r.bytes().await.unwrap();
    assert_eq!(openssl::x509::X509::from_der(&der).unwrap().to_der().unwrap(), h.pki.ca.cert.to_der().unwrap());
    for (path, body) in [("/scep?operation=PKIOperation", b"garbage".to_vec()), ("/scep?operation=Teleport", Vec::new()), ("/scep", Vec::new())] {
        let r = h.api.post(h.url(path)).body(body).send().await.unwrap();
        assert_eq!(r.status(), 400, "{path}");
        assert!(!r.text().await.unwrap().is_empty());
    }
    let r = h.api.get(h.url("/scep?operation=PKIOperation&message=%%%")).send().await.unwrap();
    assert_eq!(r.status(), 400);
}
both!(scep_http_surface);

/// A simulated device gets its identity over SCEP, then enrolls with it over mTLS; the issued
/// certificate is recorded as bound to the device.
async fn sim_device_enrolls_with_scep_identity(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let ep = h.endpoint(h.transport());
    let shared = ep.client(None).unwrap();
    let enroller = mdm_sim::scep::ScepEnroller::new(&h.url("/scep"), shared.clone()).await.unwrap();
    let r = h.api.post(h.url("/v1/scep/challenges")).bearer_auth(API_KEY).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let once: serde_json::Value = r.json().await.unwrap();
    let once = once["challenge"].as_str().unwrap().to_string();
    let d = mdm_sim::SimDevice::enroll_scep(0, &enroller, &once, ep.clone(), &shared).await.unwrap();
    d.enroll().await.unwrap();
    let (_, certs) = h.get("/v1/scep/certs").await;
    assert_eq!(certs[0]["device_id"], d.udid.as_str(), "{certs}");
    // The same one-time challenge cannot make a second identity.
    let err = mdm_sim::SimDevice::enroll_scep(1, &enroller, &once, ep, &shared).await.unwrap_err();
    assert!(err.to_string().contains("Failure"), "{err}");
}
both!(sim_device_enrolls_with_scep_identity);

/// RenewalReq: accepted without a challenge when signed by a still-valid certificate issued
/// here within the renewal window; refused before the window, with an expired certificate, or
/// with a certificate from another CA.
async fn renewal(db: Db) {
    use scep::client::{Client, EnrollRequest};
    use scep::{FailInfo, PkiStatus};
    let renew = |h: &Harness, cert: openssl::x509::X509, key: openssl::pkey::PKey<openssl::pkey::Private>| {
        let client = Client::new(&h.url("/scep"), h.api.clone());
        async move {
            let new_key = openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
            client.enroll(EnrollRequest { key: &new_key, subject_cn: "device", challenge: None, renew_with: Some((&cert, &key)) }).await.unwrap()
        }
    };
    let issue = |h: &Harness, validity: Duration| {
        let key = openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
        let mut name = openssl::x509::X509Name::builder().unwrap();
        name.append_entry_by_text("CN", "device").unwrap();
        let csr = scep::build_csr(&key, &name.build(), None).unwrap();
        (h.pki.ca.issue_for_request(&csr, validity).unwrap(), key)
    };
    // Default window (14 days): a fresh 365-day certificate is too early.
    let Some(h) = Harness::start(db).await else { return };
    let (cert, key) = issue(&h, Duration::from_secs(365 * 86_400));
    let rep = renew(&h, cert, key).await;
    assert_eq!((rep.status, rep.fail_info), (PkiStatus::Failure, Some(FailInfo::BadTime)));
    // Inside the window: issued without a challenge.
    let (cert, key) = issue(&h, Duration::from_secs(3 * 86_400));
    let old_serial = cert.serial_number().to_bn().unwrap().to_hex_str().unwrap().to_string();
    let rep = renew(&h, cert, key).await;
    assert_eq!(rep.status, PkiStatus::Success, "{:?}", rep.fail_info);
    let (_, certs) = h.get("/v1/scep/certs").await;
    assert_eq!(certs[0]["requester"], format!("renewal:{old_serial}"));
    // Expired, or from another CA: refused.
    let (cert, key) = issue(&h, Duration::from_secs(0));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(renew(&h, cert, key).await.status, PkiStatus::Failure);
    // Another subject than the signing certificate's: refused.
    let (cert, key) = issue(&h, Duration::from_secs(3 * 86_400));
    let client = scep::client::Client::new(&h.url("/scep"), h.api.clone());
    let k2 = openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
    let rep = client.enroll(EnrollRequest { key: &k2, subject_cn: "someone-else", challenge: None, renew_with: Some((&cert, &key)) }).await.unwrap();
    assert_eq!((rep.status, rep.fail_info), (PkiStatus::Failure, Some(FailInfo::BadRequest)));
    let other = mdm::pki::Ca::generate("Other CA").unwrap();
    let k = openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
    let mut name = openssl::x509::X509Name::builder().unwrap();
    name.append_entry_by_text("CN", "foreign").unwrap();
    let foreign = other.issue_for_request(&scep::build_csr(&k, &name.build(), None).unwrap(), Duration::from_secs(86_400)).unwrap();
    // (the foreign certificate's subject is CN=foreign; the renewal asks for CN=device, but
    // the chain check comes first)
    let rep = renew(&h, foreign, k).await;
    assert_eq!((rep.status, rep.fail_info), (PkiStatus::Failure, Some(FailInfo::BadMessageCheck)));
}
both!(renewal);

/// With an RA configured: GetCACert answers RA + CA as a certs-only PKCS#7, requests are
/// encrypted to the RA, CertReps are signed by it, and both our client and micromdm's
/// scepclient get certificates that chain to the CA.
async fn scep_with_ra(db: Db) {
    let tweak: fn(&mut mdm::config::Config) = |c| {
        let dir = c.ca.cert.as_ref().and_then(|p| p.parent()).map(Path::to_path_buf).expect("ca dir");
        c.scep.ra_cert = Some(dir.join("ra.pem"));
        c.scep.ra_key = Some(dir.join("ra.key"));
    };
    let opts = Opts { plain_http: true, header: Some("X-Client-Cert".into()), tweak: Some(tweak), ..Opts::default() };
    let Some(h) = Harness::start_with(db, opts).await else { return };
    let r = h.api.get(h.url("/scep?operation=GetCACert")).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/x-x509-ca-ra-cert");
    let ra = openssl::x509::X509::from_pem(&std::fs::read(h.pki.path("ra.pem")).unwrap()).unwrap();
    let shared = h.endpoint(h.transport()).client(None).unwrap();
    let enroller = mdm_sim::scep::ScepEnroller::new(&h.url("/scep"), shared).await.unwrap();
    let announced: Vec<Vec<u8>> = enroller.ca_certs().iter().map(|c| c.to_der().unwrap()).collect();
    assert!(announced.contains(&ra.to_der().unwrap()) && announced.contains(&h.pki.ca.cert.to_der().unwrap()));
    let issued = enroller.identity("ra-device", SCEP_CHALLENGE).await.expect("our client through the RA");
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("ours.pem");
    std::fs::write(&ours, issued.cert.to_pem().unwrap()).unwrap();
    assert!(openssl_verify(&h.pki.path("ca.pem"), &ours));
    assert_eq!(issued.cert.issuer_name().to_der().unwrap(), h.pki.ca.cert.subject_name().to_der().unwrap(), "issued by the CA, not the RA");
    if let Some(bin) = scepclient() {
        let (ok, out, cert) = run_scepclient(bin, &h.url("/scep"), dir.path(), "ra-scepclient", SCEP_CHALLENGE).await;
        assert!(ok, "scepclient through the RA: {out}");
        assert!(openssl_verify(&h.pki.path("ca.pem"), &cert));
    }
}
both!(scep_with_ra);
