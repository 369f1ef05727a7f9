//! Keys the service generated itself. On a first run without configured keys the
//! HS256 signing secret is generated here and kept with the data, so every
//! instance sharing the database (and `goodwill token`) signs and verifies alike.

use diesel::prelude::*;

use super::DbConnection;
use super::schema::service_keys;

/// Name of the generated HS256 signing secret.
pub(crate) const JWT_SECRET: &str = "jwt_hs256_secret";

/// The stored secret named `name`, if any.
pub(crate) fn get(conn: &mut DbConnection, name: &str) -> QueryResult<Option<String>> {
    service_keys::table
        .filter(service_keys::name.eq(name))
        .select(service_keys::secret)
        .first(conn)
        .optional()
}

/// Replaces the value stored under `name` (sealing a secret kept before).
pub(crate) fn replace(conn: &mut DbConnection, name: &str, secret: &str) -> QueryResult<()> {
    diesel::update(service_keys::table.filter(service_keys::name.eq(name)))
        .set(service_keys::secret.eq(secret))
        .execute(conn)
        .map(|_| ())
}

/// Stores `secret` under `name`.
pub(crate) fn insert(
    conn: &mut DbConnection,
    name: &str,
    secret: &str,
    now: chrono::NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(service_keys::table)
        .values((
            service_keys::name.eq(name),
            service_keys::secret.eq(secret),
            service_keys::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}
