//! Rate limits and credits through the service: set on create and edit, decided by the
//! authority's strict verification, shown in the view, refilled by the timed work, and told
//! once per window or refill.

use futures_executor::block_on;
use keyward::service::Error;
use serde_json::{json, Value};

use crate::support::*;

/// The authority's answer for `secret` costing `cost`.
fn metered(w: &World, secret: &str, cost: u32) -> Value {
    let at = block_on(w.svc.locate(secret, &keyward::domain::legacy::LegacyFormats::none())).unwrap().unwrap();
    let hash = keyward::domain::token::sha256_hex(secret);
    let v = block_on(w.svc.verify_strict(&hash, &at, &[] as &[&str], None, cost, w.now())).unwrap();
    serde_json::to_value(v).unwrap()
}

fn kinds(w: &World, admin: &str) -> Vec<String> {
    block_on(w.svc.notifications(&w.actor(admin)))
        .unwrap()
        .iter()
        .map(|n| serde_json::to_value(n).unwrap()["kind"].as_str().unwrap().to_owned())
        .collect()
}

fn codes(w: &World, secret: &str, n: usize, cost: u32) -> Vec<String> {
    (0..n).map(|_| metered(w, secret, cost)["code"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn credits_are_spent_exactly_and_running_out_is_told_once() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (secret, id) = w.create(
        &o.admin_secret,
        json!({"label": "paid", "role": "developer", "kind": "org", "credits": {"remaining": 10}}),
    );
    let seen = codes(&w, &secret, 12, 1);
    assert_eq!(seen.iter().filter(|c| *c == "VALID").count(), 10);
    assert_eq!(seen[10..], ["USAGE_EXCEEDED", "USAGE_EXCEEDED"]);
    let last = metered(&w, &secret, 1);
    assert_eq!((last["valid"].clone(), last["consistency"].clone()), (json!(false), json!("strict")));
    assert_eq!(last["credits"], json!({"remaining": 0}));
    assert!(last.get("ratelimit").is_none(), "no limit, no ratelimit field: {last}");
    // cost 0 still passes
    assert_eq!(metered(&w, &secret, 0)["code"], "VALID");
    let view = w.token_json(&o.admin_secret, &id).unwrap();
    assert_eq!(view["credits"], json!({"remaining": 0, "refill": null}));
    assert_eq!(view["ratelimit"], Value::Null);
    let told = kinds(&w, &o.admin_secret).iter().filter(|k| *k == "token.credits_exhausted").count();
    assert_eq!(told, 1, "told once, not once per refusal");
}

#[test]
fn a_cost_of_three_gets_three_out_of_ten() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let (secret, _) = w.create(
        &o.admin_secret,
        json!({"label": "c", "role": "developer", "kind": "org", "credits": {"remaining": 10}}),
    );
    let seen = codes(&w, &secret, 6, 3);
    assert_eq!(seen, ["VALID", "VALID", "VALID", "USAGE_EXCEEDED", "USAGE_EXCEEDED", "USAGE_EXCEEDED"]);
    assert_eq!(metered(&w, &secret, 1)["credits"]["remaining"], 0, "the last one fits");
}

#[test]
fn a_rate_limit_holds_per_window_and_is_told_once_per_window() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let (secret, id) = w.create(
        &o.admin_secret,
        json!({"label": "l", "role": "developer", "kind": "org", "ratelimit": {"limit": 5, "period_s": 60}}),
    );
    let seen = codes(&w, &secret, 8, 1);
    assert_eq!(seen.iter().filter(|c| *c == "VALID").count(), 5);
    assert!(seen[5..].iter().all(|c| c == "RATE_LIMITED"));
    let over = metered(&w, &secret, 1);
    assert_eq!(over["ratelimit"]["limit"], 5);
    assert_eq!(over["ratelimit"]["remaining"], 0);
    let reset = keyward::domain::Timestamp::parse_rfc3339(over["ratelimit"]["reset_at"].as_str().unwrap()).unwrap();
    assert!(reset > w.now() && reset <= w.now().plus_seconds(62), "{reset:?}");
    assert!(over.get("credits").is_none());
    let limited = || kinds(&w, &o.admin_secret).iter().filter(|k| *k == "token.limited").count();
    assert_eq!(limited(), 1);
    w.advance_seconds(61);
    assert_eq!(metered(&w, &secret, 1)["code"], "VALID");
    assert_eq!(codes(&w, &secret, 5, 1).iter().filter(|c| *c == "RATE_LIMITED").count(), 1);
    assert_eq!(limited(), 2, "a new window, told again");
    assert_eq!(w.token_json(&o.admin_secret, &id).unwrap()["ratelimit"], json!({"limit": 5, "period_s": 60}));
}

#[test]
fn refused_verifications_spend_nothing() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let body = json!({"label": "r", "role": "developer", "kind": "org", "credits": {"remaining": 3},
                      "ratelimit": {"limit": 100, "period_s": 60}});
    let (secret, id) = w.create(&o.admin_secret, body);
    let at = block_on(w.svc.locate(&secret, &keyward::domain::legacy::LegacyFormats::none())).unwrap().unwrap();
    let hash = keyward::domain::token::sha256_hex(&secret);
    let scoped = block_on(w.svc.verify_strict(&hash, &at, &["billing"], None, 1, w.now())).unwrap();
    assert_eq!(scoped.code.as_str(), "INSUFFICIENT_SCOPE");
    assert_eq!(scoped.credits.map(|c| c.remaining), Some(3));
    let a = w.actor(&o.admin_secret);
    block_on(w.svc.revoke_token(&a, &id, &form(json!({"confirm_label": "r"})), w.now())).unwrap();
    assert_eq!(codes(&w, &secret, 4, 1), ["REVOKED"; 4]);
    let after = metered(&w, &secret, 1);
    assert_eq!(
        (after["credits"]["remaining"].clone(), after["ratelimit"]["remaining"].clone()),
        (json!(3), json!(100))
    );
}

#[test]
fn a_daily_refill_comes_once_at_midnight_by_the_timed_work() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let body = json!({"label": "d", "role": "developer", "kind": "org",
                      "credits": {"remaining": 2, "refill": {"amount": 5, "interval": "day"}}});
    let (secret, id) = w.create(&o.admin_secret, body);
    assert_eq!(codes(&w, &secret, 3, 1), ["VALID", "VALID", "USAGE_EXCEEDED"]);
    let midnight = w.now().next_midnight();
    w.now.set(midnight.plus_seconds(-1));
    assert_eq!(block_on(w.svc.tick(&o.id, w.now())).unwrap().refills, 0);
    let next = block_on(w.svc.tick(&o.id, w.now())).unwrap().next;
    assert!(next.is_some_and(|n| n <= midnight), "the alarm is asked to wake by midnight: {next:?}");
    w.now.set(midnight.plus_seconds(5));
    assert_eq!(block_on(w.svc.tick(&o.id, w.now())).unwrap().refills, 1);
    assert_eq!(w.token_json(&o.admin_secret, &id).unwrap()["credits"]["remaining"], 5);
    assert_eq!(codes(&w, &secret, 1, 2), ["VALID"]);
    w.advance_seconds(3_600);
    assert_eq!(block_on(w.svc.tick(&o.id, w.now())).unwrap().refills, 0, "once a day");
    let view = w.token_json(&o.admin_secret, &id).unwrap();
    assert_eq!(view["credits"], json!({"remaining": 3, "refill": {"amount": 5, "interval": "day"}}));
}

#[test]
fn an_admin_sets_the_balance_and_the_limit_with_an_audited_edit() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let (secret, id) = w.create(&o.admin_secret, json!({"label": "e", "role": "developer", "kind": "org"}));
    let a = w.actor(&o.admin_secret);
    // no credits yet: a balance must be given
    let e = block_on(w.svc.update_token(&a, &id, form(json!({"credits": {}})), w.now())).unwrap_err();
    assert!(matches!(&e, Error::Validation(f) if f.contains_key("credits.remaining")), "{e:?}");
    let patch = json!({"credits": {"remaining": 1, "refill": {"amount": 9, "interval": "month", "day_of_month": 15}},
                       "ratelimit": {"limit": 2, "period_s": 10}});
    let v = block_on(w.svc.update_token(&a, &id, form(patch), w.now())).unwrap();
    let v = serde_json::to_value(v).unwrap();
    assert_eq!(v["credits"]["remaining"], 1);
    assert_eq!(v["credits"]["refill"]["day_of_month"], 15);
    assert_eq!(codes(&w, &secret, 2, 1), ["VALID", "USAGE_EXCEEDED"]);
    // only the balance: the refill stays, and the edit is audited
    let v = block_on(w.svc.update_token(&a, &id, form(json!({"credits": {"remaining": 7}})), w.now())).unwrap();
    let v = serde_json::to_value(v).unwrap();
    assert_eq!(v["credits"], json!({"remaining": 7, "refill": {"amount": 9, "interval": "month", "day_of_month": 15}}));
    let q = keyward::service::AuditQuery::default();
    let (events, _) = block_on(w.svc.audit_events(&a, &q)).unwrap();
    assert!(
        events.iter().any(|e| e.summary.ends_with(": credits")),
        "{:?}",
        events.iter().map(|e| &e.summary).collect::<Vec<_>>()
    );
    // the rate limit kept its window through the balance edit
    assert_eq!(codes(&w, &secret, 2, 1), ["VALID", "RATE_LIMITED"]);
    // removing both makes it a plain token again, answered at the edge
    let off = json!({"credits": null, "ratelimit": null});
    let v = serde_json::to_value(block_on(w.svc.update_token(&a, &id, form(off), w.now())).unwrap()).unwrap();
    assert_eq!((v["credits"].clone(), v["ratelimit"].clone()), (Value::Null, Value::Null));
    assert_eq!(w.edge_code(&secret), "VALID");
    let plain = metered(&w, &secret, 1);
    assert!(plain.get("credits").is_none() && plain.get("ratelimit").is_none());
}

#[test]
fn the_edge_entry_says_metered_so_only_the_authority_answers() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let (secret, _) = w.create(
        &o.admin_secret,
        json!({"label": "m", "role": "developer", "kind": "org", "ratelimit": {"limit": 1, "period_s": 5}}),
    );
    let found =
        block_on(keyward::service::lookup(w.svc.edge(), &secret, &keyward::domain::legacy::LegacyFormats::none()))
            .unwrap();
    match found {
        keyward::service::Lookup::Found { entry, .. } => assert!(entry.metered),
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_limits_and_credits_are_named() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let bad = json!({"label": "b", "role": "developer", "kind": "org",
        "ratelimit": {"limit": 0, "period_s": 86_401, "x": 1},
        "credits": {"remaining": -1, "refill": {"amount": 0, "interval": "week", "day_of_month": 29}}});
    let Err(Error::Validation(f)) = w.try_create(&o.admin_secret, bad) else { panic!("accepted") };
    for field in [
        "ratelimit.limit",
        "ratelimit.period_s",
        "ratelimit.x",
        "credits.remaining",
        "credits.refill.amount",
        "credits.refill.interval",
        "credits.refill.day_of_month",
    ] {
        assert!(f.contains_key(field), "{field} not named: {f:?}");
    }
    let daily = json!({"label": "b", "role": "developer", "kind": "org",
        "credits": {"remaining": 1, "refill": {"amount": 1, "interval": "day", "day_of_month": 2}}});
    let Err(Error::Validation(f)) = w.try_create(&o.admin_secret, daily) else { panic!("accepted") };
    assert!(f.get("credits.refill.day_of_month").is_some_and(|m| m.contains("monthly")), "{f:?}");
    let missing = json!({"label": "b", "role": "developer", "kind": "org", "credits": {}, "ratelimit": {}});
    let Err(Error::Validation(f)) = w.try_create(&o.admin_secret, missing) else { panic!("accepted") };
    assert!(["credits.remaining", "ratelimit.limit", "ratelimit.period_s"].iter().all(|k| f.contains_key(*k)), "{f:?}");
    let shape = json!({"label": "b", "role": "developer", "kind": "org", "credits": 5, "ratelimit": [1]});
    let Err(Error::Validation(f)) = w.try_create(&o.admin_secret, shape) else { panic!("accepted") };
    assert_eq!(
        (f.get("credits").map(String::as_str), f.get("ratelimit").map(String::as_str)),
        (Some("must be an object"), Some("must be an object"))
    );
}

#[test]
fn a_new_refill_plan_keeps_the_balance_until_its_first_midnight() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let (secret, id) = w.create(
        &o.admin_secret,
        json!({"label": "p", "role": "developer", "kind": "org", "credits": {"remaining": 5}}),
    );
    // a day later, at noon, a daily refill is added without a balance
    w.advance_seconds(86_400);
    let a = w.actor(&o.admin_secret);
    let plan = json!({"credits": {"refill": {"amount": 100, "interval": "day"}}});
    let v = serde_json::to_value(block_on(w.svc.update_token(&a, &id, form(plan), w.now())).unwrap()).unwrap();
    assert_eq!(v["credits"]["remaining"], 5, "no refill the new plan would have made in the past");
    assert_eq!(metered(&w, &secret, 1)["credits"]["remaining"], 4);
    // changing the plan again does not hand one out either
    let monthly = json!({"credits": {"refill": {"amount": 60, "interval": "month", "day_of_month": 1}}});
    block_on(w.svc.update_token(&a, &id, form(monthly), w.now())).unwrap();
    let daily = json!({"credits": {"refill": {"amount": 60, "interval": "day"}}});
    let v = serde_json::to_value(block_on(w.svc.update_token(&a, &id, form(daily), w.now())).unwrap()).unwrap();
    assert_eq!(v["credits"]["remaining"], 4);
    // the first refill is the next midnight
    w.now.set(w.now().next_midnight());
    assert_eq!(block_on(w.svc.tick(&o.id, w.now())).unwrap().refills, 1);
    assert_eq!(metered(&w, &secret, 1)["credits"]["remaining"], 59);
}

#[test]
fn a_webhook_subscribed_to_the_two_kinds_gets_each_once() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let a = w.actor(&o.admin_secret);
    let hook = json!({"url": "http://127.0.0.1:9/hook", "events": ["token.limited", "token.credits_exhausted"]});
    block_on(w.svc.put_webhook(&a, &form(hook), true, w.now())).unwrap();
    let body = json!({"label": "w", "role": "developer", "kind": "org", "ratelimit": {"limit": 1, "period_s": 600},
                      "credits": {"remaining": 0}});
    let (secret, id) = w.create(&o.admin_secret, body);
    // cost 0 passes the credits; the limit then refuses
    assert_eq!(codes(&w, &secret, 3, 0), ["VALID", "RATE_LIMITED", "RATE_LIMITED"]);
    // (the window is counted in slices of 600/64 s: the first answer leaves it within 610 s)
    w.advance_seconds(610);
    assert_eq!(codes(&w, &secret, 3, 1), ["USAGE_EXCEEDED"; 3]);
    let out = block_on(w.svc.due_deliveries(&o.id, w.now())).unwrap();
    let mut kinds: Vec<String> = out
        .iter()
        .map(|d| serde_json::from_str::<Value>(&d.body).unwrap()["type"].as_str().unwrap_or_default().to_owned())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        ["token.credits_exhausted", "token.limited"],
        "{:?}",
        out.iter().map(|d| &d.body).collect::<Vec<_>>()
    );
    for d in &out {
        assert!(d.body.contains(&id) && !d.body.contains(&secret), "{}", d.body);
    }
}

#[test]
fn both_secrets_of_a_rotation_share_the_meter_and_a_dead_one_reads_none() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let (old, id) = w.create(
        &o.admin_secret,
        json!({"label": "r", "role": "developer", "kind": "org", "credits": {"remaining": 3}}),
    );
    let at = block_on(w.svc.locate(&old, &keyward::domain::legacy::LegacyFormats::none())).unwrap().unwrap();
    let a = w.actor(&o.admin_secret);
    let new = block_on(w.svc.rotate_token(&a, &id, &form(json!({"grace_seconds": 60})), w.now())).unwrap().secret;
    assert_eq!(metered(&w, &old, 1)["credits"]["remaining"], 2, "in its grace the old secret spends the same credits");
    assert_eq!(metered(&w, &new, 1)["credits"]["remaining"], 1);
    w.advance_seconds(61);
    // past its grace the old secret is no token at all: no meter is read or shown
    let hash = keyward::domain::token::sha256_hex(&old);
    let gone = block_on(w.svc.verify_strict(&hash, &at, &[] as &[&str], None, 1, w.now())).unwrap();
    let gone = serde_json::to_value(gone).unwrap();
    assert_eq!(gone["code"], "NOT_FOUND");
    assert!(gone.get("credits").is_none(), "{gone}");
    assert_eq!(metered(&w, &new, 1)["credits"]["remaining"], 0);
}

/// A token of `external_id` with `extra` metering; answers its secret.
fn customer_token(w: &World, admin: &str, label: &str, external_id: &str, extra: Value) -> String {
    let mut body = json!({"label": label, "role": "developer", "kind": "org", "external_id": external_id});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    w.create(admin, body).0
}

#[test]
fn tokens_of_one_customer_share_one_balance_and_one_window() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let a = customer_token(&w, &o.admin_secret, "a", "cus_1", json!({"credits": {"remaining": 10, "shared": true}}));
    // the second token joins the balance without setting it
    let b = customer_token(&w, &o.admin_secret, "b", "cus_1", json!({"credits": {"shared": true}}));
    let other = customer_token(&w, &o.admin_secret, "c", "cus_2", json!({"credits": {"remaining": 10}}));
    let mut valid = 0;
    for i in 0..14 {
        let secret = if i % 2 == 0 { &a } else { &b };
        if metered(&w, secret, 1)["code"] == "VALID" {
            valid += 1;
        }
    }
    assert_eq!(valid, 10, "one balance of 10 for both tokens");
    assert_eq!(metered(&w, &other, 1)["credits"]["remaining"], 9, "another customer's is its own");
    let views =
        block_on(w.svc.list_tokens(&w.actor(&o.admin_secret), &keyward::service::TokenQuery::default(), w.now()));
    let views = serde_json::to_value(views.unwrap().0).unwrap();
    let shared: Vec<&Value> = views.as_array().unwrap().iter().filter(|v| v["external_id"] == "cus_1").collect();
    assert_eq!(shared.len(), 2);
    assert!(
        shared.iter().all(|v| v["credits"] == json!({"remaining": 0, "refill": null, "shared": true})),
        "{shared:?}"
    );

    let x = customer_token(
        &w,
        &o.admin_secret,
        "x",
        "cus_3",
        json!({"ratelimit": {"limit": 3, "period_s": 60, "shared": true}}),
    );
    let y = customer_token(
        &w,
        &o.admin_secret,
        "y",
        "cus_3",
        json!({"ratelimit": {"limit": 3, "period_s": 60, "shared": true},
                                                                       "credits": {"remaining": 100}}),
    );
    let seen: Vec<String> =
        [&x, &y, &x, &y, &y].iter().map(|s| metered(&w, s, 1)["code"].as_str().unwrap().to_owned()).collect();
    assert_eq!(seen, ["VALID", "VALID", "VALID", "RATE_LIMITED", "RATE_LIMITED"]);
    // y keeps its own credits apart from the shared window: only its one valid answer spent one
    assert_eq!(metered(&w, &y, 1)["credits"]["remaining"], 99);
}

#[test]
fn a_shared_balance_is_refilled_once_and_sharing_has_rules() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let daily = json!({"amount": 4, "interval": "day"});
    let a = customer_token(
        &w,
        &o.admin_secret,
        "a",
        "cus_1",
        json!({"credits": {"remaining": 1, "shared": true, "refill": daily}}),
    );
    let b = customer_token(&w, &o.admin_secret, "b", "cus_1", json!({"credits": {"shared": true, "refill": daily}}));
    assert_eq!(codes(&w, &b, 2, 1), ["VALID", "USAGE_EXCEEDED"]);
    w.now.set(w.now().next_midnight());
    assert_eq!(block_on(w.svc.tick(&o.id, w.now())).unwrap().refills, 1, "one balance, one refill");
    assert_eq!(metered(&w, &a, 1)["credits"]["remaining"], 3);
    let refused = |body: Value| match w.try_create(&o.admin_secret, body) {
        Err(Error::Validation(f)) => f.into_keys().collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    let base = |extra: Value| {
        let mut b = json!({"label": "z", "role": "developer", "kind": "org"});
        b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        b
    };
    assert_eq!(refused(base(json!({"ratelimit": {"limit": 1, "period_s": 1, "shared": true}}))), ["ratelimit.shared"]);
    assert_eq!(refused(base(json!({"credits": {"remaining": 1, "shared": true}}))), ["credits.shared"]);
    assert_eq!(refused(base(json!({"external_id": "cus_9", "credits": {"shared": true}}))), ["credits.remaining"]);
    let monthly = json!({"amount": 4, "interval": "month"});
    assert_eq!(
        refused(base(json!({"external_id": "cus_1", "credits": {"shared": true, "refill": monthly}}))),
        ["credits.refill"]
    );
    // an edit that would make a token's external_id another one's, with a different shared plan
    let (_, id) =
        w.create(&o.admin_secret, base(json!({"external_id": "cus_5", "credits": {"remaining": 1, "shared": true}})));
    let a_admin = w.actor(&o.admin_secret);
    let e = block_on(w.svc.update_token(&a_admin, &id, form(json!({"external_id": "cus_1"})), w.now())).unwrap_err();
    assert!(matches!(&e, Error::Validation(f) if f.contains_key("credits.refill")), "{e:?}");
    let e = block_on(w.svc.update_token(&a_admin, &id, form(json!({"external_id": null})), w.now())).unwrap_err();
    assert!(matches!(&e, Error::Validation(f) if f.contains_key("credits.shared")), "{e:?}");
}

#[test]
fn a_developer_cannot_join_a_balance_or_window_shared_by_tokens_beyond_its_reach() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let paid = customer_token(
        &w,
        &o.admin_secret,
        "paid",
        "cus_1",
        json!({"credits": {"remaining": 50, "shared": true},
        "ratelimit": {"limit": 5, "period_s": 60, "shared": true}}),
    );
    let (_, dev, dev_token) = w.member_with_token(&o.admin_secret, "dev@acme.io", "developer");
    let join = |extra: Value| {
        let mut body = json!({"label": "mine", "role": "developer", "kind": "personal", "external_id": "cus_1"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        w.try_create(&dev, body)
    };
    // neither drain nor top up the customer's balance, nor count in its window
    for extra in [
        json!({"credits": {"remaining": 0, "shared": true}}),
        json!({"credits": {"shared": true}}),
        json!({"ratelimit": {"limit": 5, "period_s": 60, "shared": true}}),
    ] {
        let e = join(extra).unwrap_err();
        assert!(matches!(e, Error::Forbidden(keyward::service::Denied::SharedBeyondReach)), "{e:?}");
    }
    // nor by an edit of its own token
    let d = w.actor(&dev);
    let edit = json!({"external_id": "cus_1", "credits": {"remaining": 0, "shared": true}});
    let e = block_on(w.svc.update_token(&d, &dev_token, form(edit), w.now())).unwrap_err();
    assert!(matches!(e, Error::Forbidden(keyward::service::Denied::SharedBeyondReach)), "{e:?}");
    assert_eq!(metered(&w, &paid, 1)["credits"]["remaining"], 49, "the balance is the customer's still");
    // its own credits, unshared, with the same external id, are its own business
    assert!(join(json!({"credits": {"remaining": 3}})).is_ok());
    // an admin reaches every token, and may join
    assert!(
        customer_token(&w, &o.admin_secret, "more", "cus_1", json!({"credits": {"shared": true}})).starts_with("kw_")
    );
}
