//! `com.apple.app.lock`: Single App Mode, which keeps a supervised device in one app (a
//! patient-check-in kiosk, a bedside entertainment app).

use serde::{Deserialize, Serialize};

use super::webclip::check_bundle_id;
use super::PayloadKind;
use crate::issue::{key_path, Issue};

/// `com.apple.app.lock` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppLock {
    /// `App`: the app the device is locked to.
    #[serde(rename = "App")]
    pub app: LockedApp,
}

/// `App`: which app, and the device options while it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedApp {
    /// `Identifier`: the app's bundle identifier.
    #[serde(rename = "Identifier")]
    pub identifier: String,
    /// `Options`: settings the user can't change.
    #[serde(rename = "Options", default, skip_serializing_if = "Option::is_none")]
    pub options: Option<AppLockOptions>,
    /// `UserEnabledOptions`: accessibility features the user may toggle.
    #[serde(rename = "UserEnabledOptions", default, skip_serializing_if = "Option::is_none")]
    pub user_enabled_options: Option<UserEnabledOptions>,
}

/// `Options`: fixed settings while locked to the app. Every key defaults to false.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppLockOptions {
    /// `DisableTouch`: disable the touch screen.
    #[serde(rename = "DisableTouch", default, skip_serializing_if = "Option::is_none")]
    pub disable_touch: Option<bool>,
    /// `DisableDeviceRotation`: disable rotation sensing.
    #[serde(rename = "DisableDeviceRotation", default, skip_serializing_if = "Option::is_none")]
    pub disable_device_rotation: Option<bool>,
    /// `DisableVolumeButtons`: disable the volume buttons.
    #[serde(rename = "DisableVolumeButtons", default, skip_serializing_if = "Option::is_none")]
    pub disable_volume_buttons: Option<bool>,
    /// `DisableRingerSwitch`: disable the ringer switch (its position when disabled stays).
    #[serde(rename = "DisableRingerSwitch", default, skip_serializing_if = "Option::is_none")]
    pub disable_ringer_switch: Option<bool>,
    /// `DisableSleepWakeButton`: disable the sleep/wake button.
    #[serde(rename = "DisableSleepWakeButton", default, skip_serializing_if = "Option::is_none")]
    pub disable_sleep_wake_button: Option<bool>,
    /// `DisableAutoLock`: the device doesn't go to sleep when idle.
    #[serde(rename = "DisableAutoLock", default, skip_serializing_if = "Option::is_none")]
    pub disable_auto_lock: Option<bool>,
    /// `EnableVoiceOver`: turn VoiceOver on.
    #[serde(rename = "EnableVoiceOver", default, skip_serializing_if = "Option::is_none")]
    pub enable_voice_over: Option<bool>,
    /// `EnableZoom`: turn Zoom on.
    #[serde(rename = "EnableZoom", default, skip_serializing_if = "Option::is_none")]
    pub enable_zoom: Option<bool>,
    /// `EnableInvertColors`: turn Invert Colors on.
    #[serde(rename = "EnableInvertColors", default, skip_serializing_if = "Option::is_none")]
    pub enable_invert_colors: Option<bool>,
    /// `EnableAssistiveTouch`: turn AssistiveTouch on.
    #[serde(rename = "EnableAssistiveTouch", default, skip_serializing_if = "Option::is_none")]
    pub enable_assistive_touch: Option<bool>,
    /// `EnableSpeakSelection`: turn Speak Selection on.
    #[serde(rename = "EnableSpeakSelection", default, skip_serializing_if = "Option::is_none")]
    pub enable_speak_selection: Option<bool>,
    /// `EnableMonoAudio`: turn Mono Audio on.
    #[serde(rename = "EnableMonoAudio", default, skip_serializing_if = "Option::is_none")]
    pub enable_mono_audio: Option<bool>,
    /// `EnableVoiceControl`: turn Voice Control on.
    #[serde(rename = "EnableVoiceControl", default, skip_serializing_if = "Option::is_none")]
    pub enable_voice_control: Option<bool>,
}

/// `UserEnabledOptions`: accessibility features the user may toggle. Every key defaults to false.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserEnabledOptions {
    /// `VoiceControl`: the user may toggle Voice Control.
    #[serde(rename = "VoiceControl", default, skip_serializing_if = "Option::is_none")]
    pub voice_control: Option<bool>,
    /// `VoiceOver`: the user may toggle VoiceOver.
    #[serde(rename = "VoiceOver", default, skip_serializing_if = "Option::is_none")]
    pub voice_over: Option<bool>,
    /// `Zoom`: the user may toggle Zoom.
    #[serde(rename = "Zoom", default, skip_serializing_if = "Option::is_none")]
    pub zoom: Option<bool>,
    /// `InvertColors`: the user may toggle Invert Colors.
    #[serde(rename = "InvertColors", default, skip_serializing_if = "Option::is_none")]
    pub invert_colors: Option<bool>,
    /// `AssistiveTouch`: the user may toggle AssistiveTouch.
    #[serde(rename = "AssistiveTouch", default, skip_serializing_if = "Option::is_none")]
    pub assistive_touch: Option<bool>,
}

impl AppLock {
    /// Locks the device to `bundle_id` with Apple's default options (nothing disabled or
    /// forced on, no user toggles).
    pub fn kiosk(bundle_id: impl Into<String>) -> AppLock {
        AppLock { app: LockedApp { identifier: bundle_id.into(), options: None, user_enabled_options: None } }
    }

    /// Sets `App.Options`.
    pub fn with_options(mut self, options: AppLockOptions) -> AppLock {
        self.app.options = Some(options);
        self
    }

    /// Sets `App.UserEnabledOptions`.
    pub fn with_user_enabled_options(mut self, options: UserEnabledOptions) -> AppLock {
        self.app.user_enabled_options = Some(options);
        self
    }
}

impl PayloadKind for AppLock {
    const TYPE: &'static str = "com.apple.app.lock";

    fn check(&self, path: &str, out: &mut Vec<Issue>) {
        if let Err(e) = check_bundle_id(&self.app.identifier) {
            out.push(Issue::error(key_path(&key_path(path, "App"), "Identifier"), e));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kiosk_shape() {
        let lock = AppLock::kiosk("com.example.checkin")
            .with_options(AppLockOptions { disable_auto_lock: Some(true), ..AppLockOptions::default() })
            .with_user_enabled_options(UserEnabledOptions { zoom: Some(true), ..UserEnabledOptions::default() });
        let v = plist::to_value(&lock).unwrap();
        let app = v.as_dictionary().unwrap()["App"].as_dictionary().unwrap();
        assert_eq!(app["Identifier"], "com.example.checkin".into());
        assert_eq!(app["Options"].as_dictionary().unwrap()["DisableAutoLock"], true.into());
        assert_eq!(app["UserEnabledOptions"].as_dictionary().unwrap()["Zoom"], true.into());
        assert_eq!(plist::from_value::<AppLock>(&v).unwrap(), lock);
        let mut out = Vec::new();
        AppLock::kiosk("").check("P", &mut out);
        assert_eq!(out[0].path, "P.App.Identifier");
    }
}
