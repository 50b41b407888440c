//! The verify projection: which `v:` entries a token's records call for, and what has to change
//! in KV when the records change. This is the one write-order rule of keyward: every use case
//! commits its records and [`changes`] together, and the org authority copies the changes to KV
//! afterwards (docs/ARCHITECTURE.md, "Storage").

use super::model::{effective_role, Kind, Member, Token, VerifyEntry};
use super::time::Timestamp;

/// How long a verify entry outlives its token's expiry, so callers are told `EXPIRED` for a
/// while instead of `NOT_FOUND`; after that KV drops the entry by itself.
pub const EXPIRED_ENTRY_RETENTION_DAYS: i64 = 1;
/// KV refuses an absolute expiration less than this many seconds ahead.
pub const MIN_EXPIRATION_AHEAD_SECONDS: i64 = 60;

/// One change to the verify projection: write `entry` at `v:<hash>`, or delete it (`None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Projected {
    /// `sha256` hex of the secret.
    pub hash: String,
    /// The entry to write; `None` deletes the key.
    pub entry: Option<VerifyEntry>,
}

/// The verify entry of `t`'s current secret, with `owner` as it is now, in an org `suspended`
/// or not.
#[must_use]
pub fn entry(t: &Token, owner: Option<&Member>, suspended: bool) -> VerifyEntry {
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
        allowed_cidrs: t.allowed_cidrs.clone(),
        meta: t.meta.clone(),
        external_id: t.external_id.clone(),
        metered: t.plan().is_metered(),
        org_suspended: suspended,
    }
}

/// What a token's entries depend on besides the token: its owner as they are (personal tokens),
/// and whether its org is suspended.
pub type Side<'a> = (Option<&'a Member>, bool);

/// Every entry `t` needs in KV at `now`: its current secret's, and the previous secret's while
/// its grace lasts. None once the token is past its expiry plus the retention (KV has dropped
/// them by then).
#[must_use]
pub fn entries(t: &Token, (owner, suspended): Side<'_>, now: Timestamp) -> Vec<(String, VerifyEntry)> {
    if t.expires_at.is_some_and(|e| now >= e.plus_days(EXPIRED_ENTRY_RETENTION_DAYS)) {
        return Vec::new();
    }
    let current = entry(t, owner, suspended);
    let mut out = Vec::with_capacity(2);
    if let (Some(prev), Some(until)) = (&t.previous_hash, t.previous_valid_until) {
        if now < until && *prev != t.hash {
            out.push((prev.clone(), VerifyEntry { grace_until: Some(until), ..current.clone() }));
        }
    }
    out.insert(0, (t.hash.clone(), current));
    out
}

/// Every hash `t` may have projected: its current secret's and its previous one's.
fn hashes(t: &Token) -> impl Iterator<Item = &String> {
    core::iter::once(&t.hash).chain(t.previous_hash.as_ref())
}

/// What KV must do when a token goes from `before` to `after` (`None`: it does not exist), each
/// with its owner as they are on each side: a write for every entry that is new or different,
/// a delete for every hash of `before` that `after` no longer projects.
///
/// # Example
/// A deleted token's secrets are deleted from KV.
/// ```
/// # use keyward::domain::projection::changes;
/// # fn t() -> keyward::domain::Token { serde_json::from_value(serde_json::json!({
/// #   "id": "tok_1", "org_id": "org_1", "kind": "org", "owner_member_id": null, "created_by": "mem_1",
/// #   "created_with": null, "label": "x", "description": null, "logo": null, "role": "developer",
/// #   "scopes": [], "created_at": 0, "updated_at": 0, "expires_at": null, "state": "active",
/// #   "revoked_at": null, "hint": "abcd", "prefix": "kw", "rotated_at": null,
/// #   "previous_valid_until": null, "hash": "aa"})).unwrap() }
/// # let now = keyward::domain::Timestamp::from_millis(0);
/// let gone = changes(Some((&t(), (None, false))), None, now);
/// assert_eq!(gone.len(), 1);
/// assert_eq!(gone[0].entry, None);
/// ```
#[must_use]
pub fn changes(
    before: Option<(&Token, Side<'_>)>,
    after: Option<(&Token, Side<'_>)>,
    now: Timestamp,
) -> Vec<Projected> {
    let old = before.map(|(t, o)| entries(t, o, now)).unwrap_or_default();
    let new = after.map(|(t, o)| entries(t, o, now)).unwrap_or_default();
    let mut out: Vec<Projected> = new
        .iter()
        .filter(|(h, e)| !old.iter().any(|(oh, oe)| oh == h && oe == e))
        .map(|(h, e)| Projected { hash: h.clone(), entry: Some(e.clone()) })
        .collect();
    if let Some((t, _)) = before {
        for h in hashes(t) {
            let kept = new.iter().any(|(nh, _)| nh == h);
            if !kept && !out.iter().any(|p| &p.hash == h) {
                out.push(Projected { hash: h.clone(), entry: None });
            }
        }
    }
    out
}

/// When KV may drop an entry by itself (Unix seconds): a day after the token expires, or when a
/// rotated-out secret's grace ends (`None`: never). The verdict reads `grace_until` and
/// `expires_at` itself, so a late drop is harmless.
#[must_use]
pub fn expiration(e: &VerifyEntry) -> Option<i64> {
    let ends = [e.expires_at.map(|x| x.plus_days(EXPIRED_ENTRY_RETENTION_DAYS)), e.grace_until];
    ends.into_iter().flatten().min().map(Timestamp::as_seconds)
}

/// The expiration to send KV for a write made at `now`: `intended`, but never less than KV's
/// minimum ahead (plus a margin, so a write in flight for a moment is not refused). Computed when
/// the write is made, not when it was owed: a write retried later must not be refused forever.
#[must_use]
pub fn kv_expiration(intended: i64, now: Timestamp) -> i64 {
    intended.max(now.as_seconds() + MIN_EXPIRATION_AHEAD_SECONDS + EXPIRATION_MARGIN_SECONDS)
}

/// Seconds added to KV's minimum ahead (see [`kv_expiration`]).
pub const EXPIRATION_MARGIN_SECONDS: i64 = 10;

#[cfg(test)]
mod tests {
    use super::super::model::{MemberStatus, Role, State};
    use super::*;

    const NOW: Timestamp = Timestamp::from_millis(1_000_000);

    fn token() -> Token {
        Token {
            id: "tok_1".into(),
            org_id: "org_1".into(),
            kind: Kind::Personal,
            owner_member_id: Some("mem_1".into()),
            created_by: "mem_1".into(),
            created_with: None,
            label: "x".into(),
            description: None,
            logo: None,
            role: Role::Admin,
            scopes: vec!["a".into()],
            allowed_cidrs: vec![],
            created_at: NOW,
            updated_at: NOW,
            expires_at: Some(NOW.plus_days(30)),
            state: State::Active,
            revoked_at: None,
            state_set_by: None,
            hint: "abcd".into(),
            prefix: "kw".into(),
            rotated_at: None,
            previous_valid_until: None,
            hash: "h1".into(),
            previous_hash: None,
            enabled_at: None,
            imported: false,
            meta: None,
            external_id: None,
            ratelimit: None,
            credits: None,
            version: 1,
        }
    }

    fn owner(role: Role, status: MemberStatus) -> Member {
        Member {
            id: "mem_1".into(),
            org_id: "org_1".into(),
            email: "a@b.io".into(),
            name: "A".into(),
            role,
            status,
            created_at: NOW,
            version: 1,
        }
    }

    fn hashes_of(p: &[Projected]) -> Vec<(&str, bool)> {
        p.iter().map(|p| (p.hash.as_str(), p.entry.is_some())).collect()
    }

    #[test]
    fn create_writes_the_current_secret_only() {
        let o = owner(Role::Admin, MemberStatus::Active);
        let p = changes(None, Some((&token(), (Some(&o), false))), NOW);
        assert_eq!(hashes_of(&p), [("h1", true)]);
        let e = p[0].entry.as_ref().unwrap();
        assert_eq!((e.role, e.owner_active, e.grace_until), (Role::Admin, true, None));
    }

    #[test]
    fn unchanged_entries_are_not_rewritten() {
        let o = owner(Role::Admin, MemberStatus::Active);
        let t = token();
        let edited = Token { label: "y".into(), description: Some("d".into()), ..t.clone() };
        assert!(changes(Some((&t, (Some(&o), false))), Some((&edited, (Some(&o), false))), NOW).is_empty());
    }

    #[test]
    fn narrowing_and_state_changes_rewrite_the_entry() {
        let o = owner(Role::Admin, MemberStatus::Active);
        let t = token();
        let narrower = Token { scopes: vec![], ..t.clone() };
        let p = changes(Some((&t, (Some(&o), false))), Some((&narrower, (Some(&o), false))), NOW);
        assert_eq!(p[0].entry.as_ref().unwrap().scopes, Vec::<String>::new());
        let revoked = Token { state: State::Revoked, ..t.clone() };
        let p = changes(Some((&t, (Some(&o), false))), Some((&revoked, (Some(&o), false))), NOW);
        assert_eq!(p[0].entry.as_ref().unwrap().state, State::Revoked);
    }

    #[test]
    fn owner_changes_reach_the_entry() {
        let t = token();
        let before = owner(Role::Admin, MemberStatus::Active);
        let after = owner(Role::Developer, MemberStatus::Deactivated);
        let p = changes(Some((&t, (Some(&before), false))), Some((&t, (Some(&after), false))), NOW);
        let e = p[0].entry.as_ref().unwrap();
        assert_eq!((e.role, e.owner_active), (Role::Developer, false));
    }

    #[test]
    fn rotation_with_grace_keeps_the_old_secret_until_then_and_drops_the_older() {
        let o = owner(Role::Admin, MemberStatus::Active);
        let before =
            Token { previous_hash: Some("h0".into()), previous_valid_until: Some(NOW.plus_seconds(10)), ..token() };
        let after = Token {
            hash: "h2".into(),
            previous_hash: Some("h1".into()),
            previous_valid_until: Some(NOW.plus_seconds(300)),
            ..token()
        };
        let p = changes(Some((&before, (Some(&o), false))), Some((&after, (Some(&o), false))), NOW);
        assert_eq!(hashes_of(&p), [("h2", true), ("h1", true), ("h0", false)]);
        assert_eq!(p[1].entry.as_ref().unwrap().grace_until, Some(NOW.plus_seconds(300)));
    }

    #[test]
    fn rotation_without_grace_deletes_the_old_secret() {
        let o = owner(Role::Admin, MemberStatus::Active);
        let after = Token { hash: "h2".into(), ..token() };
        let p = changes(Some((&token(), (Some(&o), false))), Some((&after, (Some(&o), false))), NOW);
        assert_eq!(hashes_of(&p), [("h2", true), ("h1", false)]);
    }

    #[test]
    fn delete_removes_every_hash_even_past_grace() {
        let t = Token { previous_hash: Some("h0".into()), previous_valid_until: Some(NOW), ..token() };
        let p = changes(Some((&t, (None, false))), None, NOW);
        assert_eq!(hashes_of(&p), [("h1", false), ("h0", false)]);
    }

    #[test]
    fn long_expired_tokens_project_nothing() {
        let t = Token { expires_at: Some(NOW.plus_days(-2)), ..token() };
        assert!(entries(&t, (None, false), NOW).is_empty());
        let t = Token { expires_at: Some(NOW.plus_seconds(-1)), ..token() };
        assert_eq!(entries(&t, (None, false), NOW).len(), 1);
    }

    #[test]
    fn expirations() {
        let o = owner(Role::Admin, MemberStatus::Active);
        let e = entry(&token(), Some(&o), false);
        assert_eq!(expiration(&e), Some(NOW.plus_days(31).as_seconds()));
        let g = VerifyEntry { grace_until: Some(NOW.plus_seconds(5)), ..e.clone() };
        assert_eq!(expiration(&g), Some(NOW.plus_seconds(5).as_seconds()));
        // KV is sent at least its minimum ahead, with a margin, as of the write itself
        let later = NOW.plus_seconds(3600);
        assert_eq!(kv_expiration(NOW.plus_seconds(5).as_seconds(), later), later.as_seconds() + 70);
        assert_eq!(kv_expiration(NOW.plus_days(31).as_seconds(), later), NOW.plus_days(31).as_seconds());
        let never = VerifyEntry { expires_at: None, ..e };
        assert_eq!(expiration(&never), None);
    }

    #[test]
    fn the_previous_secret_is_projected_until_its_grace_ends_and_not_at_that_instant() {
        let o = owner(Role::Admin, MemberStatus::Active);
        let until = NOW.plus_seconds(300);
        let t =
            Token { hash: "h2".into(), previous_hash: Some("h1".into()), previous_valid_until: Some(until), ..token() };
        let during = entries(&t, (Some(&o), false), Timestamp::from_millis(until.as_millis() - 1));
        assert_eq!(during.iter().map(|(h, _)| h.as_str()).collect::<Vec<_>>(), ["h2", "h1"]);
        let at_end = entries(&t, (Some(&o), false), until);
        assert_eq!(at_end.iter().map(|(h, _)| h.as_str()).collect::<Vec<_>>(), ["h2"]);
        // so a change made when the grace has ended deletes the old secret instead of rewriting it
        let p = changes(
            Some((&t, (Some(&o), false))),
            Some((&Token { label: "y".into(), ..t.clone() }, (Some(&o), false))),
            until,
        );
        assert_eq!(hashes_of(&p), [("h1", false)]);
    }

    #[test]
    fn a_previous_hash_equal_to_the_current_one_is_projected_once() {
        let o = owner(Role::Admin, MemberStatus::Active);
        let t =
            Token { previous_hash: Some("h1".into()), previous_valid_until: Some(NOW.plus_seconds(300)), ..token() };
        let e = entries(&t, (Some(&o), false), NOW);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].1.grace_until, None);
    }

    #[test]
    fn a_suspension_rewrites_every_entry_and_a_resumption_restores_it() {
        let o = owner(Role::Admin, MemberStatus::Active);
        let t = Token { previous_hash: Some("h0".into()), previous_valid_until: Some(NOW.plus_seconds(60)), ..token() };
        let p = changes(Some((&t, (Some(&o), false))), Some((&t, (Some(&o), true))), NOW);
        assert_eq!(hashes_of(&p), [("h1", true), ("h0", true)], "the current secret and the one in grace");
        assert!(p.iter().all(|x| x.entry.as_ref().is_some_and(|e| e.org_suspended)));
        let back = changes(Some((&t, (Some(&o), true))), Some((&t, (Some(&o), false))), NOW);
        assert!(back.iter().all(|x| x.entry.as_ref().is_some_and(|e| !e.org_suspended)) && back.len() == 2);
    }
}
