//! `com.apple.applicationaccess`: restrictions (camera, App Store, iCloud, AirDrop, ...).
//!
//! Every one of the 188 keys in Apple's schema for this payload is modelled, all optional, so a
//! restrictions payload written to Apple's documentation reads as this type. Integer keys with a
//! range use [`Ranged`], refusing out-of-range values; `ratingRegion` and `safariAcceptCookies`
//! are closed sets. The tag after each key gives Apple's default, range, and whether iOS
//! requires supervision ("supervised") or ignores the key ("not iOS").

use serde::{Deserialize, Serialize};

use super::passcode::Ranged;
use super::webclip::check_bundle_id;
use super::PayloadKind;
use crate::issue::{index_path, key_path, Issue};

/// `com.apple.applicationaccess` payload. `Restrictions::default()` restricts nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Restrictions {
    /// `allowAccountModification` (default true; supervised): If `false`, the system disables modification of accounts such as Apple Accounts and Internet-based accounts such as Mail, Contacts, and Calendar.
    #[serde(rename = "allowAccountModification", default, skip_serializing_if = "Option::is_none")]
    pub allow_account_modification: Option<bool>,
    /// `allowActivityContinuation` (default true): If `false`, the system disables activity continuation.
    #[serde(rename = "allowActivityContinuation", default, skip_serializing_if = "Option::is_none")]
    pub allow_activity_continuation: Option<bool>,
    /// `allowAddingGameCenterFriends` (default true; supervised): If `false`, the system prohibits adding friends to Game Center.
    #[serde(rename = "allowAddingGameCenterFriends", default, skip_serializing_if = "Option::is_none")]
    pub allow_adding_game_center_friends: Option<bool>,
    /// `allowAirDrop` (default true; supervised): If `false`, the system disables AirDrop.
    #[serde(rename = "allowAirDrop", default, skip_serializing_if = "Option::is_none")]
    pub allow_air_drop: Option<bool>,
    /// `allowAirPlayIncomingRequests` (default true; not iOS): If `false`, the system disables incoming AirPlay requests.
    #[serde(rename = "allowAirPlayIncomingRequests", default, skip_serializing_if = "Option::is_none")]
    pub allow_air_play_incoming_requests: Option<bool>,
    /// `allowAirPrint` (default true; supervised): If `false`, the system disables AirPrint.
    #[serde(rename = "allowAirPrint", default, skip_serializing_if = "Option::is_none")]
    pub allow_air_print: Option<bool>,
    /// `allowAirPrintCredentialsStorage` (default true; supervised): If `false`, the system disables keychain storage of user name and password for AirPrint.
    #[serde(rename = "allowAirPrintCredentialsStorage", default, skip_serializing_if = "Option::is_none")]
    pub allow_air_print_credentials_storage: Option<bool>,
    /// `allowAirPrintiBeaconDiscovery` (default true; supervised): If `false`, the system disables iBeacon discovery of AirPrint printers, which prevents spurious AirPrint Bluetooth beacons from phishing for network traffic.
    #[serde(rename = "allowAirPrintiBeaconDiscovery", default, skip_serializing_if = "Option::is_none")]
    pub allow_air_print_ibeacon_discovery: Option<bool>,
    /// `allowAppCellularDataModification` (default true; supervised): If `false`, the system disables changing settings for cellular data usage for apps.
    #[serde(rename = "allowAppCellularDataModification", default, skip_serializing_if = "Option::is_none")]
    pub allow_app_cellular_data_modification: Option<bool>,
    /// `allowAppClips` (default true; supervised): If `false`, the system prevents a user from adding any App Clips, and removes any existing App Clips on the device.
    #[serde(rename = "allowAppClips", default, skip_serializing_if = "Option::is_none")]
    pub allow_app_clips: Option<bool>,
    /// `allowAppInstallation` (default true; supervised): If `false`, the system disables the App Store, and the system removes its icon from the Home screen.
    #[serde(rename = "allowAppInstallation", default, skip_serializing_if = "Option::is_none")]
    pub allow_app_installation: Option<bool>,
    /// `allowApplePersonalizedAdvertising` (default true): If `false`, the system limits Apple personalized advertising.
    #[serde(rename = "allowApplePersonalizedAdvertising", default, skip_serializing_if = "Option::is_none")]
    pub allow_apple_personalized_advertising: Option<bool>,
    /// `allowAppRemoval` (default true; supervised): If `false`, the system disables removal of apps from an iOS device.
    #[serde(rename = "allowAppRemoval", default, skip_serializing_if = "Option::is_none")]
    pub allow_app_removal: Option<bool>,
    /// `allowAppsToBeHidden` (default true; supervised): If false, disables the ability for the user to hide apps.
    #[serde(rename = "allowAppsToBeHidden", default, skip_serializing_if = "Option::is_none")]
    pub allow_apps_to_be_hidden: Option<bool>,
    /// `allowAppsToBeLocked` (default true; supervised): If false, disables the ability for the user to lock apps.
    #[serde(rename = "allowAppsToBeLocked", default, skip_serializing_if = "Option::is_none")]
    pub allow_apps_to_be_locked: Option<bool>,
    /// `allowARDRemoteManagementModification` (default true; not iOS): If `false`, the system prevents modifying the Remote Management Sharing setting in System Settings.
    #[serde(rename = "allowARDRemoteManagementModification", default, skip_serializing_if = "Option::is_none")]
    pub allow_ard_remote_management_modification: Option<bool>,
    /// `allowAssistant` (default true): If `false`, the system disables Siri.
    #[serde(rename = "allowAssistant", default, skip_serializing_if = "Option::is_none")]
    pub allow_assistant: Option<bool>,
    /// `allowAssistantUserGeneratedContent` (default true; supervised): If `false`, the system prevents Siri from querying user-generated content from the web.
    #[serde(rename = "allowAssistantUserGeneratedContent", default, skip_serializing_if = "Option::is_none")]
    pub allow_assistant_user_generated_content: Option<bool>,
    /// `allowAssistantWhileLocked` (default true): If `false`, the system disables Siri when the device is locked.
    #[serde(rename = "allowAssistantWhileLocked", default, skip_serializing_if = "Option::is_none")]
    pub allow_assistant_while_locked: Option<bool>,
    /// `allowAutoCorrection` (default true; supervised): If `false`, the system disables keyboard autocorrection.
    #[serde(rename = "allowAutoCorrection", default, skip_serializing_if = "Option::is_none")]
    pub allow_auto_correction: Option<bool>,
    /// `allowAutoDim` (default true; supervised): If `false`, disables auto dim on iPads with OLED displays.
    #[serde(rename = "allowAutoDim", default, skip_serializing_if = "Option::is_none")]
    pub allow_auto_dim: Option<bool>,
    /// `allowAutomaticAppDownloads` (default true; supervised): If `false`, the system prevents automatic downloading of apps purchased on other devices.
    #[serde(rename = "allowAutomaticAppDownloads", default, skip_serializing_if = "Option::is_none")]
    pub allow_automatic_app_downloads: Option<bool>,
    /// `allowAutomaticScreenSaver` (default true; not iOS): If `false`, the system disables Apple TV's automatic screen saver.
    #[serde(rename = "allowAutomaticScreenSaver", default, skip_serializing_if = "Option::is_none")]
    pub allow_automatic_screen_saver: Option<bool>,
    /// `allowAutoUnlock` (default true): If `false`, the system disallows auto unlock.
    #[serde(rename = "allowAutoUnlock", default, skip_serializing_if = "Option::is_none")]
    pub allow_auto_unlock: Option<bool>,
    /// `allowBluetoothModification` (default true; supervised): If `false`, the system prevents modification of Bluetooth settings.
    #[serde(rename = "allowBluetoothModification", default, skip_serializing_if = "Option::is_none")]
    pub allow_bluetooth_modification: Option<bool>,
    /// `allowBluetoothSharingModification` (default true; not iOS): If `false`, the system prevents modifying Bluetooth settings in System Settings.
    #[serde(rename = "allowBluetoothSharingModification", default, skip_serializing_if = "Option::is_none")]
    pub allow_bluetooth_sharing_modification: Option<bool>,
    /// `allowBookstore` (default true; supervised): If `false`, the system removes the Book Store tab from the Books app.
    #[serde(rename = "allowBookstore", default, skip_serializing_if = "Option::is_none")]
    pub allow_bookstore: Option<bool>,
    /// `allowBookstoreErotica` (default true): If `false`, the system prevents the user from downloading Apple Books media that's tagged as erotica.
    #[serde(rename = "allowBookstoreErotica", default, skip_serializing_if = "Option::is_none")]
    pub allow_bookstore_erotica: Option<bool>,
    /// `allowCallRecording` (default true; supervised): If false, call recording is disabled.
    #[serde(rename = "allowCallRecording", default, skip_serializing_if = "Option::is_none")]
    pub allow_call_recording: Option<bool>,
    /// `allowCamera` (default true): If `false`, the system disables the camera and removes its icon from the Home screen, and users are unable to take photographs.
    #[serde(rename = "allowCamera", default, skip_serializing_if = "Option::is_none")]
    pub allow_camera: Option<bool>,
    /// `allowCellularPlanModification` (default true; supervised): If `false`, the system prevents users from changing settings related to their cellular plan (only available on select carriers).
    #[serde(rename = "allowCellularPlanModification", default, skip_serializing_if = "Option::is_none")]
    pub allow_cellular_plan_modification: Option<bool>,
    /// `allowChat` (default true; supervised): If `false`, the system disables the use of iMessage with supervised devices.
    #[serde(rename = "allowChat", default, skip_serializing_if = "Option::is_none")]
    pub allow_chat: Option<bool>,
    /// `allowCloudAddressBook` (default true; not iOS): If `false`, the system disables iCloud Address Book services.
    #[serde(rename = "allowCloudAddressBook", default, skip_serializing_if = "Option::is_none")]
    pub allow_cloud_address_book: Option<bool>,
    /// `allowCloudBackup` (default true): If `false`, the system disables backing up the device to iCloud.
    #[serde(rename = "allowCloudBackup", default, skip_serializing_if = "Option::is_none")]
    pub allow_cloud_backup: Option<bool>,
    /// `allowCloudBookmarks` (default true; not iOS): If `false`, the system disables iCloud Bookmark sync.
    #[serde(rename = "allowCloudBookmarks", default, skip_serializing_if = "Option::is_none")]
    pub allow_cloud_bookmarks: Option<bool>,
    /// `allowCloudCalendar` (default true; not iOS): If `false`, the system disables iCloud Calendar services.
    #[serde(rename = "allowCloudCalendar", default, skip_serializing_if = "Option::is_none")]
    pub allow_cloud_calendar: Option<bool>,
    /// `allowCloudDesktopAndDocuments` (default true; not iOS): If `false`, the system disables iCloud Desktop and Document services.
    #[serde(rename = "allowCloudDesktopAndDocuments", default, skip_serializing_if = "Option::is_none")]
    pub allow_cloud_desktop_and_documents: Option<bool>,
    /// `allowCloudDocumentSync` (default true; supervised): If `false`, the system disables document and key-value syncing to iCloud.
    #[serde(rename = "allowCloudDocumentSync", default, skip_serializing_if = "Option::is_none")]
    pub allow_cloud_document_sync: Option<bool>,
    /// `allowCloudFreeform` (default true; not iOS): If `false`, the system disallows iCloud Freeform services.
    #[serde(rename = "allowCloudFreeform", default, skip_serializing_if = "Option::is_none")]
    pub allow_cloud_freeform: Option<bool>,
    /// `allowCloudKeychainSync` (default true): If `false`, the system disables iCloud keychain synchronization.
    #[serde(rename = "allowCloudKeychainSync", default, skip_serializing_if = "Option::is_none")]
    pub allow_cloud_keychain_sync: Option<bool>,
    /// `allowCloudMail` (default true; not iOS): If `false`, the system disables iCloud Mail services.
    #[serde(rename = "allowCloudMail", default, skip_serializing_if = "Option::is_none")]
    pub allow_cloud_mail: Option<bool>,
    /// `allowCloudNotes` (default true; not iOS): If `false`, the system disables iCloud Notes services.
    #[serde(rename = "allowCloudNotes", default, skip_serializing_if = "Option::is_none")]
    pub allow_cloud_notes: Option<bool>,
    /// `allowCloudPhotoLibrary` (default true): If `false`, the system disables iCloud Photo Library.
    #[serde(rename = "allowCloudPhotoLibrary", default, skip_serializing_if = "Option::is_none")]
    pub allow_cloud_photo_library: Option<bool>,
    /// `allowCloudPrivateRelay` (default true; supervised): If `false`, the system disables iCloud Private Relay.
    #[serde(rename = "allowCloudPrivateRelay", default, skip_serializing_if = "Option::is_none")]
    pub allow_cloud_private_relay: Option<bool>,
    /// `allowCloudReminders` (default true; not iOS): If `false`, the system disables iCloud Reminder services.
    #[serde(rename = "allowCloudReminders", default, skip_serializing_if = "Option::is_none")]
    pub allow_cloud_reminders: Option<bool>,
    /// `allowContentCaching` (default true; not iOS): If `false`, the system disables content caching.
    #[serde(rename = "allowContentCaching", default, skip_serializing_if = "Option::is_none")]
    pub allow_content_caching: Option<bool>,
    /// `allowContinuousPathKeyboard` (default true; supervised): If `false`, the system disables QuickPath keyboard.
    #[serde(rename = "allowContinuousPathKeyboard", default, skip_serializing_if = "Option::is_none")]
    pub allow_continuous_path_keyboard: Option<bool>,
    /// `allowDefinitionLookup` (default true; supervised): If `false`, the system disables definition lookup.
    #[serde(rename = "allowDefinitionLookup", default, skip_serializing_if = "Option::is_none")]
    pub allow_definition_lookup: Option<bool>,
    /// `allowDeviceNameModification` (default true; supervised): If `false`, the system prevents the user from changing the device name.
    #[serde(rename = "allowDeviceNameModification", default, skip_serializing_if = "Option::is_none")]
    pub allow_device_name_modification: Option<bool>,
    /// `allowDeviceSleep` (default true; not iOS): If `false`, the system prevents the device from automatically sleeping.
    #[serde(rename = "allowDeviceSleep", default, skip_serializing_if = "Option::is_none")]
    pub allow_device_sleep: Option<bool>,
    /// `allowDiagnosticSubmission` (default true): If `false`, the system prevents the device from automatically submitting diagnostic reports to Apple.
    #[serde(rename = "allowDiagnosticSubmission", default, skip_serializing_if = "Option::is_none")]
    pub allow_diagnostic_submission: Option<bool>,
    /// `allowDiagnosticSubmissionModification` (default true; supervised): If `false`, the system disables changing the diagnostic submission and app analytics settings in the Diagnostics & Usage UI in Settings.
    #[serde(rename = "allowDiagnosticSubmissionModification", default, skip_serializing_if = "Option::is_none")]
    pub allow_diagnostic_submission_modification: Option<bool>,
    /// `allowDictation` (default true; supervised): If `false`, the system disallows dictation input.
    #[serde(rename = "allowDictation", default, skip_serializing_if = "Option::is_none")]
    pub allow_dictation: Option<bool>,
    /// `allowEnablingRestrictions` (default true; supervised): If `false`, the system disables the Enable Restrictions option in the Restrictions UI in Settings.
    #[serde(rename = "allowEnablingRestrictions", default, skip_serializing_if = "Option::is_none")]
    pub allow_enabling_restrictions: Option<bool>,
    /// `allowEnterpriseAppTrust` (default true): If `false`, the system removes the Trust Developer button in Settings > General > VPN & Device Management, which prevents provisioning apps by universal provisioning profiles.
    #[serde(rename = "allowEnterpriseAppTrust", default, skip_serializing_if = "Option::is_none")]
    pub allow_enterprise_app_trust: Option<bool>,
    /// `allowEnterpriseBookBackup` (default true): If `false`, the system disables backup of Enterprise books.
    #[serde(rename = "allowEnterpriseBookBackup", default, skip_serializing_if = "Option::is_none")]
    pub allow_enterprise_book_backup: Option<bool>,
    /// `allowEnterpriseBookMetadataSync` (default true): If `false`, the system disables sync of Enterprise books, notes, and highlights.
    #[serde(rename = "allowEnterpriseBookMetadataSync", default, skip_serializing_if = "Option::is_none")]
    pub allow_enterprise_book_metadata_sync: Option<bool>,
    /// `allowEraseContentAndSettings` (default true; supervised): If `false`, the system disables the Erase All Content and Settings option in the Reset UI. Available in iOS 8 and later, and macOS 12 and later.
    #[serde(rename = "allowEraseContentAndSettings", default, skip_serializing_if = "Option::is_none")]
    pub allow_erase_content_and_settings: Option<bool>,
    /// `allowESIMModification` (default true; supervised): If `false`, the system disables modifications of eSIMs.
    #[serde(rename = "allowESIMModification", default, skip_serializing_if = "Option::is_none")]
    pub allow_esim_modification: Option<bool>,
    /// `allowESIMOutgoingTransfers` (default true; supervised): If `false`, prevents the transfer of an eSIM from the device on which the restriction is installed to a different device.
    #[serde(rename = "allowESIMOutgoingTransfers", default, skip_serializing_if = "Option::is_none")]
    pub allow_esim_outgoing_transfers: Option<bool>,
    /// `allowExplicitContent` (default true; supervised): If `false`, the system hides explicit music or video content purchased from the iTunes Store.
    #[serde(rename = "allowExplicitContent", default, skip_serializing_if = "Option::is_none")]
    pub allow_explicit_content: Option<bool>,
    /// `allowFileSharingModification` (default true; not iOS): If `false`, the system prevents modifying File Sharing setting in System Settings.
    #[serde(rename = "allowFileSharingModification", default, skip_serializing_if = "Option::is_none")]
    pub allow_file_sharing_modification: Option<bool>,
    /// `allowFilesNetworkDriveAccess` (default true; supervised): If `false`, the system prevents connecting to network drives in the Files app.
    #[serde(rename = "allowFilesNetworkDriveAccess", default, skip_serializing_if = "Option::is_none")]
    pub allow_files_network_drive_access: Option<bool>,
    /// `allowFilesUSBDriveAccess` (default true; supervised): If `false`, the system prevents connecting to any connected USB devices in the Files app.
    #[serde(rename = "allowFilesUSBDriveAccess", default, skip_serializing_if = "Option::is_none")]
    pub allow_files_usb_drive_access: Option<bool>,
    /// `allowFindMyDevice` (default true; supervised): If `false`, the system disables Find My Device in the Find My app.
    #[serde(rename = "allowFindMyDevice", default, skip_serializing_if = "Option::is_none")]
    pub allow_find_my_device: Option<bool>,
    /// `allowFindMyFriends` (default true; supervised): If `false`, the system disables Find My Friends in the Find My app.
    #[serde(rename = "allowFindMyFriends", default, skip_serializing_if = "Option::is_none")]
    pub allow_find_my_friends: Option<bool>,
    /// `allowFindMyFriendsModification` (default true; supervised): If `false`, the system disables changes to Find My Friends.
    #[serde(rename = "allowFindMyFriendsModification", default, skip_serializing_if = "Option::is_none")]
    pub allow_find_my_friends_modification: Option<bool>,
    /// `allowFingerprintForUnlock` (default true): If `false`, the system prevents Touch ID or Face ID from unlocking a device.
    #[serde(rename = "allowFingerprintForUnlock", default, skip_serializing_if = "Option::is_none")]
    pub allow_fingerprint_for_unlock: Option<bool>,
    /// `allowFingerprintModification` (default true; supervised): If `false`, the system prevents the user from modifying Touch ID or Face ID. Available in iOS 8.3 and later, and macOS 14 and later.
    #[serde(rename = "allowFingerprintModification", default, skip_serializing_if = "Option::is_none")]
    pub allow_fingerprint_modification: Option<bool>,
    /// `allowGameCenter` (default true; supervised): If `false`, the system disables Game Center, and the system removes its icon from the Home screen.
    #[serde(rename = "allowGameCenter", default, skip_serializing_if = "Option::is_none")]
    pub allow_game_center: Option<bool>,
    /// `allowGenmoji` (default true; supervised): If `false`, prohibits creating new Genmoji.
    #[serde(rename = "allowGenmoji", default, skip_serializing_if = "Option::is_none")]
    pub allow_genmoji: Option<bool>,
    /// `allowGlobalBackgroundFetchWhenRoaming` (default true): If `false`, the system disables global background fetch activity when an iOS phone is roaming.
    #[serde(rename = "allowGlobalBackgroundFetchWhenRoaming", default, skip_serializing_if = "Option::is_none")]
    pub allow_global_background_fetch_when_roaming: Option<bool>,
    /// `allowHostPairing` (default true; supervised): If `false`, the system disables host pairing with the exception of the supervision host.
    #[serde(rename = "allowHostPairing", default, skip_serializing_if = "Option::is_none")]
    pub allow_host_pairing: Option<bool>,
    /// `allowImagePlayground` (default true; supervised): If `false`, prohibits the use of image generation.
    #[serde(rename = "allowImagePlayground", default, skip_serializing_if = "Option::is_none")]
    pub allow_image_playground: Option<bool>,
    /// `allowImageWand` (default true; supervised): If `false`, prohibits the use of Image Wand.
    #[serde(rename = "allowImageWand", default, skip_serializing_if = "Option::is_none")]
    pub allow_image_wand: Option<bool>,
    /// `allowInAppPurchases` (default true): If `false`, the system prohibits in-app purchasing.
    #[serde(rename = "allowInAppPurchases", default, skip_serializing_if = "Option::is_none")]
    pub allow_in_app_purchases: Option<bool>,
    /// `allowInternetSharingModification` (default true; not iOS): If `false`, the system prevents modifying the Internet Sharing setting in System Settings.
    #[serde(rename = "allowInternetSharingModification", default, skip_serializing_if = "Option::is_none")]
    pub allow_internet_sharing_modification: Option<bool>,
    /// `allowiPhoneMirroring` (default true; supervised): If `false`, prohibits the use of iPhone Mirroring.
    #[serde(rename = "allowiPhoneMirroring", default, skip_serializing_if = "Option::is_none")]
    pub allow_iphone_mirroring: Option<bool>,
    /// `allowiPhoneWidgetsOnMac` (default true; supervised): If `false`, the system disallows iPhone widgets on a Mac that has signed in the same Apple Account for iCloud.
    #[serde(rename = "allowiPhoneWidgetsOnMac", default, skip_serializing_if = "Option::is_none")]
    pub allow_iphone_widgets_on_mac: Option<bool>,
    /// `allowiTunes` (default true; supervised): If `false`, the system disables the iTunes Music Store, and the system removes its icon from the Home screen.
    #[serde(rename = "allowiTunes", default, skip_serializing_if = "Option::is_none")]
    pub allow_itunes: Option<bool>,
    /// `allowiTunesFileSharing` (default true; not iOS): If `false`, the system disables iTunes file sharing services.
    #[serde(rename = "allowiTunesFileSharing", default, skip_serializing_if = "Option::is_none")]
    pub allow_itunes_file_sharing: Option<bool>,
    /// `allowKeyboardShortcuts` (default true; supervised): If `false`, the system disables keyboard shortcuts.
    #[serde(rename = "allowKeyboardShortcuts", default, skip_serializing_if = "Option::is_none")]
    pub allow_keyboard_shortcuts: Option<bool>,
    /// `allowListedAppBundleIDs` (supervised): If present, the system only shows or can launch apps with bundle IDs in the array.
    #[serde(rename = "allowListedAppBundleIDs", default, skip_serializing_if = "Option::is_none")]
    pub allow_listed_app_bundle_ids: Option<Vec<String>>,
    /// `allowLiveVoicemail` (default true; supervised): If `false`, the system disables live voicemail on the device.
    #[serde(rename = "allowLiveVoicemail", default, skip_serializing_if = "Option::is_none")]
    pub allow_live_voicemail: Option<bool>,
    /// `allowLocalUserCreation` (default true; not iOS): If `false`, the system prevents creating new users in System Settings.
    #[serde(rename = "allowLocalUserCreation", default, skip_serializing_if = "Option::is_none")]
    pub allow_local_user_creation: Option<bool>,
    /// `allowLockScreenControlCenter` (default true): If `false`, the system prevents Control Center from appearing on the Lock screen.
    #[serde(rename = "allowLockScreenControlCenter", default, skip_serializing_if = "Option::is_none")]
    pub allow_lock_screen_control_center: Option<bool>,
    /// `allowLockScreenNotificationsView` (default true): If `false`, the system disables the Notifications history view on the lock screen, so users can't view past notifications.
    #[serde(rename = "allowLockScreenNotificationsView", default, skip_serializing_if = "Option::is_none")]
    pub allow_lock_screen_notifications_view: Option<bool>,
    /// `allowLockScreenTodayView` (default true): If `false`, the system disables the Today view in Notification Center on the lock screen.
    #[serde(rename = "allowLockScreenTodayView", default, skip_serializing_if = "Option::is_none")]
    pub allow_lock_screen_today_view: Option<bool>,
    /// `allowMailPrivacyProtection` (default true; supervised): If `false`, the system disables Mail Privacy Protection on the device.
    #[serde(rename = "allowMailPrivacyProtection", default, skip_serializing_if = "Option::is_none")]
    pub allow_mail_privacy_protection: Option<bool>,
    /// `allowMailSummary` (default true; supervised): If false, disables the ability to create summaries of email messages manually.
    #[serde(rename = "allowMailSummary", default, skip_serializing_if = "Option::is_none")]
    pub allow_mail_summary: Option<bool>,
    /// `allowManagedAppsCloudSync` (default true): If `false`, the system prevents managed apps from using iCloud sync.
    #[serde(rename = "allowManagedAppsCloudSync", default, skip_serializing_if = "Option::is_none")]
    pub allow_managed_apps_cloud_sync: Option<bool>,
    /// `allowManagedToWriteUnmanagedContacts` (default false): If `true`, the system allows managed apps to write contacts to unmanaged accounts.
    #[serde(rename = "allowManagedToWriteUnmanagedContacts", default, skip_serializing_if = "Option::is_none")]
    pub allow_managed_to_write_unmanaged_contacts: Option<bool>,
    /// `allowMarketplaceAppInstallation` (default true; supervised): If `false`, the system prevents installation of alternative marketplace apps from the web and prevents any installed alternative marketplace apps from installing apps.
    #[serde(rename = "allowMarketplaceAppInstallation", default, skip_serializing_if = "Option::is_none")]
    pub allow_marketplace_app_installation: Option<bool>,
    /// `allowMediaSharingModification` (default true; not iOS): If false, prevents modification of Media Sharing settings.
    #[serde(rename = "allowMediaSharingModification", default, skip_serializing_if = "Option::is_none")]
    pub allow_media_sharing_modification: Option<bool>,
    /// `allowMultiplayerGaming` (default true; supervised): If `false`, the system prohibits multiplayer gaming.
    #[serde(rename = "allowMultiplayerGaming", default, skip_serializing_if = "Option::is_none")]
    pub allow_multiplayer_gaming: Option<bool>,
    /// `allowMusicService` (default true; supervised): If `false`, the system disables the Music service, and the Music app reverts to classic mode.
    #[serde(rename = "allowMusicService", default, skip_serializing_if = "Option::is_none")]
    pub allow_music_service: Option<bool>,
    /// `allowNews` (default true; supervised): If `false`, the system disables News.
    #[serde(rename = "allowNews", default, skip_serializing_if = "Option::is_none")]
    pub allow_news: Option<bool>,
    /// `allowNFC` (default true; supervised): If `false`, the system disables NFC. Requires a supervised device.
    #[serde(rename = "allowNFC", default, skip_serializing_if = "Option::is_none")]
    pub allow_nfc: Option<bool>,
    /// `allowNotificationsModification` (default true; supervised): If `false`, the system disables modification of notification settings.
    #[serde(rename = "allowNotificationsModification", default, skip_serializing_if = "Option::is_none")]
    pub allow_notifications_modification: Option<bool>,
    /// `allowOpenFromManagedToUnmanaged` (default true): If `false`, documents in managed apps and accounts only open in other managed apps and accounts.
    #[serde(rename = "allowOpenFromManagedToUnmanaged", default, skip_serializing_if = "Option::is_none")]
    pub allow_open_from_managed_to_unmanaged: Option<bool>,
    /// `allowOpenFromUnmanagedToManaged` (default true): If `false`, documents in unmanaged apps and accounts only open in other unmanaged apps and accounts.
    #[serde(rename = "allowOpenFromUnmanagedToManaged", default, skip_serializing_if = "Option::is_none")]
    pub allow_open_from_unmanaged_to_managed: Option<bool>,
    /// `allowOTAPKIUpdates` (default true): If `false`, the system disables over-the-air PKI updates.
    #[serde(rename = "allowOTAPKIUpdates", default, skip_serializing_if = "Option::is_none")]
    pub allow_otapki_updates: Option<bool>,
    /// `allowPairedWatch` (default true; supervised): If `false`, the system disables pairing with an Apple Watch, and the system unpairs any currently paired Apple Watch and erases its content.
    #[serde(rename = "allowPairedWatch", default, skip_serializing_if = "Option::is_none")]
    pub allow_paired_watch: Option<bool>,
    /// `allowPassbookWhileLocked` (default true): If `false`, the system hides Passbook notifications from the lock screen.
    #[serde(rename = "allowPassbookWhileLocked", default, skip_serializing_if = "Option::is_none")]
    pub allow_passbook_while_locked: Option<bool>,
    /// `allowPasscodeModification` (default true; supervised): If `false`, the system prevents adding, changing, or removing the passcode.
    #[serde(rename = "allowPasscodeModification", default, skip_serializing_if = "Option::is_none")]
    pub allow_passcode_modification: Option<bool>,
    /// `allowPasswordAutoFill` (default true; supervised): If `false`, the system disables password AutoFill, saved-password prompts and strong-password suggestions (not contact and credit-card AutoFill).
    #[serde(rename = "allowPasswordAutoFill", default, skip_serializing_if = "Option::is_none")]
    pub allow_password_auto_fill: Option<bool>,
    /// `allowPasswordProximityRequests` (default true; supervised): If `false`, the system disables requesting passwords from nearby devices.
    #[serde(rename = "allowPasswordProximityRequests", default, skip_serializing_if = "Option::is_none")]
    pub allow_password_proximity_requests: Option<bool>,
    /// `allowPasswordSharing` (default true; supervised): If `false`, the system disables sharing passwords with the Airdrop Passwords feature.
    #[serde(rename = "allowPasswordSharing", default, skip_serializing_if = "Option::is_none")]
    pub allow_password_sharing: Option<bool>,
    /// `allowPersonalHotspotModification` (default true; supervised): If `false`, the system disables modifications of the personal hotspot setting.
    #[serde(rename = "allowPersonalHotspotModification", default, skip_serializing_if = "Option::is_none")]
    pub allow_personal_hotspot_modification: Option<bool>,
    /// `allowPersonalizedHandwritingResults` (default true; supervised): If false, prevents the system from generating text in the user's handwriting.
    #[serde(rename = "allowPersonalizedHandwritingResults", default, skip_serializing_if = "Option::is_none")]
    pub allow_personalized_handwriting_results: Option<bool>,
    /// `allowPhotoStream` (default true): If `false`, the system disables Photo Stream.
    #[serde(rename = "allowPhotoStream", default, skip_serializing_if = "Option::is_none")]
    pub allow_photo_stream: Option<bool>,
    /// `allowPodcasts` (default true; supervised): If `false`, the system disables podcasts.
    #[serde(rename = "allowPodcasts", default, skip_serializing_if = "Option::is_none")]
    pub allow_podcasts: Option<bool>,
    /// `allowPredictiveKeyboard` (default true; supervised): If `false`, the system disables predictive keyboards.
    #[serde(rename = "allowPredictiveKeyboard", default, skip_serializing_if = "Option::is_none")]
    pub allow_predictive_keyboard: Option<bool>,
    /// `allowPrinterSharingModification` (default true; not iOS): If `false`, the system prevents modifying Printer Sharing settings in System Settings.
    #[serde(rename = "allowPrinterSharingModification", default, skip_serializing_if = "Option::is_none")]
    pub allow_printer_sharing_modification: Option<bool>,
    /// `allowProximitySetupToNewDevice` (default true; supervised): If `false`, disables the prompt to set up new devices that are nearby.
    #[serde(rename = "allowProximitySetupToNewDevice", default, skip_serializing_if = "Option::is_none")]
    pub allow_proximity_setup_to_new_device: Option<bool>,
    /// `allowRadioService` (default true; supervised): If `false`, the system disables Apple Music Radio.
    #[serde(rename = "allowRadioService", default, skip_serializing_if = "Option::is_none")]
    pub allow_radio_service: Option<bool>,
    /// `allowRapidSecurityResponseInstallation` (default true; supervised): If `false`, the system prohibits installation of rapid security responses.
    #[serde(rename = "allowRapidSecurityResponseInstallation", default, skip_serializing_if = "Option::is_none")]
    pub allow_rapid_security_response_installation: Option<bool>,
    /// `allowRapidSecurityResponseRemoval` (default true; supervised): If `false`, the system prohibits removal of rapid security responses.
    #[serde(rename = "allowRapidSecurityResponseRemoval", default, skip_serializing_if = "Option::is_none")]
    pub allow_rapid_security_response_removal: Option<bool>,
    /// `allowRCSMessaging` (default true; supervised): If false, prevents the use of RCS messaging.
    #[serde(rename = "allowRCSMessaging", default, skip_serializing_if = "Option::is_none")]
    pub allow_rcs_messaging: Option<bool>,
    /// `allowRemoteAppleEventsModification` (default true; not iOS): If `false`, the system prevents modifying Remote Apple Events Sharing settings in System Settings.
    #[serde(rename = "allowRemoteAppleEventsModification", default, skip_serializing_if = "Option::is_none")]
    pub allow_remote_apple_events_modification: Option<bool>,
    /// `allowRemoteAppPairing` (default true; not iOS): If `false`, the system disables pairing Apple TV for use with the Control Center widget.
    #[serde(rename = "allowRemoteAppPairing", default, skip_serializing_if = "Option::is_none")]
    pub allow_remote_app_pairing: Option<bool>,
    /// `allowRemoteScreenObservation` (default true): If `false`, the system disables remote screen observation by the Classroom app.
    #[serde(rename = "allowRemoteScreenObservation", default, skip_serializing_if = "Option::is_none")]
    pub allow_remote_screen_observation: Option<bool>,
    /// `allowSafari` (default true; supervised): If `false`, the system disables the Safari web browser app, and the system removes its icon from the Home screen.
    #[serde(rename = "allowSafari", default, skip_serializing_if = "Option::is_none")]
    pub allow_safari: Option<bool>,
    /// `allowScreenShot` (default true): If `false`, the system disables saving a screenshot of the display and capturing a screen recording.
    #[serde(rename = "allowScreenShot", default, skip_serializing_if = "Option::is_none")]
    pub allow_screen_shot: Option<bool>,
    /// `allowSharedDeviceTemporarySession` (default true; supervised): If `false`, the system makes temporary sessions unavailable on Shared iPad.
    #[serde(rename = "allowSharedDeviceTemporarySession", default, skip_serializing_if = "Option::is_none")]
    pub allow_shared_device_temporary_session: Option<bool>,
    /// `allowSharedStream` (default true): If `false`, the system disables Shared Photo Stream.
    #[serde(rename = "allowSharedStream", default, skip_serializing_if = "Option::is_none")]
    pub allow_shared_stream: Option<bool>,
    /// `allowSpellCheck` (default true; supervised): If `false`, the system disables the keyboard spell checker.
    #[serde(rename = "allowSpellCheck", default, skip_serializing_if = "Option::is_none")]
    pub allow_spell_check: Option<bool>,
    /// `allowSpotlightInternetResults` (default true): If `false`, the system disables Spotlight Internet search results in Siri Suggestions.
    #[serde(rename = "allowSpotlightInternetResults", default, skip_serializing_if = "Option::is_none")]
    pub allow_spotlight_internet_results: Option<bool>,
    /// `allowStartupDiskModification` (default true; not iOS): If `false`, the system prevents modification of Startup Disk settings in System Settings.
    #[serde(rename = "allowStartupDiskModification", default, skip_serializing_if = "Option::is_none")]
    pub allow_startup_disk_modification: Option<bool>,
    /// `allowSystemAppRemoval` (default true; supervised): If `false`, the system disables the removal of system apps from the device.
    #[serde(rename = "allowSystemAppRemoval", default, skip_serializing_if = "Option::is_none")]
    pub allow_system_app_removal: Option<bool>,
    /// `allowTimeMachineBackup` (default true; not iOS): If `false`, the system prevents modification of Time Machine settings in System Settings.
    #[serde(rename = "allowTimeMachineBackup", default, skip_serializing_if = "Option::is_none")]
    pub allow_time_machine_backup: Option<bool>,
    /// `allowUIAppInstallation` (default true; supervised): If `false`, the system disables the App Store, and the systems removes its icon from the Home screen.
    #[serde(rename = "allowUIAppInstallation", default, skip_serializing_if = "Option::is_none")]
    pub allow_ui_app_installation: Option<bool>,
    /// `allowUIConfigurationProfileInstallation` (default true; supervised): If `false`, the system prohibits the user from installing configuration profiles and certificates interactively.
    #[serde(rename = "allowUIConfigurationProfileInstallation", default, skip_serializing_if = "Option::is_none")]
    pub allow_ui_configuration_profile_installation: Option<bool>,
    /// `allowUniversalControl` (default true; not iOS): If `false`, the system disables Universal Control.
    #[serde(rename = "allowUniversalControl", default, skip_serializing_if = "Option::is_none")]
    pub allow_universal_control: Option<bool>,
    /// `allowUnmanagedToReadManagedContacts` (default false): If `true`, the system allows unmanaged apps to read from managed contacts accounts.
    #[serde(rename = "allowUnmanagedToReadManagedContacts", default, skip_serializing_if = "Option::is_none")]
    pub allow_unmanaged_to_read_managed_contacts: Option<bool>,
    /// `allowUnpairedExternalBootToRecovery` (default false; supervised): If `true`, the system allows unpaired devices to boot devices into recovery.
    #[serde(rename = "allowUnpairedExternalBootToRecovery", default, skip_serializing_if = "Option::is_none")]
    pub allow_unpaired_external_boot_to_recovery: Option<bool>,
    /// `allowUntrustedTLSPrompt` (default true): If `false`, the system automatically rejects untrusted HTTPS certificates without prompting the user.
    #[serde(rename = "allowUntrustedTLSPrompt", default, skip_serializing_if = "Option::is_none")]
    pub allow_untrusted_tls_prompt: Option<bool>,
    /// `allowUSBRestrictedMode` (default true; supervised): If `false`, the system allows iOS devices to always connect to USB accessories while locked.
    #[serde(rename = "allowUSBRestrictedMode", default, skip_serializing_if = "Option::is_none")]
    pub allow_usb_restricted_mode: Option<bool>,
    /// `allowVideoConferencing` (default true; supervised): If `false`, the system hides the FaceTime app.
    #[serde(rename = "allowVideoConferencing", default, skip_serializing_if = "Option::is_none")]
    pub allow_video_conferencing: Option<bool>,
    /// `allowVoiceDialing` (default true): If `false`, the system disables voice dialing if the device is locked with a passcode.
    #[serde(rename = "allowVoiceDialing", default, skip_serializing_if = "Option::is_none")]
    pub allow_voice_dialing: Option<bool>,
    /// `allowVPNCreation` (default true; supervised): If `false`, the system disables the creation of VPN configurations.
    #[serde(rename = "allowVPNCreation", default, skip_serializing_if = "Option::is_none")]
    pub allow_vpn_creation: Option<bool>,
    /// `allowWallpaperModification` (default true; supervised): If `false`, the system prevents changing the wallpaper.
    #[serde(rename = "allowWallpaperModification", default, skip_serializing_if = "Option::is_none")]
    pub allow_wallpaper_modification: Option<bool>,
    /// `allowWebDistributionAppInstallation` (default true; supervised): If `false`, the device prevents installation of apps directly from the web.
    #[serde(rename = "allowWebDistributionAppInstallation", default, skip_serializing_if = "Option::is_none")]
    pub allow_web_distribution_app_installation: Option<bool>,
    /// `allowWritingTools` (default true; supervised): If `false`, disables Apple Intelligence writing tools.
    #[serde(rename = "allowWritingTools", default, skip_serializing_if = "Option::is_none")]
    pub allow_writing_tools: Option<bool>,
    /// `autonomousSingleAppModePermittedAppIDs` (supervised): If present, the system allows apps identified by the bundle IDs listed in the array to autonomously enter Single App Mode.
    #[serde(rename = "autonomousSingleAppModePermittedAppIDs", default, skip_serializing_if = "Option::is_none")]
    pub autonomous_single_app_mode_permitted_app_ids: Option<Vec<String>>,
    /// `blacklistedAppBundleIDs` (supervised): Use `blockedAppBundleIDs` instead.
    #[serde(rename = "blacklistedAppBundleIDs", default, skip_serializing_if = "Option::is_none")]
    pub blacklisted_app_bundle_ids: Option<Vec<String>>,
    /// `blockedAppBundleIDs` (supervised): If present, the system prevents showing or launching apps with bundle IDs in the array.
    #[serde(rename = "blockedAppBundleIDs", default, skip_serializing_if = "Option::is_none")]
    pub blocked_app_bundle_ids: Option<Vec<String>>,
    /// `enforcedFingerprintTimeout` (default 172800; not iOS): The value, in seconds, after which the fingerprint unlock requires a password to authenticate.
    #[serde(rename = "enforcedFingerprintTimeout", default, skip_serializing_if = "Option::is_none")]
    pub enforced_fingerprint_timeout: Option<i64>,
    /// `enforcedSoftwareUpdateDelay` (default 30; 1–90; supervised): How many days to delay a software update on the device.
    #[serde(rename = "enforcedSoftwareUpdateDelay", default, skip_serializing_if = "Option::is_none")]
    pub enforced_software_update_delay: Option<Ranged<1, 90>>,
    /// `enforcedSoftwareUpdateMajorOSDeferredInstallDelay` (default 30; 1–90; not iOS): This restriction allows the administrator to set how many days to delay a major software upgrade on the device.
    #[serde(rename = "enforcedSoftwareUpdateMajorOSDeferredInstallDelay", default, skip_serializing_if = "Option::is_none")]
    pub enforced_software_update_major_os_deferred_install_delay: Option<Ranged<1, 90>>,
    /// `enforcedSoftwareUpdateMinorOSDeferredInstallDelay` (default 30; 1–90; not iOS): This restriction allows the administrator to set how many days to delay a minor OS software update on the device.
    #[serde(rename = "enforcedSoftwareUpdateMinorOSDeferredInstallDelay", default, skip_serializing_if = "Option::is_none")]
    pub enforced_software_update_minor_os_deferred_install_delay: Option<Ranged<1, 90>>,
    /// `enforcedSoftwareUpdateNonOSDeferredInstallDelay` (default 30; 1–90; not iOS): This restriction allows the administrator to set how many days to delay an app software update on the device.
    #[serde(rename = "enforcedSoftwareUpdateNonOSDeferredInstallDelay", default, skip_serializing_if = "Option::is_none")]
    pub enforced_software_update_non_os_deferred_install_delay: Option<Ranged<1, 90>>,
    /// `forceAirDropUnmanaged` (default false): If `true`, the system considers AirDrop to be an unmanaged drop target.
    #[serde(rename = "forceAirDropUnmanaged", default, skip_serializing_if = "Option::is_none")]
    pub force_air_drop_unmanaged: Option<bool>,
    /// `forceAirPlayIncomingRequestsPairingPassword` (default false; not iOS): If `true`, the system forces all devices sending AirPlay requests to this device to use a pairing password.
    #[serde(rename = "forceAirPlayIncomingRequestsPairingPassword", default, skip_serializing_if = "Option::is_none")]
    pub force_air_play_incoming_requests_pairing_password: Option<bool>,
    /// `forceAirPlayOutgoingRequestsPairingPassword` (default false): If `true`, the system forces all devices receiving AirPlay requests from this device to use a pairing password.
    #[serde(rename = "forceAirPlayOutgoingRequestsPairingPassword", default, skip_serializing_if = "Option::is_none")]
    pub force_air_play_outgoing_requests_pairing_password: Option<bool>,
    /// `forceAirPrintTrustedTLSRequirement` (default false; supervised): If `true`, the system requires trusted certificates for TLS printing communication.
    #[serde(rename = "forceAirPrintTrustedTLSRequirement", default, skip_serializing_if = "Option::is_none")]
    pub force_air_print_trusted_tls_requirement: Option<bool>,
    /// `forceAssistantProfanityFilter` (default false; supervised): If `true`, the system forces the use of the profanity filter for Siri and dictation.
    #[serde(rename = "forceAssistantProfanityFilter", default, skip_serializing_if = "Option::is_none")]
    pub force_assistant_profanity_filter: Option<bool>,
    /// `forceAuthenticationBeforeAutoFill` (default false; supervised): If `true`, the user needs to authenticate before the system can autofill passwords or credit card information in Safari and apps.
    #[serde(rename = "forceAuthenticationBeforeAutoFill", default, skip_serializing_if = "Option::is_none")]
    pub force_authentication_before_auto_fill: Option<bool>,
    /// `forceAutomaticDateAndTime` (default false; supervised): If `true`, the system enables the Set Automatically feature in Date & Time and the user can't disable it.
    #[serde(rename = "forceAutomaticDateAndTime", default, skip_serializing_if = "Option::is_none")]
    pub force_automatic_date_and_time: Option<bool>,
    /// `forceBypassScreenCaptureAlert` (default false; not iOS): If set to true, then the presentation of a screen capture alert will be bypassed.
    #[serde(rename = "forceBypassScreenCaptureAlert", default, skip_serializing_if = "Option::is_none")]
    pub force_bypass_screen_capture_alert: Option<bool>,
    /// `forceClassroomAutomaticallyJoinClasses` (default false; supervised): If `true`, the system automatically gives permission to the teacher's requests without prompting the student.
    #[serde(rename = "forceClassroomAutomaticallyJoinClasses", default, skip_serializing_if = "Option::is_none")]
    pub force_classroom_automatically_join_classes: Option<bool>,
    /// `forceClassroomRequestPermissionToLeaveClasses` (default false; supervised): If `true`, a student enrolled in an unmanaged course through Classroom needs to request permission from the teacher to leave the course.
    #[serde(rename = "forceClassroomRequestPermissionToLeaveClasses", default, skip_serializing_if = "Option::is_none")]
    pub force_classroom_request_permission_to_leave_classes: Option<bool>,
    /// `forceClassroomUnpromptedAppAndDeviceLock` (default false; supervised): If `true`, the system allows the teacher to lock apps or the device without prompting the student.
    #[serde(rename = "forceClassroomUnpromptedAppAndDeviceLock", default, skip_serializing_if = "Option::is_none")]
    pub force_classroom_unprompted_app_and_device_lock: Option<bool>,
    /// `forceClassroomUnpromptedScreenObservation` (default false; supervised): If `true` and `ScreenObservationPermissionModificationAllowed` is also `true` in the Education payload, a student enrolled in a managed course through the Classroom app automatically gives permission to that course teacher's requests to observe the student's screen without prompting the student.
    #[serde(rename = "forceClassroomUnpromptedScreenObservation", default, skip_serializing_if = "Option::is_none")]
    pub force_classroom_unprompted_screen_observation: Option<bool>,
    /// `forceDelayedAppSoftwareUpdates` (default false; not iOS): If `true`, the system delays user visibility of non-OS software updates.
    #[serde(rename = "forceDelayedAppSoftwareUpdates", default, skip_serializing_if = "Option::is_none")]
    pub force_delayed_app_software_updates: Option<bool>,
    /// `forceDelayedMajorSoftwareUpdates` (default false; not iOS): If `true`, the system delays user visibility of major OS updates.
    #[serde(rename = "forceDelayedMajorSoftwareUpdates", default, skip_serializing_if = "Option::is_none")]
    pub force_delayed_major_software_updates: Option<bool>,
    /// `forceDelayedSoftwareUpdates` (default false; supervised): If `true`, the system delays user visibility of software updates.
    #[serde(rename = "forceDelayedSoftwareUpdates", default, skip_serializing_if = "Option::is_none")]
    pub force_delayed_software_updates: Option<bool>,
    /// `forceEncryptedBackup` (default false): If `true`, the system encrypts all backups.
    #[serde(rename = "forceEncryptedBackup", default, skip_serializing_if = "Option::is_none")]
    pub force_encrypted_backup: Option<bool>,
    /// `forceITunesStorePasswordEntry` (default false): If `true`, the system forces the user to enter their iTunes password for each transaction.
    #[serde(rename = "forceITunesStorePasswordEntry", default, skip_serializing_if = "Option::is_none")]
    pub force_itunes_store_password_entry: Option<bool>,
    /// `forceLimitAdTracking` (default false): If `true`, the system limits ad tracking.
    #[serde(rename = "forceLimitAdTracking", default, skip_serializing_if = "Option::is_none")]
    pub force_limit_ad_tracking: Option<bool>,
    /// `forceOnDeviceOnlyDictation` (default false): If `true`, the system disables connections to Siri servers for the purposes of dictation.
    #[serde(rename = "forceOnDeviceOnlyDictation", default, skip_serializing_if = "Option::is_none")]
    pub force_on_device_only_dictation: Option<bool>,
    /// `forceOnDeviceOnlyTranslation` (default false): If `true`, the device won't connect to Siri servers for the purposes of translation.
    #[serde(rename = "forceOnDeviceOnlyTranslation", default, skip_serializing_if = "Option::is_none")]
    pub force_on_device_only_translation: Option<bool>,
    /// `forcePreserveESIMOnErase` (default false; supervised): If `true`, the system preserves eSIM when it erases the device due to too many failed password attempts or the Erase All Content and Settings option in Settings > General > Reset.
    #[serde(rename = "forcePreserveESIMOnErase", default, skip_serializing_if = "Option::is_none")]
    pub force_preserve_esim_on_erase: Option<bool>,
    /// `forceWatchWristDetection` (default false): If `true`, the system forces a paired Apple Watch to use Wrist Detection.
    #[serde(rename = "forceWatchWristDetection", default, skip_serializing_if = "Option::is_none")]
    pub force_watch_wrist_detection: Option<bool>,
    /// `forceWiFiPowerOn` (default false; supervised): If `true`, the system prevents turning off Wi-Fi in Settings or Control Center, even by entering or leaving Airplane Mode.
    #[serde(rename = "forceWiFiPowerOn", default, skip_serializing_if = "Option::is_none")]
    pub force_wifi_power_on: Option<bool>,
    /// `forceWiFiToAllowedNetworksOnly` (default false; supervised): If `true`, the system limits the device to only join Wi-Fi networks set up through a configuration profile.
    #[serde(rename = "forceWiFiToAllowedNetworksOnly", default, skip_serializing_if = "Option::is_none")]
    pub force_wifi_to_allowed_networks_only: Option<bool>,
    /// `forceWiFiWhitelisting` (default false; supervised): Use `forceWiFiToAllowedNetworksOnly` instead.
    #[serde(rename = "forceWiFiWhitelisting", default, skip_serializing_if = "Option::is_none")]
    pub force_wifi_whitelisting: Option<bool>,
    /// `ratingApps` (default 1000; 0–1000): The maximum level of app content allowed on the device.
    #[serde(rename = "ratingApps", default, skip_serializing_if = "Option::is_none")]
    pub rating_apps: Option<Ranged<0, 1000>>,
    /// `ratingMovies` (default 1000; 0–1000): The maximum level of movie content allowed on the device.
    #[serde(rename = "ratingMovies", default, skip_serializing_if = "Option::is_none")]
    pub rating_movies: Option<Ranged<0, 1000>>,
    /// `ratingRegion`: The two-letter key that profile tools use to display the proper ratings for the given region.
    #[serde(rename = "ratingRegion", default, skip_serializing_if = "Option::is_none")]
    pub rating_region: Option<RatingRegion>,
    /// `ratingTVShows` (default 1000; 0–1000): The maximum level of TV content allowed on the device.
    #[serde(rename = "ratingTVShows", default, skip_serializing_if = "Option::is_none")]
    pub rating_tv_shows: Option<Ranged<0, 1000>>,
    /// `requireManagedPasteboard` (default false): If `true`, copy and paste functionality is limited by the `allowOpenFromManagedToUnmanaged` and `allowOpenFromUnmanagedToManaged` restrictions.
    #[serde(rename = "requireManagedPasteboard", default, skip_serializing_if = "Option::is_none")]
    pub require_managed_pasteboard: Option<bool>,
    /// `safariAcceptCookies` (default 2.0): Defines the conditions under which the device accepts cookies.
    #[serde(rename = "safariAcceptCookies", default, skip_serializing_if = "Option::is_none")]
    pub safari_accept_cookies: Option<CookiePolicy>,
    /// `safariAllowAutoFill` (default true; supervised): If `false`, the system disables Safari AutoFill for passwords, contact info, and credit cards and also prevents using the Keychain for AutoFill.
    #[serde(rename = "safariAllowAutoFill", default, skip_serializing_if = "Option::is_none")]
    pub safari_allow_auto_fill: Option<bool>,
    /// `safariAllowJavaScript` (default true): If `false`, Safari doesn't execute JavaScript.
    #[serde(rename = "safariAllowJavaScript", default, skip_serializing_if = "Option::is_none")]
    pub safari_allow_javascript: Option<bool>,
    /// `safariAllowPopups` (default true): If `false`, Safari doesn't allow pop-up windows.
    #[serde(rename = "safariAllowPopups", default, skip_serializing_if = "Option::is_none")]
    pub safari_allow_popups: Option<bool>,
    /// `safariForceFraudWarning` (default false): If `true`, the system enables Safari fraud warning.
    #[serde(rename = "safariForceFraudWarning", default, skip_serializing_if = "Option::is_none")]
    pub safari_force_fraud_warning: Option<bool>,
    /// `whitelistedAppBundleIDs` (supervised): Use `allowListedAppBundleIDs` instead.
    #[serde(rename = "whitelistedAppBundleIDs", default, skip_serializing_if = "Option::is_none")]
    pub whitelisted_app_bundle_ids: Option<Vec<String>>,
}

mod check;
mod values;

pub use values::*;

#[cfg(test)]
mod tests;
