//! "Tell people in time": webhooks (deliveries made in the same commit as their change, signed,
//! retried on a schedule), expiry warnings, idle tokens disabled, usage counts — all driven by
//! the world's clock, never by sleeping.

use futures_executor::block_on;
use keyward::domain::sending::ATTEMPT_OFFSETS_SECONDS;
use keyward::service::{UsageCount, UsageReport};
use serde_json::{json, Value};

use crate::support::{form, no_body, World};
use keyward::service::AuditQuery;

fn notifications(w: &World, admin: &str) -> Vec<Value> {
    let a = w.actor(admin);
    block_on(w.svc.notifications(&a)).unwrap().iter().map(|n| serde_json::to_value(n).unwrap()).collect()
}

fn deliveries(w: &World, admin: &str) -> Vec<Value> {
    let a = w.actor(admin);
    block_on(w.svc.deliveries(&a)).unwrap().iter().map(|n| serde_json::to_value(n).unwrap()).collect()
}

fn set_hook(w: &World, admin: &str, body: Value) -> Value {
    let a = w.actor(admin);
    serde_json::to_value(block_on(w.svc.put_webhook(&a, &form(body.clone()), true, w.now())).unwrap()).unwrap()
}

#[test]
fn a_webhook_gets_one_delivery_per_event_not_per_recipient() {
    let w = World::new();
    let org = w.org("Acme", &["billing"]);
    w.member_with_token(&org.admin_secret, "second@acme.io", "admin");
    let set = set_hook(&w, &org.admin_secret, json!({"url": "http://127.0.0.1:9/h"}));
    let secret = set["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(set["webhook"]["events"], json!(["*"]));
    assert!(!set["webhook"].to_string().contains(&secret), "the view never carries the secret");
    let before = deliveries(&w, &org.admin_secret).len();
    w.create(&org.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org", "scopes": ["billing"]}));
    let after = deliveries(&w, &org.admin_secret);
    assert_eq!(after.len(), before + 1, "two admins told, one delivery");
    let d = &after[0];
    assert_eq!(d["type"], "token.created");
    assert_eq!(d["state"], "pending");
    assert_eq!(d["payload"]["type"], "token.created");
    assert!(d["payload"]["data"]["masked"].as_str().unwrap().starts_with("kw_"));
    // A second set keeps the secret: nothing to show.
    let again =
        set_hook(&w, &org.admin_secret, json!({"url": "http://127.0.0.1:9/other", "events": ["token.revoked"]}));
    assert_eq!(again["secret"], Value::Null);
    assert_eq!(again["webhook"]["masked_secret"], set["webhook"]["masked_secret"]);
    // (The second set is itself audited, `org.updated`, and sent to the endpoint as it was: `*`.)
    assert_eq!(deliveries(&w, &org.admin_secret)[0]["type"], "org.updated");
    let count = deliveries(&w, &org.admin_secret).len();
    w.create(&org.admin_secret, json!({"label": "ci2", "role": "developer", "kind": "org", "scopes": []}));
    assert_eq!(deliveries(&w, &org.admin_secret).len(), count, "token.created is no longer wanted");
}

#[test]
fn deliveries_are_signed_retried_on_schedule_and_given_up() {
    let w = World::new();
    let org = w.org("Acme", &[]);
    let set = set_hook(&w, &org.admin_secret, json!({"url": "http://127.0.0.1:9/h"}));
    let secret = set["secret"].as_str().unwrap().to_owned();
    let a = w.actor(&org.admin_secret);
    block_on(w.svc.test_webhook(&a, &no_body(), w.now())).unwrap();
    let t0 = w.now();
    for (i, offset) in ATTEMPT_OFFSETS_SECONDS.iter().enumerate() {
        w.now.set(t0.plus_seconds(*offset));
        let due = block_on(w.svc.due_deliveries(&org.id, w.now())).unwrap();
        assert_eq!(due.len(), 1, "attempt {i} due at +{offset} s");
        let out = &due[0];
        assert!(out.signature.starts_with("v1,"));
        assert!(!out.body.contains(&secret));
        if i == 0 {
            // Leased to its sender: not handed out twice while the attempt is in flight, and
            // handed out again once the lease ends without an outcome (its sender died).
            let none = block_on(w.svc.due_deliveries(&org.id, w.now().plus_seconds(1))).unwrap();
            assert!(none.is_empty(), "leased");
            let lease_end = w.now().plus_seconds(keyward::domain::sending::SEND_LEASE_SECONDS);
            let again = block_on(w.svc.due_deliveries(&org.id, lease_end)).unwrap();
            assert_eq!(again.len(), 1, "the lease ran out");
        }
        block_on(w.svc.record_attempt(&out.key, Some(500), None, w.now())).unwrap();
        assert!(block_on(w.svc.due_deliveries(&org.id, w.now())).unwrap().is_empty());
    }
    let d = &deliveries(&w, &org.admin_secret)[0];
    assert_eq!(d["state"], "failed");
    assert_eq!(d["attempts"].as_array().unwrap().len(), ATTEMPT_OFFSETS_SECONDS.len());
    assert_eq!(d["attempts"][0]["error"], "HTTP 500");
    assert_eq!(d["next_attempt_at"], Value::Null);
}

#[test]
fn a_rotation_signs_with_both_secrets_during_its_grace() {
    let w = World::new();
    let org = w.org("Acme", &[]);
    set_hook(&w, &org.admin_secret, json!({"url": "http://127.0.0.1:9/h"}));
    let a = w.actor(&org.admin_secret);
    let r = block_on(w.svc.rotate_webhook(&a, &form(json!({"grace_seconds": 60})), w.now())).unwrap();
    assert!(r.secret.as_deref().is_some_and(|s| s.starts_with("whsec_")));
    block_on(w.svc.test_webhook(&a, &no_body(), w.now())).unwrap();
    let due = block_on(w.svc.due_deliveries(&org.id, w.now())).unwrap();
    assert_eq!(due[0].signature.split(' ').count(), 2);
    w.advance_seconds(61);
    let due = block_on(w.svc.due_deliveries(&org.id, w.now())).unwrap();
    assert_eq!(due[0].signature.split(' ').count(), 1);
}

#[test]
fn removing_the_webhook_gives_up_pending_deliveries() {
    let w = World::new();
    let org = w.org("Acme", &[]);
    set_hook(&w, &org.admin_secret, json!({"url": "http://127.0.0.1:9/h"}));
    let a = w.actor(&org.admin_secret);
    // One delivered before the endpoint goes, one still pending.
    block_on(w.svc.test_webhook(&a, &no_body(), w.now())).unwrap();
    let sent = block_on(w.svc.due_deliveries(&org.id, w.now())).unwrap();
    block_on(w.svc.record_attempt(&sent[0].key, Some(200), None, w.now())).unwrap();
    w.advance_seconds(1);
    block_on(w.svc.test_webhook(&w.actor(&org.admin_secret), &no_body(), w.now())).unwrap();
    block_on(w.svc.delete_webhook(&w.actor(&org.admin_secret), &no_body(), w.now())).unwrap();
    // Given up by the delete itself, before any run of the alarm.
    let log = deliveries(&w, &org.admin_secret);
    assert_eq!((log[0]["state"].as_str(), log[1]["state"].as_str()), (Some("failed"), Some("delivered")));
    assert_eq!(log[0]["attempts"][0]["error"], "the webhook was removed");
    assert_eq!(log[1]["attempts"].as_array().map(Vec::len), Some(1), "the delivered one is left as it was");
    // An endpoint set afterwards gets none of them.
    set_hook(&w, &org.admin_secret, json!({"url": "http://127.0.0.1:9/other"}));
    assert!(block_on(w.svc.due_deliveries(&org.id, w.now())).unwrap().is_empty());
    assert!(block_on(w.svc.webhook(&w.actor(&org.admin_secret), w.now())).unwrap().is_some());
}

/// A delivery made for an endpoint that was removed and replaced goes nowhere, even if the
/// delete did not reach it (one beyond the newest the delete reads, or written before deliveries
/// named their endpoint): the alarm gives it up instead of signing it with the new secret.
#[test]
fn a_delivery_is_never_sent_to_a_later_endpoint() {
    let w = World::new();
    let org = w.org("Acme", &[]);
    set_hook(&w, &org.admin_secret, json!({"url": "http://127.0.0.1:9/h"}));
    block_on(w.svc.test_webhook(&w.actor(&org.admin_secret), &no_body(), w.now())).unwrap();
    // The endpoint is replaced behind the delete's back: a new `created_at`, as a later PUT makes.
    let key = keyward::store::keys::webhook(&org.id);
    let mut hook: serde_json::Value = serde_json::from_str(&w.store().dump()[&key]).unwrap();
    hook["created_at"] = json!(w.now().plus_seconds(5).as_millis());
    let put = keyward::store::Write::Put(key, hook.to_string());
    block_on(keyward::store::Store::commit(w.store(), &[put], None)).unwrap();
    assert!(block_on(w.svc.due_deliveries(&org.id, w.now())).unwrap().is_empty());
    let d = &deliveries(&w, &org.admin_secret)[0];
    assert_eq!(
        (d["state"].as_str(), d["attempts"][0]["error"].as_str()),
        (Some("failed"), Some("the webhook was removed"))
    );
}

#[test]
fn webhook_endpoints_are_checked() {
    let w = World::new();
    let org = w.org("Acme", &[]);
    let a = w.actor(&org.admin_secret);
    for (body, field) in [
        (json!({"url": "http://example.com/h"}), "url"),
        (json!({"url": "https://10.0.0.1/h"}), "url"),
        (json!({}), "url"),
        (json!({"url": "https://example.com/h", "events": ["token.nope"]}), "events"),
        (json!({"url": "https://example.com/h", "events": []}), "events"),
        (json!({"url": "https://example.com/h", "extra": 1}), "extra"),
    ] {
        match block_on(w.svc.put_webhook(&a, &form(body.clone()), false, w.now())) {
            Err(keyward::service::Error::Validation(e)) => assert!(e.contains_key(field), "{body}: {e:?}"),
            other => panic!("{body}: {other:?}"),
        }
    }
    assert!(block_on(w.svc.put_webhook(&a, &form(json!({"url": "https://example.com/h"})), false, w.now())).is_ok());
    // A developer can neither read nor set it.
    let (_, dev, _) = w.member_with_token(&org.admin_secret, "dev@acme.io", "developer");
    let d = w.actor(&dev);
    assert!(block_on(w.svc.webhook(&d, w.now())).is_err());
    assert!(block_on(w.svc.put_webhook(&d, &form(json!({"url": "https://example.com/x"})), false, w.now())).is_err());
}

#[test]
fn expiry_warnings_reach_owner_and_admins_once_each() {
    let w = World::new();
    let org = w.org("Acme", &[]);
    // No emails, so that the next wake is the next reminder's.
    let a = w.actor(&org.admin_secret);
    block_on(w.svc.update_org(&a, &form(json!({"policy": {"email_notifications": false}})), w.now())).unwrap();
    assert!(block_on(w.svc.due_emails(&org.id, "", w.now())).unwrap().is_empty(), "the org's first email is given up");
    let (_, dev, _) = w.member_with_token(&org.admin_secret, "dev@acme.io", "developer");
    // The dev's own token, 10 days.
    let (_, id) = w.create(
        &dev,
        json!({"label": "laptop", "role": "developer", "kind": "personal", "scopes": [], "expires_in_days": 10}),
    );
    let count = |kind: &str| {
        notifications(&w, &org.admin_secret)
            .iter()
            .filter(|n| n["kind"] == kind && n["token_id"] == id.as_str())
            .map(|n| n["to"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let t0 = w.now();
    // (What the commits so far asked for is the authority's business, as it takes it after each
    // request; here the tick's own answer counts.)
    w.store().take_wake();
    let tick = block_on(w.svc.tick(&org.id, w.now())).unwrap();
    assert_eq!(tick.expiry_warnings, 0);
    // The audit checkpoint of the org's first day comes first.
    assert_eq!(tick.next, Some(keyward::domain::audit::next_day(t0)));
    w.now.set(keyward::domain::audit::next_day(t0));
    let tick = block_on(w.svc.tick(&org.id, w.now())).unwrap();
    assert_eq!(tick.expiry_warnings, 0);
    assert_eq!(tick.next, Some(t0.plus_days(3)), "the 7-day warning of the 10-day token is next");
    w.now.set(t0.plus_days(3));
    let tick = block_on(w.svc.tick(&org.id, w.now())).unwrap();
    assert!(tick.expiry_warnings >= 1);
    let mut to = count("token.expiring");
    to.sort();
    assert_eq!(to, ["admin@acme.io", "dev@acme.io"]);
    // Once: a second run at the same moment sends nothing new.
    block_on(w.svc.tick(&org.id, w.now())).unwrap();
    assert_eq!(count("token.expiring").len(), 2);
    w.now.set(t0.plus_days(9));
    block_on(w.svc.tick(&org.id, w.now())).unwrap();
    assert_eq!(count("token.expiring").len(), 4);
    let n = notifications(&w, &org.admin_secret);
    let one_day = n.iter().find(|n| n["kind"] == "token.expiring" && n["token_id"] == id.as_str()).unwrap();
    assert!(one_day["subject"].as_str().unwrap().contains("expires in 1 day"), "{one_day}");
    assert!(one_day["body"].as_str().unwrap().contains("kw_"));
}

#[test]
fn idle_tokens_are_warned_then_disabled_by_the_system_unless_used() {
    let w = World::new();
    let org = w.org("Acme", &[]);
    let a = w.actor(&org.admin_secret);
    block_on(w.svc.update_org(&a, &form(json!({"policy": {"disable_after_idle_days": 10}})), w.now())).unwrap();
    let (used_secret, used) = w.create(
        &org.admin_secret,
        json!({"label": "used", "role": "developer", "kind": "org", "scopes": [], "never_expires": null}),
    );
    let (idle_secret, idle) =
        w.create(&org.admin_secret, json!({"label": "idle", "role": "developer", "kind": "org", "scopes": []}));
    let t0 = w.now();
    w.now.set(t0.plus_days(3));
    let tick = block_on(w.svc.tick(&org.id, w.now())).unwrap();
    assert!(tick.idle_warnings >= 2, "{tick:?}");
    // `used` verifies at day 5; the edge reports it.
    w.now.set(t0.plus_days(5));
    assert_eq!(w.verify(&used_secret, &[]), "VALID");
    // An admin call is a use of the admin's token too.
    w.actor(&org.admin_secret);
    let report = UsageReport {
        org_id: org.id.clone(),
        counts: vec![UsageCount {
            token_id: used.clone(),
            date: w.now().date(),
            valid: 3,
            refused: 1,
            rate_limited: 0,
            usage_exceeded: 0,
        }],
    };
    block_on(w.svc.record_usage(&report, w.now())).unwrap();
    w.now.set(t0.plus_days(10));
    let tick = block_on(w.svc.tick(&org.id, w.now())).unwrap();
    assert!(tick.idle_disabled >= 1);
    let idle_view = w.token_json(&org.admin_secret, &idle).unwrap();
    assert_eq!(idle_view["state"], "disabled");
    assert_eq!(idle_view["state_set_by"], "system");
    assert_eq!(w.verify(&idle_secret, &[]), "DISABLED");
    assert_eq!(w.token_json(&org.admin_secret, &used).unwrap()["state"], "active");
    assert_eq!(w.token_json(&org.admin_secret, &org.admin_token_id).unwrap()["state"], "active");
    let a = w.actor(&org.admin_secret);
    let (events, _) =
        block_on(w.svc.audit_events(&a, &AuditQuery { target: Some(idle.clone()), ..AuditQuery::default() })).unwrap();
    let e = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(e["action"], "token.disabled");
    assert_eq!(e["actor_member_id"], Value::Null);
    assert_eq!(e["acted_by"], "keyward");
    assert!(notifications(&w, &org.admin_secret)
        .iter()
        .any(|n| n["kind"] == "token.disabled" && n["created_by"] == "system"));
    // An admin enables it again, and the idle clock restarts.
    let a = w.actor(&org.admin_secret);
    block_on(w.svc.enable_token(&a, &idle, &no_body(), w.now())).unwrap();
    let tick = block_on(w.svc.tick(&org.id, w.now())).unwrap();
    assert_eq!(tick.idle_disabled, 0);
    assert_eq!(w.verify(&idle_secret, &[]), "VALID");
}

/// keyward's own disable sticks like an admin's: the token's developer cannot enable it (nor
/// delete it to start over); an admin can.
#[test]
fn a_developer_cannot_undo_keywards_idle_disable() {
    use keyward::service::{Denied, Error};
    let w = World::new();
    let org = w.org("Acme", &[]);
    let a = w.actor(&org.admin_secret);
    block_on(w.svc.update_org(&a, &form(json!({"policy": {"disable_after_idle_days": 10}})), w.now())).unwrap();
    let (_, dev, _) = w.member_with_token(&org.admin_secret, "dev@acme.io", "developer");
    let (_, script) = w.create(&dev, json!({"label": "script", "role": "developer", "kind": "personal"}));
    // The developer's own token is used every few days; `script` never is.
    let t0 = w.now();
    for day in [3, 6, 9, 12] {
        w.now.set(t0.plus_days(day));
        w.actor(&dev);
        w.actor(&org.admin_secret);
        block_on(w.svc.tick(&org.id, w.now())).unwrap();
    }
    let view = w.token_json(&dev, &script).unwrap();
    assert_eq!((view["state"].as_str(), view["state_set_by"].as_str()), (Some("disabled"), Some("system")));
    let d = w.actor(&dev);
    assert_eq!(
        block_on(w.svc.enable_token(&d, &script, &no_body(), w.now())).unwrap_err(),
        Error::Forbidden(Denied::RestrictionNotYours)
    );
    assert_eq!(
        block_on(w.svc.delete_token(&d, &script, &form(json!({"confirm_label": "script"})), w.now())).unwrap_err(),
        Error::Forbidden(Denied::RestrictedDelete)
    );
    assert_eq!(w.token_json(&dev, &script).unwrap()["state"], "disabled");
    let a = w.actor(&org.admin_secret);
    block_on(w.svc.enable_token(&a, &script, &no_body(), w.now())).unwrap();
    assert_eq!(w.token_json(&dev, &script).unwrap()["state"], "active");
}

#[test]
fn idle_policy_is_validated() {
    let w = World::new();
    let org = w.org("Acme", &[]);
    let a = w.actor(&org.admin_secret);
    for bad in [json!(0), json!(366), json!("7"), json!(1.5)] {
        let r = block_on(w.svc.update_org(&a, &form(json!({"policy": {"disable_after_idle_days": bad}})), w.now()));
        assert!(
            matches!(r, Err(keyward::service::Error::Validation(ref e)) if e.contains_key("policy.disable_after_idle_days")),
            "{bad}: {r:?}"
        );
    }
    let on =
        block_on(w.svc.update_org(&a, &form(json!({"policy": {"disable_after_idle_days": 90}})), w.now())).unwrap();
    assert_eq!(on.policy.disable_after_idle_days, Some(90));
    let a = w.actor(&org.admin_secret);
    let kept = block_on(w.svc.update_org(&a, &form(json!({"policy": {"max_ttl_days": 100}})), w.now())).unwrap();
    assert_eq!(kept.policy.disable_after_idle_days, Some(90), "absent keeps it");
    let a = w.actor(&org.admin_secret);
    let off =
        block_on(w.svc.update_org(&a, &form(json!({"policy": {"disable_after_idle_days": null}})), w.now())).unwrap();
    assert_eq!(off.policy.disable_after_idle_days, None, "null turns it off");
}

#[test]
fn usage_is_summed_per_day_over_thirty_days() {
    let w = World::new();
    let org = w.org("Acme", &[]);
    let (_, id) = w.create(&org.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org", "scopes": []}));
    let count = |date: String, valid, refused| UsageCount {
        token_id: id.clone(),
        date,
        valid,
        refused,
        rate_limited: 0,
        usage_exceeded: 0,
    };
    let today = w.now().date();
    let yesterday = w.now().plus_days(-1).date();
    let report = UsageReport {
        org_id: org.id.clone(),
        counts: vec![
            UsageCount { rate_limited: 1, ..count(today.clone(), 2, 1) },
            count(today.clone(), 3, 0),
            UsageCount { usage_exceeded: 2, rate_limited: 1, ..count(today.clone(), 0, 3) },
            count(yesterday.clone(), 0, 4),
            count(w.now().plus_days(-40).date(), 9, 9),
            count("junk".into(), 9, 9),
            UsageCount {
                token_id: "tok_unknown".into(),
                date: today.clone(),
                valid: 1,
                refused: 0,
                rate_limited: 0,
                usage_exceeded: 0,
            },
        ],
    };
    block_on(w.svc.record_usage(&report, w.now())).unwrap();
    let a = w.actor(&org.admin_secret);
    let u = serde_json::to_value(block_on(w.svc.token_usage(&a, &id, w.now())).unwrap()).unwrap();
    let days = u["days"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    assert_eq!(days[29], json!({"date": today, "valid": 5, "refused": 4, "rate_limited": 2, "usage_exceeded": 2}));
    assert_eq!(days[28], json!({"date": yesterday, "valid": 0, "refused": 4, "rate_limited": 0, "usage_exceeded": 0}));
    assert_eq!(days.iter().map(|d| d["valid"].as_u64().unwrap()).sum::<u64>(), 5);
    // 31 days on, all of it has left the window.
    let later = w.now().plus_days(31);
    let u = serde_json::to_value(block_on(w.svc.token_usage(&a, &id, later)).unwrap()).unwrap();
    assert!(u["days"].as_array().unwrap().iter().all(|d| d["valid"] == 0 && d["refused"] == 0));
    let all = block_on(w.svc.org_usage(&a, w.now())).unwrap();
    assert!(all.iter().any(|t| t.token_id == id));
}

#[test]
fn notifications_are_emailed_once_each_and_retried() {
    let w = World::new();
    let org = w.org("Acme", &["billing"]);
    let (dev_id, _, _) = w.member_with_token(&org.admin_secret, "dev@acme.io", "developer");
    let due = block_on(w.svc.due_emails(&org.id, "https://keyward.example", w.now())).unwrap();
    // The org's first token (the admin told), then the dev's token made by the admin (the admin
    // and the dev told).
    let mut to: Vec<&str> = due.iter().map(|d| d.email.to.as_str()).collect();
    to.sort_unstable();
    assert_eq!(to, ["admin@acme.io", "admin@acme.io", "dev@acme.io"]);
    for d in &due {
        assert!(d.email.text.contains("https://keyward.example/#/tokens/tok_"));
        assert!(d.email.text.contains("Ada Admin <admin@acme.io>"));
        assert!(d.email.html.starts_with("<!doctype html>"));
    }
    let second = due.iter().find(|d| d.email.to == "dev@acme.io").unwrap();
    for d in due.iter().filter(|d| d.email.to != "dev@acme.io") {
        block_on(w.svc.record_email(&d.key, Ok(()), w.now())).unwrap();
    }
    let next = block_on(w.svc.record_email(&second.key, Err("refused".into()), w.now())).unwrap();
    assert_eq!(next, Some(w.now().plus_seconds(5)));
    assert!(block_on(w.svc.due_emails(&org.id, "", w.now())).unwrap().is_empty(), "nothing due before 5 s");
    w.advance_seconds(5);
    let again = block_on(w.svc.due_emails(&org.id, "", w.now())).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].key, second.key);
    let views = notifications(&w, &org.admin_secret);
    let states: Vec<&str> = views.iter().filter_map(|n| n["email"]["state"].as_str()).collect();
    assert!(states.contains(&"sent") && states.contains(&"pending"), "{states:?}");
    // Leased while it is being sent: not handed out twice.
    assert!(block_on(w.svc.due_emails(&org.id, "", w.now())).unwrap().is_empty());
    block_on(w.svc.record_email(&again[0].key, Err("refused".into()), w.now())).unwrap();
    // The dev is deactivated before the next retry: given up, never sent.
    let a = w.actor(&org.admin_secret);
    block_on(w.svc.update_member(&a, &dev_id, &form(json!({"status": "deactivated"})), w.now())).unwrap();
    w.advance_seconds(300);
    let left: Vec<String> =
        block_on(w.svc.due_emails(&org.id, "", w.now())).unwrap().into_iter().map(|d| d.email.to).collect();
    assert!(!left.iter().any(|t| t == "dev@acme.io"), "{left:?}");
    let dev_view = notifications(&w, &org.admin_secret)
        .into_iter()
        .find(|n| n["to"] == "dev@acme.io" && n["email"]["state"] == "failed")
        .expect("the dev's email was given up");
    assert_eq!(dev_view["email"]["last_error"], "the recipient is not an active member");
    // Emails off: new notifications carry none.
    let a = w.actor(&org.admin_secret);
    block_on(w.svc.update_org(&a, &form(json!({"policy": {"email_notifications": false}})), w.now())).unwrap();
    w.create(&org.admin_secret, json!({"label": "quiet", "role": "developer", "kind": "org", "scopes": []}));
    let quiet = notifications(&w, &org.admin_secret);
    assert_eq!(quiet[0]["kind"], "token.created");
    assert_eq!(quiet[0]["email"], Value::Null);
}

/// Found by the red team: a rotation's grace shown after it ended; "*" beside other kinds;
/// pending emails kept after emails were turned off; a use left unrecorded when the edge dated it
/// outside the authority's window.
#[test]
fn red_team_findings_stay_fixed() {
    let w = World::new();
    let org = w.org("Acme", &[]);
    let a = w.actor(&org.admin_secret);
    block_on(w.svc.put_webhook(&a, &form(json!({"url": "http://127.0.0.1:9/h"})), true, w.now())).unwrap();
    block_on(w.svc.rotate_webhook(&a, &form(json!({"grace_seconds": 60})), w.now())).unwrap();
    let during = block_on(w.svc.webhook(&a, w.now())).unwrap().unwrap();
    assert!(during.previous_valid_until.is_some());
    let after = block_on(w.svc.webhook(&a, w.now().plus_seconds(60))).unwrap().unwrap();
    assert_eq!(after.previous_valid_until, None, "the old secret no longer signs");

    let both = block_on(w.svc.put_webhook(
        &a,
        &form(json!({"url": "http://127.0.0.1:9/h", "events": ["*", "token.created"]})),
        true,
        w.now(),
    ));
    assert!(matches!(both, Err(keyward::service::Error::Validation(ref e)) if e.contains_key("events")), "{both:?}");

    // A pending email (not yet due again) is given up as soon as emails are turned off.
    let due = block_on(w.svc.due_emails(&org.id, "", w.now())).unwrap();
    assert!(!due.is_empty());
    for d in &due {
        block_on(w.svc.record_email(&d.key, Err("refused".into()), w.now())).unwrap();
    }
    let a = w.actor(&org.admin_secret);
    block_on(w.svc.update_org(&a, &form(json!({"policy": {"email_notifications": false}})), w.now())).unwrap();
    assert!(block_on(w.svc.due_emails(&org.id, "", w.now())).unwrap().is_empty());
    let states: Vec<Value> = notifications(&w, &org.admin_secret)
        .into_iter()
        .filter_map(|n| n.get("email").cloned())
        .filter(|e| !e.is_null())
        .collect();
    assert!(states.iter().all(|e| e["state"] == "failed"), "{states:?}");

    // A valid use counts for the idle policy whatever day the edge put on it.
    let (_, id) = w.create(&org.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org", "scopes": []}));
    let report = UsageReport {
        org_id: org.id.clone(),
        counts: vec![UsageCount {
            token_id: id.clone(),
            date: "1999-01-01".into(),
            valid: 1,
            refused: 0,
            rate_limited: 0,
            usage_exceeded: 0,
        }],
    };
    let later = w.now().plus_days(40);
    block_on(w.svc.record_usage(&report, later)).unwrap();
    let watch = block_on(w.svc.repo().watch(&org.id, &id)).unwrap();
    assert_eq!(watch.last_used_at, Some(later));
}

/// Survivors of the second mutation run in the new use cases: which policy changes wake the
/// authority, org tokens' warnings, a deactivated owner's tokens, the system disable's version,
/// the exact wording of the 1-day warning, and an email's retry as the next wake.
#[test]
fn timed_work_details() {
    let w = World::new();
    let org = w.org("Acme", &[]);
    w.store().take_wake();
    let a = w.actor(&org.admin_secret);
    block_on(w.svc.update_org(&a, &form(json!({"name": "Acme Two"})), w.now())).unwrap();
    assert_eq!(
        w.store().take_wake(),
        Some(keyward::domain::audit::next_day(w.now())),
        "a new name moves no reminder: only the audit checkpoint asks"
    );
    let a = w.actor(&org.admin_secret);
    block_on(w.svc.update_org(&a, &form(json!({"policy": {"disable_after_idle_days": 60}})), w.now())).unwrap();
    assert_eq!(w.store().take_wake(), Some(w.now()), "the idle policy moves every reminder");
    let a = w.actor(&org.admin_secret);
    block_on(w.svc.update_org(&a, &form(json!({"policy": {"email_notifications": false}})), w.now())).unwrap();
    assert_eq!(w.store().take_wake(), Some(w.now()), "emails turned off: pending ones to give up");
    let a = w.actor(&org.admin_secret);
    block_on(w.svc.update_org(
        &a,
        &form(json!({"policy": {"email_notifications": true, "disable_after_idle_days": null}})),
        w.now(),
    ))
    .unwrap();
    w.store().take_wake();

    // An org token is warned like a personal one; a deactivated owner's token is not.
    let (_, org_tok) =
        w.create(&org.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org", "expires_in_days": 10}));
    let (dev_id, _, _) = w.member_with_token(&org.admin_secret, "dev@acme.io", "developer");
    let (_, dev_tok) = w.create(
        &org.admin_secret,
        json!({"label": "dev ci", "role": "developer", "kind": "personal", "owner_member_id": dev_id, "expires_in_days": 10}),
    );
    let a = w.actor(&org.admin_secret);
    block_on(w.svc.update_member(&a, &dev_id, &form(json!({"status": "deactivated"})), w.now())).unwrap();
    let t0 = w.now();
    w.now.set(t0.plus_days(9));
    block_on(w.svc.tick(&org.id, w.now())).unwrap();
    let notes = notifications(&w, &org.admin_secret);
    let warned: Vec<&Value> = notes.iter().filter(|n| n["kind"] == "token.expiring").collect();
    assert!(warned.iter().any(|n| n["token_id"] == org_tok.as_str()), "the org token is warned");
    assert!(!warned.iter().any(|n| n["token_id"] == dev_tok.as_str()), "the deactivated owner's token is not");
    let subject =
        warned.iter().find(|n| n["token_id"] == org_tok.as_str()).unwrap()["subject"].as_str().unwrap().to_owned();
    assert!(subject.ends_with("expires in 1 day"), "{subject}");

    // A system disable counts one version.
    let a = w.actor(&org.admin_secret);
    block_on(w.svc.update_org(&a, &form(json!({"policy": {"disable_after_idle_days": 5}})), w.now())).unwrap();
    let (_, idle) = w
        .create(&org.admin_secret, json!({"label": "idle", "role": "developer", "kind": "org", "expires_in_days": 60}));
    let version_of = |id: &str| {
        let a = w.actor(&org.admin_secret);
        block_on(w.svc.get_token(&a, id, w.now())).unwrap().version
    };
    let before = version_of(&idle);
    w.advance_seconds(5 * 86_400);
    w.actor(&org.admin_secret); // the admin's own token is in use
    block_on(w.svc.tick(&org.id, w.now())).unwrap();
    assert_eq!(w.token_json(&org.admin_secret, &idle).unwrap()["state"], "disabled");
    assert_eq!(version_of(&idle), before + 1);

    // A failed email's retry is the authority's next wake.
    let due = block_on(w.svc.due_emails(&org.id, "", w.now())).unwrap();
    assert!(!due.is_empty());
    for d in &due {
        block_on(w.svc.record_email(&d.key, Err("refused".into()), w.now())).unwrap();
    }
    w.store().take_wake();
    let tick = block_on(w.svc.tick(&org.id, w.now())).unwrap();
    let retry = tick.next.expect("a wake is due");
    assert!(retry <= w.now().plus_seconds(300), "{retry:?}");
}

/// The events list: absent is all, a string is not a list, "*" alone, kinds kept in order.
#[test]
fn webhook_events_are_read_exactly() {
    let w = World::new();
    let org = w.org("Acme", &[]);
    let a = w.actor(&org.admin_secret);
    let put = |events: Value| {
        block_on(w.svc.put_webhook(
            &a,
            &form(json!({"url": "https://example.com/h", "events": events})),
            false,
            w.now(),
        ))
    };
    match put(json!("token.created")) {
        Err(keyward::service::Error::Validation(e)) => assert!(e.contains_key("events")),
        other => panic!("{other:?}"),
    }
    assert_eq!(put(json!(["*"])).unwrap().webhook.events, ["*"]);
    assert_eq!(
        put(json!(["member.updated", "token.created"])).unwrap().webhook.events,
        ["member.updated", "token.created"]
    );
    assert_eq!(put(Value::Null).unwrap().webhook.events, ["*"]);
}

/// Survivors of the second mutation run in usage: what counts as a use, which days are kept,
/// pruning, the admin call's hourly note, and a delivery's retry as the next wake.
#[test]
fn usage_edges() {
    let w = World::new();
    let org = w.org("Acme", &[]);
    let (_, id) = w.create(&org.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org"}));
    let report = |date: String, valid: u64, refused: u64| UsageReport {
        org_id: org.id.clone(),
        counts: vec![UsageCount { token_id: id.clone(), date, valid, refused, rate_limited: 0, usage_exceeded: 0 }],
    };
    let last_use = || block_on(w.svc.repo().watch(&org.id, &id)).unwrap().last_used_at;
    let stored = || -> Vec<String> {
        block_on(w.svc.repo().usage(&org.id, &id)).unwrap().into_iter().map(|(d, _, _)| d).collect()
    };
    let t0 = w.now();
    // Refused verifications are not a use.
    block_on(w.svc.record_usage(&report(t0.date(), 0, 3), t0)).unwrap();
    assert_eq!(last_use(), None);
    // A later use moves the last use forward, an earlier report never back.
    block_on(w.svc.record_usage(&report(t0.date(), 1, 0), t0)).unwrap();
    assert_eq!(last_use(), Some(t0));
    let t1 = t0.plus_seconds(90);
    block_on(w.svc.record_usage(&report(t0.date(), 1, 0), t1)).unwrap();
    assert_eq!(last_use(), Some(t1));
    block_on(w.svc.record_usage(&report(t0.date(), 1, 0), t0)).unwrap();
    assert_eq!(last_use(), Some(t1));
    // Days kept: from the window's oldest to tomorrow; nothing else, and no junk.
    let oldest = t0.plus_days(-29).date();
    for date in [
        oldest.clone(),
        t0.plus_days(1).date(),
        t0.plus_days(-30).date(),
        t0.plus_days(2).date(),
        "junk".into(),
        "2099-01-01".into(),
    ] {
        block_on(w.svc.record_usage(&report(date, 1, 0), t0)).unwrap();
    }
    let days = stored();
    assert!(days.contains(&oldest) && days.contains(&t0.plus_days(1).date()), "{days:?}");
    for gone in [t0.plus_days(-30).date(), t0.plus_days(2).date(), "junk".to_owned(), "2099-01-01".to_owned()] {
        assert!(!days.contains(&gone), "{gone} kept: {days:?}");
    }
    // A day that falls out of the window is dropped by the next report; the rest stay, the
    // window's new oldest day included.
    let new_oldest = t0.plus_days(-28).date();
    block_on(w.svc.record_usage(&report(new_oldest.clone(), 1, 0), t0)).unwrap();
    let next_day = t0.plus_days(1);
    block_on(w.svc.record_usage(&report(next_day.date(), 1, 0), next_day)).unwrap();
    let days = stored();
    assert!(!days.contains(&oldest), "{days:?}");
    assert!(days.contains(&new_oldest), "{days:?}");
    assert!(days.contains(&t0.date()) && days.contains(&next_day.date()), "{days:?}");

    // An admin call notes a use at most once an hour, and again at the hour.
    let a = w.actor(&org.admin_secret);
    let at = w.now().plus_days(2);
    block_on(w.svc.note_use(&a, at)).unwrap();
    block_on(w.svc.note_use(&a, at.plus_seconds(3_599))).unwrap();
    let admin_use = || block_on(w.svc.repo().watch(&org.id, &org.admin_token_id)).unwrap().last_used_at;
    assert_eq!(admin_use(), Some(at));
    block_on(w.svc.note_use(&a, at.plus_seconds(3_600))).unwrap();
    assert_eq!(admin_use(), Some(at.plus_seconds(3_600)));

    // A delivery's retry is the authority's next wake.
    block_on(w.svc.put_webhook(&a, &form(json!({"url": "http://127.0.0.1:9/h"})), true, w.now())).unwrap();
    block_on(w.svc.test_webhook(&a, &no_body(), w.now())).unwrap();
    for out in block_on(w.svc.due_deliveries(&org.id, w.now())).unwrap() {
        block_on(w.svc.record_attempt(&out.key, Some(500), None, w.now())).unwrap();
    }
    let emails = block_on(w.svc.due_emails(&org.id, "", w.now())).unwrap();
    for e in &emails {
        block_on(w.svc.record_email(&e.key, Ok(()), w.now())).unwrap();
    }
    w.store().take_wake();
    let tick = block_on(w.svc.tick(&org.id, w.now())).unwrap();
    assert_eq!(tick.next, Some(w.now().plus_seconds(5)));
}
