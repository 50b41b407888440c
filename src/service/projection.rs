//! The verify projection: draining the outbox into KV, and reconciling KV with the records.

use std::collections::HashMap;

use futures_util::future::join_all;
use serde::Serialize;

use super::{Actor, Result, Service};
use crate::domain::policy::Access;
use crate::domain::projection::{entries, Projected};
use crate::domain::validate::{self, EmptyInput};
use crate::domain::{Member, RandomSource, Timestamp, VerifyEntry};
use crate::store::{keys, Changes, Kv, Store, ORG_META};

/// Outbox rows written to KV per round (their keys are distinct, so they go out concurrently).
const DRAIN_BATCH: u32 = 128;
/// Rounds per drain, so a drain under a stream of new changes still ends.
const DRAIN_ROUNDS: usize = 16;

/// What one drain of the outbox did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Drained {
    /// KV writes accepted (and their rows dropped).
    pub written: usize,
    /// KV writes refused or failed (their rows stay owed).
    pub failed: usize,
}

/// One repair made by [`Service::reconcile`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// `written` (KV lacked or differed from the records) or `deleted` (KV held an entry the
    /// records do not call for).
    pub action: &'static str,
    /// The token the entry named, if any.
    pub token_id: Option<String>,
}

/// `POST /v1/org/reconcile` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reconciled {
    /// Verify entries compared (the org's in KV and the ones its records call for).
    pub checked: usize,
    /// What was repaired.
    pub fixed: Vec<Fix>,
    /// Whether some repairs are still owed to KV (retried by the authority's alarm).
    pub pending: bool,
}

fn parse_entry(raw: Option<&str>) -> Option<VerifyEntry> {
    raw.and_then(|s| serde_json::from_str(s).ok())
}

impl<S: Store, K: Kv, R: RandomSource> Service<S, K, R> {
    /// Copy every owed write to KV at `now`, one drainer at a time (a second caller waits for the first,
    /// then drains what is left). A row is dropped only once KV accepted it and only if no later
    /// change replaced it meanwhile, so the latest state of a key is always written last.
    ///
    /// # Errors
    /// [`super::Error::Internal`] when the records cannot be read; KV failures are counted, not errors.
    pub async fn project(&self, now: Timestamp) -> Result<Drained> {
        let _one_at_a_time = self.drain.lock().await;
        let mut done = Drained::default();
        for _ in 0..DRAIN_ROUNDS {
            let rows = self.repo.outbox(DRAIN_BATCH).await?;
            if rows.is_empty() {
                break;
            }
            let results = join_all(rows.iter().map(|(_, row)| self.edge.apply(row, now))).await;
            for ((raw, row), result) in rows.iter().zip(results) {
                match result {
                    Ok(()) => {
                        self.repo.settle(&row.key, raw).await?;
                        done.written += 1;
                    }
                    Err(_) => done.failed += 1,
                }
            }
            if done.failed > 0 {
                break;
            }
        }
        Ok(done)
    }

    /// Whether some KV writes are still owed.
    ///
    /// # Errors
    /// [`super::Error::Internal`] when the records cannot be read.
    pub async fn projection_pending(&self) -> Result<bool> {
        Ok(!self.repo.outbox_is_empty().await?)
    }

    /// Every verify entry the org's records call for at `now`, by hash.
    async fn expected(&self, org: &str, now: Timestamp) -> Result<HashMap<String, VerifyEntry>> {
        let members: HashMap<String, Member> =
            self.repo.members(org).await?.into_iter().map(|m| (m.id.clone(), m)).collect();
        let suspended = self.repo.org(org).await?.is_some_and(|o| o.is_suspended());
        let mut out = HashMap::new();
        for t in self.repo.tokens(org).await? {
            let owner = t.owner_member_id.as_ref().and_then(|o| members.get(o));
            out.extend(entries(&t, (owner, suspended), now));
        }
        Ok(out)
    }

    /// `POST /v1/org/reconcile` (admins): compare every `v:` entry of the org in KV with what
    /// the records call for, and repair the difference through the outbox.
    ///
    /// KV keys carry their org as metadata; a key without it (planted by hand) is read to find
    /// its org. The listing covers the whole namespace, so this costs one `list` per thousand
    /// verify entries of every org: an operator's repair, not a routine call.
    ///
    /// # Errors
    /// [`super::Error::Forbidden`] for developers, [`super::Error::Validation`] for any field
    /// sent, [`super::Error::Internal`].
    pub async fn reconcile(&self, actor: &Actor, input: &EmptyInput, now: Timestamp) -> Result<Reconciled> {
        actor.require(Access::Manage)?;
        actor.require_admin("reconcile the org")?;
        validate::empty(input)?;
        let org = actor.org.id.as_str();
        // What KV holds for this org, read first (KV reads let other requests run meanwhile).
        let mut held: HashMap<String, Option<String>> = HashMap::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self.edge.verify_keys(cursor.as_deref()).await?;
            for k in page.keys {
                let Some(hash) = keys::verify_hash(&k.name) else { continue };
                let meta_org = k.metadata.as_ref().and_then(|m| m.get(ORG_META)).and_then(|o| o.as_str());
                match meta_org {
                    Some(o) if o != org => {}
                    _ => {
                        let raw = self.edge.stored(hash).await?;
                        let mine = meta_org.is_some() || parse_entry(raw.as_deref()).is_some_and(|e| e.org_id == org);
                        if mine {
                            held.insert(hash.to_owned(), raw);
                        }
                    }
                }
            }
            match page.cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let wanted = self.expected(org, now).await?;
        for hash in wanted.keys() {
            if !held.contains_key(hash) {
                let raw = self.edge.stored(hash).await?;
                held.insert(hash.clone(), raw);
            }
        }
        // Decide on the records as they are now: they may have changed while KV was read.
        let wanted = self.expected(org, now).await?;
        let mut repairs = Vec::new();
        let mut fixed = Vec::new();
        for (hash, raw) in &held {
            let current = parse_entry(raw.as_deref());
            match wanted.get(hash) {
                Some(e) if current.as_ref() != Some(e) => {
                    repairs.push(Projected { hash: hash.clone(), entry: Some(e.clone()) });
                    fixed.push(Fix { action: "written", token_id: Some(e.token_id.clone()) });
                }
                None if raw.is_some() => {
                    repairs.push(Projected { hash: hash.clone(), entry: None });
                    fixed.push(Fix { action: "deleted", token_id: current.map(|e| e.token_id) });
                }
                _ => {}
            }
        }
        let checked = held.len();
        let mut changes = Changes::new();
        changes.project(&repairs)?;
        // The sign-in index (one KV entry per active member's email) is written again as well:
        // members written before it existed get theirs, and a lost write is made good.
        for m in self.repo.members(org).await? {
            changes.index_member(&m, m.is_active());
        }
        self.commit(&changes, now).await?;
        fixed.sort_by(|a, b| (a.action, &a.token_id).cmp(&(b.action, &b.token_id)));
        Ok(Reconciled { checked, fixed, pending: self.projection_pending().await? })
    }
}
