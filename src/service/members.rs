//! Orgs and members: create an org (operator), read and change the org, add and change members
//! (with the deactivation cascade onto personal tokens).

use serde::Serialize;

use super::views::{directory, MemberView, OrgView, TokenView};
use super::{Actor, Conflict, Error, Notice, Result, Service, Who};
use crate::domain::model::is_id;
use crate::domain::policy::{keeps_an_active_admin, Access, Lifetime};
use crate::domain::projection;
use crate::domain::validate::{
    self, email_key, MemberPatchInput, NewMemberInput, NewOrgInput, NewToken, OrgPatchInput,
};
use crate::domain::{Action, Kind, Member, MemberStatus, Org, Policy, RandomSource, Role, TargetType, Timestamp};
use crate::store::{keys, Changes, Kv, Store};

/// `POST /v1/orgs` answer.
#[derive(Debug, Serialize)]
pub struct OrgCreated {
    /// The org.
    pub org: OrgView,
    /// Its first admin.
    pub member: MemberView,
    /// The first admin token's secret: shown this once.
    pub secret: String,
    /// That token's view.
    pub token: TokenView,
}

/// `GET /v1/me` answer.
#[derive(Debug, Serialize)]
pub struct Me {
    /// The calling token's owner (null for an org token).
    pub member: Option<MemberView>,
    /// The org.
    pub org: OrgView,
    /// The calling token; null for a member acting without one (the operator acting for them,
    /// or their sign-in session).
    pub token: Option<TokenView>,
    /// Personal-token usage of the member.
    pub personal_tokens: Usage,
}

/// `{used, limit}`.
#[derive(Debug, Serialize)]
pub struct Usage {
    /// Personal tokens held.
    pub used: usize,
    /// The org's limit.
    pub limit: u32,
}

/// Label of the token made with a new org.
pub const FIRST_TOKEN_LABEL: &str = "Initial admin token";

impl<S: Store, K: Kv, R: RandomSource> Service<S, K, R> {
    /// `POST /v1/orgs/{id}/suspend` and `/resume` (operator). A suspended org's tokens verify
    /// `ORG_SUSPENDED` (strictly at once: its authority reads the org; at the edge once the
    /// projection, rewritten here for every token in the same commit, reaches KV) and its admin
    /// API answers 403. Audited in the org's log as the operator's. Asking for the state the org
    /// is already in changes nothing and answers it as it is (with `false`: nothing changed).
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Internal`].
    pub async fn set_suspended(
        &self,
        _operator: &super::Operator,
        org_id: &str,
        suspend: bool,
        now: Timestamp,
    ) -> Result<(OrgView, bool)> {
        let before = self.repo.org(org_id).await?.filter(|o| !o.is_deleted()).ok_or(Error::NotFound)?;
        if before.is_suspended() == suspend {
            return Ok((OrgView::from(&before), false));
        }
        let org = Org { suspended_at: suspend.then_some(now), version: before.version + 1, ..before.clone() };
        let mut changes = Changes::new();
        changes.put_org(&org)?;
        let members = self.repo.members(org_id).await?;
        for t in self.repo.tokens(org_id).await? {
            let owner = t.owner_member_id.as_deref().and_then(|o| members.iter().find(|m| m.id == o));
            let (was, is) = ((owner, before.is_suspended()), (owner, suspend));
            changes.project(&projection::changes(Some((&t, was)), Some((&t, is)), now))?;
        }
        let first = members.iter().find(|m| m.role == Role::Admin).map_or("", |m| m.id.as_str());
        let summary = if suspend { "Suspended by the operator" } else { "Resumed by the operator" };
        let who = Who::Operator { member: first };
        self.audit(&mut changes, org_id, who, Action::OrgUpdated, (TargetType::Org, org_id), summary.into(), now)?;
        self.commit(&changes, now).await?;
        Ok((OrgView::from(&org), true))
    }

    /// `GET /v1/orgs/{id}` (operator): the org, or 404 (also for one being deleted).
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Internal`].
    pub async fn operator_org(&self, _operator: &super::Operator, org_id: &str) -> Result<OrgView> {
        let org = self.repo.org(org_id).await?.filter(|o| !o.is_deleted()).ok_or(Error::NotFound)?;
        Ok(OrgView::from(&org))
    }

    /// Create org `org_id`, its first admin and that admin's first admin token, in one commit:
    /// the operator's call, and only theirs (`_operator` is the proof).
    ///
    /// # Errors
    /// [`Error::Validation`] for bad fields,
    /// [`Error::Conflict`] if the org exists already, [`Error::Internal`] on storage failure.
    pub async fn create_org(
        &self,
        _operator: &super::Operator,
        org_id: &str,
        input: &NewOrgInput,
        now: Timestamp,
    ) -> Result<OrgCreated> {
        let input = validate::new_org(input)?;
        if !is_id("org_", org_id) {
            return Err(Error::Internal("not an org id".into()));
        }
        if self.repo.org(org_id).await?.is_some() {
            return Err(Error::Conflict(Conflict::OrgExists));
        }
        let org = Org {
            id: org_id.to_owned(),
            name: input.name,
            modules: input.modules,
            policy: Policy::default(),
            created_at: now,
            version: 1,
            suspended_at: None,
            deleted_at: None,
        };
        let admin = Member {
            id: self.id("mem_")?,
            org_id: org.id.clone(),
            email: input.admin_email,
            name: input.admin_name,
            role: Role::Admin,
            status: MemberStatus::Active,
            created_at: now,
            version: 1,
        };
        let mut changes = Changes::new();
        changes.put_org(&org)?;
        changes.put_member(&admin)?;
        // A new authority's records are of the current storage schema from their first commit.
        changes.put_raw(keys::SCHEMA.to_owned(), super::schema_record(super::SCHEMA_VERSION));
        let summary = format!("Created org \"{}\"", org.name);
        let operator = Who::Operator { member: &admin.id };
        self.audit(&mut changes, &org.id, operator, Action::OrgCreated, (TargetType::Org, &org.id), summary, now)?;
        let summary = format!("Added admin {}", admin.email);
        self.audit(
            &mut changes,
            &org.id,
            operator,
            Action::MemberCreated,
            (TargetType::Member, &admin.id),
            summary,
            now,
        )?;
        let lifetime = Lifetime::Days(org.policy.default_ttl_days);
        let spec = NewToken::personal_admin(&org.modules, &admin.id, FIRST_TOKEN_LABEL, lifetime);
        let members = [admin.clone()];
        let (secret, t) = self.issue(&mut changes, (operator, &org, &members), spec, Some(&admin), now)?;
        self.commit(&changes, now).await?;
        let token = TokenView::new(&t, &directory(members.to_vec()), None, None, now);
        Ok(OrgCreated {
            org: OrgView::from(&org),
            member: MemberView::from(&admin),
            secret: secret.expose().to_owned(),
            token,
        })
    }

    /// The caller, its org, its token and its personal-token usage.
    ///
    /// # Errors
    /// [`Error::Internal`] on storage failure.
    pub async fn me(&self, actor: &Actor, now: Timestamp) -> Result<Me> {
        actor.require(Access::Read)?;
        let dir = directory(self.repo.members(&actor.org.id).await?);
        let used = match &actor.member {
            Some(m) => self.personal_count(&actor.org.id, &m.id).await?,
            None => 0,
        };
        let token = match &actor.token {
            Some(t) => {
                let last = self.edge.last_used(&actor.org.id, &t.id).await?;
                let meter = self.meter_of(t).await?;
                Some(TokenView::new(t, &dir, last, meter.as_ref(), now))
            }
            None => None,
        };
        Ok(Me {
            member: actor.member.as_ref().map(MemberView::from),
            org: OrgView::from(&actor.org),
            token,
            personal_tokens: Usage { used, limit: actor.org.policy.max_personal_tokens },
        })
    }

    /// The caller's org.
    ///
    /// # Errors
    /// [`Error::Forbidden`] without keyward access.
    pub fn org(&self, actor: &Actor) -> Result<OrgView> {
        actor.require(Access::Read)?;
        Ok(OrgView::from(&actor.org))
    }

    /// Change the org's name, modules or policy (admins).
    ///
    /// # Errors
    /// [`Error::Forbidden`] for developers, [`Error::PreconditionFailed`], [`Error::Validation`],
    /// [`Error::Internal`].
    pub async fn update_org(&self, actor: &Actor, input: &OrgPatchInput, now: Timestamp) -> Result<OrgView> {
        actor.require(Access::Manage)?;
        actor.require_admin("change the org")?;
        let patch = validate::org_patch(input, &actor.org.policy)?;
        actor.precondition(actor.org.version)?;
        let mut org = actor.org.clone();
        let mut changed = Vec::new();
        if let Some(n) = patch.name {
            org.name = n;
            changed.push("name");
        }
        if let Some(m) = patch.modules {
            org.modules = m;
            changed.push("modules");
        }
        if let Some(p) = patch.policy {
            org.policy = p;
            changed.push("policy");
        }
        if org != actor.org {
            org.version = actor.org.version + 1;
            let mut changes = Changes::new();
            if org.policy.disable_after_idle_days != actor.org.policy.disable_after_idle_days
                || org.policy.email_notifications != actor.org.policy.email_notifications
            {
                // The reminders of every token move, or pending emails are to be given up: let
                // the authority look again now.
                changes.wake(now);
            }
            changes.put_org(&org)?;
            let summary = format!("Changed {}", changed.join(", "));
            self.audit(
                &mut changes,
                &org.id,
                Who::Caller(actor),
                Action::OrgUpdated,
                (TargetType::Org, &org.id),
                summary,
                now,
            )?;
            self.commit(&changes, now).await?;
        }
        Ok(OrgView::from(&org))
    }

    /// Every member of the org (admins).
    ///
    /// # Errors
    /// [`Error::Forbidden`] for developers, [`Error::Internal`].
    pub async fn members(&self, actor: &Actor) -> Result<Vec<MemberView>> {
        actor.require(Access::Read)?;
        actor.require_admin("list members")?;
        let mut ms = self.repo.members(&actor.org.id).await?;
        ms.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        Ok(ms.iter().map(MemberView::from).collect())
    }

    /// Add a member (admins). Emails are unique per org, case-insensitively.
    ///
    /// # Errors
    /// [`Error::Forbidden`], [`Error::Validation`], [`Error::Conflict`] for a taken email, [`Error::Internal`].
    pub async fn create_member(&self, actor: &Actor, input: &NewMemberInput, now: Timestamp) -> Result<MemberView> {
        actor.require(Access::Manage)?;
        actor.require_admin("add members")?;
        let input = validate::new_member(input)?;
        let key = email_key(&input.email);
        if self.repo.members(&actor.org.id).await?.iter().any(|m| email_key(&m.email) == key) {
            return Err(Error::Conflict(Conflict::EmailTaken));
        }
        let m = Member {
            id: self.id("mem_")?,
            org_id: actor.org.id.clone(),
            email: input.email,
            name: input.name,
            role: input.role,
            status: MemberStatus::Active,
            created_at: now,
            version: 1,
        };
        let mut changes = Changes::new();
        changes.put_member(&m)?;
        let summary = format!("Added {} {}", m.role.as_str(), m.email);
        self.audit(
            &mut changes,
            &m.org_id,
            Who::Caller(actor),
            Action::MemberCreated,
            (TargetType::Member, &m.id),
            summary,
            now,
        )?;
        self.commit(&changes, now).await?;
        Ok(MemberView::from(&m))
    }

    /// Change a member's name, role or status (admins). A change of role or status rewrites the
    /// verify entries of their personal tokens in the same commit; org tokens they created are
    /// untouched.
    ///
    /// # Errors
    /// [`Error::Forbidden`], [`Error::NotFound`], [`Error::PreconditionFailed`],
    /// [`Error::Validation`], [`Error::Conflict`] when the org would lose its last active admin,
    /// [`Error::Internal`].
    pub async fn update_member(
        &self,
        actor: &Actor,
        id: &str,
        input: &MemberPatchInput,
        now: Timestamp,
    ) -> Result<MemberView> {
        actor.require(Access::Manage)?;
        actor.require_admin("change members")?;
        let members = self.repo.members(&actor.org.id).await?;
        let current = members.iter().find(|m| m.id == id).ok_or(Error::NotFound)?;
        let patch = validate::member_patch(input)?;
        actor.precondition(current.version)?;
        let mut m = current.clone();
        if let Some(n) = patch.name {
            m.name = n;
        }
        m.role = patch.role.unwrap_or(m.role);
        m.status = patch.status.unwrap_or(m.status);
        if !keeps_an_active_admin(&members, &m.id, m.role, m.status) {
            return Err(Error::Conflict(Conflict::LastAdmin));
        }
        if m == *current {
            return Ok(MemberView::from(&m));
        }
        m.version = current.version + 1;
        let mut changes = Changes::new();
        changes.put_member(&m)?;
        if current.is_active() && !m.is_active() {
            // A deactivation ends the member's sign-in sessions for good: a reactivation later
            // must not bring a stolen cookie back.
            for (key, session) in self.repo.sessions(&m.org_id, u32::MAX).await? {
                if session.member_id == m.id {
                    changes.delete(key);
                }
            }
        }
        if m.role != current.role || m.status != current.status {
            for t in self.repo.tokens(&m.org_id).await? {
                if t.kind == Kind::Personal && t.owner_member_id.as_deref() == Some(m.id.as_str()) {
                    let suspended = actor.org.is_suspended();
                    let (before, after) = ((Some(current), suspended), (Some(&m), suspended));
                    changes.project(&projection::changes(Some((&t, before)), Some((&t, after)), now))?;
                }
            }
        }
        let mut what = Vec::new();
        if m.status != current.status {
            what.push(if m.is_active() { "reactivated".to_owned() } else { "deactivated".to_owned() });
        }
        if m.role != current.role {
            what.push(format!("role changed to {}", m.role.as_str()));
        }
        if !what.is_empty() {
            let verb = what.join(", ");
            let notice = Notice {
                kind: Action::MemberUpdated,
                verb: &verb,
                token: None,
                member: Some(&m),
                text: None,
                urgent: false,
            };
            // Told as the members are after the change: a deactivated admin is not told.
            let after: Vec<Member> = members.iter().map(|x| if x.id == m.id { m.clone() } else { x.clone() }).collect();
            self.notify(&mut changes, &actor.org, &after, Who::Caller(actor), &notice, now)?;
        }
        let summary = describe_member_change(current, &m);
        self.audit(
            &mut changes,
            &m.org_id,
            Who::Caller(actor),
            Action::MemberUpdated,
            (TargetType::Member, &m.id),
            summary,
            now,
        )?;
        self.commit(&changes, now).await?;
        Ok(MemberView::from(&m))
    }

    /// Personal tokens held by `member` (every state counts until deleted).
    pub(super) async fn personal_count(&self, org: &str, member: &str) -> Result<usize> {
        Ok(self
            .repo
            .tokens(org)
            .await?
            .iter()
            .filter(|t| t.kind == Kind::Personal && t.owner_member_id.as_deref() == Some(member))
            .count())
    }
}

fn describe_member_change(old: &Member, new: &Member) -> String {
    let mut parts = Vec::new();
    if old.name != new.name {
        parts.push(format!("name to \"{}\"", new.name));
    }
    if old.role != new.role {
        parts.push(format!("role to {}", new.role.as_str()));
    }
    if old.status != new.status {
        parts.push(if new.is_active() { "reactivated".to_owned() } else { "deactivated".to_owned() });
    }
    format!("{}: {}", new.email, parts.join(", "))
}
