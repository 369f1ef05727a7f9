//! The approval policy: versioned data, a new version per change.

use crate::app::Ctx;
use crate::audit::NewEvent;
use crate::domain::policy::Policy;
use crate::domain::roles::Permission;
use crate::error::Error;
use crate::store::DbConnection;
use crate::store::policy::PolicyVersion;
use crate::views::policy::PolicyView;

/// Stores `policy` as the tenant's next version, validated whole; it decides
/// every gesture requested from now on (`policy.updated`).
pub(crate) fn update_policy(
    conn: &mut DbConnection,
    ctx: &Ctx,
    policy: Policy,
) -> Result<PolicyVersion, Error> {
    ctx.require(Permission::PolicyWrite)?;
    ctx.require_tenant_wide()?;
    let (before, after) = crate::store::policy::put(conn, ctx, policy)?;
    crate::store::audit::append(
        conn,
        ctx,
        NewEvent::changed(
            "policy.updated",
            "policy",
            ctx.tenant,
            &PolicyView::of(before),
            &PolicyView::of(after.clone()),
        ),
    )?;
    Ok(after)
}
