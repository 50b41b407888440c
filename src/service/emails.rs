//! Emailing notifications: which are due, what each says, and what came of each attempt. The
//! server sends them through Cloudflare's Email Service from the org authority's alarm (see
//! [`crate::domain::email`]).
//!
//! A notification is emailed when its org's `policy.email_notifications` is on (the default)
//! when it is made; it is given up if the org turns emails off, or the recipient is deactivated,
//! before it is sent.

use super::{Result, Service};
use crate::domain::email::{render, Email, EmailState};
use crate::domain::validate::email_key;
use crate::domain::{RandomSource, Timestamp};
use crate::store::{Kv, Store};

/// Notifications looked through for due emails (the newest; anything older has long been sent
/// or given up: attempts stop 24 h after a notification).
const SCANNED: u32 = 2_000;

/// One email to send, and the notification it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    /// The notification's record key (for [`Service::record_email`]).
    pub key: String,
    /// What to send.
    pub email: Email,
}

impl<S: Store, K: Kv, R: RandomSource> Service<S, K, R> {
    /// Every email of `org` due at `now`, each leased to its caller (not due again until the
    /// lease ends or its outcome is recorded), rendered with links to the admin page at `public_url`.
    /// Emails whose recipient is no longer an active member are given up here, and, once the
    /// org has turned emails off, every email still pending but urgent ones (recovery tokens).
    ///
    /// # Errors
    /// [`super::Error::Internal`] on storage failure.
    pub async fn due_emails(&self, org: &str, public_url: &str, now: Timestamp) -> Result<Vec<OutgoingEmail>> {
        let Some(o) = self.repo.org(org).await? else { return Ok(Vec::new()) };
        let members = self.repo.members(org).await?;
        let mut out = Vec::new();
        for (key, mut n) in self.repo.notification_rows(org, SCANNED).await? {
            let Some(state) = n.email.as_mut() else { continue };
            let off =
                !o.policy.email_notifications && !n.urgent && state.state == crate::domain::email::SendState::Pending;
            if !state.is_due(now) && !off {
                continue;
            }
            let active = members.iter().any(|m| m.is_active() && email_key(&m.email) == email_key(&n.to));
            if off || !active {
                state.give_up(if active { "emails were turned off" } else { "the recipient is not an active member" });
                self.repo.rewrite_notification(&key, &n).await?;
                continue;
            }
            state.lease(now);
            let email = render(&n, public_url);
            self.repo.rewrite_notification(&key, &n).await?;
            out.push(OutgoingEmail { key, email });
        }
        Ok(out)
    }

    /// Record one attempt to email the notification at `key`: sent (`Ok`) or why not. Answers
    /// when the next attempt is due, if one is.
    ///
    /// # Errors
    /// [`super::Error::Internal`] on storage failure.
    pub async fn record_email(
        &self,
        key: &str,
        outcome: core::result::Result<(), String>,
        now: Timestamp,
    ) -> Result<Option<Timestamp>> {
        let Some(raw) = self.repo.store().get(key).await? else { return Ok(None) };
        let mut n: crate::domain::Notification =
            serde_json::from_str(&raw).map_err(|e| super::Error::Internal(format!("unreadable notification: {e}")))?;
        let created = n.created_at;
        let Some(state) = n.email.as_mut() else { return Ok(None) };
        if state.state != crate::domain::email::SendState::Pending {
            return Ok(None);
        }
        state.record(created, now, outcome);
        let next = state.next_attempt_at;
        self.repo.rewrite_notification(key, &n).await?;
        Ok(next)
    }

    /// When the next email of `org` is due.
    ///
    /// # Errors
    /// [`super::Error::Internal`] on storage failure.
    pub async fn next_email(&self, org: &str) -> Result<Option<Timestamp>> {
        let rows = self.repo.notification_rows(org, SCANNED).await?;
        Ok(rows.iter().filter_map(|(_, n)| n.email.as_ref().and_then(EmailState::next_due)).min())
    }
}
