//! Reach (404) versus role (403), across admin, developer, other org, revoked and deactivated callers.

use futures_executor::block_on;
use keyward::service::{Error, TokenQuery};
use serde_json::json;

use crate::support::*;
use keyward::service::AuditQuery;

#[test]
fn developer_reach_and_role() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (dev_id, dev, dev_tok) = w.member_with_token(&o.admin_secret, "dev@acme.io", "developer");
    let (_, other_dev, other_tok) = w.member_with_token(&o.admin_secret, "dev2@acme.io", "developer");
    let (_, org_tok) = w.create(&o.admin_secret, json!({"label": "org", "role": "developer", "kind": "org"}));
    let d = w.actor(&dev);
    // outside reach: 404 for every verb, never 403
    for id in [&o.admin_token_id, &other_tok, &org_tok, &"tok_nonexistent00000000".to_owned(), &"../x".to_owned()] {
        assert_eq!(block_on(w.svc.get_token(&d, id, w.now())).unwrap_err(), Error::NotFound, "{id}");
        assert_eq!(block_on(w.svc.disable_token(&d, id, &no_body(), w.now())).unwrap_err(), Error::NotFound);
        assert_eq!(
            block_on(w.svc.update_token(&d, id, form(json!({"label": "x"})), w.now())).unwrap_err(),
            Error::NotFound
        );
        assert_eq!(
            block_on(w.svc.revoke_token(&d, id, &form(json!({"confirm_label": "mine"})), w.now())).unwrap_err(),
            Error::NotFound
        );
        assert_eq!(block_on(w.svc.rotate_token(&d, id, &form(json!({})), w.now())).unwrap_err(), Error::NotFound);
        assert_eq!(
            block_on(w.svc.delete_token(&d, id, &form(json!({"confirm_label": "mine"})), w.now())).unwrap_err(),
            Error::NotFound
        );
    }
    // inside reach but above the role: 403
    assert!(matches!(
        w.try_create(&dev, json!({"label": "a", "role": "admin", "kind": "personal"})),
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        w.try_create(&dev, json!({"label": "a", "role": "developer", "kind": "org"})),
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        w.try_create(
            &dev,
            json!({"label": "a", "role": "developer", "kind": "personal", "owner_member_id": o.admin_id})
        ),
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        block_on(w.svc.update_token(&d, &dev_tok, form(json!({"role": "admin"})), w.now())),
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(block_on(w.svc.members(&d)), Err(Error::Forbidden(_))));
    assert!(matches!(
        block_on(w.svc.create_member(&d, &form(json!({"email": "x@y.io", "name": "x", "role": "admin"})), w.now())),
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        block_on(w.svc.update_member(&d, &dev_id, &form(json!({"role": "admin"})), w.now())),
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(block_on(w.svc.update_org(&d, &form(json!({"name": "x"})), w.now())), Err(Error::Forbidden(_))));
    assert!(matches!(block_on(w.svc.audit_events(&d, &AuditQuery::default())), Err(Error::Forbidden(_))));
    assert!(matches!(block_on(w.svc.notifications(&d)), Err(Error::Forbidden(_))));
    // own tokens: full lifecycle allowed
    let (_, mine) =
        w.create(&dev, json!({"label": "own", "role": "developer", "kind": "personal", "owner_member_id": dev_id}));
    assert!(block_on(w.svc.disable_token(&d, &mine, &no_body(), w.now())).is_ok());
    assert!(block_on(w.svc.enable_token(&d, &mine, &no_body(), w.now())).is_ok());
    assert!(block_on(w.svc.rotate_token(&d, &mine, &form(json!({})), w.now())).is_ok());
    assert!(block_on(w.svc.delete_token(&d, &mine, &form(json!({"confirm_label": "own"})), w.now())).is_ok());
    // a developer's list is their own, whatever the filter asks
    let q = TokenQuery { owner: Some(o.admin_id.clone()), ..TokenQuery::default() };
    assert!(block_on(w.svc.list_tokens(&d, &q, w.now())).unwrap().0.is_empty());
    let (own, _) = block_on(w.svc.list_tokens(&d, &TokenQuery::default(), w.now())).unwrap();
    assert_eq!(own.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), [dev_tok.as_str()]);
    let _ = other_dev;
}

#[test]
fn admin_owner_and_role_ceilings() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let (dev_id, _, _) = w.member_with_token(&o.admin_secret, "dev@acme.io", "developer");
    // an admin may make a personal token for another member, but not above that member's role
    let r = w.try_create(
        &o.admin_secret,
        json!({"label": "a", "role": "admin", "kind": "personal", "owner_member_id": dev_id}),
    );
    match r {
        Err(Error::Validation(e)) => assert!(e.contains_key("role")),
        other => panic!("{other:?}"),
    }
    assert!(w
        .try_create(
            &o.admin_secret,
            json!({"label": "a", "role": "developer", "kind": "personal", "owner_member_id": dev_id})
        )
        .is_ok());
    let r = w.try_create(
        &o.admin_secret,
        json!({"label": "a", "role": "developer", "kind": "personal", "owner_member_id": "mem_00000000000000000000"}),
    );
    assert!(matches!(r, Err(Error::Validation(e)) if e.contains_key("owner_member_id")));
    // an org token with admin role can act as admin but must name an owner for personal tokens
    let (org_admin, _) = w.create(
        &o.admin_secret,
        json!({"label": "robot", "role": "admin", "kind": "org", "scopes": ["keyward:manage"]}),
    );
    assert!(matches!(
        w.try_create(&org_admin, json!({"label": "a", "role": "developer", "kind": "personal"})),
        Err(Error::Validation(_))
    ));
    let (_, made) =
        w.create(&org_admin, json!({"label": "a", "role": "developer", "kind": "personal", "owner_member_id": dev_id}));
    let v = w.token_json(&o.admin_secret, &made).unwrap();
    assert_eq!(v["created_with"], w.actor(&org_admin).token.as_ref().unwrap().id.as_str());
    // a developer org token reaches nothing and can create nothing
    let (org_dev, _) = w.create(
        &o.admin_secret,
        json!({"label": "reader", "role": "developer", "kind": "org", "scopes": ["keyward:manage"]}),
    );
    let od = w.actor(&org_dev);
    assert!(block_on(w.svc.list_tokens(&od, &TokenQuery::default(), w.now())).unwrap().0.is_empty());
    assert!(matches!(
        w.try_create(&org_dev, json!({"label": "a", "role": "developer", "kind": "personal"})),
        Err(Error::Forbidden(_))
    ));
}

#[test]
fn other_org_admin_sees_nothing() {
    let w = World::new();
    let a = w.org("Acme", &[]);
    let b = w.org("Beta", &[]);
    let beta = w.actor(&b.admin_secret);
    assert_eq!(block_on(w.svc.get_token(&beta, &a.admin_token_id, w.now())).unwrap_err(), Error::NotFound);
    assert_eq!(
        block_on(w.svc.revoke_token(
            &beta,
            &a.admin_token_id,
            &form(json!({"confirm_label": "Initial admin token"})),
            w.now()
        ))
        .unwrap_err(),
        Error::NotFound
    );
    assert_eq!(
        block_on(w.svc.update_member(&beta, &a.admin_id, &form(json!({"name": "x"})), w.now())).unwrap_err(),
        Error::NotFound
    );
    let (rows, _) = block_on(w.svc.list_tokens(&beta, &TokenQuery::default(), w.now())).unwrap();
    assert_eq!(rows.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), [b.admin_token_id.as_str()]);
    assert_eq!(block_on(w.svc.members(&beta)).unwrap().len(), 1);
}

#[test]
fn unusable_tokens_do_not_authenticate() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let admin = w.actor(&o.admin_secret);
    let (s, id) =
        w.create(&o.admin_secret, json!({"label": "x", "role": "admin", "kind": "org", "expires_in_days": 1}));
    assert!(w.auth(&s).is_ok());
    for bad in ["", "Bearer", "kw_0000000000000000000000000000003wuQEo", "not a token"] {
        assert_eq!(w.auth(bad).unwrap_err(), Error::Unauthenticated);
    }
    block_on(w.svc.disable_token(&admin, &id, &no_body(), w.now())).unwrap();
    assert_eq!(w.auth(&s).unwrap_err(), Error::Unauthenticated);
    block_on(w.svc.enable_token(&admin, &id, &no_body(), w.now())).unwrap();
    block_on(w.svc.revoke_token(&admin, &id, &form(json!({"confirm_label": "x"})), w.now())).unwrap();
    assert_eq!(w.auth(&s).unwrap_err(), Error::Unauthenticated);
    block_on(w.svc.reapprove_token(&admin, &id, &no_body(), w.now())).unwrap();
    assert!(w.auth(&s).is_ok());
    w.advance_seconds(86_400);
    assert_eq!(w.auth(&s).unwrap_err(), Error::Unauthenticated);
}

/// The use case reads its typed input only after deciding the caller: a body full of wrong
/// types and unknown fields still hears 404 outside reach and 403 above the role, and inside
/// reach every bad field is answered at once.
#[test]
fn bad_input_is_judged_after_the_caller() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (_, dev, _) = w.member_with_token(&o.admin_secret, "dev@acme.io", "developer");
    let d = w.actor(&dev);
    let bad = json!({"label": 7, "scopes": "billing", "role": ["admin"], "bogus": true});
    assert_eq!(
        block_on(w.svc.update_token(&d, &o.admin_token_id, form(bad.clone()), w.now())).unwrap_err(),
        Error::NotFound
    );
    assert!(matches!(block_on(w.svc.create_member(&d, &form(bad.clone()), w.now())), Err(Error::Forbidden(_))));
    assert!(matches!(
        block_on(w.svc.put_webhook(&d, &form(json!({"url": 1})), false, w.now())),
        Err(Error::Forbidden(_))
    ));
    // Bodyless endpoints too: a body they do not take is judged after the caller.
    let extra = || form(json!({"zzz": 1}));
    assert_eq!(block_on(w.svc.disable_token(&d, &o.admin_token_id, &extra(), w.now())).unwrap_err(), Error::NotFound);
    assert!(matches!(block_on(w.svc.reconcile(&d, &extra(), w.now())), Err(Error::Forbidden(_))));
    // Refusals that depend on what the body asks for come before its other faults.
    let ask = |body: serde_json::Value| block_on(w.svc.create_token(&d, form(body), w.now())).err();
    assert!(matches!(
        ask(json!({"label": 1, "kind": "org", "role": "developer"})),
        Some(Error::Forbidden(keyward::service::Denied::AdminOnly { .. }))
    ));
    assert_eq!(
        ask(json!({"label": "x", "kind": "personal", "role": "admin", "scopes": 5})),
        Some(Error::Forbidden(keyward::service::Denied::RoleAboveCaller))
    );
    assert_eq!(
        ask(json!({"label": "x", "kind": "personal", "role": "developer", "owner_member_id": o.admin_id, "scopes": 5})),
        Some(Error::Forbidden(keyward::service::Denied::OthersPersonalToken))
    );
    let (_, own) = w.create(&dev, json!({"label": "mine", "role": "developer", "kind": "personal"}));
    assert_eq!(
        block_on(w.svc.update_token(&d, &own, form(json!({"role": "admin", "label": 5})), w.now())).unwrap_err(),
        Error::Forbidden(keyward::service::Denied::RoleAboveCaller)
    );
    // A developer's org token has no member to make a personal token for.
    let (bot, _) = w.create(
        &o.admin_secret,
        json!({"label": "bot", "role": "developer", "kind": "org", "scopes": ["keyward:manage"]}),
    );
    let bot_asks = form(json!({"label": "", "kind": "personal", "role": "developer", "zzz": 1}));
    assert_eq!(
        block_on(w.svc.create_token(&w.actor(&bot), bot_asks, w.now())).unwrap_err(),
        Error::Forbidden(keyward::service::Denied::OthersPersonalToken)
    );
    let a = w.actor(&o.admin_secret);
    // Undoing an admin's disable is refused before the body is judged.
    block_on(w.svc.disable_token(&a, &own, &no_body(), w.now())).unwrap();
    assert_eq!(
        block_on(w.svc.enable_token(&d, &own, &extra(), w.now())).unwrap_err(),
        Error::Forbidden(keyward::service::Denied::RestrictionNotYours)
    );
    block_on(w.svc.enable_token(&a, &own, &no_body(), w.now())).unwrap();
    let Err(Error::Validation(e)) = block_on(w.svc.disable_token(&a, &own, &extra(), w.now())) else {
        panic!("an admin hears about the body")
    };
    assert_eq!(e["zzz"], "unknown field");
    let Err(Error::Validation(e)) = block_on(w.svc.update_token(&a, &o.admin_token_id, form(bad), w.now())) else {
        panic!("refused with every field")
    };
    assert_eq!(e.keys().map(String::as_str).collect::<Vec<_>>(), ["bogus", "label", "role", "scopes"]);
    assert_eq!(e["label"], "must be a string");
    assert_eq!(e["scopes"], "must be a list of strings");
    assert_eq!(e["bogus"], "unknown field");
}

/// Refusals carry typed reasons a caller can act on, and each reads as before.
#[test]
fn refusals_say_why_by_kind() {
    use keyward::domain::policy::Refused;
    use keyward::service::{Conflict, Denied};
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (_, dev, _) = w.member_with_token(&o.admin_secret, "dev@acme.io", "developer");
    let d = w.actor(&dev);
    let a = w.actor(&o.admin_secret);
    let refused = |r: Result<keyward::service::Issued, Error>| r.err();
    assert_eq!(
        refused(block_on(w.svc.create_token(
            &d,
            form(json!({"label": "a", "role": "admin", "kind": "personal"})),
            w.now()
        ))),
        Some(Error::Forbidden(Denied::RoleAboveCaller))
    );
    assert_eq!(
        refused(block_on(w.svc.create_token(
            &d,
            form(json!({"label": "a", "role": "developer", "kind": "personal", "owner_member_id": o.admin_id})),
            w.now()
        ))),
        Some(Error::Forbidden(Denied::OthersPersonalToken))
    );
    let Err(Error::Forbidden(Denied::AdminOnly { task })) = block_on(w.svc.members(&d)) else { panic!("admins only") };
    assert_eq!(Error::Forbidden(Denied::AdminOnly { task }).detail(), "only admins can list members");
    let dup = json!({"email": "DEV@acme.io", "name": "Dev", "role": "developer"});
    assert_eq!(
        block_on(w.svc.create_member(&a, &form(dup), w.now())).unwrap_err(),
        Error::Conflict(Conflict::EmailTaken)
    );
    let demote = json!({"role": "developer"});
    assert_eq!(
        block_on(w.svc.update_member(&a, &o.admin_id, &form(demote), w.now())).unwrap_err(),
        Error::Conflict(Conflict::LastAdmin)
    );
    let (_, id) = w.create(&o.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org"}));
    block_on(w.svc.revoke_token(&a, &id, &form(json!({"confirm_label": "ci"})), w.now())).unwrap();
    let again = block_on(w.svc.revoke_token(&a, &id, &form(json!({"confirm_label": "ci"})), w.now())).unwrap_err();
    assert_eq!(again, Error::Conflict(Conflict::Transition(Refused::AlreadyRevoked)));
    assert_eq!(again.detail(), "the token is already revoked");
}

/// Every bad query parameter is answered at once, a cursor from elsewhere included.
#[test]
fn bad_query_parameters_all_at_once() {
    use keyward::service::{AuditQuery, TokenQuery};
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let other = w.org("Other", &["billing"]);
    let a = w.actor(&o.admin_secret);
    for _ in 0..101 {
        w.create(&other.admin_secret, json!({"label": "t", "role": "developer", "kind": "org"}));
    }
    let (_, elsewhere) =
        block_on(w.svc.list_tokens(&w.actor(&other.admin_secret), &TokenQuery::default(), w.now())).unwrap();
    let elsewhere = elsewhere.expect("a second page");
    let q = TokenQuery {
        kind: Some("bogus".into()),
        status: Some("bogus".into()),
        owner: Some("alice@example.com".into()),
        external_id: Some("has space".into()),
        cursor: Some(elsewhere.clone()),
    };
    let Err(Error::Validation(e)) = block_on(w.svc.list_tokens(&a, &q, w.now())) else { panic!("refused") };
    assert_eq!(e.keys().map(String::as_str).collect::<Vec<_>>(), ["cursor", "external_id", "kind", "owner", "status"]);
    let q = AuditQuery {
        target: Some("evt_0123456789abcdefghij".into()), // an id, but no event is a target
        actor_token: Some(o.admin_secret.clone()),       // a secret is not a token id
        limit: Some("0".into()),
        cursor: Some("junk".into()),
    };
    let Err(Error::Validation(e)) = block_on(w.svc.audit_events(&a, &q)) else { panic!("refused") };
    assert_eq!(e.keys().map(String::as_str).collect::<Vec<_>>(), ["actor_token", "cursor", "limit", "target"]);
    assert!(!format!("{e:?}").contains(&o.admin_secret[3..]), "the secret is not quoted back");
    // Well-formed ids that name nothing list nothing.
    let q = AuditQuery { target: Some("org_0123456789abcdefghij".into()), ..AuditQuery::default() };
    assert_eq!(block_on(w.svc.audit_events(&a, &q)).unwrap(), (vec![], None));
    let q = TokenQuery { owner: Some("mem_0123456789abcdefghij".into()), ..TokenQuery::default() };
    assert!(block_on(w.svc.list_tokens(&a, &q, w.now())).unwrap().0.is_empty());
    // A good cursor alone still pages.
    let q = TokenQuery { cursor: Some(elsewhere), ..TokenQuery::default() };
    assert!(block_on(w.svc.list_tokens(&w.actor(&other.admin_secret), &q, w.now())).is_ok());
}

/// An admin's org token must name a personal token's owner, said with the form's other faults.
#[test]
fn an_org_token_names_the_owner_with_the_other_faults() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (ops, _) = w
        .create(&o.admin_secret, json!({"label": "ops", "role": "admin", "kind": "org", "scopes": ["keyward:manage"]}));
    let body = form(json!({"kind": "personal", "label": "", "role": "developer", "scopes": ["billing"]}));
    let Err(Error::Validation(e)) = block_on(w.svc.create_token(&w.actor(&ops), body, w.now())) else {
        panic!("refused")
    };
    assert_eq!(e.keys().map(String::as_str).collect::<Vec<_>>(), ["label", "owner_member_id"]);
    assert_eq!(e["owner_member_id"], "is required when an org token creates a personal token");
    let alone = form(json!({"kind": "personal", "label": "x", "role": "developer"}));
    let Err(Error::Validation(e)) = block_on(w.svc.create_token(&w.actor(&ops), alone, w.now())) else {
        panic!("refused")
    };
    assert_eq!(e.keys().map(String::as_str).collect::<Vec<_>>(), ["owner_member_id"]);
}
