//! The verify verdict: a pure function of what storage returned, the time and the scopes asked for.

use serde::{Deserialize, Serialize};

use core::net::IpAddr;

use super::cidr::allows;
use super::meter::Refusal;
use super::model::{State, VerifyEntry};
use super::time::Timestamp;

/// The answer to "may this presented token be used?", checked in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Code {
    /// Not a token at all: pattern or checksum wrong. Never reaches storage.
    Malformed,
    /// Well formed but unknown (or a rotated-out secret past its grace).
    NotFound,
    /// Its org is suspended by the operator.
    OrgSuspended,
    /// Revoked.
    Revoked,
    /// Disabled.
    Disabled,
    /// A personal token whose owner is deactivated.
    OwnerDeactivated,
    /// Past its expiry.
    Expired,
    /// Used from outside the token's network allowlist (or with no address to check).
    IpNotAllowed,
    /// Valid, but lacks a scope that was asked for.
    InsufficientScope,
    /// Valid, but over its rate limit ([`super::meter`]).
    RateLimited,
    /// Valid, but with fewer credits left than the verification costs ([`super::meter`]).
    UsageExceeded,
    /// Good to use.
    Valid,
}

impl Code {
    /// The final code of a metered verification whose verdict was `self`.
    #[must_use]
    pub const fn metered(self, refused: Option<Refusal>) -> Self {
        match refused {
            Some(Refusal::RateLimited) => Self::RateLimited,
            Some(Refusal::UsageExceeded) => Self::UsageExceeded,
            None => self,
        }
    }

    /// Every code, in the order of the checks.
    pub const ALL: [Self; 12] = [
        Self::Malformed,
        Self::NotFound,
        Self::OrgSuspended,
        Self::Revoked,
        Self::Disabled,
        Self::OwnerDeactivated,
        Self::Expired,
        Self::IpNotAllowed,
        Self::InsufficientScope,
        Self::RateLimited,
        Self::UsageExceeded,
        Self::Valid,
    ];

    /// The code whose wire name is `name`.
    ///
    /// ```
    /// use keyward::domain::Code;
    /// assert!(Code::ALL.iter().all(|c| Code::parse(c.as_str()) == Some(*c)));
    /// assert_eq!(Code::parse("valid"), None);
    /// ```
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The wire name (`"NOT_FOUND"`, …).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "MALFORMED",
            Self::NotFound => "NOT_FOUND",
            Self::OrgSuspended => "ORG_SUSPENDED",
            Self::Revoked => "REVOKED",
            Self::Disabled => "DISABLED",
            Self::OwnerDeactivated => "OWNER_DEACTIVATED",
            Self::Expired => "EXPIRED",
            Self::IpNotAllowed => "IP_NOT_ALLOWED",
            Self::InsufficientScope => "INSUFFICIENT_SCOPE",
            Self::RateLimited => "RATE_LIMITED",
            Self::UsageExceeded => "USAGE_EXCEEDED",
            Self::Valid => "VALID",
        }
    }
}

/// Decide the verdict for a well-formed token given its verify entry (`None`: not stored),
/// used from `client` (the address the calling service saw; `None`: not given).
///
/// `MALFORMED` is decided before this, by [`super::token::parse`]: a malformed string is never
/// looked up. The remaining codes are checked in docs/ARCHITECTURE.md's order, with
/// `ORG_SUSPENDED` right after `NOT_FOUND` (a suspended org answers for none of its tokens), and
/// `IP_NOT_ALLOWED` after `EXPIRED` and before `INSUFFICIENT_SCOPE`.
///
/// # Example
/// ```
/// use keyward::domain::{verdict, Code, Timestamp};
/// assert_eq!(verdict::<&str>(None, Timestamp::from_millis(0), &[], None), Code::NotFound);
/// ```
#[must_use]
pub fn verdict<S: AsRef<str>>(
    entry: Option<&VerifyEntry>,
    now: Timestamp,
    required_scopes: &[S],
    client: Option<IpAddr>,
) -> Code {
    let Some(e) = entry else {
        return Code::NotFound;
    };
    if e.grace_until.is_some_and(|g| now >= g) {
        return Code::NotFound;
    }
    if e.org_suspended {
        return Code::OrgSuspended;
    }
    match e.state {
        State::Revoked => return Code::Revoked,
        State::Disabled => return Code::Disabled,
        State::Active => {}
    }
    if e.owner_member_id.is_some() && !e.owner_active {
        return Code::OwnerDeactivated;
    }
    if e.expires_at.is_some_and(|x| now >= x) {
        return Code::Expired;
    }
    if !allows(&e.allowed_cidrs, client) {
        return Code::IpNotAllowed;
    }
    if required_scopes.iter().any(|r| !e.scopes.iter().any(|s| s == r.as_ref())) {
        return Code::InsufficientScope;
    }
    Code::Valid
}

#[cfg(test)]
mod tests {
    use super::super::model::{Kind, Role};
    use super::*;

    fn entry() -> VerifyEntry {
        VerifyEntry {
            token_id: "tok_x".into(),
            org_id: "org_x".into(),
            kind: Kind::Personal,
            owner_member_id: Some("mem_x".into()),
            role: Role::Developer,
            scopes: vec!["billing".into(), "users:read".into()],
            state: State::Active,
            owner_active: true,
            expires_at: Some(Timestamp::from_millis(100_000)),
            grace_until: None,
            allowed_cidrs: vec![],
            meta: None,
            external_id: None,
            metered: false,
            org_suspended: false,
        }
    }
    const NOW: Timestamp = Timestamp::from_millis(50_000);
    const NONE: [&str; 0] = [];

    #[test]
    fn each_code() {
        assert_eq!(verdict(None, NOW, &NONE, None), Code::NotFound);
        assert_eq!(verdict(Some(&entry()), NOW, &NONE, None), Code::Valid);
        assert_eq!(verdict(Some(&entry()), NOW, &["billing"], None), Code::Valid);
        assert_eq!(verdict(Some(&entry()), NOW, &["billing", "users:read"], None), Code::Valid);
        assert_eq!(verdict(Some(&entry()), NOW, &["billing", "admin"], None), Code::InsufficientScope);
        let e = VerifyEntry { state: State::Revoked, ..entry() };
        assert_eq!(verdict(Some(&e), NOW, &NONE, None), Code::Revoked);
        let e = VerifyEntry { state: State::Disabled, ..entry() };
        assert_eq!(verdict(Some(&e), NOW, &NONE, None), Code::Disabled);
        let e = VerifyEntry { owner_active: false, ..entry() };
        assert_eq!(verdict(Some(&e), NOW, &NONE, None), Code::OwnerDeactivated);
        assert_eq!(verdict(Some(&entry()), Timestamp::from_millis(100_000), &NONE, None), Code::Expired);
        assert_eq!(verdict(Some(&entry()), Timestamp::from_millis(99_999), &NONE, None), Code::Valid);
    }

    #[test]
    fn order_is_design_order() {
        // Everything wrong at once: revoked wins.
        let all = VerifyEntry { state: State::Revoked, owner_active: false, ..entry() };
        let late = Timestamp::from_millis(200_000);
        assert_eq!(verdict(Some(&all), late, &["nope"], None), Code::Revoked);
        let e = VerifyEntry { state: State::Disabled, owner_active: false, ..entry() };
        assert_eq!(verdict(Some(&e), late, &["nope"], None), Code::Disabled);
        let e = VerifyEntry { owner_active: false, ..entry() };
        assert_eq!(verdict(Some(&e), late, &["nope"], None), Code::OwnerDeactivated);
        assert_eq!(verdict(Some(&entry()), late, &["nope"], None), Code::Expired);
    }

    #[test]
    fn ip_not_allowed_sits_after_expired_and_before_insufficient_scope() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        let e = VerifyEntry { allowed_cidrs: vec!["10.0.0.0/8".into(), "2001:db8::/32".into()], ..entry() };
        assert_eq!(verdict(Some(&e), NOW, &NONE, ip("10.1.2.3")), Code::Valid);
        assert_eq!(verdict(Some(&e), NOW, &NONE, ip("::ffff:10.1.2.3")), Code::Valid);
        assert_eq!(verdict(Some(&e), NOW, &NONE, ip("2001:db8::9")), Code::Valid);
        assert_eq!(verdict(Some(&e), NOW, &NONE, ip("11.0.0.1")), Code::IpNotAllowed);
        assert_eq!(verdict(Some(&e), NOW, &NONE, None), Code::IpNotAllowed, "no address to check: refused");
        // after EXPIRED (and everything before it)...
        assert_eq!(verdict(Some(&e), Timestamp::from_millis(200_000), &NONE, ip("11.0.0.1")), Code::Expired);
        let revoked = VerifyEntry { state: State::Revoked, ..e.clone() };
        assert_eq!(verdict(Some(&revoked), NOW, &NONE, None), Code::Revoked);
        // ...and before INSUFFICIENT_SCOPE
        assert_eq!(verdict(Some(&e), NOW, &["nope"], ip("11.0.0.1")), Code::IpNotAllowed);
        assert_eq!(verdict(Some(&e), NOW, &["nope"], ip("10.0.0.1")), Code::InsufficientScope);
        // no allowlist: the address does not matter
        assert_eq!(verdict(Some(&entry()), NOW, &NONE, None), Code::Valid);
        assert_eq!(verdict(Some(&entry()), NOW, &NONE, ip("11.0.0.1")), Code::Valid);
        assert_eq!(Code::IpNotAllowed.as_str(), "IP_NOT_ALLOWED");
    }

    #[test]
    fn org_tokens_ignore_owner_and_may_never_expire() {
        let e =
            VerifyEntry { kind: Kind::Org, owner_member_id: None, owner_active: false, expires_at: None, ..entry() };
        assert_eq!(verdict(Some(&e), Timestamp::from_millis(i64::MAX), &NONE, None), Code::Valid);
    }

    #[test]
    fn grace_ends_in_not_found() {
        let e = VerifyEntry { grace_until: Some(Timestamp::from_millis(60_000)), ..entry() };
        assert_eq!(verdict(Some(&e), NOW, &NONE, None), Code::Valid);
        assert_eq!(verdict(Some(&e), Timestamp::from_millis(60_000), &NONE, None), Code::NotFound);
        // a revoked token's old secret past grace is gone, not revoked
        let e = VerifyEntry { state: State::Revoked, ..e };
        assert_eq!(verdict(Some(&e), Timestamp::from_millis(60_000), &NONE, None), Code::NotFound);
    }

    #[test]
    fn a_suspended_org_answers_for_none_of_its_tokens() {
        let e = VerifyEntry { org_suspended: true, ..entry() };
        assert_eq!(verdict(Some(&e), NOW, &NONE, None), Code::OrgSuspended);
        // before every state of the token, after only a secret that is gone
        let revoked = VerifyEntry { state: State::Revoked, owner_active: false, ..e.clone() };
        assert_eq!(verdict(Some(&revoked), Timestamp::from_millis(200_000), &["x"], None), Code::OrgSuspended);
        let gone = VerifyEntry { grace_until: Some(NOW), ..e };
        assert_eq!(verdict(Some(&gone), NOW, &NONE, None), Code::NotFound);
        assert_eq!(Code::OrgSuspended.as_str(), "ORG_SUSPENDED");
    }

    #[test]
    fn wire_names() {
        assert_eq!(Code::OwnerDeactivated.as_str(), "OWNER_DEACTIVATED");
        assert_eq!(serde_json::to_string(&Code::InsufficientScope).unwrap(), "\"INSUFFICIENT_SCOPE\"");
    }
}
