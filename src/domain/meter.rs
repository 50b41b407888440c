//! Per-token rate limits and usage credits: what a token's plan allows, what its meter holds,
//! and the one decision a metered verification makes.
//!
//! The decision is exact because the org authority makes it, one verification at a time, on
//! the records: a credit is never spent twice and a limit never exceeded, however many
//! verifications arrive at once. The plan ([`RateLimit`], [`CreditPlan`]) lives on the token
//! record and changes only with an admin's edit (it has the token's `ETag`); the meter
//! ([`Meter`]: the balance, the window's counts, what was already told) lives in a record of its
//! own, so a verification never changes the token's version.
//!
//! **The window slides.** A fixed window (reset at each full minute, say) lets `2 × limit`
//! through around its edge, which breaks "never more than `limit` in any `period_s`". The meter
//! keeps the valid answers of the last period in [`SLICES`] slices of `period_s / 64` each and,
//! deciding at `t`, counts every slice that overlaps `(t − period_s, t]` whole: it may count a
//! few answers that are already just outside the window (refusing up to 1/64 of a period early),
//! never fewer than are inside it. The state stays at most 64 numbers whatever the limit.

use serde::{Deserialize, Serialize};

use super::time::Timestamp;

/// Largest `ratelimit.limit`.
pub const LIMIT_MAX: u32 = 1_000_000;
/// Longest `ratelimit.period_s` (a day).
pub const PERIOD_MAX_S: u32 = 86_400;
/// Largest `credits.remaining` and `credits.refill.amount`.
pub const CREDITS_MAX: u32 = 1_000_000_000;
/// Largest `cost` of one verification.
pub const COST_MAX: u32 = 1_000;
/// What one verification costs when the caller does not say.
pub const DEFAULT_COST: u32 = 1;
/// Latest `credits.refill.day_of_month` (every month has a 28th).
pub const DAY_OF_MONTH_MAX: u8 = 28;
/// Slices one rate-limit window is counted in.
pub const SLICES: i64 = 64;

/// At most `limit` valid verifications in any `period_s` seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    /// 1..=[`LIMIT_MAX`].
    pub limit: u32,
    /// 1..=[`PERIOD_MAX_S`].
    pub period_s: u32,
    /// One window for every token of the org with the same `external_id` and a shared limit.
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub shared: bool,
}

impl RateLimit {
    /// The width of one slice of the window, in milliseconds (at least 1).
    #[must_use]
    pub fn slice_ms(self) -> i64 {
        let period = i64::from(self.period_s) * 1_000;
        ((period + SLICES - 1) / SLICES).max(1)
    }
}

/// How often credits are refilled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    /// At 00:00 UTC every day.
    Day,
    /// At 00:00 UTC of `day_of_month` (1 when not given) every month.
    Month,
}

impl Interval {
    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Month => "month",
        }
    }
}

/// Credits set back to `amount` on a schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refill {
    /// What `remaining` becomes at each refill (1..=[`CREDITS_MAX`]).
    pub amount: u32,
    /// Daily or monthly.
    pub interval: Interval,
    /// For a monthly refill: the day (1..=[`DAY_OF_MONTH_MAX`]); `None` means the 1st.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_of_month: Option<u8>,
}

impl Refill {
    /// The first refill moment strictly after `after`: 00:00 UTC of the next day, or of the next
    /// `day_of_month`.
    #[must_use]
    pub fn next_after(self, after: Timestamp) -> Timestamp {
        match self.interval {
            Interval::Day => after.next_midnight(),
            Interval::Month => {
                let day = self.day_of_month.unwrap_or(1);
                // A day outside 1..=28 never passes validation; should one be stored, the 1st.
                after.next_day_of_month(day).or_else(|| after.next_day_of_month(1)).unwrap_or(after.next_midnight())
            }
        }
    }
}

/// The credits part of a token's plan (the balance itself is the meter's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditPlan {
    /// When and to what the balance is refilled (`None`: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refill: Option<Refill>,
    /// One balance for every token of the org with the same `external_id` and shared credits.
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub shared: bool,
}

/// What a token's verifications are metered by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Its rate limit.
    pub ratelimit: Option<RateLimit>,
    /// Its credits.
    pub credits: Option<CreditPlan>,
}

impl Plan {
    /// Whether anything is metered (such a token is verified by its org's authority).
    #[must_use]
    pub const fn is_metered(&self) -> bool {
        self.ratelimit.is_some() || self.credits.is_some()
    }

    /// Whether the window and the balance are kept in different records (one of them shared by
    /// the tokens of an `external_id`, the other the token's own): see [`meter_apart`].
    #[must_use]
    pub fn kept_apart(&self) -> bool {
        let limit_shared = self.ratelimit.is_some_and(|l| l.shared);
        let credits_shared = self.credits.is_some_and(|c| c.shared);
        self.ratelimit.is_some() && self.credits.is_some() && limit_shared != credits_shared
    }
}

/// Which part of `mine` cannot share with `other` (another token of the same `external_id`): a
/// shared window is one, so its limit and period must be the same on every token sharing it
/// (`"ratelimit"`), and a shared balance has one refill (`"credits.refill"`).
#[must_use]
pub fn shared_mismatch(mine: &Plan, other: &Plan) -> Option<&'static str> {
    let shared_limit = |p: &Plan| p.ratelimit.filter(|l| l.shared).map(|l| (l.limit, l.period_s));
    let shared_refill = |p: &Plan| p.credits.filter(|c| c.shared).map(|c| c.refill);
    match (shared_limit(mine), shared_limit(other)) {
        (Some(a), Some(b)) if a != b => return Some("ratelimit"),
        _ => {}
    }
    match (shared_refill(mine), shared_refill(other)) {
        (Some(a), Some(b)) if a != b => Some("credits.refill"),
        _ => None,
    }
}

/// A token's meter: its balance and the valid answers of the current window, plus what people
/// were already told.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meter {
    /// The credits left (`None`: never set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u32>,
    /// When the balance was last refilled or set (the next refill is the first after it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refilled_at: Option<Timestamp>,
    /// Width of the slices of `used` (ms); a window counted in other slices is dropped.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub slice_ms: i64,
    /// `(slice number, valid answers in it)`, oldest first: the window's counts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub used: Vec<(i64, u32)>,
    /// Until when a `token.limited` notice already covers (the end of the window it was sent in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limited_told_until: Option<Timestamp>,
    /// Whether `token.credits_exhausted` was told since the balance was last refilled or set.
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub exhausted_told: bool,
}

const fn is_zero(n: &i64) -> bool {
    *n == 0
}

impl Meter {
    /// This meter with its balance set to `remaining` at `now` (an admin's edit or a new token):
    /// the next refill comes at its usual moment, and running out may be told again.
    #[must_use]
    pub fn with_balance(mut self, remaining: u32, now: Timestamp) -> Self {
        self.remaining = Some(remaining);
        self.refilled_at = Some(now);
        self.exhausted_told = false;
        self
    }

    /// This meter with refills counted from `now` (a new refill plan), its balance kept.
    #[must_use]
    pub fn refill_from(mut self, now: Timestamp) -> Self {
        self.refilled_at = Some(now);
        self
    }

    /// When `plan`'s next refill is due (`None`: no refill, or no balance to refill).
    #[must_use]
    pub fn next_refill(&self, plan: &Plan) -> Option<Timestamp> {
        let refill = plan.credits?.refill?;
        Some(refill.next_after(self.refilled_at?))
    }

    /// This meter with every refill due at `now` applied (at most one: a refill sets the balance,
    /// it does not add to it).
    #[must_use]
    pub fn refilled(mut self, plan: &Plan, now: Timestamp) -> Self {
        let refill = plan.credits.and_then(|c| c.refill);
        if let (Some(r), Some(due)) = (refill, self.next_refill(plan)) {
            if due <= now {
                self.remaining = Some(r.amount);
                self.refilled_at = Some(now);
                self.exhausted_told = false;
            }
        }
        self
    }

    /// Drop the slices that no longer overlap the window ending at `now`, and the whole count
    /// if it was kept in slices of another width (the period changed); answer how many valid
    /// answers the window holds.
    fn window(&mut self, limit: RateLimit, now: Timestamp) -> u64 {
        let width = limit.slice_ms();
        if self.slice_ms != width {
            self.used.clear();
            self.slice_ms = width;
        }
        let start = now.as_millis() - i64::from(limit.period_s) * 1_000;
        // Slice `i` covers `[i·w, (i+1)·w)`: it overlaps `(start, now]` while `(i+1)·w > start`.
        self.used.retain(|(i, _)| (i + 1) * width > start);
        self.used.iter().map(|(_, n)| u64::from(*n)).sum()
    }

    /// Count one valid answer at `now` (after [`Self::window`]).
    fn count(&mut self, now: Timestamp) {
        let slice = now.as_millis().div_euclid(self.slice_ms.max(1));
        match self.used.last_mut() {
            Some((i, n)) if *i == slice => *n = n.saturating_add(1),
            _ => self.used.push((slice, 1)),
        }
    }
}

/// The rate limit as a verify answer shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitReading {
    /// The limit.
    pub limit: u32,
    /// Valid answers left in the window (after this one).
    pub remaining: u32,
    /// When the window's count next goes down: the oldest counted answer leaves it (rounded up
    /// to the second; a full period from now when none is counted).
    pub reset_at: Timestamp,
}

/// Why the meter refuses a verification that is otherwise valid (`RATE_LIMITED` and
/// `USAGE_EXCEEDED`, [`super::Code::metered`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Over its rate limit.
    RateLimited,
    /// Fewer credits left than the verification costs.
    UsageExceeded,
}

/// What a metered verification decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metered {
    /// Why it is refused though otherwise valid (`None`: valid, or refused before metering).
    pub refused: Option<Refusal>,
    /// The meter after it (store it when it differs from the one before).
    pub meter: Meter,
    /// The rate limit's state, for a token with one.
    pub ratelimit: Option<LimitReading>,
    /// The credits left, for a token with credits.
    pub credits: Option<u32>,
    /// Someone should be told: the token hit its limit, or ran out of credits, for the first
    /// time in this window or refill period.
    pub tell: Option<Refusal>,
}

/// Meter one verification that is `valid` so far (its [`super::verdict`] is `VALID`), costing
/// `cost` credits, at `now`.
///
/// Checked in this order, after every other code: over the rate limit → `RATE_LIMITED`; fewer
/// credits than `cost` → `USAGE_EXCEEDED`. Only a `VALID` answer counts against the limit and
/// spends credits: a refused verification spends neither. A due refill is applied first.
///
/// # Example
/// ```
/// use keyward::domain::meter::{meter, CreditPlan, Meter, Plan, Refusal};
/// use keyward::domain::Timestamp;
/// let now = Timestamp::from_millis(0);
/// let plan = Plan { ratelimit: None, credits: Some(CreditPlan::default()) };
/// let m = meter(&plan, Meter::default().with_balance(2, now), true, 3, now);
/// assert_eq!((m.refused, m.credits), (Some(Refusal::UsageExceeded), Some(2)));
/// let m = meter(&plan, m.meter, true, 2, now);
/// assert_eq!((m.refused, m.credits), (None, Some(0)));
/// ```
#[must_use]
pub fn meter(plan: &Plan, before: Meter, valid: bool, cost: u32, now: Timestamp) -> Metered {
    let mut m = before.refilled(plan, now);
    let counted = plan.ratelimit.map(|l| (l, m.window(l, now)));
    let over_limit = counted.filter(|(l, n)| *n >= u64::from(l.limit)).map(|(l, _)| l);
    let mut refused = None;
    let mut tell = None;
    if valid {
        if let Some(l) = over_limit {
            refused = Some(Refusal::RateLimited);
            if m.limited_told_until.is_none_or(|until| now >= until) {
                tell = refused;
                m.limited_told_until = Some(now.plus_seconds(i64::from(l.period_s)));
            }
        } else if plan.credits.is_some() && m.remaining.unwrap_or(0) < cost {
            refused = Some(Refusal::UsageExceeded);
            if !m.exhausted_told {
                tell = refused;
                m.exhausted_told = true;
            }
        } else {
            if plan.ratelimit.is_some() {
                m.count(now);
            }
            if plan.credits.is_some() {
                m.remaining = Some(m.remaining.unwrap_or(0).saturating_sub(cost));
            }
        }
    }
    let ratelimit = plan.ratelimit.map(|l| reading(l, &m, now));
    let credits = plan.credits.map(|_| m.remaining.unwrap_or(0));
    Metered { refused, meter: m, ratelimit, credits, tell }
}

/// [`meter`] with the window and the balance in two records (`window` and `balance`: one shared by
/// the tokens of an `external_id`, the other the token's own). The same decision, in the same
/// order: over the limit, nothing is spent; short of credits, the window is not counted. Answers
/// the decision with the window's record as its `meter`, and the balance's record.
#[must_use]
pub fn meter_apart(
    plan: &Plan,
    window: Meter,
    balance: Meter,
    valid: bool,
    cost: u32,
    now: Timestamp,
) -> (Metered, Meter) {
    let limit = Plan { ratelimit: plan.ratelimit, credits: None };
    let credits = Plan { ratelimit: None, credits: plan.credits };
    let l = meter(&limit, window.clone(), valid, cost, now);
    let c = meter(&credits, balance, valid && l.refused.is_none(), cost, now);
    // Short of credits: the window must not count the answer after all.
    let l = if c.refused.is_some() { meter(&limit, window, false, cost, now) } else { l };
    let decided = Metered {
        refused: l.refused.or(c.refused),
        meter: l.meter,
        ratelimit: l.ratelimit,
        credits: c.credits,
        tell: l.tell.or(c.tell),
    };
    (decided, c.meter)
}

/// The limit's state as the meter leaves it at `now`.
fn reading(l: RateLimit, m: &Meter, now: Timestamp) -> LimitReading {
    let counted: u64 = m.used.iter().map(|(_, n)| u64::from(*n)).sum();
    let period_ms = i64::from(l.period_s) * 1_000;
    let reset = m.used.first().map_or(now.as_millis() + period_ms, |(i, _)| (i + 1) * m.slice_ms + period_ms);
    LimitReading {
        limit: l.limit,
        remaining: u32::try_from(u64::from(l.limit).saturating_sub(counted)).unwrap_or(0),
        reset_at: Timestamp::from_millis(reset).ceil_second(),
    }
}

#[cfg(test)]
#[path = "meter_tests.rs"]
mod tests;
