//! The CLI says what happened (finding: `mdm sim` exited 0 after `5 error(s)`, `mdm push` exited
//! 0 when APNs could not be reached, "error sending request for url" when the server was down).
//! Each command exits non-zero when it did not do what was asked, with a reason that says what
//! to check.

use crate::both;
use crate::harness::{Db, Harness, Opts};

/// Runs `mdm --config <the harness's configuration> args…`; (success, stdout + stderr).
async fn mdm(h: &Harness, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let path = h.pki.path("cli.toml");
    std::fs::write(&path, toml::to_string(&h.cfg).unwrap()).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_mdm")).arg("--config").arg(&path).args(args).envs(env.iter().copied()).output().await.unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

async fn exit_status_follows_the_outcome(db: Db) {
    let Some(h) = Harness::start_with(db, Opts::apns()).await else { return };
    let d = h.enrolled(0).await;

    // No push certificate: the push is not sent, and the command says so.
    let (ok, out) = mdm(&h, &["push", &d.udid], &[]).await;
    assert!(!ok, "{out}");
    assert!(out.contains("not pushed") && out.contains("certificate"), "{out}");

    // Over-the-air enrollment needs a push certificate: every device fails, and so does the run.
    let key = h.pki.path("device-ca.key");
    std::fs::write(&key, h.pki.device_ca.key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    let ca = h.pki.path("device-ca.pem").display().to_string();
    let (ok, out) = mdm(&h, &["sim", "--devices", "2", "--enroll-ota", "--loops", "0", "--device-ca", &ca, &key.display().to_string()], &[]).await;
    assert!(!ok, "{out}");
    assert!(out.contains("2 of 2 device(s) did not enroll") && out.contains("push certificate"), "{out}");

    // A command for an unknown device is not queued.
    let (ok, out) = mdm(&h, &["enqueue", "no-such-device", "--request-type", "DeviceInformation"], &[]).await;
    assert!(!ok && out.contains("not queued for: no-such-device (unknown)"), "{out}");

    // Waiting for an answer that does not come fails with what to check.
    let (ok, out) = mdm(&h, &["enqueue", &d.udid, "--request-type", "DeviceInformation", "--wait=1s"], &[]).await;
    assert!(!ok && out.contains("no answer within 1s") && out.contains("is the device online"), "{out}");

    // What the CLI shows, as tables and as JSON.
    let (ok, out) = mdm(&h, &["devices", "list"], &[]).await;
    assert!(ok && out.contains(&d.udid) && out.contains("enrolled") && out.contains("1 device(s)"), "{out}");
    let (ok, out) = mdm(&h, &["devices", "show", &d.udid, "--json"], &[]).await;
    assert!(ok && serde_json::from_str::<serde_json::Value>(&out).unwrap()["id"] == d.udid.as_str(), "{out}");
    let (ok, out) = mdm(&h, &["commands", "list", "--device", &d.udid], &[]).await;
    assert!(ok && out.contains("DeviceInformation") && out.contains("queued"), "{out}");

    // Secrets: the value from stdin, never echoed.
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_mdm"))
        .arg("--config")
        .arg(h.pki.path("cli.toml"))
        .args(["secret", "set", "okta_management_hint"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::io::AsyncWriteExt::write_all(child.stdin.as_mut().unwrap(), b"hint-value-123\n").await.unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().await.unwrap();
    assert!(out.status.success());
    let (ok, listed) = mdm(&h, &["secret", "list"], &[]).await;
    assert!(ok && listed.contains("okta_management_hint") && !listed.contains("hint-value-123"), "{listed}");

    // The server is gone: the message names the URL, where it came from and what to check.
    h.stop();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (ok, out) = mdm(&h, &["devices", "list"], &[]).await;
    assert!(!ok, "{out}");
    assert!(out.contains(&format!("cannot reach the server at {}", h.cfg.server.public_url)), "{out}");
    assert!(out.contains("server.public_url in") && out.contains("is `mdm serve` running"), "{out}");
}
both!(exit_status_follows_the_outcome);

/// Logs: no colour codes when stderr is not a terminal; one JSON object per line with
/// `log.format = "json"`.
async fn logs_fit_files_and_shippers(db: Db) {
    let Some(h) = Harness::start_with(db, Opts::default()).await else { return };
    h.stop();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    for json in [false, true] {
        let path = h.pki.path("serve.toml");
        std::fs::write(&path, toml::to_string(&h.cfg).unwrap()).unwrap();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_mdm"));
        cmd.arg("--config").arg(&path).arg("serve").stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped());
        if json {
            cmd.env("MDM_LOG_FORMAT", "json");
        }
        let child = cmd.spawn().unwrap();
        let started = std::time::Instant::now();
        while h.api.get(h.url("/healthz")).send().await.is_err() {
            assert!(started.elapsed() < std::time::Duration::from_secs(30), "mdm serve did not start");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        std::process::Command::new("kill").arg(child.id().to_string()).status().unwrap();
        let out = child.wait_with_output().unwrap();
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(!log.contains('\u{1b}'), "colour codes in a redirected log:\n{log}");
        assert!(log.contains("SIGTERM"), "the stop is logged:\n{log}");
        if json {
            for line in log.lines() {
                let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                assert!(v["level"].is_string() && v["fields"].is_object(), "{line}");
            }
        }
    }
}
both!(logs_fit_files_and_shippers);

/// `mdm init` next to a configuration from before the development push says why the lab
/// cannot wake devices and how to fix it; a fresh one is a complete lab.
#[test]
fn init_points_out_an_old_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let init = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_mdm")).current_dir(dir.path()).args(["init", "--dir", "certs"]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let fresh = init();
    assert!(fresh.contains("created certs/push-dev.pem") && !fresh.contains("note:"), "{fresh}");
    // The configuration of an earlier version: no development push, and no certificate yet.
    let text = std::fs::read_to_string(dir.path().join("mdm.toml")).unwrap();
    let old: String = text.lines().filter(|l| !l.starts_with("development")).collect::<Vec<_>>().join("\n");
    std::fs::write(dir.path().join("mdm.toml"), old).unwrap();
    std::fs::remove_file(dir.path().join("certs/push-dev.pem")).unwrap();
    let again = init();
    assert!(again.contains("note: mdm.toml has no development push"), "{again}");
}

both!(sim_runs_shared_shifts);
/// `mdm sim --shared POOL` puts its devices in a pool and runs shifts of check-outs and
/// check-ins; `mdm shared` and `mdm connector` show what happened.
async fn sim_runs_shared_shifts(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let (ok, out) = mdm(&h, &["sim", "--devices", "2", "--loops", "0", "--shared", "ward-9", "--shifts", "2"], &[]).await;
    assert!(ok, "{out}");
    assert!(out.contains("pool ward-9 created") && out.contains("4 check-out/check-in cycle(s)") && out.contains("0 failure(s)"), "{out}");
    assert_eq!(h.count("shared_sessions WHERE NOT open"), 4);
    let (ok, out) = mdm(&h, &["shared", "sessions", "--user", "nurse.1.0"], &[]).await;
    assert!(ok && out.contains("nurse.1.0"), "{out}");
    let (ok, out) = mdm(&h, &["connector", "add-vocera", "--name", "vocera", "--host", "vocera.example.org"], &[]).await;
    assert!(ok && out.contains("/vocera/SAML/webLogout"), "{out}");
    let (ok, out) = mdm(&h, &["connector", "show", "nope"], &[]).await;
    assert!(!ok && out.contains("no connector nope"), "{out}");
}

both!(compliance_from_the_command_line);
/// `mdm compliance`: a policy from a file, a device judged after its inventory, the posture an
/// identity provider sees, and a refusal for a bad policy.
async fn compliance_from_the_command_line(db: Db) {
    let Some(h) = Harness::start(db).await else { return };
    let mut d = h.enrolled(0).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.json");
    std::fs::write(&file, r#"{"name": "passcode", "scope": {"all": true}, "rules": [{"type": "passcode"}]}"#).unwrap();
    let (ok, out) = mdm(&h, &["compliance", "add", "--file", file.to_str().unwrap()], &[]).await;
    assert!(ok && out.contains("\"passcode\""), "{out}");
    let (ok, out) = mdm(&h, &["compliance", "inventory", &d.udid, "--refresh"], &[]).await;
    assert!(ok && out.contains("SecurityInfo"), "{out}");
    crate::harness::drain(&mut d).await;
    let (ok, out) = mdm(&h, &["compliance", "device", &d.udid], &[]).await;
    assert!(ok && out.contains("no passcode is set"), "{out}");
    let (ok, out) = mdm(&h, &["compliance", "posture", &d.serial, "--id-type", "SerialNumber"], &[]).await;
    assert!(ok && out.contains("\"compliant\": false"), "{out}");
    let (ok, out) = mdm(&h, &["compliance", "summary"], &[]).await;
    assert!(ok && out.contains("\"noncompliant\": 1"), "{out}");
    std::fs::write(&file, r#"{"name": "bad", "rules": [{"type": "min_os_version", "version": "eighteen"}]}"#).unwrap();
    let (ok, out) = mdm(&h, &["compliance", "add", "--file", file.to_str().unwrap()], &[]).await;
    assert!(!ok && out.contains("dotted version"), "{out}");
}
