//! The records keyward keeps, and the values derived from them.
//!
//! These are the stored shapes (JSON in KV). The HTTP views are built from them in `service`.

use serde::{Deserialize, Serialize};

use super::random::{push_base62, RandomError, RandomSource};
use super::time::Timestamp;
use super::token::mask_parts;

/// Length of the random part of an id.
pub const ID_RANDOM_LEN: usize = 20;

/// A new opaque id: `prefix` (e.g. `tok_`) followed by 20 base62 characters.
///
/// # Errors
/// [`RandomError`] when the random source fails.
pub fn new_id(prefix: &str, rng: &dyn RandomSource) -> Result<String, RandomError> {
    let mut s = String::with_capacity(prefix.len() + ID_RANDOM_LEN);
    s.push_str(prefix);
    push_base62(rng, ID_RANDOM_LEN, &mut s)?;
    Ok(s)
}

/// Whether `s` looks like an id with this prefix (cheap guard before any storage read).
#[must_use]
pub fn is_id(prefix: &str, s: &str) -> bool {
    s.strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == ID_RANDOM_LEN && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// What a member or a token may do. `Developer < Admin`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Own personal tokens only.
    Developer,
    /// Everything in the org.
    Admin,
}

impl Role {
    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Developer => "developer",
            Self::Admin => "admin",
        }
    }

    /// Parse the wire name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "developer" => Some(Self::Developer),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// Who owns a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Owned by one member; dies with the member's account.
    Personal,
    /// Owned by the org; survives its creator.
    Org,
}

impl Kind {
    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Personal => "personal",
            Self::Org => "org",
        }
    }

    /// Parse the wire name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "personal" => Some(Self::Personal),
            "org" => Some(Self::Org),
            _ => None,
        }
    }
}

/// The stored lifecycle state of a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Verifies (if unexpired and its owner is active).
    Active,
    /// Temporarily off; `enable` brings it back.
    Disabled,
    /// Off until re-approved (possible while unexpired).
    Revoked,
}

/// The status shown to people, derived from state, expiry and owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Usable.
    Active,
    /// Disabled by someone.
    Disabled,
    /// Revoked by someone.
    Revoked,
    /// Past `expires_at`.
    Expired,
    /// A personal token whose owner is deactivated.
    OwnerDeactivated,
}

impl Status {
    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
            Self::OwnerDeactivated => "owner_deactivated",
        }
    }

    /// Parse the wire name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Active, Self::Disabled, Self::Revoked, Self::Expired, Self::OwnerDeactivated]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// Who made a token's last disable or revoke. Only an admin may undo a state set by anyone but
/// a developer (docs/ARCHITECTURE.md, "Authority").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetBy {
    /// A caller acting as an admin.
    Admin,
    /// A caller acting as a developer (on their own token).
    Developer,
    /// keyward itself (a policy, such as idle tokens).
    System,
    /// A leaked-token report.
    Report,
}

/// Whether a member may act.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    /// Can sign in; their personal tokens verify.
    Active,
    /// Their personal tokens fail with `OWNER_DEACTIVATED`.
    Deactivated,
}

/// Per-org rules for tokens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Personal tokens one member may hold (every token that exists counts until deleted).
    pub max_personal_tokens: u32,
    /// Lifetime when a create names none.
    pub default_ttl_days: u32,
    /// Longest lifetime a create may ask for.
    pub max_ttl_days: u32,
    /// Whether org tokens may be created with `never_expires`.
    pub allow_non_expiring_org_tokens: bool,
    /// What a leak report of a live token does.
    #[serde(default)]
    pub on_leak: OnLeak,
    /// Disable tokens unused for this many days (`None`: never).
    #[serde(default)]
    pub disable_after_idle_days: Option<u32>,
    /// Whether notifications are emailed to their recipients.
    #[serde(default = "yes")]
    pub email_notifications: bool,
}

const fn yes() -> bool {
    true
}

/// What keyward does with a live token found leaked (a secret-scanning report).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnLeak {
    /// Revoke it at once (`state_set_by: report`), and tell its owner and the admins.
    #[default]
    Revoke,
    /// Only tell its owner and the admins.
    Notify,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            max_personal_tokens: 10,
            default_ttl_days: 30,
            max_ttl_days: 365,
            allow_non_expiring_org_tokens: false,
            on_leak: OnLeak::Revoke,
            disable_after_idle_days: None,
            email_notifications: true,
        }
    }
}

/// An organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    /// `org_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// The scopes tokens of this org may carry.
    pub modules: Vec<String>,
    /// Token rules.
    pub policy: Policy,
    /// When it was created.
    pub created_at: Timestamp,
    /// Grows with every change (the `ETag`).
    #[serde(default)]
    pub version: u64,
    /// When the operator suspended it (`None`: not suspended): its tokens verify
    /// `ORG_SUSPENDED` and its admin API answers 403 until the operator resumes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended_at: Option<Timestamp>,
    /// When the operator deleted it (`None`: not deleted). A deleted org's tokens are gone from
    /// its records at once; the record itself stays only until KV has dropped every entry it
    /// projected, then the whole org is erased and only the registry's tombstone is left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<Timestamp>,
}

impl Org {
    /// Whether the operator has deleted it (its erasure may still be under way).
    #[must_use]
    pub const fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// Whether the operator has suspended it.
    #[must_use]
    pub const fn is_suspended(&self) -> bool {
        self.suspended_at.is_some()
    }
}

/// A person in an org.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// `mem_…`
    pub id: String,
    /// The org.
    pub org_id: String,
    /// Unique in the org, compared case-insensitively; stored as given.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// Active or deactivated.
    pub status: MemberStatus,
    /// When they were added.
    pub created_at: Timestamp,
    /// Grows with every change (the `ETag`).
    #[serde(default)]
    pub version: u64,
}

impl Member {
    /// Whether the member is active.
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.status == MemberStatus::Active
    }
}

/// A token record. The secret itself is never kept: only its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    /// `tok_…`
    pub id: String,
    /// The org.
    pub org_id: String,
    /// Personal or org.
    pub kind: Kind,
    /// Owner of a personal token.
    pub owner_member_id: Option<String>,
    /// The member who created it.
    pub created_by: String,
    /// The token that made the create call; `None` for the operator.
    pub created_with: Option<String>,
    /// Short name.
    pub label: String,
    /// Longer text.
    pub description: Option<String>,
    /// `data:image/…;base64,…`
    pub logo: Option<String>,
    /// Granted role (the effective role may be lower, see [`effective_role`]).
    pub role: Role,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// CIDR blocks it may be used from (normalised); empty: anywhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_cidrs: Vec<String>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
    /// End of life; `None` only for non-expiring org tokens.
    pub expires_at: Option<Timestamp>,
    /// Lifecycle state.
    pub state: State,
    /// When it was last revoked.
    pub revoked_at: Option<Timestamp>,
    /// Who made the last disable or revoke (`None`: never disabled or revoked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_set_by: Option<SetBy>,
    /// Last four characters of the current secret.
    pub hint: String,
    /// Prefix of the current secret.
    pub prefix: String,
    /// When the secret was last rotated.
    pub rotated_at: Option<Timestamp>,
    /// Until when the secret replaced by the last rotation still verifies.
    pub previous_valid_until: Option<Timestamp>,
    /// When it was last enabled or re-approved (restarts the idle clock, see
    /// [`super::reminder::idle_since`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled_at: Option<Timestamp>,
    /// `sha256` hex of the current secret (the key of its verify entry). Empty in list rows.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hash: String,
    /// `sha256` hex of the secret replaced by the last rotation, while it is in grace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_hash: Option<String>,
    /// Grows with every change (the `ETag`).
    #[serde(default)]
    pub version: u64,
    /// Brought from elsewhere (`POST /v1/tokens/import`): keyward never saw its first secret,
    /// only the hash, and its `prefix` is empty until a rotation issues a keyward secret.
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub imported: bool,
    /// The org's own data about what the token serves (a JSON object, at most 1 KiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<serde_json::Map<String, serde_json::Value>>,
    /// The org's own id for the customer or app the token serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// At most `limit` valid verifications per `period_s` ([`crate::domain::meter`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratelimit: Option<crate::domain::meter::RateLimit>,
    /// Usage credits: the refill plan (the balance is the token's meter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits: Option<crate::domain::meter::CreditPlan>,
}

impl Token {
    /// What its verifications are metered by.
    #[must_use]
    pub const fn plan(&self) -> crate::domain::meter::Plan {
        crate::domain::meter::Plan { ratelimit: self.ratelimit, credits: self.credits }
    }

    /// The masked form of the current secret.
    #[must_use]
    pub fn masked(&self) -> String {
        if self.prefix.is_empty() {
            // An imported key: its own prefix was never seen, only the hint it came with.
            return format!("{}{}", crate::domain::token::MASK, self.hint);
        }
        mask_parts(&self.prefix, &self.hint)
    }

    /// Whether `now` is at or past the expiry.
    #[must_use]
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|e| now >= e)
    }

    /// The status shown to people (see [`derive_status`]).
    #[must_use]
    pub fn status(&self, now: Timestamp, owner_active: bool) -> Status {
        derive_status(self.state, self.kind, self.expires_at, owner_active, now)
    }
}

/// `expired` if now ≥ expires_at; else `owner_deactivated` for a personal token whose owner is
/// deactivated; else the state.
///
/// # Example
/// ```
/// use keyward::domain::{derive_status, Kind, State, Status, Timestamp};
/// let now = Timestamp::from_millis(1_000);
/// assert_eq!(derive_status(State::Revoked, Kind::Personal, Some(now), true, now), Status::Expired);
/// assert_eq!(derive_status(State::Active, Kind::Org, None, false, now), Status::Active);
/// ```
#[must_use]
pub fn derive_status(
    state: State,
    kind: Kind,
    expires_at: Option<Timestamp>,
    owner_active: bool,
    now: Timestamp,
) -> Status {
    if expires_at.is_some_and(|e| now >= e) {
        Status::Expired
    } else if kind == Kind::Personal && !owner_active {
        Status::OwnerDeactivated
    } else {
        match state {
            State::Active => Status::Active,
            State::Disabled => Status::Disabled,
            State::Revoked => Status::Revoked,
        }
    }
}

/// The role a token acts with: for a personal token the lower of its role and its owner's
/// current role; for an org token its own role.
#[must_use]
pub fn effective_role(kind: Kind, token_role: Role, owner_role: Option<Role>) -> Role {
    match (kind, owner_role) {
        (Kind::Personal, Some(owner)) => token_role.min(owner),
        // A personal token with no known owner gets the least power.
        (Kind::Personal, None) => Role::Developer,
        (Kind::Org, _) => token_role,
    }
}

/// What the verification path reads: one KV value per live secret, keyed by its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyEntry {
    /// The token.
    pub token_id: String,
    /// Its org.
    pub org_id: String,
    /// Personal or org.
    pub kind: Kind,
    /// Owner of a personal token.
    pub owner_member_id: Option<String>,
    /// Effective role at the time of the last write.
    pub role: Role,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Lifecycle state.
    pub state: State,
    /// Whether the owner (personal tokens) is active.
    pub owner_active: bool,
    /// Expiry of the token.
    pub expires_at: Option<Timestamp>,
    /// For a secret replaced by rotation: when its grace ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_until: Option<Timestamp>,
    /// CIDR blocks the token may be used from; empty: anywhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_cidrs: Vec<String>,
    /// The token's `meta`, answered with a valid verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<serde_json::Map<String, serde_json::Value>>,
    /// The token's `external_id`, answered with a valid verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// It has a rate limit or credits: only its org's authority may answer for it.
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub metered: bool,
    /// Its org is suspended by the operator.
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub org_suspended: bool,
}

/// The audited actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Action {
    /// An org was created by the operator.
    #[serde(rename = "org.created")]
    OrgCreated,
    /// Name, modules or policy changed.
    #[serde(rename = "org.updated")]
    OrgUpdated,
    /// A member was added.
    #[serde(rename = "member.created")]
    MemberCreated,
    /// A member's name, role or status changed.
    #[serde(rename = "member.updated")]
    MemberUpdated,
    /// A token was created.
    #[serde(rename = "token.created")]
    TokenCreated,
    /// A token was edited.
    #[serde(rename = "token.updated")]
    TokenUpdated,
    /// A token was disabled.
    #[serde(rename = "token.disabled")]
    TokenDisabled,
    /// A token was enabled.
    #[serde(rename = "token.enabled")]
    TokenEnabled,
    /// A token was revoked.
    #[serde(rename = "token.revoked")]
    TokenRevoked,
    /// A revoked token was re-approved.
    #[serde(rename = "token.reapproved")]
    TokenReapproved,
    /// A token's secret was rotated.
    #[serde(rename = "token.rotated")]
    TokenRotated,
    /// A token was deleted.
    #[serde(rename = "token.deleted")]
    TokenDeleted,
    /// A live token was reported leaked, and the org's policy says only to tell people.
    #[serde(rename = "token.leaked")]
    TokenLeaked,
    /// A token expires soon (a warning, not a change: notified, never audited).
    #[serde(rename = "token.expiring")]
    TokenExpiring,
    /// A token will soon be disabled for being unused (a warning: notified, never audited).
    #[serde(rename = "token.idle")]
    TokenIdle,
    /// A token reached its rate limit (notified once per window, never audited).
    #[serde(rename = "token.limited")]
    TokenLimited,
    /// A token ran out of credits (notified once per refill, never audited).
    #[serde(rename = "token.credits_exhausted")]
    TokenCreditsExhausted,
    /// The day's audit checkpoint: the chain's head, sent out (never audited itself).
    #[serde(rename = "audit.checkpoint")]
    AuditCheckpoint,
}

impl Action {
    /// Every action the audit log records (warnings are notified, never audited), in the order
    /// the page offers them as filters.
    pub const AUDITED: [Self; 13] = [
        Self::OrgCreated,
        Self::OrgUpdated,
        Self::MemberCreated,
        Self::MemberUpdated,
        Self::TokenCreated,
        Self::TokenUpdated,
        Self::TokenDisabled,
        Self::TokenEnabled,
        Self::TokenRevoked,
        Self::TokenReapproved,
        Self::TokenRotated,
        Self::TokenDeleted,
        Self::TokenLeaked,
    ];

    /// The wire name, e.g. `token.created`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrgCreated => "org.created",
            Self::OrgUpdated => "org.updated",
            Self::MemberCreated => "member.created",
            Self::MemberUpdated => "member.updated",
            Self::TokenCreated => "token.created",
            Self::TokenUpdated => "token.updated",
            Self::TokenDisabled => "token.disabled",
            Self::TokenEnabled => "token.enabled",
            Self::TokenRevoked => "token.revoked",
            Self::TokenReapproved => "token.reapproved",
            Self::TokenRotated => "token.rotated",
            Self::TokenDeleted => "token.deleted",
            Self::TokenLeaked => "token.leaked",
            Self::TokenExpiring => "token.expiring",
            Self::TokenIdle => "token.idle",
            Self::TokenLimited => "token.limited",
            Self::TokenCreditsExhausted => "token.credits_exhausted",
            Self::AuditCheckpoint => "audit.checkpoint",
        }
    }
}

/// Who made an audited change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActedBy {
    /// A call made with a token (`actor_token_id`; `actor_member_id` for a personal one).
    Token,
    /// The operator: org creation, or acting for `actor_member_id` (`Keyward-Act-As`).
    Operator,
    /// keyward itself (the idle-token policy).
    Keyward,
    /// A leak report (a secret-scanning partner, or someone holding the secret).
    Report,
    /// `actor_member_id` in a sign-in session, without a token (Cloudflare Access).
    Session,
}

/// What an audit event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetType {
    /// The org.
    Org,
    /// A member.
    Member,
    /// A token.
    Token,
}

/// One audited change. Never holds a secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// `evt_…`
    pub id: String,
    /// When.
    pub at: Timestamp,
    /// What.
    pub action: Action,
    /// The member who acted (`None`: the operator).
    pub actor_member_id: Option<String>,
    /// The token that made the call (`None`: the operator).
    pub actor_token_id: Option<String>,
    /// Who acted; absent in events written before it was recorded (then: a token if
    /// `actor_token_id` is set, else the operator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acted_by: Option<ActedBy>,
    /// Kind of object changed.
    pub target_type: TargetType,
    /// Its id.
    pub target_id: String,
    /// One line for people; never a secret.
    pub summary: String,
    /// Its place in the org's audit chain, from 1 (`None` until the commit that writes it
    /// chains it: `domain::audit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// Its chain hash (`domain::audit::append`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

/// One message to one person (an admin, or a token's owner), waiting in the outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// `ntf_…`
    pub id: String,
    /// The audited action it reports.
    pub kind: Action,
    /// The admin's email.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body: creator, time, masked token.
    pub body: String,
    /// The token concerned (`None` for a change to a member).
    pub token_id: Option<String>,
    /// The member who made the change.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
    /// The masked token (`None` for a change to a member).
    pub masked: Option<String>,
    /// Its email, when the org emails notifications (`None`: not emailed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<super::sending::EmailState>,
    /// Emailed whatever the org's email policy says, then or later (a recovery token: nobody in
    /// the org asked for it, so turning emails off must not hide it).
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub urgent: bool,
}

#[cfg(test)]
mod tests {
    use super::super::random::testing::SeqRandom;
    use super::*;

    #[test]
    fn ids_have_prefix_and_length() {
        let rng = SeqRandom::new(1);
        let id = new_id("tok_", &rng).unwrap();
        assert!(id.starts_with("tok_"));
        assert_eq!(id.len(), 24);
        assert!(is_id("tok_", &id));
        assert!(!is_id("mem_", &id));
        assert!(!is_id("tok_", "tok_short"));
        assert!(!is_id("tok_", "tok_../../../../etc/passwdxx"));
        assert_ne!(id, new_id("tok_", &rng).unwrap());
    }

    #[test]
    fn role_order_and_effective_role() {
        assert!(Role::Developer < Role::Admin);
        assert_eq!(effective_role(Kind::Personal, Role::Admin, Some(Role::Developer)), Role::Developer);
        assert_eq!(effective_role(Kind::Personal, Role::Admin, Some(Role::Admin)), Role::Admin);
        assert_eq!(effective_role(Kind::Personal, Role::Developer, Some(Role::Admin)), Role::Developer);
        assert_eq!(effective_role(Kind::Personal, Role::Admin, None), Role::Developer);
        assert_eq!(effective_role(Kind::Org, Role::Admin, None), Role::Admin);
    }

    #[test]
    fn status_derivation_order() {
        let now = Timestamp::from_millis(10_000);
        let later = Some(now.plus_seconds(1));
        let past = Some(now);
        // expired beats everything
        assert_eq!(derive_status(State::Revoked, Kind::Personal, past, false, now), Status::Expired);
        // owner_deactivated beats state for personal tokens only
        assert_eq!(derive_status(State::Revoked, Kind::Personal, later, false, now), Status::OwnerDeactivated);
        assert_eq!(derive_status(State::Disabled, Kind::Org, later, false, now), Status::Disabled);
        assert_eq!(derive_status(State::Active, Kind::Personal, later, true, now), Status::Active);
        assert_eq!(derive_status(State::Revoked, Kind::Org, None, true, now), Status::Revoked);
    }

    /// A policy stored before emails existed emails (the default), and turns the idle policy off.
    #[test]
    fn policies_stored_before_new_fields_get_their_defaults() {
        let old = r#"{"max_personal_tokens":10,"default_ttl_days":30,"max_ttl_days":365,"allow_non_expiring_org_tokens":false}"#;
        let p: Policy = serde_json::from_str(old).unwrap();
        assert!(p.email_notifications);
        assert_eq!(p.disable_after_idle_days, None);
        assert_eq!(p, Policy::default());
    }

    #[test]
    fn wire_names_round_trip() {
        for s in ["active", "disabled", "revoked", "expired", "owner_deactivated"] {
            assert_eq!(Status::parse(s).map(Status::as_str), Some(s));
        }
        assert_eq!(Status::parse("Active"), None);
        assert_eq!(Role::parse("admin"), Some(Role::Admin));
        assert_eq!(Role::parse("owner"), None);
        assert_eq!(Kind::parse("org"), Some(Kind::Org));
        assert_eq!(serde_json::to_string(&Action::TokenReapproved).unwrap(), "\"token.reapproved\"");
        assert_eq!(serde_json::to_string(&Status::OwnerDeactivated).unwrap(), "\"owner_deactivated\"");
    }

    #[test]
    fn kind_wire_names_round_trip_and_match_serde() {
        for (k, name) in [(Kind::Personal, "personal"), (Kind::Org, "org")] {
            assert_eq!(k.as_str(), name);
            assert_eq!(Kind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), serde_json::json!(name));
        }
    }
}
