//! The operator deletes an org (everything erased, KV included) and issues recovery tokens; the
//! registry lists orgs, keeps tombstones and the operator's audit log.

use futures_executor::block_on;
use keyward::service::registry::{page_limit, OperatorAction, Registry};
use keyward::service::{Erasure, Error, Operator, SWEEP_AFTER_S};
use keyward::store::memory::MemoryStore;
use serde_json::{json, Value};

use crate::support::*;

fn operator() -> Operator {
    Operator::authenticate(Some("op"), Some("op")).unwrap()
}

fn delete(w: &World, org: &str, name: &str) -> Result<keyward::service::Deleted, Error> {
    block_on(w.svc.delete_org(&operator(), org, &form(json!({"confirm_name": name})), w.now()))
}

fn recover(w: &World, org: &str, body: Value) -> Result<Value, Error> {
    block_on(w.svc.recover(&operator(), org, &form(body), w.now())).map(|r| serde_json::to_value(r).unwrap())
}

/// Every record and KV key that names `org`.
fn traces(w: &World, org: &str) -> Vec<String> {
    let records = w.store().dump().into_iter().filter(|(k, v)| k.contains(org) || v.contains(org)).map(|(k, _)| k);
    let kv = w.kv().dump().into_iter().filter(|(k, e)| k.contains(org) || e.value.contains(org)).map(|(k, _)| k);
    records.chain(kv).collect()
}

#[test]
fn deleting_an_org_erases_every_record_and_kv_entry_and_nothing_of_another_org() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let other = w.org("Other", &["billing"]);
    let (live, _) = w.create(&o.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org"}));
    let (rotated, rid) = w.create(&o.admin_secret, json!({"label": "old", "role": "developer", "kind": "org"}));
    let a = w.actor(&o.admin_secret);
    block_on(w.svc.rotate_token(&a, &rid, &form(json!({"grace_seconds": 3600})), w.now())).unwrap();
    let (_, _, _) = w.member_with_token(&o.admin_secret, "dev@acme.io", "developer");
    assert_eq!(w.verify(&live, &[]), "VALID");
    block_on(w.svc.edge().put_last_used(&o.id, "tok_x", w.now())).unwrap();
    let before_other = (w.verify(&other.admin_secret, &[]), traces(&w, &other.id).len());
    assert!(!traces(&w, &o.id).is_empty());

    // the name must be typed exactly
    let wrong = delete(&w, &o.id, "acme");
    assert!(matches!(&wrong, Err(Error::Validation(e)) if e.contains_key("confirm_name")), "{wrong:?}");
    assert_eq!(w.verify(&live, &[]), "VALID", "a refused deletion changes nothing");

    let d = delete(&w, &o.id, "Acme").unwrap();
    assert!(d.erased && d.newly);
    assert_eq!(d.id, o.id);
    let sweep = d.sweep_at.expect("a last sweep is due");
    assert_eq!(sweep, w.now().plus_seconds(SWEEP_AFTER_S));
    for s in [&live, &rotated, &o.admin_secret] {
        assert_eq!(w.verify_strict(s, &[]), "NOT_FOUND");
        assert_eq!(w.edge_code(s), "NOT_FOUND");
    }
    // only the deletion's marker is left, until the last sweep
    assert_eq!(traces(&w, &o.id), [format!("o:{}", o.id)], "nothing of the org but its marker");
    assert!(matches!(w.auth(&o.admin_secret), Err(Error::Unauthenticated)));
    // an edge that still answered from its cache records a use: the last sweep deletes it
    block_on(w.svc.edge().put_last_used(&o.id, "tok_late", w.now())).unwrap();
    let again = delete(&w, &o.id, "Acme").unwrap();
    assert!(again.erased && !again.newly, "a repeat continues the deletion: {again:?}");
    assert_eq!(again.deleted_at, d.deleted_at);
    w.advance_seconds(SWEEP_AFTER_S - 1);
    assert_eq!(block_on(w.svc.erase(&o.id, w.now())).unwrap(), Erasure::Sweeping(sweep));
    block_on(w.svc.edge().put_last_used(&o.id, "tok_later", w.now())).unwrap();
    w.advance_seconds(1);
    assert_eq!(block_on(w.svc.erase(&o.id, w.now())).unwrap(), Erasure::Done);
    assert_eq!(traces(&w, &o.id), Vec::<String>::new(), "nothing of the org is left");
    // the other org is as it was
    assert_eq!((w.verify(&other.admin_secret, &[]), traces(&w, &other.id).len()), before_other);
    // gone: every operator call on it is 404, a second deletion too
    assert!(matches!(delete(&w, &o.id, "Acme"), Err(Error::NotFound)));
    assert!(matches!(block_on(w.svc.operator_org(&operator(), &o.id)), Err(Error::NotFound)));
    assert!(matches!(recover(&w, &o.id, json!({"member_id": o.admin_id})), Err(Error::NotFound)));
}

#[test]
fn a_deletion_kv_refuses_is_finished_once_kv_takes_the_writes() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (live, _) = w.create(&o.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org"}));
    w.kv().fail_writes(true);
    let d = delete(&w, &o.id, "Acme").unwrap();
    assert!(!d.erased, "KV refused: the erasure is not finished");
    // the org answers for nothing already: its tokens are out of the records
    assert_eq!(w.verify_strict(&live, &[]), "NOT_FOUND");
    assert!(matches!(w.auth(&o.admin_secret), Err(Error::Unauthenticated)));
    assert!(matches!(block_on(w.svc.operator_org(&operator(), &o.id)), Err(Error::NotFound)));
    assert_eq!(block_on(w.svc.erase(&o.id, w.now())).unwrap(), Erasure::Owed, "still refused");
    w.kv().fail_writes(false);
    // the alarm's run (or the operator asking again) carries on, then sweeps a last time
    assert!(matches!(block_on(w.svc.erase(&o.id, w.now())).unwrap(), Erasure::Sweeping(_)));
    w.advance_seconds(SWEEP_AFTER_S);
    assert_eq!(block_on(w.svc.erase(&o.id, w.now())).unwrap(), Erasure::Done);
    assert_eq!(traces(&w, &o.id), Vec::<String>::new());
    assert_eq!(w.edge_code(&live), "NOT_FOUND");
}

#[test]
fn recovery_gives_an_admin_a_day_long_admin_token_and_tells_every_admin_by_email() {
    let w = World::new();
    let o = w.org("Acme", &["billing", "reports"]);
    // emails are off in the org's policy: a recovery is emailed anyway
    let a = w.actor(&o.admin_secret);
    block_on(w.svc.update_org(&a, &form(json!({"policy": {"email_notifications": false}})), w.now())).unwrap();
    let (second, _, _) = w.member_with_token(&o.admin_secret, "eve@acme.io", "admin");
    let (dev, _, _) = w.member_with_token(&o.admin_secret, "dev@acme.io", "developer");
    // locked out: the first admin token expires
    w.advance_seconds(31 * 86_400);
    assert!(w.auth(&o.admin_secret).is_err());

    let r = recover(&w, &o.id, json!({"member_id": o.admin_id})).unwrap();
    let secret = r["secret"].as_str().unwrap();
    assert_eq!(r["member"]["id"], o.admin_id.as_str());
    assert_eq!(r["token"]["role"], "admin");
    assert_eq!(r["token"]["label"], "Recovery token");
    let scopes: Vec<&str> = r["token"]["scopes"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert_eq!(scopes, ["billing", "reports", "keyward:manage"]);
    let admin = w.actor(secret);
    assert!(admin.is_admin());
    let left = admin.token.as_ref().unwrap().expires_at.unwrap().as_millis() - w.now().as_millis();
    assert_eq!(left, 24 * 3_600_000, "it lives 24 hours");
    // every active admin is told, by email at once; the developer is not
    let notes: Vec<(String, bool)> = w
        .store()
        .dump()
        .into_iter()
        .filter(|(k, _)| k.starts_with(&format!("o:{}:n:", o.id)))
        .map(|(_, v)| serde_json::from_str::<Value>(&v).unwrap())
        .filter(|n| n["subject"].as_str().unwrap().contains("issued for recovery"))
        .map(|n| (n["to"].as_str().unwrap().to_owned(), n["email"].is_object()))
        .collect();
    let mut to: Vec<&str> = notes.iter().map(|(t, _)| t.as_str()).collect();
    to.sort_unstable();
    assert_eq!(to, ["admin@acme.io", "eve@acme.io"], "{notes:?}");
    assert!(notes.iter().all(|(_, emailed)| *emailed), "emailed whatever the policy: {notes:?}");
    // and sent, not given up because emails are off
    let due = block_on(w.svc.due_emails(&o.id, "https://keyward.example", w.now())).unwrap();
    let mut sent: Vec<&str> =
        due.iter().filter(|e| e.email.subject.contains("issued for recovery")).map(|e| e.email.to.as_str()).collect();
    sent.sort_unstable();
    assert_eq!(sent, ["admin@acme.io", "eve@acme.io"]);
    // audited in the org as the operator's, naming no token
    let (events, _) = block_on(w.svc.audit_events(&admin, &keyward::service::AuditQuery::default())).unwrap();
    let issued = events.iter().find(|e| e.summary.starts_with("Issued recovery")).expect("audited");
    assert_eq!(serde_json::to_value(issued.acted_by).unwrap(), "operator");
    assert_eq!((issued.actor_token_id.as_deref(), issued.actor_member_id.as_deref()), (None, None));
    // a day later it is dead
    w.advance_seconds(24 * 3_600);
    assert!(w.auth(secret).is_err());
    assert_eq!(w.verify_strict(secret, &[]), "EXPIRED");
    let _ = (second, dev);
}

#[test]
fn recovery_names_an_active_admin_or_adds_a_new_one() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (dev, _, _) = w.member_with_token(&o.admin_secret, "dev@acme.io", "developer");
    let field = |r: Result<Value, Error>, f: &str| matches!(&r, Err(Error::Validation(e)) if e.contains_key(f));
    assert!(field(recover(&w, &o.id, json!({"member_id": dev})), "member_id"), "a developer");
    assert!(field(recover(&w, &o.id, json!({"member_id": "mem_nobody"})), "member_id"));
    assert!(field(recover(&w, &o.id, json!({})), "member_id"));
    assert!(field(
        recover(&w, &o.id, json!({"member_id": o.admin_id, "admin": {"email": "x@y.io", "name": "X"}})),
        "admin"
    ));
    assert!(field(recover(&w, &o.id, json!({"admin": {"email": "admin@acme.io", "name": "Ada"}})), "admin.email"));
    assert!(field(recover(&w, &o.id, json!({"admin": {"email": "nope", "name": "X"}})), "admin.email"));
    assert!(field(recover(&w, &o.id, json!({"member_id": o.admin_id, "why": 1})), "why"));
    assert!(matches!(recover(&w, &w.new_org_id(), json!({"member_id": o.admin_id})), Err(Error::NotFound)));
    // a deactivated admin is not one
    let a = w.actor(&o.admin_secret);
    let m = block_on(w.svc.create_member(
        &a,
        &form(json!({"email": "old@acme.io", "name": "Old", "role": "admin"})),
        w.now(),
    ))
    .unwrap();
    block_on(w.svc.update_member(&a, &m.id, &form(json!({"status": "deactivated"})), w.now())).unwrap();
    assert!(field(recover(&w, &o.id, json!({"member_id": m.id})), "member_id"));
    // a suspended org cannot use one: resume it first
    block_on(w.svc.set_suspended(&operator(), &o.id, true, w.now())).unwrap();
    let suspended = recover(&w, &o.id, json!({"member_id": o.admin_id}));
    assert!(matches!(suspended, Err(Error::Forbidden(keyward::service::Denied::OrgSuspended))), "{suspended:?}");
    block_on(w.svc.set_suspended(&operator(), &o.id, false, w.now())).unwrap();

    let r = recover(&w, &o.id, json!({"admin": {"email": "new@acme.io", "name": "Nia New"}})).unwrap();
    assert_eq!((r["member"]["email"].as_str(), r["member"]["role"].as_str()), (Some("new@acme.io"), Some("admin")));
    let new_admin = w.actor(r["secret"].as_str().unwrap());
    let listed = block_on(w.svc.members(&new_admin)).unwrap();
    assert!(listed.iter().any(|m| m.email == "new@acme.io" && m.role == keyward::domain::Role::Admin));
}

#[test]
fn the_registry_lists_orgs_by_cursor_keeps_tombstones_and_the_operators_log_newest_first() {
    let r = Registry::new(MemoryStore::new(), TestRandom(std::cell::Cell::new(7)));
    let w = World::new();
    let ids: Vec<String> = (0..5).map(|_| w.new_org_id()).collect();
    for id in &ids {
        block_on(r.register(id, w.now())).unwrap();
    }
    // registering again changes nothing
    let again = block_on(r.register(&ids[0], w.now().plus_seconds(9))).unwrap();
    assert_eq!(again.created_at, w.now());
    let first = block_on(r.orgs(2, None)).unwrap();
    assert_eq!(first.items.len(), 2);
    let second = block_on(r.orgs(2, first.cursor.as_deref())).unwrap();
    let third = block_on(r.orgs(2, second.cursor.as_deref())).unwrap();
    assert_eq!(third.cursor, None);
    let mut seen: Vec<String> = [first.items, second.items, third.items].concat().into_iter().map(|o| o.id).collect();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(seen, want, "every org once, in id order");
    seen.clear();
    // a cursor not from this listing, and limits out of range
    assert!(matches!(block_on(r.orgs(2, Some("junk"))), Err(Error::Validation(e)) if e.contains_key("cursor")));
    for bad in ["0", "101", "-1", "1.0", "", "x"] {
        assert!(page_limit(Some(bad)).is_err(), "{bad}");
    }
    assert_eq!((page_limit(None).unwrap(), page_limit(Some("100")).unwrap()), (50, 100));
    // a tombstone keeps the first deletion's time; registering again (an import) revives it
    let gone = block_on(r.tombstone(&ids[1], w.now().plus_seconds(5))).unwrap();
    let twice = block_on(r.tombstone(&ids[1], w.now().plus_seconds(50))).unwrap();
    assert_eq!(gone.deleted_at, twice.deleted_at);
    assert_eq!(block_on(r.org(&ids[1])).unwrap().unwrap().deleted_at, Some(w.now().plus_seconds(5)));
    let back = block_on(r.register(&ids[1], w.now().plus_seconds(60))).unwrap();
    assert_eq!(back.deleted_at, None);
    assert!(block_on(r.register("tok_nope", w.now())).is_err());
    // the operator's log, newest first, by cursor
    for (i, id) in ids.iter().enumerate() {
        let at = w.now().plus_seconds(i64::try_from(i).unwrap());
        block_on(r.record(OperatorAction::OrgSuspended, id, &format!("event {i}"), at)).unwrap();
    }
    let page = block_on(r.events(3, None)).unwrap();
    let summaries: Vec<&str> = page.items.iter().map(|e| e.summary.as_str()).collect();
    assert_eq!(summaries, ["event 4", "event 3", "event 2"]);
    let rest = block_on(r.events(3, page.cursor.as_deref())).unwrap();
    assert_eq!(rest.items.iter().map(|e| e.summary.as_str()).collect::<Vec<_>>(), ["event 1", "event 0"]);
    assert_eq!(serde_json::to_value(&rest.items[0]).unwrap()["action"], "org.suspended");
    assert!(block_on(r.events(3, first.cursor.as_deref())).is_err(), "an orgs cursor is not an events cursor");
}
