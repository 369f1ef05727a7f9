//! RFC 9457 problem details: the one mapping from [`AppError`] to a response.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::domain::FieldError;
use crate::error::Error;
use crate::http::AppError;

/// Base of every problem `type` URI.
pub(crate) const PROBLEM_BASE: &str = "https://goodwill.dev/problems/";
/// The media type of problem responses.
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    type_: String,
    title: &'static str,
    status: u16,
    detail: String,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [FieldError]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    existing_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    broken_link: Option<&'a crate::audit::BrokenLink>,
    #[serde(skip_serializing_if = "Option::is_none")]
    decision: Option<&'a str>,
}

fn title(status: u16) -> &'static str {
    match status {
        400 => "Bad request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not found",
        405 => "Method not allowed",
        409 => "Conflict",
        408 => "Request timeout",
        413 => "Payload too large",
        415 => "Unsupported media type",
        422 => "Unprocessable content",
        429 => "Too many requests",
        503 => "Service unavailable",
        _ => "Internal server error",
    }
}

/// The status and problem+json body of an error (also what an idempotency
/// record keeps).
pub(crate) fn render(e: &AppError) -> (u16, String) {
    let status = e.status();
    let detail = match e {
        // Internal details go to the log, never to the client.
        AppError::Domain(e @ Error::Internal { .. }) => {
            tracing::error!(error = %e, source = ?std::error::Error::source(e), "internal error");
            "an internal error occurred; it has been logged".to_owned()
        }
        AppError::Domain(Error::Unavailable(msg)) => {
            tracing::warn!(error = %msg, "service unavailable");
            msg.clone()
        }
        other => other.to_string(),
    };
    let errors = match e {
        AppError::Domain(Error::Validation(v)) => Some(v.as_slice()),
        AppError::Domain(Error::Unprocessable { errors, .. }) if !errors.is_empty() => {
            Some(errors.as_slice())
        }
        _ => None,
    };
    let existing_id = match e {
        AppError::Domain(Error::Conflict { existing_id, .. }) => existing_id.as_deref(),
        _ => None,
    };
    let body = Problem {
        type_: format!("{PROBLEM_BASE}{}", e.code()),
        title: title(status),
        status,
        detail,
        code: e.code(),
        errors,
        existing_id,
        broken_link: match e {
            AppError::Domain(Error::AuditBroken(b)) => Some(b),
            _ => None,
        },
        decision: match e {
            AppError::Domain(Error::AlreadyDecided { decision, .. }) => Some(decision),
            _ => None,
        },
    };
    (
        status,
        serde_json::to_string(&body).unwrap_or_else(|_| "{}".to_owned()),
    )
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let (_, body) = render(self);
        let mut resp = HttpResponse::build(self.status_code());
        resp.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        match self {
            AppError::Unauthorized(_) => {
                resp.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            AppError::MethodNotAllowed { allow } => {
                resp.insert_header((header::ALLOW, allow.join(", ")));
            }
            AppError::Domain(Error::Unavailable(_)) => {
                resp.insert_header((header::RETRY_AFTER, "1"));
            }
            AppError::TooManyRequests { retry_after } => {
                resp.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            AppError::BodyTimeout { .. } => {
                resp.insert_header((header::CONNECTION, "close"));
            }
            _ => {}
        }
        resp.body(body)
    }
}
