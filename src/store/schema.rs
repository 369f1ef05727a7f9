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
        time_zone -> Text,
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
        store_ids -> Nullable<Text>,
        ledger -> Nullable<Text>,
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

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    reason_codes (tenant_id, code) {
        tenant_id -> Uuid,
        code -> Text,
        description -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    incidents (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        store_id -> Uuid,
        cause -> Text,
        description -> Text,
        staff_ids -> Text,
        reported_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    gestures (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        customer_id -> Uuid,
        store_id -> Uuid,
        kind -> Text,
        status -> Text,
        reason_code -> Text,
        story -> Text,
        staff_ids -> Text,
        incident_id -> Nullable<Uuid>,
        effective_on -> Date,
        currency -> Text,
        amount_minor -> Nullable<BigInt>,
        due_on -> Nullable<Date>,
        applies_to -> Nullable<Text>,
        retail_value_minor -> Nullable<BigInt>,
        cost_minor -> Nullable<BigInt>,
        expires_on -> Nullable<Date>,
        estimated_value_minor -> Nullable<BigInt>,
        paid_minor -> BigInt,
        waived_minor -> BigInt,
        redeemed_minor -> BigInt,
        expired_minor -> BigInt,
        requested_by -> Text,
        requested_role -> Text,
        decision_rule -> Text,
        write_off_of -> Nullable<Uuid>,
        reversal_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        policy_version -> Integer,
        approval -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    policy_versions (tenant_id, version) {
        tenant_id -> Uuid,
        version -> Integer,
        document -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    events (seq) {
        seq -> BigInt,
        txid -> BigInt,
        tenant_id -> Uuid,
        id -> Uuid,
        #[sql_name = "type"]
        event_type -> Text,
        entity_type -> Text,
        entity_id -> Text,
        data -> Nullable<Text>,
        created_at -> Timestamp,
        store_ids -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    write_offs (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        customer_id -> Uuid,
        store_id -> Uuid,
        currency -> Text,
        amount_minor -> BigInt,
        reason_code -> Text,
        story -> Text,
        requested_by -> Text,
        approved_by -> Nullable<Text>,
        decision_rule -> Text,
        policy_version -> Integer,
        write_off_of -> Nullable<Uuid>,
        effective_on -> Date,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    write_off_reviews (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        write_off_id -> Uuid,
        outcome -> Text,
        note -> Nullable<Text>,
        reviewer -> Text,
        reviewer_role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    periods (tenant_id, month) {
        tenant_id -> Uuid,
        month -> Text,
        state -> Text,
        closed_by -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
        close_reason -> Nullable<Text>,
        forced -> Bool,
        totals -> Nullable<Text>,
        digest -> Nullable<Text>,
        reopened_by -> Nullable<Text>,
        reopened_at -> Nullable<Timestamp>,
        reopen_reason -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    account_maps (tenant_id) {
        tenant_id -> Uuid,
        document -> Text,
        updated_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    waiver_allocations (tenant_id, waiver_id, gesture_id) {
        tenant_id -> Uuid,
        waiver_id -> Uuid,
        gesture_id -> Uuid,
        amount_minor -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    ledger_transactions (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        kind -> Text,
        gesture_id -> Nullable<Uuid>,
        payment_id -> Nullable<Uuid>,
        redemption_id -> Nullable<Uuid>,
        reverses -> Nullable<Uuid>,
        effective_on -> Date,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    entries (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        transaction_id -> Uuid,
        account -> Text,
        customer_id -> Nullable<Uuid>,
        currency -> Text,
        debit_minor -> BigInt,
        credit_minor -> BigInt,
        effective_on -> Date,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    balances (tenant_id, account, currency, shard) {
        tenant_id -> Uuid,
        account -> Text,
        currency -> Text,
        customer_id -> Nullable<Uuid>,
        debit_minor -> BigInt,
        credit_minor -> BigInt,
        entry_count -> BigInt,
        shard -> SmallInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    customer_ledger_totals (tenant_id, customer_id, account, currency) {
        tenant_id -> Uuid,
        customer_id -> Uuid,
        account -> Text,
        currency -> Text,
        debit_minor -> BigInt,
        credit_minor -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    memo_totals (tenant_id, customer_id, memo, currency) {
        tenant_id -> Uuid,
        customer_id -> Uuid,
        memo -> Text,
        currency -> Text,
        total_minor -> BigInt,
        count -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    payments (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        gesture_id -> Uuid,
        customer_id -> Uuid,
        store_id -> Uuid,
        currency -> Text,
        amount_minor -> BigInt,
        recovery_minor -> BigInt,
        status -> Text,
        transaction_id -> Uuid,
        reversal_reason -> Nullable<Text>,
        requested_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        paid_on -> Date,
        receipt_ref -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    redemptions (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        customer_id -> Uuid,
        store_id -> Uuid,
        currency -> Text,
        amount_minor -> BigInt,
        transaction_id -> Uuid,
        requested_by -> Text,
        created_at -> Timestamp,
        receipt_ref -> Nullable<Text>,
        occurred_on -> Date,
        status -> Text,
        reversal_reason -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    client_refs (tenant_id, store_id, kind, client_ref) {
        tenant_id -> Uuid,
        store_id -> Uuid,
        kind -> Text,
        client_ref -> Text,
        entity_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    report_totals (tenant_id, dim, month, store_id, kind, currency, val, shard) {
        tenant_id -> Uuid,
        dim -> Text,
        month -> Date,
        store_id -> Uuid,
        kind -> Text,
        currency -> Text,
        val -> Text,
        shard -> SmallInt,
        n -> BigInt,
        value_minor -> BigInt,
        amount_minor -> BigInt,
        retail_minor -> BigInt,
        cost_minor -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    open_promise_totals (tenant_id, store_id, currency, due_on, shard) {
        tenant_id -> Uuid,
        store_id -> Uuid,
        currency -> Text,
        due_on -> Date,
        shard -> SmallInt,
        n -> BigInt,
        owed_minor -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    promise_outcome_totals (tenant_id, month, store_id, outcome, shard) {
        tenant_id -> Uuid,
        store_id -> Uuid,
        month -> Text,
        outcome -> Text,
        shard -> SmallInt,
        n -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    overdue_notices (tenant_id, gesture_id) {
        tenant_id -> Uuid,
        gesture_id -> Uuid,
        due_on -> Date,
        noted_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    redemption_lots (tenant_id, redemption_id, gesture_id) {
        tenant_id -> Uuid,
        redemption_id -> Uuid,
        gesture_id -> Uuid,
        amount_minor -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    sales (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        customer_id -> Uuid,
        store_id -> Uuid,
        sale_ref -> Text,
        occurred_at -> Timestamp,
        sale_date -> Date,
        currency -> Text,
        amount_minor -> BigInt,
        refunded_minor -> BigInt,
        recorded_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    sale_refunds (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        sale_id -> Uuid,
        amount_minor -> BigInt,
        refunded_on -> Date,
        reason -> Nullable<Text>,
        recorded_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    value_models (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        version -> Integer,
        currency -> Text,
        as_of -> Date,
        time_unit -> Text,
        penalizer -> Text,
        customers -> BigInt,
        bgnbd -> Text,
        gamma_gamma -> Text,
        fitted_by -> Text,
        fitted_at -> Timestamp,
        duration_ms -> BigInt,
        usable -> Bool,
        unusable_reason -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    console_links (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        code_hash -> Text,
        subject -> Text,
        role -> Text,
        stores -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        session_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    console_sessions (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        token_hash -> Text,
        subject -> Text,
        role -> Text,
        stores -> Nullable<Text>,
        via -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        ended_by -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    console_logins (id) {
        id -> Uuid,
        state_hash -> Text,
        browser_hash -> Text,
        nonce -> Text,
        verifier -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    webhook_endpoints (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        url -> Text,
        description -> Text,
        event_types -> Nullable<Text>,
        enabled -> Bool,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_until -> Nullable<Timestamp>,
        feed_cursor -> Nullable<Uuid>,
        failing_since -> Nullable<Timestamp>,
        disabled_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    webhook_deliveries (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        endpoint_id -> Uuid,
        event_id -> Uuid,
        event_type -> Text,
        payload -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_status -> Nullable<Integer>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    webhook_attempts (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        delivery_id -> Uuid,
        at -> Timestamp,
        status -> Nullable<Integer>,
        latency_ms -> Integer,
        response -> Nullable<Text>,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::store::sql_types::Uuid;

    policy_proposals (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        base_version -> Integer,
        document -> Text,
        loosens -> Text,
        state -> Text,
        proposed_by -> Text,
        proposed_at -> Timestamp,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        note -> Nullable<Text>,
        version -> Nullable<Integer>,
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
    reason_codes,
    incidents,
    gestures,
    waiver_allocations,
    ledger_transactions,
    entries,
    balances,
    memo_totals,
    customer_ledger_totals,
    payments,
    redemptions,
    redemption_lots,
    client_refs,
    overdue_notices,
    report_totals,
    open_promise_totals,
    promise_outcome_totals,
    policy_versions,
    policy_proposals,
    events,
    write_offs,
    write_off_reviews,
    periods,
    account_maps,
    sales,
    sale_refunds,
    value_models,
    console_links,
    console_sessions,
    console_logins,
    webhook_endpoints,
    webhook_deliveries,
    webhook_attempts,
);

/// Every table, for tools that must see all of them (row counts in tests, checks).
pub(crate) const ALL_TABLES: &[&str] = &[
    "tenants",
    "service_keys",
    "stores",
    "staff",
    "staff_stores",
    "customers",
    "audit_events",
    "audit_chains",
    "idempotency_keys",
    "reason_codes",
    "incidents",
    "gestures",
    "waiver_allocations",
    "ledger_transactions",
    "entries",
    "balances",
    "memo_totals",
    "customer_ledger_totals",
    "payments",
    "redemptions",
    "redemption_lots",
    "client_refs",
    "overdue_notices",
    "report_totals",
    "open_promise_totals",
    "promise_outcome_totals",
    "policy_versions",
    "events",
    "write_offs",
    "write_off_reviews",
    "periods",
    "account_maps",
    "sales",
    "sale_refunds",
    "value_models",
    "console_links",
    "console_sessions",
    "console_logins",
    "webhook_endpoints",
    "webhook_deliveries",
    "webhook_attempts",
];
