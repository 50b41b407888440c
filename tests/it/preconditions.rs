//! `If-Match` preconditions on every record a change applies to, and JSON bodies, through the
//! public API.
//! (Many were first written to pin behaviour mutation testing found unchecked; docs/ASSURANCE.md.)

use futures_executor::block_on;
use keyward::service::{parse_json, Actor, Error, Precondition};
use serde_json::json;

use crate::support::*;

/// `a` with the precondition the server read from `If-Match` (`src/server/http.rs` reads the header).
fn with_if_match(a: &Actor, p: Precondition) -> Actor {
    let mut a = a.clone();
    a.if_match = Some(p);
    a
}

fn version(v: u64) -> Precondition {
    Precondition::Versions(vec![v])
}

#[test]
fn a_change_with_the_current_etag_goes_through_and_a_stale_one_is_refused() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (_, id) = w.create(&o.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org"}));
    let a = w.actor(&o.admin_secret);
    let v1 = block_on(w.svc.get_token(&a, &id, w.now())).unwrap().version;

    let current = with_if_match(&a, version(v1));
    let edited = block_on(w.svc.update_token(&current, &id, form(json!({"label": "ci-2"})), w.now()))
        .expect("the current ETag allows the change");
    assert_eq!(edited.label, "ci-2");
    assert!(edited.version > v1);

    // the same If-Match is stale now: refused, and the record is unchanged
    assert_eq!(
        block_on(w.svc.update_token(&current, &id, form(json!({"label": "ci-3"})), w.now())).unwrap_err(),
        Error::PreconditionFailed
    );
    let now = block_on(w.svc.get_token(&a, &id, w.now())).unwrap();
    assert_eq!((now.label.as_str(), now.version), ("ci-2", edited.version));

    // a list naming the current version among stale ones allows it, and so does `*`
    let listed = with_if_match(&a, Precondition::Versions(vec![v1, edited.version]));
    let v3 = block_on(w.svc.update_token(&listed, &id, form(json!({"label": "ci-4"})), w.now())).expect("listed");
    let any = with_if_match(&a, Precondition::Any);
    let v4 = block_on(w.svc.update_token(&any, &id, form(json!({"label": "ci-5"})), w.now())).expect("any");
    assert!(v4.version > v3.version);
    // a header naming no version (a weak or empty tag, as the server reads them) matches nothing
    let weak = with_if_match(&a, Precondition::Versions(vec![]));
    assert_eq!(
        block_on(w.svc.update_token(&weak, &id, form(json!({"label": "ci-6"})), w.now())).unwrap_err(),
        Error::PreconditionFailed
    );
}

#[test]
fn every_change_to_a_record_checks_if_match_against_that_record() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (secret, id) =
        w.create(&o.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org", "scopes": ["billing"]}));
    let a = w.actor(&o.admin_secret);
    let stale = with_if_match(&a, version(999_999));
    let refused = |r: Result<(), Error>, what: &str| assert_eq!(r, Err(Error::PreconditionFailed), "{what}");

    refused(block_on(w.svc.disable_token(&stale, &id, &no_body(), w.now())).map(drop), "disable");
    refused(
        block_on(w.svc.revoke_token(&stale, &id, &form(json!({"confirm_label": "ci"})), w.now())).map(drop),
        "revoke",
    );
    refused(block_on(w.svc.rotate_token(&stale, &id, &form(json!({})), w.now())).map(drop), "rotate");
    refused(block_on(w.svc.delete_token(&stale, &id, &form(json!({"confirm_label": "ci"})), w.now())), "delete");
    refused(block_on(w.svc.update_org(&stale, &form(json!({"name": "Other"})), w.now())).map(drop), "update org");
    refused(
        block_on(w.svc.update_member(&stale, &o.admin_id, &form(json!({"name": "Other"})), w.now())).map(drop),
        "update member",
    );

    // nothing happened
    assert_eq!(w.verify(&secret, &["billing"]), "VALID");
    let t = block_on(w.svc.get_token(&a, &id, w.now())).unwrap();
    assert_eq!(t.label, "ci");
    let fresh = w.actor(&o.admin_secret);
    assert_eq!(fresh.org.name, "Acme");
    assert_eq!(block_on(w.svc.members(&fresh)).unwrap()[0].name, "Ada Admin");

    // with the org's and the member's current ETags, the same changes go through
    let org_now = with_if_match(&fresh, version(fresh.org.version));
    assert_eq!(block_on(w.svc.update_org(&org_now, &form(json!({"name": "Other"})), w.now())).unwrap().name, "Other");
    let admin = block_on(w.svc.members(&fresh)).unwrap().into_iter().find(|m| m.id == o.admin_id).unwrap();
    let member_now = with_if_match(&fresh, version(admin.version));
    let m = block_on(w.svc.update_member(&member_now, &o.admin_id, &form(json!({"name": "Ada B"})), w.now())).unwrap();
    assert_eq!(m.name, "Ada B");
}

#[test]
fn json_bodies_empty_reads_as_an_object_and_malformed_is_a_bad_request() {
    assert_eq!(parse_json(b"").unwrap(), json!({}));
    assert_eq!(parse_json(b" \r\n\t").unwrap(), json!({}));
    assert_eq!(parse_json(br#"{"label": "x"}"#).unwrap(), json!({"label": "x"}));
    assert_eq!(parse_json(b"[1, 2]").unwrap(), json!([1, 2]));
    assert_eq!(parse_json(b"null").unwrap(), json!(null));
    assert_eq!(parse_json(b"{\"label\":").unwrap_err(), Error::BadRequest("the body is not valid JSON"));
}
