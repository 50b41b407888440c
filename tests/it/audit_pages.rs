//! The audit log's pages and filters, and last uses, through the public use cases.
//! (Many were first written to pin behaviour mutation testing found unchecked; docs/ASSURANCE.md.)

use futures_executor::block_on;
use keyward::domain::Action;
use keyward::service::views::AuditEventView;
use serde_json::json;

use crate::support::*;
use keyward::service::AuditQuery;

fn audit(
    w: &World,
    admin: &str,
    target: Option<&str>,
    by: Option<&str>,
    cursor: Option<&str>,
    limit: Option<&str>,
) -> (Vec<AuditEventView>, Option<String>) {
    block_on(w.svc.audit_events(
        &w.actor(admin),
        &AuditQuery {
            target: target.map(str::to_owned),
            actor_token: by.map(str::to_owned),
            cursor: cursor.map(str::to_owned),
            limit: limit.map(str::to_owned),
        },
    ))
    .unwrap()
}

#[test]
fn a_recorded_use_shows_as_the_tokens_last_use() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let (_, id) = w.create(&o.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org"}));
    assert_eq!(w.token_json(&o.admin_secret, &id).unwrap()["last_used_at"], json!(null));
    w.advance_seconds(90);
    let used = w.now();
    block_on(w.svc.edge().put_last_used(&o.id, &id, used)).unwrap();
    w.advance_seconds(10);
    assert_eq!(w.token_json(&o.admin_secret, &id).unwrap()["last_used_at"], json!(used.to_rfc3339()));
}

#[test]
fn pages_of_the_audit_log_are_newest_first_and_follow_their_cursor() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    for i in 0..4 {
        w.create(&o.admin_secret, json!({"label": format!("t{i}"), "role": "developer", "kind": "org"}));
    }
    let (all, end) = audit(&w, &o.admin_secret, None, None, None, None);
    assert!(end.is_none() && all.len() >= 7, "{}", all.len());
    let (first, cursor) = audit(&w, &o.admin_secret, None, None, None, Some("2"));
    assert_eq!(first.iter().map(|e| &e.id).collect::<Vec<_>>(), all[..2].iter().map(|e| &e.id).collect::<Vec<_>>());
    let cursor = cursor.expect("more to read");
    let (second, _) = audit(&w, &o.admin_secret, None, None, Some(&cursor), Some("2"));
    assert_eq!(second.iter().map(|e| &e.id).collect::<Vec<_>>(), all[2..4].iter().map(|e| &e.id).collect::<Vec<_>>());
}

#[test]
fn filtered_reads_skip_pages_without_a_match_and_keep_only_matches() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let (robot, robot_id) = w.create(
        &o.admin_secret,
        json!({"label": "robot", "role": "admin", "kind": "org", "scopes": ["keyward:manage"]}),
    );
    // one change by the robot, then several by the first admin token
    let (_, by_robot) = w.create(&robot, json!({"label": "made-by-robot", "role": "developer", "kind": "org"}));
    for i in 0..5 {
        w.create(&o.admin_secret, json!({"label": format!("t{i}"), "role": "developer", "kind": "org"}));
    }
    // with pages of one, the robot's change lies several pages back
    let (found, _) = audit(&w, &o.admin_secret, None, Some(&robot_id), None, Some("1"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].action, found[0].target_id.as_str()), (Action::TokenCreated, by_robot.as_str()));
    assert_eq!(found[0].actor_token_id.as_deref(), Some(robot_id.as_str()));
    // unpaged, the filter keeps exactly the robot's events
    let (all, _) = audit(&w, &o.admin_secret, None, Some(&robot_id), None, None);
    assert!(!all.is_empty() && all.iter().all(|e| e.actor_token_id.as_deref() == Some(robot_id.as_str())));
    let (admin_made, _) = audit(&w, &o.admin_secret, None, Some(&o.admin_token_id), None, None);
    assert_eq!(admin_made.len(), 6, "the robot and five tokens");
    assert!(admin_made.iter().all(|e| e.actor_token_id.as_deref() == Some(o.admin_token_id.as_str())));
    // and by target
    let (about, _) = audit(&w, &o.admin_secret, Some(&by_robot), None, None, Some("1"));
    assert_eq!(about.len(), 1);
    assert_eq!(about[0].target_id, by_robot);
}
