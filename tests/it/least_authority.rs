//! Least authority: keyward's own scopes, rotated-out secrets that only verify, admin actions
//! that stick, and notifications for every security-relevant change.

use futures_executor::block_on;
use keyward::service::{Actor, Error, TokenQuery};
use serde_json::{json, Value};

use crate::support::*;
use keyward::service::AuditQuery;

/// Every admin use case once, as `caller`: `(name, is a read, outcome)`.
fn every_use_case(
    w: &World,
    caller: &Actor,
    token: &str,
    member: &str,
) -> Vec<(&'static str, bool, Result<(), Error>)> {
    let now = w.now();
    let ok = |r: Result<Value, Error>| r.map(|_| ());
    let svc = &w.svc;
    vec![
        ("me", true, ok(block_on(svc.me(caller, now)).map(|v| json!(v)))),
        ("org", true, ok(svc.org(caller).map(|v| json!(v)))),
        ("members", true, ok(block_on(svc.members(caller)).map(|v| json!(v)))),
        ("list tokens", true, ok(block_on(svc.list_tokens(caller, &TokenQuery::default(), now)).map(|v| json!(v.0)))),
        ("get token", true, ok(block_on(svc.get_token(caller, token, now)).map(|v| json!(v)))),
        ("audit", true, ok(block_on(svc.audit_events(caller, &AuditQuery::default())).map(|v| json!(v.0)))),
        ("notifications", true, ok(block_on(svc.notifications(caller)).map(|v| json!(v)))),
        ("update org", false, ok(block_on(svc.update_org(caller, &form(json!({"name": "X"})), now)).map(|v| json!(v)))),
        (
            "create member",
            false,
            ok(block_on(svc.create_member(
                caller,
                &form(json!({"email": "n@x.io", "name": "N", "role": "developer"})),
                now,
            ))
            .map(|v| json!(v))),
        ),
        (
            "update member",
            false,
            ok(block_on(svc.update_member(caller, member, &form(json!({"name": "M"})), now)).map(|v| json!(v))),
        ),
        (
            "create token",
            false,
            ok(block_on(svc.create_token(
                caller,
                form(json!({"label": "n", "role": "developer", "kind": "org"})),
                now,
            ))
            .map(|v| json!(v.token))),
        ),
        (
            "update token",
            false,
            ok(block_on(svc.update_token(caller, token, form(json!({"label": "t2"})), now)).map(|v| json!(v))),
        ),
        ("disable", false, ok(block_on(svc.disable_token(caller, token, &no_body(), now)).map(|v| json!(v)))),
        ("rotate", false, ok(block_on(svc.rotate_token(caller, token, &form(json!({})), now)).map(|v| json!(v.token)))),
        ("reconcile", false, ok(block_on(svc.reconcile(caller, &no_body(), now)).map(|v| json!(v)))),
        (
            "delete",
            false,
            ok(block_on(svc.delete_token(caller, token, &form(json!({"confirm_label": "t2"})), now))
                .map(|()| json!(null))),
        ),
    ]
}

#[test]
fn without_keyward_scopes_a_token_cannot_use_the_admin_api_but_still_verifies() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (_, target) = w.create(&o.admin_secret, json!({"label": "t", "role": "developer", "kind": "org"}));
    let member = w.member_with_token(&o.admin_secret, "m@acme.io", "developer").0;
    let (ci, _) =
        w.create(&o.admin_secret, json!({"label": "ci", "role": "admin", "kind": "org", "scopes": ["billing"]}));
    assert_eq!(w.verify(&ci, &["billing"]), "VALID");
    let caller = w.actor(&ci);
    for (name, _, outcome) in every_use_case(&w, &caller, &target, &member) {
        assert!(matches!(outcome, Err(Error::Forbidden(_))), "{name}: {outcome:?}");
    }
    assert_eq!(w.verify(&ci, &["billing"]), "VALID");
}

#[test]
fn keyward_read_reads_and_changes_nothing() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (_, target) = w.create(&o.admin_secret, json!({"label": "t", "role": "developer", "kind": "org"}));
    let member = w.member_with_token(&o.admin_secret, "m@acme.io", "developer").0;
    let (reader, _) =
        w.create(&o.admin_secret, json!({"label": "r", "role": "admin", "kind": "org", "scopes": ["keyward:read"]}));
    let caller = w.actor(&reader);
    for (name, read, outcome) in every_use_case(&w, &caller, &target, &member) {
        if read {
            assert!(outcome.is_ok(), "{name}: {outcome:?}");
        } else {
            assert!(matches!(outcome, Err(Error::Forbidden(_))), "{name}: {outcome:?}");
        }
    }
    // and a manager does all of it
    let (manager, _) =
        w.create(&o.admin_secret, json!({"label": "m", "role": "admin", "kind": "org", "scopes": ["keyward:manage"]}));
    let caller = w.actor(&manager);
    for (name, _, outcome) in every_use_case(&w, &caller, &target, &member) {
        assert!(outcome.is_ok(), "{name}: {outcome:?}");
    }
}

#[test]
fn grants_never_exceed_the_callers_keyward_scopes() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let admin = w.actor(&o.admin_secret);
    assert!(
        admin.token.as_ref().unwrap().scopes.contains(&"keyward:manage".to_owned()),
        "the first admin token manages keyward"
    );
    let (reader, _) =
        w.create(&o.admin_secret, json!({"label": "r", "role": "admin", "kind": "org", "scopes": ["keyward:read"]}));
    // A reader creates nothing at all; a manager grants both; nobody grants what is not there.
    assert!(matches!(
        w.try_create(&reader, json!({"label": "x", "role": "developer", "kind": "org", "scopes": ["keyward:read"]})),
        Err(Error::Forbidden(_))
    ));
    for scopes in [json!(["keyward:read"]), json!(["keyward:manage", "billing"])] {
        assert!(w
            .try_create(&o.admin_secret, json!({"label": "x", "role": "developer", "kind": "org", "scopes": scopes}))
            .is_ok());
    }
    assert!(matches!(
        w.try_create(&o.admin_secret, json!({"label": "x", "role": "developer", "kind": "org", "scopes": ["keyward:admin"]})),
        Err(Error::Validation(e)) if e["scopes"].contains("not one of the org's modules")
    ));
    // A developer holding keyward:manage manages their own tokens, but a token made without
    // keyward scopes cannot widen itself, and keyward scopes are only granted by their holders.
    let (_, dev, _) = w.member_with_token(&o.admin_secret, "d@acme.io", "developer");
    let (plain, plain_id) = w.create(&dev, json!({"label": "plain", "role": "developer", "kind": "personal"}));
    let p = w.actor(&plain);
    let widened =
        block_on(w.svc.update_token(&p, &plain_id, form(json!({"scopes": ["billing", "keyward:manage"]})), w.now()));
    assert!(matches!(widened, Err(Error::Forbidden(_))));
    let (read_dev, read_dev_id) =
        w.create(&dev, json!({"label": "rd", "role": "developer", "kind": "personal", "scopes": ["keyward:read"]}));
    let rd = w.actor(&read_dev);
    let r = block_on(w.svc.update_token(&rd, &read_dev_id, form(json!({"scopes": ["keyward:manage"]})), w.now()));
    assert!(matches!(r, Err(Error::Forbidden(_))));
    let d = w.actor(&dev);
    let r = block_on(w.svc.update_token(&d, &read_dev_id, form(json!({"scopes": ["keyward:manage"]})), w.now()));
    assert!(r.is_ok(), "{r:?}");
    // Module names are never keyward's.
    let bad = json!({"name": "K", "modules": ["keyward:manage"], "admin": {"email": "a@k.io", "name": "A"}});
    let id = w.new_org_id();
    assert!(
        matches!(block_on(w.svc.create_org(&operator(), &id, &form(bad.clone()), w.now())), Err(Error::Validation(e)) if e.contains_key("modules"))
    );
    let r = block_on(w.svc.update_org(&admin, &form(json!({"modules": ["billing", "keyward:read"]})), w.now()));
    assert!(matches!(r, Err(Error::Validation(e)) if e.contains_key("modules")));
}

#[test]
fn a_rotated_out_secret_only_verifies() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let admin = w.actor(&o.admin_secret);
    let r =
        block_on(w.svc.rotate_token(&admin, &o.admin_token_id, &form(json!({"grace_seconds": 300})), w.now())).unwrap();
    assert_eq!(w.verify(&o.admin_secret, &[]), "VALID");
    assert_eq!(w.auth(&o.admin_secret).unwrap_err(), Error::Unauthenticated);
    assert!(w.auth(&r.secret).is_ok());
}

#[test]
fn admin_actions_stick() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (_, dev, _) = w.member_with_token(&o.admin_secret, "d@acme.io", "developer");
    let (_, id) = w.create(&dev, json!({"label": "mine2", "role": "developer", "kind": "personal"}));
    let (admin, d) = (w.actor(&o.admin_secret), w.actor(&dev));
    // An admin's disable and revoke are undone by an admin only.
    let v = block_on(w.svc.disable_token(&admin, &id, &no_body(), w.now())).unwrap();
    assert_eq!(json!(v)["state_set_by"], "admin");
    assert!(matches!(block_on(w.svc.enable_token(&d, &id, &no_body(), w.now())), Err(Error::Forbidden(_))));
    block_on(w.svc.revoke_token(&admin, &id, &form(json!({"confirm_label": "mine2"})), w.now())).unwrap();
    assert!(matches!(block_on(w.svc.reapprove_token(&d, &id, &no_body(), w.now())), Err(Error::Forbidden(_))));
    block_on(w.svc.reapprove_token(&admin, &id, &no_body(), w.now())).unwrap();
    // A developer's own disable and revoke they may undo themselves.
    let v = block_on(w.svc.disable_token(&d, &id, &no_body(), w.now())).unwrap();
    assert_eq!(json!(v)["state_set_by"], "developer");
    block_on(w.svc.enable_token(&d, &id, &no_body(), w.now())).unwrap();
    block_on(w.svc.revoke_token(&d, &id, &form(json!({"confirm_label": "mine2"})), w.now())).unwrap();
    block_on(w.svc.reapprove_token(&d, &id, &no_body(), w.now())).unwrap();
    assert_eq!(w.token_json(&dev, &id).unwrap()["state"], "active");
    // Revoking what an admin disabled does not make it the developer's to undo.
    block_on(w.svc.disable_token(&admin, &id, &no_body(), w.now())).unwrap();
    let v = block_on(w.svc.revoke_token(&d, &id, &form(json!({"confirm_label": "mine2"})), w.now())).unwrap();
    assert_eq!(json!(v)["state_set_by"], "admin");
    assert!(matches!(block_on(w.svc.reapprove_token(&d, &id, &no_body(), w.now())), Err(Error::Forbidden(_))));
    block_on(w.svc.reapprove_token(&admin, &id, &no_body(), w.now())).unwrap();
    // An admin takes over a developer's own disable or revoke; it then sticks.
    block_on(w.svc.disable_token(&d, &id, &no_body(), w.now())).unwrap();
    let v = block_on(w.svc.disable_token(&admin, &id, &no_body(), w.now())).unwrap();
    assert_eq!((json!(v)["state"].clone(), json!(v)["state_set_by"].clone()), (json!("disabled"), json!("admin")));
    assert!(matches!(block_on(w.svc.enable_token(&d, &id, &no_body(), w.now())), Err(Error::Forbidden(_))));
    block_on(w.svc.revoke_token(&d, &id, &form(json!({"confirm_label": "mine2"})), w.now())).unwrap();
    assert!(matches!(block_on(w.svc.reapprove_token(&d, &id, &no_body(), w.now())), Err(Error::Forbidden(_))));
    block_on(w.svc.reapprove_token(&admin, &id, &no_body(), w.now())).unwrap();
    block_on(w.svc.revoke_token(&d, &id, &form(json!({"confirm_label": "mine2"})), w.now())).unwrap();
    let v = block_on(w.svc.revoke_token(&admin, &id, &form(json!({"confirm_label": "mine2"})), w.now())).unwrap();
    assert_eq!(json!(v)["state_set_by"], "admin");
    assert!(matches!(block_on(w.svc.reapprove_token(&d, &id, &no_body(), w.now())), Err(Error::Forbidden(_))));
    // an admin repeating their own disable is still a conflict
    block_on(w.svc.reapprove_token(&admin, &id, &no_body(), w.now())).unwrap();
    block_on(w.svc.disable_token(&admin, &id, &no_body(), w.now())).unwrap();
    assert!(matches!(block_on(w.svc.disable_token(&admin, &id, &no_body(), w.now())), Err(Error::Conflict(_))));
}

#[test]
fn security_relevant_changes_notify_the_admins_and_the_owner_when_someone_else_acts() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (dev_id, dev, _) = w.member_with_token(&o.admin_secret, "d@acme.io", "developer");
    let (_, id) = w.create(&dev, json!({"label": "mine2", "role": "developer", "kind": "personal"}));
    let admin = w.actor(&o.admin_secret);
    let kinds_to = |to: &str| -> Vec<String> {
        block_on(w.svc.notifications(&w.actor(&o.admin_secret)))
            .unwrap()
            .iter()
            .filter(|n| n.to == to)
            .map(|n| json!(n.kind).as_str().unwrap().to_owned())
            .collect()
    };
    let before = kinds_to("d@acme.io").len();
    // The owner's own changes are not sent back to them; an admin's are.
    block_on(w.svc.update_token(&w.actor(&dev), &id, form(json!({"scopes": ["billing"]})), w.now())).unwrap();
    assert_eq!(kinds_to("d@acme.io").len(), before);
    block_on(w.svc.update_token(&admin, &id, form(json!({"scopes": []})), w.now())).unwrap();
    block_on(w.svc.update_token(&admin, &id, form(json!({"label": "renamed"})), w.now())).unwrap();
    block_on(w.svc.disable_token(&admin, &id, &no_body(), w.now())).unwrap();
    block_on(w.svc.enable_token(&admin, &id, &no_body(), w.now())).unwrap();
    block_on(w.svc.delete_token(&admin, &id, &form(json!({"confirm_label": "renamed"})), w.now())).unwrap();
    let to_owner = kinds_to("d@acme.io");
    assert_eq!(&to_owner[..4], ["token.deleted", "token.enabled", "token.disabled", "token.updated"]);
    assert_eq!(to_owner.len(), before + 4, "a label-only edit is not security-relevant");
    let to_admin = kinds_to("admin@acme.io");
    assert_eq!(
        &to_admin[..6],
        ["token.deleted", "token.enabled", "token.disabled", "token.updated", "token.updated", "token.created"]
    );
    // Member changes: admins are told, with no token; a deactivated admin is not told.
    let (m2, _, _) = w.member_with_token(&o.admin_secret, "a2@acme.io", "admin");
    block_on(w.svc.update_member(&admin, &m2, &form(json!({"status": "deactivated"})), w.now())).unwrap();
    block_on(w.svc.update_member(&admin, &dev_id, &form(json!({"role": "admin"})), w.now())).unwrap();
    let notes = block_on(w.svc.notifications(&admin)).unwrap();
    let member_notes: Vec<_> = notes.iter().filter(|n| json!(n.kind) == "member.updated").collect();
    assert!(member_notes.iter().all(|n| n.token_id.is_none() && n.masked.is_none()));
    assert!(member_notes.iter().all(|n| n.to != "a2@acme.io"));
    assert!(member_notes.iter().any(|n| n.subject.contains("deactivated")));
    assert!(member_notes.iter().any(|n| n.subject.contains("role changed to admin")));
}

fn operator() -> keyward::service::Operator {
    keyward::service::Operator::authenticate(Some("op-secret"), Some("op-secret")).expect("operator")
}

/// Only the operator's secret makes an operator: none configured, none presented, or another.
#[test]
fn the_operator_is_decided_by_the_service_in_constant_time() {
    use keyward::service::Operator;
    assert!(Operator::authenticate(Some("s3cret"), Some("s3cret")).is_ok());
    for (configured, presented) in [
        (None, Some("x")),
        (Some(""), Some("")),
        (Some("s3cret"), None),
        (Some("s3cret"), Some("s3cre")),
        (Some("s3cret"), Some("S3cret")),
    ] {
        assert_eq!(
            Operator::authenticate(configured, presented).unwrap_err(),
            Error::Unauthenticated,
            "{configured:?} {presented:?}"
        );
    }
}

/// A token secret pasted into the wrong field is not repeated back in the problem (found by the
/// red team: `scopes` quoted its values).
#[test]
fn a_secret_in_the_wrong_field_is_not_echoed() {
    let w = World::new();
    let org = w.org("Acme", &["billing"]);
    let a = w.actor(&org.admin_secret);
    let body = serde_json::json!({"label": "x", "role": "developer", "kind": "org", "scopes": [org.admin_secret]});
    let Err(Error::Validation(e)) = block_on(w.svc.create_token(&a, form(body.clone()), w.now())) else {
        panic!("refused")
    };
    let shown = e.get("scopes").expect("scopes refused");
    assert!(!shown.contains(&org.admin_secret[3..]), "{shown}");
    assert!(shown.contains("(a secret, not shown)"), "{shown}");
    let plain = serde_json::json!({"label": "x", "role": "developer", "kind": "org", "scopes": ["payroll"]});
    let Err(Error::Validation(e)) = block_on(w.svc.create_token(&a, form(plain.clone()), w.now())) else {
        panic!("refused")
    };
    assert!(e["scopes"].contains("\"payroll\""), "other values are still quoted");
}

/// A developer-role token of an admin member reaches its owner's personal tokens, but never one
/// whose role or keyward access is above its own: no rotation (whose answer would carry the
/// stronger secret), no edit, no state change, no delete. Found by an outside review: it could
/// rotate an admin-role sibling and use that secret to make admin members.
#[test]
fn no_token_changes_or_obtains_a_token_more_powerful_than_itself() {
    use keyward::service::Denied;
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let personal = |role: &str, scopes: &[&str]| {
        let body = json!({"label": "s", "role": role, "kind": "personal", "scopes": scopes});
        w.create(&o.admin_secret, body)
    };
    let (dev_secret, _) = personal("developer", &["keyward:manage"]);
    let (_, admin_sibling) = personal("admin", &[]);
    let (_, reader_sibling) = personal("developer", &["keyward:read"]);
    let d = w.actor(&dev_secret);
    let above = Err(Error::Forbidden(Denied::TokenAboveCaller));
    let before = w.token_json(&o.admin_secret, &admin_sibling).unwrap();
    let now = w.now();
    let svc = &w.svc;
    let id = admin_sibling.as_str();
    let label = || form(json!({"confirm_label": "s"}));
    assert_eq!(block_on(svc.rotate_token(&d, id, &form(json!({})), now)).map(|_| ()), above);
    let widen = form(json!({"scopes": ["keyward:manage"]}));
    assert_eq!(block_on(svc.update_token(&d, id, widen, now)).map(|_| ()), above);
    assert_eq!(block_on(svc.disable_token(&d, id, &no_body(), now)).map(|_| ()), above);
    assert_eq!(block_on(svc.revoke_token(&d, id, &label(), now)).map(|_| ()), above);
    assert_eq!(block_on(svc.delete_token(&d, id, &label(), now)), above);
    assert_eq!(w.token_json(&o.admin_secret, id).unwrap(), before, "the admin-role token is untouched");
    // Its own role and keyward access, or less, are within reach (modules never count).
    let rotated = block_on(svc.rotate_token(&d, &reader_sibling, &form(json!({})), now)).unwrap();
    assert_eq!(w.verify(&rotated.secret, &["keyward:read"]), "VALID");
    let (_, billing) = personal("developer", &["keyward:manage", "billing"]);
    block_on(svc.update_token(&d, &billing, form(json!({"label": "b"})), now)).unwrap();
    // An admin-role caller reaches the admin-role token.
    let a = w.actor(&o.admin_secret);
    block_on(svc.rotate_token(&a, id, &form(json!({})), now)).unwrap();
}

/// A developer cannot delete a token an admin, keyward or a report restricted (deleting it and
/// making one with the same label would sidestep the admin's disable); an admin can.
#[test]
fn a_developer_cannot_delete_what_an_admin_restricted() {
    use keyward::service::Denied;
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (_, dev, own) = w.member_with_token(&o.admin_secret, "dev@acme.io", "developer");
    let (d, a) = (w.actor(&dev), w.actor(&o.admin_secret));
    let (_, other) = w.create(&dev, json!({"label": "x", "role": "developer", "kind": "personal"}));
    let confirm = |l: &str| form(json!({"confirm_label": l}));
    block_on(w.svc.disable_token(&a, &other, &no_body(), w.now())).unwrap();
    assert_eq!(
        block_on(w.svc.delete_token(&d, &other, &confirm("x"), w.now())),
        Err(Error::Forbidden(Denied::RestrictedDelete))
    );
    // Re-enabled by the admin, the token is the developer's to delete again.
    block_on(w.svc.enable_token(&a, &other, &no_body(), w.now())).unwrap();
    block_on(w.svc.delete_token(&d, &other, &confirm("x"), w.now())).unwrap();
    // The developer's own revoke is theirs; an admin deletes whatever it restricted.
    let (_, mine) = w.create(&dev, json!({"label": "y", "role": "developer", "kind": "personal"}));
    block_on(w.svc.revoke_token(&d, &mine, &confirm("y"), w.now())).unwrap();
    block_on(w.svc.delete_token(&d, &mine, &confirm("y"), w.now())).unwrap();
    block_on(w.svc.revoke_token(&a, &own, &confirm("mine"), w.now())).unwrap();
    block_on(w.svc.delete_token(&a, &own, &confirm("mine"), w.now())).unwrap();
}
