//! The clinical preset and the checks the schema cannot express.

use super::*;

impl Restrictions {
    /// A starting point for shared clinical iPhones and iPads: no personal iCloud data, no
    /// AirDrop, no unmanaged-to-managed data flow, no account or passcode changes, no erasing,
    /// encrypted backups, automatic time, and no App Store browsing (apps come from MDM).
    /// Most of these keys need a supervised device.
    pub fn shared_clinical_device() -> Restrictions {
        Restrictions {
            allow_air_drop: Some(false),
            allow_account_modification: Some(false),
            allow_cloud_backup: Some(false),
            allow_cloud_document_sync: Some(false),
            allow_cloud_keychain_sync: Some(false),
            allow_cloud_photo_library: Some(false),
            allow_managed_apps_cloud_sync: Some(false),
            allow_open_from_managed_to_unmanaged: Some(false),
            allow_erase_content_and_settings: Some(false),
            allow_passcode_modification: Some(false),
            allow_ui_app_installation: Some(false),
            allow_in_app_purchases: Some(false),
            allow_ui_configuration_profile_installation: Some(false),
            allow_explicit_content: Some(false),
            allow_vpn_creation: Some(false),
            allow_find_my_device: Some(false),
            allow_host_pairing: Some(false),
            force_encrypted_backup: Some(true),
            force_automatic_date_and_time: Some(true),
            force_air_drop_unmanaged: Some(true),
            ..Restrictions::default()
        }
    }
}

impl PayloadKind for Restrictions {
    const TYPE: &'static str = "com.apple.applicationaccess";

    fn check(&self, path: &str, out: &mut Vec<Issue>) {
        let deprecated = [
            ("blacklistedAppBundleIDs", self.blacklisted_app_bundle_ids.is_some(), "blockedAppBundleIDs"),
            ("whitelistedAppBundleIDs", self.whitelisted_app_bundle_ids.is_some(), "allowListedAppBundleIDs"),
            ("forceWiFiWhitelisting", self.force_wifi_whitelisting.is_some(), "forceWiFiToAllowedNetworksOnly"),
        ];
        for (key, set, instead) in deprecated {
            if set {
                out.push(Issue::warning(key_path(path, key), format!("deprecated; use {instead} instead")));
            }
        }
        let lists = [
            ("allowListedAppBundleIDs", &self.allow_listed_app_bundle_ids),
            ("blockedAppBundleIDs", &self.blocked_app_bundle_ids),
            ("blacklistedAppBundleIDs", &self.blacklisted_app_bundle_ids),
            ("whitelistedAppBundleIDs", &self.whitelisted_app_bundle_ids),
            ("autonomousSingleAppModePermittedAppIDs", &self.autonomous_single_app_mode_permitted_app_ids),
        ];
        for (key, list) in lists {
            for (i, id) in list.iter().flatten().enumerate() {
                if let Err(e) = check_bundle_id(id) {
                    out.push(Issue::error(index_path(&key_path(path, key), i), e));
                }
            }
        }
        let ratings = [
            ("ratingApps", self.rating_apps, &RATING_APPS_VALUES[..]),
            ("ratingMovies", self.rating_movies, &RATING_MOVIES_VALUES[..]),
            ("ratingTVShows", self.rating_tv_shows, &RATING_TV_SHOWS_VALUES[..]),
        ];
        for (key, v, listed) in ratings {
            if let Some(v) = v {
                if !listed.contains(&v.get()) {
                    out.push(Issue::warning(key_path(path, key), format!("{v} is not one of the rating levels Apple lists ({listed:?})")));
                }
            }
        }
        if let Some(t) = self.enforced_fingerprint_timeout {
            if t <= 0 {
                out.push(Issue::error(key_path(path, "enforcedFingerprintTimeout"), format!("{t} is not a number of seconds")));
            }
        }
    }
}
