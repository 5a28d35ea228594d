//! Tables of compliance (inventory, policies, judgements, history, actions, profile holds, the
//! fleet-wide sweep) and of the device-trust factor (SAML keys and service providers).

diesel::table! {
    device_inventory (device_id) {
        device_id -> Text,
        device_info -> Nullable<Text>,
        device_info_at -> Nullable<Timestamp>,
        security_info -> Nullable<Text>,
        security_info_at -> Nullable<Timestamp>,
        certificates -> Nullable<Text>,
        certificates_at -> Nullable<Timestamp>,
        profiles -> Nullable<Text>,
        profiles_at -> Nullable<Timestamp>,
        apps_at -> Nullable<Timestamp>,
        requested_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    compliance_policies (id) {
        id -> Text,
        name -> Text,
        description -> Text,
        enabled -> Bool,
        scope -> Text,
        rules -> Text,
        actions -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    device_compliance (device_id) {
        device_id -> Text,
        status -> Text,
        reasons -> Text,
        pending -> Text,
        policies -> Text,
        version -> BigInt,
        since -> Timestamp,
        evaluated_at -> Timestamp,
    }
}

diesel::table! {
    compliance_history (id) {
        id -> BigInt,
        device_id -> Text,
        status -> Text,
        previous -> Text,
        reasons -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    compliance_actions (id) {
        id -> BigInt,
        device_id -> Text,
        policy_id -> Text,
        policy -> Text,
        action -> Text,
        direction -> Text,
        target -> Nullable<Text>,
        status -> Text,
        detail -> Nullable<Text>,
        command_uuid -> Nullable<Text>,
        call_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    compliance_profile_holds (device_id, profile_id, kind, policy_id) {
        device_id -> Text,
        profile_id -> Text,
        kind -> Text,
        policy_id -> Text,
    }
}

diesel::table! {
    compliance_sweep (one) {
        one -> Integer,
        requested_at -> Nullable<Timestamp>,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
        owner -> Nullable<Text>,
        reason -> Nullable<Text>,
        evaluated -> BigInt,
        changed -> BigInt,
    }
}

diesel::table! {
    saml_keys (id) {
        id -> Text,
        cert_pem -> Text,
        key_sealed -> Binary,
        active -> Bool,
        created_at -> Timestamp,
        activated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    saml_providers (id) {
        id -> Text,
        name -> Text,
        entity_id -> Text,
        acs_url -> Text,
        name_id -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}
