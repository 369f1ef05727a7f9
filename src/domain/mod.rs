//! The rules of the ledger: money, roles, and what makes a store, a staff member
//! or a customer valid. Nothing here knows about HTTP or SQL; values that exist
//! are valid (parse, don't validate).

pub(crate) mod account_map;
pub mod customer;
pub mod gesture;
pub mod ids;
pub(crate) mod incident;
pub mod ledger;
pub(crate) mod loosening;
pub mod money;
pub mod period;
pub(crate) mod policy;
pub mod roles;
pub(crate) mod sale;
pub mod session;
pub mod staff;
pub mod store;
pub(crate) mod text;
pub mod webhook;

/// A till's own references of what it records: `client_ref`, its durable
/// reference (unique per store, so an offline backlog older than any
/// idempotency key is still entered once), and `receipt_ref`, the POS's
/// receipt (unique per store).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TillRefs {
    /// The till's durable reference.
    pub client_ref: Option<String>,
    /// The POS's receipt.
    pub receipt_ref: Option<String>,
}

impl TillRefs {
    /// Both references as given (each a line of at most 100 characters, in
    /// Unicode NFC); every problem is named.
    pub fn parse(
        client_ref: Option<&str>,
        receipt_ref: Option<&str>,
    ) -> Result<Self, Vec<FieldError>> {
        let mut p = Problems::default();
        let client_ref = client_ref.and_then(|r| p.take(text::reference("client_ref", r, 100)));
        let receipt_ref = receipt_ref.and_then(|r| p.take(text::reference("receipt_ref", r, 100)));
        p.finish()?;
        Ok(Self {
            client_ref,
            receipt_ref,
        })
    }
}

/// One problem with one input field, reported to the client as
/// `{"field": ..., "message": ...}` inside a validation problem.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// Dotted path of the field, e.g. `amount.amount` or `store_ids[2]`.
    pub field: String,
    /// What is wrong with it, in words a developer can act on.
    pub message: String,
}

impl FieldError {
    /// A problem with `field`.
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Collects field errors while a request is parsed, so the client learns of every
/// problem at once rather than one per round trip.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<FieldError>);

impl Problems {
    /// Records a problem.
    pub(crate) fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Keeps the value of `result`, or records its error and returns `None`.
    pub(crate) fn take<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e);
                None
            }
        }
    }

    /// Keeps the value of `result`, or records its errors and returns `None`.
    pub(crate) fn take_all<T>(&mut self, result: Result<T, Vec<FieldError>>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(es) => {
                self.0.extend(es);
                None
            }
        }
    }

    /// `Ok(())` when nothing was recorded.
    pub(crate) fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

/// The first day of `d`'s calendar year ("goodwill this year").
pub(crate) fn year_start(d: chrono::NaiveDate) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(chrono::Datelike::year(&d), 1, 1).unwrap_or(d)
}
