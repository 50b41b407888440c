//! Form rules at their edges, through the public validators and use cases.
//! (Many were first written to pin behaviour mutation testing found unchecked; docs/ASSURANCE.md.)

use futures_executor::block_on;
use keyward::domain::cidr::MAX_CIDRS;
use keyward::domain::validate::{new_token, token_patch, FieldErrors, TokenPatchInput};
use keyward::domain::Policy;
use keyward::service::Error;
use serde_json::{json, Value};

use crate::support::{form, World};

fn policy(w: &World, admin: &str) -> Policy {
    w.actor(admin).org.policy
}

fn token_errors(body: &Value, grantable: &[&str], policy: &Policy) -> FieldErrors {
    let grantable: Vec<String> = grantable.iter().map(|s| (*s).to_owned()).collect();
    new_token(form(body.clone()), &grantable, policy).expect_err("refused")
}

#[test]
fn keyward_scopes_a_caller_does_not_hold_are_explained_not_called_unknown_modules() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let p = policy(&w, &o.admin_secret);
    for s in ["keyward:read", "keyward:manage"] {
        let body = json!({"label": "x", "role": "developer", "kind": "org", "scopes": [s]});
        let e = token_errors(&body, &["billing"], &p);
        assert_eq!(
            e["scopes"],
            format!("\"{s}\" can only be granted by a token that holds it (keyward:manage includes keyward:read)")
        );
    }
    let body = json!({"label": "x", "role": "developer", "kind": "org", "scopes": ["keyward:admin"]});
    assert_eq!(token_errors(&body, &["billing"], &p)["scopes"], "\"keyward:admin\" is not one of the org's modules");
}

#[test]
fn messages_quote_what_was_sent_clipped_to_64_characters() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let p = policy(&w, &o.admin_secret);
    let twice = json!({"label": "x", "role": "developer", "kind": "org", "scopes": ["billing", "billing"]});
    assert_eq!(token_errors(&twice, &["billing"], &p)["scopes"], "lists \"billing\" twice");
    let long = "m".repeat(200);
    let unknown = json!({"label": "x", "role": "developer", "kind": "org", "scopes": [long]});
    assert_eq!(
        token_errors(&unknown, &["billing"], &p)["scopes"],
        format!("\"{}\" is not one of the org's modules", "m".repeat(64))
    );
}

#[test]
fn allowlists_are_stored_normalised_and_a_block_named_twice_is_quoted_normalised() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let p = policy(&w, &o.admin_secret);
    let with = |blocks: &[&str]| json!({"label": "x", "role": "developer", "kind": "org", "allowed_cidrs": blocks});
    for (blocks, message) in [
        (["10.0.0.1/8", "10.0.0.0/8"], "lists 10.0.0.0/8 twice"),
        (["2001:db8:0:0::7/32", "2001:0db8::/32"], "lists 2001:db8::/32 twice"),
        (["::ffff:192.0.2.1/24", "192.0.2.0/24"], "lists 192.0.2.0/24 twice"),
        (["fe80::1:0:0:1", "FE80:0:0:0:1::1/128"], "lists fe80::1:0:0:1/128 twice"),
    ] {
        assert_eq!(token_errors(&with(&blocks), &["billing"], &p)["allowed_cidrs"], message);
    }
    let blocks = ["10.1.2.3/16", "2001:db8:0:0:1:0:0:1", "0:0:1::/48", "::", "192.0.2.7"];
    let t = new_token(form(with(&blocks)), &[], &p).unwrap();
    assert_eq!(t.allowed_cidrs, ["10.1.0.0/16", "2001:db8::1:0:0:1/128", "0:0:1::/48", "::/128", "192.0.2.7/32"]);
}

#[test]
fn an_allowlist_may_hold_exactly_the_most_blocks() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let blocks = |n: usize| (0..n).map(|i| format!("10.0.{i}.0/24")).collect::<Vec<_>>();
    let body = |n: usize| json!({"label": format!("n{n}"), "role": "developer", "kind": "org", "scopes": ["billing"], "allowed_cidrs": blocks(n)});
    let (secret, id) = w.create(&o.admin_secret, body(MAX_CIDRS));
    assert_eq!(w.token_json(&o.admin_secret, &id).unwrap()["allowed_cidrs"].as_array().unwrap().len(), MAX_CIDRS);
    w.client.set(Some("10.0.19.7".parse().unwrap()));
    assert_eq!(w.verify(&secret, &["billing"]), "VALID");
    match w.try_create(&o.admin_secret, body(MAX_CIDRS + 1)) {
        Err(Error::Validation(e)) => assert_eq!(e["allowed_cidrs"], format!("at most {MAX_CIDRS} blocks")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_default_lifetime_may_equal_the_longest_but_not_exceed_it() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let a = w.actor(&o.admin_secret);
    let org =
        block_on(w.svc.update_org(&a, &form(json!({"policy": {"default_ttl_days": 45, "max_ttl_days": 45}})), w.now()))
            .expect("equal is allowed");
    let v = serde_json::to_value(&org).unwrap();
    assert_eq!((v["policy"]["default_ttl_days"].as_u64(), v["policy"]["max_ttl_days"].as_u64()), (Some(45), Some(45)));
    let a = w.actor(&o.admin_secret);
    match block_on(w.svc.update_org(&a, &form(json!({"policy": {"default_ttl_days": 46}})), w.now())) {
        Err(Error::Validation(e)) => assert_eq!(e["policy.default_ttl_days"], "must not exceed max_ttl_days"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_refused_never_expires_says_why_for_its_kind() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let p = Policy { allow_non_expiring_org_tokens: false, ..policy(&w, &o.admin_secret) };
    let body = |kind: &str| json!({"label": "x", "role": "developer", "kind": kind, "never_expires": true});
    assert_eq!(token_errors(&body("personal"), &[], &p)["never_expires"], "personal tokens always expire");
    assert_eq!(
        token_errors(&body("org"), &[], &p)["never_expires"],
        "the org's policy does not allow non-expiring org tokens"
    );
    let allowed = Policy { allow_non_expiring_org_tokens: true, ..p };
    assert_eq!(token_errors(&body("personal"), &[], &allowed)["never_expires"], "personal tokens always expire");
    assert!(new_token(form(body("org")), &[], &allowed).is_ok());
}

#[test]
fn an_edit_that_changes_nothing_is_empty() {
    let none: &[String] = &[];
    assert!(token_patch(TokenPatchInput::default(), none).unwrap().is_empty());
    for body in [json!({"label": "y"}), json!({"description": "d"}), json!({"scopes": []}), json!({"role": "admin"})] {
        assert!(!token_patch(form(body.clone()), none).unwrap().is_empty(), "{body}");
    }
}
