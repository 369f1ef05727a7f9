//! Who a console user is, and how long they stay signed in: one-time sign-in
//! links and sessions, as rules over plain values. The secrets a browser holds
//! (a link's code, a session's cookie) never appear here: the store keeps only
//! their SHA-256.

use chrono::{Duration, NaiveDateTime};

use super::ids::{SessionId, SignInLinkId, StoreId, TenantId};
use super::roles::Role;

/// Who a session (or the link that opens one) acts as: the same four facts a
/// bearer token carries, so the console is held to the role table, the store
/// scope and the segregation rules exactly as the API is.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Grant {
    /// The tenant every page and command is confined to.
    pub tenant: TenantId,
    /// The user's `sub`: a staff member's subject, or an office user.
    pub subject: String,
    /// The role.
    pub role: Role,
    /// The stores the user acts at; `None` = all of the tenant's stores.
    pub stores: Option<Vec<StoreId>>,
}

/// Longest subject a grant may name (as long as the audit trail records).
pub(crate) const SUBJECT_MAX: usize = 255;

impl Grant {
    /// Checks a subject: 1 to 255 characters, no control characters.
    pub(crate) fn check_subject(subject: &str) -> Result<(), String> {
        if subject.is_empty() || subject.chars().count() > SUBJECT_MAX {
            return Err(format!("a subject is 1 to {SUBJECT_MAX} characters"));
        }
        if subject.chars().any(char::is_control) {
            return Err("a subject may not contain control characters".into());
        }
        Ok(())
    }

    /// The stores as the tables keep them: a JSON array, or NULL for all.
    pub(crate) fn stores_column(&self) -> Option<String> {
        self.stores
            .as_ref()
            .map(|s| serde_json::to_string(s).unwrap_or_else(|_| "[]".into()))
    }

    /// The stores from their column.
    pub(crate) fn stores_from_column(column: Option<&str>) -> Result<Option<Vec<StoreId>>, String> {
        column
            .map(|c| serde_json::from_str(c).map_err(|e| format!("stores column {c:?}: {e}")))
            .transpose()
    }
}

/// A one-time sign-in link as recorded.
#[derive(Clone, Debug)]
pub struct SignInLink {
    /// Its id.
    pub id: SignInLinkId,
    /// Who it signs in.
    pub grant: Grant,
    /// Who made it (a `sub`, or `system:<job>`).
    pub created_by: String,
    /// When it was made.
    pub created_at: NaiveDateTime,
    /// Its last moment.
    pub expires_at: NaiveDateTime,
    /// When it was used, if it was.
    pub used_at: Option<NaiveDateTime>,
}

/// Why a sign-in link does not sign anyone in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkRefusal {
    /// No link has this code.
    Unknown,
    /// The link was used already: a link works once.
    Used,
    /// The link is past its expiry.
    Expired,
}

impl LinkRefusal {
    /// What the sign-in page says.
    pub fn message(self) -> &'static str {
        match self {
            LinkRefusal::Unknown => {
                "This sign-in link is not valid. Check that you copied all of it, or ask for a new one."
            }
            LinkRefusal::Used => {
                "This sign-in link has been used already: a link works once. Ask for a new one."
            }
            LinkRefusal::Expired => "This sign-in link has expired. Ask for a new one.",
        }
    }
}

impl SignInLink {
    /// Why it cannot be used at `now`, or `None` when it can.
    pub fn refusal(&self, now: NaiveDateTime) -> Option<LinkRefusal> {
        if self.used_at.is_some() {
            Some(LinkRefusal::Used)
        } else if now >= self.expires_at {
            Some(LinkRefusal::Expired)
        } else {
            None
        }
    }
}

/// Longest life of a sign-in link (`goodwill console link --ttl`).
pub(crate) const LINK_TTL_MAX_SECS: u64 = 7 * 86_400;

/// How a session was opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// A one-time sign-in link.
    Link,
    /// The identity provider (OpenID Connect).
    Oidc,
}

impl Via {
    /// As the table keeps it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Via::Link => "link",
            Via::Oidc => "oidc",
        }
    }

    /// From the table.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "link" => Some(Via::Link),
            "oidc" => Some(Via::Oidc),
            _ => None,
        }
    }
}

/// How long sessions last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetimes {
    /// A session unused this long ends.
    pub idle: Duration,
    /// A session ends this long after it began, however busy.
    pub absolute: Duration,
}

impl Default for Lifetimes {
    /// 30 minutes idle, 12 hours in all.
    fn default() -> Self {
        Self {
            idle: Duration::minutes(30),
            absolute: Duration::hours(12),
        }
    }
}

/// A console session as recorded.
#[derive(Clone, Debug)]
pub struct Session {
    /// Its id (not its secret: the cookie's value is kept only as a hash).
    pub id: SessionId,
    /// Who it acts as.
    pub grant: Grant,
    /// How it was opened.
    pub via: Via,
    /// When it began.
    pub created_at: NaiveDateTime,
    /// When it was last used (to within [`TOUCH_EVERY`]).
    pub last_seen_at: NaiveDateTime,
    /// Its absolute end.
    pub expires_at: NaiveDateTime,
    /// When it was ended (signed out, or revoked), if it was.
    pub ended_at: Option<NaiveDateTime>,
}

/// A session's use is recorded at most this often, so a busy page does not
/// write on every request; the idle timeout is exact to within it.
pub const TOUCH_EVERY: Duration = Duration::seconds(60);

/// Whether a session still signs its browser in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionState {
    /// It does.
    Live,
    /// Signed out, or revoked by an administrator.
    Ended,
    /// Unused for longer than the idle timeout.
    Idle,
    /// Past its absolute lifetime.
    Expired,
}

impl SessionState {
    /// What the sign-in page says to someone whose session this was.
    pub fn message(self) -> &'static str {
        match self {
            SessionState::Live => "",
            SessionState::Ended => "You were signed out. Sign in again to continue.",
            SessionState::Idle => {
                "You were signed out after a while without activity. Sign in again to continue."
            }
            SessionState::Expired => {
                "Your session reached its time limit. Sign in again to continue."
            }
        }
    }
}

impl Session {
    /// A new session for `grant`, beginning `now`.
    pub fn begin(grant: Grant, via: Via, now: NaiveDateTime, lifetimes: Lifetimes) -> Self {
        Self {
            id: SessionId::new(),
            grant,
            via,
            created_at: now,
            last_seen_at: now,
            expires_at: now + lifetimes.absolute,
            ended_at: None,
        }
    }

    /// Its state at `now`.
    pub fn state(&self, now: NaiveDateTime, lifetimes: Lifetimes) -> SessionState {
        if self.ended_at.is_some() {
            SessionState::Ended
        } else if now >= self.expires_at {
            SessionState::Expired
        } else if now >= self.last_seen_at + lifetimes.idle {
            SessionState::Idle
        } else {
            SessionState::Live
        }
    }

    /// Whether its use at `now` should be recorded.
    pub fn needs_touch(&self, now: NaiveDateTime) -> bool {
        now >= self.last_seen_at + TOUCH_EVERY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32, m: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 4)
            .and_then(|d| d.and_hms_opt(h, m, 0))
            .unwrap()
    }

    fn grant() -> Grant {
        Grant {
            tenant: TenantId::new(),
            subject: "ann".into(),
            role: Role::Manager,
            stores: None,
        }
    }

    #[test]
    fn sessions_end_when_idle_or_old_or_ended() {
        let l = Lifetimes::default();
        let mut s = Session::begin(grant(), Via::Link, at(8, 0), l);
        assert_eq!(s.state(at(8, 29), l), SessionState::Live);
        assert_eq!(s.state(at(8, 30), l), SessionState::Idle);
        s.last_seen_at = at(19, 50);
        assert_eq!(s.state(at(19, 59), l), SessionState::Live);
        assert_eq!(s.state(at(20, 0), l), SessionState::Expired);
        s.ended_at = Some(at(9, 0));
        assert_eq!(s.state(at(9, 1), l), SessionState::Ended);
    }

    #[test]
    fn links_work_once_and_expire() {
        let mut link = SignInLink {
            id: SignInLinkId::new(),
            grant: grant(),
            created_by: "system:first-run".into(),
            created_at: at(8, 0),
            expires_at: at(8, 15),
            used_at: None,
        };
        assert_eq!(link.refusal(at(8, 14)), None);
        assert_eq!(link.refusal(at(8, 15)), Some(LinkRefusal::Expired));
        link.used_at = Some(at(8, 1));
        assert_eq!(link.refusal(at(8, 2)), Some(LinkRefusal::Used));
    }

    #[test]
    fn subjects_are_short_and_printable() {
        assert!(Grant::check_subject("ann").is_ok());
        assert!(Grant::check_subject("").is_err());
        assert!(Grant::check_subject("a\nb").is_err());
        assert!(Grant::check_subject(&"x".repeat(256)).is_err());
    }

    #[test]
    fn stores_round_trip_through_their_column() {
        let mut g = grant();
        assert_eq!(g.stores_column(), None);
        g.stores = Some(vec![StoreId::new()]);
        let col = g.stores_column();
        assert_eq!(Grant::stores_from_column(col.as_deref()).unwrap(), g.stores);
    }
}
