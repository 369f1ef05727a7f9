//! Hostile input: forged tokens (header tricks included), oversized and deeply
//! nested JSON, absurd numbers and amounts, unicode edge cases, ids that are not
//! ids, out-of-range pages and forged cursors. Each gets a clear 4xx
//! problem+json — never a 5xx, never a hang — and changes nothing.

use std::time::{Duration, Instant};

use actix_web::http::Method;
use goodwill::config::KeyConfig;
use goodwill::domain::roles::Role;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{TestApp, b64url};

/// POSTs raw bytes as JSON with a fresh Idempotency-Key.
async fn post_bytes(app: &TestApp, path: &str, token: &str, body: Vec<u8>) -> crate::helpers::Resp {
    app.send_to(
        &app.address,
        Method::POST,
        path,
        Some(token),
        Some(&uuid::Uuid::now_v7().to_string()),
        Some(("application/json", body)),
    )
    .await
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// An HS256-signed token with any header.
fn signed(header: &Value, claims: &Value, secret: &[u8]) -> String {
    use hmac_sha256::sign;
    let h = b64url(header.to_string().as_bytes());
    let c = b64url(claims.to_string().as_bytes());
    let sig = sign(format!("{h}.{c}").as_bytes(), secret);
    format!("{h}.{c}.{}", b64url(&sig))
}

/// HMAC-SHA256, small and local (the tests forge tokens by hand).
mod hmac_sha256 {
    use sha2::{Digest, Sha256};

    pub fn sign(data: &[u8], key: &[u8]) -> Vec<u8> {
        let mut k = [0u8; 64];
        if key.len() > 64 {
            k[..32].copy_from_slice(&Sha256::digest(key));
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
        let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
        let inner = Sha256::new()
            .chain_update(&ipad)
            .chain_update(data)
            .finalize();
        Sha256::new()
            .chain_update(&opad)
            .chain_update(inner)
            .finalize()
            .to_vec()
    }
}

async fn forged_tokens(app: TestApp) {
    let secret = match &app.jwt.key {
        KeyConfig::Secret(s) => s.clone(),
        _ => unreachable!(),
    };
    let claims =
        json!({"sub": "mallory", "tenant": app.tenant, "role": "admin", "exp": now() + 600});
    // The control: the test's own HMAC, with the right key and header, passes.
    let good = signed(&json!({"alg": "HS256", "typ": "JWT"}), &claims, &secret);
    app.get("/v1/stores", &good).await.expect(200);

    let attacker = b"attacker-controlled-secret-0123456789abcdef";
    let cases: Vec<(&str, String)> = vec![
        (
            "alg none",
            format!(
                "{}.{}.",
                b64url(br#"{"alg":"none","typ":"JWT"}"#),
                b64url(claims.to_string().as_bytes())
            ),
        ),
        (
            "alg None",
            format!(
                "{}.{}.",
                b64url(br#"{"alg":"None"}"#),
                b64url(claims.to_string().as_bytes())
            ),
        ),
        (
            "alg nOnE with a signature",
            format!(
                "{}.{}.{}",
                b64url(br#"{"alg":"nOnE"}"#),
                b64url(claims.to_string().as_bytes()),
                b64url(b"sig")
            ),
        ),
        ("HS512 with the right key", {
            let h = b64url(br#"{"alg":"HS512","typ":"JWT"}"#);
            let c = b64url(claims.to_string().as_bytes());
            format!(
                "{h}.{c}.{}",
                b64url(&hmac_sha256::sign(format!("{h}.{c}").as_bytes(), &secret))
            )
        }),
        ("RS256 header on an HS256 key", {
            let h = b64url(br#"{"alg":"RS256","typ":"JWT"}"#);
            let c = b64url(claims.to_string().as_bytes());
            format!(
                "{h}.{c}.{}",
                b64url(&hmac_sha256::sign(format!("{h}.{c}").as_bytes(), &secret))
            )
        }),
        (
            "another key (as another tenant's deployment would sign)",
            signed(&json!({"alg": "HS256"}), &claims, attacker),
        ),
        (
            "another tenant's claim, another key",
            signed(
                &json!({"alg": "HS256"}),
                &json!({"sub": "mallory", "tenant": app.other_tenant, "role": "admin", "exp": now() + 600}),
                attacker,
            ),
        ),
        (
            "kid path traversal, empty key",
            signed(
                &json!({"alg": "HS256", "kid": "../../../../../../dev/null"}),
                &claims,
                b"",
            ),
        ),
        (
            "kid SQL injection",
            signed(
                &json!({"alg": "HS256", "kid": "x' UNION SELECT 'attacker' --"}),
                &claims,
                attacker,
            ),
        ),
        (
            "jku to an attacker's key set",
            signed(
                &json!({"alg": "HS256", "jku": "http://127.0.0.1:1/jwks.json", "kid": "a"}),
                &claims,
                attacker,
            ),
        ),
        (
            "x5u to an attacker's certificate",
            signed(
                &json!({"alg": "HS256", "x5u": "http://127.0.0.1:1/cert.pem"}),
                &claims,
                attacker,
            ),
        ),
        (
            "embedded jwk with the attacker's key",
            signed(
                &json!({"alg": "HS256",
            "jwk": {"kty": "oct", "k": b64url(attacker)}}),
                &claims,
                attacker,
            ),
        ),
        (
            "crit header the service does not know",
            signed(
                &json!({"alg": "HS256", "crit": ["exp"], "b64": false}),
                &claims,
                attacker,
            ),
        ),
        ("signature stripped", {
            let t = good.clone();
            t[..t.rfind('.').unwrap() + 1].to_owned()
        }),
        ("signature of another token", {
            let other = signed(
                &json!({"alg": "HS256", "typ": "JWT"}),
                &json!({"sub": "x", "tenant": app.tenant, "role": "pos", "exp": now() + 600}),
                &secret,
            );
            let (hc, _) = good.rsplit_once('.').unwrap();
            format!("{hc}.{}", other.rsplit_once('.').unwrap().1)
        }),
        ("claims swapped under a valid signature", {
            let parts: Vec<&str> = good.split('.').collect();
            let forged = json!({"sub": "mallory", "tenant": app.other_tenant, "role": "admin", "exp": now() + 600});
            format!(
                "{}.{}.{}",
                parts[0],
                b64url(forged.to_string().as_bytes()),
                parts[2]
            )
        }),
        ("four parts", format!("{good}.extra")),
        ("not base64", "!!!.@@@.###".to_owned()),
        (
            "huge token",
            format!(
                "{}.{}.{}",
                "a".repeat(6000),
                "b".repeat(6000),
                "c".repeat(100)
            ),
        ),
    ];
    let before = app.counts();
    for (why, token) in cases {
        let r = app.get("/v1/stores", &token).await;
        assert!(
            r.status == 401 || (why == "huge token" && r.status == 431),
            "{why}: {} {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
        if r.status == 401 {
            r.problem(401, "unauthorized");
        }
        let r = app
            .post(
                "/v1/customers",
                &token,
                &json!({"external_ref": "FORGED", "name": "Mallory"}),
            )
            .await;
        assert!(
            r.status == 401 || r.status == 431,
            "{why} (write): {}",
            r.status
        );
    }
    assert_eq!(app.counts(), before, "a forged token wrote something");
}
both!(forged_tokens);

/// Tokens signed with the right key that are still refused (RFC 7515 §4.1.11,
/// RFC 8725): each differs from an accepted control in one place only.
async fn validly_signed_edge_tokens(app: TestApp) {
    let secret = match &app.jwt.key {
        KeyConfig::Secret(s) => s.clone(),
        _ => unreachable!(),
    };
    let header = json!({"alg": "HS256", "typ": "JWT"});
    let base = json!({"sub": "ann", "tenant": app.tenant, "role": "admin", "exp": now() + 600});
    let with = |k: &str, v: Value| {
        let mut c = base.clone();
        c[k] = v;
        c
    };
    // Controls: the same shapes, acceptable, pass.
    let store = app.store("TE", "USD").await;
    for (why, claims) in [
        ("plain", base.clone()),
        (
            "exp at the longest lifetime",
            with("exp", json!(now() + 30 * 86_400)),
        ),
        (
            "sub of 255 characters",
            with("sub", json!("\u{e9}".repeat(255))),
        ),
        (
            "sub with inner spaces and quotes",
            with("sub", json!("pat, \"the clerk\"")),
        ),
        (
            "stores as a list",
            with("stores", json!([store.to_string()])),
        ),
    ] {
        let r = app
            .get("/v1/stores", &signed(&header, &claims, &secret))
            .await;
        assert_eq!(r.status, 200, "{why}: {}", String::from_utf8_lossy(&r.body));
    }
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "crit b64 (RFC 7797) signed with the right key",
            signed(
                &json!({"alg": "HS256", "crit": ["b64"], "b64": true}),
                &base,
                &secret,
            ),
            "crit",
        ),
        (
            "crit naming a registered claim",
            signed(&json!({"alg": "HS256", "crit": ["exp"]}), &base, &secret),
            "crit",
        ),
        (
            "exp = 2^64 - 1",
            signed(&header, &with("exp", json!(u64::MAX)), &secret),
            "expires too far ahead",
        ),
        (
            "exp a year ahead",
            signed(&header, &with("exp", json!(now() + 366 * 86_400)), &secret),
            "expires too far ahead",
        ),
        (
            "empty sub",
            signed(&header, &with("sub", json!("")), &secret),
            "sub",
        ),
        (
            "9 KB sub",
            signed(&header, &with("sub", json!("a".repeat(9 * 1024))), &secret),
            "sub",
        ),
        (
            "sub with a newline",
            signed(&header, &with("sub", json!("ann\nadmin")), &secret),
            "sub",
        ),
        (
            "sub with a leading space",
            signed(&header, &with("sub", json!(" ann")), &secret),
            "sub",
        ),
        (
            "sub with a tab",
            signed(&header, &with("sub", json!("ann\tadmin")), &secret),
            "sub",
        ),
        (
            "stores null",
            signed(&header, &with("stores", Value::Null), &secret),
            "malformed",
        ),
        (
            "stores a string",
            signed(&header, &with("stores", json!(store.to_string())), &secret),
            "malformed",
        ),
        (
            "stores holding a non-id",
            signed(&header, &with("stores", json!(["*"])), &secret),
            "malformed",
        ),
    ];
    let before = app.counts();
    for (why, token, says) in cases {
        let r = app.get("/v1/stores", &token).await;
        let p = r.problem(401, "unauthorized");
        let detail = p["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(says), "{why}: {detail}");
        let r = app
            .post(
                "/v1/customers",
                &token,
                &json!({"external_ref": "EDGE", "name": "Edge"}),
            )
            .await;
        assert_eq!(r.status, 401, "{why} (write)");
    }
    assert_eq!(app.counts(), before, "a refused token wrote something");
}
both!(validly_signed_edge_tokens);

async fn hostile_bodies(app: TestApp) {
    let store = app.store("HB", "USD").await;
    let customer = app.customer("HB-1").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let clerk = app.token(Role::Clerk);
    let gestures = format!("/v1/customers/{customer}/gestures");
    let recovery = |amount: Value| {
        json!({"kind": "service_recovery", "store_id": store.to_string(), "reason_code": "service_failure",
            "story": "s", "amount": amount})
    };
    let before = app.counts();
    let deep_arrays = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let deep_objects = format!("{}1{}", r#"{"a":"#.repeat(10_000), "}".repeat(10_000));
    let raw_cases: Vec<(&str, Vec<u8>, u16)> = vec![
        // 400 (nesting limit) or 422 (the wrong shape, seen first): a 4xx, fast.
        ("deeply nested arrays", deep_arrays.into_bytes(), 0),
        ("deeply nested objects", deep_objects.into_bytes(), 0),
        // Well-formed JSON beyond any float: 400 or 422, never a 5xx.
        (
            "a number with a 400-digit exponent",
            recovery(json!(1))
                .to_string()
                .replace("\"amount\":1", "\"amount\":1e400")
                .into_bytes(),
            0,
        ),
        (
            "a lone surrogate",
            br#"{"external_ref":"X","name":"\ud800"}"#.to_vec(),
            400,
        ),
        (
            "a NUL byte escaped",
            br#"{"external_ref":"NUL","name":"a\u0000b"}"#.to_vec(),
            422,
        ),
        (
            "invalid UTF-8",
            b"{\"external_ref\":\"X\",\"name\":\"\xff\xfe\"}".to_vec(),
            400,
        ),
        (
            "duplicate keys",
            br#"{"external_ref":"D","name":"a","name":"b"}"#.to_vec(),
            422,
        ),
        (
            "a body of 10,000 keys",
            format!(
                "{{{}}}",
                (0..10_000)
                    .map(|i| format!("\"k{i}\":1"))
                    .collect::<Vec<_>>()
                    .join(",")
            )
            .into_bytes(),
            413,
        ),
    ];
    for (why, body, want) in raw_cases {
        let path = if String::from_utf8_lossy(&body).contains("service_recovery") {
            gestures.as_str()
        } else {
            "/v1/customers"
        };
        let started = Instant::now();
        let r = post_bytes(&app, path, &clerk, body).await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{why}: took {:?}",
            started.elapsed()
        );
        assert!(
            (400..500).contains(&r.status),
            "{why}: {} {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
        if want != 0 {
            assert_eq!(
                r.status,
                want,
                "{why}: {}",
                String::from_utf8_lossy(&r.body)
            );
        }
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/problem+json"),
            "{why}"
        );
    }
    // Amounts: a JSON number, 30 digits, over-precise, signs, separators,
    // exponents, odd digits, not-a-number: each 422 naming amount.amount.
    for amount in [
        json!(10.95),
        json!("123456789012345678901234567890.00"),
        json!("99999999999999999999"),
        json!("10.955"),
        json!("-1.00"),
        json!("+1.00"),
        json!("1,000.00"),
        json!("1e3"),
        json!(" 1.00"),
        json!("1.00 "),
        json!("01.00"),
        json!("1."),
        json!(".5"),
        json!("0x10"),
        json!("NaN"),
        json!("Infinity"),
        json!("１０.００"),
        json!("0.00"),
        json!(""),
        json!(null),
    ] {
        let r = app
            .send_to(
                &app.address,
                Method::POST,
                &gestures,
                Some(&clerk),
                Some(&uuid::Uuid::now_v7().to_string()),
                Some((
                    "application/json",
                    json!({"kind": "service_recovery", "store_id": store.to_string(),
                    "reason_code": "service_failure", "story": "s",
                    "amount": {"amount": amount, "currency": "USD"}})
                    .to_string()
                    .into_bytes(),
                )),
            )
            .await;
        assert_eq!(
            r.status,
            422,
            "amount {amount}: {}",
            String::from_utf8_lossy(&r.body)
        );
        r.names_field("amount.amount");
    }
    for currency in [
        json!("usd"),
        json!("XXX1"),
        json!("US"),
        json!("ZZZ"),
        json!(840),
    ] {
        let r = app
            .send_to(
                &app.address,
                Method::POST,
                &gestures,
                Some(&clerk),
                Some(&uuid::Uuid::now_v7().to_string()),
                Some((
                    "application/json",
                    recovery(json!({"amount": "1.00", "currency": currency}))
                        .to_string()
                        .into_bytes(),
                )),
            )
            .await;
        assert_eq!(
            r.status,
            422,
            "currency {currency}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }
    // Ids that are not ids: 404 in a path, 422 naming the field in a body or query.
    for path in [
        "/v1/customers/1",
        "/v1/customers/1'%20OR%20'1'='1",
        "/v1/customers/..%2F..%2Fetc%2Fpasswd",
        "/v1/gestures/00000000-0000-0000-0000-00000000000G",
        "/v1/gestures/%00",
        "/v1/sales/%F0%9F%92%A9",
    ] {
        let r = app.get(path, &clerk).await;
        r.problem(404, "not_found");
    }
    for (body, field) in [
        (
            json!({"kind": "recognition", "store_id": "../../etc", "reason_code": "praise", "story": "s"}),
            "store_id",
        ),
        (
            json!({"kind": "recognition", "store_id": store.to_string(), "reason_code": "praise", "story": "s",
            "staff_ids": ["1; DROP TABLE gestures"]}),
            "staff_ids[0]",
        ),
        (
            json!({"kind": "recognition", "store_id": store.to_string(), "reason_code": "praise", "story": "s",
            "incident_id": 42}),
            "incident_id",
        ),
    ] {
        let r = post_bytes(&app, &gestures, &clerk, body.to_string().into_bytes()).await;
        r.names_field(field);
    }
    assert_eq!(app.counts(), before, "a hostile body wrote something");
}
both!(hostile_bodies);

async fn unicode_text_round_trips(app: TestApp) {
    let clerk = app.token(Role::Clerk);
    // Stored as given and read back byte for byte: combining marks, right-to-left
    // and zero-width characters, emoji with modifiers, CJK, astral planes.
    for (n, name) in [
        "Zoë Ñúñez",
        "e\u{301}\u{302}\u{303} combining",
        "\u{202E}evil\u{202C} right-to-left override",
        "zero\u{200B}width\u{FEFF}joiner",
        "👩🏽‍🔬 family 👨‍👩‍👧‍👦",
        "山田 太郎",
        "𝕳𝖊𝖑𝖑𝖔 𐍈",
        "'; DROP TABLE customers; --",
        "<script>alert(1)</script>",
    ]
    .iter()
    .enumerate()
    {
        let r = app
            .post(
                "/v1/customers",
                &clerk,
                &json!({"external_ref": format!("U-{n}"), "name": name}),
            )
            .await;
        let c = r.expect(201);
        assert_eq!(c["name"], *name);
        let back = app
            .get(
                &format!("/v1/customers/{}", c["id"].as_str().unwrap()),
                &clerk,
            )
            .await
            .expect(200);
        assert_eq!(back["name"], *name);
    }
    // Control characters are refused (they break logs and CSV exports).
    for bad in ["a\u{0}b", "a\u{7}b", "line\nbreak", "a\u{1b}[31mred"] {
        let r = app
            .post(
                "/v1/customers",
                &clerk,
                &json!({"external_ref": "CTRL", "name": bad}),
            )
            .await;
        r.names_field("name");
    }
}
both!(unicode_text_round_trips);

async fn pages_and_cursors(app: TestApp) {
    let clerk = app.token(Role::Clerk);
    for n in 0..3 {
        app.customer(&format!("PG-{n}")).await;
    }
    let other = app.token_for(app.other_tenant, "other", Role::Admin, None);
    let theirs = app
        .post(
            "/v1/customers",
            &other,
            &json!({"external_ref": "THEIRS", "name": "T"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for q in [
        "limit=101",
        "limit=0",
        "limit=-1",
        "limit=99999999999999999999",
        "limit=1e2",
        "limit=",
        "starting_after=zzz",
        "starting_after=",
        "starting_after=00000000-0000-0000-0000-000000000000%27",
        "starting_after=%00",
        "starting_after=eyJpZCI6MX0",
        &format!("starting_after={}", uuid::Uuid::now_v7()),
        &format!("starting_after={theirs}"),
    ] {
        for list in [
            "/v1/customers",
            "/v1/gestures",
            "/v1/stores",
            "/v1/staff",
            "/v1/sales",
            "/v1/audit",
        ] {
            let token = if list == "/v1/audit" {
                app.token(Role::Auditor)
            } else {
                clerk.clone()
            };
            let r = app.get(&format!("{list}?{q}"), &token).await;
            let field = if q.starts_with("limit") {
                "limit"
            } else {
                "starting_after"
            };
            assert_eq!(
                r.status,
                422,
                "{list}?{q}: {}",
                String::from_utf8_lossy(&r.body)
            );
            r.names_field(field);
        }
    }
}
both!(pages_and_cursors);

/// Slow bodies (RFC 9110's 408): 200 connections send a request's head and part
/// of a 60,000-byte body, then stop (a quarter drip a byte every 150 ms first). Each is
/// answered 408 `request_timeout` and closed once the body timeout (2 s here)
/// has passed, while ordinary requests are served, and nothing is written.
async fn slow_bodies_are_cut_off(app: TestApp) {
    use std::io::{Read, Write};
    let token = app.token(Role::Admin);
    let port: u16 = app.address.rsplit(':').next().unwrap().parse().unwrap();
    let before = app.counts();
    let started = Instant::now();
    let clients: Vec<_> = (0..200)
        .map(|i| {
            let token = token.clone();
            std::thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                let head = format!(
                    "POST /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
                     Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n"
                );
                s.write_all(head.as_bytes()).unwrap();
                s.write_all(br#"{"external_ref": "SLOW", "name": ""#)
                    .unwrap();
                if i % 4 == 0 {
                    // Dripping a byte every 150 ms does not buy more time.
                    for _ in 0..12 {
                        std::thread::sleep(Duration::from_millis(150));
                        s.write_all(b"a").unwrap();
                    }
                }
                let mut answer = Vec::new();
                let _ = s.read_to_end(&mut answer);
                (
                    started.elapsed(),
                    String::from_utf8_lossy(&answer).into_owned(),
                )
            })
        })
        .collect();
    // Meanwhile the service serves others.
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    app.get("/v1/stores", &token).await.expect(200);
    let answers: Vec<(Duration, String)> = actix_web::rt::task::spawn_blocking(move || {
        clients.into_iter().map(|c| c.join().unwrap()).collect()
    })
    .await
    .unwrap();
    for (took, answer) in &answers {
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("request_timeout"), "{answer}");
        assert!(
            answer.to_ascii_lowercase().contains("connection: close"),
            "{answer}"
        );
        assert!(
            *took >= Duration::from_millis(1900) && *took < Duration::from_secs(8),
            "cut off after {took:?}"
        );
    }
    assert_eq!(app.counts(), before, "a cut-off body wrote something");
}

mod slow_bodies {
    use crate::helpers::{Backend, TestApp};
    #[actix_web::test]
    async fn sqlite() {
        super::slow_bodies_are_cut_off(
            TestApp::spawn_tuned(Backend::Sqlite, |s| s.body_timeout_secs = 2).await,
        )
        .await;
    }
    #[actix_web::test]
    async fn postgres() {
        super::slow_bodies_are_cut_off(
            TestApp::spawn_tuned(Backend::Postgres, |s| s.body_timeout_secs = 2).await,
        )
        .await;
    }
}
