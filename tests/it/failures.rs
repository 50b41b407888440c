//! Write-failure injection at every write of create, revoke and delete: whatever fails, a
//! verifiable token is always listed, and nothing half-done verifies with more power than before.

use futures_executor::block_on;
use keyward::domain::VerifyEntry;
use keyward::store::memory::MemoryStore;
use serde_json::json;

use crate::support::*;

/// Every verify entry that would verify belongs to a token record that exists.
fn assert_invariant(store: &MemoryStore) {
    let dump = store.dump();
    for (k, e) in &dump {
        if let Some(_hash) = k.strip_prefix("v:") {
            let entry: VerifyEntry = serde_json::from_str(&e.value).unwrap();
            let record = format!("o:{}:t:{}", entry.org_id, entry.token_id);
            assert!(dump.contains_key(&record), "verifiable {} is not listed", entry.token_id);
        }
    }
}

/// Run `op` with its nth write failing, for every n until it succeeds untouched.
fn every_write(setup: impl Fn(&World) -> Box<dyn Fn(&World) -> bool + '_>) {
    for n in 1.. {
        let w = World::new();
        let op = setup(&w);
        w.store().fail_write(Some(n));
        let ok = op(&w);
        w.store().fail_write(None);
        assert_invariant(w.store());
        if ok {
            assert!(n > 2, "the operation wrote too little to be tested");
            return;
        }
    }
}

#[test]
fn create_keeps_invariant_at_every_write() {
    every_write(|w| {
        let o = w.org("Acme", &[]);
        Box::new(move |w: &World| {
            w.try_create(&o.admin_secret, json!({"label": "x", "role": "developer", "kind": "org"})).is_ok()
        })
    });
}

#[test]
fn create_org_keeps_invariant_at_every_write() {
    for n in 1..=12 {
        let w = World::new();
        w.store().fail_write(Some(n));
        let body = json!({"name": "Acme", "modules": [], "admin": {"email": "a@acme.io", "name": "A"}});
        let _ = block_on(w.svc.create_org(&body, w.now()));
        w.store().fail_write(None);
        assert_invariant(w.store());
    }
}

#[test]
fn revoke_keeps_invariant_and_fails_closed() {
    every_write(|w| {
        let o = w.org("Acme", &[]);
        let (s, id) = w.create(&o.admin_secret, json!({"label": "x", "role": "developer", "kind": "org"}));
        let admin = w.actor(&o.admin_secret);
        block_on(w.svc.rotate_token(&admin, &id, &json!({"grace_seconds": 600}), w.now())).unwrap();
        let _ = s;
        Box::new(move |w: &World| {
            let ok = block_on(w.svc.revoke_token(&admin, &id, &json!({"confirm_label": "x"}), w.now())).is_ok();
            // whatever failed, the record never says revoked while the current secret verifies
            let rec: keyward::domain::Token =
                serde_json::from_str(&w.store().dump()[&format!("o:{}:t:{}", o.id, id)].value).unwrap();
            if rec.state == keyward::domain::State::Revoked {
                let e: VerifyEntry = serde_json::from_str(&w.store().dump()[&format!("v:{}", rec.hash)].value).unwrap();
                assert_eq!(e.state, keyward::domain::State::Revoked);
            }
            ok
        })
    });
}

#[test]
fn delete_keeps_invariant_at_every_write() {
    every_write(|w| {
        let o = w.org("Acme", &[]);
        let (s, id) = w.create(&o.admin_secret, json!({"label": "x", "role": "developer", "kind": "org"}));
        let admin = w.actor(&o.admin_secret);
        let r = block_on(w.svc.rotate_token(&admin, &id, &json!({"grace_seconds": 600}), w.now())).unwrap();
        let _ = (s, r);
        block_on(w.svc.record_use(&o.id, &id, w.now())).unwrap();
        Box::new(move |w: &World| {
            block_on(w.svc.delete_token(&admin, &id, &json!({"confirm_label": "x"}), w.now())).is_ok()
        })
    });
}

#[test]
fn storage_failure_is_internal_not_a_verdict() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    w.store().fail_reads(true);
    let r = block_on(w.svc.verify(&o.admin_secret, &[] as &[&str], w.now()));
    assert!(matches!(r, Err(keyward::service::Error::Internal(_))));
    // junk never reaches storage, so it still answers
    assert_eq!(w.verify("junk", &[]), "MALFORMED");
}
