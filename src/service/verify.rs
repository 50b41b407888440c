//! Verification (edge and strict), last use, and the admin's audit and notification views.

use core::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::views::{AuditEventView, NotificationView};
use super::{Actor, Error, Result, Service};
use crate::domain::policy::Access;
use crate::domain::projection::entries;
use crate::domain::token::{parse, sha256_hex};
use crate::domain::{verdict, Code, Kind, RandomSource, Role, Timestamp, VerifyEntry};
use crate::store::{Edge, Kv, Store};

/// The token part of a `VALID` verify answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
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

/// Where an answer came from (DESIGN.md, "Verification: edge and strict").
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Consistency {
    /// The KV projection, through the isolate's cache: may lag a change made elsewhere.
    #[default]
    Edge,
    /// The org authority's records: exact.
    Strict,
}

impl Consistency {
    /// Parse the wire name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "edge" => Some(Self::Edge),
            "strict" => Some(Self::Strict),
            _ => None,
        }
    }
}

/// `POST /v1/verify` answer: `{valid, code, consistency}` plus `token` when valid.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Verification {
    /// `code == VALID`.
    pub valid: bool,
    /// The verdict.
    pub code: Code,
    /// Which consistency the answer had.
    pub consistency: Consistency,
    /// What the token may do (only when valid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<VerifiedToken>,
}

impl Verification {
    /// The answer for `code` given the entry it was decided on.
    #[must_use]
    pub fn new(code: Code, entry: Option<VerifyEntry>, consistency: Consistency) -> Self {
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
        Self { valid: code == Code::Valid, code, consistency, token }
    }
}

/// Where the edge says a presented secret lives: its org (and so its authority) and its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The org, whose authority holds the records.
    pub org_id: String,
    /// The token the secret belongs to.
    pub token_id: String,
}

impl From<&VerifyEntry> for Located {
    fn from(e: &VerifyEntry) -> Self {
        Self { org_id: e.org_id.clone(), token_id: e.token_id.clone() }
    }
}

/// Verify a presented token for `scopes` at the edge: parse and checksum (no read for junk),
/// then one read of `v:<sha256>`, then the pure verdict. Needs nothing but KV, so the Worker's
/// hot path calls it without building a [`Service`].
///
/// # Errors
/// [`Error::Internal`] on storage failure only; every other outcome is a [`Code`].
pub async fn verify<K: Kv, T: AsRef<str>>(
    edge: &Edge<K>,
    presented: &str,
    scopes: &[T],
    client: Option<IpAddr>,
    now: Timestamp,
) -> Result<Verification> {
    if parse(presented).is_err() {
        return Ok(Verification::new(Code::Malformed, None, Consistency::Edge));
    }
    let entry = edge.verify_entry(&sha256_hex(presented)).await?;
    let code = verdict(entry.as_ref(), now, scopes, client);
    Ok(Verification::new(code, entry, Consistency::Edge))
}

/// Where the edge says `presented` lives (`None`: malformed or unknown to KV).
///
/// # Errors
/// [`Error::Internal`] on storage failure.
pub async fn locate<K: Kv>(edge: &Edge<K>, presented: &str) -> Result<Option<Located>> {
    if parse(presented).is_err() {
        return Ok(None);
    }
    Ok(edge.verify_entry(&sha256_hex(presented)).await?.as_ref().map(Located::from))
}

/// Most audit events per page.
pub const AUDIT_PAGE_MAX: u32 = 100;
/// Audit events per page when `limit` is absent.
pub const AUDIT_PAGE_DEFAULT: u32 = 50;
/// Notifications answered by `GET /v1/notifications` (newest first).
pub const NOTIFICATIONS_MAX: u32 = 1000;

impl<S: Store, K: Kv, R: RandomSource> Service<S, K, R> {
    /// [`verify`] over this service's KV (edge consistency).
    ///
    /// # Errors
    /// [`Error::Internal`] on storage failure only.
    pub async fn verify<T: AsRef<str>>(
        &self,
        presented: &str,
        scopes: &[T],
        client: Option<IpAddr>,
        now: Timestamp,
    ) -> Result<Verification> {
        verify(&self.edge, presented, scopes, client, now).await
    }

    /// [`locate`] over this service's KV.
    ///
    /// # Errors
    /// [`Error::Internal`] on storage failure.
    pub async fn locate(&self, presented: &str) -> Result<Option<Located>> {
        locate(&self.edge, presented).await
    }

    /// Verify strictly, from the records: the verdict the edge will give once KV has caught
    /// up with every change made so far. `at` is where the edge found the secret.
    ///
    /// # Errors
    /// [`Error::Internal`] on storage failure only.
    pub async fn verify_strict<T: AsRef<str>>(
        &self,
        presented: &str,
        at: &Located,
        scopes: &[T],
        client: Option<IpAddr>,
        now: Timestamp,
    ) -> Result<Verification> {
        if parse(presented).is_err() {
            return Ok(Verification::new(Code::Malformed, None, Consistency::Strict));
        }
        let hash = sha256_hex(presented);
        let entry = match self.repo.token(&at.org_id, &at.token_id).await? {
            Some(t) => {
                let owner = self.owner_of(&t).await?;
                entries(&t, owner.as_ref(), now).into_iter().find(|(h, _)| *h == hash).map(|(_, e)| e)
            }
            None => None,
        };
        let code = verdict(entry.as_ref(), now, scopes, client);
        Ok(Verification::new(code, entry, Consistency::Strict))
    }

    /// Record that `token` was used at `now` (its own KV key; the record is never rewritten).
    ///
    /// # Errors
    /// [`Error::Internal`] on storage failure.
    pub async fn record_use(&self, org: &str, token: &str, now: Timestamp) -> Result<()> {
        Ok(self.edge.put_last_used(org, token, now).await?)
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
        actor.require(Access::Read)?;
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
        actor.require(Access::Read)?;
        actor.require_admin("only admins can read notifications")?;
        let items = self.repo.notifications(&actor.org.id, NOTIFICATIONS_MAX).await?;
        Ok(items.iter().map(NotificationView::from).collect())
    }
}
