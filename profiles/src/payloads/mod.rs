//! Typed payloads. Each type names its `PayloadType`, (de)serializes with Apple's key spelling
//! and may add checks the schema files cannot express (`PayloadKind::check`). Anything without a
//! type here travels as [`Raw`].

pub mod applock;
pub mod certs;
pub mod mdm;
pub mod passcode;
pub mod restrictions;
pub mod scep;
pub mod shared_device;
pub mod sso;
pub mod traffic;
pub mod vpn;
pub mod webclip;
pub mod wifi;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::issue::Issue;
use crate::ProfileError;

/// A typed payload body (everything but the common `Payload*` keys).
pub trait PayloadKind: Serialize + DeserializeOwned + Clone + std::fmt::Debug + PartialEq {
    /// Apple's `PayloadType`.
    const TYPE: &'static str;

    /// Rules Apple states in prose that the schema files cannot express. `path` is where the
    /// payload sits (`PayloadContent[2]`); findings go to `out`.
    fn check(&self, _path: &str, _out: &mut Vec<Issue>) {}
}

/// A payload type without a typed model here: its keys pass through as a dictionary (validated
/// against Apple's schema when Apple documents the type).
#[derive(Debug, Clone, PartialEq)]
pub struct Raw {
    /// `PayloadType`.
    pub payload_type: String,
    /// Every key but the common `Payload*` ones.
    pub content: plist::Dictionary,
}

/// Serializes a typed payload to its dictionary.
pub(crate) fn encode<T: Serialize>(payload: &T) -> Result<plist::Dictionary, ProfileError> {
    match plist::to_value(payload) {
        Ok(plist::Value::Dictionary(d)) => Ok(d),
        Ok(_) => Err(ProfileError::Encode("a payload did not encode as a dictionary".into())),
        Err(e) => Err(ProfileError::Encode(e.to_string())),
    }
}

macro_rules! payload_types {
    ($($(#[$doc:meta])* $variant:ident($ty:path),)*) => {
        /// The body of one payload: a typed model, or [`Raw`].
        // Sizes differ (restrictions has many keys); bodies are built a few at a time, so
        // boxing would only make construction clumsier.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, PartialEq)]
        pub enum PayloadBody {
            $($(#[$doc])* $variant($ty),)*
            /// Any other payload type, passed through.
            Raw(Raw),
        }

        impl PayloadBody {
            /// Apple's `PayloadType`.
            pub fn payload_type(&self) -> &str {
                match self {
                    $(PayloadBody::$variant(_) => <$ty as PayloadKind>::TYPE,)*
                    PayloadBody::Raw(r) => &r.payload_type,
                }
            }

            /// The body's keys.
            pub fn to_dict(&self) -> Result<plist::Dictionary, ProfileError> {
                match self {
                    $(PayloadBody::$variant(p) => encode(p),)*
                    PayloadBody::Raw(r) => Ok(r.content.clone()),
                }
            }

            /// Semantic checks of the typed model (none for raw payloads).
            pub fn check(&self, path: &str, out: &mut Vec<Issue>) {
                match self {
                    $(PayloadBody::$variant(p) => p.check(path, out),)*
                    PayloadBody::Raw(_) => {}
                }
            }

            /// Reads a body: the typed model when the type is known and the keys fit it,
            /// otherwise [`Raw`] (the schema validator then says what does not fit).
            pub fn from_dict(payload_type: &str, content: plist::Dictionary) -> PayloadBody {
                let value = plist::Value::Dictionary(content);
                $(
                    if payload_type == <$ty as PayloadKind>::TYPE {
                        if let Ok(p) = plist::from_value::<$ty>(&value) {
                            return PayloadBody::$variant(p);
                        }
                    }
                )*
                let content = match value {
                    plist::Value::Dictionary(d) => d,
                    _ => plist::Dictionary::new(),
                };
                PayloadBody::Raw(Raw { payload_type: payload_type.to_string(), content })
            }

            /// For a raw body of a typed payload type: why the typed model refused it, unless
            /// only because of keys the model lacks (those pass through, and the schema check
            /// warns about keys Apple does not document).
            pub fn typed_error(&self) -> Option<String> {
                let PayloadBody::Raw(r) = self else { return None };
                let value = plist::Value::Dictionary(r.content.clone());
                let err = match r.payload_type.as_str() {
                    $(t if t == <$ty as PayloadKind>::TYPE => plist::from_value::<$ty>(&value).err()?.to_string(),)*
                    _ => return None,
                };
                // plist wraps serde's message as `Serde("…")`; the admin needs the message.
                let err = err.strip_prefix("Serde(\"").and_then(|e| e.strip_suffix("\")")).map(|e| e.replace("\\\"", "\"")).unwrap_or(err);
                (!err.contains("unknown field")).then_some(err)
            }

            /// Whether `payload_type` has a typed model.
            pub fn is_typed(payload_type: &str) -> bool {
                [$(<$ty as PayloadKind>::TYPE,)*].contains(&payload_type)
            }
        }

        $(
            impl From<$ty> for PayloadBody {
                fn from(p: $ty) -> PayloadBody {
                    PayloadBody::$variant(p)
                }
            }
        )*
    };
}

payload_types! {
    /// `com.apple.wifi.managed`.
    Wifi(wifi::Wifi),
    /// `com.apple.vpn.managed`.
    Vpn(vpn::Vpn),
    /// `com.apple.vpn.managed.applayer` (per-app VPN).
    AppLayerVpn(vpn::AppLayerVpn),
    /// `com.apple.vpn.managed.appmapping` (macOS per-app VPN mapping).
    VpnAppMapping(vpn::AppMapping),
    /// `com.apple.extensiblesso` (Redirect, Credential and the Kerberos extension).
    Sso(sso::ExtensibleSso),
    /// `com.apple.security.scep`.
    Scep(scep::Scep),
    /// `com.apple.security.root`.
    Root(certs::Root),
    /// `com.apple.security.pkcs1`.
    Pkcs1(certs::Pkcs1),
    /// `com.apple.security.pem`.
    Pem(certs::Pem),
    /// `com.apple.security.pkcs12`.
    Pkcs12(certs::Pkcs12),
    /// `com.apple.mdm`.
    Mdm(mdm::Mdm),
    /// `com.apple.mobiledevice.passwordpolicy`.
    Passcode(passcode::Passcode),
    /// `com.apple.applicationaccess` (restrictions).
    Restrictions(restrictions::Restrictions),
    /// `com.apple.webClip.managed`.
    WebClip(webclip::WebClip),
    /// `com.apple.app.lock` (single-app mode).
    AppLock(applock::AppLock),
    /// `com.apple.shareddeviceconfiguration`.
    SharedDevice(shared_device::SharedDevice),
}
