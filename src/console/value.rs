//! The value of goodwill: the current customer value model (fit it from
//! here), how customers spread over P(still active) and lifetime value, and
//! goodwill spent against the value of the customers it went to.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Duration;

use super::auth::{Submitted, Viewer};
use super::charts::{self, Chart, Series};
use super::form::{self, Done};
use super::format;
use super::page::{self, ConsoleError, Layout, Problem};
use crate::app::names::Names;
use crate::domain::gesture::GestureKind;
use crate::domain::money::Currency;
use crate::domain::roles::Permission;
use crate::http::{AppError, AppState, Reply};
use crate::value::Statistics;
use crate::value::model::Horizon;

/// The current model of one currency.
pub(crate) struct ModelCard {
    pub(crate) currency: String,
    pub(crate) facts: Vec<(String, String)>,
    pub(crate) alive: Chart,
    pub(crate) alive_rows: Vec<(String, usize)>,
    pub(crate) ltv: Chart,
    pub(crate) ltv_rows: Vec<(String, usize)>,
    pub(crate) spent: Vec<SpentRow>,
}

/// Goodwill of one store and kind against its recipients' value.
pub(crate) struct SpentRow {
    pub(crate) store: String,
    pub(crate) kind: String,
    pub(crate) count: usize,
    pub(crate) goodwill: String,
    pub(crate) customers: usize,
    pub(crate) median_ltv: String,
    pub(crate) share: String,
}

#[derive(Template)]
#[template(path = "value.html")]
struct ValuePage {
    layout: Layout,
    csrf: String,
    key: String,
    may_fit: bool,
    notice: Option<String>,
    error: Option<String>,
    cards: Vec<ModelCard>,
}

const ALIVE_BINS: usize = 10;
const LTV_EDGES: [f64; 8] = [0.0, 50.0, 100.0, 250.0, 500.0, 1_000.0, 2_500.0, 5_000.0];

fn ltv_bin(v: f64) -> usize {
    LTV_EDGES.iter().rposition(|e| v >= *e).unwrap_or(0)
}

fn ltv_label(i: usize, c: Currency) -> String {
    let m = |x: f64| format::amount(&format!("{x:.0}"), c);
    match LTV_EDGES.get(i + 1) {
        Some(next) => format!("{}–{}", m(LTV_EDGES[i]), m(*next)),
        None => format!("{}+", m(LTV_EDGES[i])),
    }
}

/// Query of the value page.
#[derive(serde::Deserialize)]
pub(crate) struct ValueQuery {
    fitted: Option<String>,
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    notice: Option<String>,
    problem: Option<&Problem>,
) -> Result<HttpResponse, ConsoleError> {
    let ctx = viewer.caller.audit_ctx(&state.clock);
    let today = ctx.today();
    let scope = viewer.caller.stores.clone();
    let cards = state
        .read(move |conn| {
            let tenant = ctx.tenant;
            let mut names = Names::load(conn, tenant)?;
            let mut cards = Vec::new();
            for cur in crate::store::sales::currencies(conn, tenant)? {
                let Some(model) = crate::store::value::current(conn, tenant, Some(cur))? else {
                    continue;
                };
                let h = Horizon::default();
                let models = model.models();
                let mut alive = [0usize; ALIVE_BINS];
                let mut ltv = [0usize; LTV_EDGES.len()];
                for r in crate::store::sales::summaries(conn, tenant, cur, today)? {
                    let s = Statistics::from_summary(
                        u32::try_from(r.frequency).unwrap_or(0),
                        r.first_day,
                        r.last_day,
                        r.repeat_total,
                        today,
                        model.unit,
                        cur.minor_unit(),
                    );
                    if let Ok(v) = crate::value::valuation(&models, &s, h.months, h.monthly_discount_rate) {
                        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                        let b = ((v.probability_alive * ALIVE_BINS as f64) as usize).min(ALIVE_BINS - 1);
                        alive[b] += 1;
                        ltv[ltv_bin(v.lifetime_value)] += 1;
                    }
                }
                let alive_labels: Vec<String> = (0..ALIVE_BINS)
                    .map(|i| format!("{}–{}%", i * 10, (i + 1) * 10))
                    .collect();
                let ltv_labels: Vec<String> = (0..LTV_EDGES.len()).map(|i| ltv_label(i, cur)).collect();
                #[allow(clippy::cast_precision_loss)]
                let counts = |a: &[usize]| a.iter().map(|n| Some(*n as f64)).collect::<Vec<_>>();
                let whole = |v: f64| format!("{v:.0}");
                let alive_chart = charts::stacked_bars(
                    &format!("alive-{}", cur.code()),
                    &format!("Customers by P(still active), {}", cur.code()),
                    "A histogram: how many customers the model gives each probability of still being a customer.",
                    &alive_labels,
                    &[Series { label: "Customers".into(), values: counts(&alive) }],
                    &whole,
                );
                let ltv_chart = charts::stacked_bars(
                    &format!("ltv-{}", cur.code()),
                    &format!("Customers by lifetime value, {}", cur.code()),
                    "A histogram: how many customers fall in each band of discounted lifetime value.",
                    &ltv_labels,
                    &[Series { label: "Customers".into(), values: counts(&ltv) }],
                    &whole,
                );
                let spent = spent_against_value(conn, &mut names, tenant, cur, today, scope.as_deref())?;
                let b = &model.bgnbd;
                let g = &model.gamma_gamma;
                cards.push(ModelCard {
                    currency: cur.code().to_owned(),
                    facts: vec![
                        ("Version".into(), model.version.to_string()),
                        ("Fitted".into(), format!("{} by {}", format::when(&model.fitted_at, chrono_tz::UTC), model.fitted_by)),
                        ("Sales up to".into(), format::day(&model.as_of)),
                        ("Customers".into(), model.customers.to_string()),
                        (
                            "Purchases (BG/NBD)".into(),
                            format!(
                                "r = {:.4}, α = {:.4}, a = {:.4}, b = {:.4}; log-likelihood {:.2}; {}",
                                b.params.r, b.params.alpha, b.params.a, b.params.b, b.log_likelihood,
                                if b.converged { "converged" } else { "did not converge" }
                            ),
                        ),
                        (
                            "Purchase value (Gamma-Gamma)".into(),
                            format!(
                                "p = {:.4}, q = {:.4}, γ = {:.4}; log-likelihood {:.2}; {}",
                                g.params.p, g.params.q, g.params.gamma, g.log_likelihood,
                                if g.converged { "converged" } else { "did not converge" }
                            ),
                        ),
                    ],
                    alive_rows: alive_labels.into_iter().zip(alive).collect(),
                    alive: alive_chart,
                    ltv_rows: ltv_labels.into_iter().zip(ltv).collect(),
                    ltv: ltv_chart,
                    spent,
                });
            }
            Ok::<_, AppError>(cards)
        })
        .await?;
    let status = problem
        .and_then(|p| actix_web::http::StatusCode::from_u16(p.status).ok())
        .unwrap_or(actix_web::http::StatusCode::OK);
    Ok(page::html(
        status,
        &ValuePage {
            layout: Layout::signed_in("Value of goodwill", viewer, "/console/value"),
            csrf: viewer.csrf.clone(),
            key: form::new_key(),
            may_fit: viewer.may(Permission::ValueFit) && viewer.caller.stores.is_none(),
            notice,
            error: problem.map(|p| p.general(&[]).join(" ")),
            cards,
        },
    ))
}

/// Goodwill in effect over the last 12 months, per store and kind, against
/// the lifetime value of the customers it went to.
fn spent_against_value(
    conn: &mut crate::store::DbConnection,
    names: &mut Names,
    tenant: crate::domain::ids::TenantId,
    cur: Currency,
    today: chrono::NaiveDate,
    scope: Option<&[crate::domain::ids::StoreId]>,
) -> Result<Vec<SpentRow>, AppError> {
    let given =
        crate::store::gestures::given_since(conn, tenant, cur, today - Duration::days(365), scope)?;
    let mut customers: Vec<_> = given.iter().map(|g| g.1).collect();
    customers.sort();
    customers.dedup();
    customers.truncate(5_000);
    let estimates = crate::store::value::estimates(
        conn,
        tenant,
        &customers,
        Some(cur),
        today,
        Horizon::default(),
    )?;
    let ltv: std::collections::HashMap<_, i64> = customers
        .iter()
        .zip(estimates)
        .filter_map(|(c, e)| match e {
            crate::value::model::Estimate::Valued { valuation, .. } => Some((
                *c,
                crate::store::value::to_minor(valuation.lifetime_value, cur),
            )),
            _ => None,
        })
        .collect();
    type Key = (crate::domain::ids::StoreId, GestureKind);
    let mut groups: std::collections::BTreeMap<
        Key,
        (usize, i64, Vec<crate::domain::ids::CustomerId>),
    > = Default::default();
    for (store, customer, kind, minor) in given {
        let e = groups.entry((store, kind)).or_default();
        e.0 += 1;
        e.1 = e.1.saturating_add(minor);
        if !e.2.contains(&customer) {
            e.2.push(customer);
        }
    }
    Ok(groups
        .into_iter()
        .map(|((store, kind), (count, minor, who))| {
            let mut values: Vec<i64> = who.iter().filter_map(|c| ltv.get(c).copied()).collect();
            values.sort_unstable();
            let median = values.get(values.len() / 2).copied();
            let total: i64 = values.iter().fold(0i64, |a, b| a.saturating_add(*b));
            #[allow(clippy::cast_precision_loss)]
            SpentRow {
                store: names.store_label(store),
                kind: format::words(kind.as_str()),
                count,
                goodwill: format::minor(minor, cur),
                customers: who.len(),
                median_ltv: median.map_or_else(|| "—".into(), |m| format::minor(m, cur)),
                share: if total > 0 {
                    format::share(minor as f64 / total as f64)
                } else {
                    "—".into()
                },
            }
        })
        .collect())
}

/// `GET /console/value`.
pub(crate) async fn page(
    state: web::Data<AppState>,
    viewer: Viewer,
    q: web::Query<ValueQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let notice = q
        .fitted
        .as_ref()
        .map(|v| format!("Model version {v} fitted: it values customers from now on."));
    render(&state, &viewer, notice, None).await
}

/// `POST /console/value/fit`: fits a new version on the tenant's sales up to
/// today (the API's fit, with its defaults).
pub(crate) async fn fit(
    state: web::Data<AppState>,
    sent: Submitted,
) -> Result<HttpResponse, ConsoleError> {
    let Submitted { viewer, form } = sent;
    let ctx = viewer.caller.audit_ctx(&state.clock);
    let spec = crate::app::value::FitSpec {
        currency: form.get("currency").and_then(Currency::from_code),
        as_of: ctx.today(),
        unit: crate::value::TimeUnit::default(),
        penalizer: None,
    };
    let started = std::time::Instant::now();
    let inputs = match state
        .read(move |conn| crate::app::value::fit_inputs(conn, &ctx, &spec))
        .await
    {
        Ok(i) => i,
        Err(e) => return render(&state, &viewer, None, Some(&Problem::of(&e))).await,
    };
    let version = match web::block(move || crate::app::value::fit(&inputs, started)).await {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            return render(
                &state,
                &viewer,
                None,
                Some(&Problem::of(&AppError::from(e))),
            )
            .await;
        }
        Err(e) => return Err(ConsoleError::refused(503, "unavailable", e.to_string())),
    };
    match form::run(&state, &viewer, &form, move |conn, ctx| {
        let v = crate::app::value::record_fit(conn, ctx, version)?;
        Ok(Reply::created(&crate::views::value::ModelView::from(&v)))
    })
    .await?
    {
        Done::Acted(v) => Ok(page::see_other(&format!(
            "/console/value?fitted={}",
            v["version"].as_i64().unwrap_or_default()
        ))),
        Done::Refused(p) => render(&state, &viewer, None, Some(&p)).await,
    }
}
