//! Keys brought from elsewhere: `POST /v1/tokens/import` and the legacy formats at verify.

use futures_executor::block_on;
use keyward::domain::legacy::LegacyFormats;
use keyward::domain::token::sha256_hex;
use keyward::service::Error;
use serde_json::{json, Value};

use crate::support::*;

const FORMATS: &str = r#"[{"prefix":"sk_live_","min":24,"max":64,"alphabet":"base62"}]"#;

/// A key of the legacy shape, distinct per `n`.
fn legacy_key(n: usize) -> String {
    format!("sk_live_{n:0>24}")
}

fn entry(key: &str, extra: Value) -> Value {
    let mut e = json!({"sha256": sha256_hex(key), "hint": &key[key.len() - 4..], "label": "legacy", "kind": "org", "role": "developer", "scopes": ["billing"], "expires_at": "2027-06-01T00:00:00Z"});
    for (k, v) in extra.as_object().unwrap() {
        e[k] = v.clone();
    }
    e
}

fn import(w: &World, caller: &str, tokens: Vec<Value>) -> Result<Vec<Value>, Error> {
    // As the org authority does it: the checks that leave it first, then the decision.
    let a = w.auth(caller)?;
    let input = form(json!({ "tokens": tokens }));
    block_on(w.svc.import_precheck(&a, &input, w.now()))?;
    let views = block_on(w.svc.import_tokens(&w.auth(caller)?, &input, w.now()))?;
    Ok(views.iter().map(|v| serde_json::to_value(v).unwrap()).collect())
}

fn errors(r: Result<Vec<Value>, Error>) -> Vec<String> {
    match r {
        Err(Error::Validation(e)) => e.keys().cloned().collect(),
        other => panic!("expected 422, got {other:?}"),
    }
}

fn world() -> (World, Org) {
    let w = World::new();
    *w.legacy.borrow_mut() = LegacyFormats::parse(FORMATS).unwrap();
    let o = w.org("Acme", &["billing", "users:read"]);
    (w, o)
}

#[test]
fn imported_keys_verify_by_their_original_strings() {
    let (w, o) = world();
    let keys: Vec<String> = (0..50).map(legacy_key).collect();
    let views = import(&w, &o.admin_secret, keys.iter().map(|k| entry(k, json!({}))).collect()).unwrap();
    assert_eq!(views.len(), 50);
    assert!(views.iter().all(|v| v["imported"] == true && v["prefix"] == "" && v["status"] == "active"));
    assert_eq!(views[7]["masked"], format!("{}0007", keyward::domain::token::MASK));
    for k in &keys {
        assert_eq!(w.verify(k, &["billing"]), "VALID");
    }
    assert_eq!(w.verify(&keys[0], &["users:read"]), "INSUFFICIENT_SCOPE");
    // Of the shape, never imported: looked up, not found.
    assert_eq!(w.verify(&legacy_key(999), &[]), "NOT_FOUND");
    // Of no declared shape: malformed without a read (KV refusing reads cannot change that).
    w.kv().fail_reads(true);
    for junk in ["sk_live_short", "sk_test_000000000000000000000001", "sk_live_00000000000000000000000-", "pk"] {
        assert_eq!(w.verify(junk, &[]), "MALFORMED", "{junk}");
    }
    w.kv().fail_reads(false);
    // Without the deployment's formats the same keys are malformed.
    *w.legacy.borrow_mut() = LegacyFormats::none();
    assert_eq!(w.verify(&keys[0], &[]), "MALFORMED");
}

#[test]
fn imported_keys_never_get_keyward_scopes_nor_sign_in() {
    let (w, o) = world();
    // A string in keyward's own format, chosen by the admin, imported as an admin key.
    let chosen = "kw_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAZ".to_owned();
    let chosen = format!("{chosen}{}", keyward::domain::token::checksum(chosen.as_bytes()));
    assert!(keyward::domain::token::parse(&chosen).is_ok());
    let id = import(&w, &o.admin_secret, vec![entry(&chosen, json!({"role": "admin"}))]).unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(w.verify(&chosen, &["billing"]), "VALID");
    assert!(matches!(w.auth(&chosen), Err(Error::Unauthenticated)));
    let admin = w.actor(&o.admin_secret);
    let patch =
        block_on(w.svc.update_token(&admin, &id, form(json!({"scopes": ["billing", "keyward:read"]})), w.now()));
    match patch {
        Err(Error::Validation(e)) => assert!(e.contains_key("scopes"), "{e:?}"),
        other => panic!("{other:?}"),
    }
    // Other edits go on as for any token.
    block_on(w.svc.update_token(&admin, &id, form(json!({"label": "renamed"})), w.now())).unwrap();
}

#[test]
fn imported_keys_live_like_any_other_and_rotate_into_keyward_secrets() {
    let (w, o) = world();
    let key = legacy_key(1);
    let id = import(&w, &o.admin_secret, vec![entry(&key, json!({"label": "old billing"}))]).unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin = w.actor(&o.admin_secret);
    block_on(w.svc.disable_token(&admin, &id, &form(json!({})), w.now())).unwrap();
    assert_eq!(w.verify(&key, &[]), "DISABLED");
    block_on(w.svc.enable_token(&admin, &id, &form(json!({})), w.now())).unwrap();
    let issued = block_on(w.svc.rotate_token(&admin, &id, &form(json!({"grace_seconds": 60})), w.now())).unwrap();
    assert!(issued.secret.starts_with("kw_"), "a keyward secret");
    assert_eq!(issued.token.prefix, "kw");
    assert!(issued.token.imported);
    assert_eq!(w.verify(&issued.secret, &[]), "VALID");
    assert_eq!(w.verify(&key, &[]), "VALID", "the imported key in its grace");
    w.advance_seconds(61);
    assert_eq!(w.verify(&key, &[]), "NOT_FOUND");
    block_on(w.svc.revoke_token(&admin, &id, &form(json!({"confirm_label": "old billing"})), w.now())).unwrap();
    assert_eq!(w.verify(&issued.secret, &[]), "REVOKED");
    // Keys brought from elsewhere never sign in to keyward itself.
    let other = legacy_key(2);
    import(&w, &o.admin_secret, vec![entry(&other, json!({}))]).unwrap();
    assert!(matches!(w.auth(&other), Err(Error::Unauthenticated)));
    // A leak report of an imported key kills it, found by its original string.
    let at = block_on(w.svc.locate(&other, &w.legacy.borrow())).unwrap().expect("located by its legacy shape");
    let holder = keyward::service::Reporter::Holder { address: "198.51.100.4".into(), user_agent: "curl/8.5".into() };
    assert!(block_on(w.svc.report(&other, &at, &holder, w.now())).unwrap(), "it was live");
    assert_eq!(w.verify(&other, &[]), "REVOKED");
}

#[test]
fn every_failed_field_is_named_with_its_entry() {
    let (w, o) = world();
    let (member, _, _) = w.member_with_token(&o.admin_secret, "dev@acme.io", "developer");
    let k = |n| legacy_key(n);
    let r = import(
        &w,
        &o.admin_secret,
        vec![
            entry(&k(1), json!({})),
            entry(&k(2), json!({"role": "owner"})),
            entry(&k(3), json!({"sha256": "ABC"})),
            entry(&k(1), json!({})),
            entry(&k(4), json!({"scopes": ["keyward:manage"]})),
            entry(&k(5), json!({"kind": "personal"})),
            entry(&k(6), json!({"kind": "personal", "owner_member_id": member, "expires_at": null})),
            entry(&k(7), json!({"expires_at": "2020-01-01T00:00:00Z"})),
            entry(&k(8), json!({"expires_at": "tomorrow"})),
            entry(&k(9), json!({"hint": "toolong"})),
            entry(&k(10), json!({"secret": "x"})),
            json!("not an object"),
            entry(&k(11), json!({"scopes": ["payroll"]})),
            entry(&k(12), json!({"owner_member_id": member})),
        ],
    );
    assert_eq!(
        errors(r),
        [
            "tokens[10].secret",
            "tokens[11]",
            "tokens[12].scopes",
            "tokens[13].owner_member_id",
            "tokens[1].role",
            "tokens[2].sha256",
            "tokens[3].sha256",
            "tokens[4].scopes",
            "tokens[5].owner_member_id",
            "tokens[6].expires_at",
            "tokens[7].expires_at",
            "tokens[8].expires_at",
            "tokens[9].hint",
        ]
    );
    for (body, field) in [(json!({}), "tokens"), (json!({"tokens": []}), "tokens"), (json!({"tokens": {}}), "tokens")] {
        let a = w.actor(&o.admin_secret);
        match block_on(w.svc.import_tokens(&a, &form(body), w.now())) {
            Err(Error::Validation(e)) => assert!(e.contains_key(field), "{e:?}"),
            other => panic!("{other:?}"),
        }
    }
    let many: Vec<Value> = (0..1001).map(|n| entry(&k(n), json!({}))).collect();
    assert_eq!(errors(import(&w, &o.admin_secret, many)), ["tokens"]);
    // Nothing of a refused import was kept.
    assert_eq!(w.verify(&k(1), &[]), "NOT_FOUND");
}

#[test]
fn owners_must_be_active_members_with_room_and_the_role() {
    let (w, o) = world();
    let (dev, dev_secret, _) = w.member_with_token(&o.admin_secret, "dev@acme.io", "developer");
    let personal =
        |n, role: &str| entry(&legacy_key(n), json!({"kind": "personal", "owner_member_id": dev, "role": role}));
    // An admin-role key for a developer owner.
    assert_eq!(errors(import(&w, &o.admin_secret, vec![personal(1, "admin")])), ["tokens[0].role"]);
    // The developer holds one personal token; the limit (10) leaves room for nine.
    let ten: Vec<Value> = (0..10).map(|n| personal(n, "developer")).collect();
    assert_eq!(errors(import(&w, &o.admin_secret, ten)), ["tokens[9].owner_member_id"]);
    let nine: Vec<Value> = (0..9).map(|n| personal(n, "developer")).collect();
    assert_eq!(import(&w, &o.admin_secret, nine).unwrap().len(), 9);
    assert_eq!(w.verify(&legacy_key(3), &["billing"]), "VALID");
    // A developer, even with keyward:manage, may not import.
    assert!(matches!(import(&w, &dev_secret, vec![entry(&legacy_key(50), json!({}))]), Err(Error::Forbidden(_))));
    // A deactivated owner: refused; and their imported keys stop verifying.
    let admin = w.actor(&o.admin_secret);
    block_on(w.svc.update_member(&admin, &dev, &form(json!({"status": "deactivated"})), w.now())).unwrap();
    assert_eq!(w.verify(&legacy_key(3), &[]), "OWNER_DEACTIVATED");
    assert_eq!(errors(import(&w, &o.admin_secret, vec![personal(20, "developer")])), ["tokens[0].owner_member_id"]);
}

#[test]
fn a_known_hash_refuses_the_whole_import() {
    let (w, o) = world();
    import(&w, &o.admin_secret, vec![entry(&legacy_key(1), json!({}))]).unwrap();
    let again = import(&w, &o.admin_secret, vec![entry(&legacy_key(2), json!({})), entry(&legacy_key(1), json!({}))]);
    match again {
        Err(e @ Error::Conflict(_)) => assert!(e.detail().contains("tokens[1].sha256"), "{}", e.detail()),
        other => panic!("{other:?}"),
    }
    assert_eq!(w.verify(&legacy_key(2), &[]), "NOT_FOUND", "all or nothing");
    // A keyward secret's hash, in this org, and another org's imported key.
    assert!(matches!(
        import(&w, &o.admin_secret, vec![entry(&o.admin_secret, json!({"sha256": sha256_hex(&o.admin_secret)}))]),
        Err(Error::Conflict(_))
    ));
    let other = w.org("Other", &["billing"]);
    assert!(matches!(import(&w, &other.admin_secret, vec![entry(&legacy_key(1), json!({}))]), Err(Error::Conflict(_))));
    // Without the first half, this org's own records still refuse it.
    let a = w.actor(&o.admin_secret);
    let again = form(json!({ "tokens": [entry(&legacy_key(1), json!({}))] }));
    assert!(matches!(block_on(w.svc.import_tokens(&a, &again, w.now())), Err(Error::Conflict(_))));
}

#[test]
fn an_import_is_audited_per_key_and_told_once() {
    let (w, o) = world();
    let before = block_on(w.svc.notifications(&w.actor(&o.admin_secret))).unwrap().len();
    import(&w, &o.admin_secret, (0..3).map(|n| entry(&legacy_key(n), json!({"label": format!("k{n}")}))).collect())
        .unwrap();
    let notes = block_on(w.svc.notifications(&w.actor(&o.admin_secret))).unwrap();
    assert_eq!(notes.len(), before + 1, "one notification per admin for the whole import");
    let note = serde_json::to_value(&notes[0]).unwrap();
    assert!(note["body"].as_str().unwrap().contains("3 keys were imported"), "{note}");
    let a = w.actor(&o.admin_secret);
    let (events, _) = block_on(w.svc.audit_events(&a, &keyward::service::AuditQuery::default())).unwrap();
    let imported: Vec<_> = events
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .filter(|e| e["summary"].as_str().unwrap().starts_with("Imported"))
        .collect();
    assert_eq!(imported.len(), 3);
    assert!(imported.iter().all(|e| e["action"] == "token.created" && e["actor_token_id"] == o.admin_token_id));
}
