//! Policy: limits, expiry, role ceilings, allowed state transitions and the last-admin rule.

use super::model::{Kind, Member, MemberStatus, Policy, Role, SetBy, State, Token};
use super::time::Timestamp;

/// Longest grace a rotation may give the replaced secret: one day.
pub const MAX_GRACE_SECONDS: u32 = 86_400;
/// Most modules an org may define.
pub const MAX_MODULES: usize = 50;
/// Bounds accepted for the policy numbers in `PATCH /v1/org`.
pub const MAX_PERSONAL_TOKENS_CEILING: u32 = 1_000;
/// Longest `max_ttl_days` an org may set (ten years).
pub const MAX_TTL_DAYS_CEILING: u32 = 3_650;

/// keyward's own scope for reading through the admin API (every GET endpoint, `/v1/me` included).
pub const KEYWARD_READ: &str = "keyward:read";
/// keyward's own scope for every change through the admin API; it includes [`KEYWARD_READ`].
pub const KEYWARD_MANAGE: &str = "keyward:manage";
/// Org module names may not start with this: it is keyward's own.
pub const KEYWARD_PREFIX: &str = "keyward:";

/// What a token may do with keyward itself (docs/ARCHITECTURE.md, "Authority"). `Read < Manage`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// `keyward:read`: the GET endpoints within the caller's role.
    Read,
    /// `keyward:manage`: every endpoint within the caller's role.
    Manage,
}

impl Access {
    /// The scope that grants it.
    #[must_use]
    pub const fn scope(self) -> &'static str {
        match self {
            Self::Read => KEYWARD_READ,
            Self::Manage => KEYWARD_MANAGE,
        }
    }
}

/// The keyward access `scopes` give: `None` for a token that cannot use the admin API at all.
///
/// # Example
/// ```
/// use keyward::domain::policy::{access, Access};
/// assert_eq!(access(&["billing"]), None);
/// assert_eq!(access(&["keyward:read"]), Some(Access::Read));
/// assert_eq!(access(&["keyward:read", "keyward:manage"]), Some(Access::Manage));
/// ```
#[must_use]
pub fn access<S: AsRef<str>>(scopes: &[S]) -> Option<Access> {
    let has = |s: &str| scopes.iter().any(|x| x.as_ref() == s);
    if has(KEYWARD_MANAGE) {
        Some(Access::Manage)
    } else if has(KEYWARD_READ) {
        Some(Access::Read)
    } else {
        None
    }
}

/// The scopes a caller holding `caller_scopes` may grant in an org with `modules`: every module,
/// and the keyward scopes it holds (`keyward:manage` includes `keyward:read`).
#[must_use]
pub fn grantable<S: AsRef<str>>(modules: &[String], caller_scopes: &[S]) -> Vec<String> {
    let mut out = modules.to_vec();
    match access(caller_scopes) {
        Some(Access::Manage) => out.extend([KEYWARD_READ.to_owned(), KEYWARD_MANAGE.to_owned()]),
        Some(Access::Read) => out.push(KEYWARD_READ.to_owned()),
        None => {}
    }
    out
}

/// Whether a caller acting with `caller_role` and holding `caller_scopes` may change, rotate or
/// delete a token of role `role` holding `scopes`: only when that token is no more powerful than
/// itself, neither in role nor in keyward access (`keyward:manage` > `keyward:read` > none). A
/// token must never obtain a secret, nor make a token, above what it could create itself; org
/// modules do not count, since any caller that may change a token may grant every module.
///
/// The target's stored role counts, not its effective one: a demoted owner's admin-role token
/// becomes an admin token again if the owner is promoted.
///
/// # Example
/// ```
/// use keyward::domain::policy::may_act_on;
/// use keyward::domain::Role;
/// let dev = (Role::Developer, &["keyward:manage"][..]);
/// assert!(may_act_on(dev, (Role::Developer, &["keyward:manage", "billing"][..])));
/// assert!(!may_act_on(dev, (Role::Admin, &["billing"][..])));
/// let reader = (Role::Admin, &["keyward:read"][..]);
/// assert!(!may_act_on(reader, (Role::Developer, &["keyward:manage"][..])));
/// ```
#[must_use]
pub fn may_act_on<S: AsRef<str>, T: AsRef<str>>(caller: (Role, &[S]), target: (Role, &[T])) -> bool {
    target.0 <= caller.0 && access(target.1) <= access(caller.1)
}

/// Whether a caller acting with `role` may delete a token in `state` whose last disable or revoke
/// was made by `set`: a token an admin, keyward or a report restricted is deleted only by an admin
/// (else a developer would sidestep the restriction by deleting the token and making a new one).
#[must_use]
pub fn may_delete(state: State, set: Option<SetBy>, role: Role) -> bool {
    state == State::Active || may_undo(set, role)
}

/// Who a disable or revoke by a caller acting with `role` is recorded as set by.
#[must_use]
pub const fn set_by(role: Role) -> SetBy {
    match role {
        Role::Admin => SetBy::Admin,
        Role::Developer => SetBy::Developer,
    }
}

/// Whether a caller acting with `role` may enable or re-approve a token whose disable or
/// revoke was made by `set`: a state set by an admin, the system or a report sticks for
/// developers.
#[must_use]
pub fn may_undo(set: Option<SetBy>, role: Role) -> bool {
    role == Role::Admin || matches!(set, None | Some(SetBy::Developer))
}

/// Who a disable or revoke by a caller acting with `role` is recorded as set by, on a token
/// that is in `state` with `set` recorded: a developer never replaces a restriction set by an
/// admin, keyward or a report (else revoking an admin's disable, then re-approving, would undo
/// it); anyone else's restriction becomes theirs.
#[must_use]
pub fn restricted_by(state: State, set: Option<SetBy>, role: Role) -> SetBy {
    match set {
        Some(sticky) if state != State::Active && !may_undo(Some(sticky), role) => sticky,
        _ => set_by(role),
    }
}

/// Whether an admin's disable or revoke of a token already in that state takes it over: the
/// state stays, but it becomes the admin's, which a developer can no longer undo. (Otherwise a
/// developer's own disable would shield the token from the admin's.)
#[must_use]
pub fn takes_over(state: State, set: Option<SetBy>, t: Transition, role: Role) -> bool {
    let same = matches!((t, state), (Transition::Disable, State::Disabled) | (Transition::Revoke, State::Revoked));
    same && role == Role::Admin && matches!(set, None | Some(SetBy::Developer))
}

/// A state-changing operation on a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// active → disabled.
    Disable,
    /// disabled → active.
    Enable,
    /// active | disabled → revoked.
    Revoke,
    /// revoked and unexpired → active.
    Reapprove,
    /// new secret; not for revoked or expired tokens; the state is kept.
    Rotate,
    /// gone for good, from any state.
    Delete,
}

/// Why a transition is refused (answered as 409 `CONFLICT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refused {
    /// Disabling a token that is not active.
    NotActive,
    /// Enabling a token that is not disabled.
    NotDisabled,
    /// Revoking a revoked token.
    AlreadyRevoked,
    /// Re-approving a token that is not revoked.
    NotRevoked,
    /// Re-approving a token past its expiry.
    ExpiredReapprove,
    /// Rotating a revoked token.
    RevokedRotate,
    /// Rotating a token past its expiry.
    ExpiredRotate,
}

impl Refused {
    /// The reason, for people.
    #[must_use]
    pub const fn message(self) -> &'static str {
        match self {
            Self::NotActive => "only an active token can be disabled",
            Self::NotDisabled => "only a disabled token can be enabled",
            Self::AlreadyRevoked => "the token is already revoked",
            Self::NotRevoked => "only a revoked token can be re-approved",
            Self::ExpiredReapprove => "an expired token cannot be re-approved",
            Self::RevokedRotate => "a revoked token cannot be rotated",
            Self::ExpiredRotate => "an expired token cannot be rotated",
        }
    }
}

/// The state a token has after `t`, or why `t` is not allowed now.
///
/// # Errors
/// [`Refused`], saying why, when the token's state or expiry forbids `t`.
///
/// # Example
/// ```
/// use keyward::domain::policy::{next_state, Transition};
/// use keyward::domain::{State, Timestamp};
/// let now = Timestamp::from_millis(0);
/// assert_eq!(next_state(State::Active, None, Transition::Revoke, now), Ok(State::Revoked));
/// assert!(next_state(State::Active, None, Transition::Reapprove, now).is_err());
/// ```
pub fn next_state(
    state: State,
    expires_at: Option<Timestamp>,
    t: Transition,
    now: Timestamp,
) -> Result<State, Refused> {
    let expired = expires_at.is_some_and(|e| now >= e);
    match (t, state) {
        (Transition::Disable, State::Active) => Ok(State::Disabled),
        (Transition::Disable, _) => Err(Refused::NotActive),
        (Transition::Enable, State::Disabled) => Ok(State::Active),
        (Transition::Enable, _) => Err(Refused::NotDisabled),
        (Transition::Revoke, State::Active | State::Disabled) => Ok(State::Revoked),
        (Transition::Revoke, State::Revoked) => Err(Refused::AlreadyRevoked),
        (Transition::Reapprove, State::Revoked) if !expired => Ok(State::Active),
        (Transition::Reapprove, State::Revoked) => Err(Refused::ExpiredReapprove),
        (Transition::Reapprove, _) => Err(Refused::NotRevoked),
        (Transition::Rotate, State::Revoked) => Err(Refused::RevokedRotate),
        (Transition::Rotate, _) if expired => Err(Refused::ExpiredRotate),
        (Transition::Rotate | Transition::Delete, s) => Ok(s),
    }
}

/// [`next_state`] for a token record.
///
/// # Errors
/// As [`next_state`].
pub fn check_transition(token: &Token, t: Transition, now: Timestamp) -> Result<State, Refused> {
    next_state(token.state, token.expires_at, t, now)
}

/// Whether an owner holding `held` personal tokens may get one more.
///
/// Every personal token that exists counts, whatever its state, until it is deleted: so
/// re-approving a revoked token can never push a member over the limit.
#[must_use]
pub fn personal_limit_allows(held: usize, policy: &Policy) -> bool {
    u32::try_from(held).is_ok_and(|h| h < policy.max_personal_tokens)
}

/// How long a recovery token (`POST /v1/orgs/{id}/recovery`) lives.
pub const RECOVERY_TOKEN_HOURS: u32 = 24;

/// How long a new token lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifetime {
    /// This many days from creation.
    Days(u32),
    /// Never expires (org tokens, when the policy allows).
    Never,
}

/// The expiry instant of a token created at `now`.
#[must_use]
pub fn expires_at(lifetime: Lifetime, now: Timestamp) -> Option<Timestamp> {
    match lifetime {
        Lifetime::Days(d) => Some(now.plus_days(i64::from(d))),
        Lifetime::Never => None,
    }
}

/// Whether a never-expiring token of `kind` is allowed by `policy`.
#[must_use]
pub fn never_expires_allowed(kind: Kind, policy: &Policy) -> bool {
    kind == Kind::Org && policy.allow_non_expiring_org_tokens
}

/// The highest role a new or edited token may have: the lower of the caller's effective role
/// and (for personal tokens) the owner's role.
#[must_use]
pub fn role_ceiling(caller: Role, owner: Option<Role>) -> Role {
    owner.map_or(caller, |o| caller.min(o))
}

/// When a rotated-out secret stops verifying: `None` when there is no grace (it dies at once).
#[must_use]
pub fn grace_end(now: Timestamp, grace_seconds: u32) -> Option<Timestamp> {
    (grace_seconds > 0).then(|| now.plus_seconds(i64::from(grace_seconds)))
}

/// Whether the org still has an active admin after `member_id` takes `role` and `status`.
#[must_use]
pub fn keeps_an_active_admin(members: &[Member], member_id: &str, role: Role, status: MemberStatus) -> bool {
    members.iter().any(|m| is_active_admin_after((&m.id, m.role, m.status), member_id, role, status))
}

/// Whether the member `(id, role, status)` is an active admin after `member_id` takes `role`
/// and `status`: [`keeps_an_active_admin`] asked of one member (the browser module asks it so,
/// without building a [`Member`]).
#[must_use]
pub fn is_active_admin_after(
    one: (&str, Role, MemberStatus),
    member_id: &str,
    role: Role,
    status: MemberStatus,
) -> bool {
    let (id, r, s) = one;
    let (r, s) = if id == member_id { (role, status) } else { (r, s) };
    r == Role::Admin && s == MemberStatus::Active
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp::from_millis(1_000_000);
    const FUTURE: Option<Timestamp> = Some(Timestamp::from_millis(2_000_000));
    const PAST: Option<Timestamp> = Some(Timestamp::from_millis(1_000_000));

    #[test]
    fn transitions_allowed() {
        use State::*;
        use Transition::*;
        let ok = |s, e, t, want| assert_eq!(next_state(s, e, t, NOW), Ok(want), "{s:?} {t:?}");
        ok(Active, FUTURE, Disable, Disabled);
        ok(Disabled, FUTURE, Enable, Active);
        ok(Active, FUTURE, Revoke, Revoked);
        ok(Disabled, FUTURE, Revoke, Revoked);
        ok(Revoked, FUTURE, Reapprove, Active);
        ok(Revoked, None, Reapprove, Active);
        ok(Active, FUTURE, Rotate, Active);
        ok(Disabled, FUTURE, Rotate, Disabled);
        ok(Active, None, Rotate, Active);
        for s in [Active, Disabled, Revoked] {
            ok(s, PAST, Delete, s);
            ok(s, FUTURE, Delete, s);
        }
        // disabling and revoking expired tokens is still allowed (harmless, and tidy)
        ok(Active, PAST, Disable, Disabled);
        ok(Active, PAST, Revoke, Revoked);
    }

    #[test]
    fn transitions_refused() {
        use State::*;
        use Transition::*;
        let no = |s, e, t| assert!(next_state(s, e, t, NOW).is_err(), "{s:?} {t:?}");
        no(Disabled, FUTURE, Disable);
        no(Revoked, FUTURE, Disable);
        no(Active, FUTURE, Enable);
        no(Revoked, FUTURE, Enable);
        no(Revoked, FUTURE, Revoke);
        no(Active, FUTURE, Reapprove);
        no(Disabled, FUTURE, Reapprove);
        no(Revoked, PAST, Reapprove);
        no(Revoked, FUTURE, Rotate);
        no(Active, PAST, Rotate);
    }

    #[test]
    fn limit() {
        let p = Policy::default();
        assert!(personal_limit_allows(0, &p));
        assert!(personal_limit_allows(9, &p));
        assert!(!personal_limit_allows(10, &p));
        assert!(!personal_limit_allows(11, &p));
        let p = Policy { max_personal_tokens: 2, ..p };
        assert!(personal_limit_allows(1, &p));
        assert!(!personal_limit_allows(2, &p));
    }

    #[test]
    fn expiry_and_never() {
        assert_eq!(expires_at(Lifetime::Days(1), NOW), Some(NOW.plus_days(1)));
        assert_eq!(expires_at(Lifetime::Never, NOW), None);
        let p = Policy::default();
        assert!(!never_expires_allowed(Kind::Org, &p));
        let p = Policy { allow_non_expiring_org_tokens: true, ..p };
        assert!(never_expires_allowed(Kind::Org, &p));
        assert!(!never_expires_allowed(Kind::Personal, &p));
    }

    #[test]
    fn ceilings_and_grace() {
        assert_eq!(role_ceiling(Role::Admin, Some(Role::Developer)), Role::Developer);
        assert_eq!(role_ceiling(Role::Developer, Some(Role::Admin)), Role::Developer);
        assert_eq!(role_ceiling(Role::Admin, None), Role::Admin);
        assert_eq!(grace_end(NOW, 0), None);
        assert_eq!(grace_end(NOW, 60), Some(NOW.plus_seconds(60)));
    }

    #[test]
    fn keyward_scopes_and_grants() {
        use super::{access, grantable, may_undo, Access, KEYWARD_MANAGE, KEYWARD_READ};
        let mods = vec!["billing".to_owned()];
        assert_eq!(access::<String>(&[]), None);
        assert_eq!(access(&[KEYWARD_MANAGE]), Some(Access::Manage));
        assert!(Access::Read < Access::Manage);
        assert_eq!(grantable::<&str>(&mods, &[]), ["billing"]);
        assert_eq!(grantable(&mods, &[KEYWARD_READ]), ["billing", KEYWARD_READ]);
        assert_eq!(grantable(&mods, &[KEYWARD_MANAGE]), ["billing", KEYWARD_READ, KEYWARD_MANAGE]);
        for set in [Some(SetBy::Admin), Some(SetBy::System), Some(SetBy::Report)] {
            assert!(!may_undo(set, Role::Developer));
            assert!(may_undo(set, Role::Admin));
        }
        assert!(may_undo(Some(SetBy::Developer), Role::Developer));
        assert!(may_undo(None, Role::Developer));
    }

    #[test]
    fn no_token_acts_on_a_more_powerful_one() {
        use super::{may_act_on, KEYWARD_MANAGE as M, KEYWARD_READ as R};
        let none: &[&str] = &[];
        for (role, scopes) in [(Role::Developer, none), (Role::Developer, &[R][..]), (Role::Admin, &[M][..])] {
            // the same role and access: allowed, whatever the modules
            assert!(may_act_on((role, scopes), (role, scopes)));
            assert!(may_act_on((role, scopes), (role, &[&["billing"][..], scopes].concat()[..])));
        }
        // a higher role, or a higher keyward access, is refused; lower ones are not
        assert!(!may_act_on((Role::Developer, &[M][..]), (Role::Admin, none)));
        assert!(may_act_on((Role::Admin, &[M][..]), (Role::Developer, &[M][..])));
        assert!(!may_act_on((Role::Admin, &[R][..]), (Role::Admin, &[M][..])));
        assert!(!may_act_on((Role::Admin, none), (Role::Admin, &[R][..])));
        assert!(may_act_on((Role::Admin, &[M][..]), (Role::Admin, &[R][..])));
        assert!(may_act_on((Role::Admin, &[R, M][..]), (Role::Admin, &[M][..])));
    }

    #[test]
    fn restricted_tokens_are_deleted_by_admins_only() {
        use super::may_delete;
        for set in [Some(SetBy::Admin), Some(SetBy::System), Some(SetBy::Report)] {
            for state in [State::Disabled, State::Revoked] {
                assert!(!may_delete(state, set, Role::Developer), "{state:?} by {set:?}");
                assert!(may_delete(state, set, Role::Admin));
            }
            // re-enabled since: the old restriction no longer holds
            assert!(may_delete(State::Active, set, Role::Developer));
        }
        assert!(may_delete(State::Disabled, Some(SetBy::Developer), Role::Developer));
        assert!(may_delete(State::Revoked, None, Role::Developer));
    }

    #[test]
    fn restrictions_set_by_admins_stick() {
        use super::{restricted_by, takes_over, Transition};
        // a developer revoking what an admin disabled keeps it the admin's
        assert_eq!(restricted_by(State::Disabled, Some(SetBy::Admin), Role::Developer), SetBy::Admin);
        assert_eq!(restricted_by(State::Disabled, Some(SetBy::Report), Role::Developer), SetBy::Report);
        // on an active token, or by an admin, the restriction is the caller's
        assert_eq!(restricted_by(State::Active, Some(SetBy::Admin), Role::Developer), SetBy::Developer);
        assert_eq!(restricted_by(State::Disabled, Some(SetBy::Developer), Role::Admin), SetBy::Admin);
        assert_eq!(restricted_by(State::Disabled, Some(SetBy::Developer), Role::Developer), SetBy::Developer);
        // an admin takes over a developer's own disable or revoke; nobody else does, nothing else
        assert!(takes_over(State::Disabled, Some(SetBy::Developer), Transition::Disable, Role::Admin));
        assert!(takes_over(State::Revoked, Some(SetBy::Developer), Transition::Revoke, Role::Admin));
        assert!(!takes_over(State::Revoked, Some(SetBy::Admin), Transition::Revoke, Role::Admin));
        assert!(!takes_over(State::Disabled, Some(SetBy::Developer), Transition::Disable, Role::Developer));
        assert!(!takes_over(State::Disabled, Some(SetBy::Developer), Transition::Revoke, Role::Admin));
        assert!(!takes_over(State::Active, None, Transition::Disable, Role::Admin));
    }

    #[test]
    fn last_active_admin() {
        let m = |id: &str, role, status| Member {
            id: id.into(),
            org_id: "o".into(),
            email: format!("{id}@x.io"),
            name: id.into(),
            role,
            status,
            created_at: NOW,
            version: 1,
        };
        let ms = vec![m("a", Role::Admin, MemberStatus::Active), m("d", Role::Developer, MemberStatus::Active)];
        assert!(!keeps_an_active_admin(&ms, "a", Role::Developer, MemberStatus::Active));
        assert!(!keeps_an_active_admin(&ms, "a", Role::Admin, MemberStatus::Deactivated));
        assert!(keeps_an_active_admin(&ms, "a", Role::Admin, MemberStatus::Active));
        assert!(keeps_an_active_admin(&ms, "d", Role::Developer, MemberStatus::Deactivated));
        assert!(keeps_an_active_admin(&ms, "d", Role::Admin, MemberStatus::Active));
        let mut two = ms.clone();
        two.push(m("b", Role::Admin, MemberStatus::Active));
        assert!(keeps_an_active_admin(&two, "a", Role::Developer, MemberStatus::Deactivated));
        let mut deact = ms;
        deact.push(m("c", Role::Admin, MemberStatus::Deactivated));
        assert!(!keeps_an_active_admin(&deact, "a", Role::Admin, MemberStatus::Deactivated));
    }

    #[test]
    fn each_access_is_granted_by_its_own_scope() {
        assert_eq!(Access::Read.scope(), KEYWARD_READ);
        assert_eq!(Access::Manage.scope(), KEYWARD_MANAGE);
        for a in [Access::Read, Access::Manage] {
            assert_eq!(access(&[a.scope()]), Some(a));
        }
    }
}
