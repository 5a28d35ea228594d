//! The test kit shared by the end-to-end tests (`tests/it`) and the benchmark
//! (`examples/bench.rs`): throw-away databases on both backends, certificates for a server,
//! free ports and the configuration of a server on them. Each includes this file as a module.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Duration;

use mdm::config::{ApiConfig, CaConfig, CheckinConfig, Config, DatabaseConfig, IdentityConfig, PushConfig, SecretsConfig, ServerConfig, TrustMode};
use mdm::pki::Ca;

/// The admin API key of every kit configuration.
pub const API_KEY: &str = "test-admin-key-0123456789abcdef";
/// The static SCEP challenge of every kit configuration.
pub const SCEP_CHALLENGE: &str = "static-scep-challenge";

/// Which database backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A database that exists for one test and is dropped after it.
pub struct TestDb {
    pub url: String,
    pg_admin: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

fn pg_base() -> String {
    std::env::var("MDM_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string())
}

impl TestDb {
    /// Creates the database, or returns None (with a message) when PostgreSQL is absent locally.
    /// Under CI=true a missing PostgreSQL fails the test.
    pub fn create(db: Db) -> Option<TestDb> {
        match db {
            Db::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                let url = dir.path().join("mdm.db").to_string_lossy().into_owned();
                Some(TestDb { url, pg_admin: None, _dir: Some(dir) })
            }
            Db::Postgres => {
                use diesel::{Connection, RunQueryDsl};
                let base = pg_base();
                let admin_url = format!("{base}/postgres");
                let mut conn = match diesel::PgConnection::establish(&admin_url) {
                    Ok(c) => c,
                    Err(e) => {
                        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                            panic!("PostgreSQL is required under CI but unreachable at {admin_url}: {e}");
                        }
                        eprintln!("SKIP: PostgreSQL not reachable at {admin_url} ({e}); set MDM_TEST_PG_URL");
                        return None;
                    }
                };
                let name = format!("mdm_test_{}", uuid::Uuid::new_v4().simple());
                diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).expect("create database");
                Some(TestDb { url: format!("{base}/{name}"), pg_admin: Some((admin_url, name)), _dir: None })
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        use diesel::{Connection, RunQueryDsl};
        if let Some((admin, name)) = &self.pg_admin {
            if let Ok(mut c) = diesel::PgConnection::establish(admin) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut c);
            }
        }
    }
}

/// Certificates for one test: the CA (also the device CA) and the server's TLS files, and the
/// "Apple" CA that signs simulated devices' phase-2 attributes.
pub struct Pki {
    pub ca: Ca,
    pub dir: tempfile::TempDir,
    pub ca_pem: Vec<u8>,
    pub device_ca: Ca,
}

impl Pki {
    pub fn new() -> Pki {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = Ca::generate("Test CA").expect("ca");
        let server = ca.issue_server(&["localhost".into(), "127.0.0.1".into()]).expect("server cert");
        let ca_pem = ca.cert.to_pem().expect("pem");
        std::fs::write(dir.path().join("ca.pem"), &ca_pem).expect("write");
        std::fs::write(dir.path().join("ca.key"), ca.key.private_key_to_pem_pkcs8().expect("key")).expect("write");
        let mut chain = server.cert.to_pem().expect("pem");
        chain.extend(&ca_pem);
        std::fs::write(dir.path().join("server.pem"), chain).expect("write");
        std::fs::write(dir.path().join("server.key"), server.key.private_key_to_pem_pkcs8().expect("key")).expect("write");
        // An RA for SCEP tests that configure one (scep.ra_cert / scep.ra_key).
        let ra = ca.issue_server(&["scep-ra".into()]).expect("ra cert");
        std::fs::write(dir.path().join("ra.pem"), ra.cert.to_pem().expect("pem")).expect("write");
        std::fs::write(dir.path().join("ra.key"), ra.key.private_key_to_pem_pkcs8().expect("key")).expect("write");
        let device_ca = Ca::generate("Simulated iPhone Device CA").expect("device ca");
        std::fs::write(dir.path().join("device-ca.pem"), device_ca.cert.to_pem().expect("pem")).expect("write");
        Pki { ca, dir, ca_pem, device_ca }
    }

    pub fn path(&self, f: &str) -> PathBuf {
        self.dir.path().join(f)
    }
}

/// A port nobody listens on now (the OS's pick for an ephemeral bind, released again).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port()
}

/// A server on `db_url` with `pki`: TLS with client certificates (trusting the kit CA), the
/// kit CA as SCEP CA, a fresh secrets key, the kit's API key and SCEP challenge, simulated
/// devices' phase-2 attributes trusted through the kit's device CA.
pub fn config(db_url: &str, pki: &Pki) -> Config {
    Config {
        server: ServerConfig {
            listen: "127.0.0.1:0".into(),
            public_url: "https://localhost".into(),
            tls_cert: Some(pki.path("server.pem")),
            tls_key: Some(pki.path("server.key")),
            plain_http: false,
            max_body_bytes: 1024 * 1024,
            drain_timeout: Duration::from_secs(5),
        },
        database: DatabaseConfig { url: db_url.to_string(), pool_size: 8 },
        identity: IdentityConfig {
            trust: TrustMode::Ca,
            ca_certs: vec![pki.path("ca.pem")],
            client_cert_header: String::new(),
            mdm_signature: true,
            mtls: true,
        },
        api: ApiConfig { key_file: None, key: Some(API_KEY.into()), ..Default::default() },
        checkin: CheckinConfig::default(),
        ca: CaConfig { cert: Some(pki.path("ca.pem")), key: Some(pki.path("ca.key")) },
        push: PushConfig::default(),
        secrets: SecretsConfig { key_file: None, key: Some(mdm::secrets::SecretKey::generate_base64().expect("key")) },
        scep: mdm::config::ScepConfig { challenge: SCEP_CHALLENGE.into(), ..Default::default() },
        profiles: Default::default(),
        enroll: mdm::config::EnrollConfig {
            device_trust: mdm::config::DeviceTrust::Ca,
            device_ca_certs: vec![pki.path("device-ca.pem")],
            ..Default::default()
        },
        apps: Default::default(),
        retention: Default::default(),
        log: Default::default(),
        // Quick rounds and short waits, so delivery tests finish in seconds; receivers run on
        // this machine.
        events: mdm::config::EventsConfig {
            poll_interval: Duration::from_millis(50),
            lease: Duration::from_secs(5),
            timeout: Duration::from_secs(2),
            backoff_initial: Duration::from_millis(100),
            backoff_max: Duration::from_secs(1),
            ..Default::default()
        },
        outbound: mdm::config::OutboundConfig { allow_private: vec!["127.0.0.0/8".into()], ca_certs: vec![pki.path("ca.pem")] },
        connectors: mdm::config::ConnectorsConfig {
            poll_interval: Duration::from_millis(50),
            lease: Duration::from_secs(5),
            backoff_initial: Duration::from_millis(100),
            backoff_max: Duration::from_millis(500),
            resend_after: Duration::from_secs(3),
            ..Default::default()
        },
        compliance: Default::default(),
    }
}
