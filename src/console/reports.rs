//! The recognition report: which staff members customers praised, with
//! their words (S4), for the manager's stores.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{Duration, NaiveDate};

use super::auth::Viewer;
use super::format;
use super::page::{self, ConsoleError, Layout};
use crate::app::names::Names;
use crate::http::{AppError, AppState};

/// One customer's words.
pub(crate) struct Words {
    pub(crate) customer_id: String,
    pub(crate) customer: String,
    pub(crate) on: String,
    pub(crate) words: String,
}

/// One staff member at one store.
pub(crate) struct Praised {
    pub(crate) name: String,
    pub(crate) store: String,
    pub(crate) count: i64,
    pub(crate) words: Vec<Words>,
}

#[derive(Template)]
#[template(path = "recognitions.html")]
struct ReportPage {
    layout: Layout,
    from: String,
    to: String,
    from_value: String,
    to_value: String,
    error: Option<String>,
    staff: Vec<Praised>,
}

/// Query of the report page.
#[derive(serde::Deserialize)]
pub(crate) struct ReportQuery {
    from: Option<String>,
    to: Option<String>,
}

/// `GET /console/recognitions?from=&to=`: the last 90 days by default.
pub(crate) async fn recognitions(
    state: web::Data<AppState>,
    viewer: Viewer,
    q: web::Query<ReportQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let today = state.clock.now().date();
    let parse = |s: Option<&str>| {
        s.filter(|s| !s.is_empty())
            .map(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d"))
    };
    let (to, from) = match (parse(q.to.as_deref()), parse(q.from.as_deref())) {
        (Some(Err(_)), _) | (_, Some(Err(_))) => (Err("Dates are YYYY-MM-DD."), today),
        (to, from) => {
            let to = to.and_then(Result::ok).unwrap_or(today);
            let from = from.and_then(Result::ok).unwrap_or(to - Duration::days(89));
            if from > to {
                (Err("The start comes after the end."), from)
            } else if (to - from).num_days() > 365 {
                (Err("The report covers at most 366 days."), from)
            } else {
                (Ok(to), from)
            }
        }
    };
    let (staff, error, to) = match to {
        Err(e) => (Vec::new(), Some(e.to_owned()), today),
        Ok(to) => {
            let ctx = viewer.caller.audit_ctx(&state.clock);
            let staff = state
                .read(move |conn| {
                    let report =
                        crate::app::reports::recognition_report(conn, &ctx, None, from, to)?;
                    let mut names = Names::load(conn, ctx.tenant)?;
                    let mut out = Vec::new();
                    for s in report.staff {
                        let mut words = Vec::new();
                        for p in s.recognitions {
                            let c = names.customer(conn, p.customer_id)?;
                            words.push(Words {
                                customer_id: c.id.to_string(),
                                customer: c.name.clone(),
                                on: format::day(&p.effective_on),
                                words: p.words,
                            });
                        }
                        out.push(Praised {
                            name: s.name,
                            store: names.store_label(s.store_id),
                            count: s.count,
                            words,
                        });
                    }
                    Ok::<_, AppError>(out)
                })
                .await?;
            (staff, None, to)
        }
    };
    Ok(page::ok(&ReportPage {
        layout: Layout::signed_in("Recognitions", &viewer, "/console/recognitions"),
        from: format::day(&from),
        to: format::day(&to),
        from_value: q.from.clone().unwrap_or_else(|| from.to_string()),
        to_value: q.to.clone().unwrap_or_else(|| to.to_string()),
        error,
        staff,
    }))
}
