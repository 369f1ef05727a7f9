//! Reports as the API answers them.

use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::ids::{CustomerId, GestureId, StaffId, StoreId};
use crate::error::Error;

/// One customer's praise.
#[derive(Serialize)]
pub(crate) struct Praise {
    pub(crate) gesture_id: GestureId,
    pub(crate) customer_id: CustomerId,
    /// The customer as people know them.
    pub(crate) customer: super::finance::CustomerRef,
    pub(crate) effective_on: NaiveDate,
    pub(crate) words: String,
    /// Who recorded the praise (a token's `sub`): never the person praised.
    pub(crate) recorded_by: String,
}

/// One staff member at one store.
#[derive(Serialize)]
pub(crate) struct StaffRecognitions {
    pub(crate) staff_id: StaffId,
    pub(crate) name: String,
    pub(crate) store_id: StoreId,
    /// The store as people know it.
    pub(crate) store: super::finance::StoreRef,
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

impl RecognitionReport {
    /// The report as CSV: one line per praise, most recognised staff first.
    pub(crate) fn csv(&self) -> Vec<u8> {
        use crate::csv_export::Cell::{Number, Text};
        let mut out = crate::csv_export::Csv::new();
        out.header([
            "staff_id",
            "staff_name",
            "store_code",
            "store_name",
            "count",
            "effective_on",
            "customer_external_ref",
            "customer_name",
            "words",
            "recorded_by",
            "gesture_id",
        ]);
        for s in &self.staff {
            let (staff_id, count) = (s.staff_id.to_string(), s.count.to_string());
            for p in &s.recognitions {
                let (on, gesture) = (p.effective_on.to_string(), p.gesture_id.to_string());
                out.record([
                    Number(&staff_id),
                    Text(&s.name),
                    Text(&s.store.code),
                    Text(&s.store.name),
                    Number(&count),
                    Number(&on),
                    Text(&p.customer.external_ref),
                    Text(&p.customer.name),
                    Text(&p.words),
                    Text(&p.recorded_by),
                    Number(&gesture),
                ]);
            }
        }
        out.into_bytes()
    }
}

/// One group's figures in one currency. `net_cost` is signed: recoveries can
/// exceed the costs of a period.
#[derive(Serialize)]
pub(crate) struct GoodwillRow {
    pub(crate) group: std::collections::BTreeMap<&'static str, String>,
    pub(crate) currency: String,
    pub(crate) count: i64,
    pub(crate) value: crate::domain::money::Money,
    pub(crate) credit_extended: crate::domain::money::Money,
    pub(crate) free_service_retail_value: crate::domain::money::Money,
    pub(crate) free_service_cost: crate::domain::money::Money,
    pub(crate) written_off: crate::domain::money::Money,
    pub(crate) recovered: crate::domain::money::Money,
    pub(crate) net_cost: SignedMoney,
}

/// A signed amount (only where a figure can be below zero).
#[derive(Serialize)]
pub(crate) struct SignedMoney {
    pub(crate) amount: String,
    pub(crate) currency: String,
}

/// `GET /v1/finance/reports/goodwill` as JSON.
#[derive(Serialize)]
pub(crate) struct GoodwillReport {
    pub(crate) from: NaiveDate,
    pub(crate) to: NaiveDate,
    pub(crate) group_by: Vec<&'static str>,
    pub(crate) rows: Vec<GoodwillRow>,
    pub(crate) totals: Vec<GoodwillRow>,
}

pub(crate) fn row(
    by: &[crate::store::reports::GroupBy],
    key: &[String],
    currency: &str,
    f: &crate::store::reports::Figures,
) -> Result<Option<GoodwillRow>, Error> {
    use crate::domain::money::{Currency, Money};
    let Some(c) = Currency::from_code(currency) else {
        return Ok(None);
    };
    let m = |x: i128| Money::from_wide(x.max(0), c).ok_or_else(Error::figure_too_large);
    Ok(Some(GoodwillRow {
        group: by
            .iter()
            .map(|g| g.name())
            .zip(key.iter().cloned())
            .collect(),
        currency: currency.to_owned(),
        count: f.count,
        value: m(f.value)?,
        credit_extended: m(f.credit_extended)?,
        free_service_retail_value: m(f.free_service_retail)?,
        free_service_cost: m(f.free_service_cost)?,
        written_off: m(f.written_off)?,
        recovered: m(f.recovered)?,
        net_cost: SignedMoney {
            amount: Money::signed_wide(f.net_cost, c).ok_or_else(Error::figure_too_large)?,
            currency: currency.to_owned(),
        },
    }))
}

impl GoodwillReport {
    /// The report as CSV: a row per group and currency, as the JSON has
    /// them; text cells that a spreadsheet would run as formulas neutralised.
    pub(crate) fn csv(&self) -> Vec<u8> {
        use crate::csv_export::Cell::{Number, Text};
        let mut out = crate::csv_export::Csv::new();
        let mut header: Vec<&str> = self.group_by.clone();
        header.extend([
            "currency",
            "count",
            "value",
            "credit_extended",
            "free_service_retail_value",
            "free_service_cost",
            "written_off",
            "recovered",
            "net_cost",
        ]);
        out.header(header);
        // The groups, then a total per currency (its first group cell says
        // so), as the JSON's `totals`; without groups the rows are the totals.
        let rows = self.rows.iter().map(|r| (r, false));
        let totals = self
            .totals
            .iter()
            .filter(|_| !self.group_by.is_empty())
            .map(|r| (r, true));
        for (r, total) in rows.chain(totals) {
            let count = r.count.to_string();
            let values = [
                r.value.amount_string(),
                r.credit_extended.amount_string(),
                r.free_service_retail_value.amount_string(),
                r.free_service_cost.amount_string(),
                r.written_off.amount_string(),
                r.recovered.amount_string(),
                r.net_cost.amount.clone(),
            ];
            let mut cells: Vec<crate::csv_export::Cell> = self
                .group_by
                .iter()
                .enumerate()
                .map(|(i, g)| match (total, i) {
                    (true, 0) => Text("total"),
                    (true, _) => Text(""),
                    (false, _) => Text(r.group.get(g).map_or("", String::as_str)),
                })
                .collect();
            cells.push(Text(&r.currency));
            cells.push(Number(&count));
            cells.extend(values.iter().map(|v| Number(v)));
            out.record(cells);
        }
        out.into_bytes()
    }
}
