//! Verification (the edge endpoint), last use, and the admin's audit and notification views.

use serde::Serialize;

use super::views::{AuditEventView, NotificationView};
use super::{Actor, Error, Result, Service};
use crate::domain::token::{parse, sha256_hex};
use crate::domain::{verdict, Code, Kind, RandomSource, Role, Timestamp};
use crate::store::{Repo, Store};

/// The token part of a `VALID` verify answer.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct VerifiedToken {
    /// `tok_…`
    pub id: String,
    /// The org.
    pub org_id: String,
    /// Personal or org.
    pub kind: Kind,
    /// Owner of a personal token.
    pub owner_member_id: Option<String>,
    /// Effective role.
    pub role: Role,
    /// Scopes.
    pub scopes: Vec<String>,
    /// RFC 3339 or null.
    pub expires_at: Option<String>,
}

/// `POST /v1/verify` answer: `{valid, code}` plus `token` when valid.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Verification {
    /// `code == VALID`.
    pub valid: bool,
    /// The verdict.
    pub code: Code,
    /// What the token may do (only when valid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<VerifiedToken>,
}

/// Most audit events per page.
pub const AUDIT_PAGE_MAX: u32 = 100;
/// Audit events per page when `limit` is absent.
pub const AUDIT_PAGE_DEFAULT: u32 = 50;
/// Notifications answered by `GET /v1/notifications` (newest first).
pub const NOTIFICATIONS_MAX: u32 = 1000;

/// Verify a presented token for `scopes`: parse and checksum (no read for junk), then one read
/// of `v:<sha256>`, then the pure verdict. Needs nothing but storage, so the Worker's hot path
/// calls it without building a [`Service`].
///
/// # Errors
/// [`Error::Internal`] on storage failure only; every other outcome is a [`Code`].
pub async fn verify<S: Store, T: AsRef<str>>(
    repo: &Repo<S>,
    presented: &str,
    scopes: &[T],
    now: Timestamp,
) -> Result<Verification> {
    if parse(presented).is_err() {
        return Ok(Verification { valid: false, code: Code::Malformed, token: None });
    }
    let entry = repo.verify_entry(&sha256_hex(presented)).await?;
    let code = verdict(entry.as_ref(), now, scopes);
    let token = match (code, entry) {
        (Code::Valid, Some(e)) => Some(VerifiedToken {
            id: e.token_id,
            org_id: e.org_id,
            kind: e.kind,
            owner_member_id: e.owner_member_id,
            role: e.role,
            scopes: e.scopes,
            expires_at: e.expires_at.map(Timestamp::to_rfc3339),
        }),
        _ => None,
    };
    Ok(Verification { valid: code == Code::Valid, code, token })
}

impl<S: Store, R: RandomSource> Service<S, R> {
    /// [`verify`] over this service's store.
    ///
    /// # Errors
    /// [`Error::Internal`] on storage failure only.
    pub async fn verify<T: AsRef<str>>(&self, presented: &str, scopes: &[T], now: Timestamp) -> Result<Verification> {
        verify(&self.repo, presented, scopes, now).await
    }

    /// Record that `token` was used at `now` (its own key; the record is never rewritten).
    ///
    /// # Errors
    /// [`Error::Internal`] on storage failure.
    pub async fn record_use(&self, org: &str, token: &str, now: Timestamp) -> Result<()> {
        Ok(self.repo.put_last_used(org, token, now).await?)
    }

    /// `GET /v1/audit`: newest first, filtered by target id and acting token. A filtered page
    /// may hold fewer than `limit` events; follow `cursor` until it is null.
    ///
    /// # Errors
    /// [`Error::Forbidden`] for developers, [`Error::Validation`] for a bad limit or cursor, [`Error::Internal`].
    pub async fn audit_events(
        &self,
        actor: &Actor,
        target: Option<&str>,
        actor_token: Option<&str>,
        cursor: Option<&str>,
        limit: Option<&str>,
    ) -> Result<(Vec<AuditEventView>, Option<String>)> {
        actor.require_admin("only admins can read the audit log")?;
        let limit = match limit {
            None => AUDIT_PAGE_DEFAULT,
            Some(l) => l
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=AUDIT_PAGE_MAX).contains(n))
                .ok_or_else(|| Error::field("limit", "must be a whole number from 1 to 100"))?,
        };
        let mut cursor = cursor.map(str::to_owned);
        // Filtered reads skip empty pages, a bounded number of them.
        for _ in 0..20 {
            let page = self
                .repo
                .audit_page(&actor.org.id, limit, cursor.as_deref())
                .await?
                .map_err(|_| Error::field("cursor", "is not a cursor from this listing"))?;
            let events: Vec<AuditEventView> = page
                .items
                .iter()
                .filter(|e| target.is_none_or(|t| e.target_id == t))
                .filter(|e| actor_token.is_none_or(|t| e.actor_token_id.as_deref() == Some(t)))
                .map(AuditEventView::from)
                .collect();
            if !events.is_empty() || page.cursor.is_none() {
                return Ok((events, page.cursor));
            }
            cursor = page.cursor;
        }
        Ok((Vec::new(), cursor))
    }

    /// `GET /v1/notifications`: the outbox, newest first.
    ///
    /// # Errors
    /// [`Error::Forbidden`] for developers, [`Error::Internal`].
    pub async fn notifications(&self, actor: &Actor) -> Result<Vec<NotificationView>> {
        actor.require_admin("only admins can read notifications")?;
        let items = self.repo.notifications(&actor.org.id, NOTIFICATIONS_MAX).await?;
        Ok(items.iter().map(NotificationView::from).collect())
    }
}
