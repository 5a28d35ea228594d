//! Over-the-air enrollment as an iPhone does it: Safari opens the enrollment page (token link or
//! login form) and downloads the profile-service profile; the device POSTs its attributes signed
//! with its device identity (phase 2), installs the returned SCEP payload's identity, POSTs
//! again signed with it (phase 3), decrypts the enrollment profile, obtains its MDM identity over
//! SCEP and runs Authenticate + TokenUpdate against the MDM payload's URLs.
//!
//! Real devices sign phase 2 with a certificate from Apple's iPhone Device CA; simulated ones
//! use a certificate from the enroller's own device CA, which the server must trust
//! (`enroll.device_ca_certs`) or not check (`enroll.device_trust = "any"`).

use std::sync::Arc;

use mdm_profiles::profile_service::{DeviceAttributes, ProfileServicePayload};
use openssl::x509::X509;
use tokio::sync::OnceCell;

use super::device::SimDevice;
use super::scep::ScepEnroller;
use super::transport::{Endpoint, Transport};
use super::SimError;
use mdm_pki::{Ca, Issued};

/// How the person gets past the enrollment page.
#[derive(Debug, Clone)]
pub enum Login {
    /// An enrollment token link.
    Token(String),
    /// The login form.
    Password {
        /// Username.
        username: String,
        /// Password.
        password: String,
    },
}

/// What one over-the-air enrollment went through, for inspection by tests.
pub struct OtaEnrollment {
    /// The enrolled device (Authenticate and TokenUpdate done).
    pub device: SimDevice,
    /// The phase-1 profile as served (signed).
    pub phase1: Vec<u8>,
    /// The phase-2 profile as served (signed).
    pub phase2: Vec<u8>,
    /// The phase-3 profile as served (signed, payloads encrypted).
    pub phase3: Vec<u8>,
    /// The phase-3 profile decrypted.
    pub enrollment_profile: plist::Dictionary,
    /// The identity from phase 2 (signed phase 3).
    pub enrollment_identity: Issued,
}

impl std::fmt::Debug for OtaEnrollment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtaEnrollment").field("device", &self.device).finish()
    }
}

/// Enrolls simulated devices over the air against one server.
pub struct OtaEnroller {
    base_url: String,
    server_ca_pem: Option<Vec<u8>>,
    http: reqwest::Client,
    device_ca: Ca,
    scep: OnceCell<Arc<ScepEnroller>>,
    device_http: OnceCell<reqwest::Client>,
    /// Send AwaitingConfiguration in the first TokenUpdate (as a device in Setup Assistant).
    pub awaiting_configuration: bool,
}

impl std::fmt::Debug for OtaEnroller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtaEnroller").field("base_url", &self.base_url).finish()
    }
}

fn fail(step: &str, why: impl std::fmt::Display) -> SimError {
    SimError::BadCommand(format!("enrollment {step}: {why}"))
}

/// Reads a served profile as iOS does: the signature must verify; encrypted payloads are
/// decrypted with `identity`.
fn open_profile(bytes: &[u8], identity: Option<&Issued>, step: &str) -> Result<plist::Dictionary, SimError> {
    super::answer::open_profile(bytes, identity).map(|o| o.dict).map_err(|e| fail(step, e))
}

/// The payloads of a profile with the given type.
fn payloads<'a>(profile: &'a plist::Dictionary, payload_type: &'a str) -> impl Iterator<Item = &'a plist::Dictionary> + 'a {
    profile
        .get("PayloadContent")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_dictionary())
        .filter(move |p| p.get("PayloadType").and_then(|t| t.as_string()) == Some(payload_type))
}

fn text<'a>(d: &'a plist::Dictionary, key: &str) -> Option<&'a str> {
    d.get(key).and_then(|v| v.as_string())
}

/// `(base URL, path)` of an absolute URL.
fn split_url(url: &str) -> Result<(String, String), SimError> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| fail("MDM payload", format!("{url} is not an absolute URL")))?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    Ok((format!("{scheme}://{host}"), path.to_string()))
}

/// The `href` of the first link to `/enroll/profile` in a page.
fn profile_link(html: &str) -> Option<String> {
    let at = html.find("href=\"/enroll/profile")?;
    let rest = &html[at + 6..];
    let end = rest.find('"')?;
    Some(rest[..end].replace("&amp;", "&"))
}

impl OtaEnroller {
    /// An enroller for the server at `base_url` (trusting `server_ca_pem` for TLS), whose
    /// simulated devices carry identities from `device_ca`.
    pub fn new(base_url: &str, server_ca_pem: Option<Vec<u8>>, device_ca: Ca) -> Result<OtaEnroller, SimError> {
        let mut b = reqwest::Client::builder().use_rustls_tls().timeout(std::time::Duration::from_secs(60)).pool_max_idle_per_host(64);
        if let Some(pem) = &server_ca_pem {
            b = b.add_root_certificate(reqwest::Certificate::from_pem(pem)?);
        }
        Ok(OtaEnroller {
            base_url: base_url.trim_end_matches('/').to_string(),
            server_ca_pem,
            http: b.build()?,
            device_ca,
            scep: OnceCell::new(),
            device_http: OnceCell::new(),
            awaiting_configuration: false,
        })
    }

    async fn fetch_profile(&self, req: reqwest::RequestBuilder, step: &str) -> Result<Vec<u8>, SimError> {
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let ctype = resp.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let body = resp.bytes().await?.to_vec();
        if status != 200 {
            return Err(SimError::Status { status, body: String::from_utf8_lossy(&body).trim().to_string() });
        }
        if ctype != mdm_profiles::profile_service::PROFILE_CONTENT_TYPE {
            return Err(fail(step, format!("expected {}, got {ctype:?}", mdm_profiles::profile_service::PROFILE_CONTENT_TYPE)));
        }
        Ok(body)
    }

    /// Phase 1 in Safari: the page, then the profile-service profile.
    pub async fn phase1(&self, login: &Login) -> Result<Vec<u8>, SimError> {
        let page = format!("{}/enroll", self.base_url);
        match login {
            Login::Token(t) => {
                let resp = self.http.get(&page).query(&[("token", t)]).send().await?;
                let status = resp.status().as_u16();
                let html = resp.text().await?;
                if status != 200 {
                    return Err(SimError::Status { status, body: html });
                }
                let link = profile_link(&html).ok_or_else(|| fail("page", "no install link on the token page"))?;
                self.fetch_profile(self.http.get(format!("{}{link}", self.base_url)), "phase 1").await
            }
            Login::Password { username, password } => {
                let form = self.http.get(&page).send().await?;
                if !form.status().is_success() {
                    return Err(fail("page", format!("GET /enroll answered {}", form.status())));
                }
                let req = self.http.post(&page).form(&[("username", username.as_str()), ("password", password.as_str())]);
                self.fetch_profile(req, "phase 1").await
            }
        }
    }

    async fn post_attributes(&self, url: &str, attrs: &DeviceAttributes, signer: &Issued, chain: &[X509], step: &str) -> Result<Vec<u8>, SimError> {
        let body = mdm_profiles::attributes::sign(attrs, &signer.cert, &signer.key, chain).map_err(|e| fail(step, e))?;
        let req = self.http.post(url).header(reqwest::header::CONTENT_TYPE, "application/pkcs7-signature").body(body);
        self.fetch_profile(req, step).await
    }

    async fn scep_identity(&self, payload: &plist::Dictionary, step: &str) -> Result<Issued, SimError> {
        let content = payload.get("PayloadContent").and_then(|v| v.as_dictionary()).ok_or_else(|| fail(step, "SCEP payload without PayloadContent"))?;
        let url = text(content, "URL").ok_or_else(|| fail(step, "SCEP payload without URL"))?;
        let challenge = text(content, "Challenge").ok_or_else(|| fail(step, "SCEP payload without Challenge"))?;
        let cn = content
            .get("Subject")
            .and_then(|s| s.as_array())
            .into_iter()
            .flatten()
            .filter_map(|rdn| rdn.as_array()?.first()?.as_array().cloned())
            .find(|pair| pair.first().and_then(|k| k.as_string()) == Some("CN"))
            .and_then(|pair| pair.get(1).and_then(|v| v.as_string()).map(str::to_string))
            .unwrap_or_else(|| "device".into());
        let enroller = self.scep.get_or_try_init(|| async { ScepEnroller::new(url, self.http.clone()).await.map(Arc::new) }).await?;
        enroller.identity(&cn, challenge).await
    }

    /// Runs the whole flow for simulated device number `index`.
    pub async fn enroll(&self, index: usize, login: &Login) -> Result<OtaEnrollment, SimError> {
        self.enroll_as(super::device::new_udid(index), login).await
    }

    /// Runs the whole flow for a device with this UDID (a wiped device enrolling again keeps it;
    /// its device identity, from the device CA, attests it in phase 2).
    pub async fn enroll_as(&self, udid: String, login: &Login) -> Result<OtaEnrollment, SimError> {
        let phase1 = self.phase1(login).await?;
        let service = ProfileServicePayload::from_dict(&open_profile(&phase1, None, "phase 1")?).map_err(|e| fail("phase 1", e))?;

        // The device as it will present itself; attributes it was not asked for stay out.
        let device_identity = self.device_ca.issue_device(&udid)?;
        let placeholder = SimDevice::with_identity(
            udid.clone(),
            device_identity.clone(),
            Arc::new(Endpoint::new(&self.base_url, Transport::Signature, None, "")),
            &self.http,
        )?;
        let wanted = |k: &str| service.device_attributes.iter().any(|a| a == k);
        let pick = |k: &str, v: &str| wanted(k).then(|| v.to_string());
        let attrs = DeviceAttributes {
            udid: udid.clone(),
            version: pick("VERSION", &placeholder.build_version),
            product: pick("PRODUCT", &placeholder.product_name),
            serial: pick("SERIAL", &placeholder.serial),
            imei: pick("IMEI", &placeholder.imei),
            meid: None,
            device_name: pick("DEVICE_NAME", &placeholder.device_name),
            challenge: service.challenge.clone(),
        };

        let phase2 = self.post_attributes(&service.url, &attrs, &device_identity, std::slice::from_ref(&self.device_ca.cert), "phase 2").await?;
        let identity_profile = open_profile(&phase2, None, "phase 2")?;
        let scep = payloads(&identity_profile, "com.apple.security.scep").next().ok_or_else(|| fail("phase 2", "no SCEP payload"))?;
        let enrollment_identity = self.scep_identity(scep, "phase 2").await?;

        let phase3 = self.post_attributes(&service.url, &attrs, &enrollment_identity, &[], "phase 3").await?;
        let profile = open_profile(&phase3, Some(&enrollment_identity), "phase 3")?;
        let mdm = payloads(&profile, "com.apple.mdm").next().ok_or_else(|| fail("phase 3", "no MDM payload"))?;
        let identity_uuid = text(mdm, "IdentityCertificateUUID").ok_or_else(|| fail("phase 3", "MDM payload without IdentityCertificateUUID"))?;
        let identity_payload = payloads(&profile, "com.apple.security.scep")
            .find(|p| text(p, "PayloadUUID") == Some(identity_uuid))
            .ok_or_else(|| fail("phase 3", "the MDM payload's identity is not in the profile"))?;
        let mdm_identity = self.scep_identity(identity_payload, "phase 3").await?;

        let server_url = text(mdm, "ServerURL").ok_or_else(|| fail("phase 3", "MDM payload without ServerURL"))?;
        let checkin_url = text(mdm, "CheckInURL").unwrap_or(server_url);
        let topic = text(mdm, "Topic").ok_or_else(|| fail("phase 3", "MDM payload without Topic"))?;
        let sign = mdm.get("SignMessage").and_then(|v| v.as_boolean()).unwrap_or(false);
        // The device trusts the server through the profile's root payloads.
        let root_pem = payloads(&profile, "com.apple.security.root")
            .filter_map(|p| p.get("PayloadContent").and_then(|v| v.as_data()))
            .filter_map(|der| X509::from_der(der).ok()?.to_pem().ok())
            .next()
            .or_else(|| self.server_ca_pem.clone());
        let (base, connect_path) = split_url(server_url)?;
        let (_, checkin_path) = split_url(checkin_url)?;
        let mut endpoint = Endpoint::new(base, if sign { Transport::Signature } else { Transport::Mtls }, root_pem, topic);
        endpoint.connect_path = connect_path;
        endpoint.checkin_path = checkin_path;
        let endpoint = Arc::new(endpoint);
        let shared = self.device_http.get_or_try_init(|| async { endpoint.client(None) }).await?;
        let mut device = SimDevice::with_identity(udid, mdm_identity, endpoint, shared)?;
        device.serial = placeholder.serial.clone();
        device.device_name = placeholder.device_name.clone();
        device.imei = placeholder.imei.clone();
        device.awaiting_configuration = self.awaiting_configuration;
        device.enroll().await?;
        Ok(OtaEnrollment { device, phase1, phase2, phase3, enrollment_profile: profile, enrollment_identity })
    }
}

impl OtaEnroller {
    /// Enrolls `n` devices over the air, `concurrency` at a time; the enrolled ones form the
    /// fleet, the stats count successes and failures.
    pub async fn enroll_fleet(&self, n: usize, concurrency: usize, login: &Login) -> (super::Fleet, super::FleetStats) {
        use futures::StreamExt;
        let start = std::time::Instant::now();
        let results: Vec<Result<OtaEnrollment, SimError>> =
            futures::stream::iter(0..n).map(|i| self.enroll(i, login)).buffer_unordered(concurrency.max(1)).collect().await;
        let mut stats = super::FleetStats::default();
        let mut devices = Vec::new();
        for r in results {
            match r {
                Ok(e) => {
                    stats.ok += 1;
                    devices.push(e.device);
                }
                Err(e) => {
                    stats.errors += 1;
                    stats.first_error.get_or_insert_with(|| e.to_string());
                }
            }
        }
        stats.elapsed = start.elapsed();
        (super::Fleet { devices }, stats)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_and_links() {
        assert_eq!(super::split_url("https://h:8443/mdm/connect").unwrap(), ("https://h:8443".into(), "/mdm/connect".into()));
        assert_eq!(super::split_url("https://h").unwrap(), ("https://h".into(), "/".into()));
        assert!(super::split_url("nope").is_err());
        assert_eq!(super::profile_link("<a class=\"b\" href=\"/enroll/profile?token=a%2Db\">x</a>").as_deref(), Some("/enroll/profile?token=a%2Db"));
        assert_eq!(super::profile_link("<p>none</p>"), None);
    }
}
