//! The approval queue: what waits for this manager (their stores, their
//! tier, never their own requests nor those that name them), oldest first,
//! each with the customer's standing, the rule that sent it here and the
//! story; approve or reject one, or several at once.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::auth::{Submitted, Viewer};
use super::form::{self, Done};
use super::format;
use super::page::{self, ConsoleError, Layout, Problem};
use crate::app::names::Names;
use crate::domain::gesture::{Gesture, GestureStatus};
use crate::domain::ids::GestureId;
use crate::domain::policy::DecisionRecord;
use crate::domain::text;
use crate::http::{AppError, AppState, Reply};
use crate::store::DbConnection;
use crate::store::approvals::QueueFilter;

/// Items per page of the queue.
const PAGE: i64 = 20;

/// A customer's value beside a request.
pub(crate) struct ValueCard {
    pub(crate) alive: String,
    pub(crate) lifetime: String,
    pub(crate) share: String,
}

/// One request as the queue shows it.
pub(crate) struct Card {
    pub(crate) id: String,
    pub(crate) kind: String,
    pub(crate) amount: String,
    pub(crate) store: String,
    pub(crate) requested_by: String,
    pub(crate) requested_at: String,
    pub(crate) effective_on: String,
    pub(crate) reason: String,
    pub(crate) story: String,
    pub(crate) staff: Vec<String>,
    pub(crate) incident: Option<(String, String)>,
    pub(crate) rule: String,
    pub(crate) rule_details: Vec<String>,
    pub(crate) expires: String,
    pub(crate) customer_id: String,
    pub(crate) customer_name: String,
    pub(crate) customer_ref: String,
    pub(crate) owed: String,
    pub(crate) overdue: String,
    pub(crate) open_promises: i64,
    pub(crate) kept_on_time: i64,
    pub(crate) kept_late: i64,
    pub(crate) written_off: i64,
    pub(crate) credit: String,
    pub(crate) goodwill_received: String,
    pub(crate) value: Option<ValueCard>,
    pub(crate) approve_key: String,
    pub(crate) reject_key: String,
    pub(crate) note: String,
    pub(crate) note_error: Option<String>,
}

/// A request at the viewer's stores that waits for someone else: shown,
/// never offered.
pub(crate) struct Waiting {
    pub(crate) id: String,
    pub(crate) amount: String,
    pub(crate) kind: String,
    pub(crate) store: String,
    pub(crate) customer_id: String,
    pub(crate) customer_name: String,
    pub(crate) customer_ref: String,
    pub(crate) requested_by: String,
    pub(crate) requested_at: String,
    pub(crate) waits_for: String,
    pub(crate) why: String,
}

/// Why a request waits for someone else, in words.
fn why_words(reason: crate::error::ErrorCode) -> &'static str {
    use crate::error::ErrorCode as C;
    match reason {
        C::ApprovalTier => "above your tier",
        C::SelfApproval => "your own request",
        C::NamedStaff => "it names you",
        C::StaffAtFault => "its incident names you",
        _ => "not yours to decide",
    }
}

/// What waits at the viewer's stores for someone else, oldest first (at most
/// a page).
fn waiting(
    conn: &mut DbConnection,
    names: &mut Names,
    ctx: &crate::app::Ctx,
    filters: &Filters,
) -> Result<(Vec<Waiting>, bool), AppError> {
    let (entries, more) = crate::app::approvals::approval_queue(
        conn,
        ctx,
        &QueueFilter {
            store_id: filters.store,
            kind: filters.kind,
            others: true,
        },
        None,
        PAGE,
    )?;
    let ids: Vec<_> = entries.iter().map(|e| e.gesture.customer_id).collect();
    names.prefetch_customers(conn, &ids)?;
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let g = &e.gesture;
        let tz = names.zone(g.store_id);
        let c = names.customer(conn, g.customer_id)?;
        let (customer_name, customer_ref) = (c.name.clone(), c.external_ref.clone());
        let (waits_for, why) = match &e.waiting_for {
            Some(w) => (
                w.approvers
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" or "),
                why_words(w.reason),
            ),
            None => (String::new(), ""),
        };
        out.push(Waiting {
            id: g.id.to_string(),
            amount: g
                .terms
                .value()
                .map(|m| format::money(&m))
                .unwrap_or_default(),
            kind: format::words(g.kind.as_str()),
            store: names.store_label(g.store_id),
            customer_id: g.customer_id.to_string(),
            customer_name,
            customer_ref,
            requested_by: g.requested_by.clone(),
            requested_at: format::when(&g.created_at, tz),
            waits_for,
            why: why.to_owned(),
        });
    }
    Ok((out, more))
}

/// What became of a decision the viewer sent.
pub(crate) struct Outcome {
    pub(crate) tone: &'static str,
    pub(crate) text: String,
}

/// The queue's filters, as the URL carries them.
#[derive(Clone, Default)]
pub(crate) struct Filters {
    store: Option<crate::domain::ids::StoreId>,
    kind: Option<crate::domain::gesture::GestureKind>,
}

impl Filters {
    fn of(q: &QueueQuery) -> Self {
        Self {
            store: q.store.as_deref().and_then(|s| s.parse().ok()),
            kind: q
                .kind
                .as_deref()
                .and_then(crate::domain::gesture::GestureKind::parse),
        }
    }

    /// The query string that keeps them (with a leading `&`).
    fn query(&self) -> String {
        let mut q = String::new();
        if let Some(s) = self.store {
            q.push_str(&format!("&store={s}"));
        }
        if let Some(k) = self.kind {
            q.push_str(&format!("&kind={}", k.as_str()));
        }
        q
    }
}

#[derive(Template)]
#[template(path = "approvals.html")]
struct QueuePage {
    layout: Layout,
    stores: Vec<super::record::Choice>,
    kinds: Vec<super::record::Choice>,
    filter_query: String,
    csrf: String,
    outcomes: Vec<Outcome>,
    cards: Vec<Card>,
    next: Option<String>,
    first_page: bool,
    batch_key: String,
    batch_error: Option<String>,
    waiting: Vec<Waiting>,
    more_waiting: bool,
}

/// Query of the queue page.
#[derive(serde::Deserialize)]
pub(crate) struct QueueQuery {
    after: Option<String>,
    decided: Option<String>,
    store: Option<String>,
    kind: Option<String>,
}

/// The approval rule of a decision, in words.
pub(crate) fn rule_sentence(rule: &str) -> String {
    rule_words(rule).to_owned()
}

fn rule_words(rule: &str) -> &'static str {
    match rule {
        "above_self_grant_limit" => "Above the requester's self-grant limit",
        "split_threshold" => "Several requests in 24 hours add up past the requester's limit",
        "budget_exceeded" => "A budget would be exceeded",
        "within_self_grant_limit" => "Within the requester's limit",
        "non_monetary" => "No money involved",
        _ => "Policy rule",
    }
}

fn rule_details(d: &DecisionRecord, g: &Gesture) -> Vec<String> {
    let cur = g.currency;
    let mut out = Vec::new();
    if let Some(t) = d.tier {
        let roles: Vec<String> = d.approvers.iter().map(ToString::to_string).collect();
        out.push(format!("Tier {t}: decided by {}", roles.join(" or ")));
    }
    if let Some(l) = d.self_grant_limit_minor {
        out.push(format!("Requester's limit: {}", format::minor(l, cur)));
    }
    if let Some(s) = d.split_window_minor.filter(|s| *s > 0) {
        out.push(format!(
            "Asked in the last 24 h before this: {}",
            format::minor(s, cur)
        ));
    }
    for b in &d.budgets {
        let limit = b
            .limit_minor
            .map_or_else(|| "no limit yet".to_owned(), |l| format::minor(l, cur));
        out.push(format!(
            "Budget “{}” ({} days): {} used of {}{}",
            b.name,
            b.window_days,
            format::minor(b.used_minor, cur),
            limit,
            if b.exceeded { " — exceeded" } else { "" }
        ));
    }
    out
}

/// Builds a card per queue entry (one read transaction): the customers read
/// at once, their values estimated at once (per currency), their standing
/// from the maintained figures of their summaries.
fn cards(
    conn: &mut DbConnection,
    names: &mut Names,
    entries: Vec<crate::app::approvals::QueueEntry>,
    today: chrono::NaiveDate,
) -> Result<Vec<Card>, AppError> {
    let ids: Vec<crate::domain::ids::CustomerId> =
        entries.iter().map(|e| e.gesture.customer_id).collect();
    names.prefetch_customers(conn, &ids)?;
    // Values: one estimate per customer and currency, in one pass per currency.
    let mut values: std::collections::HashMap<
        (
            crate::domain::ids::CustomerId,
            crate::domain::money::Currency,
        ),
        (f64, i64),
    > = std::collections::HashMap::new();
    let mut currencies: Vec<crate::domain::money::Currency> =
        entries.iter().map(|e| e.gesture.currency).collect();
    currencies.sort();
    currencies.dedup();
    for cur in currencies {
        let mut of: Vec<crate::domain::ids::CustomerId> = entries
            .iter()
            .filter(|e| e.gesture.currency == cur)
            .map(|e| e.gesture.customer_id)
            .collect();
        of.sort();
        of.dedup();
        let tenant = entries
            .first()
            .map(|e| e.gesture.tenant_id)
            .unwrap_or_default();
        let estimates = crate::store::value::estimates(
            conn,
            tenant,
            &of,
            Some(cur),
            today,
            crate::value::model::Horizon::default(),
        )?;
        for (c, e) in of.iter().zip(estimates) {
            if let crate::value::model::Estimate::Valued { valuation, .. } = e {
                values.insert(
                    (*c, cur),
                    (
                        valuation.probability_alive,
                        crate::store::value::to_minor(valuation.lifetime_value, cur),
                    ),
                );
            }
        }
    }
    let mut summaries = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let g = &e.gesture;
        let tz = names.zone(g.store_id);
        if let std::collections::hash_map::Entry::Vacant(slot) = summaries.entry(g.customer_id) {
            slot.insert(crate::app::customers::load_summary(
                conn,
                g.tenant_id,
                g.customer_id,
                today,
            )?);
        }
        let summary = &summaries[&g.customer_id];
        let bal = summary
            .balances
            .iter()
            .find(|b| b.currency == g.currency.code());
        let customer = names.customer(conn, g.customer_id)?.clone();
        let mut staff = Vec::new();
        for s in &g.staff_ids {
            staff.push(names.staff(conn, *s)?);
        }
        let amount = g.terms.value();
        let value = values
            .get(&(g.customer_id, g.currency))
            .map(|(alive, ltv)| ValueCard {
                alive: format::percent(*alive),
                lifetime: format::minor(*ltv, g.currency),
                share: match amount {
                    Some(a) if *ltv > 0 => format::share(a.minor() as f64 / *ltv as f64),
                    _ => "—".into(),
                },
            });
        let received: Vec<crate::domain::money::Money> = {
            let mut by_cur: Vec<crate::domain::money::Money> = Vec::new();
            for r in &summary.goodwill_received {
                match by_cur
                    .iter_mut()
                    .find(|m| m.currency() == r.amount.currency())
                {
                    Some(m) => *m = m.with_minor(m.minor().saturating_add(r.amount.minor())),
                    None => by_cur.push(r.amount),
                }
            }
            by_cur
        };
        out.push(Card {
            id: g.id.to_string(),
            kind: format::words(g.kind.as_str()),
            amount: amount.map_or_else(|| "—".into(), |m| format::money(&m)),
            store: names.store_label(g.store_id),
            requested_by: g.requested_by.clone(),
            requested_at: format::when(&g.created_at, tz),
            effective_on: format::day(&g.effective_on),
            reason: format::words(&g.reason_code),
            story: g.story.clone(),
            staff,
            incident: match g.incident_id {
                Some(i) => {
                    let (inc, _) = crate::store::incidents::get(conn, g.tenant_id, i)?;
                    Some((i.to_string(), format::words(&inc.cause)))
                }
                None => None,
            },
            rule: rule_words(&e.decision.rule).into(),
            rule_details: rule_details(&e.decision, g),
            expires: e
                .decision
                .expires_at
                .map(|t| format::when(&t, tz))
                .unwrap_or_default(),
            customer_id: customer.id.to_string(),
            customer_name: customer.name.clone(),
            customer_ref: customer.external_ref.clone(),
            owed: bal.map_or_else(|| "—".into(), |b| format::money(&b.owed)),
            overdue: bal.map_or_else(|| "—".into(), |b| format::money(&b.overdue)),
            open_promises: summary.promises.open,
            kept_on_time: summary.promises.kept_on_time,
            kept_late: summary.promises.kept_late,
            written_off: summary.promises.written_off,
            credit: bal.map_or_else(|| "—".into(), |b| format::money(&b.store_credit_available)),
            goodwill_received: format::monies(&received),
            value,
            approve_key: form::new_key(),
            reject_key: form::new_key(),
            note: String::new(),
            note_error: None,
        });
    }
    Ok(out)
}

/// What the viewer's decisions on `ids` came to, read from the gestures as
/// they are now: their own decision, or the one someone else took first.
fn outcomes(
    conn: &mut DbConnection,
    names: &mut Names,
    viewer: &Viewer,
    ids: &[GestureId],
) -> Result<Vec<Outcome>, AppError> {
    let mut out = Vec::new();
    for id in ids {
        let Some(g) = crate::store::gestures::find(conn, viewer.caller.tenant, *id)? else {
            continue;
        };
        if !viewer.caller.may_act_at(g.store_id) {
            continue;
        }
        let customer = names.customer(conn, g.customer_id)?.name.clone();
        let what = format!(
            "{} of {} for {customer}",
            format::words(g.kind.as_str()),
            g.terms
                .value()
                .map_or_else(|| "—".into(), |m| format::money(&m))
        );
        let decided = g.approval.as_ref().and_then(|a| a.decided.clone());
        out.push(match (g.status, decided) {
            (GestureStatus::PendingApproval, _) => Outcome {
                tone: "warn",
                text: format!("{what}: still waiting for a decision."),
            },
            (_, Some(d)) if d.by == viewer.caller.subject => Outcome {
                tone: "good",
                text: format!("You {} the {what}.", d.outcome),
            },
            (_, Some(d)) => Outcome {
                tone: "warn",
                text: format!(
                    "{what} was {} by {} at {} before your decision arrived; yours was not applied.",
                    d.outcome,
                    d.by,
                    format::when(&d.at, names.zone(g.store_id))
                ),
            },
            (status, None) => Outcome {
                tone: "warn",
                text: format!("{what} is {}.", format::words(status.as_str()).to_lowercase()),
            },
        });
    }
    Ok(out)
}

fn parse_ids(s: Option<&str>) -> Vec<GestureId> {
    s.unwrap_or_default()
        .split(',')
        .filter_map(|id| id.trim().parse().ok())
        .take(100)
        .collect()
}

async fn render(
    state: &AppState,
    viewer: Viewer,
    filters: Filters,
    after: Option<GestureId>,
    decided: Vec<GestureId>,
    failed: Option<(GestureId, String, Problem)>,
) -> Result<HttpResponse, ConsoleError> {
    let ctx = viewer.caller.audit_ctx(&state.clock);
    let today = ctx.today();
    let v = viewer.clone();
    let f = filters.clone();
    let first_page = after.is_none();
    let (cards, outcomes, has_more, stores, (waiting, more_waiting)) = state
        .read(move |conn| {
            let mut names = Names::load(conn, ctx.tenant)?;
            let outcomes = outcomes(conn, &mut names, &v, &decided)?;
            let (entries, has_more) = crate::app::approvals::approval_queue(
                conn,
                &ctx,
                &QueueFilter {
                    store_id: f.store,
                    kind: f.kind,
                    others: false,
                },
                after,
                PAGE,
            )?;
            let cards = cards(conn, &mut names, entries, today)?;
            let waiting = if first_page {
                waiting(conn, &mut names, &ctx, &f)?
            } else {
                (Vec::new(), false)
            };
            let stores: Vec<(String, String)> = names
                .stores()
                .into_iter()
                .filter(|s| v.caller.may_act_at(s.id))
                .map(|s| (s.id.to_string(), format!("{} · {}", s.code, s.name)))
                .collect();
            Ok::<_, AppError>((cards, outcomes, has_more, stores, waiting))
        })
        .await?;
    let mut cards = cards;
    let mut status = actix_web::http::StatusCode::OK;
    let mut batch_error = None;
    let mut outcomes = outcomes;
    if let Some((id, note, problem)) = failed {
        status = actix_web::http::StatusCode::from_u16(problem.status)
            .unwrap_or(actix_web::http::StatusCode::UNPROCESSABLE_ENTITY);
        match cards.iter_mut().find(|c| c.id == id.to_string()) {
            Some(card) => {
                card.note = note;
                card.note_error = Some(
                    problem
                        .field("note")
                        .map_or_else(|| problem.detail.clone(), str::to_owned),
                );
            }
            None => {
                batch_error = Some(
                    problem
                        .field("note")
                        .map_or_else(|| problem.detail.clone(), |m| format!("Note: {m}")),
                );
                outcomes.push(Outcome {
                    tone: "bad",
                    text: problem.detail.clone(),
                });
            }
        }
    }
    let next = if has_more {
        cards.last().map(|c| c.id.clone())
    } else {
        None
    };
    Ok(page::html(
        status,
        &QueuePage {
            layout: Layout::signed_in("Approvals", &viewer, "/console/approvals"),
            stores: stores
                .into_iter()
                .map(|(value, label)| super::record::Choice {
                    chosen: Some(value.clone()) == filters.store.map(|s| s.to_string()),
                    value,
                    label,
                })
                .collect(),
            kinds: crate::domain::gesture::GestureKind::ALL
                .iter()
                .filter(|k| k.is_monetary())
                .map(|k| super::record::Choice {
                    value: k.as_str().to_owned(),
                    label: format::words(k.as_str()),
                    chosen: filters.kind == Some(*k),
                })
                .collect(),
            filter_query: filters.query(),
            csrf: viewer.csrf.clone(),
            outcomes,
            cards,
            next,
            first_page: after.is_none(),
            batch_key: form::new_key(),
            batch_error,
            waiting,
            more_waiting,
        },
    ))
}

/// `GET /console/approvals?after=&decided=`: the queue, a page at a time, and
/// what became of the decisions just sent.
pub(crate) async fn queue(
    state: web::Data<AppState>,
    viewer: Viewer,
    q: web::Query<QueueQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let after = q.after.as_deref().and_then(|a| a.parse().ok());
    render(
        &state,
        viewer,
        Filters::of(&q),
        after,
        parse_ids(q.decided.as_deref()),
        None,
    )
    .await
}

fn note_of(form: &super::auth::Form, required: bool) -> Result<Option<String>, Problem> {
    match form.get("note") {
        None if required => Err(Problem {
            status: 422,
            code: "validation_failed".into(),
            detail: String::new(),
            fields: vec![(
                "note".into(),
                "Say why you reject it: the requester and the audit trail will read it.".into(),
            )],
        }),
        None => Ok(None),
        Some(n) => text::required_line_multi("note", n, 4000)
            .map(Some)
            .map_err(|e| Problem {
                status: 422,
                code: "validation_failed".into(),
                detail: String::new(),
                fields: vec![(e.field, e.message)],
            }),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Approve,
    Reject,
}

/// Decides one request under `key`: `Ok(())` when it was decided (by the
/// viewer, or by someone before them: the queue then says who), else why not.
async fn decide_one(
    state: &AppState,
    viewer: &Viewer,
    form: &super::auth::Form,
    id: GestureId,
    verdict: Verdict,
    note: Option<String>,
) -> Result<Result<(), Problem>, ConsoleError> {
    let done = form::run(state, viewer, form, move |conn, ctx| {
        let r = match verdict {
            Verdict::Approve => crate::app::approvals::approve(conn, ctx, id, note)?,
            Verdict::Reject => {
                crate::app::approvals::reject(conn, ctx, id, note.unwrap_or_default())?
            }
        };
        Ok(Reply::ok(&r.view(ctx.today())))
    })
    .await?;
    Ok(match done {
        Done::Acted(_) => Ok(()),
        Done::Refused(p) if p.code == "already_decided" => Ok(()),
        Done::Refused(p) => Err(p),
    })
}

async fn decide(
    state: web::Data<AppState>,
    sent: Submitted,
    id: GestureId,
    verdict: Verdict,
) -> Result<HttpResponse, ConsoleError> {
    let Submitted { viewer, form } = sent;
    let note = match note_of(&form, verdict == Verdict::Reject) {
        Ok(n) => n,
        Err(p) => {
            return render(
                &state,
                viewer,
                Filters::default(),
                None,
                Vec::new(),
                Some((id, form.value("note"), p)),
            )
            .await;
        }
    };
    match decide_one(&state, &viewer, &form, id, verdict, note).await? {
        Ok(()) => Ok(page::see_other(&format!("/console/approvals?decided={id}"))),
        Err(p) => {
            render(
                &state,
                viewer,
                Filters::default(),
                None,
                Vec::new(),
                Some((id, form.value("note"), p)),
            )
            .await
        }
    }
}

/// `POST /console/approvals/{id}/approve` (note optional).
pub(crate) async fn approve(
    state: web::Data<AppState>,
    id: web::Path<GestureId>,
    sent: Submitted,
) -> Result<HttpResponse, ConsoleError> {
    decide(state, sent, id.into_inner(), Verdict::Approve).await
}

/// `POST /console/approvals/{id}/reject` (note required).
pub(crate) async fn reject(
    state: web::Data<AppState>,
    id: web::Path<GestureId>,
    sent: Submitted,
) -> Result<HttpResponse, ConsoleError> {
    decide(state, sent, id.into_inner(), Verdict::Reject).await
}

/// `POST /console/approvals/decide`: the ticked requests, each decided on its
/// own (one that someone else decided first does not hold up the others), each
/// under the batch's key and its own id, so a resent batch acts once.
pub(crate) async fn decide_many(
    state: web::Data<AppState>,
    sent: Submitted,
) -> Result<HttpResponse, ConsoleError> {
    let Submitted { viewer, form } = sent;
    let ids: Vec<GestureId> = form
        .all("gesture_id")
        .iter()
        .filter_map(|s| s.parse().ok())
        .take(100)
        .collect();
    let verdict = match form.get("decision") {
        Some("approve") => Verdict::Approve,
        Some("reject") => Verdict::Reject,
        _ => {
            return Err(ConsoleError::refused(
                422,
                "validation_failed",
                "Choose approve or reject for the ticked requests.",
            ));
        }
    };
    if ids.is_empty() {
        return Ok(page::see_other("/console/approvals"));
    }
    let note = match note_of(&form, verdict == Verdict::Reject) {
        Ok(n) => n,
        Err(p) => {
            return render(
                &state,
                viewer,
                Filters::default(),
                None,
                Vec::new(),
                Some((GestureId::new(), form.value("note"), p)),
            )
            .await;
        }
    };
    let batch_key = form.value("idempotency_key");
    let mut refused = Vec::new();
    for id in &ids {
        // Each decision is its own command with its own stored answer.
        let mut one = form.clone();
        one.fields
            .retain(|(k, _)| k != "idempotency_key" && k != "gesture_id");
        one.fields
            .push(("idempotency_key".into(), format!("{batch_key}:{id}")));
        one.fields.push(("gesture_id".into(), id.to_string()));
        one.raw = serde_urlencoded::to_string(&one.fields)
            .unwrap_or_default()
            .into_bytes()
            .into();
        if let Err(p) = decide_one(&state, &viewer, &one, *id, verdict, note.clone()).await? {
            refused.push((*id, p));
        }
    }
    if let Some((id, p)) = refused.into_iter().next() {
        let decided: Vec<GestureId> = ids.into_iter().filter(|i| *i != id).collect();
        return render(
            &state,
            viewer,
            Filters::default(),
            None,
            decided,
            Some((id, form.value("note"), p)),
        )
        .await;
    }
    let list: Vec<String> = ids.iter().map(ToString::to_string).collect();
    Ok(page::see_other(&format!(
        "/console/approvals?decided={}",
        list.join(",")
    )))
}
