//! `meta` and `external_id`: set on create and edit, shown in the view, answered with every
//! valid verdict, and a filter of the token list.

use futures_executor::block_on;
use keyward::service::{Error, TokenQuery};
use serde_json::{json, Value};

use crate::support::*;

/// A `meta` object whose compact JSON is exactly `bytes` long.
fn meta_of(bytes: usize) -> Value {
    let overhead = r#"{"k":""}"#.len();
    json!({ "k": "x".repeat(bytes - overhead) })
}

fn verdict(w: &World, secret: &str, consistency: &str) -> Value {
    let v = if consistency == "strict" {
        let at = block_on(w.svc.locate(secret, &keyward::domain::legacy::LegacyFormats::none())).unwrap().unwrap();
        block_on(w.svc.verify_strict(
            &keyward::domain::token::sha256_hex(secret),
            &at,
            &[] as &[&str],
            None,
            1,
            w.now(),
        ))
    } else {
        w.edge_answer(secret)
    };
    serde_json::to_value(v.unwrap()).unwrap()
}

#[test]
fn metadata_of_1_kib_round_trips_through_create_and_verify() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let meta = meta_of(1024);
    assert_eq!(serde_json::to_string(&meta).unwrap().len(), 1024);
    let (secret, id) = w.create(
        &o.admin_secret,
        json!({"label": "svc", "role": "developer", "kind": "org", "meta": meta, "external_id": "cus_42/eu-1:a@b.c"}),
    );
    for consistency in ["edge", "strict"] {
        let v = verdict(&w, &secret, consistency);
        assert_eq!(v["code"], "VALID");
        assert_eq!(serde_json::to_string(&v["token"]["meta"]).unwrap(), serde_json::to_string(&meta).unwrap());
        assert_eq!(v["token"]["external_id"], "cus_42/eu-1:a@b.c");
    }
    let view = w.token_json(&o.admin_secret, &id).unwrap();
    assert_eq!(view["meta"], meta);
    // A token without either answers both as null.
    let (plain, _) = w.create(&o.admin_secret, json!({"label": "plain", "role": "developer", "kind": "org"}));
    let v = verdict(&w, &plain, "edge");
    assert_eq!((v["token"]["meta"].clone(), v["token"]["external_id"].clone()), (Value::Null, Value::Null));
}

#[test]
fn refused_metadata_names_its_field() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let base = json!({"label": "svc", "role": "developer", "kind": "org"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let secret = "kw_000000000000000000000000000000".to_owned() + "3wuQEo";
    for (body, field) in [
        (with("meta", meta_of(1025)), "meta"),
        (with("meta", json!([1, 2])), "meta"),
        (with("meta", json!("text")), "meta"),
        (with("meta", json!({"note": secret})), "meta"),
        (with("meta", json!({"deep": [{"k": "a".repeat(64).replace('a', "f")}]})), "meta"),
        (with("meta", json!({ secret.clone(): 1 })), "meta"),
        (with("external_id", json!("has space")), "external_id"),
        (with("external_id", json!("x".repeat(256))), "external_id"),
        (with("external_id", json!(42)), "external_id"),
        (with("external_id", json!("é")), "external_id"),
    ] {
        match w.try_create(&o.admin_secret, body.clone()) {
            Err(Error::Validation(e)) => assert_eq!(e.keys().collect::<Vec<_>>(), [field], "{body}"),
            other => panic!("{body}: {other:?}"),
        }
    }
    assert!(w.try_create(&o.admin_secret, with("external_id", json!("x".repeat(255)))).is_ok());
}

#[test]
fn edits_set_and_clear_and_the_list_filters_by_external_id() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (secret, id) = w.create(&o.admin_secret, json!({"label": "a", "role": "developer", "kind": "org"}));
    w.create(&o.admin_secret, json!({"label": "b", "role": "developer", "kind": "org", "external_id": "cus_2"}));
    let admin = w.actor(&o.admin_secret);
    let patch = |body: Value| block_on(w.svc.update_token(&admin, &id, form(body), w.now())).unwrap();
    let v = patch(json!({"meta": {"plan": "pro"}, "external_id": "cus_1"}));
    assert_eq!(
        (v.meta.clone().map(Value::Object), v.external_id.clone()),
        (Some(json!({"plan": "pro"})), Some("cus_1".into()))
    );
    assert_eq!(verdict(&w, &secret, "edge")["token"]["meta"], json!({"plan": "pro"}));
    let list = |x: &str| {
        let q = TokenQuery { external_id: Some(x.into()), ..TokenQuery::default() };
        block_on(w.svc.list_tokens(&admin, &q, w.now())).unwrap().0.into_iter().map(|t| t.label).collect::<Vec<_>>()
    };
    assert_eq!(list("cus_1"), ["a"]);
    assert_eq!(list("cus_2"), ["b"]);
    assert!(list("cus_3").is_empty());
    let v = patch(json!({"meta": null, "external_id": null}));
    assert_eq!((v.meta, v.external_id), (None, None));
    assert_eq!(verdict(&w, &secret, "strict")["token"]["meta"], Value::Null);
    assert!(list("cus_1").is_empty());
}
