//! Admin HTTP API: NanoMDM-compatible raw endpoints (`PUT /v1/enqueue/{ids}`, `/v1/push/{ids}`)
//! and JSON endpoints for devices and commands. Every route requires a token whose role allows it
//! ([`auth`], [`authz`]); this is the only place the server answers 401.

pub(crate) mod apps;
pub(crate) mod auth;
pub(crate) mod authz;
pub(crate) mod commands;
pub(crate) mod compliance;
pub(crate) mod connectors;
pub(crate) mod devices;
pub(crate) mod enqueue;
pub(crate) mod enrollment;
pub(crate) mod error;
pub(crate) mod events;
pub(crate) mod groups;
pub(crate) mod json;
pub(crate) mod profiles;
pub(crate) mod pushcert;
pub(crate) mod saml;
pub(crate) mod scep;
pub(crate) mod shared;
pub mod tokens;
pub(crate) mod webhooks;

use axum::routing::{delete, get, post, put};
use axum::Router;

use crate::push::PushService;
use crate::store::Store;

pub use error::ApiError;

/// Shared state of the admin API.
#[derive(Clone, Debug)]
pub struct ApiState {
    /// Storage.
    pub store: Store,
    /// Push.
    pub push: PushService,
    /// The command queue.
    pub queue: crate::queue::Queue,
    /// The SCEP server, when enabled.
    pub scep: Option<crate::scep_server::ScepService>,
    /// The profile library.
    pub profiles: crate::profiles::ProfileLibrary,
    /// Enrollment: users, tokens, blueprints.
    pub enroll: crate::enroll::EnrollService,
    /// Managed apps.
    pub apps: crate::apps::AppService,
    /// Seals and opens secrets at rest (UnlockTokens, command bodies that carry secrets).
    pub vault: crate::sealed::Vault,
    /// Authentication: the bootstrap key, API tokens, the failure limiter.
    pub gate: std::sync::Arc<auth::Gate>,
    /// Where outbound URLs (webhooks) may point.
    pub outbound: std::sync::Arc<crate::outbound::Outbound>,
    /// Shared devices: pools, check-out, check-in.
    pub shared: crate::shared::SharedService,
    /// Connectors and automations.
    pub connectors: crate::connectors::ConnectorService,
    /// Compliance: inventory, policies, posture.
    pub compliance: crate::compliance::ComplianceService,
    /// The device-trust factor (SAML).
    pub saml: crate::saml::SamlService,
}

/// The `/v1` router, with authentication applied to every route.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/enqueue/{ids}", put(enqueue::enqueue_raw))
        .route("/v1/push/{ids}", get(enqueue::push).post(enqueue::push))
        .route("/v1/devices", get(devices::list))
        .route("/v1/devices/{id}", get(devices::show))
        .route("/v1/devices/{id}/commands", get(devices::commands))
        .route("/v1/devices/{id}/reenroll", post(devices::allow_reenroll).delete(devices::forbid_reenroll))
        .route("/v1/commands", post(commands::create))
        .route("/v1/commands/{uuid}", get(commands::show))
        .route("/v1/pushcert", get(pushcert::list).put(pushcert::import))
        .route("/v1/pushcert/{topic}", delete(pushcert::remove))
        .route("/metrics", get(pushcert::metrics))
        .route("/v1/scep/challenges", post(scep::create_challenge))
        .route("/v1/scep/certs", get(scep::certs))
        .route("/v1/profiles", get(profiles::list).post(profiles::create))
        .route("/v1/profiles/{id}", get(profiles::show).put(profiles::update).delete(profiles::remove))
        .route("/v1/profiles/{id}/mobileconfig", get(profiles::download))
        .route("/v1/profiles/{id}/assign", post(profiles::assign))
        .route("/v1/profiles/{id}/unassign", post(profiles::unassign))
        .route("/v1/profiles/{id}/sync", post(profiles::sync))
        .route("/v1/devices/{id}/profiles", get(profiles::device_profiles))
        .route("/v1/devices/{id}/profiles/check", post(profiles::check))
        .route("/v1/groups", get(groups::list).post(groups::create))
        .route("/v1/groups/{name}", get(groups::show).delete(groups::remove))
        .route("/v1/groups/{name}/members", post(groups::add_members))
        .route("/v1/groups/{name}/members/{device}", delete(groups::remove_member))
        .route("/v1/users", get(enrollment::users).post(enrollment::create_user))
        .route("/v1/users/{name}", get(enrollment::user).put(enrollment::update_user).delete(enrollment::delete_user))
        .route("/v1/enrollment-tokens", get(enrollment::tokens).post(enrollment::create_token))
        .route("/v1/enrollment-tokens/{id}", delete(enrollment::revoke_token))
        .route("/v1/blueprints", get(enrollment::blueprints))
        .route("/v1/blueprints/{name}", get(enrollment::blueprint).put(enrollment::put_blueprint).delete(enrollment::delete_blueprint))
        .route("/v1/apps", get(apps::list).post(apps::create))
        .route("/v1/apps/presets", get(apps::presets))
        .route("/v1/apps/{id}", get(apps::show).put(apps::update).delete(apps::remove))
        .route("/v1/apps/{id}/assign", post(apps::assign))
        .route("/v1/apps/{id}/unassign", post(apps::unassign))
        .route("/v1/devices/{id}/apps", get(apps::device_apps))
        .route("/v1/devices/{id}/apps/check", post(apps::check))
        .route("/v1/devices/{id}/attributes", get(apps::device_attributes).put(apps::put_device_attributes))
        .route("/v1/groups/{name}/attributes", get(apps::group_attributes).put(apps::put_group_attributes))
        .route("/v1/secrets", get(apps::secrets))
        .route("/v1/secrets/{name}", put(apps::put_secret).delete(apps::delete_secret))
        .route("/v1/tokens", get(tokens::list).post(tokens::create))
        .route("/v1/tokens/{id}", delete(tokens::revoke))
        .route("/v1/audit", get(tokens::audit))
        .route("/v1/events", get(events::feed))
        .route("/v1/devices/{id}/events", get(events::device_events))
        .route("/v1/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/v1/webhooks/{id}", get(webhooks::show).patch(webhooks::change).delete(webhooks::remove))
        .route("/v1/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route("/v1/webhooks/{id}/dead-letters", get(webhooks::dead_letters))
        .route("/v1/webhooks/{id}/replay", post(webhooks::replay))
        .route("/v1/shared/pools", get(shared::pools).post(shared::create_pool))
        .route("/v1/shared/pools/{name}", get(shared::pool).put(shared::put_pool).delete(shared::delete_pool))
        .route("/v1/shared/checkout", post(shared::checkout))
        .route("/v1/shared/checkin", post(shared::checkin))
        .route("/v1/shared/sessions", get(shared::sessions))
        .route("/v1/shared/sessions/{id}", get(shared::session))
        .route("/v1/shared/users/{user}/sessions", get(shared::user_sessions))
        .route("/v1/devices/{id}/sessions", get(shared::device_sessions))
        .route("/v1/connectors", get(connectors::list).post(connectors::create))
        .route("/v1/connectors/{id}", get(connectors::show).put(connectors::update).delete(connectors::remove))
        .route("/v1/connectors/{id}/test", post(connectors::test))
        .route("/v1/connectors/{id}/test-logout", post(connectors::test_logout))
        .route("/v1/connectors/{id}/calls", get(connectors::calls))
        .route("/v1/connector-calls", get(connectors::all_calls))
        .route("/v1/connector-calls/{id}/retry", post(connectors::retry))
        .route("/v1/automations", get(connectors::automations).post(connectors::create_automation))
        .route("/v1/automations/{id}", get(connectors::automation).patch(connectors::change_automation).delete(connectors::delete_automation))
        .route("/v1/compliance/policies", get(compliance::policies).post(compliance::create_policy))
        .route("/v1/compliance/policies/{id}", get(compliance::policy).put(compliance::put_policy).delete(compliance::delete_policy))
        .route("/v1/compliance/evaluate", post(compliance::evaluate))
        .route("/v1/compliance/sweep", get(compliance::sweep))
        .route("/v1/compliance/summary", get(compliance::summary))
        .route("/v1/devices/{id}/compliance", get(compliance::device))
        .route("/v1/devices/{id}/inventory", get(compliance::inventory).post(compliance::refresh))
        .route("/v1/posture/devices", get(compliance::posture_changes))
        .route("/v1/posture/devices/{id}", get(compliance::posture))
        .route("/v1/saml/providers", get(saml::providers).post(saml::create_provider))
        .route("/v1/saml/providers/{id}", get(saml::provider).put(saml::put_provider).delete(saml::delete_provider))
        .route("/v1/saml/keys", get(saml::keys).post(saml::create_key))
        .route("/v1/saml/keys/{id}/activate", post(saml::activate_key))
        .route("/v1/saml/keys/{id}", delete(saml::delete_key))
        .route("/v1/saml/access-profile", post(saml::access_profile))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), auth::require))
        .with_state(state)
}

/// Splits a `{ids}` path segment (`a,b,c`) into ids, refusing empty ones.
pub fn split_ids(raw: &str) -> Result<Vec<String>, ApiError> {
    let ids: Vec<String> = raw.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    if ids.is_empty() {
        return Err(ApiError::BadRequest("no enrollment ids given".into()));
    }
    let mut seen = std::collections::HashSet::new();
    Ok(ids.into_iter().filter(|i| seen.insert(i.clone())).collect())
}
