//! Test harness: a temp database (SQLite file or a fresh PostgreSQL database), a real server on
//! an ephemeral port with dev certificates, and helpers to build simulated devices and call the API.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use mdm_sim::apns::{MockApns, MockPki};

use mdm::config::Config;
use mdm::store::Store;
use mdm_sim::scep::ScepEnroller;
use mdm_sim::{Endpoint, SimDevice, Transport};

pub const TOPIC: &str = "com.apple.mgmt.External.2f4d6b8a-1c3e-4a5b-9d7f-0e1a2b3c4d5e";
pub use crate::kit::{free_port, Db, Pki, TestDb, API_KEY, SCEP_CHALLENGE};

/// Options for a test server.
#[derive(Clone, Debug)]
pub struct Opts {
    pub plain_http: bool,
    pub header: Option<String>,
    pub max_body: usize,
    /// Start a mock APNs and point the server's push client at it.
    pub apns: bool,
    /// The re-push schedule (with `apns`).
    pub retry: Vec<Duration>,
    /// Any other configuration change.
    pub tweak: Option<fn(&mut Config)>,
}

impl Default for Opts {
    fn default() -> Self {
        Opts { plain_http: false, header: None, max_body: 1024 * 1024, apns: false, retry: vec![Duration::from_secs(3600)], tweak: None }
    }
}

impl Opts {
    /// Default options with a mock APNs.
    pub fn apns() -> Opts {
        Opts { apns: true, ..Opts::default() }
    }
}

/// The mock APNs of a test and the certificates around it.
pub struct Apns {
    pub mock: MockApns,
    pub pki: MockPki,
}

/// The kit's configuration for `db` with `pki`, changed as `opts` asks.
pub fn config(db: &TestDb, pki: &Pki, opts: &Opts) -> Config {
    let mut cfg = crate::kit::config(&db.url, pki);
    cfg.server.plain_http = opts.plain_http;
    cfg.server.max_body_bytes = opts.max_body;
    cfg.identity.client_cert_header = opts.header.clone().unwrap_or_default();
    cfg
}

/// A running server for one test.
pub struct Harness {
    /// Held so the database lives as long as the server (dropped after it).
    _db: TestDb,
    pub cfg: Config,
    pub store: Store,
    pub apns: Option<Apns>,
    pub pki: Pki,
    pub base: String,
    pub api: reqwest::Client,
    pub opts: Opts,
    /// Where this harness's devices get their identities (made on first use).
    scep: tokio::sync::OnceCell<ScepEnroller>,
    task: tokio::task::JoinHandle<()>,
}

/// RSA keys for simulated devices' SCEP requests, made once per test process and shared by
/// every harness (each device still gets its own certificate).
fn scep_keys() -> Vec<openssl::pkey::PKey<openssl::pkey::Private>> {
    static KEYS: OnceLock<Vec<openssl::pkey::PKey<openssl::pkey::Private>>> = OnceLock::new();
    KEYS.get_or_init(|| mdm_sim::scep::key_pool().expect("scep keys")).clone()
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Harness {
    pub async fn start(db: Db) -> Option<Harness> {
        Harness::start_with(db, Opts::default()).await
    }

    pub async fn start_with(db: Db, opts: Opts) -> Option<Harness> {
        let db = TestDb::create(db)?;
        let pki = Pki::new();
        let mut cfg = config(&db, &pki, &opts);
        // The server's public URL must be where it listens (enrollment profiles carry it).
        let port = free_port();
        cfg.server.listen = format!("127.0.0.1:{port}");
        let scheme = if opts.plain_http { "http" } else { "https" };
        cfg.server.public_url = format!("{scheme}://localhost:{port}");
        if let Some(tweak) = opts.tweak {
            tweak(&mut cfg);
        }
        let apns = if opts.apns {
            let (mock, mpki) = MockApns::start_with_new_pki(TOPIC).expect("mock apns");
            std::fs::write(pki.path("apns-ca.pem"), &mpki.server_ca_pem).expect("write");
            cfg.push.url = mock.url();
            cfg.push.ca_certs = vec![pki.path("apns-ca.pem")];
            cfg.push.system_roots = false;
            cfg.push.poll_interval = Duration::from_millis(100);
            cfg.push.timeout = Duration::from_secs(5);
            cfg.push.retry_schedule = opts.retry.iter().map(|d| (*d).into()).collect();
            Some(Apns { mock, pki: mpki })
        } else {
            None
        };
        let store = Store::connect(&cfg.database.url, 8).expect("store");
        store.migrate().await.expect("migrate");
        // The port was free when picked but is bound only now: another test's connection may
        // have taken it in between. Then pick again (the public URL follows, unless a tweak set
        // its own).
        let picked_url = format!("{scheme}://localhost:{port}");
        let mut tries = 0;
        let (base, task) = loop {
            match serve(&cfg, &store, opts.apns).await {
                Ok(served) => break served,
                Err(mdm::server::StartError::Listener(mdm::http::listener::ListenerError::Bind { source, .. }))
                    if tries < 5 && source.kind() == std::io::ErrorKind::AddrInUse =>
                {
                    tries += 1;
                    let port = free_port();
                    cfg.server.listen = format!("127.0.0.1:{port}");
                    if cfg.server.public_url == picked_url {
                        cfg.server.public_url = format!("{scheme}://localhost:{port}");
                    }
                }
                Err(e) => panic!("bind: {e:?}"),
            }
        };
        let api =
            reqwest::Client::builder().use_rustls_tls().add_root_certificate(reqwest::Certificate::from_pem(&pki.ca_pem).expect("ca")).build().expect("client");
        Some(Harness { _db: db, cfg, store, apns, pki, base, api, opts, scep: tokio::sync::OnceCell::new(), task })
    }

    /// Starts another server (replica) on the same database and configuration; returns its base
    /// URL and task.
    pub async fn replica(&self) -> (String, tokio::task::JoinHandle<()>) {
        let mut cfg = self.cfg.clone();
        cfg.server.listen = "127.0.0.1:0".into();
        serve(&cfg, &self.store, self.opts.apns).await.expect("bind")
    }

    /// Stops this server (its push scheduler with it); the database stays.
    pub fn stop(&self) {
        self.task.abort();
    }

    /// The mock APNs (the test must have asked for one).
    pub fn mock(&self) -> &MockApns {
        &self.apns.as_ref().expect("Opts::apns").mock
    }

    /// The mock's push certificate as a .p12 with `password`.
    pub fn push_p12(&self, password: &str) -> Vec<u8> {
        let issued = &self.apns.as_ref().expect("Opts::apns").pki.push_cert;
        openssl::pkcs12::Pkcs12::builder().name("MDM push").pkey(&issued.key).cert(&issued.cert).build2(password).expect("p12").to_der().expect("der")
    }

    /// Imports the mock's push certificate through `PUT /v1/pushcert`.
    pub async fn import_push_cert(&self) -> serde_json::Value {
        use base64::Engine;
        let p12 = base64::engine::general_purpose::STANDARD.encode(self.push_p12("secret"));
        let (status, body) = self.put_json("/v1/pushcert", serde_json::json!({ "p12": p12, "password": "secret" })).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// POST /v1/commands without a push; returns the status.
    pub async fn command_nopush(&self, request_type: &str, targets: &[String]) -> u16 {
        let body = serde_json::json!({ "request_type": request_type, "targets": targets, "payload": {}, "nopush": true });
        self.api.post(self.url("/v1/commands")).bearer_auth(API_KEY).json(&body).send().await.expect("post").status().as_u16()
    }

    /// Runs one SQL statement directly on the test database (to set up states the API cannot).
    pub fn sql(&self, stmt: &str) {
        use diesel::{Connection, RunQueryDsl};
        if self._db.url.starts_with("postgres") {
            let mut c = diesel::PgConnection::establish(&self._db.url).expect("connect");
            diesel::sql_query(stmt).execute(&mut c).expect("sql");
        } else {
            let mut c = diesel::SqliteConnection::establish(&self._db.url).expect("connect");
            // The server may be writing (a replica's push scheduler, say): wait for its lock as
            // the server's own connections do.
            diesel::sql_query("PRAGMA busy_timeout = 10000").execute(&mut c).expect("busy_timeout");
            diesel::sql_query(stmt).execute(&mut c).expect("sql");
        }
    }

    /// The values of a query's one BLOB column `v` (NULLs left out).
    pub fn blobs(&self, query: &str) -> Vec<Vec<u8>> {
        use diesel::{Connection, RunQueryDsl};
        #[derive(diesel::QueryableByName)]
        struct V {
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Binary>)]
            v: Option<Vec<u8>>,
        }
        let rows: Vec<V> = if self._db.url.starts_with("postgres") {
            let mut c = diesel::PgConnection::establish(&self._db.url).expect("connect");
            diesel::sql_query(query).load(&mut c).expect("query")
        } else {
            let mut c = diesel::SqliteConnection::establish(&self._db.url).expect("connect");
            diesel::sql_query("PRAGMA busy_timeout = 10000").execute(&mut c).expect("busy_timeout");
            diesel::sql_query(query).load(&mut c).expect("query")
        };
        rows.into_iter().filter_map(|r| r.v).collect()
    }

    /// `SELECT COUNT(*) FROM <from>` on the test database (`from` may carry a WHERE clause).
    pub fn count(&self, from: &str) -> i64 {
        use diesel::{Connection, RunQueryDsl};
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let q = format!("SELECT COUNT(*) AS n FROM {from}");
        let rows: Vec<N> = if self._db.url.starts_with("postgres") {
            let mut c = diesel::PgConnection::establish(&self._db.url).expect("connect");
            diesel::sql_query(q).load(&mut c).expect("count")
        } else {
            let mut c = diesel::SqliteConnection::establish(&self._db.url).expect("connect");
            diesel::sql_query("PRAGMA busy_timeout = 10000").execute(&mut c).expect("busy_timeout");
            diesel::sql_query(q).load(&mut c).expect("count")
        };
        rows.first().map(|r| r.n).unwrap_or(0)
    }

    /// PUT a JSON body; returns (status, json).
    pub async fn put_json(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let r = self.api.put(self.url(path)).bearer_auth(API_KEY).json(&body).send().await.expect("put");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// The transport devices use by default for this server.
    pub fn transport(&self) -> Transport {
        match &self.opts.header {
            Some(h) => Transport::Header(h.clone()),
            None => Transport::Mtls,
        }
    }

    pub fn endpoint(&self, transport: Transport) -> Arc<Endpoint> {
        Arc::new(Endpoint::new(self.base.clone(), transport, Some(self.pki.ca_pem.clone()), TOPIC))
    }

    /// A new simulated device (not yet enrolled) with its identity from the server's SCEP
    /// endpoint.
    pub async fn device(&self, i: usize) -> SimDevice {
        self.device_with(i, self.transport()).await
    }

    /// A new simulated device using transport `t`.
    pub async fn device_with(&self, i: usize, t: Transport) -> SimDevice {
        self.device_on(i, self.endpoint(t)).await
    }

    /// A new simulated device talking to `ep`, its identity obtained over SCEP with the
    /// configured static challenge, or a one-time challenge when none is configured.
    pub async fn device_on(&self, i: usize, ep: Arc<Endpoint>) -> SimDevice {
        let shared = ep.client(None).expect("client");
        let enroller = self
            .scep
            .get_or_init(|| async {
                let http = self.endpoint(self.transport()).client(None).expect("client");
                ScepEnroller::with_keys(&self.url(&self.cfg.scep.path), http, scep_keys()).await.expect("scep enroller")
            })
            .await;
        let challenge = if self.cfg.scep.challenge.is_empty() {
            let r = self.api.post(self.url("/v1/scep/challenges")).bearer_auth(API_KEY).send().await.expect("challenge");
            let v: serde_json::Value = r.json().await.expect("challenge json");
            v["challenge"].as_str().expect("challenge").to_string()
        } else {
            self.cfg.scep.challenge.clone()
        };
        SimDevice::enroll_scep(i, enroller, &challenge, ep, &shared).await.expect("device identity over SCEP")
    }

    /// An enrolled device.
    pub async fn enrolled(&self, i: usize) -> SimDevice {
        let d = self.device(i).await;
        d.enroll().await.expect("enroll");
        d
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// POST /v1/commands; returns (status, json).
    pub async fn command(&self, request_type: &str, targets: &[String], payload: serde_json::Value) -> (u16, serde_json::Value) {
        let body = serde_json::json!({ "request_type": request_type, "targets": targets, "payload": payload });
        let r = self.api.post(self.url("/v1/commands")).bearer_auth(API_KEY).json(&body).send().await.expect("post");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// GET an API path as JSON.
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self.api.get(self.url(path)).bearer_auth(API_KEY).send().await.expect("get");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// PUT /v1/enqueue/{ids} with a raw plist.
    pub async fn enqueue_raw(&self, ids: &str, plist: &str, query: &str) -> (u16, serde_json::Value) {
        let r = self.api.put(self.url(&format!("/v1/enqueue/{ids}{query}"))).bearer_auth(API_KEY).body(plist.to_string()).send().await.expect("put");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }
}

/// Binds and runs a server for `cfg` on an ephemeral port; with `apns` it pushes through the
/// real APNs client (to the mock).
async fn serve(cfg: &Config, store: &Store, apns: bool) -> Result<(String, tokio::task::JoinHandle<()>), mdm::server::StartError> {
    let pusher: Arc<dyn mdm::push::Pusher> =
        if apns { Arc::new(mdm::push::apns::ApnsClient::new(&cfg.push).expect("apns client")) } else { Arc::new(mdm::push::Offline) };
    let server = mdm::server::Server::bind_with(cfg, store.clone(), pusher).await?;
    let scheme = if cfg.server.plain_http { "http" } else { "https" };
    let base = format!("{scheme}://localhost:{}", server.local_addr.port());
    Ok((base, tokio::spawn(server.run())))
}

/// Runs a scenario on SQLite and on PostgreSQL: `both!(name);` makes `name::sqlite` and
/// `name::postgres` tests calling `async fn name(db: Db)`.
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::harness::Db::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::harness::Db::Postgres).await;
            }
        }
    };
}

impl Harness {
    /// POST a JSON body; returns (status, json).
    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let r = self.api.post(self.url(path)).bearer_auth(API_KEY).json(&body).send().await.expect("post");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// POST raw bytes with a content type; returns (status, json).
    pub async fn post_bytes(&self, path: &str, ctype: &str, body: Vec<u8>) -> (u16, serde_json::Value) {
        let r = self.api.post(self.url(path)).bearer_auth(API_KEY).header("content-type", ctype).body(body).send().await.expect("post");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// DELETE a path; returns (status, json).
    pub async fn delete(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self.api.delete(self.url(path)).bearer_auth(API_KEY).send().await.expect("delete");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }
}

/// Runs connection loops until the device has nothing left (at most 10); returns
/// `RequestType:Status` of every command handled.
pub async fn drain(d: &mut mdm_sim::SimDevice) -> Vec<String> {
    let mut all = Vec::new();
    for _ in 0..10 {
        let handled = d.connect().await.expect("connect");
        if handled.is_empty() {
            break;
        }
        all.extend(handled.into_iter().map(|c| format!("{}:{}", c.request_type, c.status)));
    }
    all
}

impl Harness {
    /// GETs `path` until `ok` holds for the answer (20 s at most, then fails naming `what`).
    pub async fn wait_for<F: Fn(&serde_json::Value) -> bool>(&self, path: &str, what: &str, ok: F) -> serde_json::Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let (_, v) = self.get(path).await;
            if ok(&v) {
                return v;
            }
            assert!(std::time::Instant::now() < deadline, "{what}: {v}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}
