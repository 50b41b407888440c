//! The use cases of API.md, written once against [`Store`] and tested natively on
//! [`crate::store::memory::MemoryStore`].
//!
//! Authorisation lives here, not in HTTP: objects outside the caller's reach are
//! [`Error::NotFound`]; actions inside reach but above the caller's role are [`Error::Forbidden`].
//! Every change writes an audit event naming the acting member **and** token.

mod error;
mod members;
mod tokens;
mod verify;
pub mod views;

use core::cell::Cell;

use serde_json::{Map, Value};

pub use error::Error;
pub use members::{Me, OrgCreated, Usage, FIRST_TOKEN_LABEL};
pub use tokens::{Issued, TokenQuery};
pub use verify::{verify, Verification, VerifiedToken};

use crate::domain::model::new_id;
use crate::domain::token::{parse, sha256_hex, Prefix};
use crate::domain::{
    effective_role, verdict, Action, AuditEvent, Code, Kind, Member, Notification, Org, RandomSource, Role, State,
    TargetType, Timestamp, Token, VerifyEntry,
};
use crate::store::{Repo, Store};

/// Result of a use case.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// The use cases over one store, one random source and the deployment's token prefix.
#[derive(Debug)]
pub struct Service<S, R> {
    repo: Repo<S>,
    rng: R,
    prefix: Prefix,
    /// Orders the audit events and notifications this instance writes within one millisecond.
    seq: Cell<u16>,
}

/// Who is calling: an authenticated token, its org, its owner (personal tokens) and the role it
/// acts with.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The caller's org.
    pub org: Org,
    /// The token that made the call.
    pub token: Token,
    /// The owner of a personal token (active, or authentication would have failed).
    pub member: Option<Member>,
    /// Effective role: the lower of the token's and its owner's.
    pub role: Role,
}

impl Actor {
    /// The member answerable for the call: the owner of a personal token, the creator of an org token.
    #[must_use]
    pub fn member_id(&self) -> &str {
        self.member.as_ref().map_or(self.token.created_by.as_str(), |m| m.id.as_str())
    }

    /// Whether the caller acts as an admin.
    #[must_use]
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether `t` is within reach: admins reach every token of their org, developers only
    /// their own personal tokens.
    #[must_use]
    pub fn reaches(&self, t: &Token) -> bool {
        t.org_id == self.org.id
            && (self.is_admin()
                || (t.kind == Kind::Personal
                    && self.member.as_ref().is_some_and(|m| t.owner_member_id.as_deref() == Some(m.id.as_str()))))
    }

    fn require_admin(&self, what: &'static str) -> Result<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Error::Forbidden(what))
        }
    }
}

/// The JSON body as an object, or 400.
///
/// # Errors
/// [`Error::BadRequest`] when the body is not a JSON object.
pub fn object(body: &Value) -> Result<&Map<String, Value>> {
    body.as_object().ok_or(Error::BadRequest("the body must be a JSON object"))
}

/// The verify entry that represents `t` (owned by `owner`) right now.
fn entry_for(t: &Token, owner: Option<&Member>) -> VerifyEntry {
    VerifyEntry {
        token_id: t.id.clone(),
        org_id: t.org_id.clone(),
        kind: t.kind,
        owner_member_id: t.owner_member_id.clone(),
        role: effective_role(t.kind, t.role, owner.map(|m| m.role)),
        scopes: t.scopes.clone(),
        state: t.state,
        owner_active: t.kind == Kind::Org || owner.is_some_and(Member::is_active),
        expires_at: t.expires_at,
        grace_until: None,
    }
}

impl<S: Store, R: RandomSource> Service<S, R> {
    /// The use cases over `store`, drawing randomness from `rng`, issuing tokens with `prefix`.
    pub const fn new(store: S, rng: R, prefix: Prefix) -> Self {
        Self { repo: Repo::new(store), rng, prefix, seq: Cell::new(0) }
    }

    /// Typed storage access.
    pub const fn repo(&self) -> &Repo<S> {
        &self.repo
    }

    fn next_seq(&self) -> u16 {
        let s = self.seq.get();
        self.seq.set(s.wrapping_add(1));
        s
    }

    fn id(&self, prefix: &str) -> Result<String> {
        Ok(new_id(prefix, &self.rng)?)
    }

    /// Authenticate a presented bearer token: it must verify `VALID`, and its record, org and
    /// owner must agree right now (so a change is felt at once by the API even while KV
    /// propagates).
    ///
    /// # Errors
    /// [`Error::Unauthenticated`] for anything but a usable token; [`Error::Internal`] on storage failure.
    pub async fn authenticate(&self, presented: &str, now: Timestamp) -> Result<Actor> {
        parse(presented).map_err(|_| Error::Unauthenticated)?;
        let hash = sha256_hex(presented);
        let entry = self.repo.verify_entry(&hash).await?.ok_or(Error::Unauthenticated)?;
        if verdict::<&str>(Some(&entry), now, &[]) != Code::Valid {
            return Err(Error::Unauthenticated);
        }
        let token = self.repo.token(&entry.org_id, &entry.token_id).await?.ok_or(Error::Unauthenticated)?;
        let in_grace = token.previous_hash.as_deref() == Some(hash.as_str())
            && token.previous_valid_until.is_some_and(|g| now < g);
        if (token.hash != hash && !in_grace) || token.state != State::Active || token.is_expired(now) {
            return Err(Error::Unauthenticated);
        }
        let org = self.repo.org(&token.org_id).await?.ok_or(Error::Unauthenticated)?;
        let member = match (&token.kind, &token.owner_member_id) {
            (Kind::Personal, Some(owner)) => {
                let m = self.repo.member(&org.id, owner).await?.ok_or(Error::Unauthenticated)?;
                if !m.is_active() {
                    return Err(Error::Unauthenticated);
                }
                Some(m)
            }
            (Kind::Personal, None) => return Err(Error::Unauthenticated),
            (Kind::Org, _) => None,
        };
        let role = effective_role(token.kind, token.role, member.as_ref().map(|m| m.role));
        Ok(Actor { org, token, member, role })
    }

    /// Append an audit event; `actor` `None` is the operator.
    #[allow(clippy::too_many_arguments)]
    async fn audit(
        &self,
        org: &str,
        actor: Option<&Actor>,
        action: Action,
        target_type: TargetType,
        target_id: &str,
        summary: String,
        now: Timestamp,
    ) -> Result<()> {
        let event = AuditEvent {
            id: self.id("evt_")?,
            at: now,
            action,
            actor_member_id: actor.map(|a| a.member_id().to_owned()),
            actor_token_id: actor.map(|a| a.token.id.clone()),
            target_type,
            target_id: target_id.to_owned(),
            summary,
        };
        Ok(self.repo.put_audit(org, &event, self.next_seq()).await?)
    }

    /// One notification per active admin: who made (or rotated) which token, when, masked.
    async fn notify_admins(&self, org: &Org, t: &Token, creator_id: &str, verb: &str, now: Timestamp) -> Result<()> {
        let members = self.repo.members(&org.id).await?;
        let creator = members.iter().find(|m| m.id == creator_id);
        let who = creator.map_or_else(|| creator_id.to_owned(), |m| format!("{} <{}>", m.name, m.email));
        let masked = t.masked();
        for admin in members.iter().filter(|m| m.role == Role::Admin && m.is_active()) {
            let n = Notification {
                id: self.id("ntf_")?,
                to: admin.email.clone(),
                subject: format!("[{}] API token \"{}\" {verb}", org.name, t.label),
                body: format!(
                    "{who} {verb} the {} {} token \"{}\" ({masked}) at {}.\nExpires: {}.\nIf this was not expected, revoke it in keyward.",
                    t.kind.as_str(),
                    t.role.as_str(),
                    t.label,
                    now,
                    t.expires_at.map_or_else(|| "never".to_owned(), |e| e.to_string()),
                ),
                token_id: t.id.clone(),
                created_by: creator_id.to_owned(),
                created_at: now,
                masked: masked.clone(),
            };
            self.repo.put_notification(&org.id, &n, self.next_seq()).await?;
        }
        Ok(())
    }

    /// Write the verify entries of `t`: the current secret's and, while its grace lasts, the
    /// previous one's.
    async fn write_entries(&self, t: &Token, owner: Option<&Member>, now: Timestamp) -> Result<()> {
        let entry = entry_for(t, owner);
        self.repo.put_verify_entry(&t.hash, &entry, now).await?;
        if let (Some(prev), Some(until)) = (&t.previous_hash, t.previous_valid_until) {
            if now < until {
                let old = VerifyEntry { grace_until: Some(until), ..entry };
                self.repo.put_verify_entry(prev, &old, now).await?;
            }
        }
        Ok(())
    }

    /// The owner of a personal token, if any.
    async fn owner_of(&self, t: &Token) -> Result<Option<Member>> {
        match &t.owner_member_id {
            Some(o) => Ok(self.repo.member(&t.org_id, o).await?),
            None => Ok(None),
        }
    }
}
