//! Reports that read what they need through indexes.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{gestures, staff};
use crate::domain::gesture::{GestureKind, GestureStatus};
use crate::domain::ids::{CustomerId, GestureId, StaffId, StoreId, TenantId};
use crate::error::AppError;

/// One recognition as the report lists it.
#[derive(Clone, Debug)]
pub struct Recognition {
    /// The gesture.
    pub gesture_id: GestureId,
    /// Who praised.
    pub customer_id: CustomerId,
    /// Where.
    pub store_id: StoreId,
    /// Whom.
    pub staff_ids: Vec<StaffId>,
    /// When it counts.
    pub effective_on: NaiveDate,
    /// The customer's words.
    pub story: String,
}

/// Staff ids and their names.
pub type StaffNames = Vec<(StaffId, String)>;

/// Recognitions in effect with `effective_on` in [from, to], at `stores` (all when
/// `None`), oldest first; and the names of the staff they name.
pub fn recognitions(
    conn: &mut DbConnection,
    tenant: TenantId,
    stores: Option<&[StoreId]>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(Vec<Recognition>, StaffNames), AppError> {
    let mut q = gestures::table
        .filter(
            gestures::tenant_id
                .eq(tenant)
                .and(gestures::kind.eq(GestureKind::Recognition.as_str()))
                .and(gestures::status.eq(GestureStatus::Approved.as_str()))
                .and(gestures::effective_on.ge(from))
                .and(gestures::effective_on.le(to)),
        )
        .select((
            gestures::id,
            gestures::customer_id,
            gestures::store_id,
            gestures::staff_ids,
            gestures::effective_on,
            gestures::story,
        ))
        .order((gestures::effective_on, gestures::id))
        .into_boxed();
    if let Some(s) = stores {
        q = q.filter(gestures::store_id.eq_any(s.to_vec()));
    }
    type Row = (GestureId, CustomerId, StoreId, String, NaiveDate, String);
    let rows: Vec<Row> = q.load(conn)?;
    let out: Vec<Recognition> = rows
        .into_iter()
        .map(
            |(gesture_id, customer_id, store_id, staff_ids, effective_on, story)| Recognition {
                gesture_id,
                customer_id,
                store_id,
                staff_ids: serde_json::from_str(&staff_ids).unwrap_or_default(),
                effective_on,
                story,
            },
        )
        .collect();
    let mut ids: Vec<StaffId> = out
        .iter()
        .flat_map(|r| r.staff_ids.iter().copied())
        .collect();
    ids.sort();
    ids.dedup();
    let names = if ids.is_empty() {
        Vec::new()
    } else {
        staff::table
            .filter(staff::tenant_id.eq(tenant).and(staff::id.eq_any(&ids)))
            .select((staff::id, staff::name))
            .load(conn)?
    };
    Ok((out, names))
}
