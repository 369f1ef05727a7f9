//! The contract: the served OpenAPI document is the committed file; every route
//! the app serves is in it and nothing else; and every response the test suite
//! receives validates against it (checked in `helpers::TestApp::send_to`).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, OnceLock};

use actix_web::http::Method;
use serde_json::Value;

use crate::both;
use crate::helpers::{Resp, TestApp};

/// The committed document.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/api-spec/openapi.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    })
}

fn regex(pattern: &str) -> regex::Regex {
    static CACHE: OnceLock<Mutex<HashMap<String, regex::Regex>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut c = cache.lock().unwrap();
    c.entry(pattern.to_owned())
        .or_insert_with(|| {
            regex::Regex::new(pattern).unwrap_or_else(|e| panic!("bad pattern {pattern}: {e}"))
        })
        .clone()
}

fn resolve(v: &Value) -> &Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let mut cur = document();
            for part in r.trim_start_matches("#/").split('/') {
                cur = &cur[part];
            }
            assert!(!cur.is_null(), "dangling $ref {r}");
            resolve(cur)
        }
        None => v,
    }
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        other => panic!("unknown type {other}"),
    }
}

/// Validates `v` against the JSON Schema subset the document uses.
pub fn check(schema: &Value, v: &Value, at: &str, errs: &mut Vec<String>) {
    let s = resolve(schema);
    if let Some(alternatives) = s.get("oneOf").and_then(Value::as_array) {
        let passing = alternatives
            .iter()
            .filter(|alt| {
                let mut e = Vec::new();
                check(alt, v, at, &mut e);
                e.is_empty()
            })
            .count();
        if passing != 1 {
            errs.push(format!(
                "{at}: {v} matches {passing} of the oneOf alternatives, not exactly one"
            ));
        }
    }
    if let Some(c) = s.get("const")
        && c != v
    {
        errs.push(format!("{at}: {v} is not {c}"));
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array)
        && !e.contains(v)
    {
        errs.push(format!("{at}: {v} not in {e:?}"));
    }
    if let Some(t) = s.get("type") {
        let ok = match t {
            Value::String(t) => type_matches(t, v),
            Value::Array(ts) => ts.iter().any(|t| type_matches(t.as_str().unwrap(), v)),
            _ => panic!("bad type {t}"),
        };
        if !ok {
            errs.push(format!("{at}: {v} is not of type {t}"));
            return;
        }
    }
    match v {
        Value::Object(o) => {
            let props = s.get("properties").and_then(Value::as_object);
            for req in s
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if !o.contains_key(req.as_str().unwrap()) {
                    errs.push(format!("{at}: missing required {req}"));
                }
            }
            for (k, val) in o {
                match props.and_then(|p| p.get(k)) {
                    Some(sub) => check(sub, val, &format!("{at}.{k}"), errs),
                    None => {
                        if s.get("additionalProperties") == Some(&Value::Bool(false)) {
                            errs.push(format!("{at}: undocumented property {k}"));
                        }
                    }
                }
            }
        }
        Value::Array(a) => {
            if let Some(items) = s.get("items") {
                for (i, item) in a.iter().enumerate() {
                    check(items, item, &format!("{at}[{i}]"), errs);
                }
            }
            if let Some(n) = s.get("minItems").and_then(Value::as_u64)
                && (a.len() as u64) < n
            {
                errs.push(format!("{at}: fewer than {n} items"));
            }
            if let Some(n) = s.get("maxItems").and_then(Value::as_u64)
                && a.len() as u64 > n
            {
                errs.push(format!("{at}: more than {n} items"));
            }
        }
        Value::String(st) => {
            let len = st.chars().count() as u64;
            if s.get("minLength")
                .and_then(Value::as_u64)
                .is_some_and(|n| len < n)
            {
                errs.push(format!("{at}: shorter than minLength"));
            }
            if s.get("maxLength")
                .and_then(Value::as_u64)
                .is_some_and(|n| len > n)
            {
                errs.push(format!("{at}: longer than maxLength"));
            }
            if let Some(p) = s.get("pattern").and_then(Value::as_str)
                && !regex(p).is_match(st)
            {
                errs.push(format!("{at}: {st:?} does not match {p}"));
            }
        }
        Value::Number(n) => {
            let x = n.as_f64().unwrap();
            if s.get("minimum")
                .and_then(Value::as_f64)
                .is_some_and(|m| x < m)
            {
                errs.push(format!("{at}: below minimum"));
            }
            if s.get("maximum")
                .and_then(Value::as_f64)
                .is_some_and(|m| x > m)
            {
                errs.push(format!("{at}: above maximum"));
            }
        }
        _ => {}
    }
}

fn template_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && t.ends_with('}') && !p.is_empty()) || t == p)
}

/// Checks one response against the document; panics with the reasons.
pub fn check_response(method: &Method, path_and_query: &str, resp: &Resp) {
    let path = path_and_query.split('?').next().unwrap();
    let doc = document();
    let ct = resp.header("content-type").unwrap_or_default();
    let essence = ct.split(';').next().unwrap_or("").trim().to_owned();
    let body: Option<Value> = serde_json::from_slice(&resp.body).ok();
    let template = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .find(|t| template_matches(t, path));
    // HEAD is GET without the body (the document lists GET only).
    let head = method == Method::HEAD;
    let as_method = if head {
        "get".to_owned()
    } else {
        method.as_str().to_lowercase()
    };
    let op = template.and_then(|t| doc["paths"][t].get(&as_method));
    if head {
        assert!(resp.body.is_empty(), "HEAD {path} sent a body");
    }
    let Some(op) = op else {
        if head {
            assert!(
                [404, 405].contains(&resp.status),
                "HEAD {path}: {}",
                resp.status
            );
            return;
        }
        // Not an operation (unknown route: 404; known path, other method: 405):
        // the answer is still a problem document.
        assert!(
            [404, 405].contains(&resp.status),
            "{method} {path} is not in the document but answered {}",
            resp.status
        );
        let mut errs = Vec::new();
        check(
            &serde_json::json!({"$ref": "#/components/schemas/Problem"}),
            body.as_ref().unwrap(),
            "$",
            &mut errs,
        );
        assert!(errs.is_empty(), "{method} {path} {}: {errs:?}", resp.status);
        return;
    };
    let status = resp.status.to_string();
    let documented = op["responses"].get(&status).unwrap_or_else(|| {
        panic!(
            "{method} {} answered {status}, which the document does not list: {}",
            template.unwrap(),
            String::from_utf8_lossy(&resp.body)
        )
    });
    let documented = resolve(documented);
    if head {
        return;
    }
    let content = &documented["content"][&essence];
    assert!(
        !content.is_null(),
        "{method} {} {status}: content type {essence:?} not documented",
        template.unwrap()
    );
    if essence.ends_with("json") {
        let mut errs = Vec::new();
        check(
            &content["schema"],
            body.as_ref().expect("a JSON body"),
            "$",
            &mut errs,
        );
        assert!(
            errs.is_empty(),
            "{method} {} {status} does not match the document: {errs:#?}\n{}",
            template.unwrap(),
            String::from_utf8_lossy(&resp.body)
        );
    }
}

async fn the_served_document_is_the_committed_file(app: TestApp) {
    let r = app.send(Method::GET, "/v1/openapi.json", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        &r.json(),
        document(),
        "GET /v1/openapi.json differs from api-spec/openapi.json"
    );
    assert_eq!(document()["openapi"], "3.1.0");
}
both!(the_served_document_is_the_committed_file);

#[test]
fn every_route_is_documented_and_every_documented_route_is_served() {
    let served: BTreeSet<(String, String)> = goodwill::http::routes::ENDPOINTS
        .iter()
        .map(|e| (e.method.as_str().to_lowercase(), e.path.to_owned()))
        .collect();
    let mut documented = BTreeSet::new();
    for (path, item) in document()["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            documented.insert((method.clone(), path.clone()));
            let public = op["security"] == serde_json::json!([]);
            let entry = goodwill::http::routes::ENDPOINTS
                .iter()
                .find(|e| e.path == path && e.method.as_str().to_lowercase() == *method);
            if let Some(e) = entry {
                assert_eq!(
                    public,
                    e.access == goodwill::http::routes::Access::Public,
                    "{method} {path}: security in the document differs from the route table"
                );
                if !public {
                    for s in ["401", "403"] {
                        assert!(
                            op["responses"].get(s).is_some(),
                            "{method} {path} lacks {s}"
                        );
                    }
                }
                if op.get("requestBody").is_some() {
                    for s in ["400", "413", "415", "422"] {
                        assert!(
                            op["responses"].get(s).is_some(),
                            "{method} {path} lacks {s}"
                        );
                    }
                    let schema =
                        resolve(&op["requestBody"]["content"]["application/json"]["schema"]);
                    assert_eq!(
                        schema["additionalProperties"], false,
                        "{method} {path}: request schema must be closed"
                    );
                }
            }
        }
    }
    assert_eq!(served, documented);
}

#[test]
fn the_validator_catches_what_it_should() {
    let store = serde_json::json!({"$ref": "#/components/schemas/Store"});
    let good = serde_json::json!({"id": "01a20378-054f-757d-9686-755dba69765d", "name": "M", "code": "M1",
        "currency": "USD", "time_zone": "UTC", "created_at": "2026-11-22T13:35:27.055291Z"});
    let mut errs = Vec::new();
    check(&store, &good, "$", &mut errs);
    assert!(errs.is_empty(), "{errs:?}");
    for bad in [
        serde_json::json!({"id": "x", "name": "M", "code": "M1", "currency": "USD", "created_at": "2026-11-22T13:35:27.055291Z"}),
        serde_json::json!({"name": "M", "code": "M1", "currency": "USD", "created_at": "2026-11-22T13:35:27.055291Z"}),
        serde_json::json!({"id": "01a20378-054f-757d-9686-755dba69765d", "name": "M", "code": "M1", "currency": "usd", "time_zone": "UTC", "created_at": "2026-11-22T13:35:27.055291Z"}),
        serde_json::json!({"id": "01a20378-054f-757d-9686-755dba69765d", "name": "M", "code": "M1", "currency": "USD", "time_zone": "UTC", "created_at": "2026-11-22T13:35:27.055291Z", "extra": 1}),
    ] {
        let mut errs = Vec::new();
        check(&store, &bad, "$", &mut errs);
        assert!(!errs.is_empty(), "{bad}");
    }
}

/// The most bytes a compact JSON value valid under `schema` can take, or why
/// there is no bound (a string without `maxLength`, an array without
/// `maxItems`, an open object without `maxProperties`, a number without range).
/// A character of a string whose pattern admits only ASCII classes is one
/// byte; any other may be a 6-byte `\u00XX` escape.
///
/// A schema that takes any value on purpose (a batch line answered line by
/// line) names the schema its valid values follow in `x-bounded-as`.
fn max_json_bytes(schema: &Value, at: &str) -> Result<u64, String> {
    if let Some(r) = schema["x-bounded-as"].as_str() {
        return max_json_bytes(&serde_json::json!({"$ref": r}), at);
    }
    let s = resolve(schema);
    for key in ["oneOf", "anyOf"] {
        if let Some(branches) = s[key].as_array() {
            let mut most = 0;
            for b in branches {
                most = most.max(max_json_bytes(b, at)?);
            }
            return Ok(most);
        }
    }
    if let Some(values) = s["enum"].as_array() {
        return Ok(values
            .iter()
            .map(|v| v.to_string().len() as u64)
            .max()
            .unwrap_or(0));
    }
    let types: Vec<&str> = match &s["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ if s.get("properties").is_some() => vec!["object"],
        _ => return Err(format!("{at}: no type")),
    };
    let mut most = 0;
    for t in types {
        let n = match t {
            "null" => 4,
            "boolean" => 5,
            "integer" | "number" => match (s["minimum"].as_f64(), s["maximum"].as_f64()) {
                (Some(lo), Some(hi)) if t == "integer" => {
                    (lo.abs().max(hi.abs()) as u64).to_string().len() as u64 + 1
                }
                // A bounded float still prints with up to 17 significant digits.
                (Some(_), Some(_)) => 24,
                _ => return Err(format!("{at}: a number without minimum and maximum")),
            },
            "string" => {
                let max = s["maxLength"]
                    .as_u64()
                    .ok_or_else(|| format!("{at}: a string without maxLength"))?;
                let ascii = s["pattern"].as_str().is_some_and(|p| {
                    let outside = regex(r"\[[^\]]*\]").replace_all(p, "");
                    !p.contains("[^")
                        && !regex(r"(^|[^\\])\.").is_match(&outside)
                        && !regex(r"\\[SWDswd]").is_match(p)
                });
                2 + max * if ascii { 1 } else { 6 }
            }
            "array" => {
                let items = s["maxItems"]
                    .as_u64()
                    .ok_or_else(|| format!("{at}: an array without maxItems"))?;
                2 + items * (max_json_bytes(&s["items"], &format!("{at}[]"))? + 1)
            }
            "object" => {
                let mut total = 2;
                if let Some(props) = s["properties"].as_object() {
                    for (k, v) in props {
                        total += k.len() as u64 + 4 + max_json_bytes(v, &format!("{at}.{k}"))?;
                    }
                }
                match &s["additionalProperties"] {
                    Value::Null | Value::Bool(false) => {}
                    extra => {
                        let n = s["maxProperties"]
                            .as_u64()
                            .ok_or_else(|| format!("{at}: an open object without maxProperties"))?;
                        let key = max_json_bytes(&s["propertyNames"], &format!("{at}.<key>"))?;
                        let value = if extra.is_object() {
                            max_json_bytes(extra, &format!("{at}.*"))?
                        } else {
                            return Err(format!("{at}: additionalProperties without a schema"));
                        };
                        total += n * (key + value + 2);
                    }
                }
                total
            }
            other => return Err(format!("{at}: type {other}")),
        };
        most = most.max(n);
    }
    Ok(most)
}

/// Every request body the document allows fits its route's body limit: the
/// largest compact body a schema admits is computed and compared, so a client
/// that follows the schema is never answered 413 (and each operation that
/// takes a body documents 413 and 408).
#[test]
fn every_request_schema_fits_its_routes_body_limit() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for (path, item) in document()["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(body) = op.get("requestBody") else {
                continue;
            };
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let limit = goodwill::http::routes::body_limit(&m, path) as u64;
            let schema = &body["content"]["application/json"]["schema"];
            match max_json_bytes(schema, &format!("{m} {path} $")) {
                Ok(n) if n > limit => problems.push(format!(
                    "{m} {path}: the schema allows {n} bytes, the route takes {limit}"
                )),
                Ok(_) => {}
                Err(e) => problems.push(e),
            }
            for status in ["408", "413"] {
                if op["responses"].get(status).is_none() {
                    problems.push(format!("{m} {path}: {status} is not documented"));
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 28, "{checked}");
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The table of body limits is the handlers': for every operation that takes
/// a body, one byte over its limit is 413 and a body of exactly the limit is
/// read (whatever it then answers).
async fn body_limits_are_the_routes(app: TestApp) {
    let admin = app.token(goodwill::domain::roles::Role::Admin);
    let id = uuid::Uuid::now_v7().to_string();
    for (path, item) in document()["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op.get("requestBody").is_none() {
                continue;
            }
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let limit = goodwill::http::routes::body_limit(&m, path);
            let url = path.replace("{id}", &id).replace("{month}", "2001-01");
            let padded = |n: usize| {
                let mut b = br#"{"padding": ""#.to_vec();
                b.resize(n - 2, b'a');
                b.extend_from_slice(br#""}"#);
                b
            };
            for (size, too_large) in [(limit + 1, true), (limit, false)] {
                let r = app
                    .send_to(
                        &app.address,
                        m.clone(),
                        &url,
                        Some(&admin),
                        Some(&uuid::Uuid::now_v7().to_string()),
                        Some(("application/json", padded(size))),
                    )
                    .await;
                assert_eq!(
                    r.status == 413,
                    too_large,
                    "{m} {path} with {size} bytes (limit {limit}): {}",
                    r.status
                );
            }
        }
    }
}
both!(body_limits_are_the_routes);

/// The names an example uses that `schema` does not have, with where they
/// are (an example may leave fields out; every name it uses must exist, with
/// the value's shape the schema gives it).
fn unknown_names(schema: &Value, v: &Value, at: &str, out: &mut Vec<String>) {
    let s = resolve(schema);
    if let Some(alternatives) = s.get("oneOf").and_then(Value::as_array) {
        // The alternative that knows most of the example's names speaks for it.
        let best = alternatives
            .iter()
            .filter(|a| !v.is_null() || resolve(a).get("type") == Some(&Value::from("null")))
            .map(|a| {
                let mut e = Vec::new();
                unknown_names(a, v, at, &mut e);
                e
            })
            .min_by_key(Vec::len)
            .unwrap_or_default();
        out.extend(best);
        return;
    }
    if let Some(parts) = s.get("allOf").and_then(Value::as_array) {
        // Every part describes the same value: a name any part knows is known.
        let mut per_part: Vec<Vec<String>> = parts
            .iter()
            .map(|p| {
                let mut e = Vec::new();
                unknown_names(p, v, at, &mut e);
                e
            })
            .collect();
        let first = per_part.pop().unwrap_or_default();
        out.extend(
            first
                .into_iter()
                .filter(|n| per_part.iter().all(|other| other.contains(n))),
        );
        return;
    }
    match v {
        Value::Object(o) => {
            let props = s.get("properties").and_then(Value::as_object);
            // A schema that says nothing of its keys (an event's `data`, the
            // entity as its own endpoint shows it) takes any.
            let open = s.get("additionalProperties").is_some_and(Value::is_object)
                || (props.is_none() && s.get("additionalProperties").is_none());
            if props.is_none()
                && open
                && !s.get("additionalProperties").is_some_and(Value::is_object)
            {
                return;
            }
            for (k, val) in o {
                match props.and_then(|p| p.get(k)) {
                    Some(sub) => unknown_names(sub, val, &format!("{at}.{k}"), out),
                    None if open => {
                        unknown_names(&s["additionalProperties"], val, &format!("{at}.{k}"), out)
                    }
                    None => out.push(format!("{at}.{k}")),
                }
            }
        }
        Value::Array(a) => {
            if let Some(items) = s.get("items") {
                for (i, item) in a.iter().enumerate() {
                    unknown_names(items, item, &format!("{at}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

/// The examples the docs give, each marked by the operation it shows:
/// `<!-- response: GET /v1/finance/write-offs 200 -->` or
/// `<!-- request: PUT /v1/policy -->` on the line before a ```json block.
fn doc_examples() -> Vec<(String, String, Value)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/docs");
    let mut out = Vec::new();
    let mut pages: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    for page in pages {
        let text = std::fs::read_to_string(&page).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(mark) = line
                .trim()
                .strip_prefix("<!-- ")
                .and_then(|l| l.strip_suffix(" -->"))
            else {
                continue;
            };
            if !(mark.starts_with("response: ") || mark.starts_with("request: ")) {
                continue;
            }
            assert_eq!(
                lines.get(i + 1).map(|l| l.trim()),
                Some("```json"),
                "{}:{}: the mark {mark:?} is not followed by a ```json block",
                page.display(),
                i + 1
            );
            let end = (i + 2..lines.len())
                .find(|&j| lines[j].trim() == "```")
                .unwrap_or_else(|| panic!("{}:{}: unclosed block", page.display(), i + 2));
            let body = lines[i + 2..end].join("\n");
            let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| {
                panic!("{}:{}: the example is not JSON: {e}", page.display(), i + 3)
            });
            out.push((format!("{}:{}", page.display(), i + 1), mark.to_owned(), v));
        }
    }
    out
}

/// The schema a doc mark names.
fn marked_schema(mark: &str) -> Value {
    let doc = document();
    let parts: Vec<&str> = mark.split_whitespace().collect();
    match parts.as_slice() {
        ["response:", method, path, status] => {
            let op = &doc["paths"][*path][method.to_lowercase()];
            assert!(op.is_object(), "{mark}: no such operation");
            let r = resolve(&op["responses"][*status]);
            let json = r["content"]
                .as_object()
                .and_then(|c| c.iter().find(|(t, _)| t.ends_with("json")))
                .map(|(_, c)| c["schema"].clone());
            json.unwrap_or_else(|| panic!("{mark}: no JSON answer with that status"))
        }
        ["request:", method, path] => {
            let op = &doc["paths"][*path][method.to_lowercase()];
            let s = &op["requestBody"]["content"]["application/json"]["schema"];
            assert!(s.is_object(), "{mark}: no JSON body");
            s.clone()
        }
        _ => panic!("{mark}: write response: METHOD PATH STATUS or request: METHOD PATH"),
    }
}

/// Every field a doc page names in an example of a request or an answer is
/// in the OpenAPI schema of that operation, with the shape it gives.
#[test]
fn doc_examples_name_only_what_the_contract_has() {
    let examples = doc_examples();
    assert!(
        examples.len() >= 10,
        "the docs show too few marked examples: {}",
        examples.len()
    );
    let mut wrong = Vec::new();
    for (at, mark, v) in &examples {
        let mut names = Vec::new();
        unknown_names(&marked_schema(mark), v, "$", &mut names);
        let mut shapes = Vec::new();
        check(&marked_schema(mark), v, "$", &mut shapes);
        // An example may leave fields out; anything else wrong is wrong.
        shapes.retain(|e| !e.contains("missing required"));
        for n in names.into_iter().chain(shapes) {
            wrong.push(format!("{at} ({mark}): {n}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The check sees a name the contract lacks (the write-off item's value is
/// `value` under `customer`, never `estimated_value`).
#[test]
fn doc_example_check_finds_a_stale_name() {
    let schema = marked_schema("response: GET /v1/finance/write-offs 200");
    let stale = serde_json::json!({"data": [{"amount": {"amount": "5.00", "currency": "USD"},
        "estimated_value": {"amount": "5.00", "currency": "USD"}}]});
    let mut names = Vec::new();
    unknown_names(&schema, &stale, "$", &mut names);
    assert_eq!(names, ["$.data[0].estimated_value"]);
    let fine = serde_json::json!({"data": [{"customer": {"value": null}}]});
    let mut none = Vec::new();
    unknown_names(&schema, &fine, "$", &mut none);
    assert!(none.is_empty(), "{none:?}");
}
