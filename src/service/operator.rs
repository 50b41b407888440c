//! The operator's use cases on one org beyond its creation: deletion (with the erasure of every
//! record and every KV entry the org projected) and recovery (an admin token for an org nobody
//! can sign in to any more). Suspension is with the org's other changes (`members.rs`).

use serde::Serialize;

use super::views::{directory, MemberView, TokenView};
use super::{Error, Operator, Result, Service, Who};
use crate::domain::lifecycle;
use crate::domain::policy::{Lifetime, RECOVERY_TOKEN_HOURS};
use crate::domain::projection;
use crate::domain::validate::{self, email_key, DeleteOrgInput, NewToken, RecoveryFor, RecoveryInput};
use crate::domain::{Action, Member, MemberStatus, Org, RandomSource, Role, TargetType, Timestamp};
use crate::store::{keys, Changes, Kv, Store};

/// Records erased per commit while an org is erased.
const ERASE_BATCH: u32 = 500;

/// How long after a deletion the erasure sweeps KV's last-use keys once more: an edge isolate may
/// still answer (and record a use of) a token of the org for up to the edge's staleness bound.
#[allow(clippy::cast_lossless)] // `i64::from` is not const
pub const SWEEP_AFTER_S: i64 = super::EDGE_MAX_STALENESS_S as i64 + 5;

/// Where an org's erasure stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Erasure {
    /// KV still owes deletions (the alarm retries them).
    Owed,
    /// Records and KV entries are gone; only the org's deletion marker is left until the last
    /// sweep of late last-use keys, due at this time.
    Sweeping(Timestamp),
    /// Nothing of the org is left (or it was not being deleted).
    Done,
}

/// `DELETE /v1/orgs/{id}` answer.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Deleted {
    /// The org.
    pub id: String,
    /// RFC 3339: when the operator deleted it.
    pub deleted_at: String,
    /// Whether the records and KV entries are gone (`false`: KV still owes deletions, which the
    /// authority's alarm retries; the org is gone from every answer already).
    pub erased: bool,
    /// Whether this request deleted the org (`false`: it continued a deletion).
    #[serde(skip)]
    pub newly: bool,
    /// When the erasure's last sweep is due, if it is not done.
    #[serde(skip)]
    pub sweep_at: Option<Timestamp>,
}

/// `POST /v1/orgs/{id}/recovery` answer.
#[derive(Debug, Serialize)]
pub struct Recovered {
    /// The recovery token's secret: shown this once.
    pub secret: String,
    /// The token.
    pub token: TokenView,
    /// The admin it belongs to (new, or the one named).
    pub member: MemberView,
}

impl<S: Store, K: Kv, R: RandomSource> Service<S, K, R> {
    /// `DELETE /v1/orgs/{id}` (operator), with `{confirm_name}` equal to the org's name.
    ///
    /// One commit takes every token out of the records and owes KV the deletion of every verify
    /// entry they projected, and marks the org deleted: from then on its secrets verify
    /// `NOT_FOUND` strictly, and at the edge once KV has dropped them (the same bound as a
    /// revocation), and no request reaches it. Then [`Service::erase`] finishes: KV first, then
    /// every record. Asking again for an org whose erasure is under way continues it.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Validation`] (the name does not match), [`Error::Internal`].
    pub async fn delete_org(
        &self,
        _operator: &Operator,
        org_id: &str,
        input: &DeleteOrgInput,
        now: Timestamp,
    ) -> Result<Deleted> {
        let org = self.repo.org(org_id).await?.ok_or(Error::NotFound)?;
        validate::delete_org(input, &org.name)?;
        let newly = org.deleted_at.is_none();
        let deleted_at = match org.deleted_at {
            Some(at) => at,
            None => {
                let gone = Org { deleted_at: Some(now), version: org.version + 1, ..org.clone() };
                let mut changes = Changes::new();
                changes.put_org(&gone)?;
                let members = self.repo.members(org_id).await?;
                // No one signs in to it any more (the sign-in index, owed to KV like the rest).
                for m in &members {
                    changes.index_member(m, false);
                }
                for t in self.repo.tokens(org_id).await? {
                    let owner = t.owner_member_id.as_deref().and_then(|o| members.iter().find(|m| m.id == o));
                    changes.delete_token(org_id, &t.id);
                    changes.project(&projection::changes(Some((&t, (owner, org.is_suspended()))), None, now))?;
                }
                self.commit(&changes, now).await?;
                now
            }
        };
        let erasure = self.erase(org_id, now).await?;
        let sweep_at = match erasure {
            Erasure::Sweeping(at) => Some(at),
            _ => None,
        };
        let erased = erasure != Erasure::Owed;
        Ok(Deleted { id: org_id.to_owned(), deleted_at: deleted_at.to_rfc3339(), erased, newly, sweep_at })
    }

    /// Carry on erasing a deleted org: once KV has every deletion the org owed it, delete the
    /// last-use keys the edge may have written, then every record of the org but its own; the org
    /// record stays as the deletion's marker until [`SWEEP_AFTER_S`] after the deletion, when a
    /// last sweep deletes the last-use keys an edge may have written meanwhile, and then the
    /// record. An erasure cut short is found again (the marker) and continued by the alarm.
    ///
    /// # Errors
    /// [`Error::Internal`] on storage or KV failure.
    pub async fn erase(&self, org_id: &str, now: Timestamp) -> Result<Erasure> {
        let Some(org) = self.repo.org(org_id).await? else { return Ok(Erasure::Done) };
        let Some(deleted_at) = org.deleted_at else { return Ok(Erasure::Done) };
        self.project(now).await?;
        if self.projection_pending().await? {
            return Ok(Erasure::Owed);
        }
        self.edge.erase_last_used(org_id).await?;
        let prefix = format!("{}:", keys::org(org_id));
        loop {
            let rows = self.repo.store().list(&prefix, None, ERASE_BATCH).await?;
            if rows.is_empty() {
                break;
            }
            let mut changes = Changes::new();
            for (k, _) in rows {
                changes.delete(k);
            }
            self.repo.commit(&changes).await?;
        }
        let sweep_at = deleted_at.plus_seconds(SWEEP_AFTER_S);
        if now < sweep_at {
            return Ok(Erasure::Sweeping(sweep_at));
        }
        let mut last = Changes::new();
        last.delete(keys::org(org_id));
        self.repo.commit(&last).await?;
        Ok(Erasure::Done)
    }

    /// `POST /v1/orgs/{id}/recovery` (operator): a personal admin token with `keyward:manage`
    /// (and every module), expiring [`RECOVERY_TOKEN_HOURS`] from now, for an active admin of the
    /// org or for a new admin added with it. Audited in the org as the operator's; every active
    /// admin is told and emailed at once, whatever the org's email policy. The personal-token
    /// limit does not apply: this is the way back in when every other way is lost.
    ///
    /// # Errors
    /// [`Error::NotFound`] (no such org), [`Error::Forbidden`] (the org is suspended: resume it
    /// first), [`Error::Validation`] (the member is not an active admin of the org, or the new
    /// admin's email is taken), [`Error::Internal`].
    pub async fn recover(
        &self,
        operator: &Operator,
        org_id: &str,
        input: &RecoveryInput,
        now: Timestamp,
    ) -> Result<Recovered> {
        let wanted = validate::recovery(input)?;
        let org = self.repo.org(org_id).await?.filter(|o| !o.is_deleted()).ok_or(Error::NotFound)?;
        if org.is_suspended() {
            // A token of a suspended org could not sign in: resume the org first.
            return Err(Error::Forbidden(super::Denied::OrgSuspended));
        }
        let mut members = self.repo.members(org_id).await?;
        let mut changes = Changes::new();
        let admin = match wanted {
            RecoveryFor::Member(id) => members
                .iter()
                .find(|m| m.id == id && m.is_active() && m.role == Role::Admin)
                .cloned()
                .ok_or_else(|| Error::field("member_id", "is not an active admin of this org"))?,
            RecoveryFor::NewAdmin { email, name } => {
                if members.iter().any(|m| email_key(&m.email) == email_key(&email)) {
                    return Err(Error::field("admin.email", "is already a member of this org; name them by member_id"));
                }
                let m = Member {
                    id: self.id("mem_")?,
                    org_id: org.id.clone(),
                    email,
                    name,
                    role: Role::Admin,
                    status: MemberStatus::Active,
                    created_at: now,
                    version: 1,
                };
                changes.put_member(&m)?;
                let who = Who::Operator { member: &m.id };
                let summary = format!("Added admin {} for recovery", m.email);
                self.audit(
                    &mut changes,
                    org_id,
                    who,
                    Action::MemberCreated,
                    (TargetType::Member, &m.id),
                    summary,
                    now,
                )?;
                members.push(m.clone());
                m
            }
        };
        let _ = operator;
        let spec = NewToken::personal_admin(&org.modules, &admin.id, RECOVERY_TOKEN_LABEL, Lifetime::Days(1));
        let who = Who::Operator { member: &admin.id };
        let (secret, mut t) = self.mint(who, &org, spec, Some(&admin), now)?;
        t.expires_at = Some(now.plus_seconds(i64::from(RECOVERY_TOKEN_HOURS) * 3600));
        let outcome = lifecycle::recovery_issued(&t, &admin.email);
        self.record_into(&mut changes, (who, &org, &members), None, Some(&admin), &outcome, None, now)?;
        self.commit(&changes, now).await?;
        let token = TokenView::new(&t, &directory(members), None, None, now);
        Ok(Recovered { secret: secret.expose().to_owned(), token, member: MemberView::from(&admin) })
    }
}

/// Label of a recovery token.
pub const RECOVERY_TOKEN_LABEL: &str = "Recovery token";
