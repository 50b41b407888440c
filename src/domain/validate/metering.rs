//! The `ratelimit` and `credits` of a token form ([`crate::domain::meter`] says what they mean).

use super::form::Form;
use super::input::{CreditsInput, Field, RateLimitInput};
use crate::domain::meter::{
    CreditPlan, Interval, RateLimit, Refill, CREDITS_MAX, DAY_OF_MONTH_MAX, LIMIT_MAX, PERIOD_MAX_S,
};

/// `credits` as validated: on create `remaining` is always there and `refill` is `Some`; on an
/// edit, absent means "keep".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreditsSpec {
    /// Set the balance to this.
    pub remaining: Option<u32>,
    /// Set the refill (`Some(None)`: no refill); `None`: keep it.
    pub refill: Option<Option<Refill>>,
    /// Share the balance with the org's other tokens of the same `external_id`, or not; `None`:
    /// keep it (on create: not shared).
    pub shared: Option<bool>,
}

impl CreditsSpec {
    /// The plan this sets, over `before` (the token's plan so far, if it has one).
    #[must_use]
    pub fn plan(self, before: Option<CreditPlan>) -> CreditPlan {
        CreditPlan {
            refill: self.refill.unwrap_or_else(|| before.and_then(|p| p.refill)),
            shared: self.shared.unwrap_or_else(|| before.is_some_and(|p| p.shared)),
        }
    }
}

/// What a shared limit or balance on a token without an `external_id` is told.
pub const SHARED_NEEDS_EXTERNAL_ID: &str =
    "needs the token's external_id: a shared limit or balance is one per external_id";

/// `ratelimit` as sent: `Some(None)` when absent or `null`, `Some(Some(l))` when valid, `None`
/// when refused (recorded in the form).
pub(super) fn ratelimit_field(f: &mut Form<'_>, v: &Field<RateLimitInput>) -> Option<Option<RateLimit>> {
    let Some(r) = f.value("ratelimit", v) else { return Some(None) };
    let mut g = f.nested("ratelimit", &r.unknown);
    let limit = g.required_int("limit", &r.limit, 1, LIMIT_MAX);
    let period_s = g.required_int("period_s", &r.period_s, 1, PERIOD_MAX_S);
    let shared = g.bool("shared", &r.shared).unwrap_or(false);
    Some(Some(RateLimit { limit: limit?, period_s: period_s?, shared }))
}

/// `credits` as sent: `Some(None)` when absent or `null`, `Some(Some(c))` when valid, `None`
/// when refused. On create (`creating`) an absent `refill` is none, and `remaining` is required
/// unless the balance is `shared` (another token of the `external_id` may hold it already: the
/// service decides).
pub(super) fn credits_field(f: &mut Form<'_>, v: &Field<CreditsInput>, creating: bool) -> Option<Option<CreditsSpec>> {
    let Some(c) = f.value("credits", v) else { return Some(None) };
    let mut g = f.nested("credits", &c.unknown);
    let shared = g.bool("shared", &c.shared);
    let remaining = match (&c.remaining, creating) {
        (Field::Absent, false) => Some(None),
        (Field::Absent, true) if shared == Some(true) => Some(None),
        _ => g.required_int("remaining", &c.remaining, 0, CREDITS_MAX).map(Some),
    };
    let shared = if creating { Some(shared.unwrap_or(false)) } else { shared };
    let refill = match (g.value("refill", &c.refill), &c.refill) {
        (Some(r), _) => {
            let mut h = g.nested("credits.refill", &r.unknown);
            let amount = h.required_int("amount", &r.amount, 1, CREDITS_MAX);
            let interval = h.required_str("interval", &r.interval).and_then(|s| match s {
                "day" => Some(Interval::Day),
                "month" => Some(Interval::Month),
                _ => {
                    h.fail("interval", "must be \"day\" or \"month\"");
                    None
                }
            });
            let day = h.int("day_of_month", &r.day_of_month, 1, u32::from(DAY_OF_MONTH_MAX));
            if interval == Some(Interval::Day) && r.day_of_month.is_sent() {
                h.fail("day_of_month", "only a monthly refill has a day of the month");
            }
            let day = if r.day_of_month.is_sent() { day.map(|d| u8::try_from(d).ok()) } else { Some(None) };
            match (amount, interval, day) {
                (Some(amount), Some(interval), Some(day_of_month)) => {
                    Some(Some(Some(Refill { amount, interval, day_of_month })))
                }
                _ => None,
            }
        }
        (None, Field::Null) => Some(Some(None)),
        (None, _) if creating => Some(Some(None)),
        (None, _) => Some(None),
    };
    Some(Some(CreditsSpec { remaining: remaining?, refill: refill?, shared }))
}
