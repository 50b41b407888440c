//! Tokens: create, list, read, edit, disable, enable, revoke, re-approve, rotate, delete.
//!
//! Each use case loads what it needs, decides with domain code, and commits one [`Changes`]:
//! the record, its audit event, its notifications and the verify-projection changes
//! ([`projection::changes`]), all at once. KV follows the records, never the other way round.

use serde::Serialize;

use super::views::{directory, owner_active, TokenView};
use super::{with_cursor, Actor, Denied, Error, Notice, Result, Service, Who};
use crate::domain::policy::{
    check_transition, expires_at, grace_end, grantable, may_act_on, may_delete, may_undo, personal_limit_allows,
    restricted_by, role_ceiling, takes_over, Access, Transition,
};
use crate::domain::projection;
use crate::domain::token::Secret;
use crate::domain::validate::{
    self, confirm_label_matches, ConfirmInput, EmptyInput, NewToken, NewTokenInput, RotateInput, TokenPatchInput,
};
use crate::domain::{model::is_id, Action, Kind, Member, Org, RandomSource, Role, State, TargetType, Timestamp, Token};
use crate::store::{cursor, Changes, Kv, Store};

/// A token with its secret, shown this once (`POST /v1/tokens`, rotate, first admin token).
#[derive(Debug, Serialize)]
pub struct Issued {
    /// The whole secret.
    pub secret: String,
    /// Its view.
    pub token: TokenView,
}

/// `GET /v1/tokens` query parameters, as the server read them from the URL (checked by the use
/// case, after the caller: [`validate::token_filters`]).
#[derive(Debug, Clone, Default)]
pub struct TokenQuery {
    /// `personal` or `org`.
    pub kind: Option<String>,
    /// Owner member id.
    pub owner: Option<String>,
    /// Derived status.
    pub status: Option<String>,
    /// Where to continue.
    pub cursor: Option<String>,
}

/// What an org token creating a personal token without naming its owner is told.
const OWNER_REQUIRED: &str = "is required when an org token creates a personal token";

/// Keys read per `GET /v1/tokens` page.
pub const TOKEN_PAGE: u32 = 100;

impl<S: Store, K: Kv, R: RandomSource> Service<S, K, R> {
    /// A new token from a validated spec, added to `changes` with its projection, audit event
    /// and one notification per active admin of `members`. `actor` `None` is the operator
    /// (first admin token). Returns the secret and the record.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn issue(
        &self,
        changes: &mut Changes,
        org: &Org,
        members: &[Member],
        actor: Option<&Actor>,
        creator_id: &str,
        spec: NewToken,
        owner: Option<&Member>,
        now: Timestamp,
    ) -> Result<(Secret, Token)> {
        let secret = Secret::generate(&self.prefix, &self.rng)?;
        let t = Token {
            id: self.id("tok_")?,
            org_id: org.id.clone(),
            kind: spec.kind,
            owner_member_id: owner.map(|m| m.id.clone()),
            created_by: creator_id.to_owned(),
            created_with: actor.map(|a| a.token.id.clone()),
            label: spec.label,
            description: spec.description,
            logo: spec.logo,
            role: spec.role,
            scopes: spec.scopes,
            allowed_cidrs: spec.allowed_cidrs,
            created_at: now,
            updated_at: now,
            expires_at: expires_at(spec.lifetime, now),
            state: State::Active,
            revoked_at: None,
            state_set_by: None,
            hint: secret.hint().to_owned(),
            prefix: secret.prefix().to_owned(),
            rotated_at: None,
            previous_valid_until: None,
            hash: secret.hash(),
            previous_hash: None,
            enabled_at: None,
            version: 1,
        };
        changes.put_token(&t)?;
        Self::remind(changes, org, &t, now);
        changes.project(&projection::changes(None, Some((&t, owner)), now))?;
        let summary = format!(
            "Created {} {} token \"{}\" ({}){}",
            t.kind.as_str(),
            t.role.as_str(),
            t.label,
            t.masked(),
            owner.map_or_else(String::new, |m| format!(" for {}", m.email))
        );
        self.audit(
            changes,
            &org.id,
            actor.map_or(Who::Operator, Who::Caller),
            Action::TokenCreated,
            (TargetType::Token, &t.id),
            summary,
            now,
        )?;
        let notice = Notice {
            kind: Action::TokenCreated,
            verb: "created",
            by: creator_id,
            token: Some(&t),
            member: None,
            text: None,
        };
        self.notify(changes, org, members, &notice, now)?;
        Ok((secret, t))
    }

    /// `POST /v1/tokens`.
    ///
    /// A personal token belongs to the caller or, for an admin, to `owner_member_id` (any active
    /// member). `org` tokens are admin-only. The role may not exceed the caller's (403) nor the
    /// owner's (422). Over the personal limit: [`Error::LimitReached`], decided on the records
    /// in the same step that adds the token, so parallel creates cannot overshoot it.
    ///
    /// # Errors
    /// As above, plus [`Error::Validation`] and [`Error::Internal`].
    pub async fn create_token(&self, actor: &Actor, input: &NewTokenInput, now: Timestamp) -> Result<Issued> {
        actor.require(Access::Manage)?;
        // What the caller may not ask for is refused before any field is judged.
        if input.role.given().and_then(|r| Role::parse(r)).is_some_and(|r| r > actor.role) {
            return Err(Error::Forbidden(Denied::RoleAboveCaller));
        }
        if input.kind.given().and_then(|k| Kind::parse(k)) == Some(Kind::Org) {
            actor.require_admin("create org tokens")?;
        }
        let for_someone_else = match input.owner_member_id.given() {
            Some(owner) => owner != actor.member_id(),
            // An org token has no member of its own to make a personal token for.
            None => actor.member.is_none() && input.kind.given().is_some_and(|k| k == "personal"),
        };
        if for_someone_else && !actor.is_admin() {
            return Err(Error::Forbidden(Denied::OthersPersonalToken));
        }
        let may_grant = grantable(&actor.org.modules, &actor.token.scopes);
        // An org token names the owner of a personal token; said with the form's other faults.
        let wants_owner = actor.member.is_none()
            && input.kind.given().is_some_and(|k| k == "personal")
            && !input.owner_member_id.is_sent();
        let spec = match (validate::new_token(input, &may_grant, &actor.org.policy), wants_owner) {
            (Ok(spec), false) => spec,
            (checked, _) => {
                let mut errors = checked.err().unwrap_or_default();
                if wants_owner {
                    errors.entry("owner_member_id".into()).or_insert_with(|| OWNER_REQUIRED.into());
                }
                return Err(Error::Validation(errors));
            }
        };
        let owner = match spec.kind {
            Kind::Org => None,
            Kind::Personal => Some(self.owner_for_new_token(actor, spec.owner_member_id.as_deref()).await?),
        };
        if let Some(o) = &owner {
            if spec.role > role_ceiling(actor.role, Some(o.role)) {
                return Err(Error::field("role", "must not exceed the owner's role"));
            }
            if !personal_limit_allows(self.personal_count(&actor.org.id, &o.id).await?, &actor.org.policy) {
                return Err(Error::LimitReached { limit: actor.org.policy.max_personal_tokens });
            }
        }
        let members = self.repo.members(&actor.org.id).await?;
        let mut changes = Changes::new();
        let (secret, t) =
            self.issue(&mut changes, &actor.org, &members, Some(actor), actor.member_id(), spec, owner.as_ref(), now)?;
        self.commit(&changes, now).await?;
        let view = TokenView::new(&t, &directory(members), None, now);
        Ok(Issued { secret: secret.expose().to_owned(), token: view })
    }

    async fn owner_for_new_token(&self, actor: &Actor, requested: Option<&str>) -> Result<Member> {
        let own = actor.member.as_ref();
        match (requested, own) {
            (None, Some(me)) => Ok(me.clone()),
            (Some(id), Some(me)) if id == me.id => Ok(me.clone()),
            (_, _) if !actor.is_admin() => Err(Error::Forbidden(Denied::OthersPersonalToken)),
            (Some(id), _) => match self.repo.member(&actor.org.id, id).await? {
                Some(m) if m.is_active() => Ok(m),
                _ => Err(Error::field("owner_member_id", "is not an active member of the org")),
            },
            (None, _) => Err(Error::field("owner_member_id", "is required")),
        }
    }

    /// `GET /v1/tokens`: one page of tokens the caller reaches, filtered. A page may hold fewer
    /// tokens than were read (filters apply after the read); follow `cursor` until it is null.
    ///
    /// # Errors
    /// [`Error::Validation`] for a bad filter or cursor, [`Error::Internal`].
    pub async fn list_tokens(
        &self,
        actor: &Actor,
        q: &TokenQuery,
        now: Timestamp,
    ) -> Result<(Vec<TokenView>, Option<String>)> {
        actor.require(Access::Read)?;
        let filters = validate::token_filters(q.kind.as_deref(), q.status.as_deref(), q.owner.as_deref());
        let cursor_ok = q.cursor.as_deref().is_none_or(|c| cursor::is_tokens(&actor.org.id, c));
        let validate::TokenFilters { kind, status } = with_cursor(filters, cursor_ok)?;
        let page = self
            .repo
            .token_page(&actor.org.id, TOKEN_PAGE, q.cursor.as_deref())
            .await?
            .map_err(|_| Error::field("cursor", "is not a cursor from this listing"))?;
        let dir = directory(self.repo.members(&actor.org.id).await?);
        let used = self.edge.last_used_by_token(&actor.org.id).await?;
        let views = page
            .items
            .iter()
            .filter(|t| actor.reaches(t))
            .filter(|t| kind.is_none_or(|k| t.kind == k))
            .filter(|t| q.owner.as_deref().is_none_or(|o| t.owner_member_id.as_deref() == Some(o)))
            .filter(|t| status.is_none_or(|s| t.status(now, owner_active(t, &dir)) == s))
            .map(|t| TokenView::new(t, &dir, used.get(&t.id).copied(), now))
            .collect();
        Ok((views, page.cursor))
    }

    /// A token within reach, or 404.
    pub(super) async fn reachable(&self, actor: &Actor, id: &str) -> Result<Token> {
        if !is_id("tok_", id) {
            return Err(Error::NotFound);
        }
        match self.repo.token(&actor.org.id, id).await? {
            Some(t) if actor.reaches(&t) => Ok(t),
            _ => Err(Error::NotFound),
        }
    }

    /// A token within reach that the caller may change, rotate or delete: 404 outside reach, 403
    /// when its role or keyward access is above the caller's ([`may_act_on`]), so no token ever
    /// obtains a secret, or makes a token, more powerful than itself.
    async fn changeable(&self, actor: &Actor, id: &str) -> Result<Token> {
        let t = self.reachable(actor, id).await?;
        if may_act_on((actor.role, &actor.token.scopes), (t.role, &t.scopes)) {
            Ok(t)
        } else {
            Err(Error::Forbidden(Denied::TokenAboveCaller))
        }
    }

    /// The view of `t`, read after any commit (its last use comes from KV).
    async fn view(&self, t: &Token, now: Timestamp) -> Result<TokenView> {
        let dir = directory(self.repo.members(&t.org_id).await?);
        let last = self.edge.last_used(&t.org_id, &t.id).await?;
        Ok(TokenView::new(t, &dir, last, now))
    }

    /// `GET /v1/tokens/{id}`.
    ///
    /// # Errors
    /// [`Error::NotFound`] outside reach, [`Error::Internal`].
    pub async fn get_token(&self, actor: &Actor, id: &str, now: Timestamp) -> Result<TokenView> {
        actor.require(Access::Read)?;
        let t = self.reachable(actor, id).await?;
        self.view(&t, now).await
    }

    /// The changes that replace `before` with `after`: the record, its projection changes, an
    /// audit event and, when `verb` names a security-relevant change, notifications.
    #[allow(clippy::too_many_arguments)]
    async fn save(
        &self,
        actor: &Actor,
        before: &Token,
        after: &Token,
        action: Action,
        summary: String,
        verb: Option<&str>,
        now: Timestamp,
    ) -> Result<Changes> {
        let owner = self.owner_of(after).await?;
        let mut changes = Changes::new();
        changes.put_token(after)?;
        Self::remind(&mut changes, &actor.org, after, now);
        let p = projection::changes(Some((before, owner.as_ref())), Some((after, owner.as_ref())), now);
        changes.project(&p)?;
        self.audit(
            &mut changes,
            &after.org_id,
            Who::Caller(actor),
            action,
            (TargetType::Token, &after.id),
            summary,
            now,
        )?;
        if let Some(verb) = verb {
            let members = self.repo.members(&after.org_id).await?;
            let notice =
                Notice { kind: action, verb, by: actor.member_id(), token: Some(after), member: None, text: None };
            self.notify(&mut changes, &actor.org, &members, &notice, now)?;
        }
        Ok(changes)
    }

    /// `PATCH /v1/tokens/{id}`: label, description, logo, scopes, role.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::PreconditionFailed`], [`Error::Validation`],
    /// [`Error::Forbidden`] for a role above the caller's, [`Error::Internal`].
    pub async fn update_token(
        &self,
        actor: &Actor,
        id: &str,
        input: &TokenPatchInput,
        now: Timestamp,
    ) -> Result<TokenView> {
        actor.require(Access::Manage)?;
        let before = self.changeable(actor, id).await?;
        if input.role.given().and_then(|r| Role::parse(r)).is_some_and(|r| r > actor.role) {
            return Err(Error::Forbidden(Denied::RoleAboveCaller));
        }
        let patch = validate::token_patch(input, &grantable(&actor.org.modules, &actor.token.scopes))?;
        actor.precondition(before.version)?;
        let owner = self.owner_of(&before).await?;
        if let Some(role) = patch.role {
            if owner.as_ref().is_some_and(|o| role > o.role) {
                return Err(Error::field("role", "must not exceed the owner's role"));
            }
        }
        let mut t = before.clone();
        if let Some(l) = patch.label {
            t.label = l;
        }
        if let Some(d) = patch.description {
            t.description = d;
        }
        if let Some(l) = patch.logo {
            t.logo = l;
        }
        if let Some(s) = patch.scopes {
            t.scopes = s;
        }
        if let Some(r) = patch.role {
            t.role = r;
        }
        if let Some(c) = patch.allowed_cidrs {
            t.allowed_cidrs = c;
        }
        if t == before {
            return self.view(&t, now).await;
        }
        t.updated_at = now;
        t.version = before.version + 1;
        let summary = format!("Edited \"{}\": {}", t.label, changed_fields(&before, &t).join(", "));
        let access_changed =
            t.role != before.role || t.scopes != before.scopes || t.allowed_cidrs != before.allowed_cidrs;
        let verb = access_changed.then_some("edited");
        let changes = self.save(actor, &before, &t, Action::TokenUpdated, summary, verb, now).await?;
        self.commit(&changes, now).await?;
        self.view(&t, now).await
    }

    /// Disable, enable, revoke or re-approve a token. Revocation takes the typed label.
    /// `before` is the token as its caller read it, within reach and with the scope checked.
    async fn change_state(
        &self,
        actor: &Actor,
        before: Token,
        tr: Transition,
        confirm: Option<&str>,
        now: Timestamp,
    ) -> Result<TokenView> {
        actor.precondition(before.version)?;
        if let Some(typed) = confirm {
            if !confirm_label_matches(&before.label, typed) {
                return Err(Error::ConfirmationMismatch);
            }
        }
        let mut t = before.clone();
        // An admin's disable or revoke of a token a developer already disabled or revoked makes
        // that state the admin's; every other repeat is a conflict.
        let taken_over = takes_over(before.state, before.state_set_by, tr, actor.role);
        if !taken_over {
            t.state = check_transition(&t, tr, now)?;
        }
        t.updated_at = now;
        t.version = before.version + 1;
        let restricted = restricted_by(before.state, before.state_set_by, actor.role);
        let (action, verb) = match tr {
            Transition::Disable => {
                t.state_set_by = Some(restricted);
                (Action::TokenDisabled, "disabled")
            }
            Transition::Enable => {
                t.enabled_at = Some(now);
                (Action::TokenEnabled, "enabled")
            }
            Transition::Revoke => {
                if !taken_over {
                    t.revoked_at = Some(now);
                }
                t.state_set_by = Some(restricted);
                (Action::TokenRevoked, "revoked")
            }
            Transition::Reapprove => {
                t.revoked_at = None;
                t.enabled_at = Some(now);
                (Action::TokenReapproved, "re-approved")
            }
            Transition::Rotate | Transition::Delete => return Err(Error::Internal("not a state change".into())),
        };
        let summary = format!("{} \"{}\" ({})", capitalized(verb), t.label, t.masked());
        let changes = self.save(actor, &before, &t, action, summary, Some(verb), now).await?;
        self.commit(&changes, now).await?;
        self.view(&t, now).await
    }

    /// `POST /v1/tokens/{id}/disable`.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Validation`] for any field sent, [`Error::PreconditionFailed`],
    /// [`Error::Conflict`] unless active, [`Error::Internal`].
    pub async fn disable_token(
        &self,
        actor: &Actor,
        id: &str,
        input: &EmptyInput,
        now: Timestamp,
    ) -> Result<TokenView> {
        self.bodyless_change(actor, id, Transition::Disable, input, now).await
    }

    /// `POST /v1/tokens/{id}/enable`.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Forbidden`] for a developer undoing a disable not theirs,
    /// [`Error::Validation`] for any field sent, [`Error::PreconditionFailed`], [`Error::Conflict`]
    /// unless disabled, [`Error::Internal`].
    pub async fn enable_token(&self, actor: &Actor, id: &str, input: &EmptyInput, now: Timestamp) -> Result<TokenView> {
        self.bodyless_change(actor, id, Transition::Enable, input, now).await
    }

    /// `POST /v1/tokens/{id}/revoke` with `{confirm_label}`.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Validation`] without `confirm_label`,
    /// [`Error::ConfirmationMismatch`], [`Error::PreconditionFailed`], [`Error::Conflict`] when
    /// already revoked, [`Error::Internal`].
    pub async fn revoke_token(
        &self,
        actor: &Actor,
        id: &str,
        input: &ConfirmInput,
        now: Timestamp,
    ) -> Result<TokenView> {
        actor.require(Access::Manage)?;
        let before = self.changeable(actor, id).await?;
        let typed = validate::confirmation(input)?;
        self.change_state(actor, before, Transition::Revoke, Some(&typed), now).await
    }

    /// `POST /v1/tokens/{id}/reapprove`: only a revoked, unexpired token.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Forbidden`] for a developer undoing a revoke not theirs,
    /// [`Error::Validation`] for any field sent, [`Error::PreconditionFailed`], [`Error::Conflict`],
    /// [`Error::Internal`].
    pub async fn reapprove_token(
        &self,
        actor: &Actor,
        id: &str,
        input: &EmptyInput,
        now: Timestamp,
    ) -> Result<TokenView> {
        self.bodyless_change(actor, id, Transition::Reapprove, input, now).await
    }

    /// A transition without a body: the caller and the token first, then the (empty) input.
    async fn bodyless_change(
        &self,
        actor: &Actor,
        id: &str,
        tr: Transition,
        input: &EmptyInput,
        now: Timestamp,
    ) -> Result<TokenView> {
        actor.require(Access::Manage)?;
        let t = self.changeable(actor, id).await?;
        // Undoing a restriction that is not the caller's to undo is refused before the body is
        // judged (when the state allows the transition at all: else the conflict says why).
        let undo = matches!(tr, Transition::Enable | Transition::Reapprove) && check_transition(&t, tr, now).is_ok();
        if undo && !may_undo(t.state_set_by, actor.role) {
            return Err(Error::Forbidden(Denied::RestrictionNotYours));
        }
        validate::empty(input)?;
        self.change_state(actor, t, tr, None, now).await
    }

    /// `POST /v1/tokens/{id}/rotate` with `{grace_seconds?}`: a new secret, shown once; the
    /// old one verifies until the grace ends (at once with no grace). A secret still in grace
    /// from an earlier rotation stops at once: a token has one current secret and at most one in
    /// grace.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::PreconditionFailed`], [`Error::Validation`],
    /// [`Error::Conflict`] for revoked or expired tokens, [`Error::Internal`].
    pub async fn rotate_token(&self, actor: &Actor, id: &str, input: &RotateInput, now: Timestamp) -> Result<Issued> {
        actor.require(Access::Manage)?;
        let before = self.changeable(actor, id).await?;
        let grace = validate::rotate(input)?;
        actor.precondition(before.version)?;
        check_transition(&before, Transition::Rotate, now)?;
        let secret = Secret::generate(&self.prefix, &self.rng)?;
        let until = grace_end(now, grace);
        let mut t = before.clone();
        t.hash = secret.hash();
        t.hint = secret.hint().to_owned();
        t.prefix = secret.prefix().to_owned();
        t.rotated_at = Some(now);
        t.updated_at = now;
        t.previous_valid_until = until;
        t.previous_hash = until.map(|_| before.hash.clone());
        t.version = before.version + 1;
        let summary = format!(
            "Rotated \"{}\": {} replaces {}{}",
            t.label,
            t.masked(),
            before.masked(),
            until
                .map_or_else(|| ", old secret stopped at once".to_owned(), |u| format!(", old secret valid until {u}"))
        );
        let changes = self.save(actor, &before, &t, Action::TokenRotated, summary, Some("rotated"), now).await?;
        self.commit(&changes, now).await?;
        Ok(Issued { secret: secret.expose().to_owned(), token: self.view(&t, now).await? })
    }

    /// `DELETE /v1/tokens/{id}` with `{confirm_label}`: the record, its audit event and the
    /// deletion of every secret it projected, at once; gone for good.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::PreconditionFailed`], [`Error::Validation`],
    /// [`Error::ConfirmationMismatch`], [`Error::Internal`].
    pub async fn delete_token(&self, actor: &Actor, id: &str, input: &ConfirmInput, now: Timestamp) -> Result<()> {
        actor.require(Access::Manage)?;
        let t = self.changeable(actor, id).await?;
        if !may_delete(t.state, t.state_set_by, actor.role) {
            return Err(Error::Forbidden(Denied::RestrictedDelete));
        }
        let typed = validate::confirmation(input)?;
        actor.precondition(t.version)?;
        if !confirm_label_matches(&t.label, &typed) {
            return Err(Error::ConfirmationMismatch);
        }
        check_transition(&t, Transition::Delete, now)?;
        let owner = self.owner_of(&t).await?;
        let mut changes = Changes::new();
        changes.delete_token(&t.org_id, &t.id);
        changes.project(&projection::changes(Some((&t, owner.as_ref())), None, now))?;
        let summary = format!("Deleted \"{}\" ({})", t.label, t.masked());
        self.audit(
            &mut changes,
            &t.org_id,
            Who::Caller(actor),
            Action::TokenDeleted,
            (TargetType::Token, &t.id),
            summary,
            now,
        )?;
        let members = self.repo.members(&t.org_id).await?;
        let notice = Notice {
            kind: Action::TokenDeleted,
            verb: "deleted",
            by: actor.member_id(),
            token: Some(&t),
            member: None,
            text: None,
        };
        self.notify(&mut changes, &actor.org, &members, &notice, now)?;
        self.commit(&changes, now).await
    }
}

fn capitalized(verb: &str) -> String {
    let mut c = verb.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

fn changed_fields(a: &Token, b: &Token) -> Vec<&'static str> {
    let mut out = Vec::new();
    if a.label != b.label {
        out.push("label");
    }
    if a.description != b.description {
        out.push("description");
    }
    if a.logo != b.logo {
        out.push("logo");
    }
    if a.scopes != b.scopes {
        out.push("scopes");
    }
    if a.role != b.role {
        out.push("role");
    }
    if a.allowed_cidrs != b.allowed_cidrs {
        out.push("allowed networks");
    }
    out
}
