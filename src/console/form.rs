//! Running a command from a console form: the form's own idempotency key
//! (each rendered form carries a fresh one, so a double click or a resent
//! form acts once), the same [`AppState::execute`] as the API, and the
//! command's answer — or its refusal, to show next to the fields.

use crate::audit::AuditCtx;
use crate::console::auth::{Form, Viewer};
use crate::console::page::{ConsoleError, Problem};
use crate::http::{AppError, AppState, Executed, Reply};
use crate::idempotency::IdempotencyKey;
use crate::store::DbConnection;

/// A fresh idempotency key for a form about to be rendered.
pub(crate) fn new_key() -> String {
    crate::auth::random_token(18).unwrap_or_else(|_| uuid::Uuid::now_v7().simple().to_string())
}

/// What a form's command did.
pub(crate) enum Done {
    /// It acted (now, or the first time this form was sent): its answer.
    Acted(serde_json::Value),
    /// It was refused (now, or the first time): why, as the API says it.
    Refused(Problem),
}

/// Runs `f` for the form's sender, under the form's idempotency key.
pub(crate) async fn run<F>(
    state: &AppState,
    viewer: &Viewer,
    form: &Form,
    f: F,
) -> Result<Done, ConsoleError>
where
    F: FnOnce(&mut DbConnection, &AuditCtx) -> Result<Reply, AppError> + Send + 'static,
{
    let key = form.get("idempotency_key").ok_or_else(|| {
        ConsoleError::refused(
            400,
            "idempotency_key_required",
            "This form lacks its idempotency key: reload the page and try again.",
        )
    })?;
    let key = IdempotencyKey::parse(key).map_err(ConsoleError::from)?;
    let key = IdempotencyKey::new(key, "POST", &form.path, &form.raw);
    let json = |s: &str| serde_json::from_str(s).unwrap_or(serde_json::Value::Null);
    match state.execute(&viewer.caller, Some(key), f).await {
        Ok(Executed::Fresh { body, .. }) => Ok(Done::Acted(json(&body))),
        Ok(Executed::Replayed(stored)) if stored.status < 400 => {
            Ok(Done::Acted(json(&stored.body)))
        }
        Ok(Executed::Replayed(stored)) => Ok(Done::Refused(Problem::from_json(
            u16::try_from(stored.status).unwrap_or(500),
            &stored.body,
        ))),
        Err(e) if e.status() < 500 => Ok(Done::Refused(Problem::of(&e))),
        Err(e) => Err(e.into()),
    }
}

/// The `id` of a command's answer.
pub(crate) fn id_of(answer: &serde_json::Value) -> String {
    answer["id"].as_str().unwrap_or_default().to_owned()
}
