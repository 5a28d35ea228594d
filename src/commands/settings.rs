//! The `Settings` command: an array of setting dictionaries, each named by its `Item` key
//! (`{"Item": "DeviceName", "DeviceName": "Kiosk 4"}`). Every item Apple documents is typed here;
//! an unknown `Item` is refused with the list of known ones.

use serde::{Deserialize, Serialize};

use super::convert::{encode, ranged_int, Data, PlistDict, Text};
use super::{de, CommandError};

/// `{"Enabled": bool}`: DataRoaming, VoiceRoaming, PersonalHotspot, Bluetooth,
/// DiagnosticSubmission, AppAnalytics.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct Enabled {
    /// Turn the setting on or off.
    pub enabled: bool,
}

/// `DeviceName` item (supervised iOS, macOS).
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct DeviceName {
    /// The new device name.
    pub device_name: Text,
}

/// `HostName` item (macOS).
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct HostName {
    /// The new host name.
    pub host_name: Text,
}

/// `TimeZone` item (supervised iOS 14+, tvOS 14+).
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct TimeZone {
    /// IANA time zone name, e.g. `Europe/Paris`.
    pub time_zone: Text,
}

ranged_int!(
    /// Where a wallpaper goes: 1 lock screen, 2 home screen, 3 both.
    WallpaperWhere, [1, 2, 3], "1 (lock screen), 2 (home screen) or 3 (both)"
);

/// `Wallpaper` item (supervised iOS 8+).
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct Wallpaper {
    /// PNG or JPEG image, base64.
    pub image: Data,
    /// Which screens.
    #[serde(rename = "Where")]
    pub location: WallpaperWhere,
}

/// `ApplicationConfiguration` item: managed app configuration, any plist dictionary.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct ApplicationConfiguration {
    /// Bundle identifier of the managed app.
    pub identifier: Text,
    /// The configuration; omitted removes the existing one. JSON integers become `<integer>`,
    /// other numbers `<real>`.
    pub configuration: Option<PlistDict>,
}

/// `ApplicationAttributes.Attributes`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct AppAttributes {
    /// Per-app VPN UUID.
    #[serde(rename = "VPNUUID")]
    pub vpn_uuid: Option<String>,
    /// Content filter UUID.
    #[serde(rename = "ContentFilterUUID")]
    pub content_filter_uuid: Option<String>,
    /// DNS proxy UUID.
    #[serde(rename = "DNSProxyUUID")]
    pub dns_proxy_uuid: Option<String>,
    /// Relay UUID.
    #[serde(rename = "RelayUUID")]
    pub relay_uuid: Option<String>,
    /// Associated domains.
    pub associated_domains: Option<Vec<Text>>,
    /// Download associated-domain data directly rather than through Apple's CDN.
    pub associated_domains_enable_direct_downloads: Option<bool>,
    /// Whether the user may remove the app.
    pub removable: Option<bool>,
    /// Require the screen lock for Tap to Pay.
    pub tap_to_pay_screen_lock: Option<bool>,
    /// Cellular slice UUID.
    #[serde(rename = "CellularSliceUUID")]
    pub cellular_slice_uuid: Option<String>,
    /// Whether the user may hide the app.
    pub hideable: Option<bool>,
    /// Whether the user may lock the app.
    pub lockable: Option<bool>,
}

/// `ApplicationAttributes` item.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct ApplicationAttributes {
    /// Bundle identifier of the managed app.
    pub identifier: Text,
    /// The attributes; omitted removes them.
    pub attributes: Option<AppAttributes>,
}

/// `OrganizationInfo.OrganizationInfo`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct Organization {
    /// Organization name.
    pub organization_name: Text,
    /// Short name.
    pub organization_short_name: Option<String>,
    /// Postal address.
    pub organization_address: Option<String>,
    /// Support phone number.
    pub organization_phone: Option<String>,
    /// Support email address.
    pub organization_email: Option<String>,
    /// Identifier shared by the organization's services.
    pub organization_magic: Option<String>,
}

/// `OrganizationInfo` item.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct OrganizationInfo {
    /// The organization; omitted clears it.
    pub organization_info: Option<Organization>,
}

/// `MDMOptions.MDMOptions`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct MdmOptionValues {
    /// Register with Activation Lock when the user turns on Find My (supervised).
    pub activation_lock_allowed_while_supervised: Option<bool>,
    /// The server supports Bootstrap Token commands (macOS 10.15, deprecated).
    pub bootstrap_token_allowed: Option<bool>,
    /// Warn the user to allow the Bootstrap Token for authentication (Apple silicon macOS 11+).
    pub prompt_user_to_allow_bootstrap_token_for_authentication: Option<bool>,
}

/// `MDMOptions` item.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MdmOptions {
    /// The options.
    #[serde(rename = "MDMOptions")]
    pub options: MdmOptionValues,
}

/// `MaximumResidentUsers` item (Shared iPad, deprecated).
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct MaximumResidentUsers {
    /// Most users the Shared iPad keeps.
    pub maximum_resident_users: i64,
}

ranged_int!(
    /// Passcode grace period in seconds, one of Apple's fixed choices.
    GracePeriod, [0, 60, 300, 900, 3600, 14400], "0, 60, 300, 900, 3600 or 14400 (seconds)"
);

/// `PasscodeLockGracePeriod` item (Shared iPad).
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct PasscodeLockGracePeriod {
    /// Seconds.
    pub passcode_lock_grace_period: GracePeriod,
}

/// `SharedDeviceConfiguration.AwaitUserConfiguration`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct AwaitUserConfiguration {
    /// Hold new users at Setup until the server sends UserConfigured.
    pub enabled: bool,
}

/// `SharedDeviceConfiguration.PasscodePolicy`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct PasscodePolicy {
    /// Seconds before the passcode is needed after locking.
    pub passcode_lock_grace_period: Option<GracePeriod>,
    /// Seconds before auto-lock.
    pub auto_lock_time: Option<i64>,
}

/// `SharedDeviceConfiguration` item (Shared iPad).
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct SharedDeviceConfiguration {
    /// Per-user storage quota in MB.
    pub quota_size: Option<i64>,
    /// Expected number of users.
    pub resident_users: Option<i64>,
    /// Seconds of inactivity before a user session ends.
    pub user_session_timeout: Option<i64>,
    /// Seconds of inactivity before a temporary session ends.
    pub temporary_session_timeout: Option<i64>,
    /// Only allow temporary sessions.
    pub temporary_session_only: Option<bool>,
    /// Domains offered when users sign in with a Managed Apple ID.
    #[serde(rename = "ManagedAppleIDDefaultDomains")]
    pub managed_apple_id_default_domains: Option<Vec<Text>>,
    /// Days between online authentications.
    pub online_authentication_grace_period: Option<i64>,
    /// Skip language and locale panes for new users.
    pub skip_language_and_locale_setup_for_new_users: Option<bool>,
    /// Hold new users until UserConfigured.
    pub await_user_configuration: Option<AwaitUserConfiguration>,
    /// Passcode policy for users.
    pub passcode_policy: Option<PasscodePolicy>,
}

ranged_int!(
    /// Software update recommendation cadence: 0 all, 1 lowest version, 2 highest version.
    Cadence, [0, 1, 2], "0 (all updates), 1 (lowest version) or 2 (highest version)"
);

/// `SoftwareUpdateSettings` item.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct SoftwareUpdateSettings {
    /// Which updates to offer.
    pub recommendation_cadence: Cadence,
}

ranged_int!(
    /// Text size step, 0 (smallest) to 11 (largest).
    TextSize, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], "an integer from 0 to 11"
);

/// `AccessibilitySettings` item.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct AccessibilitySettings {
    /// Bold text.
    pub bold_text_enabled: Option<bool>,
    /// Increase contrast.
    pub increase_contrast_enabled: Option<bool>,
    /// Reduce motion.
    pub reduce_motion_enabled: Option<bool>,
    /// Reduce transparency.
    pub reduce_transparency_enabled: Option<bool>,
    /// Text size.
    pub text_size: Option<TextSize>,
    /// Touch accommodations.
    pub touch_accommodations_enabled: Option<bool>,
    /// VoiceOver.
    pub voice_over_enabled: Option<bool>,
    /// Zoom.
    pub zoom_enabled: Option<bool>,
    /// Grayscale display.
    pub grayscale_enabled: Option<bool>,
}

/// One list of setting items and their types: the tagged enum, its parser and the names.
macro_rules! settings {
    ($($item:ident($ty:ty)),+ $(,)?) => {
        /// A setting item; serializes with its `Item` key first.
        #[derive(Debug, Serialize)]
        #[serde(tag = "Item")]
        pub(crate) enum SettingItem {
            $(
                #[doc = concat!("`", stringify!($item), "`.")]
                $item($ty),
            )+
        }

        /// The `Item` names this module knows.
        pub(crate) const ITEMS: &[&str] = &[$(stringify!($item)),+];

        /// Parses the rest of an item (without `Item`) sitting at `path`.
        fn parse_item(item: &str, rest: &serde_json::Value, path: &str) -> Option<Result<SettingItem, CommandError>> {
            match item {
                $(stringify!($item) => Some(de::from_value(rest, path).map(SettingItem::$item)),)+
                _ => None,
            }
        }
    };
}

settings! {
    DeviceName(DeviceName),
    HostName(HostName),
    TimeZone(TimeZone),
    Bluetooth(Enabled),
    DataRoaming(Enabled),
    VoiceRoaming(Enabled),
    PersonalHotspot(Enabled),
    DiagnosticSubmission(Enabled),
    AppAnalytics(Enabled),
    Wallpaper(Wallpaper),
    ApplicationConfiguration(ApplicationConfiguration),
    ApplicationAttributes(ApplicationAttributes),
    OrganizationInfo(OrganizationInfo),
    MDMOptions(MdmOptions),
    MaximumResidentUsers(MaximumResidentUsers),
    PasscodeLockGracePeriod(PasscodeLockGracePeriod),
    SharedDeviceConfiguration(SharedDeviceConfiguration),
    SoftwareUpdateSettings(SoftwareUpdateSettings),
    AccessibilitySettings(AccessibilitySettings),
}

/// The admin's `Settings` payload; items are parsed one by one by their `Item`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct SettingsPayload {
    settings: Vec<serde_json::Value>,
}

/// The command's keys.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct SettingsCommand {
    settings: Vec<SettingItem>,
}

/// Builds `Settings`: each item is checked against the type its `Item` names.
pub(crate) fn build(payload: &serde_json::Value) -> Result<plist::Dictionary, CommandError> {
    let p: SettingsPayload = de::from_value(payload, "")?;
    if p.settings.is_empty() {
        return Err(CommandError::invalid("Settings", "must contain at least one setting"));
    }
    let mut settings = Vec::with_capacity(p.settings.len());
    for (i, raw) in p.settings.iter().enumerate() {
        let path = de::join_index("Settings", i);
        let mut rest = de::object(raw, &path)?.clone();
        let item_path = de::join_key(&path, "Item");
        let item = match rest.remove("Item") {
            Some(serde_json::Value::String(s)) => s,
            Some(other) => return Err(CommandError::invalid(item_path, format!("expected a string, found {}", de::describe(&other)))),
            None => return Err(CommandError::invalid(path, format!("missing field `Item`; one of: {}", ITEMS.join(", ")))),
        };
        match parse_item(&item, &serde_json::Value::Object(rest), &path) {
            Some(parsed) => settings.push(parsed?),
            None => return Err(CommandError::invalid(item_path, format!("unknown setting `{item}`; supported settings: {}", ITEMS.join(", ")))),
        }
    }
    encode(&SettingsCommand { settings })
}
