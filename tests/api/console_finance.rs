//! The console's finance and administration pages over HTTP: reviews (one,
//! a batch all or nothing, never one's own), a forced close and what it then
//! refuses, the journal that balances, the aging chart against the API's
//! figures, the policy form taking effect, and an auditor who changes nothing.

use goodwill::domain::ids::StoreId;
use goodwill::domain::roles::Role;
use regex::Regex;
use serde_json::{Value, json};

use crate::both;
use crate::console::Browser;
use crate::helpers::TestApp;

async fn gesture(app: &TestApp, token: &str, customer: &str, body: Value) -> Value {
    let r = app
        .send_to(
            &app.address,
            actix_web::http::Method::POST,
            &format!("/v1/customers/{customer}/gestures"),
            Some(token),
            Some(&uuid::Uuid::now_v7().to_string()),
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await;
    r.expect(201)
}

/// A promise of `amount` waived at once by `sub` (within their limit): a
/// write-off for finance. Its id.
async fn write_off(app: &TestApp, store: StoreId, sub: &str, role: Role, amount: &str) -> String {
    let c = app
        .customer(&format!("C-{}", uuid::Uuid::now_v7().simple()))
        .await;
    let cid = c["id"].as_str().unwrap();
    let tok = app.token_for(app.tenant, sub, role, Some(vec![store]));
    let due = (app.clock.now().date() + chrono::Duration::days(5)).to_string();
    gesture(
        app,
        &tok,
        cid,
        json!({"kind": "deferred_payment", "store_id": store, "reason_code": "closing_time",
        "story": "till closed", "amount": {"amount": amount, "currency": "USD"}, "due_on": due}),
    )
    .await;
    let w = gesture(
        app,
        &tok,
        cid,
        json!({"kind": "balance_waiver", "store_id": store, "reason_code": "staff_error",
        "story": "our mistake", "amount": {"amount": amount, "currency": "USD"}}),
    )
    .await;
    assert_eq!(w["status"], "approved", "{w}");
    w["id"].as_str().unwrap().to_owned()
}

fn status_of(app: &TestApp, items: &Value, id: &str) -> String {
    let _ = app;
    items["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == id)
        .map(|w| w["status"].as_str().unwrap().to_owned())
        .unwrap_or_default()
}

async fn finance_reviews_in_a_batch_all_or_nothing_and_never_its_own(app: TestApp) {
    let a = app.store("A", "USD").await;
    let ids = [
        write_off(&app, a, "clerk-1", Role::Clerk, "10.00").await,
        write_off(&app, a, "clerk-1", Role::Clerk, "12.00").await,
        write_off(&app, a, "clerk-2", Role::Clerk, "14.00").await,
    ];
    let own = write_off(&app, a, "fin", Role::Finance, "20.00").await;
    let mut fin = Browser::sign_in(&app, "fin", Role::Finance, None).await;
    let page = fin.get("/console/finance/write-offs").await;
    page.expect(200);
    for id in &ids {
        assert!(
            page.body
                .contains(&format!(r#"name="write_off_id" value="{id}""#)),
            "{id} offered"
        );
    }
    assert!(
        !page
            .body
            .contains(&format!(r#"name="write_off_id" value="{own}""#)),
        "its own is not offered"
    );
    assert!(page.body.contains("You requested or approved this one"));
    let csrf = page.hidden("csrf");
    // Forced: its own, alone, and within a batch: refused, nothing reviewed.
    let before = app.counts();
    let p = fin
        .post(
            &format!("/console/finance/write-offs/{own}/review"),
            &[
                ("csrf", &csrf),
                ("idempotency_key", "k-own"),
                ("outcome", "reviewed"),
            ],
        )
        .await;
    assert_eq!(p.status, 403, "{}", p.body);
    let p = fin
        .post_fields(
            "/console/finance/write-offs/review",
            &[
                ("csrf".into(), csrf.clone()),
                ("idempotency_key".into(), "k-mixed".into()),
                ("outcome".into(), "reviewed".into()),
                ("write_off_id".into(), ids[0].clone()),
                ("write_off_id".into(), own.clone()),
            ],
        )
        .await;
    assert_eq!(p.status, 403, "{}", p.body);
    assert_eq!(app.counts(), before, "all or nothing: nothing reviewed");
    // Flagging needs a note; then the batch of three.
    let p = fin
        .post(
            &format!("/console/finance/write-offs/{}/review", ids[0]),
            &[
                ("csrf", &csrf),
                ("idempotency_key", "k-flag"),
                ("outcome", "flagged"),
            ],
        )
        .await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("Say why you flag it"), "{}", p.body);
    let mut fields: Vec<(String, String)> = vec![
        ("csrf".into(), csrf.clone()),
        ("idempotency_key".into(), "k-batch".into()),
        ("outcome".into(), "reviewed".into()),
        ("note".into(), "checked against the incident log".into()),
    ];
    for id in &ids {
        fields.push(("write_off_id".into(), id.clone()));
    }
    let p = fin
        .post_fields("/console/finance/write-offs/review", &fields)
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert!(p.location().contains("reviewed=3"));
    let again = fin
        .post_fields("/console/finance/write-offs/review", &fields)
        .await;
    assert_eq!(again.location(), p.location(), "a resent batch acts once");
    let left = app
        .get(
            "/v1/finance/write-offs?limit=100&status=unreviewed",
            &app.token(Role::Auditor),
        )
        .await
        .expect(200);
    for id in &ids {
        assert_eq!(
            status_of(&app, &left, id),
            "",
            "{id} is no longer unreviewed"
        );
    }
    assert_eq!(status_of(&app, &left, &own), "unreviewed");
}
both!(finance_reviews_in_a_batch_all_or_nothing_and_never_its_own);

async fn a_forced_close_refuses_the_month_and_the_journal_balances(app: TestApp) {
    let a = app.store("A", "USD").await;
    write_off(&app, a, "clerk-1", Role::Clerk, "10.00").await;
    // Only an ended month closes: on to the 2nd of the next one.
    let today = app.clock.now().date();
    let month = today.format("%Y-%m").to_string();
    use chrono::Datelike;
    let next = today
        .with_day(1)
        .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
        .unwrap();
    app.clock
        .advance(chrono::Duration::days((next - today).num_days() + 1));
    let last_day = (next - chrono::Duration::days(1)).to_string();
    let mut fin = Browser::sign_in(&app, "fin", Role::Finance, None).await;
    let page = fin.get(&format!("/console/finance/periods/{month}")).await;
    page.expect(200);
    assert!(
        page.body.contains("not reviewed yet"),
        "the unreviewed are shown"
    );
    let close = format!("/console/finance/periods/{month}/close");
    let key = page.key_of(&close);
    let csrf = page.hidden("csrf");
    let p = fin
        .post(&close, &[("csrf", &csrf), ("idempotency_key", &key)])
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("unreviewed"), "{}", p.body);
    let p = fin
        .post(
            &close,
            &[("csrf", &csrf), ("idempotency_key", "k2"), ("force", "1")],
        )
        .await;
    assert_eq!(p.status, 422);
    assert!(
        p.body.contains("Say why"),
        "a forced close needs its reason"
    );
    let p = fin
        .post(
            &close,
            &[
                ("csrf", &csrf),
                ("idempotency_key", "k3"),
                ("force", "1"),
                ("reason", "year-end deadline; reviews follow"),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let closed = fin.get(p.location()).await;
    assert!(
        closed.body.contains("year-end deadline") && closed.body.contains("balanced"),
        "{}",
        closed.body
    );
    // A gesture dated in that month is refused, with a visible error.
    let customer = app.customer("C-late").await;
    let cid = customer["id"].as_str().unwrap();
    let mut clerk = Browser::sign_in(&app, "clerk-9", Role::Clerk, Some(vec![a])).await;
    let form = clerk
        .get(&format!(
            "/console/customers/{cid}/record?kind=service_recovery"
        ))
        .await;
    let p = clerk
        .post(
            &format!("/console/customers/{cid}/gestures"),
            &[
                ("csrf", &form.hidden("csrf")),
                ("idempotency_key", &form.hidden("idempotency_key")),
                ("kind", "service_recovery"),
                ("store_id", &a.to_string()),
                ("amount", "5.00"),
                ("reason_code", "service_failure"),
                ("story", "coffee for the wait"),
                ("effective_on", &last_day),
            ],
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(
        p.body.contains("closed"),
        "the page says the month is closed: {}",
        p.body
    );
    // The journal of the month: every currency balances.
    let csv = fin
        .get(&format!("/console/finance/periods/{month}/journal.csv"))
        .await;
    csv.expect(200);
    assert!(
        csv.header("content-disposition")
            .unwrap()
            .contains(&format!("journal-{month}.csv"))
    );
    let mut reader = csv::Reader::from_reader(csv.body.as_bytes());
    let header = reader.headers().unwrap().clone();
    let (d, c) = (
        header.iter().position(|h| h == "debit").unwrap(),
        header.iter().position(|h| h == "credit").unwrap(),
    );
    let cents = |s: &str| {
        if s.is_empty() {
            0
        } else {
            (s.parse::<f64>().unwrap() * 100.0).round() as i64
        }
    };
    let (mut debits, mut credits) = (0i64, 0i64);
    for row in reader.records() {
        let row = row.unwrap();
        debits += cents(&row[d]);
        credits += cents(&row[c]);
    }
    assert!(debits > 0 && debits == credits, "{debits} vs {credits}");
    // A user of one store may not export the whole tenant's month.
    let mut scoped = Browser::sign_in(&app, "fin-a", Role::Finance, Some(vec![a])).await;
    assert_eq!(
        scoped
            .get(&format!("/console/finance/periods/{month}/journal.csv"))
            .await
            .status,
        403
    );
    // The admin reopens it.
    let mut admin = Browser::sign_in(&app, "adm", Role::Admin, None).await;
    let page = admin
        .get(&format!("/console/finance/periods/{month}"))
        .await;
    let reopen = format!("/console/finance/periods/{month}/reopen");
    let p = admin
        .post(
            &reopen,
            &[
                ("csrf", &page.hidden("csrf")),
                ("idempotency_key", &page.key_of(&reopen)),
                ("reason", "a late correction"),
            ],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
}
both!(a_forced_close_refuses_the_month_and_the_journal_balances);

async fn the_aging_chart_draws_the_apis_figures(app: TestApp) {
    let a = app.store("A", "USD").await;
    let b = app.store("B", "USD").await;
    for (store, amount) in [(a, "100.00"), (b, "200.00")] {
        let c = app
            .customer(&format!("C-{}", uuid::Uuid::now_v7().simple()))
            .await;
        let tok = app.token_for(app.tenant, "mgr", Role::Manager, Some(vec![store]));
        let due = (app.clock.now().date() + chrono::Duration::days(1)).to_string();
        gesture(&app, &tok, c["id"].as_str().unwrap(), json!({"kind": "deferred_payment", "store_id": store,
            "reason_code": "closing_time", "story": "till closed", "amount": {"amount": amount, "currency": "USD"}, "due_on": due})).await;
    }
    app.clock.advance(chrono::Duration::days(40));
    let api = app
        .get("/v1/finance/aging", &app.token(Role::Finance))
        .await
        .expect(200);
    let amounts: Vec<f64> = api["stores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s["buckets"]["31_60"]["amount"]["amount"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(amounts.len(), 2);
    let mut fin = Browser::sign_in(&app, "fin", Role::Finance, None).await;
    let page = fin.get("/console/finance/aging").await;
    page.expect(200);
    assert!(
        page.body.contains("$100.00") && page.body.contains("$200.00"),
        "the table"
    );
    // The bars of the 31–60 series (the palette's third colour) stand in the
    // API's proportion, one per store in the order of the table.
    let rect = Regex::new(
        r##"<rect x="\d+" y="(\d+)" width="\d+" height="(\d+)" opacity="1" fill="#009E73""##,
    )
    .unwrap();
    let heights: Vec<f64> = rect
        .captures_iter(&page.body)
        .map(|c| c[2].parse().unwrap())
        .collect();
    assert_eq!(heights.len(), 2, "{}", page.body);
    let (want, got) = (amounts[1] / amounts[0], heights[1] / heights[0]);
    assert!(
        (want - got).abs() / want < 0.03,
        "bars {heights:?} for {amounts:?}"
    );
    assert!(
        page.body.contains("<title id=\"aging-USD-t\">"),
        "the chart names itself"
    );
    // The bucket's promises.
    let detail = fin
        .get(&format!(
            "/console/finance/aging/promises?bucket=31_60&store={b}"
        ))
        .await;
    assert!(detail.body.contains("$200.00") && !detail.body.contains("$100.00"));
}
both!(the_aging_chart_draws_the_apis_figures);

async fn a_policy_change_from_the_form_takes_effect_and_shows_in_the_diff(app: TestApp) {
    let a = app.store("A", "USD").await;
    let c = app.customer("C-1").await;
    let cid = c["id"].as_str().unwrap().to_owned();
    let clerk = app.token_for(app.tenant, "clerk-1", Role::Clerk, Some(vec![a]));
    let due = (app.clock.now().date() + chrono::Duration::days(3)).to_string();
    let body = json!({"kind": "deferred_payment", "store_id": a, "reason_code": "closing_time", "story": "till closed",
        "amount": {"amount": "10.00", "currency": "USD"}, "due_on": due});
    assert_eq!(
        gesture(&app, &clerk, &cid, body.clone()).await["status"],
        "approved"
    );
    let mut admin = Browser::sign_in(&app, "adm", Role::Admin, None).await;
    let page = admin.get("/console/admin/policy").await;
    page.expect(200);
    let value = |name: &str| -> String {
        Regex::new(&format!(r#"name="{name}" value="([^"]*)""#))
            .unwrap()
            .captures(&page.body)
            .map(|c| c[1].to_owned())
            .unwrap_or_default()
    };
    let mut fields: Vec<(String, String)> = vec![
        ("csrf".into(), page.hidden("csrf")),
        (
            "idempotency_key".into(),
            page.key_of("/console/admin/policy"),
        ),
    ];
    for name in Regex::new(r#"name="((?:limit|tier)_[a-z_]+_\d+|split_hours|trust_per|trust_max|trust_days|trust_min|trust_held|expiry_hours|back_days|ceiling)""#)
        .unwrap()
        .captures_iter(&page.body)
        .map(|c| c[1].to_owned())
    {
        let v = if name == "limit_any_0" { "5".to_owned() } else { value(&name) };
        fields.push((name, v));
    }
    fields.push(("split_enabled".into(), "1".into()));
    fields.push(("budgets_json".into(), "[]".into()));
    fields.push(("overrides_json".into(), "[]".into()));
    assert_eq!(value("limit_roles_0"), "pos, clerk");
    // Preview: what changes, and the clerk's 10.00 that would now wait.
    let mut preview = fields.clone();
    preview.push(("intent".into(), "preview".into()));
    let p = admin.post_fields("/console/admin/policy", &preview).await;
    p.expect(200);
    assert!(
        p.body.contains("self_grant_limits[0].limit.any"),
        "{}",
        p.body
    );
    assert!(
        p.body.contains("would have gone another way") && p.body.contains("waits for tier 1"),
        "{}",
        p.body
    );
    assert_eq!(
        app.get("/v1/policy", &app.token(Role::Admin))
            .await
            .expect(200)["version"],
        1,
        "a preview saves nothing"
    );
    let mut save = fields.clone();
    save.push(("intent".into(), "save".into()));
    let p = admin.post_fields("/console/admin/policy", &save).await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert!(p.location().contains("saved=2"));
    // The next request is decided by it.
    assert_eq!(
        gesture(&app, &clerk, &cid, body).await["status"],
        "pending_approval"
    );
    let diff = admin.get("/console/admin/policy/diff?a=1&b=2").await;
    assert!(
        diff.body.contains("self_grant_limits[0].limit.any")
            && diff.body.contains(">25<")
            && diff.body.contains(">5<"),
        "{}",
        diff.body
    );
}
both!(a_policy_change_from_the_form_takes_effect_and_shows_in_the_diff);

async fn an_auditor_sees_everything_and_changes_nothing(app: TestApp) {
    let a = app.store("A", "USD").await;
    let w = write_off(&app, a, "clerk-1", Role::Clerk, "10.00").await;
    let mut aud = Browser::sign_in(&app, "aud", Role::Auditor, None).await;
    for page in [
        "/console/finance/write-offs",
        "/console/finance/aging",
        "/console/finance/reports",
        "/console/finance/periods",
        "/console/value",
        "/console/audit/verify",
        "/console/admin/events",
        "/console/admin/ledger",
        "/console/admin/policy",
    ] {
        let p = aud.get(page).await;
        assert_eq!(p.status, 200, "{page}: {}", p.body);
        assert!(
            !p.body.contains(r#"method="post" action="/console/finance"#),
            "{page} offers no form to change finance"
        );
    }
    let history = aud
        .get(&format!("/console/audit?entity_type=gesture&entity_id={w}"))
        .await;
    assert!(
        history.body.contains("gesture.requested") && history.body.contains("writeoff.created"),
        "{}",
        history.body
    );
    let verify = aud.get("/console/audit/verify").await;
    assert!(verify.body.contains("Intact"), "{}", verify.body);
    let csrf = aud.csrf().await;
    let month = app.clock.now().date().format("%Y-%m").to_string();
    let before = app.counts();
    for (path, extra) in [
        (
            format!("/console/finance/write-offs/{w}/review"),
            vec![("outcome", "reviewed")],
        ),
        (
            format!("/console/finance/periods/{month}/close"),
            vec![("force", "1"), ("reason", "x")],
        ),
        ("/console/admin/policy".to_owned(), vec![("intent", "save")]),
        (
            "/console/admin/stores".to_owned(),
            vec![("name", "X"), ("code", "X"), ("currency", "USD")],
        ),
        ("/console/value/fit".to_owned(), vec![]),
    ] {
        let mut f = vec![("csrf", csrf.as_str()), ("idempotency_key", "aud-1")];
        f.extend(extra);
        let p = aud.post(&path, &f).await;
        assert_eq!(p.status, 403, "{path}: {}", p.body);
    }
    assert_eq!(app.counts(), before, "an auditor changed nothing");
}
both!(an_auditor_sees_everything_and_changes_nothing);

async fn the_report_sums_the_same_whether_the_database_or_the_service_groups(app: TestApp) {
    // PostgreSQL groups and sums in the database unless the report groups by
    // approver (which reads every decision); both must give the same figures.
    let a = app.store("A", "USD").await;
    let b = app.store("B", "USD").await;
    let due = (app.clock.now().date() + chrono::Duration::days(2)).to_string();
    for (i, store) in [a, b, a, b, a].into_iter().enumerate() {
        let c = app.customer(&format!("C-R{i}")).await;
        let cid = c["id"].as_str().unwrap();
        let mgr = app.token_for(
            app.tenant,
            &format!("mgr-{i}"),
            Role::Manager,
            Some(vec![store]),
        );
        let amount = format!("{}.{:02}", 10 + i * 7, i * 13 % 100);
        for body in [
            json!({"kind": "deferred_payment", "store_id": store, "reason_code": "closing_time", "story": "s", "amount": {"amount": amount, "currency": "USD"}, "due_on": due}),
            json!({"kind": "balance_waiver", "store_id": store, "reason_code": "staff_error", "story": "s", "amount": {"amount": amount, "currency": "USD"}}),
            json!({"kind": "free_service", "store_id": store, "reason_code": "goodwill", "story": "s", "retail_value": {"amount": "40.00", "currency": "USD"}, "cost": {"amount": format!("{i}.50"), "currency": "USD"}}),
            json!({"kind": "service_recovery", "store_id": store, "reason_code": "service_failure", "story": "s", "amount": {"amount": "12.25", "currency": "USD"}}),
            json!({"kind": "store_credit", "store_id": store, "reason_code": "loyalty", "story": "s", "amount": {"amount": "5.00", "currency": "USD"}}),
        ] {
            gesture(&app, &mgr, cid, body).await;
        }
    }
    let fin = app.token(Role::Finance);
    let by = "store,kind,reason_code,requester,month";
    let grouped = app
        .get(&format!("/v1/finance/reports/goodwill?group_by={by}"), &fin)
        .await
        .expect(200);
    let streamed = app
        .get(
            &format!("/v1/finance/reports/goodwill?group_by={by},approver"),
            &fin,
        )
        .await
        .expect(200);
    let roll = |v: &Value, drop_approver: bool| {
        let mut m: std::collections::BTreeMap<String, [i64; 7]> = Default::default();
        for r in v["rows"].as_array().unwrap() {
            let mut g = r["group"].as_object().unwrap().clone();
            if drop_approver {
                g.remove("approver");
            }
            let cents = |k: &str| {
                let s = r[k]["amount"].as_str().unwrap();
                (s.parse::<f64>().unwrap() * 100.0).round() as i64
            };
            let e = m.entry(format!("{g:?}{}", r["currency"])).or_default();
            for (i, k) in [
                "value",
                "free_service_retail_value",
                "free_service_cost",
                "written_off",
                "recovered",
                "net_cost",
            ]
            .iter()
            .enumerate()
            {
                e[i] += cents(k);
            }
            e[6] += r["count"].as_i64().unwrap();
        }
        m
    };
    let a_ = roll(&grouped, false);
    assert!(a_.len() >= 10, "{grouped}");
    assert_eq!(a_, roll(&streamed, true));
    assert_eq!(grouped["totals"], streamed["totals"]);
}
both!(the_report_sums_the_same_whether_the_database_or_the_service_groups);
