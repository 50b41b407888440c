use super::*;

fn at(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

const fn limited(limit: u32, period_s: u32) -> Plan {
    Plan { ratelimit: Some(RateLimit { limit, period_s, shared: false }), credits: None }
}

const fn credited(refill: Option<Refill>) -> Plan {
    Plan { ratelimit: None, credits: Some(CreditPlan { refill, shared: false }) }
}

const DAILY: Refill = Refill { amount: 100, interval: Interval::Day, day_of_month: None };

/// A deterministic stream of attempt times: `n` attempts, gaps of 0..`max_gap_ms`.
fn attempts(n: usize, max_gap_ms: i64, seed: u64) -> Vec<Timestamp> {
    let mut x = seed;
    let mut t = 1_800_000_000_000_i64;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            t += i64::try_from((x >> 33) % u64::try_from(max_gap_ms + 1).unwrap()).unwrap();
            Timestamp::from_millis(t)
        })
        .collect()
}

#[test]
fn never_more_than_the_limit_in_any_window() {
    for (limit, period_s, gap, seed) in
        [(5, 60, 4_000, 1), (5, 1, 90, 2), (100, 10, 200, 3), (1, 3, 500, 4), (64, 1, 20, 5)]
    {
        let plan = limited(limit, period_s);
        let mut m = Meter::default();
        let mut valid = Vec::new();
        for t in attempts(5_000, gap, seed) {
            let out = meter(&plan, m, true, 1, t);
            m = out.meter;
            if out.refused.is_none() {
                valid.push(t);
            } else {
                assert_eq!(out.refused, Some(Refusal::RateLimited));
            }
        }
        let period = i64::from(period_s) * 1_000;
        for (k, t) in valid.iter().enumerate() {
            // every window (t − period, t] that ends at a valid answer
            let inside = valid[..=k].iter().filter(|u| u.as_millis() > t.as_millis() - period).count();
            assert!(inside <= limit as usize, "limit {limit}/{period_s}s: {inside} in the window ending {t:?}");
        }
        // ...and the conservative count refuses little: over the run, at least 60/64 of the limit
        // per period got through (the attempts come much faster than the limit).
        let span = valid.last().unwrap().as_millis() - valid.first().unwrap().as_millis();
        let periods = span / period;
        if periods >= 4 {
            let floor = (periods - 1) * i64::from(limit) * 60 / 64;
            assert!(i64::try_from(valid.len()).unwrap() >= floor, "{limit}/{period_s}s: only {} valid", valid.len());
        }
    }
}

#[test]
fn a_full_window_refuses_until_its_oldest_slice_leaves() {
    let plan = limited(2, 64);
    let t0 = Timestamp::from_millis(1_000_000);
    let a = meter(&plan, Meter::default(), true, 1, t0);
    assert_eq!(a.refused, None);
    let r = a.ratelimit.unwrap();
    assert_eq!((r.limit, r.remaining), (2, 1));
    // the slice is [1 000 000, 1 001 000) (64 s / 64); it leaves the window 64 s after its end
    assert_eq!(r.reset_at, Timestamp::from_millis(1_065_000));
    let b = meter(&plan, a.meter, true, 1, t0.plus_seconds(10));
    assert_eq!((b.refused, b.ratelimit.unwrap().remaining), (None, 0));
    let c = meter(&plan, b.meter, true, 1, Timestamp::from_millis(1_064_999));
    assert_eq!((c.refused, c.ratelimit.unwrap().remaining), (Some(Refusal::RateLimited), 0));
    assert_eq!(c.ratelimit.unwrap().reset_at, Timestamp::from_millis(1_065_000));
    let d = meter(&plan, c.meter, true, 1, Timestamp::from_millis(1_065_000));
    assert_eq!((d.refused, d.ratelimit.unwrap().remaining), (None, 0));
    // nothing counted: a whole period from now, rounded up to the second
    let fresh = meter(&plan, Meter::default(), false, 1, Timestamp::from_millis(1_500));
    assert_eq!(fresh.ratelimit.unwrap().reset_at, Timestamp::from_millis(66_000));
    assert_eq!(fresh.ratelimit.unwrap().remaining, 2);
}

#[test]
fn a_changed_period_starts_a_fresh_window() {
    let now = Timestamp::from_millis(5_000_000);
    let full = meter(&limited(1, 60), Meter::default(), true, 1, now);
    assert_eq!(meter(&limited(1, 60), full.meter.clone(), true, 1, now).refused, Some(Refusal::RateLimited));
    // a higher limit, same period: the count stands
    let same = meter(&limited(2, 60), full.meter.clone(), true, 1, now);
    assert_eq!((same.refused, same.ratelimit.unwrap().remaining), (None, 0));
    let other = meter(&limited(1, 30), full.meter, true, 1, now);
    assert_eq!(other.refused, None);
}

#[test]
fn credits_are_spent_by_cost_and_never_below_zero() {
    let plan = credited(None);
    let now = Timestamp::from_millis(0);
    let mut m = Meter::default().with_balance(10, now);
    let mut valid = 0;
    for _ in 0..20 {
        let out = meter(&plan, m, true, 3, now);
        m = out.meter;
        if out.refused.is_none() {
            valid += 1;
        } else {
            assert_eq!(out.refused, Some(Refusal::UsageExceeded));
        }
    }
    assert_eq!((valid, m.remaining), (3, Some(1)));
    // cost 0 is always affordable (and spends nothing); cost 1 still fits
    let free = meter(&plan, m, true, 0, now);
    assert_eq!((free.refused, free.credits), (None, Some(1)));
    let last = meter(&plan, free.meter, true, 1, now);
    assert_eq!((last.refused, last.credits), (None, Some(0)));
    let none = meter(&plan, last.meter, true, 1, now);
    assert_eq!((none.refused, none.credits), (Some(Refusal::UsageExceeded), Some(0)));
    // a balance never set counts as none
    assert_eq!(meter(&plan, Meter::default(), true, 1, now).refused, Some(Refusal::UsageExceeded));
    assert_eq!(meter(&plan, Meter::default(), true, 0, now).refused, None);
}

#[test]
fn a_refused_verification_spends_neither_credits_nor_limit() {
    let plan = Plan {
        ratelimit: Some(RateLimit { limit: 1, period_s: 60, shared: false }),
        credits: Some(CreditPlan::default()),
    };
    let now = Timestamp::from_millis(0);
    let start = Meter::default().with_balance(5, now);
    {
        // refused before metering (revoked, expired, wrong scope, ...): the meter adds nothing
        let out = meter(&plan, start.clone(), false, 1, now);
        assert_eq!(out.refused, None, "the earlier code stands");
        assert_eq!(out.credits, Some(5));
        assert_eq!(out.ratelimit.unwrap().remaining, 1);
        assert_eq!(out.tell, None);
        assert_eq!((out.meter.remaining, out.meter.used.len()), (Some(5), 0));
    }
    // the limit first: over it, no credit is spent...
    let first = meter(&plan, start, true, 1, now);
    assert_eq!((first.refused, first.credits), (None, Some(4)));
    let limited = meter(&plan, first.meter, true, 1, now);
    assert_eq!((limited.refused, limited.credits), (Some(Refusal::RateLimited), Some(4)));
    // ...and with too few credits, the window is not counted
    let broke = Plan { ratelimit: Some(RateLimit { limit: 2, period_s: 60, shared: false }), ..plan };
    let poor = Meter::default().with_balance(0, now);
    let out = meter(&broke, poor, true, 1, now);
    assert_eq!((out.refused, out.ratelimit.unwrap().remaining), (Some(Refusal::UsageExceeded), 2));
    assert!(out.meter.used.is_empty());
}

#[test]
fn people_are_told_once_per_window_and_once_per_refill() {
    let plan = limited(1, 60);
    let t = Timestamp::from_millis(10_000_000);
    let a = meter(&plan, Meter::default(), true, 1, t);
    assert_eq!(a.tell, None);
    let b = meter(&plan, a.meter, true, 1, t.plus_seconds(1));
    assert_eq!((b.refused, b.tell), (Some(Refusal::RateLimited), Some(Refusal::RateLimited)));
    let c = meter(&plan, b.meter, true, 1, t.plus_seconds(30));
    assert_eq!((c.refused, c.tell), (Some(Refusal::RateLimited), None), "same window: told already");
    let d = meter(&plan, c.meter, true, 1, t.plus_seconds(61));
    assert_eq!(d.refused, None);
    let e = meter(&plan, d.meter, true, 1, t.plus_seconds(62));
    assert_eq!(
        (e.refused, e.tell),
        (Some(Refusal::RateLimited), Some(Refusal::RateLimited)),
        "a new window: told again"
    );

    let plan = credited(Some(DAILY));
    let now = at("2026-12-07T10:00:00Z");
    let x = meter(&plan, Meter::default().with_balance(0, now), true, 1, now);
    assert_eq!(x.tell, Some(Refusal::UsageExceeded));
    let y = meter(&plan, x.meter, true, 1, at("2026-12-07T23:00:00Z"));
    assert_eq!((y.refused, y.tell), (Some(Refusal::UsageExceeded), None));
    // an admin's top-up, or the refill, lets it be told again
    assert!(!y.meter.clone().with_balance(0, now).exhausted_told);
    let z = meter(&plan, y.meter, true, 1000, at("2026-12-08T00:00:00Z"));
    assert_eq!((z.refused, z.credits, z.tell), (Some(Refusal::UsageExceeded), Some(100), Some(Refusal::UsageExceeded)));
}

#[test]
fn refills_set_the_amount_once_at_midnight_utc() {
    let plan = credited(Some(DAILY));
    let set = at("2026-12-07T10:00:00Z");
    let m = Meter::default().with_balance(3, set);
    assert_eq!(m.next_refill(&plan), Some(at("2026-12-08T00:00:00Z")));
    assert_eq!(m.clone().refilled(&plan, at("2026-12-07T23:59:59Z")).remaining, Some(3));
    let r = m.refilled(&plan, at("2026-12-08T00:00:00Z"));
    assert_eq!(r.remaining, Some(100));
    assert_eq!(r.next_refill(&plan), Some(at("2026-12-09T00:00:00Z")));
    // spent, then looked at again the same day: not refilled twice
    let spent = meter(&plan, r, true, 40, at("2026-12-08T01:00:00Z"));
    assert_eq!(spent.credits, Some(60));
    assert_eq!(spent.meter.refilled(&plan, at("2026-12-08T23:00:00Z")).remaining, Some(60));
    // days missed are one refill, not several
    let late = Meter::default().with_balance(0, set).refilled(&plan, at("2026-12-20T05:00:00Z"));
    assert_eq!(late.remaining, Some(100));
    // no refill, or no plan: nothing happens
    let never = Meter::default().with_balance(1, set);
    assert_eq!(never.clone().refilled(&credited(None), at("2030-01-01T00:00:00Z")), never);
    assert_eq!(never.next_refill(&credited(None)), None);
    assert_eq!(never.next_refill(&Plan::default()), None);
    assert_eq!(Meter::default().next_refill(&plan), None, "no balance, nothing to refill");
}

#[test]
fn monthly_refills_fall_on_their_day() {
    let month = |day| Refill { amount: 5, interval: Interval::Month, day_of_month: day };
    let r = |day, after: &str| month(day).next_after(at(after)).to_rfc3339();
    assert_eq!(r(None, "2026-12-07T10:00:00Z"), "2027-01-01T00:00:00Z");
    assert_eq!(r(Some(15), "2026-12-07T10:00:00Z"), "2026-12-15T00:00:00Z");
    assert_eq!(r(Some(7), "2026-12-07T00:00:00Z"), "2027-01-07T00:00:00Z", "strictly after");
    assert_eq!(r(Some(7), "2026-12-06T23:59:59Z"), "2026-12-07T00:00:00Z");
    assert_eq!(r(Some(28), "2027-02-28T00:00:01Z"), "2027-03-28T00:00:00Z");
    assert_eq!(r(Some(1), "2028-02-29T12:00:00Z"), "2028-03-01T00:00:00Z");
    // a day no form accepts falls back to the 1st rather than failing
    assert_eq!(r(Some(31), "2026-12-07T10:00:00Z"), "2027-01-01T00:00:00Z");
    assert_eq!(r(Some(0), "2026-12-07T10:00:00Z"), "2027-01-01T00:00:00Z");
    assert_eq!(DAILY.next_after(at("2026-12-31T23:59:59Z")).to_rfc3339(), "2027-01-01T00:00:00Z");
}

#[test]
fn plans_and_meters_have_a_stable_wire_form() {
    let r = Refill { amount: 7, interval: Interval::Month, day_of_month: Some(3) };
    assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"amount":7,"interval":"month","day_of_month":3}"#);
    assert_eq!(serde_json::to_string(&DAILY).unwrap(), r#"{"amount":100,"interval":"day"}"#);
    assert_eq!(Interval::Day.as_str(), "day");
    assert_eq!(Interval::Month.as_str(), "month");
    assert_eq!(serde_json::to_string(&Meter::default()).unwrap(), "{}");
    assert!(limited(1, 1).is_metered() && credited(None).is_metered() && !Plan::default().is_metered());
    assert_eq!(RateLimit { limit: 1, period_s: 1, shared: false }.slice_ms(), 16);
    assert_eq!(RateLimit { limit: 1, period_s: 64, shared: false }.slice_ms(), 1_000);
    assert_eq!(RateLimit { limit: 1, period_s: 86_400, shared: false }.slice_ms(), 1_350_000);
}

#[test]
fn the_window_keeps_at_most_65_slices_whatever_the_traffic() {
    let plan = limited(1_000_000, 64);
    let mut m = Meter::default();
    for t in attempts(20_000, 40, 9) {
        m = meter(&plan, m, true, 1, t).meter;
        assert!(m.used.len() <= 65, "{} slices", m.used.len());
    }
    // answers in one slice are one entry
    let t = Timestamp::from_millis(1_000_000);
    let two = meter(&plan, meter(&plan, Meter::default(), true, 1, t).meter, true, 1, t.plus_seconds(0));
    assert_eq!(two.meter.used, vec![(1_000, 2)]);
}

#[test]
fn apart_the_window_and_the_balance_decide_as_one() {
    let shared_limit = RateLimit { limit: 2, period_s: 60, shared: true };
    let plan = Plan { ratelimit: Some(shared_limit), credits: Some(CreditPlan::default()) };
    assert!(plan.kept_apart());
    let now = Timestamp::from_millis(0);
    let (window, balance) = (Meter::default(), Meter::default().with_balance(1, now));
    let (a, balance) = meter_apart(&plan, window, balance, true, 1, now);
    assert_eq!((a.refused, a.credits, a.ratelimit.unwrap().remaining), (None, Some(0), 1));
    // short of credits: refused, and the window does not count it
    let (b, balance) = meter_apart(&plan, a.meter, balance, true, 1, now);
    assert_eq!(
        (b.refused, b.tell, b.ratelimit.unwrap().remaining),
        (Some(Refusal::UsageExceeded), Some(Refusal::UsageExceeded), 1)
    );
    assert!(balance.exhausted_told);
    // cost 0 passes the credits and fills the window; then the limit refuses and spends nothing
    let (c, balance) = meter_apart(&plan, b.meter, balance, true, 0, now);
    assert_eq!((c.refused, c.ratelimit.unwrap().remaining), (None, 0));
    let (d, after) = meter_apart(&plan, c.meter, balance.clone(), true, 0, now);
    assert_eq!((d.refused, d.tell), (Some(Refusal::RateLimited), Some(Refusal::RateLimited)));
    assert_eq!(after, balance);
    // refused before metering: nothing counted or spent, the readings still given
    let (e, after) = meter_apart(&plan, Meter::default(), balance.clone(), false, 1, now);
    assert_eq!((e.refused, e.credits, e.meter.used.len()), (None, Some(0), 0));
    assert_eq!(after, balance);
    // one record when both parts are shared or neither is
    let both = Plan { credits: Some(CreditPlan { refill: None, shared: true }), ..plan };
    assert!(!both.kept_apart() && !limited(1, 1).kept_apart() && !Plan::default().kept_apart());
}

#[test]
fn tokens_sharing_must_share_one_plan() {
    let limit = |limit, shared| Plan { ratelimit: Some(RateLimit { limit, period_s: 60, shared }), credits: None };
    assert_eq!(shared_mismatch(&limit(5, true), &limit(6, true)), Some("ratelimit"));
    assert_eq!(shared_mismatch(&limit(5, true), &limit(5, true)), None);
    assert_eq!(shared_mismatch(&limit(5, true), &limit(6, false)), None, "the other keeps its own window");
    assert_eq!(shared_mismatch(&limit(5, false), &limit(6, true)), None);
    let credits = |refill, shared| Plan { ratelimit: None, credits: Some(CreditPlan { refill, shared }) };
    assert_eq!(shared_mismatch(&credits(Some(DAILY), true), &credits(None, true)), Some("credits.refill"));
    assert_eq!(shared_mismatch(&credits(Some(DAILY), true), &credits(Some(DAILY), true)), None);
    assert_eq!(shared_mismatch(&credits(Some(DAILY), true), &credits(None, false)), None);
    assert_eq!(shared_mismatch(&credits(None, true), &limit(1, true)), None);
}
