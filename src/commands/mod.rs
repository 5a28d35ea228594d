//! Typed builders for Apple MDM commands, behind the admin API `POST /v1/commands`
//! (`{"request_type": "DeviceInformation", "targets": [...], "payload": {...}}`).
//!
//! Each supported request type has a serde struct for its JSON payload, spelled exactly as
//! Apple's keys (`Queries`, `ManagedOnly`, `PIN`, ...) and refusing unknown keys. [`build`]
//! parses the payload and turns it into the `Command` dictionary with the right plist types:
//! strings as `<string>`, integers as `<integer>`, booleans as `<true/>`/`<false/>`, binary data
//! (base64 strings in JSON) as `<data>`, and nested arrays and dictionaries. Errors name the
//! place in the payload (`Queries[2]`, `Settings[0].DeviceName`) so they can go back to the admin
//! as a 400. Raw plist commands do not come through here; they have their own endpoint.
//!
//! The tests check every builder's output against Apple's published schema
//! (`shared/apple-device-management/mdm/commands/*.yaml`).

mod convert;
mod de;
mod device;
mod info;
mod profiles;
mod settings;

#[cfg(test)]
pub(crate) mod schema;
#[cfg(test)]
mod tests;

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use convert::json_to_plist;
pub use info::DEFAULT_DEVICE_INFORMATION_QUERIES;

/// Why a command could not be built from an admin's request. Every variant is the admin's
/// doing except [`CommandError::Encode`], and the messages are written to be shown to them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// `request_type` is not one [`build`] knows.
    #[error("unknown request type `{0}`; supported request types: {list}", list = supported().join(", "))]
    UnknownRequestType(String),
    /// The payload does not fit the command: an unknown or missing key, a wrong type, a value
    /// out of range.
    #[error("invalid payload{}: {reason}", at(path))]
    InvalidPayload {
        /// Where in the payload, e.g. `Queries[2]` or `Settings[0].DeviceName`; empty for the
        /// payload as a whole.
        path: String,
        /// What is wrong there.
        reason: String,
    },
    /// The command could not be encoded as a plist (a bug rather than a bad request).
    #[error("could not encode the command as a plist: {0}")]
    Encode(String),
}

fn at(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" at `{path}`")
    }
}

impl CommandError {
    /// An [`CommandError::InvalidPayload`] at `path`.
    pub(crate) fn invalid(path: impl Into<String>, reason: impl Into<String>) -> Self {
        CommandError::InvalidPayload { path: path.into(), reason: reason.into() }
    }
}

/// A builder: the JSON payload in, the command's keys (without `RequestType`) out.
type Builder = fn(&serde_json::Value) -> Result<plist::Dictionary, CommandError>;

/// Parses a payload into `T` and encodes it unchanged: for commands without cross-key rules.
fn typed<T: DeserializeOwned + Serialize>(payload: &serde_json::Value) -> Result<plist::Dictionary, CommandError> {
    convert::encode(&de::from_value::<T>(payload, "")?)
}

/// One list of request types and their builders, so `supported()` and `build` cannot disagree.
macro_rules! commands {
    ($($name:literal => $builder:expr),+ $(,)?) => {
        const SUPPORTED: &[&str] = &[$($name),+];

        fn builder(request_type: &str) -> Option<Builder> {
            match request_type {
                $($name => Some($builder as Builder),)+
                _ => None,
            }
        }
    };
}

commands! {
    "DeviceInformation" => info::device_information,
    "SecurityInfo" => typed::<info::NoKeys>,
    "ProfileList" => typed::<info::ManagedOnly>,
    "CertificateList" => typed::<info::ManagedOnly>,
    "ProvisioningProfileList" => typed::<info::ManagedOnly>,
    "InstalledApplicationList" => typed::<info::InstalledApplicationList>,
    "ManagedApplicationList" => typed::<info::ManagedApplicationList>,
    "Restrictions" => typed::<info::Restrictions>,
    "AvailableOSUpdates" => typed::<info::NoKeys>,
    "DeviceConfigured" => typed::<info::NoKeys>,
    "InstallProfile" => profiles::install_profile,
    "RemoveProfile" => typed::<profiles::RemoveProfile>,
    "DeviceLock" => typed::<device::DeviceLock>,
    "EraseDevice" => typed::<device::EraseDevice>,
    "RestartDevice" => typed::<device::RestartDevice>,
    "ShutDownDevice" => typed::<info::NoKeys>,
    "ClearPasscode" => device::clear_passcode,
    "Settings" => settings::build,
}

/// Builds the `Command` dictionary (`RequestType` first, then the command's keys) from an
/// admin's JSON payload. A `null` payload counts as `{}`, and a `null` optional key as absent.
/// Keys use Apple's spelling; unknown keys, missing required keys, wrong types and values
/// outside Apple's documented ranges are refused with the path of the offending value. `ClearPasscode` comes back without its
/// `UnlockToken`: see [`needs_unlock_token`].
pub fn build(request_type: &str, payload: &serde_json::Value) -> Result<plist::Dictionary, CommandError> {
    let Some(build_keys) = builder(request_type) else {
        return Err(CommandError::UnknownRequestType(request_type.to_string()));
    };
    let empty = serde_json::Value::Object(serde_json::Map::new());
    let payload = if payload.is_null() { &empty } else { payload };
    let keys = build_keys(payload)?;
    let mut command = plist::Dictionary::new();
    command.insert("RequestType".into(), plist::Value::String(request_type.to_string()));
    for (k, v) in keys {
        command.insert(k, v);
    }
    Ok(command)
}

/// True when the command needs per-enrollment data filled in at enqueue time: `ClearPasscode`
/// needs the enrollment's escrowed `UnlockToken` as `<data>`, so the caller builds it once and
/// calls [`with_unlock_token`] on a copy for each target.
pub fn needs_unlock_token(request_type: &str) -> bool {
    UNLOCK_TOKEN_TYPES.contains(&request_type)
}

/// The request types that carry the device's UnlockToken (their bodies are sealed at rest).
pub const UNLOCK_TOKEN_TYPES: &[&str] = &["ClearPasscode"];

/// Puts an enrollment's `UnlockToken` into a command built by [`build`] (as `<data>`).
pub fn with_unlock_token(command: &mut plist::Dictionary, token: &[u8]) {
    command.insert("UnlockToken".into(), plist::Value::Data(token.to_vec()));
}

/// The request types [`build`] knows, in Apple's spelling.
pub fn supported() -> &'static [&'static str] {
    SUPPORTED
}
