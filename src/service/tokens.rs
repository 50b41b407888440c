//! Tokens: create, list, read, edit, disable, enable, revoke, re-approve, rotate, delete.
//!
//! Each use case decides who may ask (reach, keyward scopes, the role ceiling), checks the body
//! and `If-Match`, lets [`lifecycle::apply`] say what the change is, and records it with
//! [`Service::record`]: the record, its audit event, its notifications and the verify-projection
//! changes, all at once. KV follows the records, never the other way round.

use std::collections::BTreeMap;

use serde::Serialize;

use super::views::{directory, owner_active, TokenView};
use super::{with_cursor, Actor, Denied, Error, Result, Service, Who};

use crate::domain::lifecycle::{self, apply, Change};
use crate::domain::meter::{shared_mismatch, Meter, Plan};
use crate::domain::policy::{
    self, check_transition, expires_at, grantable, may_act_on, may_delete, may_undo, personal_limit_allows,
    role_ceiling, Access, Transition,
};
use crate::domain::token::Secret;
use crate::domain::validate::{
    self, confirm_label_matches, ConfirmInput, EmptyInput, NewToken, NewTokenInput, RotateInput, TokenPatchInput,
};
use crate::domain::{model::is_id, Kind, Member, Org, RandomSource, Role, State, Timestamp, Token};
use crate::store::{cursor, keys, Changes, Kv, Store};

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
    /// Only tokens with this `external_id`.
    pub external_id: Option<String>,
    /// Where to continue.
    pub cursor: Option<String>,
}

/// What an org token creating a personal token without naming its owner is told.
const OWNER_REQUIRED: &str = "is required when an org token creates a personal token";

/// Keys read per `GET /v1/tokens` page.
pub const TOKEN_PAGE: u32 = 100;

impl<S: Store, K: Kv, R: RandomSource> Service<S, K, R> {
    /// A new token from a validated spec, added to `changes` with its projection, audit event
    /// and one notification per active admin of `members` ([`Service::record_into`]). `who` made
    /// it: a caller, or the operator (first admin token). Returns the secret and the record.
    pub(super) fn issue(
        &self,
        changes: &mut Changes,
        (who, org, members): (Who<'_>, &Org, &[Member]),
        spec: NewToken,
        owner: Option<&Member>,
        now: Timestamp,
    ) -> Result<(Secret, Token)> {
        let balance = spec.credits.and_then(|c| c.remaining);
        let (secret, t) = self.mint(who, org, spec, owner, now)?;
        let outcome = lifecycle::created(&t, owner.map(|m| m.email.as_str()), balance);
        self.record_into(changes, (who, org, members), None, owner, &outcome, None, now)?;
        Ok((secret, t))
    }

    /// A new token from `spec` and its new secret, made by `who` in `org` for `owner`, not yet
    /// recorded: the caller records it with the lifecycle outcome that fits.
    pub(super) fn mint(
        &self,
        who: Who<'_>,
        org: &Org,
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
            created_by: who.by().to_owned(),
            created_with: who.caller().and_then(|a| a.token.as_ref()).map(|t| t.id.clone()),
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
            imported: false,
            meta: spec.meta,
            external_id: spec.external_id,
            ratelimit: spec.ratelimit,
            credits: spec.credits.map(|c| c.plan(None)),
            version: 1,
        };
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
    pub async fn create_token(&self, actor: &Actor, input: NewTokenInput, now: Timestamp) -> Result<Issued> {
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
        let may_grant = grantable(&actor.org.modules, &actor.scopes());
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
        let plan = Plan { ratelimit: spec.ratelimit, credits: spec.credits.map(|c| c.plan(None)) };
        self.shared_check(actor, None, spec.external_id.as_deref(), &plan).await?;
        if let Some(x) = spec.external_id.as_deref().filter(|_| spec.credits.is_some_and(|c| c.remaining.is_none())) {
            if self.repo.meter(&keys::shared_meter(&actor.org.id, x)).await?.remaining.is_none() {
                return Err(Error::field(
                    "credits.remaining",
                    &format!("is required: no token of {x} holds a shared balance yet"),
                ));
            }
        }
        let members = self.repo.members(&actor.org.id).await?;
        let mut changes = Changes::new();
        let (secret, t) =
            self.issue(&mut changes, (Who::Caller(actor), &actor.org, &members), spec, owner.as_ref(), now)?;
        self.commit(&changes, now).await?;
        let meter = self.meter_of(&t).await?;
        let view = TokenView::new(&t, &directory(members), None, meter.as_ref(), now);
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
        let mut filters = validate::token_filters(q.kind.as_deref(), q.status.as_deref(), q.owner.as_deref());
        if let Some(why) = q.external_id.as_deref().and_then(validate::external_id_problem) {
            let mut errors = filters.err().unwrap_or_default();
            errors.insert("external_id".into(), why);
            filters = Err(errors);
        }
        let cursor_ok = q.cursor.as_deref().is_none_or(|c| cursor::is_tokens(&actor.org.id, c));
        let validate::TokenFilters { kind, status } = with_cursor(filters, cursor_ok)?;
        let page = self
            .repo
            .token_page(&actor.org.id, TOKEN_PAGE, q.cursor.as_deref())
            .await?
            .map_err(|_| Error::field("cursor", "is not a cursor from this listing"))?;
        let dir = directory(self.repo.members(&actor.org.id).await?);
        let used = self.edge.last_used_by_token(&actor.org.id).await?;
        let credited = |shared| page.items.iter().any(|t| t.credits.is_some_and(|c| c.shared == shared));
        let own = if credited(false) { self.repo.meters(&actor.org.id).await? } else { BTreeMap::new() };
        let shared = if credited(true) { self.repo.shared_meters(&actor.org.id).await? } else { BTreeMap::new() };
        let balance = |t: &Token| match (t.credits.is_some_and(|c| c.shared), &t.external_id) {
            (true, Some(x)) => shared.get(x),
            _ => own.get(&t.id),
        };
        let views = page
            .items
            .iter()
            .filter(|t| actor.reaches(t))
            .filter(|t| kind.is_none_or(|k| t.kind == k))
            .filter(|t| q.owner.as_deref().is_none_or(|o| t.owner_member_id.as_deref() == Some(o)))
            .filter(|t| q.external_id.is_none() || t.external_id == q.external_id)
            .filter(|t| status.is_none_or(|s| t.status(now, owner_active(t, &dir)) == s))
            .map(|t| TokenView::new(t, &dir, used.get(&t.id).copied(), balance(t), now))
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
        if may_act_on((actor.role, &actor.scopes()), (t.role, &t.scopes)) {
            Ok(t)
        } else {
            Err(Error::Forbidden(Denied::TokenAboveCaller))
        }
    }

    /// The view of `t`, read after any commit (its last use comes from KV).
    async fn view(&self, t: &Token, now: Timestamp) -> Result<TokenView> {
        let dir = directory(self.repo.members(&t.org_id).await?);
        let last = self.edge.last_used(&t.org_id, &t.id).await?;
        let meter = self.meter_of(t).await?;
        Ok(TokenView::new(t, &dir, last, meter.as_ref(), now))
    }

    /// 422 unless a token of `org` (`me`, or a new one) with `plan` and `external_id` may share
    /// what it shares: it needs an `external_id`, and the limit and the refill it shares must be
    /// those of the other tokens sharing them.
    async fn shared_check(
        &self,
        actor: &Actor,
        me: Option<&str>,
        external_id: Option<&str>,
        plan: &Plan,
    ) -> Result<()> {
        let shares_limit = plan.ratelimit.is_some_and(|l| l.shared);
        if !shares_limit && !plan.credits.is_some_and(|c| c.shared) {
            return Ok(());
        }
        let Some(x) = external_id else {
            let field = if shares_limit { "ratelimit.shared" } else { "credits.shared" };
            return Err(Error::field(field, validate::SHARED_NEEDS_EXTERNAL_ID));
        };
        let shares = |p: Plan| {
            (shares_limit && p.ratelimit.is_some_and(|l| l.shared))
                || (plan.credits.is_some_and(|c| c.shared) && p.credits.is_some_and(|c| c.shared))
        };
        for other in self.repo.tokens(&actor.org.id).await? {
            if other.external_id.as_deref() != Some(x) || Some(other.id.as_str()) == me {
                continue;
            }
            // Joining a window or a balance is spending and setting it for every token in it: only
            // a caller who may change each of them may join (a developer cannot drain or top up
            // the balance of org tokens it cannot even see).
            if shares(other.plan()) && !actor.reaches(&other) {
                return Err(Error::Forbidden(Denied::SharedBeyondReach));
            }
            if let Some(field) = shared_mismatch(plan, &other.plan()) {
                return Err(Error::field(
                    field,
                    &format!("must be the same as on {}, which shares it ({x})", other.id),
                ));
            }
        }
        Ok(())
    }

    /// The meter of a token with credits (what its view shows of it), or `None`.
    pub(super) async fn meter_of(&self, t: &Token) -> Result<Option<Meter>> {
        match t.credits {
            Some(_) => Ok(Some(self.repo.meter(&keys::balance_of(t)).await?)),
            None => Ok(None),
        }
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

    /// `PATCH /v1/tokens/{id}`: label, description, logo, scopes, role.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::PreconditionFailed`], [`Error::Validation`],
    /// [`Error::Forbidden`] for a role above the caller's, [`Error::Internal`].
    pub async fn update_token(
        &self,
        actor: &Actor,
        id: &str,
        input: TokenPatchInput,
        now: Timestamp,
    ) -> Result<TokenView> {
        actor.require(Access::Manage)?;
        let before = self.changeable(actor, id).await?;
        if input.role.given().and_then(|r| Role::parse(r)).is_some_and(|r| r > actor.role) {
            return Err(Error::Forbidden(Denied::RoleAboveCaller));
        }
        let patch = validate::token_patch(input, &grantable(&actor.org.modules, &actor.scopes()))?;
        if before.imported && patch.scopes.as_ref().is_some_and(|s| policy::access(s).is_some()) {
            return Err(Error::field("scopes", validate::IMPORTED_KEYWARD_SCOPES));
        }
        if before.credits.is_none() && patch.credits.flatten().is_some_and(|c| c.remaining.is_none()) {
            return Err(Error::field("credits.remaining", "is required when the token has no credits yet"));
        }
        actor.precondition(before.version)?;
        // What the edit would make of a shared limit or balance, checked against the other
        // tokens of its external_id before anything is recorded.
        if let Some(after) =
            apply(&before, Change::Edit(&patch), Who::Caller(actor).lifecycle(), now)?.and_then(|o| o.after)
        {
            self.shared_check(actor, Some(&after.id), after.external_id.as_deref(), &after.plan()).await?;
        }
        let owner = self.owner_of(&before).await?;
        if let Some(role) = patch.role {
            if owner.as_ref().is_some_and(|o| role > o.role) {
                return Err(Error::field("role", "must not exceed the owner's role"));
            }
        }
        self.change(actor, &before, Change::Edit(&patch), now).await
    }

    /// Apply `change` to `before` as the caller (reach, scope, role, body and `If-Match` already
    /// checked), record it, and answer the token's view after it.
    async fn change(&self, actor: &Actor, before: &Token, change: Change<'_>, now: Timestamp) -> Result<TokenView> {
        let who = Who::Caller(actor);
        let Some(outcome) = apply(before, change, who.lifecycle(), now)? else { return self.view(before, now).await };
        self.record(who, &actor.org, Some(before), &outcome, now).await?;
        match &outcome.after {
            Some(t) => self.view(t, now).await,
            None => Err(Error::Internal("a change that deletes has no view".into())),
        }
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
        actor.precondition(before.version)?;
        if !confirm_label_matches(&before.label, &typed) {
            return Err(Error::ConfirmationMismatch);
        }
        self.change(actor, &before, Change::Revoke, now).await
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
        actor.precondition(t.version)?;
        let change = match tr {
            Transition::Disable => Change::Disable,
            Transition::Enable => Change::Enable,
            _ => Change::Reapprove,
        };
        self.change(actor, &t, change, now).await
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
        let secret = Secret::generate(&self.prefix, &self.rng)?;
        let rotate = Change::Rotate { secret: &secret, grace_seconds: grace };
        let who = Who::Caller(actor);
        let outcome =
            apply(&before, rotate, who.lifecycle(), now)?.ok_or_else(|| Error::Internal("no rotation".into()))?;
        self.record(who, &actor.org, Some(&before), &outcome, now).await?;
        let after = outcome.after.as_ref().ok_or_else(|| Error::Internal("a rotation keeps its token".into()))?;
        Ok(Issued { secret: secret.expose().to_owned(), token: self.view(after, now).await? })
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
        let who = Who::Caller(actor);
        let outcome =
            apply(&t, Change::Delete, who.lifecycle(), now)?.ok_or_else(|| Error::Internal("no delete".into()))?;
        self.record(who, &actor.org, Some(&t), &outcome, now).await
    }
}
