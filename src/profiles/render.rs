//! Turns a library profile into what one device receives: variables filled in from the
//! device's record, the payload content encrypted to its identity certificate (when known and
//! enabled), the whole signed with the server's signing identity (when configured).

use mdm_profiles::cms::{self, CmsError, Signer};
use mdm_profiles::vars::{self, Missing};
use openssl::x509::X509;

use crate::store::library::DeviceContext;

/// Why a profile could not be prepared for a device.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The device lacks a value a variable needs.
    #[error(transparent)]
    Missing(#[from] Missing),
    /// The stored certificate could not be read.
    #[error("the device's stored certificate is unreadable: {0}")]
    BadCert(String),
    /// Encryption or signing failed.
    #[error(transparent)]
    Cms(#[from] CmsError),
}

/// How a custom attribute is referenced: `{Attribute.NAME}`.
pub const ATTRIBUTE_PREFIX: &str = "Attribute.";

/// The value of a built-in variable or custom attribute for one device; `None` when the device has not reported it.
pub fn device_value(ctx: &DeviceContext, name: &str) -> Option<String> {
    let d = &ctx.device;
    let v = match name {
        "DeviceSerialNumber" => d.serial_number.clone(),
        "DeviceUDID" => Some(d.id.clone()),
        "DeviceName" => d.device_name.clone(),
        "DeviceModel" => d.model_name.clone(),
        "DeviceProductName" => d.product_name.clone(),
        "DeviceOSVersion" => d.os_version.clone(),
        "DeviceIMEI" => d.imei.clone(),
        "DeviceMEID" => d.meid.clone(),
        // A shared device's user is its holder, or the pool's staging user while nobody holds it.
        "EnrollmentUser" | "SharedUser" if ctx.shared.is_some() => shared_user(ctx),
        "EnrollmentUserEmail" | "SharedUserEmail" if ctx.shared.is_some() => ctx.shared_user.as_ref().and_then(|u| u.0.clone()),
        "SharedUserFullName" => ctx.shared_user.as_ref().and_then(|u| u.1.clone()),
        "SharedPool" => ctx.shared.as_ref().map(|s| s.pool.name.clone()),
        "SharedStagingUser" => ctx.shared.as_ref().map(|s| s.pool.staging_user.clone()),
        "SharedUser" | "SharedUserEmail" => None,
        "EnrollmentUser" => ctx.enrolled_user.clone().or_else(|| ctx.enrollment.user_short_name.clone()),
        "EnrollmentUserEmail" => ctx.user_email.clone(),
        "EnrollmentID" => Some(ctx.enrollment.id.clone()),
        other => other.strip_prefix(ATTRIBUTE_PREFIX).and_then(|a| ctx.attributes.get(a).cloned()),
    };
    v.filter(|s| !s.trim().is_empty())
}

/// A shared device's current user: the holder, else the staging user.
fn shared_user(ctx: &DeviceContext) -> Option<String> {
    let s = ctx.shared.as_ref()?;
    Some(s.session.as_ref().map(|x| x.username.clone()).unwrap_or_else(|| s.pool.staging_user.clone()))
}

/// Signing and encryption settings, shared by every render.
#[derive(Debug, Default)]
pub struct Sealer {
    signer: Option<Signer>,
    encrypt: bool,
    access: Option<crate::identity::access::AccessChallenges>,
}

impl Sealer {
    /// `signer`: sign with it (unsigned without); `encrypt`: encrypt to each device's
    /// certificate when the server has it.
    pub fn new(signer: Option<Signer>, encrypt: bool) -> Sealer {
        Sealer { signer, encrypt, access: None }
    }

    /// Fills `{DeviceAccessChallenge}` with each device's access challenge.
    pub fn with_access(mut self, access: crate::identity::access::AccessChallenges) -> Sealer {
        self.access = Some(access);
        self
    }

    /// Whether profiles go out signed.
    pub fn signs(&self) -> bool {
        self.signer.is_some()
    }

    /// Whether profiles are encrypted to devices with a known certificate.
    pub fn encrypts(&self) -> bool {
        self.encrypt
    }

    /// The signing certificate, when there is one.
    pub fn signing_cert(&self) -> Option<&openssl::x509::X509Ref> {
        self.signer.as_ref().map(|s| s.cert())
    }

    /// Signs bytes as they are (no variables, no encryption); refuses when no signer is set.
    pub fn sign_only(&self, content: &[u8]) -> Result<Vec<u8>, CmsError> {
        match &self.signer {
            Some(s) => s.sign(content),
            None => Err(CmsError::Shape("no profile signing identity is configured ([profiles] signing_cert)".into())),
        }
    }

    /// Seals a profile made for one device: encrypted to `recipient` when given (whatever the
    /// `encrypt` setting: the caller decided), then signed when a signer is configured.
    pub fn seal_to(&self, profile: &mut plist::Dictionary, recipient: Option<&openssl::x509::X509Ref>) -> Result<Vec<u8>, CmsError> {
        cms::seal(profile, recipient, self.signer.as_ref())
    }

    /// Prepares `template` (a parsed profile dictionary, variables unexpanded) for one device.
    pub fn render(&self, template: &plist::Dictionary, ctx: &DeviceContext) -> Result<Vec<u8>, RenderError> {
        let mut v = plist::Value::Dictionary(template.clone());
        vars::substitute(&mut v, &|name| match (name, &self.access) {
            ("DeviceAccessChallenge", Some(a)) => Some(a.challenge(&ctx.device.id)),
            _ => device_value(ctx, name),
        })?;
        let plist::Value::Dictionary(mut dict) = v else {
            return Err(RenderError::Cms(CmsError::Shape("the profile is not a dictionary".into())));
        };
        let recipient = match (&ctx.cert_der, self.encrypt) {
            (Some(der), true) => Some(X509::from_der(der).map_err(|e| RenderError::BadCert(e.to_string()))?),
            _ => None,
        };
        Ok(cms::seal(&mut dict, recipient.as_deref(), self.signer.as_ref())?)
    }
}
