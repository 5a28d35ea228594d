//! The README's walkthrough, run as written (finding: it lost its command, and the README
//! drifted from what the binary does). The commands are read from README.md between the
//! `walkthrough:begin` and `walkthrough:end` markers, and run in one bash session against a
//! fresh `mdm init` + `mdm serve` in a temporary directory laid out like the repository
//! (`target/release/mdm`, `examples/`). The only change to the text: the port, 8443 in the
//! README, is a free one here (and the development APNs port is moved the same way through
//! `MDM_PUSH_URL`), so the test runs beside anything else on the machine.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::kit::free_port;

/// The walkthrough's commands: every line of its `sh` blocks, continuation lines joined.
pub fn walkthrough(readme: &str) -> Vec<String> {
    let begin = readme.find("<!-- walkthrough:begin -->").expect("README.md has a walkthrough:begin marker");
    let end = readme.find("<!-- walkthrough:end -->").expect("README.md has a walkthrough:end marker");
    let mut commands = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in readme[begin..end].lines() {
        match (in_block, line.trim_start().starts_with("```")) {
            (false, true) => in_block = line.trim() == "```sh",
            (true, true) => in_block = false,
            (true, false) if !line.trim().is_empty() => {
                let part = line.trim();
                match part.strip_suffix('\\') {
                    Some(head) => pending.push_str(head),
                    None => {
                        pending.push_str(part);
                        commands.push(std::mem::take(&mut pending));
                    }
                }
            }
            _ => {}
        }
    }
    commands
}

/// What each step must print, by the start of its command: the README promises these.
const EXPECT: &[(&str, &str)] = &[
    ("mdm devices list --wait 5", "5 device(s)"),
    ("mdm enqueue \"$UDID\" --request-type DeviceInformation --wait", "QueryResponses"),
    ("mdm commands list --device", "DeviceInformation"),
    ("mdm devices show", "enrolled"),
    ("mdm profile validate", "valid"),
    ("mdm profile add", "org.example.passcode"),
    ("mdm profile assign", "\"sync\""),
    ("mdm enqueue \"$UDID\" --request-type ProfileList --wait", "org.example.passcode"),
    ("printf %s", "stored"),
    ("mdm app add", "com.okta.mobile"),
    ("mdm enqueue \"$UDID\" --request-type ManagedApplicationList --wait", "com.okta.mobile"),
    ("curl --fail-with-body -sS --cacert certs/ca.pem -H \"Authorization: Bearer $KEY\" https://localhost:PORT/v1/users", "\"username\":\"jane\""),
    ("curl --fail-with-body -sS --cacert certs/ca.pem -H \"Authorization: Bearer $KEY\" https://localhost:PORT/v1/enrollment-tokens", "\"qr_png\""),
    ("kill $SIM", "0 error(s)"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_walkthrough_runs_as_written() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let (port, apns) = (free_port(), free_port());
    let commands: Vec<String> = walkthrough(&readme).into_iter().map(|c| c.replace("localhost:8443", &format!("localhost:{port}"))).collect();
    assert!(commands.len() >= 15, "{commands:#?}");

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("target/release")).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_mdm"), root.join("target/release/mdm")).unwrap();
    std::os::unix::fs::symlink(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"), root.join("examples")).unwrap();
    let mdm = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_mdm"))
            .current_dir(root)
            .env("MDM_PUSH_URL", format!("https://127.0.0.1:{apns}"))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "mdm {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    mdm(&["init", "--dir", "certs", "--hostname", "localhost", "--port", &port.to_string()]);
    let log = root.join("serve.log");
    let mut serve = std::process::Command::new(env!("CARGO_BIN_EXE_mdm"))
        .current_dir(root)
        .env("MDM_PUSH_URL", format!("https://127.0.0.1:{apns}"))
        .arg("serve")
        .stdout(std::fs::File::create(root.join("serve.out")).unwrap())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(root.join("certs/ca.pem")).unwrap()).unwrap())
        .build()
        .unwrap();
    let started = Instant::now();
    while client.get(format!("https://localhost:{port}/healthz")).send().await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "mdm serve did not start: {}", std::fs::read_to_string(&log).unwrap_or_default());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // One bash session, each command followed by its exit status.
    let mut script = String::new();
    for (i, c) in commands.iter().enumerate() {
        script.push_str(&format!("printf '\\n@@step {i}\\n'\n{c}\nprintf '\\n@@rc {i} %s\\n' \"$?\"\n"));
    }
    let run = tokio::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(root)
        .env("MDM_PUSH_URL", format!("https://127.0.0.1:{apns}"))
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(300), run).await.expect("the walkthrough finished within 5 minutes").unwrap();
    let _ = nix_kill(&mut serve);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let sim_log = std::fs::read_to_string(root.join("sim.log")).unwrap_or_default();
    let context = format!("--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- sim.log\n{sim_log}\n--- serve.log (tail)\n{}", tail(&log, 40));

    // Every step exited 0 and printed what the README promises.
    let mut outputs = Vec::new();
    for (i, c) in commands.iter().enumerate() {
        let start = stdout.find(&format!("@@step {i}\n")).unwrap_or_else(|| panic!("step {i} ({c}) never ran\n{context}"));
        let rc_marker = format!("@@rc {i} ");
        let rc_at = stdout[start..].find(&rc_marker).map(|p| start + p).unwrap_or_else(|| panic!("step {i} ({c}) did not finish\n{context}"));
        let rc: String = stdout[rc_at + rc_marker.len()..].chars().take_while(char::is_ascii_digit).collect();
        assert_eq!(rc, "0", "step {i}: `{c}` exited {rc}\n{context}");
        outputs.push((c.clone(), stdout[start..rc_at].to_string()));
    }
    for (prefix, want) in EXPECT {
        let prefix = prefix.replace("PORT", &port.to_string());
        let (c, o) = outputs.iter().find(|(c, _)| c.starts_with(&prefix)).unwrap_or_else(|| panic!("the walkthrough has no step `{prefix}…`\n{commands:#?}"));
        assert!(o.contains(want), "`{c}` printed no {want:?}:\n{o}\n{context}");
    }
}

/// Stops `mdm serve` with SIGTERM and waits for it.
fn nix_kill(child: &mut std::process::Child) -> std::io::Result<()> {
    std::process::Command::new("kill").arg(child.id().to_string()).status()?;
    child.wait().map(|_| ())
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[test]
fn walkthrough_extraction_joins_continuations() {
    let md = "x\n<!-- walkthrough:begin -->\ntext\n```sh\na 1\nb \\\n   c\n```\n```json\n{}\n```\n<!-- walkthrough:end -->\n```sh\nnot this\n```";
    assert_eq!(walkthrough(md), vec!["a 1".to_string(), "b c".to_string()]);
}
