//! The audit sink (Splunk HEC) and the webhook events of audited actions, through the service:
//! every audit event becomes one delivery to the sink in its own commit, carrying the collector's
//! token only in `Authorization`; every audited action reaches the webhook once.

use futures_executor::block_on;
use keyward::domain::sending::ATTEMPT_OFFSETS_SECONDS;
use keyward::service::{Error, Outgoing};
use keyward::store::Store as _;
use serde_json::{json, Value};

use crate::support::{form, no_body, World};

const TOKEN: &str = "12345678-90ab-cdef-1234-567890abcdef";

fn set_sink(w: &World, admin: &str, body: Value) -> Result<Value, Error> {
    let a = w.actor(admin);
    block_on(w.svc.put_audit_sink(&a, &form(body), true, w.now())).map(|v| serde_json::to_value(v).unwrap())
}

fn sink_log(w: &World, admin: &str) -> Vec<Value> {
    let a = w.actor(admin);
    block_on(w.svc.sink_deliveries(&a)).unwrap().iter().map(|d| serde_json::to_value(d).unwrap()).collect()
}

fn hook_log(w: &World, admin: &str) -> Vec<Value> {
    let a = w.actor(admin);
    block_on(w.svc.deliveries(&a)).unwrap().iter().map(|d| serde_json::to_value(d).unwrap()).collect()
}

fn audit(w: &World, admin: &str) -> Vec<Value> {
    let a = w.actor(admin);
    let q = keyward::service::AuditQuery::default();
    let (events, _) = block_on(w.svc.audit_events(&a, &q)).unwrap();
    events.iter().map(|e| serde_json::to_value(e).unwrap()).collect()
}

fn to_sink(out: &[Outgoing]) -> Vec<&Outgoing> {
    out.iter().filter(|o| o.authorization.is_some()).collect()
}

#[test]
fn every_audit_event_after_the_sink_is_set_is_one_hec_delivery_with_the_token_only_in_authorization() {
    let w = World::new();
    let org = w.org("Acme", &["billing"]);
    let view = set_sink(
        &w,
        &org.admin_secret,
        json!({"kind": "splunk_hec", "url": "http://127.0.0.1:9/services/collector/event", "token": TOKEN}),
    )
    .unwrap();
    assert_eq!(view["kind"], "splunk_hec");
    assert_eq!(view["token_masked"], "••••••••cdef");
    assert!(!view.to_string().contains(TOKEN));
    assert_eq!(view.as_object().unwrap().len(), 4, "{view}");
    // The first set is audited, but not sent to the sink it sets.
    assert!(sink_log(&w, &org.admin_secret).is_empty());

    let (_, tok) = w.create(&org.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org"}));
    let a = w.actor(&org.admin_secret);
    block_on(w.svc.create_member(&a, &form(json!({"email": "b@acme.io", "name": "B", "role": "developer"})), w.now()))
        .unwrap();
    let events = audit(&w, &org.admin_secret);
    let log = sink_log(&w, &org.admin_secret);
    // Newest first in both: the member, the token.
    assert_eq!(log.len(), 2);
    for (d, e) in log.iter().zip(&events) {
        assert_eq!(d["type"], e["action"]);
        assert_eq!(d["state"], "pending");
        let p = &d["payload"];
        assert_eq!(p["sourcetype"], "keyward:audit");
        assert_eq!(p["source"], "keyward");
        // The event exactly as the audit log lists (and exports) it, chained.
        assert_eq!(p["event"], *e);
        assert!(p["event"]["seq"].as_u64().is_some_and(|n| n > 0));
        assert_eq!(p["event"]["hash"].as_str().map(str::len), Some(64));
        let at = keyward::domain::Timestamp::parse_rfc3339(e["at"].as_str().unwrap()).unwrap();
        assert_eq!(p["time"], json!(at.as_seconds()));
    }
    assert_eq!(log[1]["payload"]["event"]["target_id"], json!(tok));

    let due = block_on(w.svc.due_deliveries(&org.id, w.now())).unwrap();
    let sunk = to_sink(&due);
    assert_eq!(sunk.len(), 2);
    for o in &sunk {
        assert_eq!(o.url, "http://127.0.0.1:9/services/collector/event");
        assert_eq!(o.authorization.as_ref().unwrap().0, format!("Splunk {TOKEN}"));
        assert!(!o.body.contains(TOKEN));
        assert!(!format!("{o:?}").contains(TOKEN), "never in a log line");
    }
    // Nowhere else: the audit log, notifications, webhook payloads, the sink's own view.
    let a = w.actor(&org.admin_secret);
    let notes = serde_json::to_string(&block_on(w.svc.notifications(&a)).unwrap()).unwrap();
    for text in [serde_json::to_string(&events).unwrap(), notes, serde_json::to_string(&log).unwrap()] {
        assert!(!text.contains(TOKEN));
    }
    assert!(events
        .iter()
        .any(|e| e["summary"].as_str().unwrap().contains("audit sink (splunk_hec) to http://127.0.0.1:9/…")));
}

#[test]
fn a_failed_delivery_is_retried_on_the_webhook_schedule_and_removal_gives_up_what_is_pending() {
    let w = World::new();
    let org = w.org("Acme", &[]);
    let url = "http://127.0.0.1:9/hec";
    set_sink(&w, &org.admin_secret, json!({"kind": "splunk_hec", "url": url, "token": TOKEN})).unwrap();
    w.create(&org.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org"}));
    let t0 = w.now();
    for (i, offset) in ATTEMPT_OFFSETS_SECONDS.iter().take(3).enumerate() {
        w.now.set(t0.plus_seconds(*offset));
        let due = block_on(w.svc.due_deliveries(&org.id, w.now())).unwrap();
        let sunk = to_sink(&due);
        assert_eq!(sunk.len(), 1, "attempt {i}");
        let code = if i < 2 { 503 } else { 200 };
        let next = block_on(w.svc.record_attempt(&sunk[0].key, Some(code), None, w.now())).unwrap();
        assert_eq!(next, ATTEMPT_OFFSETS_SECONDS.get(i + 1).filter(|_| i < 2).map(|o| t0.plus_seconds(*o)));
    }
    let d = &sink_log(&w, &org.admin_secret)[0];
    assert_eq!(d["state"], "delivered");
    assert_eq!(d["attempts"].as_array().unwrap().len(), 3);
    assert_eq!(d["attempts"][0]["error"], "HTTP 503");

    // A second set replaces url and token; pending deliveries go to the new ones.
    set_sink(
        &w,
        &org.admin_secret,
        json!({"kind": "splunk_hec", "url": "http://127.0.0.1:9/two", "token": "another-token-9999"}),
    )
    .unwrap();
    let due = block_on(w.svc.due_deliveries(&org.id, w.now())).unwrap();
    let sunk = to_sink(&due);
    assert_eq!(sunk.len(), 1, "the second set's own event");
    assert_eq!(sunk[0].url, "http://127.0.0.1:9/two");
    assert_eq!(sunk[0].authorization.as_ref().unwrap().0, "Splunk another-token-9999");
    assert!(sunk[0].body.contains("org.updated"));

    // Removal: the pending one gives up in the same commit, the removal is not sent.
    w.create(&org.admin_secret, json!({"label": "ci2", "role": "developer", "kind": "org"}));
    let a = w.actor(&org.admin_secret);
    block_on(w.svc.delete_audit_sink(&a, &no_body(), w.now())).unwrap();
    let log = sink_log(&w, &org.admin_secret);
    assert_eq!(log[0]["state"], "failed");
    assert_eq!(log[0]["attempts"][0]["error"], "the audit sink was removed");
    assert!(to_sink(&block_on(w.svc.due_deliveries(&org.id, w.now().plus_seconds(60))).unwrap()).is_empty());
    assert!(matches!(block_on(w.svc.audit_sink(&a)), Err(Error::NotFound)));
    assert!(matches!(block_on(w.svc.delete_audit_sink(&a, &no_body(), w.now())), Err(Error::NotFound)));
}

#[test]
fn bad_sinks_are_refused_field_by_field_and_developers_not_at_all() {
    let w = World::new();
    let org = w.org("Acme", &[]);
    let Err(Error::Validation(errors)) =
        set_sink(&w, &org.admin_secret, json!({"kind": "datadog", "url": "ftp://x", "token": "a b", "extra": 1}))
    else {
        panic!("refused")
    };
    let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
    assert_eq!(fields, ["extra", "kind", "token", "url"]);
    assert!(!errors.values().any(|m| m.contains("a b")));
    let Err(Error::Validation(errors)) = set_sink(&w, &org.admin_secret, json!({})) else { panic!("refused") };
    assert_eq!(errors.len(), 3);
    // Production rules: https to a public host only.
    let a = w.actor(&org.admin_secret);
    let body = json!({"kind": "splunk_hec", "url": "http://splunk.example.com/", "token": TOKEN});
    assert!(matches!(block_on(w.svc.put_audit_sink(&a, &form(body), false, w.now())), Err(Error::Validation(_))));
    let body = json!({"kind": "splunk_hec", "url": "https://10.0.0.1/", "token": TOKEN});
    assert!(matches!(block_on(w.svc.put_audit_sink(&a, &form(body), false, w.now())), Err(Error::Validation(_))));
    let body =
        json!({"kind": "splunk_hec", "url": "https://splunk.example.com:8088/services/collector", "token": TOKEN});
    assert!(block_on(w.svc.put_audit_sink(&a, &form(body), false, w.now())).is_ok());

    let (_, dev, _) = w.member_with_token(&org.admin_secret, "dev@acme.io", "developer");
    let d = w.actor(&dev);
    assert!(matches!(block_on(w.svc.audit_sink(&d)), Err(Error::Forbidden(_))));
    assert!(matches!(block_on(w.svc.sink_deliveries(&d)), Err(Error::Forbidden(_))));
    let body = json!({"kind": "splunk_hec", "url": "http://127.0.0.1:9/", "token": TOKEN});
    assert!(matches!(block_on(w.svc.put_audit_sink(&d, &form(body), true, w.now())), Err(Error::Forbidden(_))));
}

#[test]
fn every_audited_action_reaches_the_webhook_once() {
    let w = World::new();
    let org = w.org("Acme", &[]);
    let a = w.actor(&org.admin_secret);
    block_on(w.svc.put_webhook(&a, &form(json!({"url": "http://127.0.0.1:9/h"})), true, w.now())).unwrap();
    // member.created notifies nobody: sent from its audit event.
    let m = block_on(w.svc.create_member(
        &a,
        &form(json!({"email": "b@acme.io", "name": "B", "role": "developer"})),
        w.now(),
    ))
    .unwrap();
    let log = hook_log(&w, &org.admin_secret);
    assert_eq!(log.len(), 1);
    let data = &log[0]["payload"]["data"];
    assert_eq!(log[0]["type"], "member.created");
    assert_eq!(data["kind"], "member.created");
    assert_eq!(data["action"], "member.created");
    assert_eq!(data["org_id"], json!(org.id));
    assert!(data["seq"].as_u64().is_some(), "its place in the chain");
    assert!(data.get("hash").is_none(), "no 64-hex digest in a webhook payload");
    assert_eq!(data["target_id"], json!(m.id));
    assert_eq!(data["created_by"], json!(org.admin_id));
    assert!(data["id"].as_str().unwrap().starts_with("evt_"));
    // org.updated likewise.
    block_on(w.svc.update_org(&a, &form(json!({"name": "Acme Two"})), w.now())).unwrap();
    assert_eq!(hook_log(&w, &org.admin_secret)[0]["type"], "org.updated");
    // token.created notifies the admins: sent once, as the notification's event.
    w.create(&org.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org"}));
    let log = hook_log(&w, &org.admin_secret);
    assert_eq!(log.iter().filter(|d| d["type"] == "token.created").count(), 1);
    assert!(log[0]["payload"]["data"]["subject"].is_string(), "the notification's event");
    // An endpoint may ask for exactly these kinds.
    let body = json!({"url": "http://127.0.0.1:9/h", "events": ["org.created", "org.updated", "member.created"]});
    assert!(block_on(w.svc.put_webhook(&a, &form(body), true, w.now())).is_ok());
}

#[test]
fn an_export_holds_the_sink_without_its_token() {
    let w = World::new();
    let org = w.org("Acme", &[]);
    set_sink(&w, &org.admin_secret, json!({"kind": "splunk_hec", "url": "http://127.0.0.1:9/hec", "token": TOKEN}))
        .unwrap();
    w.create(&org.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org"}));
    let op = keyward::service::Operator::authenticate(Some("op-secret"), Some("op-secret")).unwrap();
    let export = block_on(w.svc.export_org(&op, &org.id, w.now())).unwrap();
    let text = serde_json::to_string(&export).unwrap();
    assert!(!text.contains(TOKEN), "never the collector token");
    let v = serde_json::to_value(&export).unwrap();
    let records = v["records"].as_array().unwrap();
    let sink = records.iter().find(|r| r["k"] == format!("o:{}:ak", org.id)).expect("the sink is exported");
    assert_eq!(
        sink["v"],
        json!({"kind": "splunk_hec", "url": "http://127.0.0.1:9/hec", "created_at": sink["v"]["created_at"]})
    );
    assert!(
        records.iter().any(|r| r["k"].as_str().unwrap().starts_with(&format!("o:{}:k:", org.id))),
        "its deliveries too"
    );
    // A restore reads it back and drops it (no token to send with): the admins set it again.
    let fresh = World::new();
    let plan = keyward::service::read_export(text.as_bytes()).expect("an export reads back");
    block_on(fresh.svc.import_org_precheck(&op, &plan)).unwrap();
    block_on(fresh.svc.import_org(&op, &plan, fresh.now())).unwrap();
    assert_eq!(block_on(fresh.store().get(&format!("o:{}:ak", org.id))).unwrap(), None);
    let a = fresh.actor(&org.admin_secret);
    assert!(matches!(block_on(fresh.svc.audit_sink(&a)), Err(Error::NotFound)));
    // What was pending gives up there, never sent anywhere.
    let due = block_on(fresh.svc.due_deliveries(&org.id, fresh.now().plus_seconds(60))).unwrap();
    assert!(to_sink(&due).is_empty());
}
