//! Stored idempotency records.

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::idempotency_keys;
use crate::domain::ids::TenantId;
use crate::error::{Error, ErrorCode};
use crate::idempotency::IdempotencyKey;

/// A stored response.
#[derive(Clone, Debug, Queryable)]
pub(crate) struct Stored {
    /// Fingerprint of the request that ran.
    pub fingerprint: String,
    /// Its status.
    pub status: i32,
    /// Its content type.
    pub content_type: String,
    /// Its body.
    pub body: String,
}

/// Takes the key's lock for this transaction. On PostgreSQL a second request
/// with the same key while the first runs → 409 `idempotency_in_flight` (instead
/// of waiting on, then failing against, the first one's insert). SQLite runs one
/// writer at a time, so there is nothing to take.
pub(crate) fn lock(
    conn: &mut DbConnection,
    tenant: TenantId,
    sub: &str,
    key: &IdempotencyKey,
) -> Result<(), Error> {
    if let DbConnection::Pg(c) = conn {
        #[derive(QueryableByName)]
        struct Got {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            ok: bool,
        }
        let got: Got = diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS ok")
            .bind::<diesel::sql_types::BigInt, _>(key.lock_id(&tenant.to_string(), sub))
            .get_result(c)?;
        if !got.ok {
            return Err(Error::Conflict {
                code: ErrorCode::IdempotencyInFlight,
                detail:
                    "a request with this Idempotency-Key is still being processed; retry shortly"
                        .into(),
                existing_id: None,
            });
        }
    }
    Ok(())
}

/// The stored response for the key, if any.
pub(crate) fn find(
    conn: &mut DbConnection,
    tenant: TenantId,
    sub: &str,
    key: &str,
) -> Result<Option<Stored>, Error> {
    Ok(idempotency_keys::table
        .filter(
            idempotency_keys::tenant_id
                .eq(tenant)
                .and(idempotency_keys::subject.eq(sub))
                .and(idempotency_keys::key.eq(key)),
        )
        .select((
            idempotency_keys::fingerprint,
            idempotency_keys::status,
            idempotency_keys::content_type,
            idempotency_keys::body,
        ))
        .first(conn)
        .optional()?)
}

/// Stores the answer of a request that ran, for the actor of `ctx`, stamped by
/// its clock.
pub(crate) fn insert(
    conn: &mut DbConnection,
    ctx: &crate::audit::AuditCtx,
    key: &IdempotencyKey,
    status: u16,
    content_type: &str,
    body: &str,
) -> Result<(), Error> {
    if let DbConnection::Pg(c) = conn {
        // With the command's writes held back, if it held any: one statement.
        use super::pg_text::{Bind, Write};
        const INSERT: &str = "INSERT INTO idempotency_keys (tenant_id, subject, key, fingerprint, \
            status, content_type, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
        let write = Write::new(
            &[],
            INSERT,
            vec![
                Bind::id(ctx.tenant.0),
                Bind::Text(ctx.actor_sub.clone()),
                Bind::Text(key.key.clone()),
                Bind::Text(key.fingerprint.clone()),
                Bind::Integer(i32::from(status)),
                Bind::Text(content_type.to_owned()),
                Bind::Text(body.to_owned()),
                Bind::Timestamp(ctx.now_again()),
            ],
        );
        super::pg_text::write_with_pending(c, write)?;
        return Ok(());
    }
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::tenant_id.eq(ctx.tenant),
            idempotency_keys::subject.eq(&ctx.actor_sub),
            idempotency_keys::key.eq(&key.key),
            idempotency_keys::fingerprint.eq(&key.fingerprint),
            idempotency_keys::status.eq(i32::from(status)),
            idempotency_keys::content_type.eq(content_type),
            idempotency_keys::body.eq(body),
            idempotency_keys::created_at.eq(ctx.now_again()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Deletes records created before `cutoff`; returns how many.
pub(crate) fn purge(conn: &mut DbConnection, cutoff: NaiveDateTime) -> Result<usize, Error> {
    if let DbConnection::Sqlite(c) = conn {
        // Keep the purge from holding the write lock for long on a big table.
        c.batch_execute("PRAGMA busy_timeout = 30000")?;
    }
    Ok(
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(cutoff)))
            .execute(conn)?,
    )
}
