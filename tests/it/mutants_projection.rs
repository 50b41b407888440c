//! Draining the verify projection's outbox: how refused writes are counted and how much one
//! drain copies. Tests added for mutants cargo-mutants found unchecked in
//! `src/service/projection.rs` (issue #14).

use futures_executor::block_on;
use keyward::service::Drained;
use serde_json::json;

use crate::support::*;

/// KV writes the authority still owes (its outbox rows).
fn owed(w: &World) -> usize {
    w.store().dump().keys().filter(|k| k.starts_with("x:")).count()
}

/// Create `n` org tokens while KV refuses every write: each leaves a write owed.
fn tokens_while_kv_refuses(w: &World, admin: &str, n: usize) {
    let a = w.actor(admin);
    w.kv().fail_writes(true);
    for i in 0..n {
        let body = json!({"label": format!("t{i}"), "role": "developer", "kind": "org", "scopes": ["billing"]});
        block_on(w.svc.create_token(&a, &body, w.now())).expect("the records commit; KV is owed");
    }
}

#[test]
fn a_drain_that_kv_refuses_counts_each_owed_write_once_and_stops() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    tokens_while_kv_refuses(&w, &o.admin_secret, 3);
    let n = owed(&w);
    assert!(n >= 3, "{n}");
    assert_eq!(block_on(w.svc.project(w.now())).unwrap(), Drained { written: 0, failed: n });
    assert_eq!(owed(&w), n, "still owed");
    w.kv().fail_writes(false);
    assert_eq!(block_on(w.svc.project(w.now())).unwrap(), Drained { written: n, failed: 0 });
    assert!(!block_on(w.svc.projection_pending()).unwrap());
}

#[test]
fn one_drain_copies_more_than_one_batch() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    tokens_while_kv_refuses(&w, &o.admin_secret, 140);
    let n = owed(&w);
    assert!(n >= 140, "{n}");
    w.kv().fail_writes(false);
    assert_eq!(block_on(w.svc.project(w.now())).unwrap(), Drained { written: n, failed: 0 });
    assert!(!block_on(w.svc.projection_pending()).unwrap());
}
