//! Webhook set-up and rotation through the public API; each delivery's signature is checked
//! against the secrets it must be made with.
//! (Many were first written to pin behaviour mutation testing found unchecked; docs/ASSURANCE.md.)

use futures_executor::block_on;
use keyward::domain::webhook::{mask_secret, signature};
use keyward::service::Outgoing;
use serde_json::json;

use crate::support::{form, no_body, World};

fn due(w: &World, org: &str) -> Vec<Outgoing> {
    block_on(w.svc.due_deliveries(org, w.now())).unwrap()
}

fn signed_with(out: &Outgoing, secrets: &[&str]) -> bool {
    out.signature == signature(secrets, &out.id, out.timestamp, &out.body)
}

#[test]
fn a_second_set_moves_the_webhook_and_its_deliveries_to_the_new_url_and_events() {
    let w = World::new();
    let org = w.org("Acme", &[]);
    let a = w.actor(&org.admin_secret);
    let first =
        block_on(w.svc.put_webhook(&a, &form(json!({"url": "http://127.0.0.1:9/one"})), true, w.now())).unwrap();
    assert!(first.created);
    let secret = first.secret.expect("the first set makes the secret");

    let body = json!({"url": "http://127.0.0.1:9/two", "events": ["token.revoked"]});
    let second = block_on(w.svc.put_webhook(&a, &form(body.clone()), true, w.now())).unwrap();
    assert!(!second.created);
    assert_eq!(second.secret, None);
    assert_eq!(
        (second.webhook.url.as_str(), second.webhook.events.clone()),
        ("http://127.0.0.1:9/two", vec!["token.revoked".to_owned()])
    );
    let stored = block_on(w.svc.webhook(&a, w.now())).unwrap().expect("set");
    assert_eq!(stored, second.webhook);
    assert_eq!(stored.masked_secret, mask_secret(&secret));

    block_on(w.svc.test_webhook(&a, &no_body(), w.now())).unwrap();
    // The second set's own event (`org.updated`, made for the endpoint as it was, `*`) and the
    // test: both go to the new url, signed with the kept secret.
    let out = due(&w, &org.id);
    assert_eq!(out.len(), 2);
    assert!(
        out.iter().any(|o| o.body.contains("\"org.updated\"")) && out.iter().any(|o| o.body.contains("webhook.test"))
    );
    for o in &out {
        assert_eq!(o.url, "http://127.0.0.1:9/two");
        assert!(signed_with(o, &[&secret]), "the kept secret still signs");
    }
}

#[test]
fn a_rotation_replaces_the_signing_secret_and_says_when() {
    let w = World::new();
    let org = w.org("Acme", &[]);
    let a = w.actor(&org.admin_secret);
    let old = block_on(w.svc.put_webhook(&a, &form(json!({"url": "http://127.0.0.1:9/h"})), true, w.now()))
        .unwrap()
        .secret
        .unwrap();
    assert_eq!(block_on(w.svc.webhook(&a, w.now())).unwrap().unwrap().rotated_at, None);

    w.advance_seconds(10);
    let rotated_at = w.now();
    let r = block_on(w.svc.rotate_webhook(&a, &form(json!({"grace_seconds": 60})), w.now())).unwrap();
    let new = r.secret.clone().expect("a rotation answers its new secret");
    assert_ne!(new, old);
    assert_eq!(r.webhook.masked_secret, mask_secret(&new));
    assert_eq!(r.webhook.rotated_at.as_deref(), Some(rotated_at.to_rfc3339().as_str()));
    assert_eq!(r.webhook.previous_valid_until, Some(rotated_at.plus_seconds(60).to_rfc3339()));
    assert_eq!(block_on(w.svc.webhook(&a, w.now())).unwrap().unwrap(), r.webhook, "as stored");

    // during the grace both sign, the new one first; after it only the new one
    block_on(w.svc.test_webhook(&a, &no_body(), w.now())).unwrap();
    assert!(signed_with(&due(&w, &org.id)[0], &[&new, &old]));
    w.advance_seconds(60);
    assert!(signed_with(&due(&w, &org.id)[0], &[&new]));

    // a rotation without grace drops the previous secret at once
    let r2 = block_on(w.svc.rotate_webhook(&a, &form(json!({"grace_seconds": 0})), w.now())).unwrap();
    let newer = r2.secret.unwrap();
    assert_eq!(r2.webhook.previous_valid_until, None);
    // (the last attempt was handed out and never recorded: wait out its lease)
    w.advance_seconds(keyward::domain::sending::SEND_LEASE_SECONDS);
    assert!(signed_with(&due(&w, &org.id)[0], &[&newer]));
}

/// An endpoint URL often carries a secret of its own: the audit log names its host only, while
/// the setting keeps it whole.
#[test]
fn the_audit_log_names_the_endpoint_by_its_host() {
    use keyward::service::AuditQuery;
    let w = World::new();
    let org = w.org("Acme", &[]);
    let a = w.actor(&org.admin_secret);
    let hex = "ab".repeat(32);
    let url = format!("https://hooks.example.com/services/{hex}?t={hex}");
    let set = block_on(w.svc.put_webhook(&a, &form(json!({"url": url})), false, w.now())).unwrap();
    assert_eq!(set.webhook.url, url, "the setting keeps the whole URL");
    block_on(w.svc.delete_webhook(&a, &no_body(), w.now())).unwrap();
    let (events, _) = block_on(w.svc.audit_events(&a, &AuditQuery::default())).unwrap();
    let summaries: Vec<&str> = events.iter().take(2).map(|e| e.summary.as_str()).collect();
    assert_eq!(
        summaries,
        ["Removed the webhook to https://hooks.example.com/…", "Set the webhook to https://hooks.example.com/… for *"]
    );
}
