//! Reports as the API answers them.

use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::ids::{CustomerId, GestureId, StaffId, StoreId};

/// One customer's praise.
#[derive(Serialize)]
pub(crate) struct Praise {
    pub(crate) gesture_id: GestureId,
    pub(crate) customer_id: CustomerId,
    pub(crate) effective_on: NaiveDate,
    pub(crate) words: String,
}

/// One staff member at one store.
#[derive(Serialize)]
pub(crate) struct StaffRecognitions {
    pub(crate) staff_id: StaffId,
    pub(crate) name: String,
    pub(crate) store_id: StoreId,
    pub(crate) count: i64,
    pub(crate) recognitions: Vec<Praise>,
}

/// The report.
#[derive(Serialize)]
pub(crate) struct RecognitionReport {
    pub(crate) from: NaiveDate,
    pub(crate) to: NaiveDate,
    pub(crate) staff: Vec<StaffRecognitions>,
}
