//! Token use cases at their edges: owners of new personal tokens, role ceilings on edits,
//! versions, what the audit log says, and the verify body's consistency.
//! (Many were first written to pin behaviour mutation testing found unchecked; docs/ASSURANCE.md.)

use futures_executor::block_on;
use keyward::domain::Action;
use keyward::service::{verify_body, Consistency, Error};
use serde_json::{json, Value};

use crate::support::*;
use keyward::service::AuditQuery;

fn field_error(r: Result<(String, String), Error>, field: &str) -> String {
    match r {
        Err(Error::Validation(e)) => e.get(field).cloned().unwrap_or_else(|| panic!("{e:?}")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_org_token_must_name_the_owner_of_a_personal_token_and_only_an_active_one() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (robot, _) = w.create(
        &o.admin_secret,
        json!({"label": "robot", "role": "admin", "kind": "org", "scopes": ["keyward:manage"]}),
    );
    let personal = json!({"label": "p", "role": "developer", "kind": "personal"});
    assert_eq!(
        field_error(w.try_create(&robot, personal.clone()), "owner_member_id"),
        "is required when an org token creates a personal token"
    );

    let (member, _, _) = w.member_with_token(&o.admin_secret, "d@acme.io", "developer");
    let for_member = json!({"label": "p", "role": "developer", "kind": "personal", "owner_member_id": member});
    assert!(w.try_create(&robot, for_member.clone()).is_ok());
    let a = w.actor(&o.admin_secret);
    block_on(w.svc.update_member(&a, &member, &form(json!({"status": "deactivated"})), w.now())).unwrap();
    assert_eq!(
        field_error(w.try_create(&robot, for_member.clone()), "owner_member_id"),
        "is not an active member of the org"
    );
    assert_eq!(
        field_error(w.try_create(&o.admin_secret, for_member), "owner_member_id"),
        "is not an active member of the org"
    );
}

#[test]
fn an_edit_may_raise_a_role_up_to_the_callers_and_the_owners_but_not_past_them() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let a = w.actor(&o.admin_secret);
    let (_, org_token) = w.create(&o.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org"}));
    // an admin may give its own role
    let t = block_on(w.svc.update_token(&a, &org_token, form(json!({"role": "admin"})), w.now())).expect("up to admin");
    assert_eq!(json!(t.role), "admin");

    // a developer may give developer (its own), not admin
    let (dev_id, dev, _) = w.member_with_token(&o.admin_secret, "d@acme.io", "developer");
    let (_, mine) = w.create(&dev, json!({"label": "mine2", "role": "developer", "kind": "personal"}));
    let d = w.actor(&dev);
    assert!(block_on(w.svc.update_token(&d, &mine, form(json!({"role": "developer"})), w.now())).is_ok());
    assert!(matches!(
        block_on(w.svc.update_token(&d, &mine, form(json!({"role": "admin"})), w.now())),
        Err(Error::Forbidden(_))
    ));

    // an admin editing a developer's personal token: up to the owner's role, not past it
    let a = w.actor(&o.admin_secret);
    assert!(block_on(w.svc.update_token(&a, &mine, form(json!({"role": "developer"})), w.now())).is_ok());
    match block_on(w.svc.update_token(&a, &mine, form(json!({"role": "admin"})), w.now())) {
        Err(Error::Validation(e)) => assert_eq!(e["role"], "must not exceed the owner's role"),
        other => panic!("{other:?}"),
    }
    // once the owner is an admin, so may the token be
    block_on(w.svc.update_member(&a, &dev_id, &form(json!({"role": "admin"})), w.now())).unwrap();
    let a = w.actor(&o.admin_secret);
    assert!(block_on(w.svc.update_token(&a, &mine, form(json!({"role": "admin"})), w.now())).is_ok());
}

#[test]
fn every_change_to_a_token_counts_one_version() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (_, id) = w.create(&o.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org"}));
    let a = w.actor(&o.admin_secret);
    let v = |w: &World| block_on(w.svc.get_token(&w.actor(&o.admin_secret), &id, w.now())).unwrap().version;
    let v0 = v(&w);
    assert_eq!(block_on(w.svc.update_token(&a, &id, form(json!({"label": "ci-2"})), w.now())).unwrap().version, v0 + 1);
    assert_eq!(block_on(w.svc.disable_token(&a, &id, &no_body(), w.now())).unwrap().version, v0 + 2);
    assert_eq!(block_on(w.svc.enable_token(&a, &id, &no_body(), w.now())).unwrap().version, v0 + 3);
    block_on(w.svc.rotate_token(&a, &id, &form(json!({})), w.now())).unwrap();
    assert_eq!(v(&w), v0 + 4);
    assert_eq!(
        block_on(w.svc.revoke_token(&a, &id, &form(json!({"confirm_label": "ci-2"})), w.now())).unwrap().version,
        v0 + 5
    );
}

fn last_summary(w: &World, admin: &str, id: &str) -> String {
    let (events, _) = block_on(
        w.svc.audit_events(&w.actor(admin), &AuditQuery { target: Some(id.to_owned()), ..AuditQuery::default() }),
    )
    .unwrap();
    events[0].summary.clone()
}

#[test]
fn the_audit_log_names_each_field_an_edit_changed() {
    let w = World::new();
    let o = w.org("Acme", &["billing", "users"]);
    let (_, id) =
        w.create(&o.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org", "scopes": ["billing"]}));
    let a = w.actor(&o.admin_secret);
    let edit = |body: Value| {
        block_on(w.svc.update_token(&a, &id, form(body.clone()), w.now())).unwrap();
        last_summary(&w, &o.admin_secret, &id)
    };
    assert_eq!(edit(json!({"label": "ci-2"})), "Edited \"ci-2\": label");
    assert_eq!(edit(json!({"description": "deploys"})), "Edited \"ci-2\": description");
    assert_eq!(edit(json!({"logo": "data:image/png;base64,iVBORw0KGgo="})), "Edited \"ci-2\": logo");
    assert_eq!(edit(json!({"scopes": ["users"]})), "Edited \"ci-2\": scopes");
    assert_eq!(edit(json!({"role": "admin"})), "Edited \"ci-2\": role");
    assert_eq!(edit(json!({"allowed_cidrs": ["10.0.0.0/8"]})), "Edited \"ci-2\": allowed networks");
    assert_eq!(
        edit(
            json!({"label": "ci-3", "description": null, "logo": null, "scopes": [], "role": "developer", "allowed_cidrs": []})
        ),
        "Edited \"ci-3\": label, description, logo, scopes, role, allowed networks"
    );
}

#[test]
fn state_changes_are_logged_with_a_capitalised_verb_and_the_masked_secret() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (secret, id) = w.create(&o.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org"}));
    let masked = keyward::domain::token::mask(&secret);
    let a = w.actor(&o.admin_secret);
    block_on(w.svc.disable_token(&a, &id, &no_body(), w.now())).unwrap();
    assert_eq!(last_summary(&w, &o.admin_secret, &id), format!("Disabled \"ci\" ({masked})"));
    block_on(w.svc.enable_token(&a, &id, &no_body(), w.now())).unwrap();
    assert_eq!(last_summary(&w, &o.admin_secret, &id), format!("Enabled \"ci\" ({masked})"));
    block_on(w.svc.revoke_token(&a, &id, &form(json!({"confirm_label": "ci"})), w.now())).unwrap();
    assert_eq!(last_summary(&w, &o.admin_secret, &id), format!("Revoked \"ci\" ({masked})"));
    let (events, _) =
        block_on(w.svc.audit_events(&a, &AuditQuery { target: Some(id.clone()), ..AuditQuery::default() })).unwrap();
    assert_eq!(events[0].action, Action::TokenRevoked);
}

#[test]
fn consistency_names_parse_and_reach_the_verify_body() {
    assert_eq!(Consistency::parse("edge"), Some(Consistency::Edge));
    assert_eq!(Consistency::parse("strict"), Some(Consistency::Strict));
    assert_eq!(Consistency::parse("Strict"), None);
    assert_eq!(Consistency::parse(""), None);
    // the detailed path (taken when the typed parse fails) reads both names, and names what is wrong
    for c in ["edge", "strict"] {
        let body = json!({"token": "kw_x", "consistency": c, "scopes": [1]}).to_string();
        assert_eq!(verify_body(body.as_bytes()).unwrap_err(), Error::BadRequest("scopes must be a list of strings"));
    }
    let body = json!({"token": "kw_x", "consistency": "weak", "scopes": [1]}).to_string();
    assert_eq!(
        verify_body(body.as_bytes()).unwrap_err(),
        Error::BadRequest("consistency must be \"edge\" or \"strict\"")
    );
    for unknown in [json!({"x": 1}), json!({"token": "kw_x", "x": 1})] {
        assert_eq!(
            verify_body(unknown.to_string().as_bytes()).unwrap_err(),
            Error::BadRequest("the body takes only token, scopes, consistency, client_ip and cost"),
            "{unknown}"
        );
    }
    let ok = verify_body(br#"{"token": "kw_x", "consistency": "strict"}"#).unwrap();
    assert_eq!(ok.consistency, Consistency::Strict);
}
