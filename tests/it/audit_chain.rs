//! The audit chain's daily checkpoint: once each UTC day in which the log grew is over, its
//! head goes to the webhook (`audit.checkpoint`) and to every active admin as a digest.

use futures_executor::block_on;
use keyward::domain::audit::next_day;
use serde_json::{json, Value};

use crate::support::{form, World};

fn notifications(w: &World, admin: &str) -> Vec<Value> {
    let a = w.actor(admin);
    block_on(w.svc.notifications(&a)).unwrap().iter().map(|n| serde_json::to_value(n).unwrap()).collect()
}

fn checkpoints(w: &World, admin: &str) -> Vec<Value> {
    notifications(w, admin).into_iter().filter(|n| n["kind"] == "audit.checkpoint").collect()
}

#[test]
fn each_day_in_which_the_log_grew_is_checkpointed_once_when_it_is_over() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let a = w.actor(&o.admin_secret);
    block_on(w.svc.put_webhook(&a, &form(json!({"url": "http://127.0.0.1:9/h"})), true, w.now())).unwrap();
    w.create(&o.admin_secret, json!({"label": "ops", "role": "admin", "kind": "org"}));
    // A developer and a deactivated admin: neither gets the digest.
    w.member_with_token(&o.admin_secret, "dev@acme.io", "developer");
    let (gone, _, _) = w.member_with_token(&o.admin_secret, "gone@acme.io", "admin");
    let a = w.actor(&o.admin_secret);
    block_on(w.svc.update_member(&a, &gone, &form(json!({"status": "deactivated"})), w.now())).unwrap();
    let day0 = w.now();
    let head = block_on(w.svc.audit_head(&w.actor(&o.admin_secret))).unwrap();
    assert!(head.seq >= 3);
    assert_eq!((head.checkpoint_at.as_deref(), head.checkpoint_seq), (None, None));
    // Not during the day.
    assert_eq!(block_on(w.svc.checkpoint(&o.id, day0)).unwrap(), Some(next_day(day0)));
    assert!(checkpoints(&w, &o.admin_secret).is_empty());
    // At its end: one digest per active admin, one webhook event, and the head says so.
    w.now.set(next_day(day0));
    let tick = block_on(w.svc.tick(&o.id, w.now())).unwrap();
    let sent = checkpoints(&w, &o.admin_secret);
    let admins = block_on(w.svc.repo().members(&o.id))
        .unwrap()
        .iter()
        .filter(|m| m.role == keyward::domain::Role::Admin && m.is_active())
        .count();
    assert_eq!(sent.len(), admins);
    let body = sent[0]["body"].as_str().unwrap();
    assert!(body.contains(&format!("Checkpoint: seq {}, hash {}", head.seq, head.hash)), "{body}");
    // The day's events by action: the org, its admin token, the webhook, the second admin's
    // token, the three members (the first admin too) and two tokens, the deactivation.
    assert!(body.contains(&format!("\n  {:<24} 4\n", "token.created")), "{body}");
    assert!(body.contains(&format!("\n  {:<24} 3\n", "member.created")), "{body}");
    assert!(body.contains(&format!("\n  {:<24} 1\n", "org.created")), "{body}");
    let a = w.actor(&o.admin_secret);
    let deliveries = block_on(w.svc.deliveries(&a)).unwrap();
    let hook: Vec<_> = deliveries.iter().filter(|d| d.kind == "audit.checkpoint").collect();
    assert_eq!(hook.len(), 1, "{deliveries:?}");
    assert_eq!(hook[0].payload["data"]["seq"], head.seq);
    assert_eq!(hook[0].payload["data"]["hash"], head.hash.as_str());
    assert_eq!(hook[0].payload["data"]["org_id"], o.id.as_str());
    let now_head = block_on(w.svc.audit_head(&a)).unwrap();
    assert_eq!(now_head.checkpoint_seq, Some(head.seq));
    assert_eq!(now_head.checkpoint_at, Some(w.now().to_rfc3339()));
    assert_ne!(tick.next, Some(w.now()));
    // Twice the same day: nothing more; a day without changes: nothing.
    assert_eq!(block_on(w.svc.checkpoint(&o.id, w.now())).unwrap(), None);
    w.now.set(next_day(w.now()));
    assert_eq!(block_on(w.svc.checkpoint(&o.id, w.now())).unwrap(), None);
    assert_eq!(checkpoints(&w, &o.admin_secret).len(), admins);
    // A change today: tomorrow's checkpoint covers it, from the next seq.
    w.create(&o.admin_secret, json!({"label": "late", "role": "developer", "kind": "org"}));
    let today = w.now();
    assert_eq!(block_on(w.svc.checkpoint(&o.id, today)).unwrap(), Some(next_day(today)));
    w.now.set(next_day(today).plus_seconds(3600));
    assert_eq!(block_on(w.svc.checkpoint(&o.id, w.now())).unwrap(), None);
    let all = checkpoints(&w, &o.admin_secret);
    assert_eq!(all.len(), 2 * admins);
    let newest = all[0]["body"].as_str().unwrap();
    assert!(newest.contains(&format!("grew from seq {} to seq {}", head.seq + 1, head.seq + 1)), "{newest}");
}

#[test]
fn digests_are_emailed_under_the_orgs_policy() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let a = w.actor(&o.admin_secret);
    block_on(w.svc.update_org(&a, &form(json!({"policy": {"email_notifications": false}})), w.now())).unwrap();
    w.now.set(next_day(w.now()));
    block_on(w.svc.checkpoint(&o.id, w.now())).unwrap();
    let sent = checkpoints(&w, &o.admin_secret);
    assert_eq!(sent.len(), 1);
    assert!(sent[0]["email"].is_null() || sent[0]["email"]["state"].is_null(), "{}", sent[0]);
    let a = w.actor(&o.admin_secret);
    block_on(w.svc.update_org(&a, &form(json!({"policy": {"email_notifications": true}})), w.now())).unwrap();
    w.now.set(next_day(w.now()));
    block_on(w.svc.checkpoint(&o.id, w.now())).unwrap();
    let sent = checkpoints(&w, &o.admin_secret);
    assert_eq!(sent.len(), 2);
    assert!(!sent[0]["email"].is_null(), "{}", sent[0]);
}
