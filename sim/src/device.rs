//! One simulated device: its attributes, identity, push credentials and installed state, and the
//! protocol steps iOS takes (Authenticate, TokenUpdate, command loop, CheckOut).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use mdm_pki::Issued;

use super::answer;
use super::transport::{escaped_pem, Endpoint, Transport};
use super::SimError;

/// A profile the device has installed.
#[derive(Debug, Clone, PartialEq)]
pub struct InstalledProfile {
    /// PayloadIdentifier.
    pub identifier: String,
    /// PayloadUUID.
    pub uuid: String,
    /// PayloadDisplayName.
    pub display_name: String,
    /// PayloadVersion.
    pub version: i64,
    /// Subject of the signer, when the profile came signed.
    pub signed_by: Option<String>,
    /// Whether the payloads came encrypted to this device.
    pub was_encrypted: bool,
    /// The profile as installed (decrypted), for inspection.
    pub content: plist::Dictionary,
}

/// An installed app.
#[derive(Debug, Clone, PartialEq)]
pub struct InstalledApp {
    /// Bundle identifier.
    pub identifier: String,
    /// Display name.
    pub name: String,
    /// CFBundleVersion.
    pub version: String,
    /// Installed by MDM (listed by ManagedApplicationList).
    pub managed: bool,
    /// Its managed configuration (AppConfig), as last received.
    pub configuration: Option<plist::Dictionary>,
    /// A managed app the person deleted: iOS keeps listing it as `ManagedButUninstalled`.
    pub uninstalled: bool,
    /// What the app keeps in its container (a signed-in user, cached messages): kept across
    /// configuration changes and updates, gone when the app is removed.
    pub data: BTreeMap<String, String>,
}

/// A command the device received and how it answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Handled {
    /// CommandUUID.
    pub uuid: String,
    /// RequestType.
    pub request_type: String,
    /// Status answered.
    pub status: String,
}

/// A simulated iPhone/iPad.
pub struct SimDevice {
    /// UDID.
    pub udid: String,
    /// SerialNumber.
    pub serial: String,
    /// Model.
    pub model: String,
    /// ModelName.
    pub model_name: String,
    /// ProductName.
    pub product_name: String,
    /// OSVersion.
    pub os_version: String,
    /// BuildVersion.
    pub build_version: String,
    /// DeviceName.
    pub device_name: String,
    /// IMEI.
    pub imei: String,
    /// Identity certificate and key.
    pub identity: Issued,
    /// APNs token.
    pub token: Vec<u8>,
    /// PushMagic.
    pub push_magic: String,
    /// UnlockToken.
    pub unlock_token: Vec<u8>,
    /// The device passcode the person set, if any.
    pub passcode: Option<String>,
    /// Send AwaitingConfiguration=true in TokenUpdate.
    pub awaiting_configuration: bool,
    /// Installed profiles by identifier.
    pub profiles: BTreeMap<String, InstalledProfile>,
    /// Installed apps.
    pub apps: Vec<InstalledApp>,
    /// Request types to answer NotNow, with how many more times.
    pub not_now: HashMap<String, u32>,
    /// Refuse every InstallProfile (as a device does with a profile it cannot apply).
    pub fail_profiles: bool,
    /// Every command received, in order.
    pub log: Vec<Handled>,
    /// Round-trip time of each command-endpoint request, in microseconds.
    pub connect_latencies_us: Vec<u32>,
    /// Identities obtained through the SCEP payloads of installed profiles, by payload identifier
    /// (what Safari offers a site that asks for a client certificate).
    pub scep_identities: BTreeMap<String, Issued>,
    endpoint: Arc<Endpoint>,
    client: reqwest::Client,
    /// The proxy-header value (URL-escaped PEM), computed once per identity.
    header_value: String,
}

impl std::fmt::Debug for SimDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimDevice").field("udid", &self.udid).field("serial", &self.serial).finish()
    }
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut v);
    v
}

/// A UDID in the iPhone format with a random tail.
pub(crate) fn new_udid(index: usize) -> String {
    let tag = hex::encode_upper(random_bytes(6));
    format!("00008110-{index:06X}{tag}")
}

impl SimDevice {
    /// Makes device number `index` with an identity obtained over SCEP with `challenge`, as
    /// iOS does with the enrollment profile's SCEP payload. `shared` is the HTTP client used by
    /// the Signature and Header transports (mTLS devices build their own).
    pub async fn enroll_scep(
        index: usize,
        scep: &super::scep::ScepEnroller,
        challenge: &str,
        endpoint: Arc<Endpoint>,
        shared: &reqwest::Client,
    ) -> Result<SimDevice, SimError> {
        let udid = new_udid(index);
        let identity = scep.identity(&udid, challenge).await?;
        SimDevice::with_identity(udid, identity, endpoint, shared)
    }

    /// Makes a device with a given UDID and identity.
    pub fn with_identity(udid: String, identity: Issued, endpoint: Arc<Endpoint>, shared: &reqwest::Client) -> Result<SimDevice, SimError> {
        let client = match endpoint.transport {
            Transport::Mtls => endpoint.client(Some(&identity))?,
            _ => shared.clone(),
        };
        let serial = format!("SIM{}", hex::encode_upper(random_bytes(5)));
        let header_value = escaped_pem(&identity)?;
        Ok(SimDevice {
            device_name: format!("iPhone {}", &serial[3..9]),
            serial,
            model: "MQ3D2LL/A".into(),
            model_name: "iPhone".into(),
            product_name: "iPhone15,2".into(),
            os_version: "18.1".into(),
            build_version: "22B83".into(),
            imei: format!("35{:013}", rand::Rng::gen_range(&mut rand::thread_rng(), 0..10_000_000_000_000u64)),
            udid,
            identity,
            token: random_bytes(32),
            push_magic: uuid::Uuid::new_v4().to_string().to_uppercase(),
            unlock_token: random_bytes(48),
            passcode: None,
            awaiting_configuration: false,
            profiles: BTreeMap::new(),
            apps: vec![InstalledApp {
                identifier: "com.apple.mobilesafari".into(),
                name: "Safari".into(),
                version: "8620.1.16".into(),
                managed: false,
                configuration: None,
                uninstalled: false,
                data: BTreeMap::new(),
            }],
            not_now: HashMap::new(),
            fail_profiles: false,
            scep_identities: BTreeMap::new(),
            log: Vec::new(),
            connect_latencies_us: Vec::new(),
            endpoint,
            client,
            header_value,
        })
    }

    /// The person deletes an app from the home screen. A managed app stays known to iOS as
    /// `ManagedButUninstalled`; another is simply gone.
    pub fn user_removes_app(&mut self, bundle_id: &str) -> bool {
        let Some(i) = self.apps.iter().position(|a| a.identifier == bundle_id && !a.uninstalled) else { return false };
        if self.apps[i].managed {
            self.apps[i].uninstalled = true;
        } else {
            self.apps.remove(i);
        }
        true
    }

    /// Whether an installed profile holds a passcode policy (`com.apple.mobiledevice.passwordpolicy`).
    pub fn passcode_required(&self) -> bool {
        self.profiles.values().any(|p| {
            p.content
                .get("PayloadContent")
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_dictionary())
                .any(|d| d.get("PayloadType").and_then(|v| v.as_string()) == Some("com.apple.mobiledevice.passwordpolicy"))
        })
    }

    /// The person sets a device passcode (as iOS asks once a passcode policy is installed);
    /// false when they already have one.
    pub fn user_sets_passcode(&mut self, pin: &str) -> bool {
        if self.passcode.is_some() {
            return false;
        }
        self.passcode = Some(pin.to_string());
        true
    }

    /// The person uses an installed app, which keeps `key` = `value` in its data; false when
    /// the app is not installed.
    pub fn user_uses_app(&mut self, bundle_id: &str, key: &str, value: &str) -> bool {
        match self.apps.iter_mut().find(|a| a.identifier == bundle_id && !a.uninstalled) {
            Some(a) => {
                a.data.insert(key.to_string(), value.to_string());
                true
            }
            None => false,
        }
    }

    /// The HTTP client of the device (what its apps use to reach the server).
    pub fn http(&self) -> &reqwest::Client {
        &self.client
    }

    /// An installed app.
    pub fn app(&self, bundle_id: &str) -> Option<&InstalledApp> {
        self.apps.iter().find(|a| a.identifier == bundle_id && !a.uninstalled)
    }

    /// Replaces the identity (e.g. a renewed or foreign certificate) and rebuilds the mTLS client.
    pub fn set_identity(&mut self, identity: Issued) -> Result<(), SimError> {
        if self.endpoint.transport == Transport::Mtls {
            self.client = self.endpoint.client(Some(&identity))?;
        }
        self.header_value = escaped_pem(&identity)?;
        self.identity = identity;
        Ok(())
    }

    fn base(&self, extra: &[(&str, plist::Value)]) -> plist::Dictionary {
        let mut d = plist::Dictionary::new();
        d.insert("UDID".into(), plist::Value::String(self.udid.clone()));
        for (k, v) in extra {
            d.insert((*k).into(), v.clone());
        }
        d
    }

    /// PUTs a plist to `path`; returns the response body (empty for "nothing").
    pub async fn put(&self, path: &str, body: Vec<u8>) -> Result<Vec<u8>, SimError> {
        let url = format!("{}{}", self.endpoint.base_url, path);
        let ctype = if path == self.endpoint.checkin_path { "application/x-apple-aspen-mdm-checkin" } else { "application/x-apple-aspen-mdm" };
        let mut req = self.client.put(url).header("Content-Type", ctype).header("User-Agent", "MDM/1.0");
        match &self.endpoint.transport {
            Transport::Mtls => {}
            Transport::Signature => req = req.header("Mdm-Signature", mdm_pki::mdm_signature(&self.identity, &body)?),
            Transport::Header(name) => req = req.header(name.as_str(), self.header_value.as_str()),
        }
        let resp = req.body(body).send().await?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await?.to_vec();
        if status != 200 {
            return Err(SimError::Status { status, body: String::from_utf8_lossy(&bytes).trim().to_string() });
        }
        Ok(bytes)
    }

    async fn checkin(&self, d: plist::Dictionary) -> Result<Vec<u8>, SimError> {
        self.put(&self.endpoint.checkin_path.clone(), crate::plist_body::to_xml(&d)).await
    }

    /// Sends Authenticate.
    pub async fn authenticate(&self) -> Result<(), SimError> {
        let s = |v: &str| plist::Value::String(v.to_string());
        let d = self.base(&[
            ("MessageType", s("Authenticate")),
            ("Topic", s(&self.endpoint.topic)),
            ("SerialNumber", s(&self.serial)),
            ("Model", s(&self.model)),
            ("ModelName", s(&self.model_name)),
            ("ProductName", s(&self.product_name)),
            ("OSVersion", s(&self.os_version)),
            ("BuildVersion", s(&self.build_version)),
            ("DeviceName", s(&self.device_name)),
            ("IMEI", s(&self.imei)),
        ]);
        self.checkin(d).await.map(|_| ())
    }

    /// Sends TokenUpdate on the device channel.
    pub async fn token_update(&self) -> Result<(), SimError> {
        let mut d = self.base(&[
            ("MessageType", plist::Value::String("TokenUpdate".into())),
            ("Topic", plist::Value::String(self.endpoint.topic.clone())),
            ("Token", plist::Value::Data(self.token.clone())),
            ("PushMagic", plist::Value::String(self.push_magic.clone())),
            ("UnlockToken", plist::Value::Data(self.unlock_token.clone())),
        ]);
        if self.awaiting_configuration {
            d.insert("AwaitingConfiguration".into(), plist::Value::Boolean(true));
        }
        self.checkin(d).await.map(|_| ())
    }

    /// Sends TokenUpdate on a user channel (Shared iPad user or macOS user).
    pub async fn user_token_update(&self, user_id: &str, short_name: &str) -> Result<(), SimError> {
        let d = self.base(&[
            ("MessageType", plist::Value::String("TokenUpdate".into())),
            ("Topic", plist::Value::String(self.endpoint.topic.clone())),
            ("Token", plist::Value::Data(self.token.clone())),
            ("PushMagic", plist::Value::String(self.push_magic.clone())),
            ("UserID", plist::Value::String(user_id.into())),
            ("UserShortName", plist::Value::String(short_name.into())),
        ]);
        self.checkin(d).await.map(|_| ())
    }

    /// Authenticate + TokenUpdate.
    pub async fn enroll(&self) -> Result<(), SimError> {
        self.authenticate().await?;
        self.token_update().await
    }

    /// Sends CheckOut.
    pub async fn checkout(&self) -> Result<(), SimError> {
        let d = self.base(&[("MessageType", plist::Value::String("CheckOut".into()))]);
        self.checkin(d).await.map(|_| ())
    }

    /// Sends any check-in message type with extra keys (for tests of less common messages).
    pub async fn raw_checkin(&self, message_type: &str, extra: &[(&str, plist::Value)]) -> Result<Vec<u8>, SimError> {
        let mut d = self.base(extra);
        d.insert("MessageType".into(), plist::Value::String(message_type.into()));
        self.checkin(d).await
    }

    /// Sends one report (Idle or a result) and returns the next command, if any.
    pub async fn report(&self, result: plist::Dictionary) -> Result<Option<plist::Dictionary>, SimError> {
        let mut d = self.base(&[]);
        d.extend(result);
        let body = self.put(&self.endpoint.connect_path.clone(), crate::plist_body::to_xml(&d)).await?;
        if body.is_empty() {
            return Ok(None);
        }
        crate::plist_body::parse_dict(&body).map(Some).map_err(|e| SimError::BadCommand(e.to_string()))
    }

    async fn timed_report(&mut self, d: plist::Dictionary) -> Result<Option<plist::Dictionary>, SimError> {
        let t = std::time::Instant::now();
        let r = self.report(d).await;
        self.connect_latencies_us.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
        r
    }

    /// Requests the certificates of installed profiles' SCEP payloads that it has not got yet
    /// (`com.apple.security.scep`: URL, Challenge, Subject's CN).
    async fn run_scep_payloads(&mut self) -> Result<(), SimError> {
        let mut wanted = Vec::new();
        for p in self.profiles.values() {
            let content = p.content.get("PayloadContent").and_then(|v| v.as_array()).into_iter().flatten().filter_map(|x| x.as_dictionary());
            for payload in content.filter(|d| d.get("PayloadType").and_then(|v| v.as_string()) == Some("com.apple.security.scep")) {
                let id = payload.get("PayloadIdentifier").and_then(|v| v.as_string()).unwrap_or_default().to_string();
                if self.scep_identities.contains_key(&id) {
                    continue;
                }
                let Some(inner) = payload.get("PayloadContent").and_then(|v| v.as_dictionary()) else { continue };
                let text = |k: &str| inner.get(k).and_then(|v| v.as_string()).unwrap_or_default().to_string();
                let cn = inner
                    .get("Subject")
                    .and_then(|v| v.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|rdn| rdn.as_array()?.first()?.as_array().cloned())
                    .find(|pair| pair.first().and_then(|k| k.as_string()) == Some("CN"))
                    .and_then(|pair| pair.get(1).and_then(|v| v.as_string()).map(str::to_string))
                    .unwrap_or_else(|| self.udid.clone());
                wanted.push((id, text("URL"), text("Challenge"), cn));
            }
        }
        for (id, url, challenge, cn) in wanted {
            let key = openssl::rsa::Rsa::generate(2048).and_then(openssl::pkey::PKey::from_rsa).map_err(|e| SimError::Scep(e.to_string()))?;
            let enroller = super::scep::ScepEnroller::with_keys(&url, self.client.clone(), vec![key]).await?;
            let issued = enroller.identity(&cn, &challenge).await?;
            self.scep_identities.insert(id, issued);
        }
        Ok(())
    }

    /// Runs one connection loop like iOS after a push: Idle, then answer each command until the
    /// server has nothing more. Returns the commands handled in this loop.
    pub async fn connect(&mut self) -> Result<Vec<Handled>, SimError> {
        let mut idle = plist::Dictionary::new();
        idle.insert("Status".into(), plist::Value::String("Idle".into()));
        let mut next = self.timed_report(idle).await?;
        let mut handled = Vec::new();
        // Bounded: a server that kept sending forever would otherwise hang the simulator.
        for _ in 0..10_000 {
            let Some(cmd) = next else { break };
            let (h, mut result) = answer::answer(self, &cmd)?;
            if h.request_type == "InstallProfile" && h.status == "Acknowledged" {
                // iOS runs a profile's SCEP payloads while installing it; a failure fails the install.
                if let Err(e) = self.run_scep_payloads().await {
                    result.insert("Status".into(), plist::Value::String("Error".into()));
                    result.insert("ErrorChain".into(), answer::error_chain(22002, "MCSCEPErrorDomain", &e.to_string()));
                }
            }
            handled.push(h.clone());
            self.log.push(h);
            next = self.timed_report(result).await?;
        }
        Ok(handled)
    }
}
