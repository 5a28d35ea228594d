//! Portable diesel schema shared by the SQLite and PostgreSQL backends.
//! Both `migrations/` dirs create exactly these tables and columns.

diesel::table! {
    devices (id) {
        id -> Text,
        serial_number -> Nullable<Text>,
        model -> Nullable<Text>,
        model_name -> Nullable<Text>,
        product_name -> Nullable<Text>,
        os_version -> Nullable<Text>,
        build_version -> Nullable<Text>,
        device_name -> Nullable<Text>,
        imei -> Nullable<Text>,
        meid -> Nullable<Text>,
        bootstrap_token -> Nullable<Binary>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        enrolled_user -> Nullable<Text>,
        enroll_session_id -> Nullable<Text>,
        reenroll_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    cert_bindings (cert_hash) {
        cert_hash -> Text,
        device_id -> Text,
        subject -> Text,
        issuer -> Text,
        not_after -> Nullable<Timestamp>,
        created_at -> Timestamp,
        cert_der -> Nullable<Binary>,
    }
}

diesel::table! {
    enrollments (id) {
        id -> Text,
        device_id -> Text,
        channel -> Text,
        enrollment_type -> Text,
        user_id -> Nullable<Text>,
        user_short_name -> Nullable<Text>,
        user_long_name -> Nullable<Text>,
        topic -> Text,
        push_magic -> Nullable<Text>,
        token -> Nullable<Binary>,
        unlock_token -> Nullable<Binary>,
        enabled -> Bool,
        awaiting_configuration -> Bool,
        token_update_count -> BigInt,
        authenticated_at -> Nullable<Timestamp>,
        last_seen_at -> Nullable<Timestamp>,
        unenrolled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    commands (uuid) {
        uuid -> Text,
        request_type -> Text,
        body -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    enrollment_queue (id) {
        id -> BigInt,
        enrollment_id -> Text,
        command_uuid -> Text,
        status -> Text,
        priority -> Integer,
        not_now_count -> Integer,
        deliveries -> Integer,
        last_delivered_at -> Nullable<Timestamp>,
        done_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    command_results (id) {
        id -> BigInt,
        enrollment_id -> Text,
        command_uuid -> Text,
        status -> Text,
        body -> Binary,
        received_at -> Timestamp,
    }
}

diesel::table! {
    declarative_messages (id) {
        id -> BigInt,
        enrollment_id -> Text,
        endpoint -> Text,
        data -> Nullable<Binary>,
        received_at -> Timestamp,
    }
}

diesel::table! {
    push_certs (topic) {
        topic -> Text,
        subject -> Text,
        cert_chain_pem -> Text,
        key_sealed -> Binary,
        not_before -> Timestamp,
        not_after -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    push_state (enrollment_id) {
        enrollment_id -> Text,
        next_push_at -> Nullable<Timestamp>,
        attempts -> Integer,
        last_push_at -> Nullable<Timestamp>,
        last_result -> Nullable<Text>,
        last_error -> Nullable<Text>,
        token_stale_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
        token_updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    scep_certs (serial) {
        serial -> Text,
        subject -> Text,
        not_before -> Timestamp,
        not_after -> Timestamp,
        cert_der -> Binary,
        cert_hash -> Text,
        requester -> Text,
        transaction_id -> Text,
        device_id -> Nullable<Text>,
        created_at -> Timestamp,
        challenge_id -> Nullable<Text>,
        renewed_from -> Nullable<Text>,
    }
}

diesel::table! {
    scep_challenges (id) {
        id -> Text,
        challenge_hash -> Text,
        note -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        used_by -> Nullable<Text>,
    }
}

diesel::table! {
    profiles (id) {
        id -> Text,
        identifier -> Text,
        name -> Text,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    profile_versions (profile_id, version) {
        profile_id -> Text,
        version -> Integer,
        payload_uuid -> Text,
        body -> Binary,
        source -> Text,
        signer -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    device_groups (name) {
        name -> Text,
        description -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    group_members (group_name, device_id) {
        group_name -> Text,
        device_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    profile_assignments (profile_id, target_kind, target) {
        profile_id -> Text,
        target_kind -> Text,
        target -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    device_profiles (enrollment_id, profile_id) {
        enrollment_id -> Text,
        profile_id -> Text,
        identifier -> Text,
        version -> Integer,
        payload_uuid -> Text,
        status -> Text,
        command_uuid -> Nullable<Text>,
        detail -> Nullable<Text>,
        reinstalls -> Integer,
        updated_at -> Timestamp,
        checked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    users (username) {
        username -> Text,
        password_hash -> Text,
        full_name -> Nullable<Text>,
        email -> Nullable<Text>,
        group_name -> Nullable<Text>,
        blueprint -> Nullable<Text>,
        disabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    enrollment_tokens (id) {
        id -> Text,
        token_hash -> Text,
        note -> Nullable<Text>,
        max_uses -> Nullable<Integer>,
        uses -> Integer,
        username -> Nullable<Text>,
        group_name -> Nullable<Text>,
        blueprint -> Nullable<Text>,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    blueprints (name) {
        name -> Text,
        body -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    enroll_sessions (id) {
        id -> Text,
        method -> Text,
        token_id -> Nullable<Text>,
        username -> Nullable<Text>,
        group_name -> Nullable<Text>,
        blueprint -> Nullable<Text>,
        challenge_hash -> Nullable<Text>,
        udid -> Nullable<Text>,
        attributes -> Nullable<Text>,
        phase -> Integer,
        scep_challenge_id -> Nullable<Text>,
        mdm_challenge_id -> Nullable<Text>,
        client -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        updated_at -> Timestamp,
        enrolled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    apps (id) {
        id -> Text,
        name -> Text,
        bundle_id -> Text,
        itunes_store_id -> Nullable<BigInt>,
        manifest_url -> Nullable<Text>,
        management_flags -> Integer,
        attributes -> Nullable<Text>,
        config -> Nullable<Text>,
        preset -> Nullable<Text>,
        required -> Bool,
        config_version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    app_assignments (app_id, target_kind, target) {
        app_id -> Text,
        target_kind -> Text,
        target -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    device_apps (enrollment_id, app_id) {
        enrollment_id -> Text,
        app_id -> Text,
        bundle_id -> Text,
        status -> Text,
        command_uuid -> Nullable<Text>,
        detail -> Nullable<Text>,
        config_version -> Integer,
        reinstalls -> Integer,
        updated_at -> Timestamp,
        checked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    app_inventory (enrollment_id, bundle_id) {
        enrollment_id -> Text,
        bundle_id -> Text,
        name -> Nullable<Text>,
        version -> Nullable<Text>,
        managed_status -> Nullable<Text>,
        reported_at -> Timestamp,
    }
}

diesel::table! {
    app_events (id) {
        id -> BigInt,
        enrollment_id -> Text,
        app_id -> Text,
        kind -> Text,
        detail -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    custom_attributes (scope_kind, scope, name) {
        scope_kind -> Text,
        scope -> Text,
        name -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    secrets (name) {
        name -> Text,
        sealed -> Binary,
        hint -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        name -> Text,
        role -> Text,
        device_id -> Nullable<Text>,
        token_hash -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor -> Text,
        token_id -> Nullable<Text>,
        role -> Text,
        client -> Text,
        method -> Text,
        path -> Text,
        status -> Integer,
        detail -> Nullable<Text>,
    }
}

mod compliance;
mod shared;
pub use compliance::*;
pub use shared::*;

diesel::joinable!(enrollments -> devices (device_id));
diesel::joinable!(profile_versions -> profiles (profile_id));
diesel::joinable!(group_members -> device_groups (group_name));
diesel::joinable!(group_members -> devices (device_id));
diesel::joinable!(profile_assignments -> profiles (profile_id));
diesel::joinable!(device_profiles -> enrollments (enrollment_id));
diesel::joinable!(device_apps -> enrollments (enrollment_id));
diesel::joinable!(app_assignments -> apps (app_id));
diesel::joinable!(push_state -> enrollments (enrollment_id));
diesel::joinable!(cert_bindings -> devices (device_id));
diesel::joinable!(enrollment_queue -> enrollments (enrollment_id));
diesel::joinable!(enrollment_queue -> commands (command_uuid));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(webhook_dead_letters -> webhooks (webhook_id));
diesel::joinable!(webhook_replays -> webhooks (webhook_id));
diesel::joinable!(shared_pool_members -> shared_pools (pool));
diesel::joinable!(shared_actions -> shared_sessions (session_id));
diesel::joinable!(automations -> connectors (connector_id));
diesel::joinable!(connector_calls -> connectors (connector_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_tokens,
    audit_log,
    devices,
    cert_bindings,
    enrollments,
    commands,
    enrollment_queue,
    command_results,
    declarative_messages,
    push_certs,
    push_state,
    scep_certs,
    scep_challenges,
    profiles,
    profile_versions,
    device_groups,
    group_members,
    profile_assignments,
    device_profiles,
    users,
    enrollment_tokens,
    blueprints,
    enroll_sessions,
    apps,
    app_assignments,
    device_apps,
    app_inventory,
    app_events,
    secrets,
    custom_attributes,
    events,
    event_sequence,
    webhooks,
    webhook_deliveries,
    webhook_dead_letters,
    webhook_replays,
    shared_pools,
    shared_pool_members,
    shared_sessions,
    shared_actions,
    kiosk_tokens,
    connectors,
    automations,
    connector_calls,
    connector_keys,
    device_inventory,
    compliance_policies,
    device_compliance,
    compliance_history,
    compliance_actions,
    compliance_profile_holds,
    compliance_sweep,
    saml_keys,
    saml_providers,
);

diesel::table! {
    events (pk) {
        pk -> BigInt,
        id -> Nullable<BigInt>,
        topic -> Text,
        device_id -> Nullable<Text>,
        enrollment_id -> Nullable<Text>,
        body -> Text,
        payload -> Nullable<Binary>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    event_sequence (one) {
        one -> Integer,
        last_id -> BigInt,
        pruned_through -> BigInt,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        name -> Text,
        url -> Text,
        topics -> Text,
        format -> Text,
        secret -> Nullable<Binary>,
        enabled -> Bool,
        cursor -> BigInt,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        last_success_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        webhook_id -> Text,
        event_id -> BigInt,
        attempt -> Integer,
        outcome -> Text,
        status -> Nullable<Integer>,
        latency_ms -> Integer,
        answer -> Nullable<Text>,
        at -> Timestamp,
    }
}

diesel::table! {
    webhook_dead_letters (webhook_id, event_id) {
        webhook_id -> Text,
        event_id -> BigInt,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        dead_at -> Timestamp,
    }
}

diesel::table! {
    webhook_replays (webhook_id, event_id) {
        webhook_id -> Text,
        event_id -> BigInt,
    }
}
