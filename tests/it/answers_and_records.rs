//! Problem answers, leak reports at the edges of a rotation's grace, and what member and org
//! edits record.
//! (Many were first written to pin behaviour mutation testing found unchecked; docs/ASSURANCE.md.)

use futures_executor::block_on;
use keyward::domain::policy::Refused;
use keyward::domain::Action;
use keyward::service::{Conflict, Denied, Error, Reporter};
use serde_json::json;

use crate::support::*;
use keyward::service::AuditQuery;

// (Every problem's status, code and title: `server::problem`'s own unit test, where HTTP lives.)

#[test]
fn details_carry_the_reason_and_numbers_but_never_internals() {
    assert_eq!(Error::Forbidden(Denied::AdminOnly { task: "x" }).detail(), "only admins can x");
    assert_eq!(Error::Conflict(Conflict::Transition(Refused::AlreadyRevoked)).detail(), "the token is already revoked");
    assert_eq!(Error::BadRequest("not JSON").detail(), "not JSON");
    assert!(Error::LimitReached { limit: 7 }.detail().contains("holds 7 personal tokens"));
    let internal = Error::Internal("store: disk on fire".into());
    assert!(!internal.detail().contains("disk"));
    assert!(internal.detail().starts_with("Something went wrong on our side"));
    // what is logged: the kind and detail, and for 500s the internal reason
    assert_eq!(Error::NotFound.to_string(), "NotFound: No such object in your reach.");
    assert_eq!(internal.to_string(), "INTERNAL: store: disk on fire");
}

fn scanner() -> Reporter {
    Reporter::Scanner { source: "content".into(), url: "https://github.com/acme/app/blob/main/.env".into() }
}

fn report(w: &World, secret: &str) -> bool {
    let at = block_on(w.svc.locate(secret, &keyward::domain::legacy::LegacyFormats::none())).unwrap().expect("located");
    block_on(w.svc.report(secret, &at, &scanner(), w.now())).unwrap()
}

fn version(w: &World, admin: &str, id: &str) -> u64 {
    block_on(w.svc.get_token(&w.actor(admin), id, w.now())).unwrap().version
}

#[test]
fn a_reported_current_secret_is_revoked_even_while_its_predecessor_is_in_grace() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (_, id) = w.create(&o.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org"}));
    let admin = w.actor(&o.admin_secret);
    let new = block_on(w.svc.rotate_token(&admin, &id, &form(json!({"grace_seconds": 3600})), w.now())).unwrap().secret;
    let before = version(&w, &o.admin_secret, &id);
    assert!(report(&w, &new));
    assert_eq!(w.verify(&new, &[]), "REVOKED");
    assert_eq!(version(&w, &o.admin_secret, &id), before + 1);
    let v = w.token_json(&o.admin_secret, &id).unwrap();
    assert_eq!((v["state"].clone(), v["state_set_by"].clone()), (json!("revoked"), json!("report")));
}

#[test]
fn a_previous_secret_reported_at_the_instant_its_grace_ends_is_a_false_positive() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (old, id) = w.create(&o.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org"}));
    let admin = w.actor(&o.admin_secret);
    let new = block_on(w.svc.rotate_token(&admin, &id, &form(json!({"grace_seconds": 60})), w.now())).unwrap().secret;
    w.advance_seconds(60);
    let before = version(&w, &o.admin_secret, &id);
    assert!(!report(&w, &old));
    assert_eq!(version(&w, &o.admin_secret, &id), before, "nothing changed");
    assert_eq!(w.verify(&new, &[]), "VALID");
}

#[test]
fn a_report_that_ends_a_grace_counts_as_a_new_version() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (old, id) = w.create(&o.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org"}));
    let admin = w.actor(&o.admin_secret);
    block_on(w.svc.rotate_token(&admin, &id, &form(json!({"grace_seconds": 60})), w.now())).unwrap();
    let before = version(&w, &o.admin_secret, &id);
    assert!(report(&w, &old));
    assert_eq!(version(&w, &o.admin_secret, &id), before + 1);
}

#[test]
fn a_report_of_a_token_its_developer_revoked_counts_as_a_new_version() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (_, dev, _) = w.member_with_token(&o.admin_secret, "d@acme.io", "developer");
    let (s, id) = w.create(&dev, json!({"label": "laptop", "role": "developer", "kind": "personal"}));
    block_on(w.svc.revoke_token(&w.actor(&dev), &id, &form(json!({"confirm_label": "laptop"})), w.now())).unwrap();
    let before = version(&w, &o.admin_secret, &id);
    assert!(before > 1);
    assert!(!report(&w, &s));
    assert_eq!(version(&w, &o.admin_secret, &id), before + 1, "state_set_by changed: a new version");
}

#[test]
fn org_and_member_edits_count_one_version_each() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let a = w.actor(&o.admin_secret);
    let v0 = a.org.version;
    let org = block_on(w.svc.update_org(&a, &form(json!({"name": "Acme 2"})), w.now())).unwrap();
    assert_eq!(org.version, v0 + 1);
    let a = w.actor(&o.admin_secret);
    assert_eq!(block_on(w.svc.update_org(&a, &form(json!({"name": "Acme 3"})), w.now())).unwrap().version, v0 + 2);

    let (member, _, _) = w.member_with_token(&o.admin_secret, "d@acme.io", "developer");
    let a = w.actor(&o.admin_secret);
    let m0 = block_on(w.svc.members(&a)).unwrap().into_iter().find(|m| m.id == member).unwrap().version;
    let m = block_on(w.svc.update_member(&a, &member, &form(json!({"name": "Dee"})), w.now())).unwrap();
    assert_eq!(m.version, m0 + 1);
    let m = block_on(w.svc.update_member(&a, &member, &form(json!({"name": "Dee 2"})), w.now())).unwrap();
    assert_eq!(m.version, m0 + 2);
}

fn member_events(w: &World, admin: &str, member: &str) -> Vec<String> {
    let (events, _) = block_on(
        w.svc.audit_events(&w.actor(admin), &AuditQuery { target: Some(member.to_owned()), ..AuditQuery::default() }),
    )
    .unwrap();
    events.into_iter().filter(|e| e.action == Action::MemberUpdated).map(|e| e.summary).collect()
}

fn member_notes(w: &World, admin: &str) -> Vec<String> {
    let notes = block_on(w.svc.notifications(&w.actor(admin))).unwrap();
    notes.into_iter().filter(|n| n.kind == Action::MemberUpdated).map(|n| n.body).collect()
}

#[test]
fn member_edits_are_described_by_what_changed() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (member, _, _) = w.member_with_token(&o.admin_secret, "d@acme.io", "developer");
    let edit = |body: serde_json::Value| {
        block_on(w.svc.update_member(&w.actor(&o.admin_secret), &member, &form(body.clone()), w.now())).unwrap();
    };

    edit(json!({"name": "Dee"}));
    assert_eq!(member_events(&w, &o.admin_secret, &member)[0], "d@acme.io: name to \"Dee\"");
    assert!(member_notes(&w, &o.admin_secret).is_empty(), "a new name is not security-relevant");

    edit(json!({"role": "admin"}));
    assert_eq!(member_events(&w, &o.admin_secret, &member)[0], "d@acme.io: role to admin");
    let notes = member_notes(&w, &o.admin_secret);
    assert!(!notes.is_empty() && notes.iter().all(|b| b.contains(": role changed to admin.")), "{notes:?}");

    edit(json!({"status": "deactivated"}));
    assert_eq!(member_events(&w, &o.admin_secret, &member)[0], "d@acme.io: deactivated");
    let notes = member_notes(&w, &o.admin_secret);
    assert!(notes[0].contains(": deactivated.") && !notes[0].contains("role changed"), "{notes:?}");

    edit(json!({"status": "active", "role": "developer", "name": "Dee D"}));
    assert_eq!(
        member_events(&w, &o.admin_secret, &member)[0],
        "d@acme.io: name to \"Dee D\", role to developer, reactivated"
    );
    let notes = member_notes(&w, &o.admin_secret);
    assert!(notes[0].contains(": reactivated, role changed to developer."), "{notes:?}");
}
