//! Orgs and members: create an org (operator), read and change the org, add and change members
//! (with the deactivation cascade onto personal tokens).

use serde::Serialize;
use serde_json::Value;

use super::views::{MemberView, OrgView, TokenView};
use super::{object, Actor, Error, Issued, Result, Service};
use crate::domain::policy::{keeps_an_active_admin, Lifetime};
use crate::domain::validate::{self, email_key, NewToken};
use crate::domain::{Action, Kind, Member, MemberStatus, Org, Policy, RandomSource, Role, TargetType, Timestamp};
use crate::store::Store;

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
    /// The calling token.
    pub token: TokenView,
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

impl<S: Store, R: RandomSource> Service<S, R> {
    /// Create an org, its first admin and that admin's first admin token (the operator's call).
    ///
    /// # Errors
    /// [`Error::BadRequest`] for a non-object body, [`Error::Validation`] for bad fields,
    /// [`Error::Internal`] on storage failure.
    pub async fn create_org(&self, body: &Value, now: Timestamp) -> Result<OrgCreated> {
        let input = validate::new_org(object(body)?)?;
        let org = Org {
            id: self.id("org_")?,
            name: input.name,
            modules: input.modules,
            policy: Policy::default(),
            created_at: now,
        };
        let admin = Member {
            id: self.id("mem_")?,
            org_id: org.id.clone(),
            email: input.admin_email,
            name: input.admin_name,
            role: Role::Admin,
            status: MemberStatus::Active,
            created_at: now,
        };
        self.repo.put_org(&org).await?;
        self.repo.put_member(&admin).await?;
        self.audit(
            &org.id,
            None,
            Action::OrgCreated,
            TargetType::Org,
            &org.id,
            format!("Created org \"{}\"", org.name),
            now,
        )
        .await?;
        self.audit(
            &org.id,
            None,
            Action::MemberCreated,
            TargetType::Member,
            &admin.id,
            format!("Added admin {}", admin.email),
            now,
        )
        .await?;
        let spec = NewToken {
            label: FIRST_TOKEN_LABEL.to_owned(),
            description: None,
            logo: None,
            role: Role::Admin,
            scopes: org.modules.clone(),
            kind: Kind::Personal,
            owner_member_id: Some(admin.id.clone()),
            lifetime: Lifetime::Days(org.policy.default_ttl_days),
        };
        let Issued { secret, token } = self.issue(&org, None, &admin.id, spec, Some(&admin), now).await?;
        Ok(OrgCreated { org: OrgView::from(&org), member: MemberView::from(&admin), secret, token })
    }

    /// The caller, its org, its token and its personal-token usage.
    ///
    /// # Errors
    /// [`Error::Internal`] on storage failure.
    pub async fn me(&self, actor: &Actor, now: Timestamp) -> Result<Me> {
        let dir = super::views::directory(self.repo.members(&actor.org.id).await?);
        let used = match &actor.member {
            Some(m) => self.personal_count(&actor.org.id, &m.id).await?,
            None => 0,
        };
        let last = self.repo.last_used(&actor.org.id, &actor.token.id).await?;
        Ok(Me {
            member: actor.member.as_ref().map(MemberView::from),
            org: OrgView::from(&actor.org),
            token: TokenView::new(&actor.token, &dir, last, now),
            personal_tokens: Usage { used, limit: actor.org.policy.max_personal_tokens },
        })
    }

    /// The caller's org.
    #[must_use]
    pub fn org(&self, actor: &Actor) -> OrgView {
        OrgView::from(&actor.org)
    }

    /// Change the org's name, modules or policy (admins).
    ///
    /// # Errors
    /// [`Error::Forbidden`] for developers, [`Error::Validation`], [`Error::Internal`].
    pub async fn update_org(&self, actor: &Actor, body: &Value, now: Timestamp) -> Result<OrgView> {
        actor.require_admin("only admins can change the org")?;
        let patch = validate::org_patch(object(body)?, &actor.org.policy)?;
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
        if !changed.is_empty() {
            self.repo.put_org(&org).await?;
            let summary = format!("Changed {}", changed.join(", "));
            self.audit(&org.id, Some(actor), Action::OrgUpdated, TargetType::Org, &org.id, summary, now).await?;
        }
        Ok(OrgView::from(&org))
    }

    /// Every member of the org (admins).
    ///
    /// # Errors
    /// [`Error::Forbidden`] for developers, [`Error::Internal`].
    pub async fn members(&self, actor: &Actor) -> Result<Vec<MemberView>> {
        actor.require_admin("only admins can list members")?;
        let mut ms = self.repo.members(&actor.org.id).await?;
        ms.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        Ok(ms.iter().map(MemberView::from).collect())
    }

    /// Add a member (admins). Emails are unique per org, case-insensitively.
    ///
    /// # Errors
    /// [`Error::Forbidden`], [`Error::Validation`], [`Error::Conflict`] for a taken email, [`Error::Internal`].
    pub async fn create_member(&self, actor: &Actor, body: &Value, now: Timestamp) -> Result<MemberView> {
        actor.require_admin("only admins can add members")?;
        let input = validate::new_member(object(body)?)?;
        let key = email_key(&input.email);
        if self.repo.members(&actor.org.id).await?.iter().any(|m| email_key(&m.email) == key) {
            return Err(Error::Conflict("a member with this email already exists in the org"));
        }
        let m = Member {
            id: self.id("mem_")?,
            org_id: actor.org.id.clone(),
            email: input.email,
            name: input.name,
            role: input.role,
            status: MemberStatus::Active,
            created_at: now,
        };
        self.repo.put_member(&m).await?;
        let summary = format!("Added {} {}", m.role.as_str(), m.email);
        self.audit(&m.org_id, Some(actor), Action::MemberCreated, TargetType::Member, &m.id, summary, now).await?;
        Ok(MemberView::from(&m))
    }

    /// Change a member's name, role or status (admins). Deactivating or demoting rewrites the
    /// verify entries of their personal tokens at once (before the member record, so a failure
    /// in between errs on the side of less access); org tokens they created are untouched.
    ///
    /// # Errors
    /// [`Error::Forbidden`], [`Error::NotFound`], [`Error::Validation`], [`Error::Conflict`] when
    /// the org would lose its last active admin, [`Error::Internal`].
    pub async fn update_member(&self, actor: &Actor, id: &str, body: &Value, now: Timestamp) -> Result<MemberView> {
        actor.require_admin("only admins can change members")?;
        let patch = validate::member_patch(object(body)?)?;
        let members = self.repo.members(&actor.org.id).await?;
        let current = members.iter().find(|m| m.id == id).ok_or(Error::NotFound)?;
        let mut m = current.clone();
        if let Some(n) = patch.name {
            m.name = n;
        }
        m.role = patch.role.unwrap_or(m.role);
        m.status = patch.status.unwrap_or(m.status);
        if !keeps_an_active_admin(&members, &m.id, m.role, m.status) {
            return Err(Error::Conflict("the org must keep at least one active admin"));
        }
        if m == *current {
            return Ok(MemberView::from(&m));
        }
        let less_power = m.role < current.role || (m.status == MemberStatus::Deactivated && current.is_active());
        let access_changed = m.role != current.role || m.status != current.status;
        if access_changed && less_power {
            self.cascade(&m, now).await?;
        }
        self.repo.put_member(&m).await?;
        if access_changed && !less_power {
            self.cascade(&m, now).await?;
        }
        let summary = describe_member_change(current, &m);
        self.audit(&m.org_id, Some(actor), Action::MemberUpdated, TargetType::Member, &m.id, summary, now).await?;
        Ok(MemberView::from(&m))
    }

    /// Rewrite the verify entries of every personal token owned by `owner` for its new role and status.
    async fn cascade(&self, owner: &Member, now: Timestamp) -> Result<()> {
        for row in self.repo.all_token_rows(&owner.org_id).await? {
            if row.kind != Kind::Personal || row.owner_member_id.as_deref() != Some(owner.id.as_str()) {
                continue;
            }
            if let Some(t) = self.repo.token(&owner.org_id, &row.id).await? {
                self.write_entries(&t, Some(owner), now).await?;
            }
        }
        Ok(())
    }

    /// Personal tokens held by `member` (every state counts until deleted).
    pub(super) async fn personal_count(&self, org: &str, member: &str) -> Result<usize> {
        Ok(self
            .repo
            .all_token_rows(org)
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
