//! The operator suspends and resumes an org: its tokens verify `ORG_SUSPENDED` (strictly and,
//! through the projection, at the edge), its admin API answers 403, and nothing else changes.

use futures_executor::block_on;
use keyward::service::{Denied, Error, Operator};
use serde_json::json;

use crate::support::*;

fn operator() -> Operator {
    Operator::authenticate(Some("op"), Some("op")).unwrap()
}

#[test]
fn a_suspended_org_answers_for_no_token_until_it_is_resumed() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let other = w.org("Other", &["billing"]);
    let (secret, id) = w.create(&o.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org"}));
    let (paid, paid_id) = w.create(
        &o.admin_secret,
        json!({"label": "paid", "role": "developer", "kind": "org", "credits": {"remaining": 3}}),
    );
    let a = w.actor(&o.admin_secret);
    let (v, changed) = block_on(w.svc.set_suspended(&operator(), &o.id, true, w.now())).unwrap();
    assert!(v.suspended_at.is_some() && changed);
    for s in [&secret, &paid] {
        assert_eq!(w.verify_strict(s, &[]), "ORG_SUSPENDED");
        assert_eq!(w.edge_code(s), "ORG_SUSPENDED");
    }
    // the admin API: authenticated, then refused
    assert!(matches!(w.auth(&o.admin_secret), Err(Error::Forbidden(Denied::OrgSuspended))));
    // another org is not touched
    assert!(w.auth(&other.admin_secret).is_ok());
    // suspending again changes nothing; resuming restores every token as it was
    let (again, changed) = block_on(w.svc.set_suspended(&operator(), &o.id, true, w.now())).unwrap();
    assert_eq!((again.suspended_at, again.version, changed), (v.suspended_at.clone(), v.version, false));
    let (back, _) = block_on(w.svc.set_suspended(&operator(), &o.id, false, w.now())).unwrap();
    assert_eq!(back.suspended_at, None);
    assert_eq!((w.verify_strict(&secret, &[]), w.edge_code(&secret)), ("VALID".into(), "VALID".into()));
    let view = w.token_json(&o.admin_secret, &paid_id).unwrap();
    assert_eq!(view["credits"]["remaining"], 3, "suspended verifications spent nothing");
    assert_eq!(w.token_json(&o.admin_secret, &id).unwrap()["status"], "active");
    // both are in the org's audit log, as the operator's
    let (events, _) = block_on(w.svc.audit_events(&a, &keyward::service::AuditQuery::default())).unwrap();
    let ours: Vec<_> = events.iter().filter(|e| e.target_id == o.id && e.summary.contains("by the operator")).collect();
    assert_eq!(ours.len(), 2, "{ours:?}");
    assert!(ours.iter().all(|e| e.actor_token_id.is_none() && serde_json::to_value(e.acted_by).unwrap() == "operator"));
    // an org nobody has
    let none = block_on(w.svc.operator_org(&operator(), &w.new_org_id()));
    assert!(matches!(none, Err(Error::NotFound)));
}
