//! Extractors: who is calling ([`Caller`]), the JSON body ([`JsonBody`]), the
//! query string ([`QueryParams`]) and the request id ([`RequestId`]).

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use super::AppState;
use super::routes::{self, Access};
use crate::domain::ids::{StoreId, TenantId};
use crate::domain::roles::Role;
use crate::domain::{FieldError, Problems};
use crate::error::{Error, ErrorCode};
use crate::http::AppError;
use crate::idempotency::IdempotencyKey;
use crate::store::PageRequest;

/// Default body limit: 64 KiB.
pub const BODY_LIMIT: usize = 64 * 1024;
/// Body limit of batch endpoints: 4 MiB.
pub const BATCH_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// The request id: taken from `X-Request-Id` when it is 1..=200 visible ASCII
/// characters, generated otherwise; echoed on every response.
#[derive(Clone, Debug)]
pub(crate) struct RequestId(pub String);

impl RequestId {
    /// Accepts a client's id or makes one.
    pub(crate) fn from_header(value: Option<&str>) -> Self {
        match value {
            Some(v)
                if !v.is_empty() && v.len() <= 200 && v.bytes().all(|b| b.is_ascii_graphic()) =>
            {
                Self(v.to_owned())
            }
            _ => Self(uuid::Uuid::now_v7().to_string()),
        }
    }
}

impl FromRequest for RequestId {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(req
            .extensions()
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(|| RequestId::from_header(None))))
    }
}

/// The authenticated caller, authorised for this route's permission.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    /// The token's `sub`.
    pub subject: String,
    /// The tenant every query of this request is confined to.
    pub tenant: TenantId,
    /// The role.
    pub role: Role,
    /// Stores the token may act at; `None` = all of the tenant's stores.
    pub stores: Option<Vec<StoreId>>,
    /// The request id.
    pub request_id: String,
}

impl Caller {
    /// The actor and request, as the audit trail records them.
    pub(crate) fn audit_ctx(&self, clock: &crate::clock::Clock) -> crate::audit::AuditCtx {
        crate::audit::AuditCtx {
            clock: clock.clone(),
            now: clock.now(),
            tenant: self.tenant,
            actor_sub: self.subject.clone(),
            actor_role: self.role,
            actor_stores: self.stores.clone(),
            request_id: self.request_id.clone(),
            ledger: crate::audit::LedgerWitness::default(),
        }
    }

    /// Whether the token may act at `store`.
    pub(crate) fn may_act_at(&self, store: StoreId) -> bool {
        crate::domain::roles::may_act_at(self.stores.as_deref(), store)
    }

    /// 403 `store_scope` unless the token may act at `store`.
    pub(crate) fn require_store(&self, store: StoreId) -> Result<(), AppError> {
        Error::require_store(self.stores.as_deref(), store).map_err(AppError::from)
    }

    /// The stores a read covers (see [`crate::audit::AuditCtx::scope`]).
    pub(crate) fn scope(&self, store: Option<StoreId>) -> Result<Option<Vec<StoreId>>, AppError> {
        Error::scope(self.stores.as_deref(), store).map_err(AppError::from)
    }
}

fn bearer(headers: &header::HeaderMap) -> Result<&str, String> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or("an Authorization: Bearer token is required")?
        .to_str()
        .map_err(|_| "the Authorization header is not ASCII")?;
    let refused = "the Authorization header must be 'Bearer <token>'";
    let (scheme, token) = value.split_once(' ').ok_or(refused)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(refused.into());
    }
    Ok(token.trim())
}

/// The request's bearer token, parsed and verified once: the first to ask
/// (the rate limit, else the caller's extractor) verifies it and keeps the
/// answer in the request's extensions for the others. The error is a reason
/// fit for a 401's detail.
#[derive(Clone)]
struct Verified(Result<crate::auth::Claims, String>);

/// See [`Verified`].
pub(crate) fn verified_claims(
    extensions: &mut actix_web::dev::Extensions,
    headers: &header::HeaderMap,
    verifier: &crate::auth::Verifier,
) -> Result<crate::auth::Claims, String> {
    if let Some(v) = extensions.get::<Verified>() {
        return v.0.clone();
    }
    let answer = bearer(headers).and_then(|t| verifier.verify(t));
    extensions.insert(Verified(answer.clone()));
    answer
}

impl FromRequest for Caller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            // The route table is the only source of permissions: a route that is
            // not in it is never served, whatever its handler asks for.
            let pattern = req.match_pattern().unwrap_or_default();
            let access = routes::access(req.method(), &pattern);
            let permission = match access.and_then(Access::permission) {
                Some(p) => p,
                None => {
                    return Err(AppError::from(Error::internal(format!(
                        "route {} {pattern} has no permission in the route table",
                        req.method()
                    ))));
                }
            };
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| AppError::from(Error::internal("application state missing")))?
                .clone();
            let claims = verified_claims(&mut req.extensions_mut(), req.headers(), &state.verifier)
                .map_err(AppError::Unauthorized)?;
            if !state.tenant_exists(claims.tenant).await? {
                return Err(AppError::Unauthorized(
                    "the token's tenant does not exist".into(),
                ));
            }
            if !claims.role.may(permission) {
                return Err(Error::Forbidden {
                    code: ErrorCode::RoleForbidden,
                    detail: format!(
                        "the role {} may not do this (requires {})",
                        claims.role,
                        permission.as_str()
                    ),
                }
                .into());
            }
            if matches!(access, Some(Access::TenantWide(_))) && claims.stores.is_some() {
                return Err(AppError::from(Error::tenant_wide()));
            }
            let request_id = req
                .extensions()
                .get::<RequestId>()
                .map_or_else(|| RequestId::from_header(None).0, |r| r.0.clone());
            Ok(Caller {
                subject: claims.sub,
                tenant: claims.tenant,
                role: claims.role,
                stores: claims.stores,
                request_id,
            })
        })
    }
}

/// A JSON body parsed into `T`, at most `LIMIT` bytes.
///
/// Refusals, in the order they are checked: 415 when the body is not declared as
/// JSON; 413 over the limit; 400 when it is not well-formed JSON; 422 when it is
/// JSON but not a valid `T` (unknown field, wrong type, missing field), naming the
/// field.
pub(crate) struct JsonBody<T, const LIMIT: usize = BODY_LIMIT>(pub T, pub web::Bytes);

impl<T, const LIMIT: usize> JsonBody<T, LIMIT> {
    /// The parsed value and the raw bytes (for an idempotency fingerprint).
    pub(crate) fn into_parts(self) -> (T, web::Bytes) {
        (self.0, self.1)
    }
}

fn is_json(req: &HttpRequest) -> bool {
    let Some(ct) = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The name inside the first pair of backticks of a serde message.
fn backticked(msg: &str) -> Option<&str> {
    let start = msg.find('`')? + 1;
    let len = msg[start..].find('`')?;
    Some(&msg[start..start + len])
}

fn join_path(prefix: &str, name: &str) -> String {
    if prefix.is_empty() || prefix == "." {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// serde's message with the Rust type it names put in the API's words:
/// `expected struct MoneyInput` is an amount object, any other struct an
/// object.
fn without_rust_types(msg: &str) -> String {
    let Some((head, tail)) = msg.split_once("expected struct ") else {
        return msg.to_owned();
    };
    let name_end = tail
        .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .unwrap_or(tail.len());
    let wanted = match &tail[..name_end] {
        "MoneyInput" => r#"an amount object like {"amount": "10.00", "currency": "USD"}"#,
        _ => "an object",
    };
    format!("{head}expected {wanted}{}", &tail[name_end..])
}

/// Turns a serde data error at `path` into the field error a client can act on.
fn field_error(path: &str, msg: &str) -> FieldError {
    let path = if path == "." { "" } else { path };
    if msg.starts_with("unknown field") {
        let name = backticked(msg).unwrap_or("?");
        // serde_path_to_error already pushed the unknown key onto the path.
        let field = if path.ends_with(name) {
            path.to_owned()
        } else {
            join_path(path, name)
        };
        return FieldError::new(field, "is not a known field");
    }
    if msg.starts_with("missing field") {
        let name = backticked(msg).unwrap_or("?");
        return FieldError::new(join_path(path, name), "is required");
    }
    if msg.starts_with("duplicate field") {
        let name = backticked(msg).unwrap_or("?");
        return FieldError::new(join_path(path, name), "appears more than once");
    }
    let field = if path.is_empty() {
        "body".to_owned()
    } else {
        path.to_owned()
    };
    // serde's "invalid type: integer `5`, expected a string" is already clear;
    // strip the position suffix serde_json adds, and never name a Rust type.
    let msg = msg.split(" at line ").next().unwrap_or(msg);
    FieldError::new(field, without_rust_types(msg))
}

/// Every unknown key of the object an "unknown field" error was found in (serde
/// stops at the first; a client fixing its request wants them all). `path` is
/// the path of the first unknown key, `msg` serde's message, which lists the
/// fields the object may have.
fn all_unknown_fields(bytes: &[u8], path: &str, msg: &str) -> Option<Vec<FieldError>> {
    let expected: Vec<&str> = msg
        .split_once("expected")
        .map(|(_, rest)| rest.split('`').skip(1).step_by(2).collect())
        .unwrap_or_default();
    let root: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let container = match path.rsplit_once('.') {
        Some((c, _)) => c,
        None => "",
    };
    let mut node = &root;
    for seg in container.split('.').filter(|s| !s.is_empty()) {
        let (name, indexes) = seg.split_once('[').map_or((seg, ""), |(n, i)| (n, i));
        if !name.is_empty() {
            node = node.get(name)?;
        }
        for idx in indexes.split('[').filter(|i| !i.is_empty()) {
            node = node.get(idx.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
    }
    let unknown: Vec<FieldError> = node
        .as_object()?
        .keys()
        .filter(|k| !expected.contains(&k.as_str()))
        .map(|k| FieldError::new(join_path(container, k), "is not a known field"))
        .collect();
    (!unknown.is_empty()).then_some(unknown)
}

/// The OpenAPI document, parsed once.
fn spec() -> &'static serde_json::Value {
    static SPEC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    SPEC.get_or_init(|| serde_json::from_str(super::ops::OPENAPI).unwrap_or_default())
}

/// A schema with its `$ref` followed (within the document), and of a
/// `oneOf`/`anyOf` (e.g. an object or null) the first object alternative.
fn resolved(schema: &serde_json::Value) -> &serde_json::Value {
    let schema = match schema.get("$ref").and_then(|r| r.as_str()) {
        Some(r) => r
            .strip_prefix("#/")
            .map(|p| p.split('/').fold(spec(), |node, seg| &node[seg]))
            .unwrap_or(schema),
        None => schema,
    };
    let alternatives = schema["oneOf"].as_array().or(schema["anyOf"].as_array());
    match alternatives {
        Some(alts) => alts
            .iter()
            .map(resolved)
            .find(|a| a.get("properties").is_some())
            .unwrap_or(schema),
        None => schema,
    }
}

/// The required properties of the object at `container` (a field path such
/// as `amount` or `sales[3]`; empty for the body itself) of the request body
/// of `method route`, as the OpenAPI document states them.
fn required_by_spec(method: &str, route: &str, container: &str) -> Vec<String> {
    let op = &spec()["paths"][route][method.to_ascii_lowercase()];
    let mut node = resolved(&op["requestBody"]["content"]["application/json"]["schema"]);
    for seg in container.split('.').filter(|s| !s.is_empty()) {
        let (name, indexes) = seg.split_once('[').map_or((seg, ""), |(n, i)| (n, i));
        if !name.is_empty() {
            node = resolved(&node["properties"][name]);
        }
        for _ in indexes.split('[').filter(|i| !i.is_empty()) {
            node = resolved(&node["items"]);
        }
    }
    let mut required: Vec<String> = Vec::new();
    let parts =
        std::iter::once(node).chain(node["allOf"].as_array().into_iter().flatten().map(resolved));
    for part in parts {
        for r in part["required"].as_array().into_iter().flatten() {
            if let Some(r) = r.as_str().filter(|r| !required.iter().any(|x| x == r)) {
                required.push(r.to_owned());
            }
        }
    }
    required
}

/// serde names one missing field, the first in declaration order; a client
/// fixing its request wants every one. The other required fields of the same
/// object (per the OpenAPI document) that the body also lacks, after `first`.
fn other_missing(
    bytes: &[u8],
    (method, route): (&str, &str),
    first: &FieldError,
) -> Vec<FieldError> {
    let Ok(root) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Vec::new();
    };
    let container = first.field.rsplit_once('.').map_or("", |(c, _)| c);
    let mut node = &root;
    for seg in container.split('.').filter(|s| !s.is_empty()) {
        let (name, indexes) = seg.split_once('[').map_or((seg, ""), |(n, i)| (n, i));
        if !name.is_empty() {
            node = &node[name];
        }
        for idx in indexes.split('[').filter(|i| !i.is_empty()) {
            node = &node[idx
                .trim_end_matches(']')
                .parse::<usize>()
                .unwrap_or(usize::MAX)];
        }
    }
    let Some(object) = node.as_object() else {
        return Vec::new();
    };
    required_by_spec(method, route, container)
        .into_iter()
        .map(|name| join_path(container, &name))
        .filter(|field| *field != first.field)
        .filter(|field| {
            let name = field.rsplit_once('.').map_or(field.as_str(), |(_, n)| n);
            !object.contains_key(name)
        })
        .map(|field| FieldError::new(field, "is required"))
        .collect()
}

/// Parses JSON bytes into `T` with the refusals of [`JsonBody`], naming every
/// missing required field of `route` (method and pattern, as the OpenAPI
/// document has them), not only the first serde meets.
fn parse_json_for<T: DeserializeOwned>(bytes: &[u8], route: (&str, &str)) -> Result<T, AppError> {
    parse_json(bytes).map_err(|e| match e {
        AppError::Domain(Error::Validation(mut errors))
            if errors.len() == 1 && errors[0].message == "is required" =>
        {
            let more = other_missing(bytes, route, &errors[0]);
            errors.extend(more);
            AppError::Domain(Error::Validation(errors))
        }
        other => other,
    })
}

/// Parses JSON bytes into `T` with the refusals of [`JsonBody`].
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    // Every request body is a JSON object. serde would also read a struct
    // from an array of its fields in order, so `[]` passed for a request
    // whose fields are all optional (found by the contract's fuzzing).
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            return Err(AppError::MalformedJson(e.to_string()));
        }
        return Err(AppError::from(Error::Validation(vec![FieldError::new(
            "body",
            "must be a JSON object, not an array",
        )])));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let msg = inner.to_string();
        match inner.classify() {
            serde_json::error::Category::Data if msg.starts_with("unknown field") => {
                AppError::from(Error::Validation(
                    all_unknown_fields(bytes, &path, &msg)
                        .unwrap_or_else(|| vec![field_error(&path, &msg)]),
                ))
            }
            serde_json::error::Category::Data => {
                AppError::from(Error::Validation(vec![field_error(&path, &msg)]))
            }
            _ => AppError::MalformedJson(msg),
        }
    })?;
    de.end()
        .map_err(|e| AppError::MalformedJson(e.to_string()))?;
    Ok(value)
}

impl<T: DeserializeOwned + 'static, const LIMIT: usize> FromRequest for JsonBody<T, LIMIT> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = is_json(req);
        let method = req.method().to_string();
        let route = req.match_pattern().unwrap_or_default();
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !json {
                return Err(AppError::UnsupportedMediaType);
            }
            if declared.is_some_and(|n| n > LIMIT) {
                return Err(AppError::PayloadTooLarge { limit: LIMIT });
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| match super::deadline::timed_out(&e) {
                    Some(secs) => AppError::BodyTimeout { secs },
                    None => AppError::MalformedJson(format!("the body could not be read: {e}")),
                })?;
                if body.len() + chunk.len() > LIMIT {
                    return Err(AppError::PayloadTooLarge { limit: LIMIT });
                }
                body.extend_from_slice(&chunk);
            }
            let body = body.freeze();
            parse_json_for(&body, (&method, &route)).map(|v| JsonBody(v, body))
        })
    }
}

/// The `Idempotency-Key` header (optional), with the method and path it will be
/// fingerprinted with. A malformed key → 400 `invalid_idempotency_key`.
pub(crate) struct Idem {
    key: Option<String>,
    method: String,
    path: String,
}

impl Idem {
    /// Binds the key (if any) to the request's body.
    pub(crate) fn bind(self, body: &[u8]) -> Option<IdempotencyKey> {
        self.key
            .map(|k| IdempotencyKey::new(k, &self.method, &self.path, body))
    }

    /// Like [`Idem::bind`], but the key is required: 400 `idempotency_key_required`.
    pub(crate) fn require(self, body: &[u8]) -> Result<IdempotencyKey, AppError> {
        self.bind(body).ok_or_else(|| AppError::BadRequest {
            code: ErrorCode::IdempotencyKeyRequired,
            detail: "this request moves money: send an Idempotency-Key header".into(),
        })
    }
}

impl FromRequest for Idem {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let key = match req.headers().get("idempotency-key") {
            None => Ok(None),
            Some(v) => v
                .to_str()
                .map_err(|_| AppError::BadRequest {
                    code: ErrorCode::InvalidIdempotencyKey,
                    detail: "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
                })
                .and_then(IdempotencyKey::parse)
                .map(Some),
        };
        let path = match req.uri().query() {
            Some(q) => format!("{}?{q}", req.path()),
            None => req.path().to_owned(),
        };
        std::future::ready(key.map(|key| Idem {
            key,
            method: req.method().to_string(),
            path,
        }))
    }
}

/// Query parameters parsed into `T` (whose fields are all optional strings and
/// which refuses unknown parameters): 422 naming the parameter otherwise.
pub(crate) struct QueryParams<T>(pub T);

impl<T: DeserializeOwned> FromRequest for QueryParams<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            serde_urlencoded::from_str::<T>(req.query_string())
                .map(QueryParams)
                .map_err(|e| Error::Validation(vec![field_error("", &e.to_string())]))
                .map_err(AppError::from),
        )
    }
}

/// Parses `limit` (1..=100, default 20) and `starting_after` (an id).
pub(crate) fn page_request<Id: FromStr>(
    limit: Option<&str>,
    starting_after: Option<&str>,
    problems: &mut Problems,
) -> PageRequest<Id> {
    let limit = match limit {
        None => 20,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => {
                problems.push("limit", "must be an integer from 1 to 100");
                20
            }
        },
    };
    let starting_after = starting_after.and_then(|s| match s.parse::<Id>() {
        Ok(id) => Some(id),
        Err(_) => {
            problems.push(
                "starting_after",
                "must be a cursor from next_cursor (an id)",
            );
            None
        }
    });
    PageRequest {
        limit,
        starting_after,
    }
}

/// Query of the version lists (`GET /v1/policy/versions`,
/// `GET /v1/value/model/versions`): they page by version number.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VersionsQuery {
    limit: Option<String>,
    starting_after: Option<String>,
}

impl VersionsQuery {
    /// The page asked for: `limit` 1–100, and `starting_after` a version
    /// number (a whole number ≥ 1 written plainly: no sign, no leading zero);
    /// 422 naming the parameter otherwise.
    pub(crate) fn page(&self) -> Result<PageRequest<i32>, AppError> {
        let mut p = Problems::default();
        let page = page_request::<i32>(self.limit.as_deref(), None, &mut p);
        let starting_after = self.starting_after.as_deref().and_then(|s| {
            let plain =
                !s.is_empty() && !s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit());
            match s.parse::<i32>() {
                Ok(v) if plain => Some(v),
                _ => {
                    p.push(
                        "starting_after",
                        "must be a version number from next_cursor (a whole number from 1)",
                    );
                    None
                }
            }
        });
        p.finish().map_err(Error::Validation)?;
        Ok(PageRequest {
            limit: page.limit,
            starting_after,
        })
    }
}

/// Deserializes a field that may be absent (outer `None`), `null` (`Some(None)`)
/// or a value: for PATCH, where null clears and absence leaves alone.
pub(crate) fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

use serde::Deserialize as _;

/// An optional date (`YYYY-MM-DD`) from the query string; a bad one is recorded
/// against `field`.
pub(crate) fn query_date(
    field: &str,
    v: Option<&str>,
    p: &mut Problems,
) -> Option<chrono::NaiveDate> {
    v.and_then(|s| match chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            p.push(field, "must be a date YYYY-MM-DD");
            None
        }
    })
}

/// An optional store id from the query string; a bad one is recorded.
pub(crate) fn query_store(v: Option<&str>, p: &mut Problems) -> Option<StoreId> {
    v.and_then(|s| match s.parse() {
        Ok(id) => Some(id),
        Err(_) => {
            p.push("store_id", "must be a store id");
            None
        }
    })
}

/// Whether a report answers CSV: `format=csv` or `json` decides; without it,
/// an `Accept` header naming `text/csv`. A bad `format` is recorded.
pub(crate) fn wants_csv(req: &HttpRequest, format: Option<&str>, p: &mut Problems) -> bool {
    match format {
        Some("csv") => true,
        Some("json") => false,
        None => req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/csv")),
        Some(_) => {
            p.push("format", "must be csv or json");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        amount: String,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        amount: Option<Inner>,
        tags: Option<Vec<u32>>,
    }

    fn field_of(body: &str) -> (u16, String) {
        match parse_json::<Outer>(body.as_bytes()) {
            Err(AppError::Domain(Error::Validation(e))) => (422, e[0].field.clone()),
            Err(e) => (e.status(), String::new()),
            Ok(_) => (200, String::new()),
        }
    }

    #[test]
    fn json_errors_name_the_field() {
        assert_eq!(field_of(r#"{"name": 5}"#), (422, "name".into()));
        assert_eq!(field_of(r#"{"name": "a", "x": 1}"#), (422, "x".into()));
        assert_eq!(field_of(r#"{}"#), (422, "name".into()));
        assert_eq!(
            field_of(r#"{"name":"a","amount":{"amount":1}}"#),
            (422, "amount.amount".into())
        );
        assert_eq!(
            field_of(r#"{"name":"a","amount":{"amount":"1","y":1}}"#),
            (422, "amount.y".into())
        );
        assert_eq!(
            field_of(r#"{"name":"a","amount":{}}"#),
            (422, "amount.amount".into())
        );
        assert_eq!(
            field_of(r#"{"name":"a","tags":[1,"x"]}"#),
            (422, "tags[1]".into())
        );
        assert_eq!(field_of(r#"[]"#), (422, "body".into()));
        assert_eq!(field_of(r#"{"name": "a""#).0, 400);
        assert_eq!(field_of(r#"{"name": "a"} x"#).0, 400);
        assert_eq!(field_of(r#""#).0, 400);
        assert_eq!(field_of(r#"{"name": "a"}"#).0, 200);
    }

    #[test]
    fn every_unknown_field_is_named() {
        let fields = |body: &str| match parse_json::<Outer>(body.as_bytes()) {
            Err(AppError::Domain(Error::Validation(e))) => {
                e.into_iter().map(|f| f.field).collect::<Vec<_>>()
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(
            fields(r#"{"name": "a", "id": 1, "status": "x", "tenant_id": 2}"#),
            ["id", "status", "tenant_id"]
        );
        assert_eq!(
            fields(r#"{"name":"a","amount":{"amount":"1","y":1,"z":2}}"#),
            ["amount.y", "amount.z"]
        );
    }

    #[test]
    fn request_ids_are_visible_ascii_up_to_200() {
        assert_eq!(RequestId::from_header(Some("abc-1")).0, "abc-1");
        assert_ne!(RequestId::from_header(Some("a b")).0, "a b");
        let long = "x".repeat(201);
        assert_ne!(RequestId::from_header(Some(&long)).0, long);
        assert_eq!(RequestId::from_header(None).0.len(), 36);
    }
}
