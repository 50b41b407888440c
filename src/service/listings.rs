//! Listings of what happened: the audit log and the notifications outbox (admins).

use super::views::{AuditEventView, NotificationView};
use super::{Actor, Error, Result, Service};
use crate::domain::policy::Access;
use crate::domain::validate;
use crate::domain::RandomSource;
use crate::store::{Kv, Store};

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
