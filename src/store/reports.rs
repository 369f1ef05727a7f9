//! Reports that read what they need through indexes.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{gestures, staff};
use crate::domain::gesture::{GestureKind, GestureStatus};
use crate::domain::ids::{CustomerId, GestureId, LedgerTxId, StaffId, StoreId, TenantId};
use crate::error::Error;

/// One recognition as the report lists it.
#[derive(Clone, Debug)]
pub(crate) struct Recognition {
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
    /// Who recorded them (a token's `sub`).
    pub recorded_by: String,
}

/// Staff ids and their names.
pub(crate) type StaffNames = Vec<(StaffId, String)>;

/// Recognitions in effect with `effective_on` in [from, to], at `stores` (all when
/// `None`), oldest first; and the names of the staff they name.
pub(crate) fn recognitions(
    conn: &mut DbConnection,
    tenant: TenantId,
    stores: Option<&[StoreId]>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(Vec<Recognition>, StaffNames), Error> {
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
            gestures::requested_by,
        ))
        .order((gestures::effective_on, gestures::id))
        .into_boxed();
    if let Some(s) = stores {
        q = q.filter(gestures::store_id.eq_any(s.to_vec()));
    }
    type Row = (
        GestureId,
        CustomerId,
        StoreId,
        String,
        NaiveDate,
        String,
        String,
    );
    let rows: Vec<Row> = q.load(conn)?;
    let out: Vec<Recognition> = rows
        .into_iter()
        .map(
            |(gesture_id, customer_id, store_id, staff_ids, effective_on, story, recorded_by)| {
                Recognition {
                    gesture_id,
                    customer_id,
                    store_id,
                    staff_ids: serde_json::from_str(&staff_ids).unwrap_or_default(),
                    effective_on,
                    story,
                    recorded_by,
                }
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

/// What the goodwill report can group by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum GroupBy {
    /// The gesture's store.
    Store,
    /// Its kind.
    Kind,
    /// Its reason code.
    ReasonCode,
    /// The cause of its incident.
    IncidentCause,
    /// Who requested it.
    Requester,
    /// Who approved it (empty: within the requester's own limit).
    Approver,
    /// The month of its effective date.
    Month,
}

impl GroupBy {
    /// Every key, as spelt in the query.
    pub(crate) const ALL: [(&'static str, GroupBy); 7] = [
        ("store", GroupBy::Store),
        ("kind", GroupBy::Kind),
        ("reason_code", GroupBy::ReasonCode),
        ("incident_cause", GroupBy::IncidentCause),
        ("requester", GroupBy::Requester),
        ("approver", GroupBy::Approver),
        ("month", GroupBy::Month),
    ];

    /// Parses one key.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, g)| *g)
    }

    /// Its name.
    pub(crate) fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, g)| *g == self)
            .map_or("", |(n, _)| n)
    }
}

/// One group's figures in one currency (minor units). Summed in 128 bits:
/// a tenant's figures across stores and months can exceed what 64 bits hold,
/// and a figure is printed exactly or not at all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Figures {
    /// Gestures in effect.
    pub count: i64,
    /// The goodwill they gave (amount; free service: retail value), credit
    /// extended left out.
    pub value: i128,
    /// Credit extended: deferred payments' amounts (money the customer still
    /// owes or paid, not goodwill given).
    pub credit_extended: i128,
    /// Free services at retail value.
    pub free_service_retail: i128,
    /// Free services at cost.
    pub free_service_cost: i128,
    /// Written off (waivers in effect).
    pub written_off: i128,
    /// Written-off money paid after all (bad-debt recovery, by payment date).
    pub recovered: i128,
    /// Service recoveries, store credit issued, free services at cost, and
    /// write-offs, less what was recovered.
    pub net_cost: i128,
}

impl Figures {
    /// Adds another group's figures.
    pub(crate) fn add(&mut self, o: &Figures) {
        self.count += o.count;
        self.value += o.value;
        self.credit_extended += o.credit_extended;
        self.free_service_retail += o.free_service_retail;
        self.free_service_cost += o.free_service_cost;
        self.written_off += o.written_off;
        self.recovered += o.recovered;
        self.net_cost += o.net_cost;
    }
}

/// The group key values of one gesture, in `group_by` order, and its currency.
pub(crate) type GroupKey = (Vec<String>, String);

/// Facts about one gesture the grouping needs.
#[derive(Clone)]
struct Facts {
    store: String,
    kind: String,
    reason_code: String,
    incident: Option<crate::domain::ids::IncidentId>,
    requester: String,
    /// Who approved it ('' when granted within the requester's own limit).
    approver: String,
    effective_on: NaiveDate,
}

/// The approver a gesture's recorded decision names: its decider when the
/// outcome was `approved`, else ''.
pub(crate) fn approver_of(approval: Option<&str>) -> String {
    approval
        .and_then(|a| serde_json::from_str::<crate::domain::policy::DecisionRecord>(a).ok())
        .and_then(|r| r.decided)
        .filter(|d| d.outcome == "approved")
        .map(|d| d.by)
        .unwrap_or_default()
}

fn key(
    f: &Facts,
    by: &[GroupBy],
    causes: &std::collections::HashMap<crate::domain::ids::IncidentId, String>,
) -> Vec<String> {
    by.iter()
        .map(|g| match g {
            GroupBy::Store => f.store.clone(),
            GroupBy::Kind => f.kind.clone(),
            GroupBy::ReasonCode => f.reason_code.clone(),
            GroupBy::IncidentCause => f
                .incident
                .and_then(|i| causes.get(&i).cloned())
                .unwrap_or_default(),
            GroupBy::Requester => f.requester.clone(),
            GroupBy::Approver => f.approver.clone(),
            GroupBy::Month => f.effective_on.format("%Y-%m").to_string(),
        })
        .collect()
}

type GestureFacts = (
    GestureId,
    StoreId,
    String,
    String,
    Option<crate::domain::ids::IncidentId>,
    String,
    Option<String>,
    NaiveDate,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// What every part of one goodwill report shares: whose gestures, grouped
/// how, and the names groups are shown by (store codes; incident causes when
/// grouped by them).
struct Scope<'a> {
    tenant: TenantId,
    stores: Option<&'a [StoreId]>,
    by: &'a [GroupBy],
    codes: std::collections::HashMap<StoreId, String>,
    causes: std::collections::HashMap<crate::domain::ids::IncidentId, String>,
}

/// The goodwill report: figures per group and currency for gestures in effect
/// (approved, settled, written off) with `effective_on` in [from, to], and the
/// bad-debt recoveries posted in it. Reads the range by date in chunks and
/// keeps only the groups in memory.
pub(crate) fn goodwill(
    conn: &mut DbConnection,
    tenant: TenantId,
    stores_filter: Option<&[StoreId]>,
    by: &[GroupBy],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<std::collections::BTreeMap<GroupKey, Figures>, Error> {
    use super::schema::{incidents, stores};
    use std::collections::{BTreeMap, HashMap};
    let codes: HashMap<StoreId, String> = stores::table
        .filter(stores::tenant_id.eq(tenant))
        .select((stores::id, stores::code))
        .load::<(StoreId, String)>(conn)?
        .into_iter()
        .collect();
    let causes: HashMap<crate::domain::ids::IncidentId, String> =
        if by.contains(&GroupBy::IncidentCause) {
            incidents::table
                .filter(incidents::tenant_id.eq(tenant))
                .select((incidents::id, incidents::cause))
                .load::<(crate::domain::ids::IncidentId, String)>(conn)?
                .into_iter()
                .collect()
        } else {
            HashMap::new()
        };
    let scope = Scope {
        tenant,
        stores: stores_filter,
        by,
        codes,
        causes,
    };
    let mut out: BTreeMap<GroupKey, Figures> = BTreeMap::new();
    // Grouping by approver reads each gesture's decision: it streams.
    let fold = if matches!(conn, DbConnection::Pg(_)) && !by.contains(&GroupBy::Approver) {
        aggregated
    } else {
        streamed
    };
    // Whole months come from the kept totals; the days before the first and
    // after the last whole month, and groupings the totals do not hold, from
    // the gestures themselves.
    let (months, days) = match kept_dimension(by) {
        Some(dim) => whole_months(from, to).map_or_else(
            || (None, vec![(from, to)]),
            |(months, days)| (Some((dim, months)), days),
        ),
        None => (None, vec![(from, to)]),
    };
    if let Some((dim, months)) = months {
        kept(conn, &scope, dim, months, &mut out)?;
    }
    for (from, to) in days {
        fold(conn, &scope, from, to, &mut out)?;
    }
    recoveries(conn, &scope, from, to, &mut out)?;
    Ok(out)
}

/// The dimension of `report_totals` (migration `000025_kept_report_totals`)
/// that answers a grouping: `""` when it groups only by store, kind and
/// month (part of every key there), the one other grouping's name, or `None`
/// when it asks for two of them together.
fn kept_dimension(by: &[GroupBy]) -> Option<&'static str> {
    let mut dims = by.iter().filter_map(|g| match g {
        GroupBy::Store | GroupBy::Kind | GroupBy::Month => None,
        GroupBy::ReasonCode => Some("reason_code"),
        GroupBy::IncidentCause => Some("incident"),
        GroupBy::Requester => Some("requester"),
        GroupBy::Approver => Some("approver"),
    });
    match (dims.next(), dims.next()) {
        (None, _) => Some(""),
        (Some(d), None) => Some(d),
        (Some(_), Some(_)) => None,
    }
}

/// First day of the first and last whole month within [from, to], and the
/// ranges of days outside them; `None` when the range holds no whole month.
#[allow(clippy::type_complexity)]
fn whole_months(
    from: NaiveDate,
    to: NaiveDate,
) -> Option<((NaiveDate, NaiveDate), Vec<(NaiveDate, NaiveDate)>)> {
    use chrono::{Datelike, Days, Months};
    let month_of = |d: NaiveDate| d.with_day(1);
    let first = if from.day() == 1 {
        from
    } else {
        month_of(from)?.checked_add_months(Months::new(1))?
    };
    // The day after the last whole month.
    let end = if to.checked_add_days(Days::new(1))?.day() == 1 {
        to.checked_add_days(Days::new(1))?
    } else {
        month_of(to)?
    };
    if first >= end {
        return None;
    }
    let last = end.checked_sub_months(Months::new(1))?;
    let mut days = Vec::new();
    if from < first {
        days.push((from, first.pred_opt()?));
    }
    if end <= to {
        days.push((end, to));
    }
    Some(((first, last), days))
}

/// One group of kept totals.
#[derive(QueryableByName)]
struct KeptRow {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    store_id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
    month: Option<NaiveDate>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    kind: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    currency: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    val: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    sums: String,
}

/// (store, month, kind, currency) of a group of kept totals, store and month
/// `None` unless grouped by.
type KeptGroup = (Option<String>, Option<NaiveDate>, String, String);

/// Count, value, amount, retail value and cost of a group (minor units).
type KeptSums = [i128; 5];

/// The kept totals of dimension `dim` for the whole months `first` to `last`
/// (first days), summed by the database over shards (and over stores and
/// months unless grouped by them): per group, value and its sums.
fn kept_sums(
    conn: &mut DbConnection,
    tenant: TenantId,
    stores_filter: Option<&[StoreId]>,
    by: &[GroupBy],
    dim: &str,
    (first, last): (NaiveDate, NaiveDate),
) -> Result<Vec<(KeptGroup, String, KeptSums)>, Error> {
    let store = if by.contains(&GroupBy::Store) {
        "CAST(store_id AS TEXT)"
    } else {
        "CAST(NULL AS TEXT)"
    };
    let month = if by.contains(&GroupBy::Month) {
        "month"
    } else {
        "CAST(NULL AS DATE)"
    };
    // Every value inlined is typed: a tenant and stores are UUIDs, dates are
    // formatted dates, the dimension is one of the code's names.
    let stores = super::store_id_in(stores_filter);
    let sql = format!(
        "SELECT {store} AS store_id, {month} AS month, kind, currency, val, \
                CAST(SUM(n) AS TEXT) || ' ' || CAST(SUM(value_minor) AS TEXT) || ' ' || \
                CAST(SUM(amount_minor) AS TEXT) || ' ' || CAST(SUM(retail_minor) AS TEXT) || ' ' || \
                CAST(SUM(cost_minor) AS TEXT) AS sums \
         FROM report_totals \
         WHERE tenant_id = '{tenant}' AND dim = '{dim}' AND month >= '{first}' AND month <= '{last}'{stores} \
         GROUP BY 1, 2, 3, 4, 5"
    );
    let rows: Vec<KeptRow> = diesel::sql_query(sql).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut sums = [0i128; 5];
            for (x, v) in sums.iter_mut().zip(r.sums.split(' ')) {
                *x = v.parse().unwrap_or(0);
            }
            ((r.store_id, r.month, r.kind, r.currency), r.val, sums)
        })
        .collect())
}

/// The whole months `first` to `last` (first days) from the kept totals of
/// dimension `dim`. The totals hold no row for an empty value (no incident,
/// granted without an approver: most gestures), so that group is what the
/// dimension's rows leave of the whole (`dim` ""): a command writes fewer
/// rows, and the sums stay exact.
fn kept(
    conn: &mut DbConnection,
    scope: &Scope<'_>,
    dim: &str,
    months: (NaiveDate, NaiveDate),
    out: &mut std::collections::BTreeMap<GroupKey, Figures>,
) -> Result<(), Error> {
    let &Scope {
        tenant,
        stores: stores_filter,
        by,
        ref codes,
        ref causes,
    } = scope;
    let mut rows = kept_sums(conn, tenant, stores_filter, by, dim, months)?;
    if !dim.is_empty() {
        let mut rest: std::collections::BTreeMap<KeptGroup, KeptSums> =
            kept_sums(conn, tenant, stores_filter, by, "", months)?
                .into_iter()
                .map(|(g, _, s)| (g, s))
                .collect();
        for (g, _, s) in &rows {
            if let Some(r) = rest.get_mut(g) {
                for (x, v) in r.iter_mut().zip(s) {
                    *x -= v;
                }
            }
        }
        rows.extend(
            rest.into_iter()
                .filter(|(_, s)| s.iter().any(|x| *x != 0))
                .map(|(g, s)| (g, String::new(), s)),
        );
    }
    for ((store_id, month, kind, currency), val, [n, value, amount, retail, cost]) in rows {
        if n == 0 {
            continue;
        }
        let store_id = store_id.as_deref().and_then(|s| s.parse::<StoreId>().ok());
        let of = |d: &str| if dim == d { val.clone() } else { String::new() };
        let facts = Facts {
            store: store_id
                .map(|id| codes.get(&id).cloned().unwrap_or_else(|| id.to_string()))
                .unwrap_or_default(),
            kind: kind.clone(),
            reason_code: of("reason_code"),
            // The cause is read with the report: an incident's cause may be
            // corrected after its gestures were given.
            incident: (dim == "incident").then(|| val.parse().ok()).flatten(),
            requester: of("requester"),
            approver: of("approver"),
            effective_on: month.unwrap_or(months.0),
        };
        let f = figures(
            &kind,
            i64::try_from(n).unwrap_or(i64::MAX),
            value,
            amount,
            retail,
            cost,
        );
        out.entry((key(&facts, by, causes), currency))
            .or_default()
            .add(&f);
    }
    Ok(())
}

/// A figure for one row of gestures (or one group of them of one kind).
fn figures(kind: &str, count: i64, value: i128, amount: i128, retail: i128, cost: i128) -> Figures {
    let mut f = Figures {
        count,
        value,
        ..Figures::default()
    };
    match kind {
        "free_service" => {
            f.free_service_retail = retail;
            f.free_service_cost = cost;
            f.net_cost = cost;
        }
        "balance_waiver" => {
            f.written_off = amount;
            f.net_cost = amount;
        }
        "service_recovery" | "store_credit" => f.net_cost = amount,
        "deferred_payment" => {
            // "Pay us tomorrow" lends money; it gives none away (what is
            // later written off is counted with the waiver that does).
            f.value = 0;
            f.credit_extended = amount;
        }
        _ => {}
    }
    f
}

/// One group of gestures as PostgreSQL aggregates it.
#[derive(QueryableByName)]
struct AggRow {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    store_id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    kind: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    reason_code: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    incident_id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    requested_by: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
    month: Option<NaiveDate>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    currency: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    amount: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    retail: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    cost: String,
}

/// The gestures of the range grouped and summed by PostgreSQL: one row per
/// group, kind and currency instead of one per gesture (sums are `numeric`,
/// read back exactly into 128 bits). Grouping by approver reads each
/// gesture's decision, so it streams instead.
fn aggregated(
    conn: &mut DbConnection,
    scope: &Scope<'_>,
    from: NaiveDate,
    to: NaiveDate,
    out: &mut std::collections::BTreeMap<GroupKey, Figures>,
) -> Result<(), Error> {
    let &Scope {
        tenant,
        stores: stores_filter,
        by,
        ref codes,
        ref causes,
    } = scope;
    let col = |g: GroupBy, expr: &str, null: &str| {
        if by.contains(&g) {
            expr.to_owned()
        } else {
            null.to_owned()
        }
    };
    let store = col(GroupBy::Store, "store_id::text", "NULL::text");
    let reason = col(GroupBy::ReasonCode, "reason_code", "NULL::text");
    let incident = col(GroupBy::IncidentCause, "incident_id::text", "NULL::text");
    let requester = col(GroupBy::Requester, "requested_by", "NULL::text");
    let month = col(
        GroupBy::Month,
        "date_trunc('month', effective_on)::date",
        "NULL::date",
    );
    // Every value inlined is typed: a tenant and stores are UUIDs, dates are
    // formatted dates, statuses are the code's constants.
    let statuses = GestureStatus::IN_EFFECT
        .map(|s| format!("'{}'", s.as_str()))
        .join(", ");
    let stores = super::store_id_in(stores_filter);
    let sql = format!(
        "SELECT {store} AS store_id, kind, {reason} AS reason_code, {incident} AS incident_id, \
                {requester} AS requested_by, {month} AS month, currency, count(*) AS n, \
                COALESCE(sum(COALESCE(amount_minor, retail_value_minor, 0)), 0)::text AS value, \
                COALESCE(sum(amount_minor), 0)::text AS amount, \
                COALESCE(sum(retail_value_minor), 0)::text AS retail, \
                COALESCE(sum(cost_minor), 0)::text AS cost \
         FROM gestures \
         WHERE tenant_id = '{tenant}' AND effective_on >= '{from}' AND effective_on <= '{to}' \
           AND status IN ({statuses}){stores} \
         GROUP BY 1, 2, 3, 4, 5, 6, 7"
    );
    let rows: Vec<AggRow> = diesel::sql_query(sql).load(conn)?;
    let wide = |s: &str| s.parse::<i128>().unwrap_or(0);
    for r in rows {
        let store_id = r
            .store_id
            .as_deref()
            .and_then(|s| s.parse::<StoreId>().ok());
        let facts = Facts {
            store: store_id
                .map(|id| codes.get(&id).cloned().unwrap_or_else(|| id.to_string()))
                .unwrap_or_default(),
            kind: r.kind.clone(),
            reason_code: r.reason_code.unwrap_or_default(),
            incident: r.incident_id.as_deref().and_then(|i| i.parse().ok()),
            requester: r.requested_by.unwrap_or_default(),
            approver: String::new(),
            effective_on: r.month.unwrap_or(from),
        };
        let f = figures(
            &r.kind,
            r.n,
            wide(&r.value),
            wide(&r.amount),
            wide(&r.retail),
            wide(&r.cost),
        );
        out.entry((key(&facts, by, causes), r.currency))
            .or_default()
            .add(&f);
    }
    Ok(())
}

/// The gestures of the range read by date in chunks of 5,000, each folded
/// into its group.
fn streamed(
    conn: &mut DbConnection,
    scope: &Scope<'_>,
    from: NaiveDate,
    to: NaiveDate,
    out: &mut std::collections::BTreeMap<GroupKey, Figures>,
) -> Result<(), Error> {
    let &Scope {
        tenant,
        stores: stores_filter,
        by,
        ref codes,
        ref causes,
    } = scope;
    let mut after: Option<(NaiveDate, GestureId)> = None;
    loop {
        let mut q = gestures::table
            .filter(
                gestures::tenant_id
                    .eq(tenant)
                    .and(gestures::effective_on.ge(from))
                    .and(gestures::effective_on.le(to))
                    .and(
                        gestures::status
                            .eq_any(GestureStatus::IN_EFFECT.map(GestureStatus::as_str)),
                    ),
            )
            .select((
                gestures::id,
                gestures::store_id,
                gestures::kind,
                gestures::reason_code,
                gestures::incident_id,
                gestures::requested_by,
                gestures::approval,
                gestures::effective_on,
                gestures::currency,
                gestures::amount_minor,
                gestures::retail_value_minor,
                gestures::cost_minor,
            ))
            .order((gestures::effective_on, gestures::id))
            .limit(5_000)
            .into_boxed();
        if let Some(s) = stores_filter {
            q = q.filter(gestures::store_id.eq_any(s.to_vec()));
        }
        if let Some((d, id)) = after {
            // The first condition alone lets the planner start the index range
            // at the cursor; the second is exact.
            q = q.filter(gestures::effective_on.ge(d)).filter(
                gestures::effective_on
                    .gt(d)
                    .or(gestures::effective_on.eq(d).and(gestures::id.gt(id))),
            );
        }
        let rows: Vec<GestureFacts> = q.load(conn)?;
        let Some(last) = rows.last() else { break };
        after = Some((last.7, last.0));
        let done = rows.len() < 5_000;
        for (
            _,
            store,
            kind,
            reason_code,
            incident,
            requester,
            approval,
            effective_on,
            currency,
            amount,
            retail,
            cost,
        ) in rows
        {
            let facts = Facts {
                store: codes
                    .get(&store)
                    .cloned()
                    .unwrap_or_else(|| store.to_string()),
                kind: kind.clone(),
                reason_code,
                incident,
                requester,
                approver: approver_of(approval.as_deref()),
                effective_on,
            };
            let wide = |v: Option<i64>| i128::from(v.unwrap_or(0));
            let f = figures(
                &kind,
                1,
                wide(amount.or(retail)),
                wide(amount),
                wide(retail),
                wide(cost),
            );
            out.entry((key(&facts, by, causes), currency))
                .or_default()
                .add(&f);
        }
        if done {
            break;
        }
    }
    Ok(())
}

/// Recoveries: income posted in the range, grouped by the promise they pay.
fn recoveries(
    conn: &mut DbConnection,
    scope: &Scope<'_>,
    from: NaiveDate,
    to: NaiveDate,
    out: &mut std::collections::BTreeMap<GroupKey, Figures>,
) -> Result<(), Error> {
    let &Scope {
        tenant,
        stores: stores_filter,
        by,
        ref codes,
        ref causes,
    } = scope;
    use super::schema::{entries, ledger_transactions};
    use std::collections::HashMap;
    let recoveries: Vec<(LedgerTxId, i64, i64, String, NaiveDate)> = entries::table
        .filter(
            entries::tenant_id
                .eq(tenant)
                .and(entries::account.eq("bad_debt_recovery_income"))
                .and(entries::effective_on.ge(from))
                .and(entries::effective_on.le(to)),
        )
        .select((
            entries::transaction_id,
            entries::credit_minor,
            entries::debit_minor,
            entries::currency,
            entries::effective_on,
        ))
        .load(conn)?;
    if !recoveries.is_empty() {
        let txs: Vec<LedgerTxId> = recoveries.iter().map(|r| r.0).collect();
        let promise_of: HashMap<LedgerTxId, GestureId> = ledger_transactions::table
            .filter(
                ledger_transactions::tenant_id
                    .eq(tenant)
                    .and(ledger_transactions::id.eq_any(&txs)),
            )
            .select((ledger_transactions::id, ledger_transactions::gesture_id))
            .load::<(LedgerTxId, Option<GestureId>)>(conn)?
            .into_iter()
            .filter_map(|(t, g)| g.map(|g| (t, g)))
            .collect();
        let ids: Vec<GestureId> = promise_of.values().copied().collect();
        let promises: HashMap<GestureId, Facts> = gestures::table
            .filter(
                gestures::tenant_id
                    .eq(tenant)
                    .and(gestures::id.eq_any(&ids)),
            )
            .select((
                gestures::id,
                gestures::store_id,
                gestures::kind,
                gestures::reason_code,
                gestures::incident_id,
                gestures::requested_by,
                gestures::approval,
                gestures::effective_on,
            ))
            .load::<(
                GestureId,
                StoreId,
                String,
                String,
                Option<crate::domain::ids::IncidentId>,
                String,
                Option<String>,
                NaiveDate,
            )>(conn)?
            .into_iter()
            .filter(|r| stores_filter.is_none_or(|s| s.contains(&r.1)))
            .map(
                |(id, store, kind, reason_code, incident, requester, approval, effective_on)| {
                    (
                        id,
                        Facts {
                            store: codes
                                .get(&store)
                                .cloned()
                                .unwrap_or_else(|| store.to_string()),
                            kind,
                            reason_code,
                            incident,
                            requester,
                            approver: approver_of(approval.as_deref()),
                            effective_on,
                        },
                    )
                },
            )
            .collect();
        for (tx, credit, debit, currency, paid_on) in recoveries {
            let Some(p) = promise_of.get(&tx).and_then(|g| promises.get(g)) else {
                continue;
            };
            // Counted in the month it was paid.
            let p = Facts {
                effective_on: paid_on,
                ..p.clone()
            };
            let p = &p;
            let r = i128::from(credit) - i128::from(debit);
            let e = out.entry((key(p, by, causes), currency)).or_default();
            e.recovered += r;
            e.net_cost -= r;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn whole_months_and_the_days_around_them() {
        // Partial at both ends.
        assert_eq!(
            whole_months(d("2025-12-06"), d("2026-03-05")),
            Some((
                (d("2026-01-01"), d("2026-02-01")),
                vec![
                    (d("2025-12-06"), d("2025-12-31")),
                    (d("2026-03-01"), d("2026-03-05"))
                ]
            ))
        );
        // Whole months only, the last ending in February of a leap year.
        assert_eq!(
            whole_months(d("2024-01-01"), d("2024-02-29")),
            Some(((d("2024-01-01"), d("2024-02-01")), vec![]))
        );
        // Within one month, or a month less a day: no whole month.
        assert_eq!(whole_months(d("2026-03-02"), d("2026-03-31")), None);
        assert_eq!(whole_months(d("2026-03-01"), d("2026-03-30")), None);
        assert_eq!(whole_months(d("2026-03-05"), d("2026-04-20")), None);
        // One whole month and a day after it.
        assert_eq!(
            whole_months(d("2026-03-01"), d("2026-04-01")),
            Some((
                (d("2026-03-01"), d("2026-03-01")),
                vec![(d("2026-04-01"), d("2026-04-01"))]
            ))
        );
    }

    #[test]
    fn the_kept_totals_answer_one_grouping_beyond_store_kind_and_month() {
        use GroupBy::*;
        assert_eq!(kept_dimension(&[Store, Kind, Month]), Some(""));
        assert_eq!(kept_dimension(&[]), Some(""));
        assert_eq!(kept_dimension(&[Month, IncidentCause]), Some("incident"));
        assert_eq!(kept_dimension(&[Approver, Store]), Some("approver"));
        assert_eq!(kept_dimension(&[ReasonCode, Requester]), None);
    }
}
