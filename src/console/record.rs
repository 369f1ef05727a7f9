//! Recording goodwill at the counter: a form per kind of gesture, a payment
//! against a promise, store credit spent. Each form goes to the same command
//! as the API's request; a refusal comes back next to the field it names,
//! with what was typed still in the form.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{Duration, NaiveDate};

use super::auth::{Form, Submitted, Viewer};
use super::customers::{self, FormBack};
use super::form::{self, Done};
use super::format;
use super::page::{self, ConsoleError, Layout, Problem};
use crate::app::names::Names;
use crate::domain::FieldError;
use crate::domain::gesture::{GestureInput, GestureKind, NewGesture, Terms};
use crate::domain::ids::{CustomerId, GestureId, IncidentId, StaffId, StoreId};
use crate::domain::money::MoneyInput;
use crate::http::{AppError, AppState, Reply};
use crate::store::DbConnection;
use crate::views::payment::{PaymentView, RedemptionView};

/// A choice of a select or a checkbox list.
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) chosen: bool,
}

/// A tab: one kind of gesture.
pub(crate) struct Tab {
    pub(crate) kind: &'static str,
    pub(crate) label: String,
    pub(crate) current: bool,
}

#[derive(Template)]
#[template(path = "record.html")]
struct RecordPage {
    layout: Layout,
    csrf: String,
    key: String,
    customer_id: String,
    customer: String,
    kind: &'static str,
    kind_label: String,
    explain: &'static str,
    tabs: Vec<Tab>,
    general: Vec<String>,
    stores: Vec<Choice>,
    reasons: Vec<Choice>,
    staff: Vec<Choice>,
    incidents: Vec<Choice>,
    promises: Vec<Choice>,
    values: std::collections::HashMap<&'static str, String>,
    errors: std::collections::HashMap<&'static str, String>,
    has_amount: bool,
    amount_label: &'static str,
    has_due: bool,
    has_waiver: bool,
    has_free_service: bool,
    has_expiry: bool,
    has_favour: bool,
    staff_required: bool,
}

impl RecordPage {
    fn value(&self, field: &str) -> &str {
        self.values.get(field).map_or("", String::as_str)
    }

    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(String::as_str)
    }
}

/// The form's fields (what the template may name).
const FIELDS: &[&str] = &[
    "store_id",
    "reason_code",
    "story",
    "amount",
    "due_on",
    "applies_to",
    "retail_value",
    "cost",
    "expires_on",
    "estimated_value",
    "staff_ids",
    "incident_id",
    "effective_on",
];

fn kind_of(s: Option<&str>) -> GestureKind {
    s.and_then(GestureKind::parse)
        .unwrap_or(GestureKind::DeferredPayment)
}

fn default_reason(kind: GestureKind) -> &'static str {
    match kind {
        GestureKind::DeferredPayment => "closing_time",
        GestureKind::BalanceWaiver => "staff_error",
        GestureKind::FreeService => "goodwill",
        GestureKind::ServiceRecovery => "service_failure",
        GestureKind::StoreCredit => "loyalty",
        GestureKind::Recognition => "praise",
        GestureKind::CustomerFavour => "customer_kindness",
    }
}

fn explain(kind: GestureKind) -> &'static str {
    match kind {
        GestureKind::DeferredPayment => {
            "Goods given on a promise to pay later (“pay us tomorrow”). No payment details are taken."
        }
        GestureKind::BalanceWaiver => {
            "Money the customer owes, given up. Finance reviews every waiver."
        }
        GestureKind::FreeService => {
            "Work done for free: its retail value, and what it cost the business."
        }
        GestureKind::ServiceRecovery => {
            "Money spent to put something right (an apology dinner, a replacement), usually for an incident."
        }
        GestureKind::StoreCredit => "Credit the customer can spend at the store later.",
        GestureKind::Recognition => {
            "The customer praised a member of staff: no money, and it reaches management."
        }
        GestureKind::CustomerFavour => {
            "The customer did the business a good turn: goodwill flowing the other way."
        }
    }
}

/// Everything the form offers, read for the viewer.
struct Offer {
    customer: String,
    stores: Vec<(StoreId, String)>,
    home: Option<StoreId>,
    reasons: Vec<(String, String)>,
    staff: Vec<(StaffId, String)>,
    incidents: Vec<(IncidentId, String)>,
    promises: Vec<(GestureId, String)>,
}

fn offer(
    conn: &mut DbConnection,
    viewer: &Viewer,
    customer: CustomerId,
    today: NaiveDate,
) -> Result<Offer, AppError> {
    let tenant = viewer.caller.tenant;
    let mut names = Names::load(conn, tenant)?;
    let c = names.customer(conn, customer)?.clone();
    let stores: Vec<(StoreId, String)> = names
        .stores()
        .into_iter()
        .filter(|s| viewer.caller.may_act_at(s.id))
        .map(|s| {
            (
                s.id,
                format!("{} · {} ({})", s.code, s.name, s.currency.code()),
            )
        })
        .collect();
    let ids: Vec<StoreId> = stores.iter().map(|(id, _)| *id).collect();
    let staff = crate::store::staff::list(
        conn,
        tenant,
        Some(ids.clone()),
        crate::store::PageRequest {
            limit: 100,
            starting_after: None,
        },
    )?
    .items
    .into_iter()
    .map(|s| (s.id, s.name))
    .collect();
    let incidents = crate::store::incidents::recent(conn, tenant, Some(&ids), 30)?
        .into_iter()
        .map(|i| {
            let label = format!(
                "{} at {}, {}",
                format::words(&i.cause),
                names.store_label(i.store_id),
                format::when(&i.created_at, names.zone(i.store_id))
            );
            (i.id, label)
        })
        .collect();
    let promises = crate::store::gestures::open_items(conn, tenant, customer)?
        .into_iter()
        .filter(|g| g.kind == GestureKind::DeferredPayment && viewer.caller.may_act_at(g.store_id))
        .filter_map(|g| {
            let owed = g.outstanding_minor()?;
            let due = match g.terms {
                Terms::DeferredPayment { due_on, .. } => due_on,
                _ => return None,
            };
            Some((
                g.id,
                format!(
                    "{} owed at {}, due {}{}",
                    format::minor(owed, g.currency),
                    names.store_label(g.store_id),
                    format::day(&due),
                    if g.is_overdue(today) {
                        " (overdue)"
                    } else {
                        ""
                    }
                ),
            ))
        })
        .collect();
    Ok(Offer {
        customer: format!("{} ({})", c.name, c.external_ref),
        home: c.home_store_id.filter(|h| ids.contains(h)),
        stores,
        reasons: crate::store::gestures::reason_codes(conn, tenant)?,
        staff,
        incidents,
        promises,
    })
}

#[allow(clippy::too_many_arguments)]
fn page_of(
    viewer: &Viewer,
    customer: CustomerId,
    kind: GestureKind,
    offer: Offer,
    form: Option<&Form>,
    problem: Option<&Problem>,
    today: NaiveDate,
) -> RecordPage {
    use std::collections::HashMap;
    let mut values: HashMap<&'static str, String> = HashMap::new();
    match form {
        Some(f) => {
            for field in FIELDS {
                values.insert(field, f.value(field));
            }
        }
        None => {
            values.insert("reason_code", default_reason(kind).into());
            values.insert("due_on", (today + Duration::days(1)).to_string());
            values.insert("effective_on", today.to_string());
            values.insert("cost", "0.00".into());
            if let Some(h) = offer.home.or(offer.stores.first().map(|(id, _)| *id)) {
                values.insert("store_id", h.to_string());
            }
        }
    }
    let chosen_many = |name: &str| -> Vec<String> { form.map(|f| f.all(name)).unwrap_or_default() };
    let staff_chosen = chosen_many("staff_ids");
    let promises_chosen = chosen_many("applies_to");
    let mut errors: HashMap<&'static str, String> = HashMap::new();
    let mut general = Vec::new();
    if let Some(p) = problem {
        for field in FIELDS {
            if let Some(m) = p.field(field) {
                errors.insert(field, m.to_owned());
            }
        }
        general = p.general(FIELDS);
    }
    let store_value = values.get("store_id").cloned().unwrap_or_default();
    let reason_value = values.get("reason_code").cloned().unwrap_or_default();
    let incident_value = values.get("incident_id").cloned().unwrap_or_default();
    RecordPage {
        layout: Layout::signed_in(
            format!("Record {}", format::words(kind.as_str()).to_lowercase()),
            viewer,
            "/console/customers",
        ),
        csrf: viewer.csrf.clone(),
        key: form::new_key(),
        customer_id: customer.to_string(),
        customer: offer.customer,
        kind: kind.as_str(),
        kind_label: format::words(kind.as_str()),
        explain: explain(kind),
        tabs: GestureKind::ALL
            .iter()
            .map(|k| Tab {
                kind: k.as_str(),
                label: format::words(k.as_str()),
                current: *k == kind,
            })
            .collect(),
        general,
        stores: offer
            .stores
            .into_iter()
            .map(|(id, label)| Choice {
                chosen: id.to_string() == store_value,
                value: id.to_string(),
                label,
            })
            .collect(),
        reasons: offer
            .reasons
            .into_iter()
            .map(|(code, description)| Choice {
                chosen: code == reason_value,
                label: format!("{} — {description}", format::words(&code)),
                value: code,
            })
            .collect(),
        staff: offer
            .staff
            .into_iter()
            .map(|(id, name)| Choice {
                chosen: staff_chosen.contains(&id.to_string()),
                value: id.to_string(),
                label: name,
            })
            .collect(),
        incidents: offer
            .incidents
            .into_iter()
            .map(|(id, label)| Choice {
                chosen: id.to_string() == incident_value,
                value: id.to_string(),
                label,
            })
            .collect(),
        promises: offer
            .promises
            .into_iter()
            .map(|(id, label)| Choice {
                chosen: promises_chosen.contains(&id.to_string()),
                value: id.to_string(),
                label,
            })
            .collect(),
        values,
        errors,
        has_amount: matches!(
            kind,
            GestureKind::DeferredPayment
                | GestureKind::BalanceWaiver
                | GestureKind::ServiceRecovery
                | GestureKind::StoreCredit
        ),
        amount_label: match kind {
            GestureKind::DeferredPayment => "Amount owed",
            GestureKind::BalanceWaiver => "Amount to waive",
            GestureKind::ServiceRecovery => "Amount spent",
            _ => "Amount",
        },
        has_due: kind == GestureKind::DeferredPayment,
        has_waiver: kind == GestureKind::BalanceWaiver,
        has_free_service: kind == GestureKind::FreeService,
        has_expiry: kind == GestureKind::StoreCredit,
        has_favour: kind == GestureKind::CustomerFavour,
        staff_required: kind == GestureKind::Recognition,
    }
}

/// Query of the form page.
#[derive(serde::Deserialize)]
pub(crate) struct FormQuery {
    kind: Option<String>,
}

/// `GET /console/customers/{id}/record?kind=`: the form for one kind.
pub(crate) async fn form(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<CustomerId>,
    q: web::Query<FormQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let customer = id.into_inner();
    let kind = kind_of(q.kind.as_deref());
    let today = state.clock.now().date();
    let v = viewer.clone();
    let offer = state
        .read(move |conn| offer(conn, &v, customer, today))
        .await?;
    Ok(page::ok(&page_of(
        &viewer, customer, kind, offer, None, None, today,
    )))
}

/// Reads the form into the API's request, naming every field that is not
/// even of the right shape (a date, an id).
fn input_of(
    form: &Form,
    kind: GestureKind,
    currency: Option<&str>,
) -> Result<GestureInput, Vec<FieldError>> {
    let mut p = crate::domain::Problems::default();
    let date = |field: &str, p: &mut crate::domain::Problems| -> Option<NaiveDate> {
        form.get(field)
            .and_then(|s| match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    p.push(field, "must be a date (YYYY-MM-DD)");
                    None
                }
            })
    };
    let store_id: Option<StoreId> = match form.get("store_id") {
        None => {
            p.push("store_id", "Choose the store.");
            None
        }
        Some(s) => s.parse().ok().or_else(|| {
            p.push("store_id", "is not a store");
            None
        }),
    };
    let money = |field: &str| -> Option<MoneyInput> {
        form.get(field).map(|a| MoneyInput {
            amount: a.to_owned(),
            currency: currency.unwrap_or("XXX").to_owned(),
        })
    };
    let ids = |field: &str, p: &mut crate::domain::Problems| -> Vec<String> {
        let all = form.all(field);
        all.into_iter()
            .filter(|s| {
                let ok = uuid::Uuid::parse_str(s).is_ok();
                if !ok {
                    p.push(field, "is not one of the choices");
                }
                ok
            })
            .collect()
    };
    let staff_ids: Vec<StaffId> = ids("staff_ids", &mut p)
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    let applies_to: Vec<GestureId> = ids("applies_to", &mut p)
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    let incident_id: Option<IncidentId> = form.get("incident_id").and_then(|s| {
        s.parse().ok().or_else(|| {
            p.push("incident_id", "is not one of the choices");
            None
        })
    });
    let effective_on = date("effective_on", &mut p);
    let due_on = date("due_on", &mut p);
    let expires_on = date("expires_on", &mut p);
    p.finish()?;
    Ok(GestureInput {
        kind,
        store_id: store_id.unwrap_or_default(),
        reason_code: Some(form.value("reason_code").trim().to_owned()),
        story: Some(form.value("story")),
        staff_ids,
        incident_id,
        effective_on,
        amount: money("amount"),
        due_on,
        applies_to: (kind == GestureKind::BalanceWaiver && !applies_to.is_empty())
            .then_some(applies_to),
        retail_value: money("retail_value"),
        cost: money("cost"),
        expires_on,
        estimated_value: money("estimated_value"),
        client_ref: None,
    })
}

/// `POST /console/customers/{id}/gestures`: requests the gesture; to the
/// customer's page with what became of it, or back to the form with why not.
pub(crate) async fn submit(
    state: web::Data<AppState>,
    id: web::Path<CustomerId>,
    sent: Submitted,
) -> Result<HttpResponse, ConsoleError> {
    let Submitted { viewer, form } = sent;
    let customer = id.into_inner();
    let kind = kind_of(form.get("kind"));
    let today = state.clock.now().date();
    let store: Option<StoreId> = form.get("store_id").and_then(|s| s.parse().ok());
    let tenant = viewer.caller.tenant;
    let currency = match store {
        Some(s) => state
            .read(move |conn| crate::store::stores::find(conn, tenant, s))
            .await?
            .map(|s| s.currency.code().to_owned()),
        None => None,
    };
    let parsed = input_of(&form, kind, currency.as_deref())
        .and_then(|input| NewGesture::parse(&input, today));
    let problem = match parsed {
        Err(fields) => Problem::of(&AppError::from(fields)),
        Ok(ng) => {
            let done = form::run(&state, &viewer, &form, move |conn, ctx| {
                let r = crate::app::gestures::request_gesture(conn, ctx, customer, ng)?;
                Ok(Reply::created(&r.view(ctx.today())))
            })
            .await?;
            match done {
                Done::Acted(answer) => {
                    return Ok(page::see_other(&format!(
                        "/console/customers/{customer}?recorded={}",
                        form::id_of(&answer)
                    )));
                }
                Done::Refused(p) => p,
            }
        }
    };
    let v = viewer.clone();
    let offer = state
        .read(move |conn| offer(conn, &v, customer, today))
        .await?;
    Ok(page::html(
        actix_web::http::StatusCode::from_u16(problem.status)
            .unwrap_or(actix_web::http::StatusCode::UNPROCESSABLE_ENTITY),
        &page_of(
            &viewer,
            customer,
            kind,
            offer,
            Some(&form),
            Some(&problem),
            today,
        ),
    ))
}

async fn store_of(
    state: &AppState,
    viewer: &Viewer,
    form: &Form,
) -> Result<Option<crate::domain::store::Store>, ConsoleError> {
    let tenant = viewer.caller.tenant;
    match form.get("store_id").and_then(|s| s.parse::<StoreId>().ok()) {
        None => Ok(None),
        Some(s) => Ok(state
            .read(move |conn| crate::store::stores::find(conn, tenant, s))
            .await?),
    }
}

/// `POST /console/gestures/{id}/payments`: a payment against a promise.
pub(crate) async fn pay(
    state: web::Data<AppState>,
    id: web::Path<GestureId>,
    sent: Submitted,
) -> Result<HttpResponse, ConsoleError> {
    let Submitted { viewer, form } = sent;
    let promise = id.into_inner();
    let tenant = viewer.caller.tenant;
    let customer = state
        .read(move |conn| crate::store::gestures::get(conn, tenant, promise))
        .await?
        .customer_id;
    let store = store_of(&state, &viewer, &form).await?;
    let problem = match customers::amount_at(&form, store.as_ref()) {
        Err(p) => p,
        Ok(amount) => {
            let at = store.map(|s| s.id);
            let done = form::run(&state, &viewer, &form, move |conn, ctx| {
                let p = crate::app::lifecycle::record_payment(
                    conn,
                    ctx,
                    promise,
                    at,
                    amount,
                    None,
                    &crate::domain::TillRefs::default(),
                )?;
                Ok(Reply::created(&PaymentView::of(&p)?))
            })
            .await?;
            match done {
                Done::Acted(answer) => {
                    return Ok(page::see_other(&format!(
                        "/console/customers/{customer}?paid={}",
                        form::id_of(&answer)
                    )));
                }
                Done::Refused(p) => p,
            }
        }
    };
    customers::render(
        &state,
        viewer,
        customer,
        customers::empty_query(),
        FormBack {
            pay: Some((promise, problem, form.value("amount"))),
            redeem: None,
        },
    )
    .await
}

/// `POST /console/customers/{id}/redemptions`: store credit spent.
pub(crate) async fn redeem(
    state: web::Data<AppState>,
    id: web::Path<CustomerId>,
    sent: Submitted,
) -> Result<HttpResponse, ConsoleError> {
    let Submitted { viewer, form } = sent;
    let customer = id.into_inner();
    let store = store_of(&state, &viewer, &form).await?;
    let problem = match customers::amount_at(&form, store.as_ref()) {
        Err(p) => p,
        Ok(amount) => {
            let at = store.map(|s| s.id).unwrap_or_default();
            let done = form::run(&state, &viewer, &form, move |conn, ctx| {
                let r = crate::app::lifecycle::redeem_credit(
                    conn,
                    ctx,
                    customer,
                    at,
                    amount,
                    None,
                    &crate::domain::TillRefs::default(),
                )?;
                Ok(Reply::created(&RedemptionView::of(&r)))
            })
            .await?;
            match done {
                Done::Acted(answer) => {
                    return Ok(page::see_other(&format!(
                        "/console/customers/{customer}?redeemed={}",
                        form::id_of(&answer)
                    )));
                }
                Done::Refused(p) => p,
            }
        }
    };
    customers::render(
        &state,
        viewer,
        customer,
        customers::empty_query(),
        FormBack {
            pay: None,
            redeem: Some((problem, form.value("amount"))),
        },
    )
    .await
}
