//! Signing in to the console and out of it: making one-time sign-in links,
//! opening a session with one (or with the identity provider's word), ending
//! sessions. Each writes its audit event, as every command does.

use chrono::{Duration, NaiveDateTime};

use crate::app::Ctx;
use crate::audit::{AuditCtx, NewEvent};
use crate::clock::Clock;
use crate::domain::ids::{SessionId, SignInLinkId};
use crate::domain::roles::Permission;
use crate::domain::session::{
    Grant, Lifetimes, LinkRefusal, Session, SessionState, SignInLink, Via,
};
use crate::error::Error;
use crate::store::DbConnection;
use crate::views::session::{SessionView, SignInLinkView};

/// A link just made: its record, and the code that goes in its URL (shown
/// once; only its hash is kept).
#[derive(Debug)]
pub struct NewLink {
    /// The link.
    pub link: SignInLink,
    /// The secret code.
    pub code: String,
}

/// A session just opened: its record and the cookie's value (known only to
/// the browser from now on).
#[derive(Debug)]
pub struct SignedIn {
    /// The session.
    pub session: Session,
    /// The secret the cookie carries.
    pub token: String,
}

/// Makes a one-time sign-in link for `grant`, valid for `ttl`
/// (`console.link_created`). An administrator makes links for anyone of the
/// tenant; the stores the grant names must be the tenant's.
pub fn create_link(
    conn: &mut DbConnection,
    ctx: &Ctx,
    grant: Grant,
    ttl: Duration,
) -> Result<NewLink, Error> {
    ctx.require(Permission::ConsoleUsers)?;
    ctx.require_tenant_wide()?;
    if grant.tenant != ctx.tenant {
        return Err(Error::NotFound(format!("no tenant {}", grant.tenant)));
    }
    Grant::check_subject(&grant.subject).map_err(|m| Error::field("subject", m))?;
    let max = Duration::seconds(
        i64::try_from(crate::domain::session::LINK_TTL_MAX_SECS).unwrap_or(i64::MAX),
    );
    if ttl <= Duration::zero() || ttl > max {
        return Err(Error::field(
            "ttl",
            "a sign-in link lives between 1 second and 7 days",
        ));
    }
    for store in grant.stores.iter().flatten() {
        if crate::store::stores::find(conn, ctx.tenant, *store)?.is_none() {
            return Err(Error::field(
                "stores",
                format!("no store {store} in this tenant"),
            ));
        }
    }
    let code = crate::auth::random_token(32).map_err(Error::internal)?;
    let link = SignInLink {
        id: SignInLinkId::new(),
        grant,
        created_by: ctx.actor_sub.clone(),
        created_at: ctx.now,
        expires_at: ctx.now + ttl,
        used_at: None,
    };
    crate::store::console::insert_link(conn, &link, &crate::auth::secret_hash(&code))?;
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::created(
            "console.link_created",
            "console_link",
            link.id,
            &SignInLinkView::from(&link),
        ),
    )?;
    Ok(NewLink { link, code })
}

/// The context of what a signed-in user does: the session's grant, as a
/// token's claims would give it.
pub fn ctx_of(grant: &Grant, request_id: &str, clock: &Clock) -> AuditCtx {
    AuditCtx {
        tenant: grant.tenant,
        actor_sub: grant.subject.clone(),
        actor_role: grant.role,
        actor_stores: grant.stores.clone(),
        request_id: request_id.to_owned(),
        now: clock.now(),
        clock: clock.clone(),
        ledger: crate::audit::LedgerWitness::default(),
    }
}

fn open_session(
    conn: &mut DbConnection,
    grant: Grant,
    via: Via,
    request_id: &str,
    clock: &Clock,
    lifetimes: Lifetimes,
    reason: String,
) -> Result<SignedIn, Error> {
    if !crate::store::tenants::exists(conn, grant.tenant)? {
        return Err(Error::NotFound(format!("no tenant {}", grant.tenant)));
    }
    let ctx = ctx_of(&grant, request_id, clock);
    let token = crate::auth::random_token(32).map_err(Error::internal)?;
    let session = Session::begin(grant, via, ctx.now, lifetimes);
    crate::store::console::insert_session(conn, &session, &crate::auth::secret_hash(&token))?;
    crate::store::audit::append(
        conn,
        &ctx,
        NewEvent::created(
            "console.signed_in",
            "console_session",
            session.id,
            &SessionView::from(&session),
        )
        .because(reason),
    )?;
    Ok(SignedIn { session, token })
}

/// Opens a session with a one-time link's code (`console.signed_in`, the
/// link marked used): the link's refusal when it is unknown, used or expired.
pub fn sign_in_with_link(
    conn: &mut DbConnection,
    code: &str,
    request_id: &str,
    clock: &Clock,
    lifetimes: Lifetimes,
) -> Result<Result<SignedIn, LinkRefusal>, Error> {
    let Some(link) =
        crate::store::console::link_by_code(conn, &crate::auth::secret_hash(code), true)?
    else {
        return Ok(Err(LinkRefusal::Unknown));
    };
    if let Some(refusal) = link.refusal(clock.now()) {
        return Ok(Err(refusal));
    }
    let signed_in = open_session(
        conn,
        link.grant.clone(),
        Via::Link,
        request_id,
        clock,
        lifetimes,
        format!("sign-in link {}", link.id),
    )?;
    crate::store::console::mark_link_used(conn, &link, signed_in.session.id, clock.now())?;
    Ok(Ok(signed_in))
}

/// Opens a session for what the identity provider vouched for
/// (`console.signed_in`).
pub fn sign_in_with_provider(
    conn: &mut DbConnection,
    grant: Grant,
    issuer: &str,
    request_id: &str,
    clock: &Clock,
    lifetimes: Lifetimes,
) -> Result<SignedIn, Error> {
    open_session(
        conn,
        grant,
        Via::Oidc,
        request_id,
        clock,
        lifetimes,
        format!("identity provider {issuer}"),
    )
}

/// The live session a cookie belongs to, its use recorded; or why the
/// browser is not signed in (`None`: no such session at all).
pub fn authenticate(
    conn: &mut DbConnection,
    token: &str,
    now: NaiveDateTime,
    lifetimes: Lifetimes,
) -> Result<Result<Session, Option<SessionState>>, Error> {
    let Some(session) =
        crate::store::console::session_by_token(conn, &crate::auth::secret_hash(token))?
    else {
        return Ok(Err(None));
    };
    match session.state(now, lifetimes) {
        SessionState::Live => {
            if session.needs_touch(now) {
                crate::store::console::touch(conn, session.grant.tenant, session.id, now)?;
            }
            Ok(Ok(session))
        }
        other => Ok(Err(Some(other))),
    }
}

/// Ends the actor's own session: signed out everywhere at once, since every
/// instance reads the same row (`console.signed_out`).
pub fn sign_out(conn: &mut DbConnection, ctx: &Ctx, id: SessionId) -> Result<(), Error> {
    let before = crate::store::console::session(conn, ctx.tenant, id)?;
    if before.grant.subject != ctx.actor_sub {
        return Err(Error::NotFound(format!("no session {id}")));
    }
    end(conn, ctx, before, "console.signed_out")
}

/// Ends anyone's session of the tenant (`console.session_revoked`).
pub fn revoke_session(conn: &mut DbConnection, ctx: &Ctx, id: SessionId) -> Result<(), Error> {
    ctx.require(Permission::ConsoleUsers)?;
    ctx.require_tenant_wide()?;
    let before = crate::store::console::session(conn, ctx.tenant, id)?;
    end(conn, ctx, before, "console.session_revoked")
}

fn end(
    conn: &mut DbConnection,
    ctx: &Ctx,
    before: Session,
    action: &'static str,
) -> Result<(), Error> {
    if !crate::store::console::end(conn, ctx.tenant, before.id, &ctx.actor_sub, ctx.now)? {
        // Ended already (by another tab, instance or administrator).
        return Ok(());
    }
    let mut after = before.clone();
    after.ended_at = Some(ctx.now);
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::changed(
            action,
            "console_session",
            before.id,
            &SessionView::from(&before),
            &SessionView::from(&after),
        ),
    )?;
    Ok(())
}

/// The tenant's open sessions, for an administrator.
pub fn open_sessions(conn: &mut DbConnection, ctx: &Ctx) -> Result<Vec<Session>, Error> {
    ctx.require(Permission::ConsoleUsers)?;
    ctx.require_tenant_wide()?;
    crate::store::console::open_sessions(conn, ctx.tenant, ctx.now)
}
