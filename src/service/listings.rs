//! Listings of what happened: the audit log and the notifications outbox (admins).

use super::views::{AuditEventView, NotificationView};
use super::{Actor, Error, Result, Service};
use crate::domain::audit::Head;
use crate::domain::policy::Access;
use crate::domain::validate;
use crate::domain::{RandomSource, Timestamp};
use crate::store::{Kv, Store};
use serde::Serialize;

/// `GET /v1/audit` query parameters, as the server read them from the URL (the use case checks
/// them, after the caller).
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only events about this object id.
    pub target: Option<String>,
    /// Only events made with this token id.
    pub actor_token: Option<String>,
    /// Where to continue.
    pub cursor: Option<String>,
    /// Events per page read (1–100, default 50).
    pub limit: Option<String>,
}

/// Most audit events in one `GET /v1/audit/export` answer.
pub const EXPORT_PAGE_MAX: u32 = 1000;

/// `GET /v1/audit/head`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditHeadView {
    /// The org.
    pub org_id: String,
    /// The newest event's `seq` (0: no event yet).
    pub seq: u64,
    /// Its `hash` (64 zeros before the first event).
    pub hash: String,
    /// When it happened, RFC 3339 (null: no event yet).
    pub at: Option<String>,
    /// When the last checkpoint went out (webhook `audit.checkpoint` and the daily digest), RFC
    /// 3339 (null: none yet).
    pub checkpoint_at: Option<String>,
    /// That checkpoint's `seq` (null: none yet).
    pub checkpoint_seq: Option<u64>,
}

impl AuditHeadView {
    /// The view of `head` in `org`, with the last checkpoint sent, if any.
    #[must_use]
    pub fn new(org: &str, head: &Head, checkpoint: Option<&Head>) -> Self {
        Self {
            org_id: org.to_owned(),
            seq: head.seq,
            hash: head.hash.clone(),
            at: head.at.map(Timestamp::to_rfc3339),
            checkpoint_at: checkpoint.and_then(|c| c.at).map(Timestamp::to_rfc3339),
            checkpoint_seq: checkpoint.map(|c| c.seq),
        }
    }
}

/// One `GET /v1/audit/export` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditExport {
    /// The events, oldest first.
    pub lines: Vec<AuditEventView>,
    /// Where the next request starts (`after_seq`), when more events follow.
    pub next_after_seq: Option<u64>,
    /// The chain's head as read.
    pub head: Head,
}

/// Most audit events per page.
pub const AUDIT_PAGE_MAX: u32 = 100;
/// Audit events per page when `limit` is absent.
pub const AUDIT_PAGE_DEFAULT: u32 = 50;
/// Notifications answered by `GET /v1/notifications` (newest first).
pub const NOTIFICATIONS_MAX: u32 = 1000;

impl<S: Store, K: Kv, R: RandomSource> Service<S, K, R> {
    /// `GET /v1/audit`: newest first, filtered by target id and acting token. A filtered page
    /// may hold fewer than `limit` events; follow `cursor` until it is null.
    ///
    /// # Errors
    /// [`Error::Forbidden`] for developers, [`Error::Validation`] for a bad filter, limit or cursor, [`Error::Internal`].
    pub async fn audit_events(&self, actor: &Actor, q: &AuditQuery) -> Result<(Vec<AuditEventView>, Option<String>)> {
        actor.require(Access::Read)?;
        actor.require_admin("read the audit log")?;
        let (target, actor_token) = (q.target.as_deref(), q.actor_token.as_deref());
        let limit =
            validate::audit_filters(target, actor_token, q.limit.as_deref(), AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX);
        let cursor_ok = q.cursor.as_deref().is_none_or(|c| crate::store::cursor::is_audit(&actor.org.id, c));
        let limit = super::with_cursor(limit, cursor_ok)?;
        let mut cursor = q.cursor.clone();
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

    /// `GET /v1/audit/head`: the newest event of the org's audit chain, and when the last
    /// checkpoint went out.
    ///
    /// # Errors
    /// [`Error::Forbidden`] for developers, [`Error::Internal`].
    pub async fn audit_head(&self, actor: &Actor) -> Result<AuditHeadView> {
        actor.require(Access::Read)?;
        actor.require_admin("read the audit log")?;
        let head = self.repo.audit_head(&actor.org.id).await?;
        let checkpoint = self.repo.audit_checkpoint(&actor.org.id).await?;
        Ok(AuditHeadView::new(&actor.org.id, &head, checkpoint.as_ref()))
    }

    /// `GET /v1/audit/export`: the events after `after_seq` (default 0: from the first), oldest
    /// first, at most `limit` (1–1000, default 1000), each with its `seq` and `hash`; and the
    /// chain's head, so the caller knows whether more follow.
    ///
    /// # Errors
    /// [`Error::Forbidden`] for developers, [`Error::Validation`] for a bad `after_seq` or
    /// `limit`, [`Error::Internal`].
    pub async fn audit_export(
        &self,
        actor: &Actor,
        after_seq: Option<&str>,
        limit: Option<&str>,
    ) -> Result<AuditExport> {
        actor.require(Access::Read)?;
        actor.require_admin("export the audit log")?;
        let (after_seq, limit) = validate::audit_export(after_seq, limit, EXPORT_PAGE_MAX)?;
        let head = self.repo.audit_head(&actor.org.id).await?;
        let events = self.repo.audit_after(&actor.org.id, after_seq, head.seq, limit).await?;
        let lines = events.iter().map(AuditEventView::from).collect::<Vec<_>>();
        let last = lines.last().and_then(|l| l.seq).unwrap_or(after_seq);
        Ok(AuditExport { lines, next_after_seq: (last < head.seq).then_some(last), head })
    }

    /// `GET /v1/notifications`: the outbox, newest first.
    ///
    /// # Errors
    /// [`Error::Forbidden`] for developers, [`Error::Internal`].
    pub async fn notifications(&self, actor: &Actor) -> Result<Vec<NotificationView>> {
        actor.require(Access::Read)?;
        actor.require_admin("read notifications")?;
        let items = self.repo.notifications(&actor.org.id, NOTIFICATIONS_MAX).await?;
        Ok(items.iter().map(NotificationView::from).collect())
    }
}
