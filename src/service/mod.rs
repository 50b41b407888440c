//! The use cases of docs/API.md, written once against [`Store`] and tested natively on
//! [`crate::store::memory::MemoryStore`].
//!
//! Authorisation lives here, not in HTTP: objects outside the caller's reach are
//! [`Error::NotFound`]; actions inside reach but above the caller's role are [`Error::Forbidden`].
//! Every change writes an audit event naming the acting member **and** token.

mod checkpoints;
mod emails;
mod error;
mod exports;
mod imports;
mod json;
mod leaks;
mod listings;
mod members;
mod operator;
mod projection;
pub mod registry;
mod reminders;
mod schema;
mod sessions;
mod tokens;
mod usage;
mod verify;
pub mod views;
mod webhooks;

use core::cell::Cell;
use core::net::IpAddr;

use futures_util::lock::Mutex;

pub use emails::OutgoingEmail;
pub use error::{Conflict, Denied, Error};
pub use exports::{
    import_target, read_export, ExportedRecord, ImportPlan, OrgExport, OrgImported, EXPORT_FORMAT, EXPORT_VERSION,
    EXPORT_WARNING, KEYWARD_VERSION,
};
pub use json::{object, parse_json};
pub use leaks::Reporter;
pub use listings::AuditQuery;
pub use members::{Me, OrgCreated, Usage, FIRST_TOKEN_LABEL};
pub use operator::{Deleted, Erasure, Recovered, RECOVERY_TOKEN_LABEL, SWEEP_AFTER_S};
pub use projection::{Drained, Fix, Reconciled};
pub use reminders::Tick;
pub use schema::{
    migration_steps_from, schema_record, upgrade_records, Migrated, Migration, MigrationError, Rewrite, SchemaRecord,
    Step, MIGRATIONS, SCHEMA_VERSION,
};
pub use sessions::{SessionStarted, SessionView, SignInChoice};
pub use tokens::{Issued, TokenQuery};
pub use usage::{UsageCount, UsageReport, REPORT_MAX as USAGE_REPORT_MAX};
pub use verify::{
    client_ip, consistency, cost, cost_param, locate, lookup, verify, verify_body, Consistency, CreditsLeft,
    LimitState, Located, Lookup, Verification, VerifiedToken, VerifyRequest, EDGE_MAX_STALENESS_S,
};
pub use webhooks::{Outgoing, SinkAuthorization, WebhookSet};

use crate::domain::email::EmailState;
use crate::domain::lifecycle::{self, Outcome};
use crate::domain::meter::Meter;
use crate::domain::model::new_id;
use crate::domain::notice;
use crate::domain::policy::{self, Access};
use crate::domain::token::{parse, sha256_hex, Prefix};
use crate::domain::validate;
use crate::domain::{
    effective_role, ActedBy, Action, AuditEvent, Kind, Member, Notification, Org, RandomSource, Role, State,
    TargetType, Timestamp, Token,
};
use crate::store::{Changes, Edge, Kv, Repo, Store};

/// Result of a use case.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// The use cases of one org authority: its records, the KV it projects to, a random source and
/// the deployment's token prefix.
#[derive(Debug)]
pub struct Service<S, K, R> {
    repo: Repo<S>,
    edge: Edge<K>,
    rng: R,
    prefix: Prefix,
    /// Orders the audit events and notifications this instance writes within one millisecond.
    seq: Cell<u16>,
    /// One drainer of the projection outbox at a time, so two KV writes to one key never race.
    drain: Mutex<()>,
}

/// Which versions of a record a change may apply to, as the request named them (the server reads
/// them from `If-Match`; the service knows no HTTP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// Any current version (`If-Match: *`).
    Any,
    /// Only these versions; none at all when the request named none it could hold.
    Versions(Vec<u64>),
}

impl Precondition {
    /// Whether a record at `version` may be changed.
    #[must_use]
    pub fn allows(&self, version: u64) -> bool {
        match self {
            Self::Any => true,
            Self::Versions(v) => v.contains(&version),
        }
    }
}

/// How a caller is authenticated: with a token of its own, or as a member without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A token (`Actor::token`).
    Token,
    /// The operator, acting for `Actor::member` (`Keyward-Act-As`).
    Operator,
    /// The member's sign-in session (Cloudflare Access).
    Session,
}

/// Who is calling: an authenticated token, or a member acting without one (the operator acting
/// for them, or their sign-in session); its org, its member and the role it acts with; and the
/// request's precondition.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The caller's org.
    pub org: Org,
    /// The token that made the call; `None` for a member acting without one ([`Via`]).
    pub token: Option<Token>,
    /// How the caller is authenticated.
    pub via: Via,
    /// The owner of a personal token, or the member acting without one (active, or
    /// authentication would have failed).
    pub member: Option<Member>,
    /// Effective role: the lower of the token's and its owner's; a member's own without a token.
    pub role: Role,
    /// The request's precondition (`If-Match`), checked against the record a change applies to;
    /// `None`: unconditional.
    pub if_match: Option<Precondition>,
}

impl Actor {
    /// The member answerable for the call: the owner of a personal token, the creator of an org
    /// token, the member acting without a token.
    #[must_use]
    pub fn member_id(&self) -> &str {
        match (&self.member, &self.token) {
            (Some(m), _) => m.id.as_str(),
            (None, Some(t)) => t.created_by.as_str(),
            (None, None) => "",
        }
    }

    /// The scopes the caller holds: its token's; a member without a token holds their full
    /// authority over keyward (`keyward:manage`; their role bounds it), and no module scope,
    /// which only ever matters for what a token may do at a customer's service.
    #[must_use]
    pub fn scopes(&self) -> Vec<String> {
        match &self.token {
            Some(t) => t.scopes.clone(),
            None => vec![policy::KEYWARD_MANAGE.to_owned()],
        }
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

    /// The request's precondition against a record at `version`.
    fn precondition(&self, version: u64) -> Result<()> {
        match &self.if_match {
            Some(m) if !m.allows(version) => Err(Error::PreconditionFailed),
            _ => Ok(()),
        }
    }

    /// The caller's token must carry keyward's own scope for `access` (docs/ARCHITECTURE.md, "Authority"):
    /// without `keyward:read` or `keyward:manage` a token cannot use the admin API at all,
    /// whatever its role.
    ///
    /// # Errors
    /// [`Error::Forbidden`] naming the scope it lacks.
    pub fn require(&self, access: Access) -> Result<()> {
        if policy::access(&self.scopes()) >= Some(access) {
            return Ok(());
        }
        Err(Error::Forbidden(match access {
            Access::Read => Denied::NoKeywardScope,
            Access::Manage => Denied::ReadOnly,
        }))
    }

    /// `Ok` for an admin; `task` says what only admins may do ("change members").
    ///
    /// # Errors
    /// [`Error::Forbidden`] with [`Denied::AdminOnly`] for a developer.
    pub fn require_admin(&self, task: &'static str) -> Result<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Error::Forbidden(Denied::AdminOnly { task }))
        }
    }
}

/// The operator, authenticated: the one caller that may create orgs. Made only by
/// [`Operator::authenticate`], so a use case that takes one cannot run for anyone else.
#[derive(Debug)]
pub struct Operator(());

impl Operator {
    /// Whether `presented` is the deployment's operator secret `configured`, compared in constant
    /// time (on their SHA-256 digests, so lengths leak nothing either).
    ///
    /// # Errors
    /// [`Error::Unauthenticated`] without a configured secret (org creation is then disabled),
    /// without a presented one, or when they differ.
    pub fn authenticate(configured: Option<&str>, presented: Option<&str>) -> Result<Self> {
        use sha2::{Digest as _, Sha256};
        use subtle::ConstantTimeEq as _;
        let (Some(configured), Some(presented)) = (configured.filter(|c| !c.is_empty()), presented) else {
            return Err(Error::Unauthenticated);
        };
        if bool::from(Sha256::digest(configured.as_bytes()).ct_eq(&Sha256::digest(presented.as_bytes()))) {
            Ok(Self(()))
        } else {
            Err(Error::Unauthenticated)
        }
    }
}

/// What a notification reports: change `kind` (in words, `verb`) to a token or a member.
struct Notice<'a> {
    kind: Action,
    verb: &'a str,
    token: Option<&'a Token>,
    member: Option<&'a Member>,
    /// The body's first sentence, when "<who> <verb> the token … at <time>." does not fit (a
    /// warning rather than a change).
    text: Option<String>,
    /// Emailed at once whatever the org's email policy.
    urgent: bool,
}

/// `created_by` of a notification about a change made by a leak report (no member made it).
pub const REPORTER: &str = "report";
/// `created_by` of a notification keyward itself sends (reminders, idle tokens disabled).
pub const SYSTEM: &str = "system";

/// Who makes a change: the one representation of the actor, for its audit event (`acted_by`,
/// the member and token), its notifications (`created_by`, and the words "A leak report",
/// "keyward" or the member's name) and, for token changes, who holds a restriction.
#[derive(Clone, Copy)]
enum Who<'a> {
    /// A call made with a token.
    Caller(&'a Actor),
    /// The operator, making an org for `member` (its first admin, whom notifications name).
    Operator {
        /// The member the operator acts for.
        member: &'a str,
    },
    /// keyward itself.
    Keyward,
    /// A leak report.
    Report,
}

impl<'a> Who<'a> {
    const fn caller(self) -> Option<&'a Actor> {
        match self {
            Self::Caller(a) => Some(a),
            _ => None,
        }
    }

    /// `created_by` of the notifications it causes: a member id, [`REPORTER`] or [`SYSTEM`].
    fn by(self) -> &'a str {
        match self {
            Self::Caller(a) => a.member_id(),
            Self::Operator { member } => member,
            Self::Keyward => SYSTEM,
            Self::Report => REPORTER,
        }
    }

    /// Who makes a token change, as the lifecycle decides restrictions.
    const fn lifecycle(self) -> lifecycle::By {
        match self {
            Self::Caller(a) => lifecycle::By::Caller(a.role),
            Self::Operator { .. } => lifecycle::By::Caller(Role::Admin),
            Self::Keyward => lifecycle::By::Keyward,
            Self::Report => lifecycle::By::Report,
        }
    }

    fn acted_by(self) -> ActedBy {
        match self {
            Self::Caller(a) => match a.via {
                Via::Token => ActedBy::Token,
                Via::Operator => ActedBy::Operator,
                Via::Session => ActedBy::Session,
            },
            Self::Operator { .. } => ActedBy::Operator,
            Self::Keyward => ActedBy::Keyward,
            Self::Report => ActedBy::Report,
        }
    }
}

/// `checked`'s value, or every failed query parameter at once, a cursor not from the listing
/// (`cursor_ok` false) included.
fn with_cursor<T>(checked: core::result::Result<T, validate::FieldErrors>, cursor_ok: bool) -> Result<T> {
    match (checked, cursor_ok) {
        (Ok(value), true) => Ok(value),
        (checked, _) => {
            let mut errors = checked.err().unwrap_or_default();
            if !cursor_ok {
                errors.insert("cursor".into(), "is not a cursor from this listing".into());
            }
            Err(Error::Validation(errors))
        }
    }
}

impl<S: Store, K: Kv, R: RandomSource> Service<S, K, R> {
    /// The use cases over the records in `store` projecting to `kv`, drawing randomness from
    /// `rng`, issuing tokens with `prefix`.
    pub fn new(store: S, kv: K, rng: R, prefix: Prefix) -> Self {
        Self { repo: Repo::new(store), edge: Edge::new(kv), rng, prefix, seq: Cell::new(0), drain: Mutex::new(()) }
    }

    /// The same, reading verify entries through `cache` (the Worker's isolate cache).
    #[must_use]
    pub fn with_entry_cache(mut self, cache: Box<dyn crate::store::cache::EntryCache>) -> Self {
        self.edge = self.edge.with_cache(cache);
        self
    }

    /// Typed record access.
    pub const fn repo(&self) -> &Repo<S> {
        &self.repo
    }

    /// Typed KV access.
    pub const fn edge(&self) -> &Edge<K> {
        &self.edge
    }

    fn next_seq(&self) -> u16 {
        let s = self.seq.get();
        self.seq.set(s.wrapping_add(1));
        s
    }

    fn id(&self, prefix: &str) -> Result<String> {
        Ok(new_id(prefix, &self.rng)?)
    }

    /// Commit one use case's changes at once, then copy what they owe KV (see
    /// [`Service::project`]). A projection that fails here stays owed and is retried later; the
    /// change itself has happened.
    async fn commit(&self, changes: &Changes, now: Timestamp) -> Result<()> {
        // The audit events take their place in the chain first: what is sent about them
        // carries their `seq` and `hash`.
        let mut chained = changes.clone();
        self.repo.chain(&mut chained).await?;
        if chained.audited().next().is_some() {
            // The day's checkpoint is due once the day is over (`checkpoints`).
            chained.wake(crate::domain::audit::next_day(now));
        }
        let with_deliveries;
        let changes = if chained.events().is_empty() && chained.audited().next().is_none() {
            &chained
        } else {
            with_deliveries = self.with_deliveries(&chained, now).await?;
            &with_deliveries
        };
        // The commit carries when the authority must next wake (`Changes::wake`); the store's
        // owner sets its alarm from it, in the same step.
        self.repo.commit(changes).await?;
        // Failures stay in the outbox; the authority reports them (`Keyward-Projection: pending`)
        // and its alarm retries.
        let _ = self.project(now).await;
        Ok(())
    }

    /// Ask for a wake when `t`'s next reminder or credit refill may come (a lower bound: what was
    /// already sent is not known here, and an early wake only finds nothing to do).
    fn remind(changes: &mut Changes, org: &Org, t: &Token, now: Timestamp) {
        let idle = org.policy.disable_after_idle_days;
        if let Some(at) = crate::domain::reminder::next_due(t, &crate::domain::reminder::Watch::default(), idle, now) {
            changes.wake(at);
        }
        // A credit refill is due at the first refill moment after now, at the latest.
        if let Some(r) = t.credits.and_then(|c| c.refill) {
            changes.wake(r.next_after(now));
        }
    }

    /// Authenticate a presented bearer token against the records, strictly: it must be its
    /// token's **current** secret (a secret replaced by rotation only verifies during its grace;
    /// it cannot call the admin API), the token active and unexpired, and its owner active, right
    /// now, and `client` (the connecting address) inside its network allowlist if it has one.
    /// `at` says where the edge found it (its verify entry).
    ///
    /// # Errors
    /// [`Error::Unauthenticated`] for anything but a usable token; [`Error::Internal`] on storage failure.
    pub async fn authenticate(
        &self,
        presented: &str,
        at: &Located,
        client: Option<IpAddr>,
        now: Timestamp,
    ) -> Result<Actor> {
        parse(presented).map_err(|_| Error::Unauthenticated)?;
        let hash = sha256_hex(presented);
        let token = self.repo.token(&at.org_id, &at.token_id).await?.ok_or(Error::Unauthenticated)?;
        // A key brought from elsewhere never reaches keyward itself, even rotated into a keyward
        // secret: it had a life outside keyward, and its customers' services are what it is for.
        if token.hash != hash || token.state != State::Active || token.is_expired(now) || token.imported {
            return Err(Error::Unauthenticated);
        }
        if !crate::domain::cidr::allows(&token.allowed_cidrs, client) {
            return Err(Error::Unauthenticated);
        }
        let org = self.repo.org(&token.org_id).await?.ok_or(Error::Unauthenticated)?;
        if org.is_suspended() {
            return Err(Error::Forbidden(Denied::OrgSuspended));
        }
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
        Ok(Actor { org, token: Some(token), via: Via::Token, member, role, if_match: None })
    }

    /// Authenticate a member acting without a token of their own, `via` the operator
    /// (`Keyward-Act-As`, the operator already authenticated) or their sign-in session (already
    /// checked by the caller): they act with exactly their own rights, their role's.
    ///
    /// # Errors
    /// [`Error::Unauthenticated`] when `member` is not an active member of `org` (or `org` does
    /// not exist); [`Error::Forbidden`] when the org is suspended; [`Error::Internal`] on storage
    /// failure.
    pub async fn authenticate_member(&self, org: &str, member: &str, via: Via) -> Result<Actor> {
        if via == Via::Token || !crate::domain::model::is_id("mem_", member) {
            return Err(Error::Unauthenticated);
        }
        let org = self.repo.org(org).await?.filter(|o| !o.is_deleted()).ok_or(Error::Unauthenticated)?;
        let m = self.repo.member(&org.id, member).await?.ok_or(Error::Unauthenticated)?;
        if !m.is_active() {
            return Err(Error::Unauthenticated);
        }
        if org.is_suspended() {
            return Err(Error::Forbidden(Denied::OrgSuspended));
        }
        let role = m.role;
        Ok(Actor { org, token: None, via, member: Some(m), role, if_match: None })
    }

    /// An audit event of `actor` (`None`: the operator).
    fn event(
        &self,
        who: Who<'_>,
        action: Action,
        target_type: TargetType,
        target_id: &str,
        summary: String,
        now: Timestamp,
    ) -> Result<AuditEvent> {
        Ok(AuditEvent {
            id: self.id("evt_")?,
            at: now,
            action,
            actor_member_id: who.caller().map(|a| a.member_id().to_owned()),
            actor_token_id: who.caller().and_then(|a| a.token.as_ref()).map(|t| t.id.clone()),
            acted_by: Some(who.acted_by()),
            target_type,
            target_id: target_id.to_owned(),
            summary,
            seq: None,
            hash: None,
        })
    }

    /// Add an audit event to `changes`.
    #[allow(clippy::too_many_arguments)]
    fn audit(
        &self,
        changes: &mut Changes,
        org: &str,
        who: Who<'_>,
        action: Action,
        target: (TargetType, &str),
        summary: String,
        now: Timestamp,
    ) -> Result<()> {
        let e = self.event(who, action, target.0, target.1, summary, now)?;
        changes.audit(org, e);
        Ok(())
    }

    /// Tell people about a security-relevant change: one notification to every active admin
    /// of `members`, plus one to the owner of a personal token someone else changed (once per
    /// person). `by` is the member who made the change.
    fn notify(
        &self,
        changes: &mut Changes,
        org: &Org,
        members: &[Member],
        actor: Who<'_>,
        n: &Notice<'_>,
        now: Timestamp,
    ) -> Result<()> {
        let by = actor.by();
        let who = match actor {
            Who::Report => "A leak report".to_owned(),
            Who::Keyward => "keyward".to_owned(),
            _ => members
                .iter()
                .find(|m| m.id == by)
                .map_or_else(|| "The operator".to_owned(), |m| format!("{} <{}>", m.name, m.email)),
        };
        let owner = n.token.and_then(|t| t.owner_member_id.as_deref()).filter(|o| *o != by);
        let to = members.iter().filter(|m| m.is_active() && (m.role == Role::Admin || Some(m.id.as_str()) == owner));
        let about = match (n.token, n.member) {
            (Some(t), _) => notice::About::Token(t),
            (None, Some(m)) => notice::About::Member(m),
            (None, None) => return Ok(()),
        };
        let words = notice::Notice { org: &org.name, who: &who, verb: n.verb, about, text: n.text.as_deref(), at: now };
        let (subject, body) = notice::written(&words);
        for r in to {
            let note = Notification {
                id: self.id("ntf_")?,
                kind: n.kind,
                to: r.email.clone(),
                subject: subject.clone(),
                body: body.clone(),
                token_id: n.token.map(|t| t.id.clone()),
                created_by: by.to_owned(),
                created_at: now,
                masked: n.token.map(Token::masked),
                email: (org.policy.email_notifications || n.urgent).then(|| EmailState::pending(now)),
                urgent: n.urgent,
            };
            if note.email.is_some() {
                changes.wake(now);
            }
            changes.notify(&org.id, &note, self.next_seq())?;
        }
        let kind = n.kind.as_str();
        let data = notice::event_data(&org.id, kind, &words, by);
        changes.event(crate::store::Event { org: org.id.clone(), kind: kind.to_owned(), data });
        Ok(())
    }

    /// Record a token change in one commit: the record (or its deletion), when it next needs a
    /// reminder, what KV owes, the audit event and, when the change is security-relevant, the
    /// notifications (and with them the webhook event and the emails). Every use case that
    /// changes a token goes through here (or [`Service::record_into`], to share a commit).
    async fn record(
        &self,
        who: Who<'_>,
        org: &Org,
        before: Option<&Token>,
        outcome: &Outcome,
        now: Timestamp,
    ) -> Result<()> {
        let token = outcome.after.as_ref().or(before).ok_or_else(|| Error::Internal("no token to record".into()))?;
        let owner = self.owner_of(token).await?;
        let members = if outcome.notice.is_some() { self.repo.members(&org.id).await? } else { Vec::new() };
        let meter = match outcome.meter {
            Some(_) => Some(self.repo.meter(&crate::store::keys::balance_of(token)).await?),
            None => None,
        };
        let mut changes = Changes::new();
        self.record_into(&mut changes, (who, org, &members), before, owner.as_ref(), outcome, meter.as_ref(), now)?;
        self.commit(&changes, now).await
    }

    /// [`Service::record`]'s writes added to `changes`, for use cases that commit several at once
    /// or whose owner and members are not stored yet. `members` are those to notify (unused when
    /// the outcome tells nobody); `owner` is the token's owner as the change leaves it; `meter`
    /// the token's meter before a change to it (`None`: a new token's, empty).
    #[allow(clippy::too_many_arguments)]
    fn record_into(
        &self,
        changes: &mut Changes,
        (who, org, members): (Who<'_>, &Org, &[Member]),
        before: Option<&Token>,
        owner: Option<&Member>,
        outcome: &Outcome,
        meter: Option<&Meter>,
        now: Timestamp,
    ) -> Result<()> {
        let token = outcome.after.as_ref().or(before).ok_or_else(|| Error::Internal("no token to record".into()))?;
        match &outcome.after {
            Some(t) => {
                changes.put_token(t)?;
                Self::remind(changes, org, t, now);
            }
            None => changes.delete_token(&token.org_id, &token.id),
        }
        if let Some(change) = outcome.meter {
            let after = change.apply(meter.cloned().unwrap_or_default(), now);
            changes.put_meter(crate::store::keys::balance_of(token), &after)?;
        }
        let side = (owner, org.is_suspended());
        let after = outcome.after.as_ref().map(|t| (t, side));
        let projected = crate::domain::projection::changes(before.map(|b| (b, side)), after, now);
        changes.project(&projected)?;
        let target = (TargetType::Token, token.id.as_str());
        self.audit(changes, &org.id, who, outcome.action, target, outcome.summary.clone(), now)?;
        if let Some(n) = &outcome.notice {
            let notice = Notice {
                kind: outcome.action,
                verb: &n.verb,
                token: Some(token),
                member: None,
                text: n.text.clone(),
                urgent: n.urgent,
            };
            self.notify(changes, org, members, who, &notice, now)?;
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
