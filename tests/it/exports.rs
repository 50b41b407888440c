//! Backup and restore of an org by the operator (`service::exports`), and the storage schema
//! version and its migrations (`service::schema`), on the in-memory store.

use futures_executor::block_on;
use keyward::service::{read_export, EXPORT_FORMAT, SCHEMA_VERSION};
use keyward::service::{Conflict, Error, Operator};
use keyward::store::{keys, Store, Write};
use serde_json::{json, Value};

use crate::support::*;

fn operator() -> Operator {
    Operator::authenticate(Some("op"), Some("op")).unwrap()
}

struct Source {
    w: World,
    org: Org,
    live: String,
    revoked: String,
    paid: String,
    paid_id: String,
    webhook_secret: String,
}

/// An org with a live token, a revoked one, one with credits (some spent) and a webhook.
fn source() -> Source {
    let w = World::new();
    let org = w.org("Acme", &["billing"]);
    let (live, _) = w.create(&org.admin_secret, json!({"label": "live", "role": "developer", "kind": "org"}));
    let (revoked, revoked_id) =
        w.create(&org.admin_secret, json!({"label": "gone", "role": "developer", "kind": "org"}));
    let (paid, paid_id) = w.create(
        &org.admin_secret,
        json!({"label": "paid", "role": "developer", "kind": "org", "credits": {"remaining": 5}}),
    );
    let a = w.actor(&org.admin_secret);
    block_on(w.svc.revoke_token(&a, &revoked_id, &form(json!({"confirm_label": "gone"})), w.now())).unwrap();
    assert_eq!(w.verify(&paid, &[]), "VALID");
    let hook = block_on(w.svc.put_webhook(&a, &form(json!({"url": "https://hooks.example/k"})), false, w.now()))
        .expect("webhook");
    let webhook_secret = hook.secret.expect("a new webhook has a secret");
    Source { w, org, live, revoked, paid, paid_id, webhook_secret }
}

fn export_of(s: &Source) -> Value {
    let e = block_on(s.w.svc.export_org(&operator(), &s.org.id, s.w.now())).expect("export");
    serde_json::to_value(&e).unwrap()
}

/// `e` without its audit log (its events and head): an export whose records were rewritten
/// under another org id has a log that no longer verifies, and is refused for that first.
fn without_audit(mut e: Value) -> Value {
    if let Some(records) = e["records"].as_array_mut() {
        records.retain(|r| r["k"].as_str().is_some_and(|k| !k.contains(":a:") && !k.ends_with(":ah")));
    }
    e
}

fn import_into(w: &World, body: &Value) -> Result<keyward::service::OrgImported, Error> {
    let plan = read_export(body.to_string().as_bytes())?;
    block_on(w.svc.import_org_precheck(&operator(), &plan))?;
    block_on(w.svc.import_org(&operator(), &plan, w.now()))
}

#[test]
fn an_export_holds_every_record_of_the_org_and_no_secret_in_clear() {
    let s = source();
    let other = s.w.org("Other", &["billing"]);
    let e = export_of(&s);
    assert_eq!((e["format"].as_str(), e["version"].as_u64()), (Some(EXPORT_FORMAT), Some(1)));
    assert_eq!(e["schema_version"], SCHEMA_VERSION);
    assert!(e["warning"].as_str().unwrap().starts_with("SECRET"));
    let text = e.to_string();
    for secret in [&s.org.admin_secret, &s.live, &s.revoked, &s.paid, &s.webhook_secret] {
        assert!(!text.contains(secret.as_str()), "a secret in clear");
    }
    assert!(!text.contains(&other.id), "another org's records");
    // Exactly the org's records, in key order: the org, its members, tokens (with their
    // hashes), audit, notifications, the webhook (no secret), the meter.
    let stored = block_on(s.w.store().list(&keys::org(&s.org.id), None, 10_000)).unwrap();
    let ks: Vec<&str> = e["records"].as_array().unwrap().iter().map(|r| r["k"].as_str().unwrap()).collect();
    assert_eq!(ks, stored.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>());
    let has = |p: &str| ks.iter().any(|k| k.starts_with(&format!("o:{}:{p}", s.org.id)));
    for p in ["m:", "t:", "a:", "n:", "wh", "q:"] {
        assert!(has(p), "no {p} record");
    }
    let hash = keyward::domain::token::sha256_hex(&s.live);
    assert!(text.contains(&hash), "the hashes are what a restore needs");
    let hook = e["records"].as_array().unwrap().iter().find(|r| r["k"] == keys::webhook(&s.org.id)).unwrap();
    assert_eq!(hook["v"]["url"], "https://hooks.example/k");
    assert!(hook["v"].get("secret").is_none());
    // An org the records do not hold.
    let none = block_on(s.w.svc.export_org(&operator(), "org_ZZZZZZZZZZZZZZZZZZZZ", s.w.now()));
    assert!(matches!(none, Err(Error::NotFound)));
}

#[test]
fn a_restored_org_serves_as_before_in_an_empty_deployment() {
    let s = source();
    let e = export_of(&s);
    let fresh = World::new();
    fresh.now.set(s.w.now().plus_seconds(60));
    let done = import_into(&fresh, &e).expect("import");
    assert_eq!(done.org.id, s.org.id);
    assert_eq!(done.tokens, 4);
    // Live tokens verify, at the edge (the projection was rebuilt) and strictly; the revoked one
    // stays refused; spent credits stay spent.
    for secret in [&s.live, &s.org.admin_secret] {
        assert_eq!((fresh.edge_code(secret), fresh.verify_strict(secret, &[])), ("VALID".into(), "VALID".into()));
    }
    assert_eq!(
        (fresh.edge_code(&s.revoked), fresh.verify_strict(&s.revoked, &[])),
        ("REVOKED".into(), "REVOKED".into())
    );
    let paid = fresh.token_json(&s.org.admin_secret, &s.paid_id).unwrap();
    assert_eq!(paid["credits"]["remaining"], 4);
    // The admin API works with the admin's secret as it was; the audit log says who restored it.
    let a = fresh.actor(&s.org.admin_secret);
    let (events, _) = block_on(fresh.svc.audit_events(&a, &keyward::service::AuditQuery::default())).unwrap();
    assert!(events[0].summary.starts_with("Restored by the operator"), "{:?}", events[0]);
    assert!(events.iter().any(|e| e.summary.contains("Revoked") || e.action.as_str() == "token.revoked"));
    // The webhook is back, with a new signing secret (answered once).
    let hook = done.webhook.expect("webhook restored");
    let new = hook.secret.expect("a new secret");
    assert_ne!(new, s.webhook_secret);
    let view = block_on(fresh.svc.webhook(&a, fresh.now())).unwrap().expect("webhook");
    assert_eq!(view.url, "https://hooks.example/k");
    // The storage schema version is recorded.
    assert_eq!(block_on(fresh.svc.schema_version()).unwrap(), Some(SCHEMA_VERSION));
    // A second import of the same org is refused, and changes nothing.
    let before = block_on(fresh.store().list("", None, 100_000)).unwrap();
    let again = import_into(&fresh, &e);
    assert!(matches!(again, Err(Error::Conflict(Conflict::OrgExists))), "{again:?}");
    let plan = read_export(e.to_string().as_bytes()).unwrap();
    assert!(matches!(
        block_on(fresh.svc.import_org(&operator(), &plan, fresh.now())),
        Err(Error::Conflict(Conflict::OrgExists))
    ));
    assert_eq!(block_on(fresh.store().list("", None, 100_000)).unwrap(), before);
}

#[test]
fn an_import_into_the_deployment_it_came_from_is_refused() {
    let s = source();
    let e = export_of(&s);
    let again = import_into(&s.w, &e);
    assert!(matches!(again, Err(Error::Conflict(Conflict::OrgExists))), "{again:?}");
}

#[test]
fn an_export_whose_hashes_another_org_holds_is_refused() {
    let s = source();
    // The same records under another org id: their hashes are the first org's in KV.
    let text = export_of(&s).to_string().replace(&s.org.id, "org_ZZZZZZZZZZZZZZZZZZZZ");
    let e: Value = serde_json::from_str(&text).unwrap();
    let before = block_on(s.w.store().list("", None, 100_000)).unwrap();
    let r = import_into(&s.w, &e);
    assert!(matches!(&r, Err(Error::Validation(f)) if f["records"].contains("audit log that is not whole")), "{r:?}");
    let r = import_into(&s.w, &without_audit(e));
    assert!(matches!(r, Err(Error::Conflict(Conflict::KeyElsewhere))), "{r:?}");
    assert_eq!(block_on(s.w.store().list("", None, 100_000)).unwrap(), before);
    assert_eq!(s.w.verify_strict(&s.live, &[]), "VALID");
}

#[test]
fn a_deleted_org_comes_back_from_its_export() {
    let s = source();
    let e = export_of(&s);
    block_on(s.w.svc.delete_org(&operator(), &s.org.id, &form(json!({"confirm_name": "Acme"})), s.w.now()))
        .expect("deleted");
    assert!(matches!(block_on(s.w.svc.export_org(&operator(), &s.org.id, s.w.now())), Err(Error::NotFound)));
    assert_eq!(s.w.verify(&s.live, &[]), "NOT_FOUND");
    // Until the erasure's last sweep, the deletion's marker stays: a restore then would be swept.
    let before = block_on(s.w.store().list("", None, 100_000)).unwrap();
    let early = import_into(&s.w, &e);
    assert!(matches!(early, Err(Error::Conflict(Conflict::OrgBeingDeleted))), "{early:?}");
    assert_eq!(block_on(s.w.store().list("", None, 100_000)).unwrap(), before);
    s.w.advance_seconds(keyward::service::SWEEP_AFTER_S);
    assert_eq!(block_on(s.w.svc.erase(&s.org.id, s.w.now())).unwrap(), keyward::service::Erasure::Done);
    import_into(&s.w, &e).expect("restored where it was deleted");
    assert_eq!(s.w.verify(&s.live, &[]), "VALID");
    assert_eq!(s.w.verify(&s.revoked, &[]), "REVOKED");
    assert!(s.w.auth(&s.org.admin_secret).is_ok());
}

#[test]
fn a_large_export_under_another_org_id_is_refused_too() {
    // More hashes than the KV sample looks up: every one collides, so the sample finds them.
    let s = source();
    for i in 0..150 {
        s.w.create(&s.org.admin_secret, json!({"label": format!("bulk {i}"), "role": "developer", "kind": "org"}));
    }
    let text = export_of(&s).to_string().replace(&s.org.id, "org_YYYYYYYYYYYYYYYYYYYY");
    let r = import_into(&s.w, &without_audit(serde_json::from_str(&text).unwrap()));
    assert!(matches!(r, Err(Error::Conflict(Conflict::KeyElsewhere))), "{r:?}");
}

fn fields(r: Result<keyward::service::ImportPlan, Error>) -> Vec<String> {
    match r {
        Err(Error::Validation(e)) => e.keys().cloned().collect(),
        other => panic!("not a validation error: {other:?}"),
    }
}

#[test]
fn a_malformed_export_is_refused_whole() {
    let s = source();
    let e = export_of(&s);
    let read = |v: &Value| read_export(v.to_string().as_bytes());
    assert!(read(&e).is_ok());
    // Not JSON, not an object, a repeated key.
    assert!(matches!(read_export(b"{"), Err(Error::BadRequest(_))));
    assert!(matches!(read_export(b"[1]"), Err(Error::BadRequest(_))));
    assert!(matches!(read_export(br#"{"format":"a","format":"b"}"#), Err(Error::BadRequest(_))));
    // The envelope.
    let mut bad = e.clone();
    bad["format"] = json!("something-else");
    bad["version"] = json!(2);
    bad["extra"] = json!(true);
    bad["exported_at"] = json!("yesterday");
    assert_eq!(fields(read(&bad)), ["exported_at", "extra", "format", "version"]);
    let mut newer = e.clone();
    newer["schema_version"] = json!(SCHEMA_VERSION + 1);
    assert_eq!(fields(read(&newer)), ["schema_version"]);
    let mut no_org = e.clone();
    no_org["org_id"] = json!("tok_1");
    assert_eq!(fields(read(&no_org)), ["org_id"]);
    // A key outside the org's prefix, one of a kind keyward does not keep, a repeated one.
    for (k, why) in [
        ("o:org_ZZZZZZZZZZZZZZZZZZZZ:m:mem_1".to_owned(), "is not a key of this org"),
        (format!("o:{}:zz:1", s.org.id), "is not a record keyward keeps"),
        ("x:v:abc".to_owned(), "is not a key of this org"),
        (format!("o:{}x", s.org.id), "is not a record keyward keeps"),
    ] {
        let mut bad = e.clone();
        bad["records"].as_array_mut().unwrap().push(json!({"k": k, "v": {}}));
        let n = bad["records"].as_array().unwrap().len() - 1;
        match read(&bad) {
            Err(Error::Validation(errs)) => assert!(errs[&format!("records[{n}].k")].starts_with(why), "{errs:?}"),
            other => panic!("{k}: {other:?}"),
        }
    }
    let mut twice = e.clone();
    let first = twice["records"][1].clone();
    twice["records"].as_array_mut().unwrap().push(first);
    assert_eq!(fields(read(&twice)).len(), 1);
    // A record that does not read as its kind, or names another token than its key.
    let at = |e: &Value, p: &str| {
        e["records"].as_array().unwrap().iter().position(|r| r["k"].as_str().unwrap().contains(p)).unwrap()
    };
    let mut bad = e.clone();
    let i = at(&bad, ":t:");
    bad["records"][i]["v"]["hash"] = json!("not-a-hash");
    assert_eq!(fields(read(&bad)), [format!("records[{i}].v")]);
    // The reason never echoes a hash it was sent.
    let mut bad = e.clone();
    let planted = "ab".repeat(32);
    bad["records"][i]["v"]["role"] = json!(planted);
    match read(&bad) {
        Err(Error::Validation(errs)) => {
            let why = &errs[&format!("records[{i}].v")];
            assert!(why.starts_with("is not a record of its kind") && !why.contains(&planted), "{why}");
        }
        other => panic!("{other:?}"),
    }
    let mut bad = e.clone();
    bad["records"][i]["v"]["id"] = json!("tok_other");
    assert_eq!(fields(read(&bad)), [format!("records[{i}].v")]);
    let mut bad = e.clone();
    let j = at(&bad, ":m:");
    bad["records"][j]["v"] = json!("a string");
    assert_eq!(fields(read(&bad)), [format!("records[{j}].v")]);
    // A webhook that carries a secret is not one an export holds.
    let mut bad = e.clone();
    let h = at(&bad, ":wh");
    bad["records"][h]["v"]["secret"] = json!("whsec_planted");
    assert_eq!(fields(read(&bad)), [format!("records[{h}].v")]);
    // No org record.
    let mut bad = e.clone();
    bad["records"].as_array_mut().unwrap().remove(0);
    assert_eq!(fields(read(&bad)), ["records"]);
    // Nothing was written by any of it.
    let fresh = World::new();
    assert!(block_on(fresh.store().list("", None, 10)).unwrap().is_empty());
}

#[test]
fn an_export_of_an_older_schema_is_brought_up_to_date() {
    let s = source();
    let mut e = export_of(&s);
    e["schema_version"] = json!(1);
    let fresh = World::new();
    fresh.now.set(s.w.now());
    import_into(&fresh, &e).expect("a version 1 export imports");
    assert_eq!(block_on(fresh.svc.schema_version()).unwrap(), Some(SCHEMA_VERSION));
    assert_eq!(fresh.verify(&s.live, &[]), "VALID");
}

#[test]
fn migrations_run_once_and_only_forward() {
    let w = World::new();
    // An authority that holds nothing has no version and is not written to.
    assert_eq!(block_on(w.svc.schema_version()).unwrap(), None);
    assert_eq!(block_on(w.svc.migrate()).unwrap(), None);
    assert!(block_on(w.store().list("", None, 10)).unwrap().is_empty());
    // A new org records the current version.
    let o = w.org("Acme", &["billing"]);
    assert_eq!(block_on(w.svc.schema_version()).unwrap(), Some(SCHEMA_VERSION));
    assert_eq!(block_on(w.svc.migrate()).unwrap(), None);
    // Records written before versions were recorded (no `schema` record) are version 1, and
    // are brought to the current version once.
    block_on(w.store().commit(&[Write::Delete(keys::SCHEMA.into())], None)).unwrap();
    assert_eq!(block_on(w.svc.schema_version()).unwrap(), Some(1));
    let before = block_on(w.store().list(keys::ORGS, None, 100_000)).unwrap();
    let m = block_on(w.svc.migrate()).unwrap().expect("migrated");
    assert_eq!((m.from, m.to, m.changed), (1, SCHEMA_VERSION, 0));
    assert_eq!(block_on(w.svc.schema_version()).unwrap(), Some(SCHEMA_VERSION));
    assert_eq!(block_on(w.store().list(keys::ORGS, None, 100_000)).unwrap(), before, "no record changed");
    assert_eq!(block_on(w.svc.migrate()).unwrap(), None, "once");
    assert_eq!(w.verify(&o.admin_secret, &[]), "VALID");
    // Records of a newer keyward are not touched: the authority refuses to serve them.
    block_on(w.store().commit(&[Write::Put(keys::SCHEMA.into(), json!({"version": 99}).to_string())], None)).unwrap();
    assert!(matches!(block_on(w.svc.migrate()), Err(Error::Internal(_))));
    assert_eq!(block_on(w.store().get(keys::SCHEMA)).unwrap().as_deref(), Some(r#"{"version":99}"#));
}

#[test]
fn an_export_whose_audit_log_was_changed_is_refused_and_a_whole_one_continues_its_chain() {
    let s = source();
    let e = export_of(&s);
    let head = block_on(s.w.svc.audit_head(&s.w.actor(&s.org.admin_secret))).unwrap();
    assert!(head.seq >= 5, "{head:?}");
    // One summary edited: refused, naming the event.
    let mut edited = e.clone();
    let records = edited["records"].as_array_mut().unwrap();
    let one = records.iter_mut().find(|r| r["k"].as_str().unwrap().contains(":a:")).unwrap();
    one["v"]["summary"] = json!("nothing happened");
    let seq = one["v"]["seq"].as_u64().unwrap();
    s.w.advance_seconds(keyward::service::SWEEP_AFTER_S);
    let fresh = World::new();
    let r = import_into(&fresh, &edited);
    let why = match &r {
        Err(Error::Validation(f)) => f["records"].clone(),
        other => panic!("{other:?}"),
    };
    assert!(why.contains(&format!("breaks at seq {seq}")), "{why}");
    assert!(block_on(fresh.store().list("", None, 10)).unwrap().is_empty());
    // One event removed: refused.
    let mut removed = e.clone();
    let records = removed["records"].as_array_mut().unwrap();
    let at = records.iter().position(|r| r["k"].as_str().unwrap().contains(":a:")).unwrap();
    records.remove(at);
    assert!(matches!(import_into(&fresh, &removed), Err(Error::Validation(_))));
    // Events without their head: refused.
    let mut headless = e.clone();
    headless["records"].as_array_mut().unwrap().retain(|r| !r["k"].as_str().unwrap().ends_with(":ah"));
    assert!(matches!(import_into(&fresh, &headless), Err(Error::Validation(_))));
    // Whole: the import's own event is the next seq, and the restored log is the source's.
    import_into(&fresh, &e).expect("restored");
    let a = fresh.actor(&s.org.admin_secret);
    let after = block_on(fresh.svc.audit_head(&a)).unwrap();
    assert_eq!(after.seq, head.seq + 1);
    let all = block_on(fresh.svc.audit_export(&a, None, None)).unwrap();
    let lines: Vec<String> = all.lines.iter().map(|l| serde_json::to_string(l).unwrap()).collect();
    let checkpoint = keyward::domain::audit::Head { seq: after.seq, hash: after.hash.clone(), at: None };
    let whole = keyward::domain::audit::check(lines.iter().map(String::as_str), &Default::default(), Some(&checkpoint))
        .expect("whole after the import");
    assert_eq!(whole.lines as u64, after.seq);
    let first = block_on(s.w.svc.audit_export(&s.w.actor(&s.org.admin_secret), None, None)).unwrap();
    assert_eq!(first.lines[..], all.lines[..first.lines.len()]);
}

#[test]
fn migration_3_chains_an_old_audit_log_oldest_first() {
    let s = source();
    let a = s.w.actor(&s.org.admin_secret);
    let head = block_on(s.w.svc.audit_head(&a)).unwrap();
    let chained = block_on(s.w.svc.audit_export(&a, None, None)).unwrap().lines;
    assert_eq!(chained.len() as u64, head.seq);
    // Back to the layout of schema 2: events keyed by time (newest first, a later write of the
    // same millisecond first), without seq or hash, and no head.
    let rows = block_on(s.w.store().list(&keys::audits(&s.org.id), None, 100_000)).unwrap();
    let mut writes =
        vec![Write::Delete(keys::audit_head(&s.org.id)), Write::Put(keys::SCHEMA.into(), r#"{"version":2}"#.into())];
    for (k, v) in rows {
        let mut e: keyward::domain::AuditEvent = serde_json::from_str(&v).unwrap();
        let n = e.seq.take().unwrap();
        e.hash = None;
        let old = format!("o:{}:a:{}{:04x}:{}", s.org.id, keys::rev_time(e.at), u16::MAX - n as u16, e.id);
        writes.push(Write::Delete(k));
        writes.push(Write::Put(old, serde_json::to_string(&e).unwrap()));
    }
    block_on(s.w.store().commit(&writes, None)).unwrap();
    assert_eq!(block_on(s.w.svc.schema_version()).unwrap(), Some(2));
    let m = block_on(s.w.svc.migrate()).unwrap().expect("migrated");
    assert_eq!((m.from, m.to), (2, SCHEMA_VERSION));
    // The same chain as if it had been chained as it was written.
    let a = s.w.actor(&s.org.admin_secret);
    assert_eq!(block_on(s.w.svc.audit_head(&a)).unwrap(), head);
    assert_eq!(block_on(s.w.svc.audit_export(&a, None, None)).unwrap().lines, chained);
    let old_keys = block_on(s.w.store().list(&keys::audits(&s.org.id), None, 100_000)).unwrap();
    assert!(old_keys.iter().all(|(k, _)| keys::seq_of(&k[keys::audits(&s.org.id).len()..]).is_some()));
    // And the log goes on from there.
    s.w.create(&s.org.admin_secret, json!({"label": "after", "role": "developer", "kind": "org"}));
    assert_eq!(block_on(s.w.svc.audit_head(&a)).unwrap().seq, head.seq + 1);
}

#[test]
fn the_export_of_the_audit_log_pages_by_seq() {
    let s = source();
    let a = s.w.actor(&s.org.admin_secret);
    let head = block_on(s.w.svc.audit_head(&a)).unwrap();
    let n = head.seq;
    let all = block_on(s.w.svc.audit_export(&a, None, None)).unwrap();
    assert_eq!(all.lines.iter().map(|l| l.seq.unwrap()).collect::<Vec<_>>(), (1..=n).collect::<Vec<_>>());
    assert_eq!(all.next_after_seq, None);
    let page = block_on(s.w.svc.audit_export(&a, Some("1"), Some("2"))).unwrap();
    assert_eq!(page.lines.iter().map(|l| l.seq.unwrap()).collect::<Vec<_>>(), vec![2, 3]);
    assert_eq!(page.next_after_seq, Some(3));
    assert_eq!(page.head.seq, n);
    let last = block_on(s.w.svc.audit_export(&a, Some(&(n - 1).to_string()), Some("5"))).unwrap();
    assert_eq!(last.lines.len(), 1);
    assert_eq!(last.next_after_seq, None);
    assert!(block_on(s.w.svc.audit_export(&a, Some(&n.to_string()), None)).unwrap().lines.is_empty());
    assert!(block_on(s.w.svc.audit_export(&a, Some("99999"), None)).unwrap().lines.is_empty());
    for (after, limit, field) in [
        (Some("x"), None, "after_seq"),
        (Some("-1"), None, "after_seq"),
        (None, Some("0"), "limit"),
        (None, Some("1001"), "limit"),
        (Some(""), None, "after_seq"),
    ] {
        match block_on(s.w.svc.audit_export(&a, after, limit)) {
            Err(Error::Validation(f)) => assert!(f.contains_key(field), "{f:?}"),
            other => panic!("{after:?} {limit:?}: {other:?}"),
        }
    }
    // Developers read neither.
    let (dev, _) = s.w.create(&s.org.admin_secret, json!({"label": "d", "role": "developer", "kind": "org"}));
    let d = s.w.actor(&dev);
    assert!(matches!(block_on(s.w.svc.audit_head(&d)), Err(Error::Forbidden(_))));
    assert!(matches!(block_on(s.w.svc.audit_export(&d, None, None)), Err(Error::Forbidden(_))));
}

#[test]
fn an_import_refuses_a_checkpoint_that_is_not_an_event_of_its_log() {
    let s = source();
    let e = export_of(&s);
    let head = block_on(s.w.svc.audit_head(&s.w.actor(&s.org.admin_secret))).unwrap();
    let key = keys::audit_checkpoint(&s.org.id);
    let with = |cp: Value| {
        let mut copy = e.clone();
        copy["records"].as_array_mut().unwrap().push(json!({"k": key, "v": cp}));
        copy
    };
    let fresh = World::new();
    for bad in [
        json!({"seq": 999, "hash": "f".repeat(64), "at": 1}),
        json!({"seq": 2, "hash": "f".repeat(64), "at": 1}),
        json!({"seq": 0, "hash": "f".repeat(64), "at": 1}),
    ] {
        match import_into(&fresh, &with(bad.clone())) {
            Err(Error::Validation(f)) => assert!(f["records"].contains("checkpoint"), "{f:?}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    assert!(block_on(fresh.store().list("", None, 10)).unwrap().is_empty());
    // The real one (the head's seq and hash) is kept.
    import_into(&fresh, &with(json!({"seq": head.seq, "hash": head.hash, "at": 1}))).expect("restored");
    let after = block_on(fresh.svc.audit_head(&fresh.actor(&s.org.admin_secret))).unwrap();
    assert_eq!(after.checkpoint_seq, Some(head.seq));
}
