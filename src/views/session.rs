//! A console sign-in link and session as the audit trail records them (never
//! their secrets).

use serde::Serialize;

use super::timestamp;
use crate::domain::ids::{SessionId, SignInLinkId, StoreId};
use crate::domain::roles::Role;
use crate::domain::session::{Session, SignInLink, Via};

/// A sign-in link.
#[derive(Serialize)]
pub(crate) struct SignInLinkView {
    pub(crate) id: SignInLinkId,
    pub(crate) subject: String,
    pub(crate) role: Role,
    pub(crate) stores: Option<Vec<StoreId>>,
    pub(crate) created_by: String,
    pub(crate) created_at: String,
    pub(crate) expires_at: String,
    pub(crate) used_at: Option<String>,
}

impl From<&SignInLink> for SignInLinkView {
    fn from(l: &SignInLink) -> Self {
        Self {
            id: l.id,
            subject: l.grant.subject.clone(),
            role: l.grant.role,
            stores: l.grant.stores.clone(),
            created_by: l.created_by.clone(),
            created_at: timestamp(&l.created_at),
            expires_at: timestamp(&l.expires_at),
            used_at: l.used_at.as_ref().map(timestamp),
        }
    }
}

/// A console session.
#[derive(Serialize)]
pub(crate) struct SessionView {
    pub(crate) id: SessionId,
    pub(crate) subject: String,
    pub(crate) role: Role,
    pub(crate) stores: Option<Vec<StoreId>>,
    pub(crate) via: Via,
    pub(crate) created_at: String,
    pub(crate) expires_at: String,
    pub(crate) ended_at: Option<String>,
}

impl From<&Session> for SessionView {
    fn from(s: &Session) -> Self {
        Self {
            id: s.id,
            subject: s.grant.subject.clone(),
            role: s.grant.role,
            stores: s.grant.stores.clone(),
            via: s.via,
            created_at: timestamp(&s.created_at),
            expires_at: timestamp(&s.expires_at),
            ended_at: s.ended_at.as_ref().map(timestamp),
        }
    }
}
