//! Draining the verify projection's outbox: how refused writes are counted and how much one
//! drain copies.
//! (Many were first written to pin behaviour mutation testing found unchecked; docs/ASSURANCE.md.)

use futures_executor::block_on;
use keyward::service::Drained;
use serde_json::json;

use crate::support::*;

/// KV writes the authority still owes (its outbox rows).
fn owed(w: &World) -> usize {
    w.store().dump().keys().filter(|k| k.starts_with(keyward::store::keys::OUTBOX)).count()
}

/// Create `n` org tokens while KV refuses every write: each leaves a write owed.
fn tokens_while_kv_refuses(w: &World, admin: &str, n: usize) {
    let a = w.actor(admin);
    w.kv().fail_writes(true);
    for i in 0..n {
        let body = json!({"label": format!("t{i}"), "role": "developer", "kind": "org", "scopes": ["billing"]});
        block_on(w.svc.create_token(&a, form(body.clone()), w.now())).expect("the records commit; KV is owed");
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

/// Forget every owed KV write, as if the outbox were lost: only reconciliation can repair KV now.
fn forget_the_outbox(w: &World) {
    let owed: Vec<String> =
        w.store().dump().into_keys().filter(|k| k.starts_with(keyward::store::keys::OUTBOX)).collect();
    for k in owed {
        block_on(keyward::store::Store::commit(w.store(), &[keyward::store::Write::Delete(k)], None)).unwrap();
    }
}

#[test]
fn reconcile_deletes_its_own_orphans_and_leaves_other_orgs_alone() {
    let w = World::new();
    let a = w.org("Acme", &["billing"]);
    let b = w.org("Bolt", &["billing"]);
    let (b_secret, _) = w.create(&b.admin_secret, json!({"label": "b", "role": "developer", "kind": "org"}));
    // An orphan of Acme's, written with its org's metadata: deleted in the records while KV
    // refused the delete, and the debt lost.
    let (orphan, id) = w.create(&a.admin_secret, json!({"label": "gone", "role": "developer", "kind": "org"}));
    let admin = w.actor(&a.admin_secret);
    w.kv().fail_writes(true);
    block_on(w.svc.delete_token(&admin, &id, &form(json!({"confirm_label": "gone"})), w.now())).unwrap();
    w.kv().fail_writes(false);
    forget_the_outbox(&w);
    assert_eq!(w.edge_code(&orphan), "VALID");

    let r = block_on(w.svc.reconcile(&w.actor(&a.admin_secret), &no_body(), w.now())).unwrap();
    assert_eq!(
        r.fixed.iter().map(|f| (f.action, f.token_id.as_deref())).collect::<Vec<_>>(),
        [("deleted", Some(id.as_str()))]
    );
    assert_eq!(r.checked, 2, "Acme's admin token and the orphan, nothing of Bolt's");
    assert_eq!(w.verify(&orphan, &[]), "NOT_FOUND");
    // Bolt's entries were neither read as Acme's nor touched
    assert_eq!(w.verify(&b_secret, &[]), "VALID");
    assert_eq!(w.verify(&b.admin_secret, &[]), "VALID");
    let r = block_on(w.svc.reconcile(&w.actor(&b.admin_secret), &no_body(), w.now())).unwrap();
    assert!(r.fixed.is_empty(), "{r:?}");
    assert_eq!(r.checked, 2);
}

#[test]
fn reconcile_writes_an_entry_kv_never_got() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let admin = w.actor(&o.admin_secret);
    w.kv().fail_writes(true);
    let body = json!({"label": "lost", "role": "developer", "kind": "org", "scopes": ["billing"]});
    let issued = block_on(w.svc.create_token(&admin, form(body.clone()), w.now())).unwrap();
    w.kv().fail_writes(false);
    forget_the_outbox(&w);
    assert_eq!(w.edge_code(&issued.secret), "NOT_FOUND");

    let r = block_on(w.svc.reconcile(&w.actor(&o.admin_secret), &no_body(), w.now())).unwrap();
    let fixed: Vec<_> = r.fixed.iter().map(|f| (f.action, f.token_id.clone())).collect();
    assert_eq!(fixed, [("written", Some(issued.token.id.clone()))]);
    assert!(!r.pending);
    assert_eq!(w.verify(&issued.secret, &["billing"]), "VALID");
}
