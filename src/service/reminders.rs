//! The org authority's own timed work: expiry warnings and the idle-token policy
//! ([`crate::domain::reminder`] decides), run by its alarm at the moment the next one is due.
//! There is no global scan: each authority looks only at its own org's tokens.

use super::{Notice, Result, Service, Who, SYSTEM};
use crate::domain::projection;
use crate::domain::reminder::{due, mark, next_due, Due};
use crate::domain::{Action, Kind, RandomSource, SetBy, State, TargetType, Timestamp};
use crate::store::{Changes, Kv, Store};

/// What one run of the reminders did, and when the authority should wake next.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Tick {
    /// Expiry warnings sent (one per token and moment, to its owner and the admins).
    pub expiry_warnings: usize,
    /// Idle warnings sent.
    pub idle_warnings: usize,
    /// Tokens disabled for being idle.
    pub idle_disabled: usize,
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
        for t in self.repo.tokens(org_id).await? {
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
                        Some((
                            Action::TokenExpiring,
                            if *days == 1 { "expires in 1 day".to_owned() } else { format!("expires in {days} days") },
                            format!(
                                "The {} {} token \"{}\" ({}) expires at {expires_at}. Rotate or replace it before then.",
                                t.kind.as_str(),
                                t.role.as_str(),
                                t.label,
                                t.masked()
                            ),
                        ))
                    }
                    Due::IdleWarning { disable_at } => {
                        out.idle_warnings += 1;
                        Some((
                            Action::TokenIdle,
                            "is unused and will be disabled".to_owned(),
                            format!(
                                "The {} {} token \"{}\" ({}) has not been used since {}; keyward will disable it at {disable_at} unless it is used before then.",
                                t.kind.as_str(),
                                t.role.as_str(),
                                t.label,
                                t.masked(),
                                crate::domain::reminder::idle_since(&t, &w),
                            ),
                        ))
                    }
                    Due::IdleDisable { idle_days } => {
                        out.idle_disabled += 1;
                        after.state = State::Disabled;
                        after.state_set_by = Some(SetBy::System);
                        after.updated_at = now;
                        after.version = t.version + 1;
                        changes.put_token(&after)?;
                        let p = projection::changes(Some((&t, owner)), Some((&after, owner)), now);
                        changes.project(&p)?;
                        let summary = format!(
                            "Disabled \"{}\" ({}) by keyward: unused for {idle_days} days",
                            t.label,
                            t.masked()
                        );
                        self.audit(
                            &mut changes,
                            org_id,
                            Who::Keyward,
                            Action::TokenDisabled,
                            (TargetType::Token, &t.id),
                            summary,
                            now,
                        )?;
                        Some((
                            Action::TokenDisabled,
                            "disabled".to_owned(),
                            format!(
                                "keyward disabled the {} {} token \"{}\" ({}) at {now}: unused for {idle_days} days (the org's policy). An admin can enable it again.",
                                t.kind.as_str(),
                                t.role.as_str(),
                                t.label,
                                t.masked()
                            ),
                        ))
                    }
                };
                if let Some((kind, verb, text)) = text {
                    let notice =
                        Notice { kind, verb: &verb, by: SYSTEM, token: Some(&after), member: None, text: Some(text) };
                    self.notify(&mut changes, &org, &members, &notice, now)?;
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
        let deliveries = self.next_delivery(org_id).await?;
        let emails = self.next_email(org_id).await?;
        out.next = [next, deliveries, emails, self.take_wake()].into_iter().flatten().min();
        Ok(out)
    }
}
