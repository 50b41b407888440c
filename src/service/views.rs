//! What the API answers with: stored records turned into docs/API.md's shapes (times as RFC 3339).
//! No view ever carries a secret or a hash.

use std::collections::HashMap;

use serde::Serialize;

use crate::domain::email::SendState;
use crate::domain::meter::{Meter, RateLimit, Refill};
use crate::domain::webhook::{Delivery, DeliveryState, Webhook};
use crate::domain::{
    Action, Kind, Member, MemberStatus, Notification, Org, Policy, Role, SetBy, State, Status, Timestamp, Token,
};

fn ts(t: Timestamp) -> String {
    t.to_rfc3339()
}

fn ts_opt(t: Option<Timestamp>) -> Option<String> {
    t.map(Timestamp::to_rfc3339)
}

/// An org.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OrgView {
    /// `org_…`
    pub id: String,
    /// Name.
    pub name: String,
    /// The scopes tokens may carry.
    pub modules: Vec<String>,
    /// Token rules.
    pub policy: Policy,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339: when the operator suspended it; null when it is not suspended.
    pub suspended_at: Option<String>,
    /// The record's version (answered as `ETag`, not in the body).
    #[serde(skip)]
    pub version: u64,
}

impl From<&Org> for OrgView {
    fn from(o: &Org) -> Self {
        Self {
            id: o.id.clone(),
            name: o.name.clone(),
            modules: o.modules.clone(),
            policy: o.policy.clone(),
            created_at: ts(o.created_at),
            suspended_at: ts_opt(o.suspended_at),
            version: o.version,
        }
    }
}

/// A member.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MemberView {
    /// `mem_…`
    pub id: String,
    /// The org.
    pub org_id: String,
    /// Email.
    pub email: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// `active` or `deactivated`.
    pub status: MemberStatus,
    /// RFC 3339.
    pub created_at: String,
    /// The record's version (answered as `ETag`, not in the body).
    #[serde(skip)]
    pub version: u64,
}

impl From<&Member> for MemberView {
    fn from(m: &Member) -> Self {
        Self {
            id: m.id.clone(),
            org_id: m.org_id.clone(),
            email: m.email.clone(),
            name: m.name.clone(),
            role: m.role,
            status: m.status,
            created_at: ts(m.created_at),
            version: m.version,
        }
    }
}

/// `{id, email, name}` of a member named by a token.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MemberRef {
    /// `mem_…`
    pub id: String,
    /// Email.
    pub email: String,
    /// Name.
    pub name: String,
}

/// Members by id, to name owners and creators.
pub type Directory = HashMap<String, Member>;

/// Index members by id.
#[must_use]
pub fn directory(members: Vec<Member>) -> Directory {
    members.into_iter().map(|m| (m.id.clone(), m)).collect()
}

fn member_ref(dir: &Directory, id: &str) -> MemberRef {
    dir.get(id).map_or_else(
        || MemberRef { id: id.to_owned(), email: String::new(), name: String::new() },
        |m| MemberRef { id: m.id.clone(), email: m.email.clone(), name: m.name.clone() },
    )
}

/// Whether the owner of a token is active (org tokens: always true).
#[must_use]
pub fn owner_active(t: &Token, dir: &Directory) -> bool {
    match (&t.kind, &t.owner_member_id) {
        (Kind::Personal, Some(o)) => dir.get(o).is_some_and(Member::is_active),
        (Kind::Personal, None) => false,
        (Kind::Org, _) => true,
    }
}

/// A token as docs/API.md's "token view": never the secret or its hash.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TokenView {
    /// `tok_…`
    pub id: String,
    /// Personal or org.
    pub kind: Kind,
    /// Label.
    pub label: String,
    /// Description.
    pub description: Option<String>,
    /// Logo data URL.
    pub logo: Option<String>,
    /// Granted role.
    pub role: Role,
    /// Scopes.
    pub scopes: Vec<String>,
    /// CIDR blocks it may be used from (empty: anywhere).
    pub allowed_cidrs: Vec<String>,
    /// `kw_••••••••3f9A`
    pub masked: String,
    /// Prefix.
    pub prefix: String,
    /// Last four characters.
    pub hint: String,
    /// Brought from elsewhere (`POST /v1/tokens/import`) rather than issued by keyward.
    pub imported: bool,
    /// The org's own data about what the token serves.
    pub meta: Option<serde_json::Map<String, serde_json::Value>>,
    /// The org's own id for the customer or app the token serves.
    pub external_id: Option<String>,
    /// At most `limit` valid verifications per `period_s` (null: no limit).
    pub ratelimit: Option<RateLimit>,
    /// Credits left and their refill (null: not metered by credits).
    pub credits: Option<CreditsView>,
    /// Derived status.
    pub status: Status,
    /// Stored state.
    pub state: State,
    /// Who made the last disable or revoke: `admin`, `developer`, `system` or `report` (null
    /// when never disabled or revoked). Only an admin may undo one not made by a developer.
    pub state_set_by: Option<SetBy>,
    /// Owner of a personal token.
    pub owner: Option<MemberRef>,
    /// Creator.
    pub created_by: MemberRef,
    /// Token that made the create call; null for the operator.
    pub created_with: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// RFC 3339, or null for a non-expiring org token.
    pub expires_at: Option<String>,
    /// RFC 3339.
    pub last_used_at: Option<String>,
    /// RFC 3339.
    pub revoked_at: Option<String>,
    /// RFC 3339.
    pub rotated_at: Option<String>,
    /// RFC 3339: end of the grace of the secret replaced by the last rotation.
    pub previous_valid_until: Option<String>,
    /// The record's version (answered as `ETag`, not in the body).
    #[serde(skip)]
    pub version: u64,
}

/// A token's `credits` as the view shows them.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct CreditsView {
    /// Credits left now (a refill due by now counted in).
    pub remaining: u32,
    /// When and to what they are refilled (null: never).
    pub refill: Option<Refill>,
    /// One balance for the org's tokens of this token's `external_id` (present only when true).
    #[serde(skip_serializing_if = "core::ops::Not::not")]
    pub shared: bool,
}

impl TokenView {
    /// Build the view of `t` at `now`; `meter` is its meter (read for tokens with credits).
    #[must_use]
    pub fn new(
        t: &Token,
        dir: &Directory,
        last_used: Option<Timestamp>,
        meter: Option<&Meter>,
        now: Timestamp,
    ) -> Self {
        let credits = t.credits.map(|c| CreditsView {
            remaining: meter.cloned().unwrap_or_default().refilled(&t.plan(), now).remaining.unwrap_or(0),
            refill: c.refill,
            shared: c.shared,
        });
        Self {
            id: t.id.clone(),
            kind: t.kind,
            label: t.label.clone(),
            description: t.description.clone(),
            logo: t.logo.clone(),
            role: t.role,
            scopes: t.scopes.clone(),
            allowed_cidrs: t.allowed_cidrs.clone(),
            masked: t.masked(),
            prefix: t.prefix.clone(),
            hint: t.hint.clone(),
            imported: t.imported,
            meta: t.meta.clone(),
            external_id: t.external_id.clone(),
            ratelimit: t.ratelimit,
            credits,
            status: t.status(now, owner_active(t, dir)),
            state: t.state,
            state_set_by: t.state_set_by,
            owner: t.owner_member_id.as_deref().map(|o| member_ref(dir, o)),
            created_by: member_ref(dir, &t.created_by),
            created_with: t.created_with.clone(),
            created_at: ts(t.created_at),
            updated_at: ts(t.updated_at),
            expires_at: ts_opt(t.expires_at),
            last_used_at: ts_opt(last_used),
            revoked_at: ts_opt(t.revoked_at),
            rotated_at: ts_opt(t.rotated_at),
            previous_valid_until: ts_opt(t.previous_valid_until.filter(|g| *g > now)),
            version: t.version,
        }
    }
}

/// An audit event in its public form: `seq` and `hash` say its place in the org's chain.
pub use crate::domain::audit::Line as AuditEventView;

/// A notification.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NotificationView {
    /// `ntf_…`
    pub id: String,
    /// The audited action it reports (`token.created`, `member.updated`, …).
    pub kind: Action,
    /// The recipient's email.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// Token concerned (null for a change to a member).
    pub token_id: Option<String>,
    /// Member id of whoever made the change.
    pub created_by: String,
    /// RFC 3339.
    pub created_at: String,
    /// Masked token (null for a change to a member).
    pub masked: Option<String>,
    /// Its email (null when the org did not email it).
    pub email: Option<EmailView>,
}

/// Where a notification's email stands.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EmailView {
    /// `pending`, `sent` or `failed`.
    pub state: SendState,
    /// Attempts made.
    pub attempts: u32,
    /// Why the last attempt failed (null once sent).
    pub last_error: Option<String>,
    /// When the next attempt is due (null once sent or given up).
    pub next_attempt_at: Option<String>,
}

impl From<&Notification> for NotificationView {
    fn from(n: &Notification) -> Self {
        Self {
            id: n.id.clone(),
            kind: n.kind,
            to: n.to.clone(),
            subject: n.subject.clone(),
            body: n.body.clone(),
            token_id: n.token_id.clone(),
            created_by: n.created_by.clone(),
            created_at: ts(n.created_at),
            masked: n.masked.clone(),
            email: n.email.as_ref().map(|e| EmailView {
                state: e.state,
                attempts: e.attempts,
                last_error: e.last_error.clone(),
                next_attempt_at: ts_opt(e.next_attempt_at),
            }),
        }
    }
}

/// The org's webhook endpoint (never its secret: only the masked form).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WebhookView {
    /// Where events are POSTed.
    pub url: String,
    /// The event kinds it gets (`["*"]`: all).
    pub events: Vec<String>,
    /// `whsec_••••••••abcd`.
    pub masked_secret: String,
    /// RFC 3339.
    pub created_at: String,
    /// When the secret was last rotated.
    pub rotated_at: Option<String>,
    /// Until when the secret replaced by the last rotation still signs.
    pub previous_valid_until: Option<String>,
}

impl WebhookView {
    /// `w` as seen at `now` (`previous_valid_until` only while the old secret still signs).
    #[must_use]
    pub fn at(w: &Webhook, now: Timestamp) -> Self {
        Self {
            url: w.url.clone(),
            events: w.events.clone(),
            masked_secret: w.masked_secret(),
            created_at: ts(w.created_at),
            rotated_at: ts_opt(w.rotated_at),
            previous_valid_until: ts_opt(w.previous_valid_until.filter(|until| now < *until)),
        }
    }
}

/// The org's audit sink (never its token: only the masked form).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditSinkView {
    /// `splunk_hec`.
    pub kind: crate::domain::sink::SinkKind,
    /// Where audit events are POSTed.
    pub url: String,
    /// `••••••••abcd`.
    pub token_masked: String,
    /// RFC 3339.
    pub created_at: String,
}

impl From<&crate::domain::sink::AuditSink> for AuditSinkView {
    fn from(s: &crate::domain::sink::AuditSink) -> Self {
        Self { kind: s.kind, url: s.url.clone(), token_masked: s.masked_token(), created_at: ts(s.created_at) }
    }
}

/// One attempt of a delivery.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AttemptView {
    /// RFC 3339.
    pub at: String,
    /// The endpoint's HTTP status, if it answered.
    pub response_code: Option<u16>,
    /// Why it failed (null when delivered); never the response body.
    pub error: Option<String>,
}

/// One event sent (or being sent) to the org's webhook.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DeliveryView {
    /// `msg_…` (the `webhook-id` header).
    pub id: String,
    /// The event kind.
    #[serde(rename = "type")]
    pub kind: String,
    /// `pending`, `delivered` or `failed`.
    pub state: DeliveryState,
    /// RFC 3339.
    pub created_at: String,
    /// When the next attempt is due (null once delivered or given up).
    pub next_attempt_at: Option<String>,
    /// Every attempt, oldest first.
    pub attempts: Vec<AttemptView>,
    /// The body sent, as JSON.
    pub payload: serde_json::Value,
}

impl From<&Delivery> for DeliveryView {
    fn from(d: &Delivery) -> Self {
        Self {
            id: d.id.clone(),
            kind: d.kind.clone(),
            state: d.state,
            created_at: ts(d.created_at),
            next_attempt_at: ts_opt(d.next_attempt_at),
            attempts: d
                .attempts
                .iter()
                .map(|a| AttemptView { at: ts(a.at), response_code: a.response_code, error: a.error.clone() })
                .collect(),
            payload: serde_json::from_str(&d.payload).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// One day of a token's usage.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UsageDay {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    /// Verifications answered `VALID`.
    pub valid: u64,
    /// Verifications of this token answered with any other code.
    pub refused: u64,
    /// Of `refused`: answered `RATE_LIMITED`.
    pub rate_limited: u64,
    /// Of `refused`: answered `USAGE_EXCEEDED`.
    pub usage_exceeded: u64,
}

/// `GET /v1/tokens/{id}/usage`: the last 30 days, oldest first, today last.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UsageView {
    /// 30 entries.
    pub days: Vec<UsageDay>,
}

/// One token's usage in `GET /v1/usage`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TokenUsageView {
    /// The token.
    pub token_id: String,
    /// 30 entries, oldest first.
    pub days: Vec<UsageDay>,
}
