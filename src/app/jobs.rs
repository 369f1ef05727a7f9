//! Jobs that run a command once per item, each item in its own transaction
//! under the system's name (expiring pending requests and store credit,
//! noting overdue promises): the command line and the serve worker run them
//! the same way.

use crate::app::Ctx;
use crate::domain::ids::{GestureId, TenantId};
use crate::error::Error;
use crate::store::DbConnection;

/// Runs `command` on each (tenant, gesture), each in its own write
/// transaction as the system actor `job`: how many did something, and how
/// many failed (each failure logged with its tenant and item; the others
/// still run).
pub(crate) fn run_each<T>(
    conn: &mut DbConnection,
    clock: &crate::clock::Clock,
    job: &str,
    items: Vec<(TenantId, GestureId)>,
    command: impl Fn(&mut DbConnection, &Ctx, GestureId) -> Result<Option<T>, Error>,
) -> (usize, usize) {
    let (mut done, mut failed) = (0, 0);
    for (t, g) in items {
        let ctx = Ctx::system(t, job, clock.clone());
        match crate::store::write_tx(conn, |c| command(c, &ctx, g)) {
            Ok(did) => done += usize::from(did.is_some()),
            Err(e) => {
                tracing::error!(tenant = %t, item = %g, error = %e, "{job} failed for one item");
                failed += 1;
            }
        }
    }
    (done, failed)
}
