//! A locker or charging-cart app on a shared device: it reads the server URL, its kiosk token
//! and the device id from its managed configuration (AppConfig) and checks the device out and in
//! through the kiosk API, as an Imprivata-style locker does.

use super::device::SimDevice;
use super::SimError;

/// AppConfig key of the server's base URL.
pub const SERVER_URL_KEY: &str = "ServerURL";
/// AppConfig key of the kiosk token (`{KioskToken}`).
pub const TOKEN_KEY: &str = "KioskToken";
/// AppConfig key of the device id the app reports (`{DeviceSerialNumber}`); the UDID without it.
pub const DEVICE_KEY: &str = "DeviceID";

/// The locker app, installed under `bundle_id`.
#[derive(Debug, Clone)]
pub struct LockerApp {
    /// Its bundle identifier.
    pub bundle_id: String,
}

/// The server's answer.
#[derive(Debug, Clone)]
pub struct KioskAnswer {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: serde_json::Value,
}

impl LockerApp {
    /// The app as `bundle_id`.
    pub fn new(bundle_id: &str) -> LockerApp {
        LockerApp { bundle_id: bundle_id.to_string() }
    }

    /// The kiosk token the app was configured with.
    pub fn token(&self, dev: &SimDevice) -> Option<String> {
        self.value(dev, TOKEN_KEY)
    }

    fn value(&self, dev: &SimDevice, key: &str) -> Option<String> {
        dev.app(&self.bundle_id)?.configuration.as_ref()?.get(key)?.as_string().map(str::to_string)
    }

    async fn call(&self, dev: &SimDevice, path: &str, body: serde_json::Value, token: Option<String>) -> Result<KioskAnswer, SimError> {
        let base =
            self.value(dev, SERVER_URL_KEY).ok_or_else(|| SimError::BadCommand(format!("{} has no {SERVER_URL_KEY} in its configuration", self.bundle_id)))?;
        let token =
            token.or_else(|| self.token(dev)).ok_or_else(|| SimError::BadCommand(format!("{} has no {TOKEN_KEY} in its configuration", self.bundle_id)))?;
        let r = dev.http().post(format!("{}{path}", base.trim_end_matches('/'))).bearer_auth(token).json(&body).send().await?;
        let status = r.status().as_u16();
        let body = r.json().await.unwrap_or(serde_json::Value::Null);
        Ok(KioskAnswer { status, body })
    }

    fn device_id(&self, dev: &SimDevice) -> String {
        self.value(dev, DEVICE_KEY).unwrap_or_else(|| dev.udid.clone())
    }

    /// The person badges in: the device is checked out to `user`.
    pub async fn checkout(&self, dev: &SimDevice, user: &str) -> Result<KioskAnswer, SimError> {
        self.call(dev, "/v1/shared/checkout", serde_json::json!({"device": self.device_id(dev), "user": user}), None).await
    }

    /// The device goes back in the locker: checked in.
    pub async fn checkin(&self, dev: &SimDevice) -> Result<KioskAnswer, SimError> {
        self.call(dev, "/v1/shared/checkin", serde_json::json!({"device": self.device_id(dev)}), None).await
    }

    /// A check-out with another token (a forged or rotated one, another device's), as an
    /// attacker or a stale app would send it.
    pub async fn checkout_as(&self, dev: &SimDevice, token: &str, device: &str, user: &str) -> Result<KioskAnswer, SimError> {
        self.call(dev, "/v1/shared/checkout", serde_json::json!({"device": device, "user": user}), Some(token.to_string())).await
    }
}
