//! The console's sign-in links, sessions and OpenID Connect logins in flight.
//! Every secret is looked up by its SHA-256; none is ever stored.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{console_links, console_logins, console_sessions};
use crate::domain::ids::{LoginId, SessionId, SignInLinkId, TenantId};
use crate::domain::session::{Grant, Session, SignInLink, Via};
use crate::error::Error;

fn grant_of(
    tenant: TenantId,
    subject: String,
    role: &str,
    stores: Option<&str>,
) -> Result<Grant, Error> {
    Ok(Grant {
        tenant,
        subject,
        role: role
            .parse()
            .map_err(|e: String| Error::internal(format!("console row: {e}")))?,
        stores: Grant::stores_from_column(stores).map_err(Error::internal)?,
    })
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = console_links)]
struct LinkRow {
    tenant_id: TenantId,
    id: SignInLinkId,
    subject: String,
    role: String,
    stores: Option<String>,
    created_by: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
}

impl TryFrom<LinkRow> for SignInLink {
    type Error = Error;
    fn try_from(r: LinkRow) -> Result<Self, Error> {
        Ok(SignInLink {
            id: r.id,
            grant: grant_of(r.tenant_id, r.subject, &r.role, r.stores.as_deref())?,
            created_by: r.created_by,
            created_at: r.created_at,
            expires_at: r.expires_at,
            used_at: r.used_at,
        })
    }
}

/// Records a sign-in link under the hash of its code.
pub(crate) fn insert_link(
    conn: &mut DbConnection,
    link: &SignInLink,
    code_hash: &str,
) -> Result<(), Error> {
    diesel::insert_into(console_links::table)
        .values((
            console_links::tenant_id.eq(link.grant.tenant),
            console_links::id.eq(link.id),
            console_links::code_hash.eq(code_hash),
            console_links::subject.eq(&link.grant.subject),
            console_links::role.eq(link.grant.role.as_str()),
            console_links::stores.eq(link.grant.stores_column()),
            console_links::created_by.eq(&link.created_by),
            console_links::created_at.eq(link.created_at),
            console_links::expires_at.eq(link.expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The link whose code hashes to `code_hash`. With `lock`, its row is locked
/// for the transaction on PostgreSQL (SQLite has one writer), so two browsers
/// racing with one link cannot both use it.
pub(crate) fn link_by_code(
    conn: &mut DbConnection,
    code_hash: &str,
    lock: bool,
) -> Result<Option<SignInLink>, Error> {
    let q = console_links::table.filter(console_links::code_hash.eq(code_hash));
    let row: Option<LinkRow> = match conn {
        DbConnection::Pg(c) if lock => q
            .select(LinkRow::as_select())
            .for_update()
            .first(c)
            .optional()?,
        _ => q.select(LinkRow::as_select()).first(conn).optional()?,
    };
    row.map(SignInLink::try_from).transpose()
}

/// Marks a link used (by the session it opened).
pub(crate) fn mark_link_used(
    conn: &mut DbConnection,
    link: &SignInLink,
    session: SessionId,
    now: NaiveDateTime,
) -> Result<(), Error> {
    let n = diesel::update(
        console_links::table.filter(
            console_links::tenant_id
                .eq(link.grant.tenant)
                .and(console_links::id.eq(link.id))
                .and(console_links::used_at.is_null()),
        ),
    )
    .set((
        console_links::used_at.eq(now),
        console_links::session_id.eq(session),
    ))
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(Error::internal(format!(
            "link {} was used meanwhile",
            link.id
        )))
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = console_sessions)]
struct SessionRow {
    tenant_id: TenantId,
    id: SessionId,
    subject: String,
    role: String,
    stores: Option<String>,
    via: String,
    created_at: NaiveDateTime,
    last_seen_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    ended_at: Option<NaiveDateTime>,
}

impl TryFrom<SessionRow> for Session {
    type Error = Error;
    fn try_from(r: SessionRow) -> Result<Self, Error> {
        Ok(Session {
            id: r.id,
            via: Via::parse(&r.via)
                .ok_or_else(|| Error::internal(format!("session {} via {:?}", r.id, r.via)))?,
            grant: grant_of(r.tenant_id, r.subject, &r.role, r.stores.as_deref())?,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            expires_at: r.expires_at,
            ended_at: r.ended_at,
        })
    }
}

/// Records a new session under the hash of its cookie.
pub(crate) fn insert_session(
    conn: &mut DbConnection,
    s: &Session,
    token_hash: &str,
) -> Result<(), Error> {
    diesel::insert_into(console_sessions::table)
        .values((
            console_sessions::tenant_id.eq(s.grant.tenant),
            console_sessions::id.eq(s.id),
            console_sessions::token_hash.eq(token_hash),
            console_sessions::subject.eq(&s.grant.subject),
            console_sessions::role.eq(s.grant.role.as_str()),
            console_sessions::stores.eq(s.grant.stores_column()),
            console_sessions::via.eq(s.via.as_str()),
            console_sessions::created_at.eq(s.created_at),
            console_sessions::last_seen_at.eq(s.last_seen_at),
            console_sessions::expires_at.eq(s.expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The session whose cookie hashes to `token_hash` (one index probe).
pub(crate) fn session_by_token(
    conn: &mut DbConnection,
    token_hash: &str,
) -> Result<Option<Session>, Error> {
    console_sessions::table
        .filter(console_sessions::token_hash.eq(token_hash))
        .select(SessionRow::as_select())
        .first(conn)
        .optional()?
        .map(Session::try_from)
        .transpose()
}

/// One session of the tenant.
pub(crate) fn session(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: SessionId,
) -> Result<Session, Error> {
    console_sessions::table
        .filter(
            console_sessions::tenant_id
                .eq(tenant)
                .and(console_sessions::id.eq(id)),
        )
        .select(SessionRow::as_select())
        .first(conn)
        .optional()?
        .map(Session::try_from)
        .transpose()?
        .ok_or_else(|| Error::NotFound(format!("no session {id}")))
}

/// Records that a live session was used at `now`.
pub(crate) fn touch(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: SessionId,
    now: NaiveDateTime,
) -> Result<(), Error> {
    diesel::update(
        console_sessions::table.filter(
            console_sessions::tenant_id
                .eq(tenant)
                .and(console_sessions::id.eq(id))
                .and(console_sessions::ended_at.is_null()),
        ),
    )
    .set(console_sessions::last_seen_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Ends a session (signed out, or revoked by `by`); `false` when it had ended
/// already.
pub(crate) fn end(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: SessionId,
    by: &str,
    now: NaiveDateTime,
) -> Result<bool, Error> {
    let n = diesel::update(
        console_sessions::table.filter(
            console_sessions::tenant_id
                .eq(tenant)
                .and(console_sessions::id.eq(id))
                .and(console_sessions::ended_at.is_null()),
        ),
    )
    .set((
        console_sessions::ended_at.eq(now),
        console_sessions::ended_by.eq(by),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// The tenant's sessions that have not ended and are not past their absolute
/// end, newest first (at most 500: an administrator's list).
pub(crate) fn open_sessions(
    conn: &mut DbConnection,
    tenant: TenantId,
    now: NaiveDateTime,
) -> Result<Vec<Session>, Error> {
    console_sessions::table
        .filter(
            console_sessions::tenant_id
                .eq(tenant)
                .and(console_sessions::ended_at.is_null())
                .and(console_sessions::expires_at.gt(now)),
        )
        .select(SessionRow::as_select())
        .order(console_sessions::id.desc())
        .limit(500)
        .load(conn)?
        .into_iter()
        .map(Session::try_from)
        .collect()
}

/// An OpenID Connect sign-in between the redirect and the provider's answer.
#[derive(Clone, Debug)]
pub(crate) struct Login {
    /// Its id.
    pub id: LoginId,
    /// SHA-256 of the value of the browser's pre-login cookie.
    pub browser_hash: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE code verifier.
    pub verifier: String,
    /// When it began.
    pub created_at: NaiveDateTime,
    /// Its last moment.
    pub expires_at: NaiveDateTime,
    /// When its answer came back, if it did.
    pub used_at: Option<NaiveDateTime>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = console_logins)]
struct LoginRow {
    id: LoginId,
    browser_hash: String,
    nonce: String,
    verifier: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
}

/// Records a login under the hash of its `state`; logins older than a day
/// are forgotten on the way (they can never be answered).
pub(crate) fn insert_login(
    conn: &mut DbConnection,
    login: &Login,
    state_hash: &str,
) -> Result<(), Error> {
    diesel::delete(
        console_logins::table
            .filter(console_logins::created_at.lt(login.created_at - chrono::Duration::days(1))),
    )
    .execute(conn)?;
    diesel::insert_into(console_logins::table)
        .values((
            console_logins::id.eq(login.id),
            console_logins::state_hash.eq(state_hash),
            console_logins::browser_hash.eq(&login.browser_hash),
            console_logins::nonce.eq(&login.nonce),
            console_logins::verifier.eq(&login.verifier),
            console_logins::created_at.eq(login.created_at),
            console_logins::expires_at.eq(login.expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Takes the login whose `state` hashes to `state_hash` (locked on
/// PostgreSQL), marking it answered: a `state` is answered once.
pub(crate) fn take_login(
    conn: &mut DbConnection,
    state_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<Login>, Error> {
    let q = console_logins::table.filter(console_logins::state_hash.eq(state_hash));
    let row: Option<LoginRow> = match conn {
        DbConnection::Pg(c) => q
            .select(LoginRow::as_select())
            .for_update()
            .first(c)
            .optional()?,
        DbConnection::Sqlite(c) => q.select(LoginRow::as_select()).first(c).optional()?,
    };
    let Some(r) = row else { return Ok(None) };
    if r.used_at.is_none() {
        diesel::update(console_logins::table.filter(console_logins::id.eq(r.id)))
            .set(console_logins::used_at.eq(now))
            .execute(conn)?;
    }
    Ok(Some(Login {
        id: r.id,
        browser_hash: r.browser_hash,
        nonce: r.nonce,
        verifier: r.verifier,
        created_at: r.created_at,
        expires_at: r.expires_at,
        used_at: r.used_at,
    }))
}
