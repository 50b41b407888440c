//! A member acting without a token of their own (the operator acting for them, or their sign-in
//! session): exactly the member's rights, audited as such.

use futures_executor::block_on;
use keyward::domain::ActedBy;
use keyward::service::{AuditQuery, Error, Via};
use serde_json::json;

use crate::support::*;

#[test]
fn a_developer_acted_for_has_a_developers_rights_and_no_more() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (dev_id, _, dev_token) = w.member_with_token(&o.admin_secret, "dev@acme.io", "developer");
    let dev = block_on(w.svc.authenticate_member(&o.id, &dev_id, Via::Operator)).unwrap();
    assert!(dev.token.is_none());
    assert_eq!(dev.role, keyward::domain::Role::Developer);
    assert!(matches!(block_on(w.svc.members(&dev)), Err(Error::Forbidden(_))));
    // The admin's token is out of reach; the developer's own is not.
    assert!(matches!(block_on(w.svc.get_token(&dev, &o.admin_token_id, w.now())), Err(Error::NotFound)));
    assert!(block_on(w.svc.get_token(&dev, &dev_token, w.now())).is_ok());
    // A developer may not make an admin token, nor an org token.
    let admin_role = form(json!({"label": "x", "role": "admin", "kind": "personal"}));
    assert!(matches!(block_on(w.svc.create_token(&dev, admin_role, w.now())), Err(Error::Forbidden(_))));
    let org_kind = form(json!({"label": "x", "role": "developer", "kind": "org"}));
    assert!(matches!(block_on(w.svc.create_token(&dev, org_kind, w.now())), Err(Error::Forbidden(_))));
    // Their own personal token, with every scope a developer may grant.
    let mine = form(
        json!({"label": "mine", "role": "developer", "kind": "personal", "scopes": ["billing", "keyward:manage"]}),
    );
    let issued = block_on(w.svc.create_token(&dev, mine, w.now())).unwrap();
    let v = serde_json::to_value(&issued).unwrap();
    assert_eq!(v["token"]["owner"]["id"], dev_id.as_str(), "{v}");
    assert_eq!(v["token"]["created_by"]["id"], dev_id.as_str());
    assert_eq!(v["token"]["scopes"], json!(["billing", "keyward:manage"]));
    assert_eq!(v["token"]["created_with"], serde_json::Value::Null);
    // /v1/me names the member and no token.
    let me = serde_json::to_value(block_on(w.svc.me(&dev, w.now())).unwrap()).unwrap();
    assert_eq!(me["member"]["id"], dev_id.as_str());
    assert_eq!(me["token"], serde_json::Value::Null);
    // The audit names the operator acting for the member, with no token.
    let admin = w.actor(&o.admin_secret);
    let (events, _) = block_on(
        w.svc.audit_events(&admin, &AuditQuery { target: Some(issued.token.id.clone()), ..AuditQuery::default() }),
    )
    .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].acted_by, ActedBy::Operator);
    assert_eq!(events[0].actor_member_id.as_deref(), Some(dev_id.as_str()));
    assert_eq!(events[0].actor_token_id, None);
}

#[test]
fn an_admin_in_a_session_has_an_admins_rights_and_is_audited_as_a_session() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let admin = block_on(w.svc.authenticate_member(&o.id, &o.admin_id, Via::Session)).unwrap();
    assert_eq!(block_on(w.svc.members(&admin)).unwrap().len(), 1);
    let body = form(json!({"label": "ci", "role": "admin", "kind": "org", "scopes": ["billing", "keyward:manage"]}));
    let issued = block_on(w.svc.create_token(&admin, body, w.now())).unwrap();
    let (events, _) = block_on(
        w.svc.audit_events(&admin, &AuditQuery { target: Some(issued.token.id.clone()), ..AuditQuery::default() }),
    )
    .unwrap();
    assert_eq!(events[0].acted_by, ActedBy::Session);
    assert_eq!(events[0].actor_member_id.as_deref(), Some(o.admin_id.as_str()));
    assert_eq!(events[0].actor_token_id, None);
    // It may act on the first admin token (admin role, keyward:manage), as the admin could.
    let revoked = block_on(w.svc.revoke_token(
        &admin,
        &o.admin_token_id,
        &form(json!({"confirm_label": keyward::service::FIRST_TOKEN_LABEL})),
        w.now(),
    ));
    assert!(revoked.is_ok(), "{revoked:?}");
}

#[test]
fn only_an_active_member_of_the_org_can_be_acted_for() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let other = w.org("Other", &[]);
    let (dev_id, _, _) = w.member_with_token(&o.admin_secret, "dev@acme.io", "developer");
    let admin = w.actor(&o.admin_secret);
    block_on(w.svc.update_member(&admin, &dev_id, &form(json!({"status": "deactivated"})), w.now())).unwrap();
    for (org, member) in [(&o.id, &dev_id), (&o.id, &"mem_unknown".to_owned()), (&other.id, &o.admin_id)] {
        let refused = block_on(w.svc.authenticate_member(org, member, Via::Operator));
        assert!(matches!(refused, Err(Error::Unauthenticated)), "{org} {member}");
    }
    // Never as a token without one.
    assert!(matches!(block_on(w.svc.authenticate_member(&o.id, &o.admin_id, Via::Token)), Err(Error::Unauthenticated)));
}

#[test]
fn a_session_signs_in_the_active_member_with_that_email_until_it_is_ended_or_idle() {
    use keyward::domain::access::{csrf_matches, SESSION_IDLE_SECONDS};
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    // The email as Access gives it may differ in case.
    let started = block_on(w.svc.start_session(&o.id, "ADMIN@acme.io", w.now())).unwrap();
    assert_eq!(started.view.member.id, o.admin_id);
    assert!(csrf_matches(&started.secret, Some(&started.view.csrf_token)));
    // Only the hash is stored.
    assert!(!format!("{:?}", w.store().dump()).contains(&started.secret));
    let (a, _) = block_on(w.svc.session_actor(&o.id, &started.secret, w.now())).unwrap();
    assert_eq!((a.via, a.role, a.token.is_none()), (Via::Session, keyward::domain::Role::Admin, true));
    // Used within the idle limit, it lives on past it.
    w.advance_seconds(SESSION_IDLE_SECONDS - 60);
    assert!(block_on(w.svc.session_actor(&o.id, &started.secret, w.now())).is_ok());
    w.advance_seconds(SESSION_IDLE_SECONDS - 60);
    assert!(block_on(w.svc.session_actor(&o.id, &started.secret, w.now())).is_ok());
    // Idle too long: ended.
    w.advance_seconds(SESSION_IDLE_SECONDS);
    let idle = block_on(w.svc.session_actor(&o.id, &started.secret, w.now()));
    assert!(matches!(idle, Err(Error::Unauthenticated)));
    // Signed out: ended.
    let again = block_on(w.svc.start_session(&o.id, "admin@acme.io", w.now())).unwrap();
    block_on(w.svc.end_session(&o.id, &again.secret)).unwrap();
    assert!(matches!(block_on(w.svc.session_actor(&o.id, &again.secret, w.now())), Err(Error::Unauthenticated)));
    // Another org's session secret is nothing here; an unknown email signs in nowhere.
    assert!(matches!(block_on(w.svc.start_session(&o.id, "nobody@acme.io", w.now())), Err(Error::Unauthenticated)));
}

#[test]
fn a_deactivated_member_neither_signs_in_nor_keeps_a_session_and_leaves_the_email_index() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let (dev_id, _, _) = w.member_with_token(&o.admin_secret, "Dev@acme.io", "developer");
    block_on(w.svc.project(w.now())).unwrap();
    let index = keyward::store::keys::member_email("dev@ACME.io", &o.id);
    assert_eq!(w.kv().dump().get(&index).map(|e| e.value.clone()), Some(dev_id.clone()));
    let s = block_on(w.svc.start_session(&o.id, "dev@acme.io", w.now())).unwrap();
    let admin = w.actor(&o.admin_secret);
    block_on(w.svc.update_member(&admin, &dev_id, &form(json!({"status": "deactivated"})), w.now())).unwrap();
    block_on(w.svc.project(w.now())).unwrap();
    assert!(!w.kv().dump().contains_key(&index));
    assert!(matches!(block_on(w.svc.session_actor(&o.id, &s.secret, w.now())), Err(Error::Unauthenticated)));
    assert!(matches!(block_on(w.svc.start_session(&o.id, "dev@acme.io", w.now())), Err(Error::Unauthenticated)));
    // reactivated, the member signs in anew; the old session stays dead (a stolen cookie with it)
    block_on(w.svc.update_member(&admin, &dev_id, &form(json!({"status": "active"})), w.now())).unwrap();
    assert!(matches!(block_on(w.svc.session_actor(&o.id, &s.secret, w.now())), Err(Error::Unauthenticated)));
    assert!(block_on(w.svc.start_session(&o.id, "dev@acme.io", w.now())).is_ok());
}

#[test]
fn a_deactivation_ends_sessions_that_were_never_used_while_it_lasted() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let (dev_id, _, _) = w.member_with_token(&o.admin_secret, "dev@acme.io", "developer");
    let s = block_on(w.svc.start_session(&o.id, "dev@acme.io", w.now())).unwrap();
    let other = block_on(w.svc.start_session(&o.id, "admin@acme.io", w.now())).unwrap();
    let admin = w.actor(&o.admin_secret);
    block_on(w.svc.update_member(&admin, &dev_id, &form(json!({"status": "deactivated"})), w.now())).unwrap();
    block_on(w.svc.update_member(&admin, &dev_id, &form(json!({"status": "active"})), w.now())).unwrap();
    assert!(matches!(block_on(w.svc.session_actor(&o.id, &s.secret, w.now())), Err(Error::Unauthenticated)));
    assert!(block_on(w.svc.session_actor(&o.id, &other.secret, w.now())).is_ok(), "another member's session holds");
}

#[test]
fn reconcile_writes_the_sign_in_index_again() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    block_on(w.svc.project(w.now())).unwrap();
    let index = keyward::store::keys::member_email("admin@acme.io", &o.id);
    assert!(w.kv().dump().contains_key(&index));
    // Lost (or written before the index existed): a reconcile brings it back.
    block_on(keyward::store::Kv::delete(w.kv(), &index)).unwrap();
    let admin = w.actor(&o.admin_secret);
    block_on(w.svc.reconcile(&admin, &no_body(), w.now())).unwrap();
    block_on(w.svc.project(w.now())).unwrap();
    assert_eq!(w.kv().dump().get(&index).map(|e| e.value.clone()), Some(o.admin_id.clone()));
}
