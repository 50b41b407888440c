//! Each change of a token's life, as [`super::apply`] writes it.

use super::*;
use crate::domain::model::Kind;
use crate::domain::random::testing::SeqRandom;
use crate::domain::token::Prefix;

const NOW: Timestamp = Timestamp::from_millis(1_000_000_000);

fn token() -> Token {
    Token {
        id: "tok_1".into(),
        org_id: "org_1".into(),
        kind: Kind::Personal,
        owner_member_id: Some("mem_1".into()),
        created_by: "mem_1".into(),
        created_with: None,
        label: "ci".into(),
        description: None,
        logo: None,
        role: Role::Developer,
        scopes: vec!["billing".into()],
        allowed_cidrs: vec![],
        created_at: Timestamp::from_millis(0),
        updated_at: Timestamp::from_millis(0),
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
        version: 4,
    }
}

const ADMIN: By = By::Caller(Role::Admin);
const DEV: By = By::Caller(Role::Developer);

fn done(before: &Token, change: Change<'_>, by: By) -> (Token, Outcome) {
    let o = apply(before, change, by, NOW).expect("allowed").expect("a change");
    (o.after.clone().expect("kept"), o)
}

#[test]
fn every_change_bumps_the_version_once_and_stamps_the_time() {
    let secret = Secret::generate(&Prefix::default(), &SeqRandom::new(1)).unwrap();
    let patch = TokenPatch { label: Some("cd".into()), ..TokenPatch::default() };
    let disabled = Token { state: State::Disabled, state_set_by: Some(SetBy::Developer), ..token() };
    let revoked = Token { state: State::Revoked, ..token() };
    for (before, change) in [
        (token(), Change::Edit(&patch)),
        (token(), Change::Disable),
        (disabled, Change::Enable),
        (token(), Change::Revoke),
        (revoked, Change::Reapprove),
        (token(), Change::Rotate { secret: &secret, grace_seconds: 0 }),
        (token(), Change::IdleDisable { idle_days: 90 }),
        (token(), Change::Leak { finding: LeakFinding::Flag, why: "r" }),
    ] {
        let (after, _) = done(&before, change, ADMIN);
        assert_eq!((after.version, after.updated_at), (5, NOW), "{change:?}");
        assert_eq!((after.id, after.created_at), (before.id, before.created_at));
    }
}

#[test]
fn an_edit_changes_what_it_names_and_tells_people_only_of_access() {
    let t = token();
    let same = TokenPatch { label: Some("ci".into()), ..TokenPatch::default() };
    assert_eq!(apply(&t, Change::Edit(&same), DEV, NOW), Ok(None), "nothing changes: no outcome");
    let words = TokenPatch {
        label: Some("cd".into()),
        description: Some(Some("d".into())),
        logo: Some(Some("data:x".into())),
        ..TokenPatch::default()
    };
    let (after, o) = done(&t, Change::Edit(&words), DEV);
    assert_eq!(
        (after.label.as_str(), after.description.as_deref(), after.logo.as_deref()),
        ("cd", Some("d"), Some("data:x"))
    );
    assert_eq!(o.changed, ["label", "description", "logo"]);
    assert_eq!(o.summary, "Edited \"cd\": label, description, logo");
    assert_eq!((o.action, o.notice), (Action::TokenUpdated, None), "words only: nobody is told");
    for patch in [
        TokenPatch { scopes: Some(vec![]), ..TokenPatch::default() },
        TokenPatch { role: Some(Role::Admin), ..TokenPatch::default() },
        TokenPatch { allowed_cidrs: Some(vec!["10.0.0.0/8".into()]), ..TokenPatch::default() },
    ] {
        let (after, o) = done(&t, Change::Edit(&patch), ADMIN);
        assert_eq!(o.notice.map(|n| n.verb), Some("edited".into()), "{patch:?}");
        assert_eq!(o.changed.len(), 1);
        assert!(after.scopes.is_empty() || after.role == Role::Admin || !after.allowed_cidrs.is_empty());
    }
    let (_, o) = done(
        &t,
        Change::Edit(&TokenPatch { allowed_cidrs: Some(vec!["::/0".into()]), ..TokenPatch::default() }),
        ADMIN,
    );
    assert_eq!(o.changed, ["allowed networks"]);
    let cleared = TokenPatch { description: Some(None), ..TokenPatch::default() };
    let described = Token { description: Some("x".into()), ..t };
    assert_eq!(done(&described, Change::Edit(&cleared), DEV).0.description, None);
}

#[test]
fn restrictions_record_who_made_them() {
    let (after, o) = done(&token(), Change::Disable, DEV);
    assert_eq!((after.state, after.state_set_by), (State::Disabled, Some(SetBy::Developer)));
    assert_eq!((o.action, o.summary.as_str()), (Action::TokenDisabled, "Disabled \"ci\" (kw_••••••••abcd)"));
    assert_eq!(o.notice, Some(Notice { verb: "disabled".into(), text: None, urgent: false }));
    // an admin takes over a developer's own disable: the state stays, and becomes the admin's
    let (over, o) = done(&after, Change::Disable, ADMIN);
    assert_eq!((over.state, over.state_set_by, o.action), (State::Disabled, Some(SetBy::Admin), Action::TokenDisabled));
    // a developer revoking what an admin disabled keeps it the admin's
    let (revoked, o) = done(&over, Change::Revoke, DEV);
    assert_eq!(
        (revoked.state, revoked.state_set_by, revoked.revoked_at),
        (State::Revoked, Some(SetBy::Admin), Some(NOW))
    );
    assert_eq!(o.summary, "Revoked \"ci\" (kw_••••••••abcd)");
    // an admin taking over a developer's revoke keeps the time it was revoked
    let earlier = Timestamp::from_millis(5);
    let own =
        Token { state: State::Revoked, state_set_by: Some(SetBy::Developer), revoked_at: Some(earlier), ..token() };
    let (taken, _) = done(&own, Change::Revoke, ADMIN);
    assert_eq!((taken.state_set_by, taken.revoked_at), (Some(SetBy::Admin), Some(earlier)));
    // a repeat that takes nothing over is a conflict
    assert_eq!(apply(&own, Change::Revoke, DEV, NOW), Err(Refused::AlreadyRevoked));
    assert_eq!(apply(&after, Change::Disable, DEV, NOW), Err(Refused::NotActive));
    // keyward and reports restrict in their own names
    assert_eq!(done(&token(), Change::Disable, By::Keyward).0.state_set_by, Some(SetBy::System));
    assert_eq!(done(&token(), Change::Revoke, By::Report).0.state_set_by, Some(SetBy::Report));
}

/// Found by a red-team pass: revoke, then re-approve, brought a rotated-out secret back for the
/// rest of its grace. While revoked it still answers REVOKED; re-approved, it is gone.
#[test]
fn reapproving_does_not_revive_the_previous_secret() {
    let grace = Token { previous_hash: Some("h0".into()), previous_valid_until: Some(NOW.plus_seconds(60)), ..token() };
    let (revoked, _) = done(&grace, Change::Revoke, DEV);
    assert_eq!(revoked.previous_valid_until, Some(NOW.plus_seconds(60)), "revoked, it answers REVOKED");
    let (back, _) = done(&revoked, Change::Reapprove, DEV);
    assert_eq!(back.previous_valid_until, Some(NOW), "re-approved, it is over");
    // a grace already over is left as it was
    let over = Token { state: State::Revoked, previous_valid_until: Some(Timestamp::from_millis(3)), ..grace.clone() };
    assert_eq!(done(&over, Change::Reapprove, ADMIN).0.previous_valid_until, Some(Timestamp::from_millis(3)));
    let at_now = Token { state: State::Revoked, previous_valid_until: Some(NOW), ..grace.clone() };
    assert_eq!(done(&at_now, Change::Reapprove, ADMIN).0.previous_valid_until, Some(NOW));
    assert_eq!(
        done(&Token { state: State::Revoked, ..token() }, Change::Reapprove, ADMIN).0.previous_valid_until,
        None
    );
    // a disable is temporary: enabling keeps the grace
    let (off, _) = done(&grace, Change::Disable, DEV);
    assert_eq!(done(&off, Change::Enable, DEV).0.previous_valid_until, Some(NOW.plus_seconds(60)));
}

#[test]
fn enabling_and_reapproving_stamp_when() {
    let disabled = Token { state: State::Disabled, state_set_by: Some(SetBy::Admin), ..token() };
    let (on, o) = done(&disabled, Change::Enable, ADMIN);
    assert_eq!((on.state, on.enabled_at, on.state_set_by), (State::Active, Some(NOW), Some(SetBy::Admin)));
    assert_eq!((o.action, o.notice.map(|n| n.verb)), (Action::TokenEnabled, Some("enabled".into())));
    let revoked = Token { state: State::Revoked, revoked_at: Some(Timestamp::from_millis(9)), ..token() };
    let (back, o) = done(&revoked, Change::Reapprove, ADMIN);
    assert_eq!((back.state, back.revoked_at, back.enabled_at), (State::Active, None, Some(NOW)));
    assert_eq!((o.action, o.summary.as_str()), (Action::TokenReapproved, "Re-approved \"ci\" (kw_••••••••abcd)"));
    assert_eq!(apply(&token(), Change::Enable, ADMIN, NOW), Err(Refused::NotDisabled));
    let expired = Token { expires_at: Some(NOW), ..revoked };
    assert_eq!(apply(&expired, Change::Reapprove, ADMIN, NOW), Err(Refused::ExpiredReapprove));
}

#[test]
fn a_rotation_keeps_the_old_hash_only_for_its_grace() {
    let secret = Secret::generate(&Prefix::default(), &SeqRandom::new(7)).unwrap();
    let (after, o) = done(&token(), Change::Rotate { secret: &secret, grace_seconds: 60 }, DEV);
    assert_eq!((after.hash, after.hint.as_str(), after.prefix.as_str()), (secret.hash(), secret.hint(), "kw"));
    assert_eq!(after.previous_hash.as_deref(), Some("h1"));
    assert_eq!((after.previous_valid_until, after.rotated_at), (Some(NOW.plus_seconds(60)), Some(NOW)));
    assert_eq!(after.state, State::Active);
    let masked = format!("kw_••••••••{}", secret.hint());
    assert_eq!(
        o.summary,
        format!("Rotated \"ci\": {masked} replaces kw_••••••••abcd, old secret valid until {}", NOW.plus_seconds(60))
    );
    assert_eq!((o.action, o.notice.map(|n| n.verb)), (Action::TokenRotated, Some("rotated".into())));
    let (now, o) = done(&token(), Change::Rotate { secret: &secret, grace_seconds: 0 }, DEV);
    assert_eq!((now.previous_hash, now.previous_valid_until), (None, None));
    assert!(o.summary.ends_with(", old secret stopped at once"), "{}", o.summary);
    let disabled = Token { state: State::Disabled, ..token() };
    assert_eq!(done(&disabled, Change::Rotate { secret: &secret, grace_seconds: 0 }, DEV).0.state, State::Disabled);
    let revoked = Token { state: State::Revoked, ..token() };
    assert_eq!(
        apply(&revoked, Change::Rotate { secret: &secret, grace_seconds: 0 }, DEV, NOW),
        Err(Refused::RevokedRotate)
    );
    let expired = Token { expires_at: Some(NOW), ..token() };
    assert_eq!(
        apply(&expired, Change::Rotate { secret: &secret, grace_seconds: 0 }, DEV, NOW),
        Err(Refused::ExpiredRotate)
    );
}

#[test]
fn delete_leaves_no_record_and_tells_people() {
    let o = apply(&token(), Change::Delete, DEV, NOW).unwrap().unwrap();
    assert_eq!(o.after, None);
    assert_eq!((o.action, o.summary.as_str()), (Action::TokenDeleted, "Deleted \"ci\" (kw_••••••••abcd)"));
    assert_eq!(o.notice.map(|n| n.verb), Some("deleted".into()));
    let revoked = Token { state: State::Revoked, expires_at: Some(NOW), ..token() };
    assert!(apply(&revoked, Change::Delete, DEV, NOW).unwrap().is_some(), "from any state");
}

#[test]
fn keyward_disables_an_idle_token_in_its_own_name() {
    let (after, o) = done(&token(), Change::IdleDisable { idle_days: 90 }, By::Keyward);
    assert_eq!((after.state, after.state_set_by), (State::Disabled, Some(SetBy::System)));
    assert_eq!(o.summary, "Disabled \"ci\" (kw_••••••••abcd) by keyward: unused for 90 days");
    let n = o.notice.unwrap();
    assert_eq!(n.verb, "disabled");
    assert_eq!(
        n.text.unwrap(),
        format!("keyward disabled the personal developer token \"ci\" (kw_••••••••abcd) at {NOW}: unused for 90 days (the org's policy). An admin can enable it again.")
    );
}

#[test]
fn leak_reports_find_and_act() {
    let t = token();
    let grace = Token { previous_hash: Some("h0".into()), previous_valid_until: Some(NOW.plus_seconds(1)), ..token() };
    let of = |t: &Token, hash: &str, scanner: bool, policy: OnLeak| LeakFinding::of(t, hash, scanner, policy, NOW);
    assert_eq!(of(&t, "h1", true, OnLeak::Revoke), Some(LeakFinding::Revoke));
    assert_eq!(of(&t, "h1", true, OnLeak::Notify), Some(LeakFinding::Flag));
    assert_eq!(of(&t, "h1", false, OnLeak::Notify), Some(LeakFinding::Revoke), "the holder's own report revokes");
    assert_eq!(of(&t, "h9", true, OnLeak::Revoke), None);
    assert_eq!(of(&grace, "h0", true, OnLeak::Notify), Some(LeakFinding::InGrace));
    let ended = Token { previous_valid_until: Some(NOW), ..grace.clone() };
    assert_eq!(of(&ended, "h0", true, OnLeak::Revoke), None, "a grace that ended is no live secret");
    assert_eq!(of(&Token { expires_at: Some(NOW), ..token() }, "h1", true, OnLeak::Revoke), None);
    let disabled = Token { state: State::Disabled, ..token() };
    assert_eq!(of(&disabled, "h1", true, OnLeak::Revoke), Some(LeakFinding::Revoke), "disabled is still live");
    let by_dev = Token { state: State::Revoked, state_set_by: Some(SetBy::Developer), ..token() };
    assert_eq!(of(&by_dev, "h1", true, OnLeak::Revoke), Some(LeakFinding::AfterRevocation));
    let by_admin = Token { state_set_by: Some(SetBy::Admin), ..by_dev.clone() };
    assert_eq!(of(&by_admin, "h1", true, OnLeak::Revoke), None);
    assert!(!LeakFinding::AfterRevocation.was_live());
    assert!([LeakFinding::InGrace, LeakFinding::Flag, LeakFinding::Revoke].iter().all(|f| f.was_live()));

    let leak = |t: &Token, finding| done(t, Change::Leak { finding, why: "found in a repo" }, By::Report);
    let (after, o) = leak(&t, LeakFinding::Revoke);
    assert_eq!((after.state, after.state_set_by, after.revoked_at), (State::Revoked, Some(SetBy::Report), Some(NOW)));
    assert_eq!(o.summary, "Revoked \"ci\" (kw_••••••••abcd) on a leak report: found in a repo");
    assert_eq!((o.action, o.notice.map(|n| n.verb)), (Action::TokenRevoked, Some("revoked".into())));
    let (after, o) = leak(&t, LeakFinding::Flag);
    assert_eq!((after.state, after.state_set_by), (State::Active, None));
    assert_eq!(
        o.summary,
        "Reported leaked, \"ci\" (kw_••••••••abcd) left as it is (policy on_leak: notify): found in a repo"
    );
    assert_eq!((o.action, o.notice.map(|n| n.verb)), (Action::TokenLeaked, Some("flagged as leaked".into())));
    let (after, o) = leak(&grace, LeakFinding::InGrace);
    assert_eq!((after.previous_valid_until, after.state), (Some(NOW), State::Active));
    assert_eq!(o.summary, "Ended the grace of the previous secret of \"ci\": found in a repo");
    assert_eq!(o.notice.map(|n| n.verb), Some("flagged as leaked (its previous secret stopped at once)".into()));
    let (after, o) = leak(&by_dev, LeakFinding::AfterRevocation);
    assert_eq!((after.state, after.state_set_by), (State::Revoked, Some(SetBy::Report)));
    assert_eq!(o.summary, "Reported leaked after its revocation, \"ci\" stays revoked: found in a repo");
    assert_eq!((o.action, o.notice), (Action::TokenLeaked, None), "nobody is told again");
}

#[test]
fn a_new_token_is_described_with_its_owner() {
    let o = created(&token(), Some("ada@x.io"), None);
    assert_eq!(o.summary, "Created personal developer token \"ci\" (kw_••••••••abcd) for ada@x.io");
    assert_eq!((o.action, o.after), (Action::TokenCreated, Some(token())));
    assert_eq!(o.notice.map(|n| n.verb), Some("created".into()));
    let org = Token { kind: Kind::Org, owner_member_id: None, role: Role::Admin, ..token() };
    assert_eq!(created(&org, None, None).summary, "Created org admin token \"ci\" (kw_••••••••abcd)");
}

#[test]
fn metering_edits_say_what_they_do_to_the_meter() {
    use crate::domain::meter::{CreditPlan, Interval, Meter, RateLimit, Refill};
    use crate::domain::validate::CreditsSpec;
    let daily = Refill { amount: 9, interval: Interval::Day, day_of_month: None };
    let edit = |t: &Token, p: TokenPatch| apply(t, Change::Edit(&p), By::Caller(Role::Admin), NOW).unwrap();
    let credited = |refill| Token { credits: Some(CreditPlan { refill, shared: false }), ..token() };
    // a balance: written, and audited as a change of the credits
    let spec = |remaining, refill| Some(Some(CreditsSpec { remaining, refill, shared: None }));
    let o = edit(&credited(None), TokenPatch { credits: spec(Some(5), None), ..TokenPatch::default() }).unwrap();
    assert_eq!((o.meter, o.changed.clone()), (Some(MeterChange::Balance(5)), vec!["credits"]));
    assert_eq!(o.after.as_ref().map(|t| t.version), Some(token().version + 1));
    // a new refill with the balance kept: refills count from now
    let o = edit(&credited(None), TokenPatch { credits: spec(None, Some(Some(daily))), ..TokenPatch::default() });
    assert_eq!(o.unwrap().meter, Some(MeterChange::RefillFromNow));
    // the same refill again: nothing changes at all
    let same = TokenPatch { credits: spec(None, Some(Some(daily))), ..TokenPatch::default() };
    assert_eq!(edit(&credited(Some(daily)), same), None);
    // removing the refill, or the credits, leaves the meter alone
    let o = edit(&credited(Some(daily)), TokenPatch { credits: spec(None, Some(None)), ..TokenPatch::default() });
    assert_eq!(o.unwrap().meter, None);
    let o = edit(&credited(Some(daily)), TokenPatch { credits: Some(None), ..TokenPatch::default() }).unwrap();
    assert_eq!((o.meter, o.after.unwrap().credits), (None, None));
    // credits added to a token without any: the balance is what is written
    let o = edit(&token(), TokenPatch { credits: spec(Some(2), Some(Some(daily))), ..TokenPatch::default() });
    assert_eq!(o.unwrap().meter, Some(MeterChange::Balance(2)));
    // a rate limit is plan only
    let limit = Some(Some(RateLimit { limit: 3, period_s: 60, shared: false }));
    let o = edit(&token(), TokenPatch { ratelimit: limit, ..TokenPatch::default() }).unwrap();
    assert_eq!((o.meter, o.changed), (None, vec!["rate limit"]));
    // what each change makes of a meter
    let m = Meter::default().with_balance(4, Timestamp::from_millis(0));
    assert_eq!(MeterChange::RefillFromNow.apply(m.clone(), NOW), Meter { refilled_at: Some(NOW), ..m.clone() });
    assert_eq!(MeterChange::Balance(7).apply(m, NOW).remaining, Some(7));
    let created_with = created(&credited(None), None, Some(3));
    assert_eq!(created_with.meter, Some(MeterChange::Balance(3)));
    assert_eq!(created(&token(), None, Some(3)).meter, None, "no credits, no balance");
}
