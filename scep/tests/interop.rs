//! Interoperability with micromdm's SCEP implementation (Debian package
//! `scep`): our client against `scepserver`, and `scepclient` against a tiny
//! HTTP server built on our `Responder`. Skipped (with a message) when the
//! binaries are missing, except under `CI=true`, where that is a failure.
#![cfg(feature = "client")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::symm::Cipher;
use openssl::x509::X509;
use scep::client::{pick_recipient, Client, EnrollRequest};
use scep::{build_csr, challenge_password, server_caps, transaction_id_for, FailInfo, MessageType, PkiMessage, PkiStatus, RequestBuilder, Responder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SCEPSERVER: &str = "/usr/bin/scepserver";
const SCEPCLIENT: &str = "/usr/bin/scepclient";
const OPENSSL: &str = "/usr/bin/openssl";

/// True when the binaries are there; otherwise prints why the test is
/// skipped, or panics under CI=true.
fn have(bins: &[&str]) -> bool {
    let missing: Vec<&str> = bins.iter().copied().filter(|b| !Path::new(b).exists()).collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("interop binaries missing under CI=true: {missing:?} (apt-get install scep openssl)");
    }
    eprintln!("SKIPPED: {missing:?} not installed (apt-get install scep openssl)");
    false
}

/// Kills and reaps the child process when dropped.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn wait_for_port(port: u16, child: &mut ChildGuard) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.0.try_wait() {
            panic!("scepserver exited early: {status}");
        }
        assert!(Instant::now() < deadline, "scepserver did not open port {port}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts scepserver with a fresh CA in `dir/depot`.
async fn start_scepserver(dir: &Path, challenge: &str) -> (ChildGuard, String, PathBuf) {
    let depot = dir.join("depot");
    let out = Command::new(SCEPSERVER).args(["ca", "-init", "-keySize", "2048", "-years", "1", "-depot"]).arg(&depot).output().unwrap();
    assert!(out.status.success(), "ca -init: {}", String::from_utf8_lossy(&out.stderr));
    let port = free_port();
    let log = std::fs::File::create(dir.join("scepserver.log")).unwrap();
    let child = Command::new(SCEPSERVER)
        .arg("-depot")
        .arg(&depot)
        .args(["-port", &port.to_string(), "-challenge", challenge, "-allowrenew", "0", "-debug"])
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let mut guard = ChildGuard(child);
    wait_for_port(port, &mut guard).await;
    (guard, format!("http://127.0.0.1:{port}/scep"), depot.join("ca.pem"))
}

fn openssl_verify(ca_pem: &Path, cert: &X509, dir: &Path) -> (bool, String) {
    let path = dir.join("issued.pem");
    std::fs::write(&path, cert.to_pem().unwrap()).unwrap();
    let out = Command::new(OPENSSL).arg("verify").arg("-CAfile").arg(ca_pem).arg(&path).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap()
}

fn cn_of(cert: &X509) -> String {
    cert.subject_name().entries_by_nid(openssl::nid::Nid::COMMONNAME).next().unwrap().data().to_string().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_against_scepserver() {
    if !have(&[SCEPSERVER, OPENSSL]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (_server, url, ca_pem) = start_scepserver(dir.path(), "secret").await;
    let client = Client::new(&url, http());

    let caps = client.get_ca_caps().await.unwrap();
    eprintln!("scepserver GetCACaps: {:?}", caps.raw);
    assert!(caps.post_pki_operation && caps.sha256 && caps.aes && caps.renewal, "{caps:?}");

    let ca_certs = client.get_ca_certs().await.unwrap();
    assert_eq!(ca_certs.len(), 1);
    let depot_ca = X509::from_pem(&std::fs::read(&ca_pem).unwrap()).unwrap();
    assert_eq!(ca_certs[0].to_der().unwrap(), depot_ca.to_der().unwrap());

    // PKCSReq with the right challenge.
    let key = common::key();
    let rep = client.enroll(EnrollRequest { key: &key, subject_cn: "interop-device", challenge: Some("secret"), renew_with: None }).await.unwrap();
    assert_eq!(rep.status, PkiStatus::Success, "{rep:?}");
    assert_eq!(rep.transaction_id, transaction_id_for(&key).unwrap());
    let issued = rep.certs.first().unwrap().clone();
    assert!(issued.public_key().unwrap().public_eq(&key));
    assert_eq!(cn_of(&issued), "interop-device");
    let (ok, text) = openssl_verify(&ca_pem, &issued, dir.path());
    assert!(ok, "openssl verify failed: {text}");

    // Wrong challenge: not a success.
    let key2 = common::key();
    let res = client.enroll(EnrollRequest { key: &key2, subject_cn: "intruder", challenge: Some("wrong"), renew_with: None }).await;
    eprintln!("scepserver answer to a wrong challenge: {res:?}");
    match res {
        Ok(rep) => {
            assert_ne!(rep.status, PkiStatus::Success);
            assert!(rep.certs.is_empty());
        }
        Err(e) => eprintln!("(error rather than a FAILURE CertRep: {e})"),
    }
    // No challenge at all: not a success either.
    let res = client.enroll(EnrollRequest { key: &key2, subject_cn: "intruder", challenge: None, renew_with: None }).await;
    assert!(!matches!(res, Ok(ref r) if r.status == PkiStatus::Success), "{res:?}");

    // Legacy SHA-1 + DES-EDE3 request over GET.
    let key3 = common::key();
    let name = common::name("legacy-device");
    let csr = build_csr(&key3, &name, Some("secret")).unwrap();
    let signer = scep::self_signed_for(&key3, &name).unwrap();
    let builder = RequestBuilder {
        message_type: MessageType::PkcsReq,
        csr: &csr,
        signer_cert: &signer,
        signer_key: &key3,
        recipient: pick_recipient(&ca_certs).unwrap(),
        cipher: Cipher::des_ede3_cbc(),
        digest: MessageDigest::sha1(),
        transaction_id: transaction_id_for(&key3).unwrap(),
    };
    let rep = client.transact(&builder, &ca_certs, false).await.unwrap();
    assert_eq!(rep.status, PkiStatus::Success, "{rep:?}");
    // What scepserver's answers look like (the envelope's algorithm
    // identifiers are in clear inside the signed content).
    for (cipher, digest) in [(Cipher::aes_256_cbc(), MessageDigest::sha256()), (Cipher::des_ede3_cbc(), MessageDigest::sha1())] {
        let b = RequestBuilder { cipher, digest, ..builder_clone(&builder) };
        let (der, _) = b.build().unwrap();
        let sent = format!("{} / {}", cipher_name(&der), digest_name(&der));
        let answer = client.pki_operation(der, true).await.unwrap();
        eprintln!("scepserver answer to a {sent} request: signed with {}, encrypted with {}", digest_name(&answer), cipher_name(&answer),);
        let rep = scep::parse_cert_rep(&answer, &ca_certs, &signer, &key3).unwrap();
        assert_eq!(rep.status, PkiStatus::Success);
    }
    assert_eq!(cn_of(&rep.certs[0]), "legacy-device");
    assert!(openssl_verify(&ca_pem, &rep.certs[0], dir.path()).0);

    // Renewal signed with the issued certificate (scepserver runs with -allowrenew 0).
    let new_key = common::key();
    let rep = client
        .enroll(EnrollRequest { key: &new_key, subject_cn: "interop-device", challenge: Some("secret"), renew_with: Some((&issued, &key)) })
        .await
        .unwrap();
    eprintln!("scepserver answer to RenewalReq: status {:?} fail {:?}", rep.status, rep.fail_info);
    assert_eq!(rep.status, PkiStatus::Success, "{rep:?}");
    assert!(rep.certs[0].public_key().unwrap().public_eq(&new_key));
    assert!(openssl_verify(&ca_pem, &rep.certs[0], dir.path()).0);
}

fn builder_clone<'a>(b: &RequestBuilder<'a>) -> RequestBuilder<'a> {
    RequestBuilder {
        message_type: b.message_type,
        csr: b.csr,
        signer_cert: b.signer_cert,
        signer_key: b.signer_key,
        recipient: b.recipient,
        cipher: b.cipher,
        digest: b.digest,
        transaction_id: b.transaction_id.clone(),
    }
}

fn digest_name(msg: &[u8]) -> &'static str {
    let has = |oid: &[u8]| msg.windows(oid.len()).any(|w| w == oid);
    if has(&[0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01]) {
        "SHA-256"
    } else if has(&[0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a]) {
        "SHA-1"
    } else {
        "other"
    }
}

/// What the mini server saw, for assertions.
#[derive(Default, Debug)]
struct Seen {
    requests: Vec<(MessageType, &'static str, &'static str, bool)>,
}

struct MiniCa {
    cert: X509,
    key: PKey<Private>,
    challenge: String,
    seen: Mutex<Seen>,
}

fn cipher_name(envelope: &[u8]) -> &'static str {
    let has = |oid: &[u8]| envelope.windows(oid.len()).any(|w| w == oid);
    if has(&[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a]) {
        "AES-256-CBC"
    } else if has(&[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x02]) {
        "AES-128-CBC"
    } else if has(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x03, 0x07]) {
        "DES-EDE3-CBC"
    } else if has(&[0x2b, 0x0e, 0x03, 0x02, 0x07]) {
        "DES-CBC"
    } else {
        "other"
    }
}

/// Answers one PKIOperation the way the MDM server is expected to.
fn handle_pki(ca: &MiniCa, body: &[u8]) -> Vec<u8> {
    let msg = PkiMessage::parse(body).unwrap();
    let digest = if msg.digest.type_() == MessageDigest::sha256().type_() {
        "SHA-256"
    } else if msg.digest.type_() == MessageDigest::sha1().type_() {
        "SHA-1"
    } else {
        "other"
    };
    let responder = Responder { signer_cert: &ca.cert, signer_key: &ca.key, cipher: Cipher::aes_256_cbc() };
    let csr = msg.csr(&ca.cert, &ca.key).unwrap();
    let got = challenge_password(&csr).unwrap();
    eprintln!("mini server: {} with challenge {got:?}", msg.message_type);
    let ok = got.as_deref() == Some(ca.challenge.as_str());
    ca.seen.lock().unwrap().requests.push((msg.message_type, digest, cipher_name(&msg.encrypted_content), ok));
    if !ok {
        return responder.failure(&msg, FailInfo::BadRequest).unwrap();
    }
    let issued = common::issue(&common::Ca { cert: ca.cert.clone(), key: ca.key.clone() }, &csr, 1000);
    responder.success(&msg, &issued, &[]).unwrap()
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let h = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(h, 16).unwrap());
            i += 3;
        } else {
            out.push(if b[i] == b'+' { b' ' } else { b[i] });
            i += 1;
        }
    }
    out
}

/// One HTTP/1.1 exchange per connection (we answer `Connection: close`).
async fn serve_one(ca: Arc<MiniCa>, mut sock: tokio::net::TcpStream) {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    let head_end = loop {
        let n = sock.read(&mut tmp).await.unwrap();
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.lines();
    let request_line = lines.next().unwrap().to_owned();
    let content_length = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.trim().parse::<usize>().unwrap())
        .unwrap_or(0);
    while buf.len() < head_end + content_length {
        let n = sock.read(&mut tmp).await.unwrap();
        assert!(n > 0);
        buf.extend_from_slice(&tmp[..n]);
    }
    let body = buf[head_end..head_end + content_length].to_vec();
    let target = request_line.split(' ').nth(1).unwrap();
    let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
    let param = |name: &str| query.split('&').find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == name).map(|(_, v)| v.to_owned()));
    let (ctype, payload): (&str, Vec<u8>) = match param("operation").as_deref() {
        Some("GetCACaps") => ("text/plain", server_caps(true).as_bytes().to_vec()),
        Some("GetCACert") => ("application/x-x509-ca-cert", ca.cert.to_der().unwrap()),
        Some("PKIOperation") => {
            let msg = if request_line.starts_with("POST") {
                body
            } else {
                let b64 = percent_decode(&param("message").unwrap());
                base64::engine::general_purpose::STANDARD.decode(b64).unwrap()
            };
            let ca2 = ca.clone();
            let rep = tokio::task::spawn_blocking(move || handle_pki(&ca2, &msg)).await.unwrap();
            ("application/x-pki-message", rep)
        }
        other => panic!("unexpected operation {other:?}"),
    };
    let head = format!("HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", payload.len());
    sock.write_all(head.as_bytes()).await.unwrap();
    sock.write_all(&payload).await.unwrap();
    sock.shutdown().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scepclient_against_our_responder() {
    if !have(&[SCEPCLIENT, OPENSSL]) {
        return;
    }
    let ca = common::ca("Mini SCEP CA");
    let dir = tempfile::tempdir().unwrap();
    let ca_pem = dir.path().join("ca.pem");
    std::fs::write(&ca_pem, ca.cert.to_pem().unwrap()).unwrap();
    let mini = Arc::new(MiniCa { cert: ca.cert, key: ca.key, challenge: "secret".into(), seen: Mutex::default() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server_ca = mini.clone();
    let server = tokio::spawn(async move {
        loop {
            let (sock, _) = listener.accept().await.unwrap();
            tokio::spawn(serve_one(server_ca.clone(), sock));
        }
    });
    let url = format!("http://127.0.0.1:{port}/scep");

    let run = |name: &'static str, challenge: &'static str| {
        // scepclient writes (and reuses!) csr.pem beside its key: give each
        // run its own directory.
        let cwd = dir.path().join(name);
        std::fs::create_dir_all(&cwd).unwrap();
        let key = cwd.join("client.key");
        let cert = cwd.join("client.pem");
        let url = url.clone();
        async move {
            let out = tokio::process::Command::new(SCEPCLIENT)
                .current_dir(&cwd)
                .args(["-server-url", &url, "-challenge", challenge, "-cn", name, "-debug", "-private-key"])
                .arg(&key)
                .arg("-certificate")
                .arg(&cert)
                .kill_on_drop(true)
                .output();
            let out = tokio::time::timeout(Duration::from_secs(60), out).await.unwrap().unwrap();
            let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            (out.status.success(), cert, log)
        }
    };

    let (ok, cert_path, log) = run("good-client", "secret").await;
    assert!(ok, "scepclient failed against our responder:\n{log}");
    let cert = X509::from_pem(&std::fs::read(&cert_path).unwrap()).unwrap();
    assert_eq!(cn_of(&cert), "good-client");
    let (verified, text) = openssl_verify(&ca_pem, &cert, dir.path());
    assert!(verified, "{text}");

    let (ok, cert_path, log) = run("bad-client", "wrong").await;
    eprintln!("scepclient with a wrong challenge (expected to fail):\n{log}");
    assert!(!ok && !cert_path.exists(), "scepclient got a certificate with a wrong challenge");

    server.abort();
    let seen = mini.seen.lock().unwrap();
    eprintln!("scepclient requests as seen by our server: {:?}", seen.requests);
    assert_eq!(seen.requests.len(), 2, "{seen:?}");
    assert_eq!(seen.requests[0].0, MessageType::PkcsReq);
    assert!(seen.requests[0].3 && !seen.requests[1].3);
}
