//! The daily audit checkpoint: each UTC day in which an org's audit log grew, once it is over,
//! the chain's head goes out where keyward cannot change it: the `audit.checkpoint` webhook event
//! and a digest to every active admin (emailed under the org's email policy). The authority's
//! alarm runs it ([`Service::tick`](super::Service::tick)); [`crate::domain::audit`] decides.

use std::collections::BTreeMap;

use serde_json::json;

use super::{Result, Service, SYSTEM};
use crate::domain::audit::{checkpoint_due, digest};
use crate::domain::sending::EmailState;
use crate::domain::{Action, Notification, RandomSource, Role, Timestamp};
use crate::store::{keys, Changes, Event, Kv, Store};

/// Most events the digest counts by action (the checkpoint itself covers them all).
const DIGEST_READ: u32 = 1000;

impl<S: Store, K: Kv, R: RandomSource> Service<S, K, R> {
    /// Send the checkpoint of `org` if one is due at `now`, in one commit; answer when the next
    /// one may be due (`None`: nothing written since the last).
    ///
    /// # Errors
    /// [`super::Error::Internal`] on storage failure.
    pub async fn checkpoint(&self, org_id: &str, now: Timestamp) -> Result<Option<Timestamp>> {
        let Some(org) = self.repo.org(org_id).await? else { return Ok(None) };
        let last = self.repo.audit_checkpoint(org_id).await?;
        let head = self.repo.audit_head(org_id).await?;
        let sent = last.as_ref().map_or(0, |l| l.seq);
        // One event decides whether one is due; the digest's events are read only when it is.
        let oldest = self.repo.audit_after(org_id, sent, head.seq, 1).await?;
        let Some(due) = checkpoint_due(last.as_ref(), &head, oldest.first().map(|e| e.at)) else { return Ok(None) };
        if due > now {
            return Ok(Some(due));
        }
        let unsent = self.repo.audit_after(org_id, sent, head.seq, DIGEST_READ).await?;
        let mut counts: BTreeMap<&str, (Action, u64)> = BTreeMap::new();
        for e in &unsent {
            counts.entry(e.action.as_str()).or_insert((e.action, 0)).1 += 1;
        }
        let counts: Vec<(Action, u64)> = counts.into_values().collect();
        let (subject, body) = digest(&org.name, sent.saturating_add(1), &head, &counts);
        let mut changes = Changes::new();
        let members = self.repo.members(org_id).await?;
        for m in members.iter().filter(|m| m.is_active() && m.role == Role::Admin) {
            let note = Notification {
                id: self.id("ntf_")?,
                kind: Action::AuditCheckpoint,
                to: m.email.clone(),
                subject: subject.clone(),
                body: body.clone(),
                token_id: None,
                created_by: SYSTEM.to_owned(),
                created_at: now,
                masked: None,
                email: org.policy.email_notifications.then(|| EmailState::pending(now)),
                urgent: false,
            };
            if note.email.is_some() {
                changes.wake(now);
            }
            changes.notify(org_id, &note, self.next_seq())?;
        }
        let at = head.at.map(Timestamp::to_rfc3339);
        let data = json!({"org_id": org_id, "seq": head.seq, "hash": head.hash, "at": at});
        changes.event(Event { org: org_id.to_owned(), kind: Action::AuditCheckpoint.as_str().to_owned(), data });
        let mut record = head.clone();
        record.at = Some(now);
        changes.put(keys::audit_checkpoint(org_id), &record)?;
        self.commit(&changes, now).await?;
        Ok(None)
    }
}
