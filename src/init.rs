//! `mdm init`: writes development certificates, an admin API key and `mdm.toml`, each only if it
//! is absent, so running it again changes nothing. Private keys and the API key are 0600.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::pki::{Ca, PkiError};

/// Errors from `mdm init`.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// Certificate generation failed.
    #[error("{0}")]
    Pki(#[from] PkiError),
    /// The secrets key could not be generated.
    #[error("secrets key: {0}")]
    Secrets(String),
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

/// The development push certificate and key `mdm init` writes into its directory.
pub const DEV_PUSH_FILE: &str = "push-dev.pem";
/// The port of the development mock APNs in the configuration `mdm init` writes.
pub const DEV_APNS_PORT: u16 = 2197;

/// What `mdm init` should produce.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// Directory for certificates and keys.
    pub dir: PathBuf,
    /// Host name devices use to reach the server.
    pub hostname: String,
    /// Where to write the configuration file.
    pub config: PathBuf,
    /// Port in the listen address and public URL.
    pub port: u16,
    /// RSA key size of a newly generated CA (2048 or 4096).
    pub ca_bits: u32,
}

/// One line of what init did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The file was written.
    Created(PathBuf),
    /// The file existed and was left alone.
    Kept(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> InitError + '_ {
    move |source| InitError::Io { path: path.to_path_buf(), source }
}

fn write_new(path: &Path, data: &[u8], secret: bool) -> Result<(), InitError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if secret { 0o600 } else { 0o644 });
    }
    let mut f = opts.open(path).map_err(io(path))?;
    f.write_all(data).map_err(io(path))
}

/// Runs init; returns what was created and what was kept.
pub fn run(opts: &InitOptions) -> Result<Vec<Step>, InitError> {
    std::fs::create_dir_all(&opts.dir).map_err(io(&opts.dir))?;
    let mut steps = Vec::new();
    let ca_cert = opts.dir.join("ca.pem");
    let ca_key = opts.dir.join("ca.key");
    let ca = if ca_cert.exists() && ca_key.exists() {
        steps.push(Step::Kept(ca_cert.clone()));
        Ca::load(&ca_cert, &ca_key)?
    } else {
        let ca = Ca::generate_rsa("MDM Development CA", opts.ca_bits)?;
        write_new(&ca_key, &ca.key.private_key_to_pem_pkcs8().map_err(PkiError::from)?, true)?;
        write_new(&ca_cert, &ca.cert.to_pem().map_err(PkiError::from)?, false)?;
        steps.push(Step::Created(ca_cert.clone()));
        ca
    };
    let server_cert = opts.dir.join("server.pem");
    let server_key = opts.dir.join("server.key");
    if server_cert.exists() && server_key.exists() {
        steps.push(Step::Kept(server_cert.clone()));
    } else {
        let mut names = vec![opts.hostname.clone()];
        for n in ["localhost", "127.0.0.1"] {
            if !names.iter().any(|x| x == n) {
                names.push(n.to_string());
            }
        }
        let issued = ca.issue_server(&names)?;
        let mut chain = issued.cert.to_pem().map_err(PkiError::from)?;
        chain.extend(ca.cert.to_pem().map_err(PkiError::from)?);
        write_new(&server_key, &issued.key.private_key_to_pem_pkcs8().map_err(PkiError::from)?, true)?;
        write_new(&server_cert, &chain, false)?;
        steps.push(Step::Created(server_cert.clone()));
    }
    let api_key = opts.dir.join("api.key");
    if api_key.exists() {
        steps.push(Step::Kept(api_key.clone()));
    } else {
        let mut raw = [0u8; 32];
        openssl::rand::rand_bytes(&mut raw).map_err(PkiError::from)?;
        write_new(&api_key, format!("{}\n", hex::encode(raw)).as_bytes(), true)?;
        steps.push(Step::Created(api_key.clone()));
    }
    let secrets_key = opts.dir.join("secrets.key");
    if secrets_key.exists() {
        steps.push(Step::Kept(secrets_key.clone()));
    } else {
        let key = crate::secrets::SecretKey::generate_base64().map_err(|e| InitError::Secrets(e.to_string()))?;
        write_new(&secrets_key, format!("{key}\n").as_bytes(), true)?;
        steps.push(Step::Created(secrets_key.clone()));
    }
    let push_dev = opts.dir.join(DEV_PUSH_FILE);
    if push_dev.exists() {
        steps.push(Step::Kept(push_dev.clone()));
    } else {
        // A development push certificate for the local lab: issued by the development CA, so
        // that the mock APNs `mdm sim` runs accepts it, and marked so that a server outside
        // development mode refuses it.
        let topic = format!("{}{}", crate::push::cert::TOPIC_PREFIX, uuid::Uuid::new_v4());
        let issued = ca.issue_development_push_cert(&topic, i64::from(crate::pki::CA_DAYS))?;
        let mut pem = issued.cert.to_pem().map_err(PkiError::from)?;
        pem.extend(issued.key.private_key_to_pem_pkcs8().map_err(PkiError::from)?);
        write_new(&push_dev, &pem, true)?;
        steps.push(Step::Created(push_dev.clone()));
    }
    if opts.config.exists() {
        steps.push(Step::Kept(opts.config.clone()));
    } else {
        if let Some(parent) = opts.config.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        write_new(&opts.config, config_text(opts).as_bytes(), false)?;
        steps.push(Step::Created(opts.config.clone()));
    }
    Ok(steps)
}

/// Path of `p` as written into the config: relative to the config file's directory when possible.
fn rel(opts: &InitOptions, p: &Path) -> String {
    let base = opts.config.parent().unwrap_or(Path::new(""));
    let shown = if base.as_os_str().is_empty() { p } else { p.strip_prefix(base).unwrap_or(p) };
    shown.display().to_string().replace('\\', "/")
}

fn config_text(o: &InitOptions) -> String {
    let d = |f: &str| rel(o, &o.dir.join(f));
    format!(
        r#"# Written by `mdm init`. Every key can be overridden with MDM_<SECTION>_<KEY>,
# e.g. MDM_DATABASE_URL=postgres://postgres@127.0.0.1/mdm

[server]
listen = "0.0.0.0:{port}"
public_url = "https://{host}:{port}"
tls_cert = "{server_pem}"
tls_key = "{server_key}"
# Set to true behind a TLS-terminating proxy that forwards the client certificate
# in identity.client_cert_header.
plain_http = false

[database]
# A SQLite file (embedded default) or postgres://user@host/db
url = "mdm.db"

[identity]
# "ca": device certificates must chain to ca_certs. "any": development only.
trust = "ca"
ca_certs = ["{ca_pem}"]
# e.g. "X-SSL-Client-Cert" (nginx $ssl_client_escaped_cert) or "Client-Cert" (RFC 9440)
client_cert_header = ""
mdm_signature = true

[api]
key_file = "{api_key}"

[ca]
cert = "{ca_pem}"
key = "{ca_key}"

[scep]
# SCEP server for device identity certificates, issued by the [ca] CA. Make one-time
# challenges with POST /v1/scep/challenges; a static challenge is accepted too when set here.
path = "/scep"
challenge = ""
validity = "365d"
renewal_window = "14d"

[profiles]
# Profiles sent to devices are signed with the TLS certificate (set signing_cert/signing_key
# for another identity) and encrypted to each device's identity certificate.
sign = true
encrypt = true
# A device whose profiles were not checked for this long gets a ProfileList; a profile missing
# from it is sent again.
audit_interval = "24h"

[enroll]
# Over-the-air enrollment: https://<public_url>/enroll (users and tokens from the admin API).
# Phase 2 checks who signed the device's attributes. "any" accepts any signature that verifies
# (development); for production set device_trust = "ca" and list Apple's iPhone Device CA and
# Apple Root CA (PEM) in device_ca_certs.
device_trust = "any"
device_ca_certs = []
sign_message = true
access_rights = 8191
check_out_when_removed = true
session_ttl = "1h"
login_attempts = 5
login_window = "15m"
blueprint = "default"

[apps]
# A device whose managed apps were not checked for this long gets a ManagedApplicationList; a
# required app missing from it is installed again.
audit_interval = "24h"

[secrets]
# Seals private keys kept in the database (APNs push certificate keys). Keep it out of backups
# of the database; without it those keys cannot be read.
key_file = "{secrets_key}"

[push]
# DEVELOPMENT push, for the local lab: pushes go to the mock APNs that `mdm sim` runs on this
# machine, with the development push certificate below (imported by `mdm serve` at start).
# Real devices are never woken this way. For production: import the MDM push certificate from
# Apple's Push Certificates Portal (`mdm push-cert import FILE --force`), remove the development
# one (`mdm push-cert remove TOPIC`), set development = false and url = "https://api.push.apple.com".
development = true
development_cert = "{push_dev}"
url = "https://127.0.0.1:{apns_port}"
ca_certs = ["{ca_pem}"]
# Re-push a device whose commands wait after these delays (the last one repeats).
retry_schedule = ["1m", "5m", "30m", "4h"]
"#,
        port = o.port,
        host = o.hostname,
        server_pem = d("server.pem"),
        server_key = d("server.key"),
        ca_pem = d("ca.pem"),
        ca_key = d("ca.key"),
        api_key = d("api.key"),
        secrets_key = d("secrets.key"),
        push_dev = d(DEV_PUSH_FILE),
        apns_port = DEV_APNS_PORT,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_twice_changes_nothing_and_keys_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let opts = InitOptions { dir: dir.path().join("certs"), hostname: "mdm.test".into(), config: dir.path().join("mdm.toml"), port: 8443, ca_bits: 2048 };
        let first = run(&opts).unwrap();
        assert!(first.iter().all(|s| matches!(s, Step::Created(_))));
        let before: Vec<Vec<u8>> = ["ca.pem", "ca.key", "server.pem", "server.key", "api.key", "secrets.key", "push-dev.pem"]
            .iter()
            .map(|f| std::fs::read(opts.dir.join(f)).unwrap())
            .collect();
        let second = run(&opts).unwrap();
        assert!(second.iter().all(|s| matches!(s, Step::Kept(_))));
        let after: Vec<Vec<u8>> = ["ca.pem", "ca.key", "server.pem", "server.key", "api.key", "secrets.key", "push-dev.pem"]
            .iter()
            .map(|f| std::fs::read(opts.dir.join(f)).unwrap())
            .collect();
        assert_eq!(before, after);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for f in ["ca.key", "server.key", "api.key", "secrets.key", "push-dev.pem"] {
                let mode = std::fs::metadata(opts.dir.join(f)).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{f}");
            }
        }
        let cfg = crate::config::Config::load(&opts.config).unwrap();
        assert_eq!(cfg.identity.ca_certs, vec![opts.dir.join("ca.pem")]);
        assert!(cfg.api_key().unwrap().len() >= 32);
        assert!(cfg.secret_key().is_ok());
        assert_eq!(cfg.push.retry_delays().len(), 4);
        // The lab's push: development mode on loopback, with a certificate the server accepts
        // only in that mode.
        assert!(cfg.push.development);
        assert_eq!(cfg.push.development_port(), Ok(DEV_APNS_PORT));
        let dev = crate::push::cert::PushCert::from_combined_pem(&std::fs::read(opts.dir.join(DEV_PUSH_FILE)).unwrap()).unwrap();
        assert!(dev.development && dev.topic.starts_with(crate::push::cert::TOPIC_PREFIX));
        let server = openssl::x509::X509::from_pem(&std::fs::read(opts.dir.join("server.pem")).unwrap()).unwrap();
        let sans: Vec<String> = server.subject_alt_names().unwrap().iter().filter_map(|n| n.dnsname().map(str::to_string)).collect();
        assert!(sans.contains(&"mdm.test".to_string()) && sans.contains(&"localhost".to_string()));
    }
}
