//! AppConfig presets with the exact keys vendors document. A preset only fills in the starting
//! configuration; the admin may edit the result like any other.

use std::collections::BTreeMap;

use super::appconfig::{AppConfig, ConfigValue, SECRET_PREFIX};

/// A preset's parameter.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Param {
    /// Name.
    pub name: &'static str,
    /// What it is.
    pub description: &'static str,
    /// Default, when it has one (`None`: required).
    pub default: Option<&'static str>,
}

/// A preset.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Preset {
    /// Name used in the API (`"preset": {"name": …}`).
    pub name: &'static str,
    /// What it configures.
    pub description: &'static str,
    /// Parameters.
    pub params: &'static [Param],
}

/// Every preset.
pub const PRESETS: [Preset; 3] = [
    Preset {
        name: "epic",
        description: "Epic Rover, Haiku, Limerick: EpicMobileDeviceID = the serial number, EpicMobileDeviceIDAppName = true (Epic's API logout finds the install by serial number and app name)",
        params: &[],
    },
    Preset {
        name: "okta-verify",
        description: "Okta Verify device integration: managementHint = the org's secret key (from Okta's Device Integrations settings, stored as a secret), UDID and SerialNumber of the device",
        params: &[Param { name: "secret", description: "name of the secret holding the management hint", default: Some("okta_management_hint") }],
    },
    Preset {
        name: "sphereshield",
        description: "SphereShield: deviceId/deviceIdType, username, and the companyName, defaultHost and packageKey from the vendor's AppConfig file",
        params: &[
            Param { name: "companyName", description: "exactly as entered in the SphereShield admin portal", default: None },
            Param { name: "defaultHost", description: "the external lyncdiscover URL", default: None },
            Param { name: "packageKey", description: "the package key from the vendor's AppConfig file", default: None },
            Param { name: "deviceIdType", description: "UDID or IMEI", default: Some("UDID") },
        ],
    },
];

fn s(v: &str) -> ConfigValue {
    ConfigValue::String(v.to_string())
}

/// The starting configuration of preset `name` with `params`; unknown presets, unknown or
/// missing parameters are refused with the reason.
pub fn build(name: &str, params: &BTreeMap<String, String>) -> Result<AppConfig, String> {
    let preset = PRESETS
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| format!("unknown preset {name}; one of: {}", PRESETS.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")))?;
    for k in params.keys() {
        if !preset.params.iter().any(|p| p.name == k) {
            return Err(format!("preset {name} has no parameter {k}"));
        }
    }
    let get = |k: &str| -> Result<String, String> {
        let p = preset.params.iter().find(|p| p.name == k).ok_or_else(|| format!("preset {name} has no parameter {k}"))?;
        match params.get(k).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            Some(v) => Ok(v.to_string()),
            None => p.default.map(str::to_string).ok_or_else(|| format!("preset {name} needs the parameter {k} ({})", p.description)),
        }
    };
    let mut c = AppConfig::new();
    match name {
        "epic" => {
            c.insert("EpicMobileDeviceID".into(), s("{DeviceSerialNumber}"));
            c.insert("EpicMobileDeviceIDAppName".into(), ConfigValue::Boolean(true));
        }
        "okta-verify" => {
            c.insert("managementHint".into(), s(&format!("{{{SECRET_PREFIX}{}}}", get("secret")?)));
            c.insert("UDID".into(), s("{DeviceUDID}"));
            c.insert("SerialNumber".into(), s("{DeviceSerialNumber}"));
        }
        "sphereshield" => {
            let id_type = get("deviceIdType")?;
            let device_id = match id_type.as_str() {
                "UDID" => "{DeviceUDID}",
                "IMEI" => "{DeviceIMEI}",
                other => return Err(format!("deviceIdType {other}: UDID or IMEI")),
            };
            c.insert("deviceId".into(), s(device_id));
            c.insert("deviceIdType".into(), s(&id_type));
            c.insert("username".into(), s("{EnrollmentUser}"));
            c.insert("companyName".into(), s(&get("companyName")?));
            c.insert("defaultHost".into(), s(&get("defaultHost")?));
            c.insert("packageKey".into(), s(&get("packageKey")?));
        }
        _ => return Err(format!("unknown preset {name}")),
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_keys() {
        let epic = super::super::appconfig::to_dict(&build("epic", &BTreeMap::new()).unwrap());
        assert_eq!(epic["EpicMobileDeviceID"].as_string(), Some("{DeviceSerialNumber}"));
        assert_eq!(epic["EpicMobileDeviceIDAppName"].as_boolean(), Some(true));
        let okta = super::super::appconfig::to_dict(&build("okta-verify", &BTreeMap::new()).unwrap());
        assert_eq!(okta["managementHint"].as_string(), Some("{Secret.okta_management_hint}"));
        assert_eq!(okta["UDID"].as_string(), Some("{DeviceUDID}"));
        assert_eq!(okta["SerialNumber"].as_string(), Some("{DeviceSerialNumber}"));
        let mut p = BTreeMap::new();
        assert!(build("sphereshield", &p).unwrap_err().contains("companyName"));
        for (k, v) in [("companyName", "General Hospital"), ("defaultHost", "lyncdiscover.example.org"), ("packageKey", "K-123")] {
            p.insert(k.to_string(), v.to_string());
        }
        let ss = super::super::appconfig::to_dict(&build("sphereshield", &p).unwrap());
        let keys: Vec<&String> = ss.keys().collect();
        assert_eq!(keys, ["companyName", "defaultHost", "deviceId", "deviceIdType", "packageKey", "username"]);
        assert_eq!(ss["deviceId"].as_string(), Some("{DeviceUDID}"));
        p.insert("colour".into(), "red".into());
        assert!(build("sphereshield", &p).is_err());
        assert!(build("nope", &BTreeMap::new()).is_err());
    }
}
