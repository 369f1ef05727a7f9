//! The diesel schema, written by hand to match both `migrations/` folders.

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    tenants (id) {
        id -> Uuid,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    service_keys (name) {
        name -> Text,
        secret -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    stores (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        name -> Text,
        code -> Text,
        currency -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    staff (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        name -> Text,
        external_ref -> Nullable<Text>,
        subject -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    staff_stores (tenant_id, staff_id, store_id) {
        tenant_id -> Uuid,
        staff_id -> Uuid,
        store_id -> Uuid,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    customers (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        external_ref -> Text,
        name -> Text,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        home_store_id -> Nullable<Uuid>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    audit_events (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        chain -> Text,
        seq -> BigInt,
        prev_hash -> Text,
        hash -> Text,
        occurred_at -> Timestamp,
        actor_sub -> Text,
        actor_role -> Text,
        actor_stores -> Nullable<Text>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        reason -> Nullable<Text>,
        request_id -> Text,
        before_state -> Nullable<Text>,
        after_state -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    audit_chains (tenant_id, chain) {
        tenant_id -> Uuid,
        chain -> Text,
        length -> BigInt,
        head_hash -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    idempotency_keys (tenant_id, subject, key) {
        tenant_id -> Uuid,
        subject -> Text,
        key -> Text,
        fingerprint -> Text,
        status -> Integer,
        content_type -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    tenants,
    service_keys,
    stores,
    staff,
    staff_stores,
    customers,
    audit_events,
    audit_chains,
    idempotency_keys,
);

/// Every table, for tools that must see all of them (row counts in tests, checks).
pub const ALL_TABLES: &[&str] = &[
    "tenants",
    "service_keys",
    "stores",
    "staff",
    "staff_stores",
    "customers",
    "audit_events",
    "audit_chains",
    "idempotency_keys",
];
