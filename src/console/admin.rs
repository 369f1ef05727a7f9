//! Administration: stores (with their currency and time zone), staff (with
//! their stores and sign-in subject), the approval policy as a form (with a
//! preview of which recent gestures would have gone another way, and the
//! versions with the differences between them), the event feed and the
//! ledger check, read only.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Duration;

use super::audit::{Change, diff};
use super::auth::{Form, Submitted, Viewer};
use super::form::{self, Done};
use super::format;
use super::page::{self, ConsoleError, Layout, Problem};
use super::record::Choice;
use crate::app::names::Names;
use crate::domain::ids::StoreId;
use crate::domain::policy::{Amounts, LimitRule, Policy, Tier};
use crate::domain::roles::Permission;
use crate::http::{AppError, AppState, Reply};

/// Time zones offered first (any IANA name may be typed).
const ZONES: [&str; 12] = [
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Sydney",
];

/// A store of the list.
pub(crate) struct StoreRow {
    pub(crate) code: String,
    pub(crate) name: String,
    pub(crate) currency: String,
    pub(crate) zone: String,
    pub(crate) id: String,
}

/// A staff member of the list.
pub(crate) struct StaffRow {
    pub(crate) name: String,
    pub(crate) stores: String,
    pub(crate) subject: String,
    pub(crate) external_ref: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    layout: Layout,
    csrf: String,
    notice: Option<String>,
    stores: Vec<StoreRow>,
    staff: Vec<StaffRow>,
    store_choices: Vec<Choice>,
    zones: Vec<&'static str>,
    store_key: String,
    staff_key: String,
    store_errors: Vec<String>,
    staff_errors: Vec<String>,
    may_stores: bool,
    may_staff: bool,
    values: std::collections::HashMap<&'static str, String>,
}

impl AdminPage {
    fn value(&self, k: &str) -> &str {
        self.values.get(k).map_or("", String::as_str)
    }
}

/// Query of the admin page.
#[derive(serde::Deserialize)]
pub(crate) struct AdminQuery {
    added: Option<String>,
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    notice: Option<String>,
    store_problem: Option<&Problem>,
    staff_problem: Option<&Problem>,
    form: Option<&Form>,
) -> Result<HttpResponse, ConsoleError> {
    let v = viewer.clone();
    let (stores, staff, choices) = state
        .read(move |conn| {
            let tenant = v.caller.tenant;
            let names = Names::load(conn, tenant)?;
            let stores: Vec<StoreRow> = names
                .stores()
                .into_iter()
                .map(|s| StoreRow {
                    code: s.code.clone(),
                    name: s.name.clone(),
                    currency: s.currency.code().to_owned(),
                    zone: s.time_zone.name().to_owned(),
                    id: s.id.to_string(),
                })
                .collect();
            let staff = crate::store::staff::list(
                conn,
                tenant,
                v.caller.stores.clone(),
                crate::store::PageRequest {
                    limit: 100,
                    starting_after: None,
                },
            )?
            .items
            .into_iter()
            .map(|s| StaffRow {
                stores: s
                    .store_ids
                    .iter()
                    .map(|id| {
                        names
                            .store(*id)
                            .map_or_else(|| id.to_string(), |x| x.code.clone())
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                name: s.name,
                subject: s.subject.unwrap_or_default(),
                external_ref: s.external_ref.unwrap_or_default(),
            })
            .collect();
            let choices: Vec<(String, String)> = names
                .stores()
                .into_iter()
                .filter(|s| v.caller.may_act_at(s.id))
                .map(|s| (s.id.to_string(), format!("{} · {}", s.code, s.name)))
                .collect();
            Ok::<_, AppError>((stores, staff, choices))
        })
        .await?;
    let chosen = form.map(|f| f.all("store_ids")).unwrap_or_default();
    let mut values = std::collections::HashMap::new();
    for k in [
        "name",
        "code",
        "currency",
        "time_zone",
        "staff_name",
        "subject",
        "external_ref",
    ] {
        values.insert(k, form.map(|f| f.value(k)).unwrap_or_default());
    }
    if values["currency"].is_empty() {
        values.insert("currency", "USD".into());
    }
    let status = store_problem
        .or(staff_problem)
        .and_then(|p| actix_web::http::StatusCode::from_u16(p.status).ok())
        .unwrap_or(actix_web::http::StatusCode::OK);
    Ok(page::html(
        status,
        &AdminPage {
            layout: Layout::signed_in("Administration", viewer, "/console/admin"),
            csrf: viewer.csrf.clone(),
            notice,
            stores,
            staff,
            store_choices: choices
                .into_iter()
                .map(|(value, label)| Choice {
                    chosen: chosen.contains(&value),
                    value,
                    label,
                })
                .collect(),
            zones: ZONES.to_vec(),
            store_key: form::new_key(),
            staff_key: form::new_key(),
            store_errors: store_problem.map(|p| p.general(&[])).unwrap_or_default(),
            staff_errors: staff_problem.map(|p| p.general(&[])).unwrap_or_default(),
            may_stores: viewer.may(Permission::StoresWrite) && viewer.caller.stores.is_none(),
            may_staff: viewer.may(Permission::StaffWrite),
            values,
        },
    ))
}

/// `GET /console/admin`: stores and staff.
pub(crate) async fn page(
    state: web::Data<AppState>,
    viewer: Viewer,
    q: web::Query<AdminQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let notice = q.added.as_ref().map(|a| format!("{a} added."));
    render(&state, &viewer, notice, None, None, None).await
}

/// `POST /console/admin/stores`.
pub(crate) async fn add_store(
    state: web::Data<AppState>,
    sent: Submitted,
) -> Result<HttpResponse, ConsoleError> {
    let Submitted { viewer, form } = sent;
    let zone = form.get("time_zone").map(str::to_owned);
    let problem = match crate::domain::store::NewStore::parse(
        &form.value("name"),
        &form.value("code"),
        &form.value("currency"),
        zone.as_deref(),
    ) {
        Err(fields) => Problem::of(&AppError::from(fields)),
        Ok(new) => match form::run(&state, &viewer, &form, move |conn, ctx| {
            let s = crate::app::stores::open_store(conn, ctx, new)?;
            Ok(Reply::created(&crate::views::store::StoreView::from(&s)))
        })
        .await?
        {
            Done::Acted(s) => {
                return Ok(page::see_other(&format!(
                    "/console/admin?added=Store+{}",
                    s["code"].as_str().unwrap_or_default()
                )));
            }
            Done::Refused(p) => p,
        },
    };
    render(&state, &viewer, None, Some(&problem), None, Some(&form)).await
}

/// `POST /console/admin/staff`.
pub(crate) async fn add_staff(
    state: web::Data<AppState>,
    sent: Submitted,
) -> Result<HttpResponse, ConsoleError> {
    let Submitted { viewer, form } = sent;
    let stores: Vec<StoreId> = form
        .all("store_ids")
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    let problem = match crate::domain::staff::NewStaff::parse(
        &form.value("staff_name"),
        &stores,
        form.get("external_ref"),
        form.get("subject"),
    ) {
        Err(fields) => Problem::of(&AppError::from(fields)),
        Ok(new) => match form::run(&state, &viewer, &form, move |conn, ctx| {
            let s = crate::app::staff::add_staff(conn, ctx, new)?;
            Ok(Reply::created(&crate::views::staff::StaffView::from(&s)))
        })
        .await?
        {
            Done::Acted(_) => return Ok(page::see_other("/console/admin?added=Staff+member")),
            Done::Refused(p) => p,
        },
    };
    render(&state, &viewer, None, None, Some(&problem), Some(&form)).await
}

// --- The event feed and the ledger check ------------------------------------

/// One event of the feed.
pub(crate) struct FeedLine {
    pub(crate) id: String,
    pub(crate) when: String,
    pub(crate) event_type: String,
    pub(crate) entity: String,
    pub(crate) data: String,
}

#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage {
    layout: Layout,
    events: Vec<FeedLine>,
    next: Option<String>,
}

/// Query of the feed page.
#[derive(serde::Deserialize)]
pub(crate) struct EventsQuery {
    after: Option<String>,
}

/// `GET /console/admin/events?after=`: the event feed, in the order its
/// transactions committed (as `GET /v1/events` serves it).
pub(crate) async fn events(
    state: web::Data<AppState>,
    viewer: Viewer,
    q: web::Query<EventsQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let after = q.after.as_deref().and_then(|a| a.parse().ok());
    let (tenant, stores) = (viewer.caller.tenant, viewer.caller.stores.clone());
    let (rows, more) = state
        .with_conn(move |conn| {
            crate::store::events::page(conn, tenant, stores.as_deref(), after, 50)
        })
        .await?;
    let events: Vec<FeedLine> = rows
        .into_iter()
        .map(|e| FeedLine {
            id: e.id.to_string(),
            when: format::when(&e.created_at, chrono_tz::UTC),
            event_type: e.event_type,
            entity: format!("{} {}", e.entity_type, e.entity_id),
            data: e.data.chars().take(400).collect(),
        })
        .collect();
    let next = if more {
        events.last().map(|e| e.id.clone())
    } else {
        None
    };
    Ok(page::ok(&EventsPage {
        layout: Layout::signed_in("Event feed", &viewer, "/console/admin"),
        events,
        next,
    }))
}

#[derive(Template)]
#[template(path = "ledger.html")]
struct LedgerPage {
    layout: Layout,
    found: Vec<String>,
}

/// `GET /console/admin/ledger`: the ledger check, run now (a read).
pub(crate) async fn ledger(
    state: web::Data<AppState>,
    viewer: Viewer,
) -> Result<HttpResponse, ConsoleError> {
    let tenant = viewer.caller.tenant;
    let found = state
        .read(move |conn| crate::store::ledger_check::check(conn, Some(tenant)))
        .await?;
    Ok(page::ok(&LedgerPage {
        layout: Layout::signed_in("Ledger check", &viewer, "/console/admin"),
        found: found
            .iter()
            .map(|d| serde_json::to_string(d).unwrap_or_default())
            .collect(),
    }))
}

// --- The approval policy -----------------------------------------------------

/// A row of the self-grant limits.
pub(crate) struct LimitRow {
    pub(crate) roles: String,
    pub(crate) kinds: String,
    pub(crate) limit: String,
}

/// A row of the tiers.
pub(crate) struct TierRow {
    pub(crate) up_to: String,
    pub(crate) approvers: String,
}

/// A gesture a new policy would decide otherwise.
pub(crate) struct WouldChange {
    pub(crate) id: String,
    pub(crate) what: String,
    pub(crate) was: String,
    pub(crate) would: String,
}

/// A version of the list.
pub(crate) struct VersionRow {
    pub(crate) version: i32,
    pub(crate) by: String,
    pub(crate) at: String,
}

#[derive(Template)]
#[template(path = "policy.html")]
struct PolicyPage {
    layout: Layout,
    csrf: String,
    key: String,
    may_edit: bool,
    version: i32,
    notice: Option<String>,
    errors: Vec<String>,
    limits: Vec<LimitRow>,
    tiers: Vec<TierRow>,
    split_enabled: bool,
    split_hours: String,
    trust_enabled: bool,
    trust_per: String,
    trust_max: String,
    trust_days: String,
    trust_min: String,
    trust_held: String,
    expiry_hours: String,
    back_days: String,
    budgets_json: String,
    overrides_json: String,
    preview: Option<(Vec<Change>, Vec<WouldChange>, usize)>,
    versions: Vec<VersionRow>,
    ceiling: String,
    proposals: Vec<ProposalRow>,
}

/// A proposal waiting for a second admin, as the policy page lists it.
struct ProposalRow {
    id: String,
    by: String,
    at: String,
    base_version: i32,
    loosens: Vec<String>,
    /// Proposed by the viewer: they may withdraw it, not approve it.
    mine: bool,
}

fn any_of(a: &Amounts) -> String {
    a.0.get("any").cloned().unwrap_or_default()
}

fn list(v: &[String]) -> String {
    v.join(", ")
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The form's fields as the page shows them, from a policy.
fn fields_of(p: &Policy) -> (Vec<LimitRow>, Vec<TierRow>) {
    let mut limits: Vec<LimitRow> = p
        .self_grant_limits
        .iter()
        .map(|l| LimitRow {
            roles: list(&l.roles),
            kinds: l.kinds.as_deref().map(list).unwrap_or_default(),
            limit: any_of(&l.limit),
        })
        .collect();
    for _ in 0..2 {
        limits.push(LimitRow {
            roles: String::new(),
            kinds: String::new(),
            limit: String::new(),
        });
    }
    let mut tiers: Vec<TierRow> = p
        .approval_tiers
        .iter()
        .map(|t| TierRow {
            up_to: t.up_to.as_ref().map(any_of).unwrap_or_default(),
            approvers: list(&t.approvers),
        })
        .collect();
    tiers.push(TierRow {
        up_to: String::new(),
        approvers: String::new(),
    });
    (limits, tiers)
}

/// An amount field: a whole number of units replaces `any`, keeping the
/// amounts of named currencies the version had.
fn amounts(typed: &str, before: Option<&Amounts>) -> Amounts {
    let mut out = before.cloned().unwrap_or_else(|| Amounts::any(0));
    out.0.insert("any".into(), typed.trim().to_owned());
    out
}

/// Reads the form into a policy, starting from the current version (what
/// the form does not show stays as it was).
fn policy_of(form: &Form, current: &Policy) -> Result<Policy, Problem> {
    let bad = |field: &str, m: String| Problem {
        status: 422,
        code: "validation_failed".into(),
        detail: String::new(),
        fields: vec![(field.to_owned(), m)],
    };
    let mut p = current.clone();
    let mut limits = Vec::new();
    for i in 0..50 {
        let roles = split_list(&form.value(&format!("limit_roles_{i}")));
        if roles.is_empty() {
            if form.get(&format!("limit_roles_{i}")).is_none()
                && i >= current.self_grant_limits.len() + 2
            {
                break;
            }
            continue;
        }
        let kinds = split_list(&form.value(&format!("limit_kinds_{i}")));
        limits.push(LimitRule {
            roles,
            kinds: (!kinds.is_empty()).then_some(kinds),
            limit: amounts(
                &form.value(&format!("limit_any_{i}")),
                current.self_grant_limits.get(i).map(|l| &l.limit),
            ),
        });
    }
    p.self_grant_limits = limits;
    let mut tiers: Vec<Tier> = Vec::new();
    for i in 0..20 {
        let approvers = split_list(&form.value(&format!("tier_roles_{i}")));
        if approvers.is_empty() {
            continue;
        }
        let up_to = form.get(&format!("tier_up_to_{i}"));
        let from = tiers
            .last()
            .and_then(|t: &Tier| t.up_to.clone())
            .unwrap_or_else(|| Amounts::any(0));
        tiers.push(Tier {
            from,
            up_to: up_to.map(|u| {
                amounts(
                    u,
                    current.approval_tiers.get(i).and_then(|t| t.up_to.as_ref()),
                )
            }),
            approvers,
        });
    }
    p.approval_tiers = tiers;
    let int = |field: &str| -> Result<i64, Problem> {
        form.value(field)
            .trim()
            .parse::<i64>()
            .map_err(|_| bad(field, "Must be a whole number.".into()))
    };
    p.split_detection.enabled = form.get("split_enabled").is_some();
    p.split_detection.window_hours = int("split_hours")?;
    p.trust.enabled = form.get("trust_enabled").is_some();
    p.trust.per_kept_promise = amounts(
        &form.value("trust_per"),
        Some(&current.trust.per_kept_promise),
    );
    p.trust.max_increase = amounts(&form.value("trust_max"), Some(&current.trust.max_increase));
    p.trust.write_off_window_days = int("trust_days")?;
    p.trust.min_promise_amount = amounts(
        &form.value("trust_min"),
        Some(&current.trust.min_promise_amount),
    );
    p.trust.min_days_held = int("trust_held")?;
    p.self_grant_ceiling = amounts(&form.value("ceiling"), Some(&current.self_grant_ceiling));
    p.pending_expiry_hours = int("expiry_hours")?;
    p.back_dating.window_days = int("back_days")?;
    p.budgets = serde_json::from_str(&form.value("budgets_json")).map_err(|e| {
        bad(
            "budgets",
            format!("Budgets: not valid JSON for a list of budgets ({e})."),
        )
    })?;
    p.store_overrides = serde_json::from_str(&form.value("overrides_json")).map_err(|e| {
        bad(
            "store_overrides",
            format!("Store overrides: not valid JSON for a list of overrides ({e})."),
        )
    })?;
    p.validate()
        .map_err(|fields| Problem::of(&AppError::from(fields)))?;
    Ok(p)
}

/// Which of the last 30 days' gestures (at most 500) the proposed policy
/// would decide otherwise, each with the facts recorded when it was decided.
fn would_change(
    conn: &mut crate::store::DbConnection,
    tenant: crate::domain::ids::TenantId,
    proposed: &Policy,
    now: chrono::NaiveDateTime,
) -> Result<(Vec<WouldChange>, usize), AppError> {
    let recent =
        crate::store::gestures::decided_since(conn, tenant, now - Duration::days(30), 500)?;
    let n = recent.len();
    let mut out = Vec::new();
    for g in recent {
        let (Some(value), Some(record)) = (g.terms.value(), g.approval.as_ref()) else {
            continue;
        };
        let Ok(role) = g.requested_role.parse() else {
            continue;
        };
        let input = crate::domain::policy::DecisionInput {
            kind: g.kind,
            value: Some(value),
            role,
            store_id: g.store_id,
            currency: g.currency,
            recent_same_kind_minor: record.split_window_minor.unwrap_or(0),
            budget_used_minor: proposed
                .budgets
                .iter()
                .map(|b| {
                    record
                        .budgets
                        .iter()
                        .find(|u| u.name == b.name)
                        .map(|u| u.used_minor)
                })
                .collect(),
            promises_kept_on_time: 0,
            written_off_recently: false,
            lifetime_value_minor: record.budgets.iter().find_map(|u| u.lifetime_value_minor),
            now: g.created_at,
        };
        let new = crate::domain::policy::decide(proposed, &input);
        let words = |r: &crate::domain::policy::DecisionRecord| match r.tier {
            None => "at once".to_owned(),
            Some(t) => format!(
                "waits for tier {t} ({})",
                r.approvers
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        };
        if (new.tier, &new.approvers) != (record.tier, &record.approvers) {
            out.push(WouldChange {
                id: g.id.to_string(),
                what: format!(
                    "{} {} by {} ({})",
                    format::words(g.kind.as_str()),
                    format::money(&value),
                    g.requested_by,
                    g.requested_role
                ),
                was: words(record),
                would: words(&new),
            });
        }
    }
    Ok((out, n))
}

#[allow(clippy::too_many_arguments)]
async fn policy_page(
    state: &AppState,
    viewer: &Viewer,
    notice: Option<String>,
    proposed: Option<Policy>,
    problem: Option<&Problem>,
    form: Option<&Form>,
) -> Result<HttpResponse, ConsoleError> {
    let tenant = viewer.caller.tenant;
    let now = state.clock.now();
    let (current, versions, preview, pending) = state
        .read(move |conn| {
            let current = crate::store::policy::current(conn, tenant)?;
            let (versions, _) = crate::store::policy::versions(conn, tenant, None, 50)?;
            let pending = crate::store::policy::proposals(
                conn,
                tenant,
                Some(crate::store::policy::ProposalState::Pending),
                crate::store::PageRequest {
                    limit: 50,
                    starting_after: None,
                },
            )?
            .items;
            let preview = match &proposed {
                None => None,
                Some(p) => {
                    let before = serde_json::to_string(&current.policy).unwrap_or_default();
                    let after = serde_json::to_string(p).unwrap_or_default();
                    let (changes, seen) = would_change(conn, tenant, p, now)?;
                    Some((diff(Some(&before), Some(&after)), changes, seen))
                }
            };
            Ok::<_, AppError>((current, versions, preview, pending))
        })
        .await?;
    let p = &current.policy;
    let (mut limits, mut tiers) = fields_of(p);
    let v = |k: &str, default: String| form.map_or(default, |f| f.value(k));
    if let Some(f) = form {
        for (i, l) in limits.iter_mut().enumerate() {
            l.roles = f.value(&format!("limit_roles_{i}"));
            l.kinds = f.value(&format!("limit_kinds_{i}"));
            l.limit = f.value(&format!("limit_any_{i}"));
        }
        for (i, t) in tiers.iter_mut().enumerate() {
            t.up_to = f.value(&format!("tier_up_to_{i}"));
            t.approvers = f.value(&format!("tier_roles_{i}"));
        }
    }
    let pretty = |x: &serde_json::Value| serde_json::to_string_pretty(x).unwrap_or_default();
    let status = problem
        .and_then(|p| actix_web::http::StatusCode::from_u16(p.status).ok())
        .unwrap_or(actix_web::http::StatusCode::OK);
    Ok(page::html(
        status,
        &PolicyPage {
            layout: Layout::signed_in("Approval policy", viewer, "/console/admin"),
            csrf: viewer.csrf.clone(),
            key: form::new_key(),
            may_edit: viewer.may(Permission::PolicyWrite) && viewer.caller.stores.is_none(),
            version: current.version,
            notice,
            errors: problem.map(|p| p.general(&[])).unwrap_or_default(),
            limits,
            tiers,
            split_enabled: form.map_or(p.split_detection.enabled, |f| {
                f.get("split_enabled").is_some()
            }),
            split_hours: v("split_hours", p.split_detection.window_hours.to_string()),
            trust_enabled: form.map_or(p.trust.enabled, |f| f.get("trust_enabled").is_some()),
            trust_per: v("trust_per", any_of(&p.trust.per_kept_promise)),
            trust_max: v("trust_max", any_of(&p.trust.max_increase)),
            trust_days: v("trust_days", p.trust.write_off_window_days.to_string()),
            trust_min: v("trust_min", any_of(&p.trust.min_promise_amount)),
            trust_held: v("trust_held", p.trust.min_days_held.to_string()),
            expiry_hours: v("expiry_hours", p.pending_expiry_hours.to_string()),
            back_days: v("back_days", p.back_dating.window_days.to_string()),
            budgets_json: v(
                "budgets_json",
                pretty(&serde_json::to_value(&p.budgets).unwrap_or_default()),
            ),
            overrides_json: v(
                "overrides_json",
                pretty(&serde_json::to_value(&p.store_overrides).unwrap_or_default()),
            ),
            preview,
            ceiling: v("ceiling", any_of(&p.self_grant_ceiling)),
            proposals: pending
                .into_iter()
                .map(|x| ProposalRow {
                    id: x.id.to_string(),
                    mine: x.proposed_by == viewer.caller.subject,
                    by: x.proposed_by,
                    at: format::when(&x.proposed_at, chrono_tz::UTC),
                    base_version: x.base_version,
                    loosens: x.loosens,
                })
                .collect(),
            versions: versions
                .iter()
                .map(|x| VersionRow {
                    version: x.version,
                    by: x.created_by.clone(),
                    at: format::when(&x.created_at, chrono_tz::UTC),
                })
                .collect(),
        },
    ))
}

/// Query of the policy page.
#[derive(serde::Deserialize)]
pub(crate) struct PolicyQuery {
    saved: Option<String>,
    proposed: Option<String>,
    approved: Option<String>,
    rejected: Option<String>,
}

/// `GET /console/admin/policy`.
pub(crate) async fn policy(
    state: web::Data<AppState>,
    viewer: Viewer,
    q: web::Query<PolicyQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let notice = q
        .saved
        .as_ref()
        .map(|v| format!("Version {v} saved: it decides every gesture requested from now on."))
        .or_else(|| {
            q.proposed.as_ref().map(|_| {
                "Saved as a proposal: it lets more be granted alone, so it takes effect when \
                 another administrator approves it."
                    .to_owned()
            })
        })
        .or_else(|| {
            q.approved
                .as_ref()
                .map(|v| format!("Proposal approved: it is version {v}, in force from now on."))
        })
        .or_else(|| q.rejected.as_ref().map(|_| "Proposal rejected.".to_owned()));
    policy_page(&state, &viewer, notice, None, None, None).await
}

/// `POST /console/admin/policy` (`intent=preview` or `save`).
pub(crate) async fn save_policy(
    state: web::Data<AppState>,
    sent: Submitted,
) -> Result<HttpResponse, ConsoleError> {
    let Submitted { viewer, form } = sent;
    let tenant = viewer.caller.tenant;
    let current = state
        .read(move |conn| crate::store::policy::current(conn, tenant))
        .await?;
    let proposed = match policy_of(&form, &current.policy) {
        Ok(p) => p,
        Err(problem) => {
            return policy_page(&state, &viewer, None, None, Some(&problem), Some(&form)).await;
        }
    };
    if form.get("intent") == Some("preview") {
        return policy_page(&state, &viewer, None, Some(proposed), None, Some(&form)).await;
    }
    match form::run(&state, &viewer, &form, move |conn, ctx| {
        Ok(
            match crate::app::policy::update_policy(conn, ctx, proposed)? {
                crate::app::policy::PolicyChange::Applied(after) => {
                    Reply::ok(&crate::views::policy::PolicyView::of(after))
                }
                crate::app::policy::PolicyChange::Proposed(p) => {
                    Reply::accepted(&crate::views::policy::ProposalView::of(p))
                }
            },
        )
    })
    .await?
    {
        Done::Acted(v) if v.get("loosens").is_some() => {
            Ok(page::see_other("/console/admin/policy?proposed=1"))
        }
        Done::Acted(v) => Ok(page::see_other(&format!(
            "/console/admin/policy?saved={}",
            v["version"].as_i64().unwrap_or_default()
        ))),
        Done::Refused(p) => policy_page(&state, &viewer, None, None, Some(&p), Some(&form)).await,
    }
}

/// `POST /console/admin/policy/proposals/{id}/approve` and `.../reject`.
pub(crate) async fn decide_proposal(
    state: web::Data<AppState>,
    path: web::Path<(crate::domain::ids::PolicyProposalId, String)>,
    sent: Submitted,
) -> Result<HttpResponse, ConsoleError> {
    let Submitted { viewer, form } = sent;
    let (id, verb) = path.into_inner();
    let approve = match verb.as_str() {
        "approve" => true,
        "reject" => false,
        _ => {
            return Err(ConsoleError::refused(
                404,
                "not_found",
                "There is no such page in the console.",
            ));
        }
    };
    let note = Some(form.value("note").trim().to_owned()).filter(|n| !n.is_empty());
    match form::run(&state, &viewer, &form, move |conn, ctx| {
        use crate::app::policy::ProposalDecision;
        let decision = if approve {
            ProposalDecision::Approve
        } else {
            ProposalDecision::Reject
        };
        let p = crate::app::policy::decide_proposal(conn, ctx, id, decision, note)?;
        Ok(Reply::ok(&crate::views::policy::ProposalView::of(p)))
    })
    .await?
    {
        Done::Acted(p) if approve => Ok(page::see_other(&format!(
            "/console/admin/policy?approved={}",
            p["version"].as_i64().unwrap_or_default()
        ))),
        Done::Acted(_) => Ok(page::see_other("/console/admin/policy?rejected=1")),
        Done::Refused(p) => policy_page(&state, &viewer, None, None, Some(&p), None).await,
    }
}

#[derive(Template)]
#[template(path = "policy_diff.html")]
struct DiffPage {
    layout: Layout,
    a: i32,
    b: i32,
    changes: Vec<Change>,
}

/// Query of the diff page.
#[derive(serde::Deserialize)]
pub(crate) struct DiffQuery {
    a: Option<i32>,
    b: Option<i32>,
}

/// `GET /console/admin/policy/diff?a=&b=`: what changed from version a to b.
pub(crate) async fn policy_diff(
    state: web::Data<AppState>,
    viewer: Viewer,
    q: web::Query<DiffQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let tenant = viewer.caller.tenant;
    let (qa, qb) = (q.a, q.b);
    let (a, b, changes) = state
        .read(move |conn| {
            let current = crate::store::policy::current(conn, tenant)?.version;
            let b = qb.unwrap_or(current);
            let a = qa.unwrap_or((b - 1).max(1));
            let (va, vb) = (
                crate::store::policy::version(conn, tenant, a)?,
                crate::store::policy::version(conn, tenant, b)?,
            );
            let (ja, jb) = (
                serde_json::to_string(&va.policy).unwrap_or_default(),
                serde_json::to_string(&vb.policy).unwrap_or_default(),
            );
            Ok::<_, AppError>((a, b, diff(Some(&ja), Some(&jb))))
        })
        .await?;
    Ok(page::ok(&DiffPage {
        layout: Layout::signed_in("Policy versions", &viewer, "/console/admin"),
        a,
        b,
        changes,
    }))
}
