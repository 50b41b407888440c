//! The org authority's own timed work: expiry warnings and the idle-token policy
//! ([`crate::domain::reminder`] decides) and credit refills ([`crate::domain::meter`]), run by
//! its alarm at the moment the next one is due.
//! There is no global scan: each authority looks only at its own org's tokens.

use super::{Notice, Result, Service, Who};
use crate::domain::lifecycle::{apply, Change};
use crate::domain::notice;
use crate::domain::reminder::{due, mark, next_due, Due};
use crate::domain::{Action, Kind, RandomSource, Timestamp};
use crate::store::{keys, Changes, Kv, Store};

/// What one run of the reminders did, and when the authority should wake next.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Tick {
    /// Expiry warnings sent (one per token and moment, to its owner and the admins).
    pub expiry_warnings: usize,
    /// Idle warnings sent.
    pub idle_warnings: usize,
    /// Tokens disabled for being idle.
    pub idle_disabled: usize,
    /// Credit balances refilled.
    pub refills: usize,
    /// When the next reminder, webhook delivery or email is due.
    #[serde(skip)]
    pub next: Option<Timestamp>,
}

impl<S: Store, K: Kv, R: RandomSource> Service<S, K, R> {
    /// Send every reminder due at `now` in `org` and disable its idle tokens, in one commit;
    /// answer what was done and when the next reminder or delivery is due.
    ///
    /// # Errors
    /// [`super::Error::Internal`] on storage failure.
    pub async fn tick(&self, org_id: &str, now: Timestamp) -> Result<Tick> {
        let mut out = Tick::default();
        let Some(org) = self.repo.org(org_id).await? else { return Ok(out) };
        let idle = org.policy.disable_after_idle_days;
        let members = self.repo.members(org_id).await?;
        let mut watches = self.repo.watches(org_id).await?;
        let mut changes = Changes::new();
        let mut next: Option<Timestamp> = None;
        let tokens = self.repo.tokens(org_id).await?;
        // Each balance once: one shared by the tokens of an external_id is refilled by the first.
        let mut balances = std::collections::HashSet::new();
        for t in tokens.iter().filter(|t| t.credits.is_some_and(|c| c.refill.is_some())) {
            let key = keys::balance_of(t);
            if !balances.insert(key.clone()) {
                continue;
            }
            let plan = t.plan();
            let before = self.repo.meter(&key).await?;
            let after = before.clone().refilled(&plan, now);
            if let Some(at) = after.next_refill(&plan) {
                next = Some(next.map_or(at, |n: Timestamp| n.min(at)));
            }
            if after != before {
                out.refills += 1;
                changes.put_meter(key, &after)?;
            }
        }
        for t in tokens {
            let owner = t.owner_member_id.as_deref().and_then(|o| members.iter().find(|m| m.id == o));
            if t.kind == Kind::Personal && !owner.is_some_and(|m| m.is_active()) {
                continue;
            }
            let mut w = watches.remove(&t.id).unwrap_or_default();
            let todo = due(&t, &w, idle, now);
            let mut after = t.clone();
            for d in &todo {
                let text = match d {
                    Due::Expiry { days, expires_at } => {
                        out.expiry_warnings += 1;
                        let (verb, text) = notice::expiry_warning(&t, *days, *expires_at);
                        Some((Action::TokenExpiring, verb, text))
                    }
                    Due::IdleWarning { disable_at } => {
                        out.idle_warnings += 1;
                        let since = crate::domain::reminder::idle_since(&t, &w);
                        let (verb, text) = notice::idle_warning(&t, since, *disable_at);
                        Some((Action::TokenIdle, verb, text))
                    }
                    Due::IdleDisable { idle_days } => {
                        out.idle_disabled += 1;
                        let idle = Change::IdleDisable { idle_days: *idle_days };
                        if let Some(o) = apply(&after, idle, Who::Keyward.lifecycle(), now)? {
                            self.record_into(
                                &mut changes,
                                (Who::Keyward, &org, &members),
                                Some(&after),
                                owner,
                                &o,
                                None,
                                now,
                            )?;
                            after = o.after.unwrap_or(after);
                        }
                        None
                    }
                };
                if let Some((kind, verb, text)) = text {
                    let notice = Notice {
                        kind,
                        verb: &verb,
                        token: Some(&after),
                        member: None,
                        text: Some(text),
                        urgent: false,
                    };
                    self.notify(&mut changes, &org, &members, Who::Keyward, &notice, now)?;
                }
                mark(&mut w, *d);
            }
            if !todo.is_empty() {
                changes.put_watch(org_id, &t.id, &w)?;
            }
            if let Some(at) = next_due(&after, &w, idle, now) {
                next = Some(next.map_or(at, |n: Timestamp| n.min(at)));
            }
        }
        self.commit(&changes, now).await?;
        let checkpoint = self.checkpoint(org_id, now).await?;
        let deliveries = self.next_delivery(org_id).await?;
        let emails = self.next_email(org_id).await?;
        out.next = [next, checkpoint, deliveries, emails].into_iter().flatten().min();
        Ok(out)
    }
}
