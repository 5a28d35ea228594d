//! How a simulated device answers each command: realistic result keys for the inventory
//! commands, state changes for profile commands, NotNow on demand, Error for what it does not know.

use super::device::{Handled, InstalledProfile, SimDevice};
use super::SimError;

type Dict = plist::Dictionary;

fn s(v: &str) -> plist::Value {
    plist::Value::String(v.to_string())
}

pub(crate) fn error_chain(code: i64, domain: &str, text: &str) -> plist::Value {
    let mut e = Dict::new();
    e.insert("ErrorCode".into(), plist::Value::Integer(code.into()));
    e.insert("ErrorDomain".into(), s(domain));
    e.insert("LocalizedDescription".into(), s(text));
    e.insert("USEnglishDescription".into(), s(text));
    plist::Value::Array(vec![plist::Value::Dictionary(e)])
}

/// Builds the result for `cmd` (a full `{CommandUUID, Command}` envelope) and updates the device.
pub fn answer(dev: &mut SimDevice, cmd: &Dict) -> Result<(Handled, Dict), SimError> {
    let uuid = cmd.get("CommandUUID").and_then(|v| v.as_string()).ok_or_else(|| SimError::BadCommand("no CommandUUID".into()))?.to_string();
    let body = cmd.get("Command").and_then(|v| v.as_dictionary()).ok_or_else(|| SimError::BadCommand("no Command dictionary".into()))?;
    let request_type = body.get("RequestType").and_then(|v| v.as_string()).unwrap_or("").to_string();
    let mut out = Dict::new();
    out.insert("CommandUUID".into(), s(&uuid));
    let status = match dev.not_now.get_mut(&request_type) {
        Some(n) if *n > 0 => {
            *n -= 1;
            "NotNow"
        }
        _ => run(dev, &request_type, body, &mut out),
    };
    out.insert("Status".into(), s(status));
    Ok((Handled { uuid, request_type, status: status.to_string() }, out))
}

fn run(dev: &mut SimDevice, request_type: &str, body: &Dict, out: &mut Dict) -> &'static str {
    match request_type {
        "DeviceInformation" => {
            let queries: Vec<String> = body
                .get("Queries")
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|q| q.as_string().map(str::to_string)).collect())
                .unwrap_or_default();
            let mut answers = Dict::new();
            for q in queries {
                if let Some(v) = device_value(dev, &q) {
                    answers.insert(q, v);
                }
            }
            out.insert("QueryResponses".into(), plist::Value::Dictionary(answers));
            "Acknowledged"
        }
        "ProfileList" => {
            let list = dev
                .profiles
                .values()
                .map(|p| {
                    let mut d = Dict::new();
                    d.insert("PayloadIdentifier".into(), s(&p.identifier));
                    d.insert("PayloadUUID".into(), s(&p.uuid));
                    d.insert("PayloadDisplayName".into(), s(&p.display_name));
                    d.insert("PayloadVersion".into(), plist::Value::Integer(p.version.into()));
                    d.insert("IsManaged".into(), plist::Value::Boolean(true));
                    d.insert("PayloadContent".into(), plist::Value::Array(vec![]));
                    plist::Value::Dictionary(d)
                })
                .collect();
            out.insert("ProfileList".into(), plist::Value::Array(list));
            "Acknowledged"
        }
        "InstallProfile" if dev.fail_profiles => {
            out.insert("ErrorChain".into(), error_chain(4001, "MCInstallationErrorDomain", "The profile could not be installed."));
            "Error"
        }
        "InstallProfile" => match body.get("Payload").and_then(|v| v.as_data()).map(|d| profile_from_payload(d, &dev.identity)) {
            Some(Ok(p)) => {
                dev.profiles.insert(p.identifier.clone(), p);
                "Acknowledged"
            }
            Some(Err(why)) => {
                out.insert("ErrorChain".into(), error_chain(1000, "MCProfileErrorDomain", &why));
                "Error"
            }
            None => {
                out.insert("ErrorChain".into(), error_chain(12001, "MCMDMErrorDomain", "Payload missing"));
                "CommandFormatError"
            }
        },
        "RemoveProfile" => {
            let id = body.get("Identifier").and_then(|v| v.as_string()).unwrap_or("");
            if dev.profiles.remove(id).is_some() {
                "Acknowledged"
            } else {
                out.insert("ErrorChain".into(), error_chain(1001, "MCProfileErrorDomain", "The profile is not installed."));
                "Error"
            }
        }
        "InstalledApplicationList" => {
            let apps = dev
                .apps
                .iter()
                .filter(|a| !a.uninstalled)
                .map(|a| {
                    let mut d = Dict::new();
                    d.insert("Identifier".into(), s(&a.identifier));
                    d.insert("Name".into(), s(&a.name));
                    d.insert("Version".into(), s(&a.version));
                    d.insert("ShortVersion".into(), s(&a.version));
                    d.insert("BundleSize".into(), plist::Value::Integer(48_000_000.into()));
                    plist::Value::Dictionary(d)
                })
                .collect();
            out.insert("InstalledApplicationList".into(), plist::Value::Array(apps));
            "Acknowledged"
        }
        "ManagedApplicationList" => {
            let mut list = Dict::new();
            for a in dev.apps.iter().filter(|a| a.managed) {
                let mut d = Dict::new();
                d.insert("Status".into(), s(if a.uninstalled { "ManagedButUninstalled" } else { "Managed" }));
                d.insert("HasConfiguration".into(), plist::Value::Boolean(a.configuration.is_some()));
                d.insert("HasFeedback".into(), plist::Value::Boolean(false));
                d.insert("IsValidated".into(), plist::Value::Boolean(true));
                d.insert("ManagementFlags".into(), plist::Value::Integer(1.into()));
                list.insert(a.identifier.clone(), plist::Value::Dictionary(d));
            }
            out.insert("ManagedApplicationList".into(), plist::Value::Dictionary(list));
            "Acknowledged"
        }
        "InstallApplication" => {
            // The simulated App Store knows apps by bundle id; enterprise apps come with theirs in
            // the manifest, which the simulator takes from the URL's file name.
            let id = match (body.get("Identifier"), body.get("ManifestURL"), body.get("iTunesStoreID")) {
                (Some(i), _, _) => i.as_string().map(str::to_string),
                (None, Some(u), _) => u.as_string().and_then(|u| u.rsplit('/').next()).map(|f| f.trim_end_matches(".plist").to_string()),
                _ => None,
            };
            match id.filter(|i| !i.is_empty()) {
                Some(id) => {
                    let configuration = body.get("Configuration").and_then(|v| v.as_dictionary()).cloned();
                    // Installing over an installed app updates it: its data stays.
                    let data = dev.apps.iter().find(|a| a.identifier == id && !a.uninstalled).map(|a| a.data.clone()).unwrap_or_default();
                    dev.apps.retain(|a| a.identifier != id);
                    dev.apps.push(crate::device::InstalledApp {
                        name: id.clone(),
                        identifier: id.clone(),
                        version: "1.0".into(),
                        managed: true,
                        configuration,
                        uninstalled: false,
                        data,
                    });
                    out.insert("Identifier".into(), s(&id));
                    out.insert("State".into(), s("Installing"));
                    "Acknowledged"
                }
                None => {
                    out.insert("ErrorChain".into(), error_chain(12024, "MCMDMErrorDomain", "The app could not be found in the App Store."));
                    "Error"
                }
            }
        }
        "RemoveApplication" => {
            let id = body.get("Identifier").and_then(|v| v.as_string()).unwrap_or("");
            if dev.apps.iter().any(|a| a.identifier == id && a.managed) {
                dev.apps.retain(|a| a.identifier != id);
                "Acknowledged"
            } else {
                out.insert("ErrorChain".into(), error_chain(12029, "MCMDMErrorDomain", "The app is not managed."));
                "Error"
            }
        }
        "SecurityInfo" => {
            let mut info = Dict::new();
            info.insert("HardwareEncryptionCaps".into(), plist::Value::Integer(3.into()));
            let present = dev.passcode.is_some();
            let compliant = present || !dev.passcode_required();
            info.insert("PasscodePresent".into(), plist::Value::Boolean(present));
            info.insert("PasscodeCompliant".into(), plist::Value::Boolean(compliant));
            info.insert("PasscodeCompliantWithProfiles".into(), plist::Value::Boolean(compliant));
            out.insert("SecurityInfo".into(), plist::Value::Dictionary(info));
            "Acknowledged"
        }
        "CertificateList" => {
            let mut c = Dict::new();
            c.insert("CommonName".into(), s(&dev.udid));
            c.insert("IsIdentity".into(), plist::Value::Boolean(true));
            c.insert("Data".into(), plist::Value::Data(dev.identity.cert.to_der().unwrap_or_default()));
            out.insert("CertificateList".into(), plist::Value::Array(vec![plist::Value::Dictionary(c)]));
            "Acknowledged"
        }
        "DeviceConfigured" => {
            dev.awaiting_configuration = false;
            "Acknowledged"
        }
        "Settings" => {
            // iOS answers each item on its own in the `Settings` array.
            let mut results = Vec::new();
            for item in body.get("Settings").and_then(|v| v.as_array()).into_iter().flatten().filter_map(|i| i.as_dictionary()) {
                let ok = match item.get("Item").and_then(|v| v.as_string()) {
                    Some("DeviceName") => {
                        if let Some(n) = item.get("DeviceName").and_then(|v| v.as_string()) {
                            dev.device_name = n.to_string();
                        }
                        true
                    }
                    Some("ApplicationConfiguration") => {
                        let id = item.get("Identifier").and_then(|v| v.as_string()).unwrap_or("");
                        let cfg = item.get("Configuration").and_then(|v| v.as_dictionary()).cloned();
                        match dev.apps.iter_mut().find(|a| a.identifier == id && a.managed && !a.uninstalled) {
                            Some(app) => {
                                app.configuration = cfg;
                                true
                            }
                            None => false,
                        }
                    }
                    _ => true,
                };
                let mut r = Dict::new();
                r.insert("Status".into(), s(if ok { "Acknowledged" } else { "Error" }));
                if !ok {
                    r.insert("ErrorChain".into(), error_chain(12029, "MCMDMErrorDomain", "The app is not managed."));
                }
                results.push(plist::Value::Dictionary(r));
            }
            out.insert("Settings".into(), plist::Value::Array(results));
            "Acknowledged"
        }
        // iOS clears the passcode only with its own UnlockToken.
        "ClearPasscode" if body.get("UnlockToken").and_then(|v| v.as_data()) != Some(dev.unlock_token.as_slice()) => {
            out.insert("ErrorChain".into(), error_chain(12052, "MCMDMErrorDomain", "The unlock token is invalid."));
            "Error"
        }
        "ClearPasscode" => {
            dev.passcode = None;
            "Acknowledged"
        }
        "DeviceLock"
        | "EraseDevice"
        | "RestartDevice"
        | "ShutDownDevice"
        | "LogOutUser"
        | "DeleteUser"
        | "Restrictions"
        | "ProvisioningProfileList"
        | "AvailableOSUpdates" => "Acknowledged",
        _ => {
            out.insert("ErrorChain".into(), error_chain(12021, "MCMDMErrorDomain", "Unknown command"));
            "Error"
        }
    }
}

fn device_value(dev: &SimDevice, query: &str) -> Option<plist::Value> {
    Some(match query {
        "UDID" => s(&dev.udid),
        "DeviceName" => s(&dev.device_name),
        "OSVersion" => s(&dev.os_version),
        "BuildVersion" => s(&dev.build_version),
        "ModelName" => s(&dev.model_name),
        "Model" => s(&dev.model),
        "ProductName" => s(&dev.product_name),
        "SerialNumber" => s(&dev.serial),
        "IMEI" => s(&dev.imei),
        "DeviceCapacity" => plist::Value::Real(128.0),
        "AvailableDeviceCapacity" => plist::Value::Real(97.5),
        "BatteryLevel" => plist::Value::Real(0.82),
        "WiFiMAC" => s("f0:18:98:00:00:01"),
        "BluetoothMAC" => s("f0:18:98:00:00:02"),
        "IsSupervised" => plist::Value::Boolean(true),
        "IsMultiUser" => plist::Value::Boolean(false),
        "IsActivationLockEnabled" => plist::Value::Boolean(false),
        _ => return None,
    })
}

/// A profile as a device reads it.
pub(crate) struct Opened {
    /// The profile, payloads decrypted.
    pub dict: plist::Dictionary,
    /// Subject of the signer, when signed.
    pub signer: Option<String>,
    /// Whether the payloads came encrypted.
    pub was_encrypted: bool,
}

/// Reads a profile as iOS does: plain or CMS-signed (the signature must verify), with
/// `EncryptedPayloadContent` decrypted with `identity`'s key when given.
pub(crate) fn open_profile(data: &[u8], identity: Option<&mdm_pki::Issued>) -> Result<Opened, String> {
    use mdm_profiles::cms;
    let unwrapped = cms::unwrap(data, None).map_err(|e| format!("The profile signature is invalid: {e}"))?;
    let mut dict = crate::plist_body::parse_dict(&unwrapped.content).map_err(|e| format!("The profile is not a plist: {e}"))?;
    let was_encrypted = dict.contains_key("EncryptedPayloadContent");
    if let (true, Some(id)) = (was_encrypted, identity) {
        cms::decrypt_payload_content(&mut dict, &id.cert, &id.key).map_err(|e| format!("The profile could not be decrypted: {e}"))?;
    }
    Ok(Opened { dict, signer: unwrapped.signer.as_ref().map(|c| cms::subject_line(c)), was_encrypted })
}

/// Reads a profile from InstallProfile's Payload as a device does: a plain plist or CMS-signed
/// (the signature must verify), with `EncryptedPayloadContent` decrypted with the device's key.
fn profile_from_payload(data: &[u8], identity: &mdm_pki::Issued) -> Result<InstalledProfile, String> {
    let opened = open_profile(data, Some(identity))?;
    let (dict, was_encrypted) = (opened.dict, opened.was_encrypted);
    let get = |k: &str| dict.get(k).and_then(|v| v.as_string()).map(str::to_string);
    let identifier = get("PayloadIdentifier").ok_or("The profile has no PayloadIdentifier")?;
    if get("PayloadType").as_deref() != Some("Configuration") {
        return Err("The profile's PayloadType is not Configuration".into());
    }
    Ok(InstalledProfile {
        identifier,
        uuid: get("PayloadUUID").unwrap_or_default(),
        display_name: get("PayloadDisplayName").unwrap_or_default(),
        version: dict.get("PayloadVersion").and_then(|v| v.as_signed_integer()).unwrap_or(1),
        signed_by: opened.signer,
        was_encrypted,
        content: dict,
    })
}
