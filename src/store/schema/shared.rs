//! Tables of shared devices and connectors (pools, sessions, actions, kiosk tokens,
//! connectors, automations, calls, signing keys).

diesel::table! {
    shared_pools (name) {
        name -> Text,
        description -> Text,
        staging_user -> Text,
        settings -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    shared_pool_members (target_kind, target) {
        target_kind -> Text,
        target -> Text,
        pool -> Text,
    }
}

diesel::table! {
    shared_sessions (id) {
        id -> Text,
        device_id -> Text,
        pool -> Text,
        username -> Text,
        email -> Nullable<Text>,
        full_name -> Nullable<Text>,
        open -> Bool,
        checked_out_at -> Timestamp,
        checked_out_by -> Text,
        checked_out_via -> Text,
        checked_in_at -> Nullable<Timestamp>,
        checked_in_by -> Nullable<Text>,
        checked_in_via -> Nullable<Text>,
        checkin_reason -> Nullable<Text>,
    }
}

diesel::table! {
    shared_actions (id) {
        id -> BigInt,
        session_id -> Text,
        phase -> Text,
        seq -> Integer,
        action -> Text,
        target -> Nullable<Text>,
        status -> Text,
        detail -> Nullable<Text>,
        command_uuid -> Nullable<Text>,
        call_id -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    kiosk_tokens (id) {
        id -> Text,
        device_id -> Text,
        token_hash -> Text,
        sealed -> Nullable<Binary>,
        issued_at -> Timestamp,
        rotated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    connectors (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        settings -> Text,
        secret -> Nullable<Binary>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    automations (id) {
        id -> Text,
        name -> Text,
        topic -> Text,
        condition -> Text,
        connector_id -> Text,
        enabled -> Bool,
        cursor -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    connector_calls (id) {
        id -> Text,
        connector_id -> Text,
        purpose -> Text,
        session_id -> Nullable<Text>,
        automation_id -> Nullable<Text>,
        event_id -> Nullable<BigInt>,
        device_id -> Nullable<Text>,
        vars -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        latency_ms -> Nullable<Integer>,
        answer -> Nullable<Text>,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    connector_keys (kid) {
        kid -> Text,
        private_key -> Binary,
        public_jwk -> Text,
        created_at -> Timestamp,
    }
}
