//! Telling people in time: expiry warnings, and the idle-token policy (issue "Tell people in
//! time"). Pure: given a token, what the authority remembers about it ([`Watch`]) and `now`,
//! what is due, and when the next thing will be.
//!
//! - **Expiry warnings**: 7 days and 1 day before `expires_at`, once each. A warning whose moment
//!   came before the token was created is skipped (a token made to live 3 days gets only the
//!   1-day warning). When the authority was asleep past several moments, only the most urgent
//!   is sent.
//! - **Idle tokens** (`policy.disable_after_idle_days`, off by default): a token unused for that
//!   many days is disabled by the system. "Unused" counts from the latest of its creation, its
//!   last valid verification and its last enable or re-approval. A warning goes out 7 days before
//!   (halfway through the idle period when that is 7 days or less), once per idle period.
//!
//! Only active, unexpired tokens get either.

use serde::{Deserialize, Serialize};

use super::model::{State, Token};
use super::Timestamp;

/// Days before expiry at which a warning goes out, least urgent first.
pub const EXPIRY_WARNING_DAYS: [u32; 2] = [7, 1];
/// Days before an idle token is disabled at which its warning goes out.
pub const IDLE_WARNING_DAYS: i64 = 7;
/// Longest idle period an org may set.
pub const MAX_IDLE_DAYS: u32 = 365;

const MS_PER_DAY: i64 = 86_400_000;

/// What the authority remembers about a token for these reminders. Kept apart from the token
/// record so that neither a warning nor a use changes the token's version (its `ETag`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watch {
    /// The last valid verification the authority has heard of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<Timestamp>,
    /// The most urgent expiry warning sent (days before expiry) and the expiry it was for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_warned: Option<(Timestamp, u32)>,
    /// The idle deadline the last idle warning was for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_warned_for: Option<Timestamp>,
}

/// Something due for a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Due {
    /// Warn that the token expires in `days` days (at `expires_at`).
    Expiry {
        /// 7 or 1.
        days: u32,
        /// The expiry.
        expires_at: Timestamp,
    },
    /// Warn that the token will be disabled at `disable_at` unless it is used.
    IdleWarning {
        /// The deadline.
        disable_at: Timestamp,
    },
    /// Disable the token: unused for the org's whole idle period.
    IdleDisable {
        /// Days of the period.
        idle_days: u32,
    },
}

/// Since when the token counts as unused.
#[must_use]
pub fn idle_since(t: &Token, w: &Watch) -> Timestamp {
    [Some(t.created_at), t.enabled_at, w.last_used_at].into_iter().flatten().max().unwrap_or(t.created_at)
}

/// The idle deadline and its warning moment, for a period of `days`.
fn idle_moments(t: &Token, w: &Watch, days: u32) -> (Timestamp, Timestamp) {
    let since = idle_since(t, w);
    let deadline = since.plus_days(i64::from(days));
    let warn = if i64::from(days) > IDLE_WARNING_DAYS {
        deadline.plus_days(-IDLE_WARNING_DAYS)
    } else {
        Timestamp::from_millis(since.as_millis() + i64::from(days) * MS_PER_DAY / 2)
    };
    (deadline, warn)
}

/// The expiry-warning level that is due at `now`, if any.
fn expiry_due(t: &Token, w: &Watch, now: Timestamp) -> Option<Due> {
    let exp = t.expires_at?;
    let already = w.expiry_warned.filter(|(e, _)| *e == exp).map(|(_, d)| d);
    EXPIRY_WARNING_DAYS
        .iter()
        .rev()
        .map(|d| (*d, exp.plus_days(-i64::from(*d))))
        .find(|(_, moment)| *moment <= now && *moment > t.created_at)
        .filter(|(d, _)| already.is_none_or(|a| *d < a))
        .map(|(days, _)| Due::Expiry { days, expires_at: exp })
}

/// Everything due for `t` at `now` (at most one expiry warning, and either the idle warning or
/// the idle disable). `idle_days` is the org's `disable_after_idle_days`.
#[must_use]
pub fn due(t: &Token, w: &Watch, idle_days: Option<u32>, now: Timestamp) -> Vec<Due> {
    if t.state != State::Active || t.is_expired(now) {
        return Vec::new();
    }
    let mut out: Vec<Due> = expiry_due(t, w, now).into_iter().collect();
    if let Some(days) = idle_days {
        let (deadline, warn) = idle_moments(t, w, days);
        if now >= deadline {
            out.push(Due::IdleDisable { idle_days: days });
        } else if now >= warn && w.idle_warned_for != Some(deadline) {
            out.push(Due::IdleWarning { disable_at: deadline });
        }
    }
    out
}

/// When something will next be due for `t`, if ever (the moment may be now or past when
/// something is due already).
#[must_use]
pub fn next_due(t: &Token, w: &Watch, idle_days: Option<u32>, now: Timestamp) -> Option<Timestamp> {
    if t.state != State::Active || t.is_expired(now) {
        return None;
    }
    if !due(t, w, idle_days, now).is_empty() {
        return Some(now);
    }
    let mut next: Option<Timestamp> = None;
    let mut consider = |at: Timestamp| next = Some(next.map_or(at, |n| n.min(at)));
    if let Some(exp) = t.expires_at {
        let already = w.expiry_warned.filter(|(e, _)| *e == exp).map(|(_, d)| d);
        for d in EXPIRY_WARNING_DAYS {
            let moment = exp.plus_days(-i64::from(d));
            if moment > now && moment > t.created_at && already.is_none_or(|a| d < a) {
                consider(moment);
            }
        }
    }
    if let Some(days) = idle_days {
        let (deadline, warn) = idle_moments(t, w, days);
        if warn > now && w.idle_warned_for != Some(deadline) {
            consider(warn);
        }
        consider(deadline);
    }
    next.filter(|n| t.expires_at.is_none_or(|e| *n < e))
}

/// Remember that `d` was sent or done.
pub fn mark(w: &mut Watch, d: Due) {
    match d {
        Due::Expiry { days, expires_at } => w.expiry_warned = Some((expires_at, days)),
        Due::IdleWarning { disable_at } => w.idle_warned_for = Some(disable_at),
        Due::IdleDisable { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::{Kind, Role};
    use super::*;

    const T0: Timestamp = Timestamp::from_millis(1_800_000_000_000);

    fn token(expires_in_days: Option<i64>) -> Token {
        Token {
            id: "tok_1".into(),
            org_id: "org_1".into(),
            kind: Kind::Org,
            owner_member_id: None,
            created_by: "mem_1".into(),
            created_with: None,
            label: "ci".into(),
            description: None,
            logo: None,
            role: Role::Developer,
            scopes: vec![],
            allowed_cidrs: vec![],
            created_at: T0,
            updated_at: T0,
            expires_at: expires_in_days.map(|d| T0.plus_days(d)),
            state: State::Active,
            revoked_at: None,
            state_set_by: None,
            hint: "abcd".into(),
            prefix: "kw".into(),
            rotated_at: None,
            previous_valid_until: None,
            hash: String::new(),
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

    fn at(days: i64, seconds: i64) -> Timestamp {
        T0.plus_days(days).plus_seconds(seconds)
    }

    #[test]
    fn expiry_warnings_come_once_each() {
        let t = token(Some(30));
        let mut w = Watch::default();
        assert_eq!(next_due(&t, &w, None, T0), Some(at(23, 0)));
        assert!(due(&t, &w, None, at(23, -1)).is_empty());
        let d = due(&t, &w, None, at(23, 0));
        assert_eq!(d, vec![Due::Expiry { days: 7, expires_at: at(30, 0) }]);
        mark(&mut w, d[0]);
        assert!(due(&t, &w, None, at(25, 0)).is_empty());
        assert_eq!(next_due(&t, &w, None, at(23, 0)), Some(at(29, 0)));
        let d = due(&t, &w, None, at(29, 0));
        assert_eq!(d, vec![Due::Expiry { days: 1, expires_at: at(30, 0) }]);
        mark(&mut w, d[0]);
        assert!(due(&t, &w, None, at(29, 3600)).is_empty());
        assert_eq!(next_due(&t, &w, None, at(29, 1)), None);
        assert!(due(&t, &w, None, at(30, 0)).is_empty(), "expired: nothing");
    }

    #[test]
    fn a_late_wake_sends_only_the_most_urgent_warning() {
        let t = token(Some(30));
        let w = Watch::default();
        assert_eq!(due(&t, &w, None, at(29, 10)), vec![Due::Expiry { days: 1, expires_at: at(30, 0) }]);
    }

    #[test]
    fn a_short_lived_token_skips_warnings_before_its_birth() {
        let t = token(Some(3));
        let w = Watch::default();
        assert!(due(&t, &w, None, T0).is_empty());
        assert_eq!(next_due(&t, &w, None, T0), Some(at(2, 0)));
        assert_eq!(due(&t, &w, None, at(2, 0)), vec![Due::Expiry { days: 1, expires_at: at(3, 0) }]);
        assert_eq!(next_due(&token(Some(1)), &w, None, T0), None);
    }

    #[test]
    fn a_new_expiry_is_warned_about_again() {
        let mut t = token(Some(30));
        let mut w = Watch::default();
        mark(&mut w, Due::Expiry { days: 1, expires_at: at(30, 0) });
        t.expires_at = Some(at(60, 0));
        assert_eq!(due(&t, &w, None, at(53, 0)), vec![Due::Expiry { days: 7, expires_at: at(60, 0) }]);
    }

    #[test]
    fn idle_tokens_are_warned_then_disabled() {
        let t = token(None);
        let mut w = Watch::default();
        assert_eq!(next_due(&t, &w, Some(30), T0), Some(at(23, 0)));
        assert!(due(&t, &w, Some(30), at(23, -1)).is_empty());
        let d = due(&t, &w, Some(30), at(23, 0));
        assert_eq!(d, vec![Due::IdleWarning { disable_at: at(30, 0) }]);
        mark(&mut w, d[0]);
        assert!(due(&t, &w, Some(30), at(24, 0)).is_empty());
        assert_eq!(next_due(&t, &w, Some(30), at(24, 0)), Some(at(30, 0)));
        assert_eq!(due(&t, &w, Some(30), at(30, 0)), vec![Due::IdleDisable { idle_days: 30 }]);
        assert!(due(&t, &w, None, at(300, 0)).is_empty(), "policy off: nothing");
    }

    #[test]
    fn use_and_enable_restart_the_idle_clock() {
        let mut t = token(None);
        let mut w = Watch { idle_warned_for: Some(at(30, 0)), ..Watch::default() };
        w.last_used_at = Some(at(25, 0));
        assert!(due(&t, &w, Some(30), at(30, 0)).is_empty());
        assert_eq!(due(&t, &w, Some(30), at(48, 0)), vec![Due::IdleWarning { disable_at: at(55, 0) }]);
        t.enabled_at = Some(at(50, 0));
        assert_eq!(next_due(&t, &w, Some(30), at(50, 0)), Some(at(73, 0)));
    }

    #[test]
    fn short_idle_periods_warn_halfway() {
        let t = token(None);
        let w = Watch::default();
        assert_eq!(next_due(&t, &w, Some(4), T0), Some(at(2, 0)));
        assert_eq!(due(&t, &w, Some(4), at(2, 0)), vec![Due::IdleWarning { disable_at: at(4, 0) }]);
        assert_eq!(due(&t, &w, Some(4), at(4, 0)), vec![Due::IdleDisable { idle_days: 4 }]);
    }

    /// Boundaries the first mutation run of this module found unchecked.
    #[test]
    fn next_due_boundaries() {
        // A seven-day idle period warns halfway, not at its start.
        assert_eq!(next_due(&token(None), &Watch::default(), Some(7), T0), Some(T0.plus_seconds(302_400)));
        // Warned 7 days ahead already: the 1-day warning is next, even asked early.
        let t = token(Some(30));
        let seven = Watch { expiry_warned: Some((at(30, 0), 7)), ..Watch::default() };
        assert_eq!(next_due(&t, &seven, None, at(10, 0)), Some(at(29, 0)));
        // ...but a warning for another expiry does not count.
        let other = Watch { expiry_warned: Some((at(60, 0), 7)), ..Watch::default() };
        assert_eq!(next_due(&t, &other, None, at(10, 0)), Some(at(23, 0)));
        // Both warnings sent: nothing more for the expiry.
        let both = Watch { expiry_warned: Some((at(30, 0), 1)), ..Watch::default() };
        assert_eq!(next_due(&t, &both, None, at(10, 0)), None);
        // A token made to live exactly 7 days: its 7-day moment is its birth, skipped.
        assert_eq!(next_due(&token(Some(7)), &Watch::default(), None, T0), Some(at(6, 0)));
        // Idle warning sent: the deadline is next, not the warning again.
        let warned = Watch { idle_warned_for: Some(at(30, 0)), ..Watch::default() };
        assert_eq!(next_due(&token(None), &warned, Some(30), at(10, 0)), Some(at(30, 0)));
        // An idle deadline at the very expiry never comes.
        let t = token(Some(10));
        let done = Watch { expiry_warned: Some((at(10, 0), 1)), idle_warned_for: Some(at(10, 0)), ..Watch::default() };
        assert_eq!(next_due(&t, &done, Some(10), at(9, 43_200)), None);
    }

    #[test]
    fn only_active_unexpired_tokens() {
        let mut t = token(Some(30));
        t.state = State::Disabled;
        assert!(due(&t, &Watch::default(), Some(1), at(29, 0)).is_empty());
        assert_eq!(next_due(&t, &Watch::default(), Some(1), T0), None);
        let t = token(Some(10));
        // The idle deadline after the expiry never comes.
        assert_eq!(
            next_due(&t, &Watch { expiry_warned: Some((at(10, 0), 1)), ..Watch::default() }, Some(30), at(9, 1)),
            None
        );
    }
}
