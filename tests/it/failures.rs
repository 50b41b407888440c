//! Failure injection at every write of every use case, in both stores: whatever fails, no
//! secret verifies at the edge unless the authority holds it (as a live record, or as a KV write
//! it still owes), and once KV accepts writes again the edge agrees with the records exactly.

use futures_executor::block_on;
use keyward::domain::projection::entries;
use keyward::domain::{Member, Token};
use keyward::service::Error;
use keyward::store::keys;
use serde_json::{json, Value};

use crate::support::*;

/// Every secret handed out so far in a scenario.
type Secrets = Vec<String>;
/// A use case under test: returns whether it succeeded.
type Op = Box<dyn Fn(&World, &mut Secrets) -> bool>;

/// No orphan: every `v:` key in KV is called for by a token record, or owed by the outbox.
fn assert_no_orphans(w: &World) {
    let records = w.store().dump();
    let members: Vec<Member> =
        records.iter().filter(|(k, _)| k.contains(":m:")).map(|(_, v)| serde_json::from_str(v).unwrap()).collect();
    let mut held = std::collections::HashSet::new();
    for (k, v) in &records {
        if k.contains(":t:") {
            let t: Token = serde_json::from_str(v).unwrap();
            let owner = members.iter().find(|m| Some(&m.id) == t.owner_member_id.as_ref());
            held.extend(entries(&t, (owner, false), w.now()).into_iter().map(|(h, _)| h));
        }
    }
    for key in w.kv().dump().keys() {
        if let Some(hash) = keys::verify_hash(key) {
            let owed = records.contains_key(&keys::outbox(key));
            assert!(held.contains(hash) || owed, "a verify entry the authority does not hold");
        }
    }
}

/// Drain what is owed, then the edge and the records agree on every secret.
fn assert_converged(w: &World, secrets: &Secrets) {
    let drained = block_on(w.svc.project(w.now())).unwrap();
    assert_eq!(drained.failed, 0);
    assert!(!block_on(w.svc.projection_pending()).unwrap());
    for s in secrets {
        let edge = w.edge_code(s);
        assert_eq!(edge, w.verify_strict(s, &[]), "edge and records disagree after convergence");
    }
}

/// A world with an org, a developer member with a personal token, and an org token rotated
/// once with grace (so there is a secret in grace). Returns the world's secrets and the ids.
struct Setup {
    secrets: Secrets,
    admin: String,
    dev_member: String,
    org_token: String,
    personal_token: String,
}

fn setup(w: &World) -> Setup {
    let o = w.org("Acme", &["billing", "users:read"]);
    let (dev_member, dev_secret, personal_token) = w.member_with_token(&o.admin_secret, "dev@acme.io", "developer");
    let (s, org_token) =
        w.create(&o.admin_secret, json!({"label": "x", "role": "developer", "scopes": ["billing"], "kind": "org"}));
    let admin = w.actor(&o.admin_secret);
    let r = block_on(w.svc.rotate_token(&admin, &org_token, &form(json!({"grace_seconds": 600})), w.now())).unwrap();
    block_on(w.svc.edge().put_last_used(&o.id, &org_token, w.now())).unwrap();
    Setup {
        secrets: vec![o.admin_secret.clone(), dev_secret, s, r.secret],
        admin: o.admin_secret,
        dev_member,
        org_token,
        personal_token,
    }
}

/// Every use case that changes something, each as an [`Op`] over a fresh [`setup`].
fn use_cases(s: &Setup) -> Vec<(&'static str, Op)> {
    fn call(w: &World, caller: &str, f: impl FnOnce(&keyward::service::Actor) -> Result<Value, Error>) -> bool {
        let a = w.actor(caller);
        f(&a).is_ok()
    }
    let (admin, t, p, m) = (s.admin.clone(), s.org_token.clone(), s.personal_token.clone(), s.dev_member.clone());
    let mut out: Vec<(&'static str, Op)> = Vec::new();
    {
        let admin = admin.clone();
        out.push((
            "create",
            Box::new(move |w, secrets| {
                match w.try_create(&admin, json!({"label": "n", "role": "developer", "kind": "org"})) {
                    Ok((secret, _)) => {
                        secrets.push(secret);
                        true
                    }
                    Err(_) => false,
                }
            }),
        ));
    }
    macro_rules! op {
        ($name:literal, |$w:ident, $a:ident, $t:ident, $p:ident, $m:ident| $body:expr) => {{
            let caller = admin.clone();
            let ids = (t.clone(), p.clone(), m.clone());
            out.push((
                $name,
                Box::new(move |$w: &World, _: &mut Secrets| {
                    let ($t, $p, $m) = (ids.0.as_str(), ids.1.as_str(), ids.2.as_str());
                    let _ = ($t, $p, $m);
                    call($w, &caller, |$a| $body)
                }),
            ));
        }};
    }
    op!("edit narrower", |w, a, t, p, m| block_on(w.svc.update_token(a, t, form(json!({"scopes": []})), w.now()))
        .map(|v| json!(v)));
    op!("edit wider", |w, a, t, p, m| block_on(w.svc.update_token(
        a,
        t,
        form(json!({"scopes": ["billing", "users:read"]})),
        w.now()
    ))
    .map(|v| json!(v)));
    op!("disable", |w, a, t, p, m| block_on(w.svc.disable_token(a, t, &no_body(), w.now())).map(|v| json!(v)));
    op!("revoke", |w, a, t, p, m| block_on(w.svc.revoke_token(a, t, &form(json!({"confirm_label": "x"})), w.now()))
        .map(|v| json!(v)));
    op!("delete", |w, a, t, p, m| block_on(w.svc.delete_token(a, t, &form(json!({"confirm_label": "x"})), w.now()))
        .map(|()| json!(null)));
    op!("revoke personal", |w, a, t, p, m| block_on(w.svc.revoke_token(
        a,
        p,
        &form(json!({"confirm_label": "mine"})),
        w.now()
    ))
    .map(|v| json!(v)));
    op!("deactivate member", |w, a, t, p, m| block_on(w.svc.update_member(
        a,
        m,
        &form(json!({"status": "deactivated"})),
        w.now()
    ))
    .map(|v| json!(v)));
    op!("demote member", |w, a, t, p, m| block_on(w.svc.update_member(
        a,
        m,
        &form(json!({"role": "developer", "name": "D"})),
        w.now()
    ))
    .map(|v| json!(v)));
    {
        let admin = admin.clone();
        let t = t.clone();
        out.push((
            "rotate",
            Box::new(move |w, secrets| {
                let a = w.actor(&admin);
                match block_on(w.svc.rotate_token(&a, &t, &form(json!({"grace_seconds": 60})), w.now())) {
                    Ok(r) => {
                        secrets.push(r.secret);
                        true
                    }
                    Err(_) => false,
                }
            }),
        ));
    }
    {
        let admin = admin.clone();
        let t = t.clone();
        out.push((
            "rotate without grace",
            Box::new(move |w, secrets| {
                let a = w.actor(&admin);
                match block_on(w.svc.rotate_token(&a, &t, &form(json!({})), w.now())) {
                    Ok(r) => {
                        secrets.push(r.secret);
                        true
                    }
                    Err(_) => false,
                }
            }),
        ));
    }
    out
}

/// Run `check(n, world, setup, name, op)` for every use case and every `n` in `ns`, each on a
/// fresh world.
fn each_use_case(ns: core::ops::RangeInclusive<u64>, check: impl Fn(u64, &World, &mut Setup, &str, &Op)) {
    let count = use_cases(&setup(&World::new())).len();
    for i in 0..count {
        for n in ns.clone() {
            let w = World::new();
            let mut s = setup(&w);
            let (name, op) = use_cases(&s).remove(i);
            check(n, &w, &mut s, name, &op);
            assert_no_orphans(&w);
            assert_converged(&w, &s.secrets);
        }
    }
}

#[test]
fn a_failed_commit_changes_nothing_and_leaves_no_orphan() {
    // n = 1 fails the use case's own commit; later ones fail the outbox's bookkeeping.
    each_use_case(1..=4, |n, w, s, name, op| {
        let before = w.store().dump();
        w.store().fail_write(Some(n));
        let ok = op(w, &mut s.secrets);
        w.store().fail_write(None);
        if n == 1 {
            assert!(!ok, "{name}: the failed commit was not reported");
            assert_eq!(w.store().dump(), before, "{name}: a failed commit wrote something");
        } else {
            assert!(ok, "{name}: failed after its commit (n = {n})");
        }
    });
}

#[test]
fn a_failed_kv_write_is_owed_until_kv_accepts_it() {
    each_use_case(1..=6, |n, w, s, name, op| {
        w.kv().fail_write(Some(n));
        assert!(op(w, &mut s.secrets), "{name}: a KV failure failed the change itself");
        w.kv().fail_write(None);
        // Before any retry: what KV holds is still the authority's, or owed by it.
        assert_no_orphans(w);
    });
}

#[test]
fn while_kv_refuses_writes_strict_sees_the_change_and_the_edge_catches_up_after() {
    let w = World::new();
    let s = setup(&w);
    let admin = w.actor(&s.admin);
    let current = s.secrets[3].clone();
    w.kv().fail_writes(true);
    block_on(w.svc.revoke_token(&admin, &s.org_token, &form(json!({"confirm_label": "x"})), w.now())).unwrap();
    assert!(block_on(w.svc.projection_pending()).unwrap());
    assert_eq!(w.edge_code(&current), "VALID");
    assert_eq!(w.verify_strict(&current, &[]), "REVOKED");
    // Retries while KV still refuses keep the debt.
    assert_eq!(block_on(w.svc.project(w.now())).unwrap().written, 0);
    assert!(block_on(w.svc.projection_pending()).unwrap());
    w.kv().fail_writes(false);
    assert!(block_on(w.svc.project(w.now())).unwrap().written >= 2);
    assert_eq!(w.verify(&current, &[]), "REVOKED");
    assert_eq!(w.verify(&s.secrets[2], &[]), "REVOKED", "the secret in grace is revoked too");
}

#[test]
fn the_latest_state_of_a_key_wins_over_an_older_owed_one() {
    let w = World::new();
    let s = setup(&w);
    let admin = w.actor(&s.admin);
    let current = s.secrets[3].clone();
    w.kv().fail_writes(true);
    block_on(w.svc.disable_token(&admin, &s.org_token, &no_body(), w.now())).unwrap();
    block_on(w.svc.enable_token(&w.actor(&s.admin), &s.org_token, &no_body(), w.now())).unwrap();
    block_on(w.svc.delete_token(&w.actor(&s.admin), &s.org_token, &form(json!({"confirm_label": "x"})), w.now()))
        .unwrap();
    w.kv().fail_writes(false);
    block_on(w.svc.project(w.now())).unwrap();
    assert_eq!(w.verify(&current, &[]), "NOT_FOUND");
    assert_eq!(w.verify(&s.secrets[2], &[]), "NOT_FOUND");
    assert!(w.kv().dump().iter().all(|(k, e)| keys::verify_hash(k).is_none() || !e.value.contains(&s.org_token)));
}

#[test]
fn reconcile_repairs_planted_and_stale_entries() {
    let w = World::new();
    let s = setup(&w);
    let admin = w.actor(&s.admin);
    let current = s.secrets[3].clone();
    // A stale entry: KV says active while the records say revoked.
    w.kv().fail_writes(true);
    block_on(w.svc.revoke_token(&admin, &s.org_token, &form(json!({"confirm_label": "x"})), w.now())).unwrap();
    w.kv().fail_writes(false);
    // Forget the debt (as if the outbox were lost): only reconciliation can find it now.
    let owed: Vec<String> = w.store().dump().into_keys().filter(|k| k.starts_with(keys::OUTBOX)).collect();
    for k in &owed {
        block_on(keyward::store::Store::commit(w.store(), &[keyward::store::Write::Delete(k.clone())], None)).unwrap();
    }
    // A planted entry: a made-up secret of this org, written by hand without metadata.
    let fake = "kw_AbCdEfGhIjKlMnOpQrStUvWxYz012314Wc0Q";
    let planted = json!({"token_id": s.org_token, "org_id": admin.org.id, "kind": "org", "owner_member_id": null,
        "role": "admin", "scopes": ["billing"], "state": "active", "owner_active": true, "expires_at": null});
    w.kv().plant(&keys::verify(&keyward::domain::token::sha256_hex(fake)), &planted.to_string());
    assert_eq!(w.edge_code(fake), "VALID");
    assert_eq!(w.edge_code(&current), "VALID");

    let r = block_on(w.svc.reconcile(&w.actor(&s.admin), &no_body(), w.now())).unwrap();
    let fixed: Vec<_> = r.fixed.iter().map(|f| f.action).collect();
    assert_eq!(fixed.iter().filter(|a| **a == "deleted").count(), 1, "{r:?}");
    assert_eq!(fixed.iter().filter(|a| **a == "written").count(), 2, "current and grace secrets: {r:?}");
    assert!(!r.pending);
    assert_eq!(w.verify(fake, &[]), "NOT_FOUND");
    assert_eq!(w.verify(&current, &[]), "REVOKED");
    // Nothing left to fix; a developer may not reconcile.
    assert!(block_on(w.svc.reconcile(&w.actor(&s.admin), &no_body(), w.now())).unwrap().fixed.is_empty());
    let dev = w.member_with_token(&s.admin, "d2@acme.io", "developer").1;
    assert!(matches!(block_on(w.svc.reconcile(&w.actor(&dev), &no_body(), w.now())), Err(Error::Forbidden(_))));
}

#[test]
fn storage_failure_is_internal_not_a_verdict() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    w.kv().fail_reads(true);
    let r = w.edge_answer(&o.admin_secret);
    assert!(matches!(r, Err(Error::Internal(_))));
    // junk never reaches storage, so it still answers
    assert_eq!(w.edge_code("junk"), "MALFORMED");
}

#[test]
fn a_write_retried_later_asks_kv_for_an_expiration_it_accepts() {
    // KV refuses an expiration less than 60 s ahead; an owed write retried minutes later must
    // not carry the expiration computed when it was first owed.
    let w = World::new();
    let s = setup(&w);
    let admin = w.actor(&s.admin);
    w.kv().fail_writes(true);
    let r = block_on(w.svc.rotate_token(&admin, &s.org_token, &form(json!({"grace_seconds": 30})), w.now())).unwrap();
    w.kv().fail_writes(false);
    w.advance_seconds(120);
    block_on(w.svc.project(w.now())).unwrap();
    let min = w.now().as_seconds() + 60;
    for (key, e) in w.kv().dump() {
        if keys::verify_hash(&key).is_some() {
            assert!(e.expiration.is_none_or(|x| x >= min), "an expiration KV would refuse");
        }
    }
    assert_eq!(w.verify(&r.secret, &[]), "VALID");
}
