//! The device-trust factor's settings: service providers (`/v1/saml/providers`), signing keys
//! and their rotation (`/v1/saml/keys`), and the device-access profile (`/v1/saml/access-profile`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::json::{body, JsonBody};
use super::{ApiError, ApiState};
use crate::saml::NewProvider;
use crate::store::saml::{ProviderRow, SamlKeyRow};

/// `GET /v1/saml/providers`: every provider, and this IdP's entity ID, SSO and metadata URLs
/// (what the provider's admin enters).
pub async fn providers(State(st): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let list = st.store.saml().providers().await?;
    Ok(Json(json!({"idp": {"entity_id": st.saml.entity_id(), "sso_url": st.saml.sso_url(), "metadata_url": st.saml.entity_id()}, "providers": list})))
}

/// `POST /v1/saml/providers`.
pub async fn create_provider(State(st): State<ApiState>, b: JsonBody<NewProvider>) -> Result<(StatusCode, Json<ProviderRow>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.saml.put_provider(None, body(b)?).await?)))
}

/// `GET /v1/saml/providers/{id}` (id, name or entity ID).
pub async fn provider(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<ProviderRow>, ApiError> {
    Ok(Json(st.store.saml().provider(id.clone()).await?.ok_or_else(|| ApiError::NotFound(format!("no provider {id}")))?))
}

/// `PUT /v1/saml/providers/{id}`.
pub async fn put_provider(State(st): State<ApiState>, Path(id): Path<String>, b: JsonBody<NewProvider>) -> Result<Json<ProviderRow>, ApiError> {
    Ok(Json(st.saml.put_provider(Some(&id), body(b)?).await?))
}

/// `DELETE /v1/saml/providers/{id}`.
pub async fn delete_provider(State(st): State<ApiState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    let p = st.store.saml().provider(id.clone()).await?.ok_or_else(|| ApiError::NotFound(format!("no provider {id}")))?;
    st.store.saml().delete_provider(p.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/saml/keys`: published keys (certificates only), the signing one marked `active`.
pub async fn keys(State(st): State<ApiState>) -> Result<Json<Vec<SamlKeyRow>>, ApiError> {
    st.saml.metadata().await?;
    Ok(Json(st.store.saml().keys().await?))
}

/// Body of `POST /v1/saml/keys`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// Sign with it at once (default false: published first, activated later).
    #[serde(default)]
    pub activate: bool,
}

/// `POST /v1/saml/keys`: a new signing key, published in the metadata.
pub async fn create_key(State(st): State<ApiState>, raw: axum::body::Bytes) -> Result<(StatusCode, Json<SamlKeyRow>), ApiError> {
    let req: NewKey = super::json::parse_json_or_default(&raw)?;
    Ok((StatusCode::CREATED, Json(st.saml.new_key(req.activate).await?)))
}

/// `POST /v1/saml/keys/{id}/activate`: signs with this key from now on.
pub async fn activate_key(State(st): State<ApiState>, Path(id): Path<String>) -> Result<Json<Vec<SamlKeyRow>>, ApiError> {
    if !st.store.saml().activate(id.clone()).await? {
        return Err(ApiError::NotFound(format!("no key {id}")));
    }
    Ok(Json(st.store.saml().keys().await?))
}

/// `DELETE /v1/saml/keys/{id}`: retires a key that does not sign (it leaves the metadata).
pub async fn delete_key(State(st): State<ApiState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    if !st.store.saml().delete_key(id.clone()).await? {
        return Err(ApiError::NotFound(format!("no key {id}")));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/saml/access-profile`: creates (or brings up to date) the device-access profile, a
/// SCEP payload whose certificate (`CN={DeviceUDID}`, challenge `{DeviceAccessChallenge}`) the
/// device's browser presents to the factor. Assign it like any profile.
pub async fn access_profile(State(st): State<ApiState>) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Some(scep) = &st.scep else {
        return Err(ApiError::Conflict("the SCEP server is disabled ([scep] enabled = false): no access certificate can be issued".into()));
    };
    let base = st.saml.entity_id().trim_end_matches("/saml/metadata").to_string();
    let host = url::Url::parse(&base).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_else(|| "mdm".into());
    let prefix: Vec<&str> = host.split('.').rev().collect();
    let identifier = format!("{}.device-access", prefix.join("."));
    let existing = st.store.library().profile_by_identifier(identifier.clone()).await?;
    // Stable UUIDs (from the identifier), so the profile keeps its payload UUIDs across updates.
    let uuid = |s: &str| {
        let h = openssl::sha::sha256(format!("{identifier}/{s}").as_bytes());
        let mut b = [0u8; 16];
        b.copy_from_slice(&h[..16]);
        uuid::Builder::from_random_bytes(b).into_uuid().to_string().to_uppercase()
    };
    let doc = json!({
        "PayloadType": "Configuration", "PayloadVersion": 1, "PayloadIdentifier": identifier, "PayloadUUID": uuid("profile"),
        "PayloadDisplayName": "Device access", "PayloadDescription": "A certificate that proves to sign-in pages that this is a managed device.",
        "PayloadContent": [{
            "PayloadType": "com.apple.security.scep", "PayloadVersion": 1, "PayloadIdentifier": format!("{identifier}.scep"),
            "PayloadUUID": uuid("scep"), "PayloadDisplayName": "Device access certificate",
            "PayloadContent": {
                "URL": format!("{base}{}", scep.path()), "Name": "device-access",
                "Subject": [[["CN", "{DeviceUDID}"]], [["O", "Device access"]]],
                "Challenge": "{DeviceAccessChallenge}", "Keysize": 2048, "KeyType": "RSA", "KeyUsage": 1
            }
        }]
    });
    let sub = crate::profiles::input::from_json(&doc)?;
    Ok(match existing {
        Some(p) => {
            let (row, _) = st.profiles.update(&p.id, sub).await?;
            (StatusCode::OK, Json(json!({"profile": row.id, "identifier": row.identifier, "version": row.version})))
        }
        None => {
            let row = st.profiles.create(sub).await?;
            (StatusCode::CREATED, Json(json!({"profile": row.id, "identifier": row.identifier, "version": row.version})))
        }
    })
}
