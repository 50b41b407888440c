//! A token's life, written once: every change to a token record — create, edit, disable,
//! enable, revoke, re-approve, rotate, a leak report, keyward's idle disable, delete — is one
//! pure function here that checks the transition, decides who holds a restriction
//! (`state_set_by`), bumps the version and says what changed: the new record, the audit action
//! and summary, the fields that changed and what people are told. The service records an
//! [`Outcome`] in one place (`Service::record`: put, remind, project, audit, notify, commit).
//!
//! Who may ask for a change (reach, keyward scopes, the role ceiling, undoing a restriction) is
//! the service's to decide first; this module decides what the change *is*.
//!
//! A member's deactivation is not a token change: no token record moves, only what the verify
//! projection says of the member's tokens (`projection::changes` with the owner before and after).

use super::model::{Action, OnLeak, SetBy, State, Token};
use super::notice::named;
use super::policy::{grace_end, next_state, restricted_by, takes_over, Refused, Transition};
use super::time::Timestamp;
use super::token::Secret;
use super::validate::TokenPatch;
use super::Role;

/// Who makes a change: a caller acting with its effective role, keyward itself, or a leak report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    /// A call made with a token acting as this role.
    Caller(Role),
    /// keyward itself (the idle-token policy).
    Keyward,
    /// A leak report (a scanner's, or the holder's own).
    Report,
}

/// What a leak report finds the reported secret to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeakFinding {
    /// The previous secret of a rotation, still in its grace: the grace ends now.
    InGrace,
    /// The current secret of a live token, to be revoked (the report's revocation).
    Revoke,
    /// The current secret of a live token, reported by a scanner under `on_leak: notify`.
    Flag,
    /// The current secret of a token its developer had revoked: it stays revoked, but the
    /// revocation becomes the report's, so only an admin may re-approve it.
    AfterRevocation,
}

impl LeakFinding {
    /// What a report of the secret hashing to `hash` finds `t` to be at `now`, or `None` when it
    /// is no secret of a live token (nothing to do). `scanner`: the report comes from a secret
    /// scanner (whose reports the org's `on_leak` policy governs), not the holder.
    #[must_use]
    pub fn of(t: &Token, hash: &str, scanner: bool, on_leak: OnLeak, now: Timestamp) -> Option<Self> {
        let in_grace = t.previous_hash.as_deref() == Some(hash) && t.previous_valid_until.is_some_and(|g| now < g);
        let current = t.hash == hash;
        if current && t.state == State::Revoked {
            return super::policy::may_undo(t.state_set_by, Role::Developer).then_some(Self::AfterRevocation);
        }
        if in_grace {
            Some(Self::InGrace)
        } else if !current || t.is_expired(now) {
            None
        } else if scanner && on_leak == OnLeak::Notify {
            Some(Self::Flag)
        } else {
            Some(Self::Revoke)
        }
    }

    /// Whether the reported secret was live (the report's answer).
    #[must_use]
    pub const fn was_live(self) -> bool {
        !matches!(self, Self::AfterRevocation)
    }
}

/// A change to an existing token.
#[derive(Clone, Copy, Debug)]
pub enum Change<'a> {
    /// Label, description, logo, scopes, role, networks (checked by `validate::token_patch`, and
    /// the role against the owner's by the service).
    Edit(&'a TokenPatch),
    /// active → disabled (or an admin taking over a developer's own disable).
    Disable,
    /// disabled → active.
    Enable,
    /// active | disabled → revoked (or an admin taking over a developer's own revoke).
    Revoke,
    /// revoked and unexpired → active.
    Reapprove,
    /// A new secret; the old one verifies `grace_seconds` more (at once with 0).
    Rotate {
        /// The new secret (only its hash, hint and prefix are kept).
        secret: &'a Secret,
        /// How long the replaced secret still verifies.
        grace_seconds: u32,
    },
    /// A leak report found the token, as `finding` says; `why` names the report for people.
    Leak {
        /// What the report found.
        finding: LeakFinding,
        /// The report, in people's words.
        why: &'a str,
    },
    /// keyward disables a token unused for `idle_days` (the org's policy).
    IdleDisable {
        /// The policy's number of days.
        idle_days: u32,
    },
    /// Gone for good, from any state.
    Delete,
}

/// What people are told of a change (a notification to the admins and the owner, an email,
/// a webhook event).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// The change in words: "revoked", "flagged as leaked", …
    pub verb: String,
    /// The body's first sentence, when "<who> <verb> the token … at <time>." does not fit.
    pub text: Option<String>,
    /// Emailed to every admin at once, whatever the org's email policy (a recovery token).
    pub urgent: bool,
}

impl Notice {
    fn verb(verb: &str) -> Option<Self> {
        Some(Self { verb: verb.to_owned(), text: None, urgent: false })
    }
}

/// What a change did: the record after it (`None`: deleted), its audit action and summary, the
/// fields that changed, and what people are told (`None`: nobody, the change is not
/// security-relevant).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The record after the change; `None` once deleted.
    pub after: Option<Token>,
    /// The audit action.
    pub action: Action,
    /// The audit summary (never a secret: tokens are named by label and masked form).
    pub summary: String,
    /// The fields that changed, in people's words (edits only).
    pub changed: Vec<&'static str>,
    /// What people are told, if anything.
    pub notice: Option<Notice>,
    /// What the change does to the token's meter ([`crate::domain::meter::Meter`]), written in
    /// the same commit: a new balance, or a new refill plan whose first refill counts from now.
    pub meter: Option<MeterChange>,
}

/// A change's effect on a token's meter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeterChange {
    /// The balance is set (a new token's, or an admin's edit); refills count from now.
    Balance(u32),
    /// The refill plan changed, the balance kept: its first refill is the first after now, not
    /// one the new plan would have made since the balance was last set.
    RefillFromNow,
}

impl MeterChange {
    /// `meter` after this change at `now`.
    #[must_use]
    pub fn apply(self, meter: crate::domain::meter::Meter, now: Timestamp) -> crate::domain::meter::Meter {
        match self {
            Self::Balance(b) => meter.with_balance(b, now),
            Self::RefillFromNow => meter.refill_from(now),
        }
    }
}

/// A new token `t` (already built from its validated form and secret), for `owner` (the
/// owner's email, for a personal token), starting with `balance` credits if it has credits.
#[must_use]
pub fn created(t: &Token, owner: Option<&str>, balance: Option<u32>) -> Outcome {
    let summary = format!("Created {}{}", named(t), owner.map_or_else(String::new, |email| format!(" for {email}")));
    Outcome {
        after: Some(t.clone()),
        action: Action::TokenCreated,
        summary,
        changed: Vec::new(),
        notice: Notice::verb("created"),
        meter: t.credits.and(balance).map(MeterChange::Balance),
    }
}

/// A recovery token `t` the operator issued for `owner` (the admin's email), when an org's admins
/// cannot sign in: audited as a creation, and every admin is told and emailed at once (whatever
/// the org's email policy), since nobody in the org asked keyward for it.
#[must_use]
pub fn recovery_issued(t: &Token, owner: &str) -> Outcome {
    let until = t.expires_at.map_or_else(String::new, |e| format!(", valid until {e}"));
    let text = format!(
        "The operator issued the recovery admin {} for {owner}{until}. Nobody in your org asked keyward \
         for it: if nobody asked your operator either, tell them.",
        named(t)
    );
    Outcome {
        after: Some(t.clone()),
        action: Action::TokenCreated,
        summary: format!("Issued recovery {} for {owner}", named(t)),
        changed: Vec::new(),
        notice: Some(Notice { verb: "issued for recovery".into(), text: Some(text), urgent: true }),
        meter: None,
    }
}

/// A key brought from elsewhere, `t` (already built from its checked import entry), for `owner`
/// (the owner's email, for a personal key). Audited as a creation; people are told once per
/// import, not once per key: `told` is the import's one notice (on its first key), or `None`.
#[must_use]
pub fn imported(t: &Token, owner: Option<&str>, told: Option<Notice>) -> Outcome {
    let summary = format!("Imported {}{}", named(t), owner.map_or_else(String::new, |email| format!(" for {email}")));
    Outcome {
        after: Some(t.clone()),
        action: Action::TokenCreated,
        summary,
        changed: Vec::new(),
        notice: told,
        meter: None,
    }
}

/// The one notice of an import of `count` keys, told with its `first` key: one key reads as
/// "<who> imported the … token … at <time>."; more say how many.
#[must_use]
pub fn import_notice(first: &Token, count: usize) -> Notice {
    let text = (count > 1).then(|| {
        format!(
            "{count} keys were imported from elsewhere at once, the {} among them. The tokens list marks each \"imported\".",
            named(first)
        )
    });
    Notice { verb: "imported".to_owned(), text, urgent: false }
}

/// `before` changed by `change`, made by `by` at `now`: the outcome, `Ok(None)` when nothing
/// would change (an edit to the same values), or why the token's state or expiry refuses it.
///
/// # Errors
/// [`Refused`] when the transition is not allowed now (answered 409 `CONFLICT`).
pub fn apply(before: &Token, change: Change<'_>, by: By, now: Timestamp) -> Result<Option<Outcome>, Refused> {
    let mut t = before.clone();
    let mut meter = None;
    let (action, summary, changed, notice) = match change {
        Change::Edit(patch) => {
            edit(&mut t, patch);
            let balance = patch.credits.flatten().and_then(|c| c.remaining).filter(|_| t.credits.is_some());
            let refill = |x: &Token| x.credits.and_then(|c| c.refill);
            let replanned = before.credits.is_some() && refill(&t).is_some() && refill(&t) != refill(before);
            meter = balance.map(MeterChange::Balance).or(replanned.then_some(MeterChange::RefillFromNow));
            if t == *before && meter.is_none() {
                return Ok(None);
            }
            let mut changed = changed_fields(before, &t);
            if meter.is_some() && !changed.contains(&"credits") {
                changed.push("credits");
            }
            let access = t.role != before.role || t.scopes != before.scopes || t.allowed_cidrs != before.allowed_cidrs;
            let summary = format!("Edited \"{}\": {}", t.label, changed.join(", "));
            (Action::TokenUpdated, summary, changed, if access { Notice::verb("edited") } else { None })
        }
        Change::Disable | Change::Enable | Change::Revoke | Change::Reapprove => {
            let (action, verb) = restrict_or_restore(&mut t, before, change, by, now)?;
            let summary = format!("{} \"{}\" ({})", capitalized(verb), t.label, t.masked());
            (action, summary, Vec::new(), Notice::verb(verb))
        }
        Change::Rotate { secret, grace_seconds } => {
            next_state(before.state, before.expires_at, Transition::Rotate, now)?;
            let until = grace_end(now, grace_seconds);
            t.hash = secret.hash();
            t.hint = secret.hint().to_owned();
            t.prefix = secret.prefix().to_owned();
            t.rotated_at = Some(now);
            t.previous_valid_until = until;
            t.previous_hash = until.map(|_| before.hash.clone());
            let old = until
                .map_or_else(|| ", old secret stopped at once".to_owned(), |u| format!(", old secret valid until {u}"));
            let summary = format!("Rotated \"{}\": {} replaces {}{old}", t.label, t.masked(), before.masked());
            (Action::TokenRotated, summary, Vec::new(), Notice::verb("rotated"))
        }
        Change::Leak { finding, why } => leak(&mut t, finding, why, now),
        Change::IdleDisable { idle_days } => {
            t.state = State::Disabled;
            t.state_set_by = Some(SetBy::System);
            let summary = format!("Disabled \"{}\" ({}) by keyward: unused for {idle_days} days", t.label, t.masked());
            let text = format!(
                "keyward disabled the {} at {now}: unused for {idle_days} days (the org's policy). An admin can enable it again.",
                named(&t)
            );
            (
                Action::TokenDisabled,
                summary,
                Vec::new(),
                Some(Notice { verb: "disabled".into(), text: Some(text), urgent: false }),
            )
        }
        Change::Delete => {
            let summary = format!("Deleted \"{}\" ({})", before.label, before.masked());
            return Ok(Some(Outcome {
                after: None,
                action: Action::TokenDeleted,
                summary,
                changed: Vec::new(),
                notice: Notice::verb("deleted"),
                meter: None,
            }));
        }
    };
    t.updated_at = now;
    t.version = before.version + 1;
    Ok(Some(Outcome { after: Some(t), action, summary, changed, notice, meter }))
}

/// Disable, enable, revoke or re-approve `t` (a copy of `before`); answers the action and verb.
fn restrict_or_restore(
    t: &mut Token,
    before: &Token,
    change: Change<'_>,
    by: By,
    now: Timestamp,
) -> Result<(Action, &'static str), Refused> {
    let (tr, action, verb) = match change {
        Change::Disable => (Transition::Disable, Action::TokenDisabled, "disabled"),
        Change::Enable => (Transition::Enable, Action::TokenEnabled, "enabled"),
        Change::Revoke => (Transition::Revoke, Action::TokenRevoked, "revoked"),
        _ => (Transition::Reapprove, Action::TokenReapproved, "re-approved"),
    };
    // An admin's disable or revoke of a token a developer already disabled or revoked makes that
    // state the admin's; every other repeat is a conflict.
    let taken_over = matches!(by, By::Caller(role) if takes_over(before.state, before.state_set_by, tr, role));
    if !taken_over {
        t.state = next_state(before.state, before.expires_at, tr, now)?;
    }
    let restricted = match by {
        By::Caller(role) => restricted_by(before.state, before.state_set_by, role),
        By::Keyward => SetBy::System,
        By::Report => SetBy::Report,
    };
    match tr {
        Transition::Disable => t.state_set_by = Some(restricted),
        Transition::Revoke => {
            if !taken_over {
                t.revoked_at = Some(now);
            }
            t.state_set_by = Some(restricted);
        }
        Transition::Reapprove => {
            t.revoked_at = None;
            t.enabled_at = Some(now);
            // Re-approving restores the current secret only: a rotated-out one still in its grace
            // (which the revocation may have been about) stays dead.
            if before.previous_valid_until.is_some_and(|g| now < g) {
                t.previous_valid_until = Some(now);
            }
        }
        _ => t.enabled_at = Some(now),
    }
    Ok((action, verb))
}

/// A leak report's effect on `t`.
fn leak(
    t: &mut Token,
    finding: LeakFinding,
    why: &str,
    now: Timestamp,
) -> (Action, String, Vec<&'static str>, Option<Notice>) {
    match finding {
        LeakFinding::AfterRevocation => {
            t.state_set_by = Some(SetBy::Report);
            let s = format!("Reported leaked after its revocation, \"{}\" stays revoked: {why}", t.label);
            (Action::TokenLeaked, s, Vec::new(), None)
        }
        LeakFinding::InGrace => {
            t.previous_valid_until = Some(now);
            let s = format!("Ended the grace of the previous secret of \"{}\": {why}", t.label);
            (
                Action::TokenLeaked,
                s,
                Vec::new(),
                Notice::verb("flagged as leaked (its previous secret stopped at once)"),
            )
        }
        LeakFinding::Flag => {
            let s = format!(
                "Reported leaked, \"{}\" ({}) left as it is (policy on_leak: notify): {why}",
                t.label,
                t.masked()
            );
            (Action::TokenLeaked, s, Vec::new(), Notice::verb("flagged as leaked"))
        }
        LeakFinding::Revoke => {
            t.state = State::Revoked;
            t.revoked_at = Some(now);
            t.state_set_by = Some(SetBy::Report);
            let s = format!("Revoked \"{}\" ({}) on a leak report: {why}", t.label, t.masked());
            (Action::TokenRevoked, s, Vec::new(), Notice::verb("revoked"))
        }
    }
}

/// Apply an edit's fields to `t`.
fn edit(t: &mut Token, patch: &TokenPatch) {
    if let Some(l) = &patch.label {
        t.label.clone_from(l);
    }
    if let Some(d) = &patch.description {
        t.description.clone_from(d);
    }
    if let Some(l) = &patch.logo {
        t.logo.clone_from(l);
    }
    if let Some(s) = &patch.scopes {
        t.scopes.clone_from(s);
    }
    if let Some(r) = patch.role {
        t.role = r;
    }
    if let Some(c) = &patch.allowed_cidrs {
        t.allowed_cidrs.clone_from(c);
    }
    if let Some(m) = &patch.meta {
        t.meta.clone_from(m);
    }
    if let Some(x) = &patch.external_id {
        t.external_id.clone_from(x);
    }
    if let Some(l) = patch.ratelimit {
        t.ratelimit = l;
    }
    if let Some(c) = patch.credits {
        t.credits = c.map(|c| c.plan(t.credits));
    }
}

/// The fields that differ between `a` and `b`, in people's words.
fn changed_fields(a: &Token, b: &Token) -> Vec<&'static str> {
    [
        (a.label != b.label, "label"),
        (a.description != b.description, "description"),
        (a.logo != b.logo, "logo"),
        (a.scopes != b.scopes, "scopes"),
        (a.role != b.role, "role"),
        (a.allowed_cidrs != b.allowed_cidrs, "allowed networks"),
        (a.meta != b.meta, "metadata"),
        (a.external_id != b.external_id, "external id"),
        (a.ratelimit != b.ratelimit, "rate limit"),
        (a.credits != b.credits, "credits"),
    ]
    .into_iter()
    .filter_map(|(changed, name)| changed.then_some(name))
    .collect()
}

fn capitalized(verb: &str) -> String {
    let mut c = verb.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
