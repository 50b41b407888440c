use futures_executor::block_on;
use keyward::service::{Error, TokenQuery};
use serde_json::{json, Value};

use crate::support::*;
use keyward::service::AuditQuery;

#[test]
fn create_org_issues_a_working_admin_token_and_tells_the_admin() {
    let w = World::new();
    let o = w.org("Acme", &["billing", "users:read"]);
    assert!(o.admin_secret.starts_with("kw_") && o.admin_secret.len() == 39);
    let a = w.actor(&o.admin_secret);
    assert!(a.is_admin());
    assert_eq!(w.verify(&o.admin_secret, &["billing"]), "VALID");
    let me = serde_json::to_value(block_on(w.svc.me(&a, w.now())).unwrap()).unwrap();
    assert_eq!(me["member"]["email"], "admin@acme.io");
    assert_eq!(me["personal_tokens"], json!({"used": 1, "limit": 10}));
    assert_eq!(me["token"]["id"], o.admin_token_id.as_str());
    assert_eq!(me["token"]["masked"], format!("kw_••••••••{}", &o.admin_secret[35..]));
    assert_eq!(me["token"]["created_with"], Value::Null);
    let notes = block_on(w.svc.notifications(&a)).unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].to, "admin@acme.io");
    assert_eq!(notes[0].token_id.as_deref(), Some(o.admin_token_id.as_str()));
    assert_eq!(notes[0].created_by, o.admin_id);
    assert!(notes[0].body.contains(notes[0].masked.as_deref().unwrap()));
    let (events, _) = block_on(w.svc.audit_events(&a, &AuditQuery::default())).unwrap();
    let actions: Vec<String> =
        events.iter().map(|e| serde_json::to_value(e.action).unwrap().as_str().unwrap().to_owned()).collect();
    assert_eq!(actions, ["token.created", "member.created", "org.created"]);
    assert!(events.iter().all(|e| e.actor_token_id.is_none() && e.actor_member_id.is_none()));
    assert!(events.iter().all(|e| e.acted_by == keyward::domain::ActedBy::Operator));
}

#[test]
fn token_create_edit_list_with_views_and_notifications() {
    let w = World::new();
    let o = w.org("Acme", &["billing", "users:read"]);
    let (_, dev_secret, _) = w.member_with_token(&o.admin_secret, "dev@acme.io", "developer");
    let (secret, id) = w.create(
        &dev_secret,
        json!({"label": "CI", "description": "deploys", "role": "developer", "scopes": ["billing"], "kind": "personal", "expires_in_days": 7}),
    );
    let v = w.token_json(&dev_secret, &id).unwrap();
    assert_eq!(v["label"], "CI");
    assert_eq!(v["status"], "active");
    assert_eq!(v["owner"]["email"], "dev@acme.io");
    assert_eq!(v["created_by"]["email"], "dev@acme.io");
    assert_eq!(v["created_with"], w.actor(&dev_secret).token.as_ref().unwrap().id.as_str());
    assert_eq!(v["expires_at"], "2026-11-25T11:06:40Z");
    assert_eq!(v["created_at"], "2026-11-18T11:06:40Z");
    assert!(v.get("hash").is_none() && v.get("secret").is_none());
    assert!(!v.to_string().contains(&secret));
    // every admin is told, with creator and masked token
    let admin = w.actor(&o.admin_secret);
    let notes = block_on(w.svc.notifications(&admin)).unwrap();
    let note = notes.iter().find(|n| n.token_id.as_deref() == Some(id.as_str())).unwrap();
    assert_eq!(note.masked.as_deref(), Some(format!("kw_••••••••{}", &secret[35..]).as_str()));
    assert!(note.body.contains("dev@acme.io"));
    // edit: label, scopes; the verify entry follows
    let dev = w.actor(&dev_secret);
    let edited =
        block_on(w.svc.update_token(&dev, &id, form(json!({"label": "CI 2", "scopes": ["users:read"]})), w.now()))
            .unwrap();
    assert_eq!(edited.label, "CI 2");
    assert_eq!(w.verify(&secret, &["users:read"]), "VALID");
    assert_eq!(w.verify(&secret, &["billing"]), "INSUFFICIENT_SCOPE");
    // list: developer sees their own two tokens only; admin sees all four
    let (mine, _) = block_on(w.svc.list_tokens(&dev, &TokenQuery::default(), w.now())).unwrap();
    assert_eq!(mine.len(), 2);
    let (all, cursor) = block_on(w.svc.list_tokens(&admin, &TokenQuery::default(), w.now())).unwrap();
    assert_eq!((all.len(), cursor), (3, None));
    let q = TokenQuery {
        status: Some("active".into()),
        kind: Some("personal".into()),
        owner: Some(dev.member.as_ref().unwrap().id.clone()),
        external_id: None,
        cursor: None,
    };
    assert_eq!(block_on(w.svc.list_tokens(&admin, &q, w.now())).unwrap().0.len(), 2);
    let bad = TokenQuery { status: Some("zombie".into()), kind: Some("team".into()), ..TokenQuery::default() };
    match block_on(w.svc.list_tokens(&admin, &bad, w.now())) {
        Err(Error::Validation(e)) => assert_eq!(e.keys().collect::<Vec<_>>(), ["kind", "status"]),
        other => panic!("{other:?}"),
    }
    // audit names member and token
    let (events, _) =
        block_on(w.svc.audit_events(&admin, &AuditQuery { target: Some(id.clone()), ..AuditQuery::default() }))
            .unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].actor_token_id.as_deref(), Some(dev.token.as_ref().unwrap().id.as_str()));
    assert_eq!(events[0].actor_member_id.as_deref(), Some(dev.member.as_ref().unwrap().id.as_str()));
}

#[test]
fn every_verify_code() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let admin = w.actor(&o.admin_secret);
    let (s, id) = w.create(
        &o.admin_secret,
        json!({"label": "x", "role": "developer", "scopes": ["billing"], "kind": "org", "expires_in_days": 1}),
    );
    assert_eq!(w.verify("junk", &[]), "MALFORMED");
    assert_eq!(w.verify(&format!("{}x", &s[..38]), &[]), "MALFORMED");
    assert_eq!(w.verify("kw_0000000000000000000000000000003wuQEo", &[]), "NOT_FOUND");
    assert_eq!(w.verify(&s, &[]), "VALID");
    assert_eq!(w.verify(&s, &["billing"]), "VALID");
    assert_eq!(w.verify(&s, &["payroll"]), "INSUFFICIENT_SCOPE");
    block_on(w.svc.disable_token(&admin, &id, &no_body(), w.now())).unwrap();
    assert_eq!(w.verify(&s, &[]), "DISABLED");
    block_on(w.svc.enable_token(&admin, &id, &no_body(), w.now())).unwrap();
    assert_eq!(w.verify(&s, &[]), "VALID");
    block_on(w.svc.revoke_token(&admin, &id, &form(json!({"confirm_label": "x"})), w.now())).unwrap();
    assert_eq!(w.verify(&s, &[]), "REVOKED");
    block_on(w.svc.reapprove_token(&admin, &id, &no_body(), w.now())).unwrap();
    assert_eq!(w.verify(&s, &[]), "VALID");
    let (_, dev_secret, _) = w.member_with_token(&o.admin_secret, "dev@acme.io", "developer");
    let dev_id = w.actor(&dev_secret).member.unwrap().id;
    block_on(w.svc.update_member(&admin, &dev_id, &form(json!({"status": "deactivated"})), w.now())).unwrap();
    assert_eq!(w.verify(&dev_secret, &[]), "OWNER_DEACTIVATED");
    w.advance_seconds(86_400);
    assert_eq!(w.verify(&s, &[]), "EXPIRED");
}

#[test]
fn revoke_needs_the_exact_label_and_reapprove_only_unexpired() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let admin = w.actor(&o.admin_secret);
    let (s, id) = w.create(
        &o.admin_secret,
        json!({"label": "Deploy bot", "role": "developer", "kind": "org", "expires_in_days": 2}),
    );
    for wrong in ["deploy bot", "Deploy bot ", ""] {
        let r = block_on(w.svc.revoke_token(&admin, &id, &form(json!({"confirm_label": wrong})), w.now()));
        assert_eq!(r.unwrap_err(), Error::ConfirmationMismatch);
    }
    assert!(matches!(block_on(w.svc.revoke_token(&admin, &id, &form(json!({})), w.now())), Err(Error::Validation(_))));
    assert_eq!(w.verify(&s, &[]), "VALID");
    let v = block_on(w.svc.revoke_token(&admin, &id, &form(json!({"confirm_label": "Deploy bot"})), w.now())).unwrap();
    assert_eq!((v.status.as_str(), v.revoked_at.is_some()), ("revoked", true));
    assert!(matches!(
        block_on(w.svc.revoke_token(&admin, &id, &form(json!({"confirm_label": "Deploy bot"})), w.now())),
        Err(Error::Conflict(_))
    ));
    assert!(matches!(block_on(w.svc.enable_token(&admin, &id, &no_body(), w.now())), Err(Error::Conflict(_))));
    let v = block_on(w.svc.reapprove_token(&admin, &id, &no_body(), w.now())).unwrap();
    assert_eq!((v.status.as_str(), v.revoked_at), ("active", None));
    assert!(matches!(block_on(w.svc.reapprove_token(&admin, &id, &no_body(), w.now())), Err(Error::Conflict(_))));
    block_on(w.svc.revoke_token(&admin, &id, &form(json!({"confirm_label": "Deploy bot"})), w.now())).unwrap();
    w.advance_seconds(2 * 86_400);
    assert!(matches!(
        block_on(w.svc.reapprove_token(&w.actor(&o.admin_secret), &id, &no_body(), w.now())),
        Err(Error::Conflict(_))
    ));
}

#[test]
fn rotation_with_and_without_grace() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let admin = w.actor(&o.admin_secret);
    let (old, id) = w.create(&o.admin_secret, json!({"label": "svc", "role": "developer", "kind": "org"}));
    let r = block_on(w.svc.rotate_token(&admin, &id, &form(json!({"grace_seconds": 300})), w.now())).unwrap();
    let new = r.secret.clone();
    assert_ne!(new, old);
    assert_eq!(r.token.masked, format!("kw_••••••••{}", &new[35..]));
    assert!(r.token.rotated_at.is_some());
    assert_eq!(r.token.previous_valid_until.as_deref(), Some("2026-11-18T11:11:40Z"));
    assert_eq!(w.verify(&old, &[]), "VALID");
    assert_eq!(w.verify(&new, &[]), "VALID");
    w.advance_seconds(299);
    assert_eq!(w.verify(&old, &[]), "VALID");
    w.advance_seconds(1);
    assert_eq!(w.verify(&old, &[]), "NOT_FOUND");
    assert_eq!(w.verify(&new, &[]), "VALID");
    // no grace: the old secret dies at once; an older one still in grace dies too
    let admin = w.actor(&o.admin_secret);
    let r2 = block_on(w.svc.rotate_token(&admin, &id, &form(json!({"grace_seconds": 60})), w.now())).unwrap();
    let r3 = block_on(w.svc.rotate_token(&admin, &id, &form(json!({})), w.now())).unwrap();
    assert_eq!(w.verify(&new, &[]), "NOT_FOUND");
    assert_eq!(w.verify(&r2.secret, &[]), "NOT_FOUND");
    assert_eq!(w.verify(&r3.secret, &[]), "VALID");
    // revoking also stops a secret that is still in grace
    let r4 = block_on(w.svc.rotate_token(&admin, &id, &form(json!({"grace_seconds": 600})), w.now())).unwrap();
    block_on(w.svc.revoke_token(&admin, &id, &form(json!({"confirm_label": "svc"})), w.now())).unwrap();
    assert_eq!(w.verify(&r3.secret, &[]), "REVOKED");
    assert_eq!(w.verify(&r4.secret, &[]), "REVOKED");
    assert!(matches!(block_on(w.svc.rotate_token(&admin, &id, &form(json!({})), w.now())), Err(Error::Conflict(_))));
    for bad in [json!({"grace_seconds": 86_401}), json!({"grace_seconds": -1}), json!({"grace": 1})] {
        assert!(matches!(
            block_on(w.svc.rotate_token(&admin, &id, &form(bad.clone()), w.now())),
            Err(Error::Validation(_))
        ));
    }
    // rotation and revocation notify the admins too (newest first)
    let notes = block_on(w.svc.notifications(&admin)).unwrap();
    let kinds: Vec<String> = notes
        .iter()
        .filter(|n| n.token_id.as_deref() == Some(id.as_str()))
        .map(|n| serde_json::to_value(n.kind).unwrap().as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds,
        ["token.revoked", "token.rotated", "token.rotated", "token.rotated", "token.rotated", "token.created"]
    );
}

#[test]
fn delete_is_for_good() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let admin = w.actor(&o.admin_secret);
    let (s, id) = w.create(&o.admin_secret, json!({"label": "tmp", "role": "developer", "kind": "org"}));
    block_on(w.svc.edge().put_last_used(&o.id, &id, w.now())).unwrap();
    assert_eq!(
        block_on(w.svc.delete_token(&admin, &id, &form(json!({"confirm_label": "TMP"})), w.now())),
        Err(Error::ConfirmationMismatch)
    );
    block_on(w.svc.delete_token(&admin, &id, &form(json!({"confirm_label": "tmp"})), w.now())).unwrap();
    assert_eq!(w.verify(&s, &[]), "NOT_FOUND");
    assert_eq!(w.token_json(&o.admin_secret, &id), Err(Error::NotFound));
    assert!(w.store().dump().keys().all(|k| !k.contains(&id) || k.contains(":a:")));
    assert!(w.kv().dump().keys().all(|k| !k.contains(&id)), "last use forgotten");
    let (events, _) =
        block_on(w.svc.audit_events(&admin, &AuditQuery { target: Some(id.clone()), ..AuditQuery::default() }))
            .unwrap();
    assert_eq!(events[0].summary, "Deleted \"tmp\" (kw_••••••••".to_owned() + &s[35..] + ")");
}

#[test]
fn personal_limit_of_ten() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let (_, dev, _) = w.member_with_token(&o.admin_secret, "dev@acme.io", "developer");
    let mut ids = Vec::new();
    for i in 1..10 {
        ids.push(w.create(&dev, json!({"label": format!("t{i}"), "role": "developer", "kind": "personal"})).1);
    }
    let over = w.try_create(&dev, json!({"label": "eleventh", "role": "developer", "kind": "personal"}));
    assert_eq!(over.unwrap_err(), Error::LimitReached { limit: 10 });
    // an admin making one for them hits the same limit; revoked tokens still count
    let admin = w.actor(&o.admin_secret);
    let dev_id = w.actor(&dev).member.unwrap().id;
    let over = w.try_create(
        &o.admin_secret,
        json!({"label": "x", "role": "developer", "kind": "personal", "owner_member_id": dev_id}),
    );
    assert_eq!(over.unwrap_err(), Error::LimitReached { limit: 10 });
    block_on(w.svc.revoke_token(&admin, &ids[0], &form(json!({"confirm_label": "t1"})), w.now())).unwrap();
    assert!(w.try_create(&dev, json!({"label": "x", "role": "developer", "kind": "personal"})).is_err());
    // org tokens do not count; deleting frees a slot
    w.create(&o.admin_secret, json!({"label": "org one", "role": "developer", "kind": "org"}));
    block_on(w.svc.delete_token(&admin, &ids[0], &form(json!({"confirm_label": "t1"})), w.now())).unwrap();
    assert!(w.try_create(&dev, json!({"label": "x", "role": "developer", "kind": "personal"})).is_ok());
    // the limit is a per-org policy
    block_on(w.svc.update_org(&admin, &form(json!({"policy": {"max_personal_tokens": 11}})), w.now())).unwrap();
    assert!(w.try_create(&dev, json!({"label": "y", "role": "developer", "kind": "personal"})).is_ok());
    let me = serde_json::to_value(block_on(w.svc.me(&w.actor(&dev), w.now())).unwrap()).unwrap();
    assert_eq!(me["personal_tokens"], json!({"used": 11, "limit": 11}));
}

#[test]
fn deactivation_cascade_and_org_tokens_survive() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let (_, second_admin, _) = w.member_with_token(&o.admin_secret, "ops@acme.io", "admin");
    let (org_tok, _) = w.create(&second_admin, json!({"label": "integration", "role": "admin", "kind": "org"}));
    let (personal, _) = w.create(&second_admin, json!({"label": "laptop", "role": "admin", "kind": "personal"}));
    let ops_id = w.actor(&second_admin).member.unwrap().id;
    let admin = w.actor(&o.admin_secret);
    let m = block_on(w.svc.update_member(&admin, &ops_id, &form(json!({"status": "deactivated"})), w.now())).unwrap();
    assert_eq!(serde_json::to_value(m.status).unwrap(), "deactivated");
    assert_eq!(w.verify(&personal, &[]), "OWNER_DEACTIVATED");
    assert_eq!(w.verify(&second_admin, &[]), "OWNER_DEACTIVATED");
    assert_eq!(w.auth(&second_admin).unwrap_err(), Error::Unauthenticated);
    assert_eq!(w.verify(&org_tok, &[]), "VALID");
    let org_actor = w.actor(&org_tok);
    assert!(org_actor.is_admin());
    assert_eq!(org_actor.member_id(), ops_id); // the answerable member: its creator
                                               // the list shows the derived status
    let (rows, _) = block_on(w.svc.list_tokens(
        &admin,
        &TokenQuery { status: Some("owner_deactivated".into()), ..TokenQuery::default() },
        w.now(),
    ))
    .unwrap();
    assert_eq!(rows.len(), 2);
    // reactivation brings them back
    block_on(w.svc.update_member(&admin, &ops_id, &form(json!({"status": "active"})), w.now())).unwrap();
    assert_eq!(w.verify(&personal, &[]), "VALID");
}

#[test]
fn demotion_lowers_effective_role_at_once() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let (ops_id, ops, _) = w.member_with_token(&o.admin_secret, "ops@acme.io", "admin");
    let v = w.edge_answer(&ops).unwrap();
    assert_eq!(serde_json::to_value(&v).unwrap()["token"]["role"], "admin");
    let admin = w.actor(&o.admin_secret);
    block_on(w.svc.update_member(&admin, &ops_id, &form(json!({"role": "developer"})), w.now())).unwrap();
    let v = w.edge_answer(&ops).unwrap();
    assert_eq!(serde_json::to_value(&v).unwrap()["token"]["role"], "developer");
    let demoted = w.actor(&ops);
    assert!(!demoted.is_admin());
    assert!(matches!(block_on(w.svc.members(&demoted)), Err(Error::Forbidden(_))));
}

#[test]
fn members_rules() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let admin = w.actor(&o.admin_secret);
    let r = block_on(w.svc.create_member(
        &admin,
        &form(json!({"email": "ADMIN@acme.IO", "name": "Dup", "role": "developer"})),
        w.now(),
    ));
    assert!(matches!(r, Err(Error::Conflict(_))));
    // the last active admin can neither be demoted nor deactivated
    for body in [json!({"role": "developer"}), json!({"status": "deactivated"})] {
        let r = block_on(w.svc.update_member(&admin, &o.admin_id, &form(body.clone()), w.now()));
        assert!(matches!(r, Err(Error::Conflict(_))), "{body}");
    }
    assert_eq!(
        block_on(w.svc.update_member(&admin, "mem_nope", &form(json!({})), w.now())).unwrap_err(),
        Error::NotFound
    );
    let m = block_on(w.svc.update_member(&admin, &o.admin_id, &form(json!({"name": "Ada L."})), w.now())).unwrap();
    assert_eq!(m.name, "Ada L.");
    assert_eq!(block_on(w.svc.members(&admin)).unwrap().len(), 1);
    let org =
        block_on(w.svc.update_org(&admin, &form(json!({"modules": ["a", "b"], "name": "Acme Inc"})), w.now())).unwrap();
    assert_eq!((org.name.as_str(), org.modules.len()), ("Acme Inc", 2));
}

#[test]
fn never_expiring_org_tokens_follow_policy() {
    let w = World::new();
    let o = w.org("Acme", &[]);
    let admin = w.actor(&o.admin_secret);
    let body = json!({"label": "forever", "role": "developer", "kind": "org", "never_expires": true});
    assert!(matches!(w.try_create(&o.admin_secret, body.clone()), Err(Error::Validation(_))));
    block_on(w.svc.update_org(&admin, &form(json!({"policy": {"allow_non_expiring_org_tokens": true}})), w.now()))
        .unwrap();
    let (s, id) = w.create(&o.admin_secret, body);
    assert_eq!(w.token_json(&o.admin_secret, &id).unwrap()["expires_at"], Value::Null);
    w.advance_seconds(10 * 365 * 86_400);
    assert_eq!(w.verify(&s, &[]), "VALID");
}

#[test]
fn secrets_never_stored() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (s, id) = w.create(&o.admin_secret, json!({"label": "x", "role": "developer", "kind": "org"}));
    let admin = w.actor(&o.admin_secret);
    let r = block_on(w.svc.rotate_token(&admin, &id, &form(json!({"grace_seconds": 30})), w.now())).unwrap();
    let dump = format!("{:?}{:?}", w.store().dump(), w.kv().dump());
    for secret in [&o.admin_secret, &s, &r.secret] {
        assert!(!dump.contains(secret.as_str()));
        assert!(!dump.contains(&secret[3..35]), "body of a secret stored");
    }
}

/// Revoke, then re-approve: the token's current secret is back, a rotated-out one in its grace is
/// not (a red-team pass found it back for the rest of its grace).
#[test]
fn reapproving_restores_only_the_current_secret() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (old, id) = w.create(&o.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org"}));
    let a = w.actor(&o.admin_secret);
    let new = block_on(w.svc.rotate_token(&a, &id, &form(json!({"grace_seconds": 86_400})), w.now())).unwrap().secret;
    assert_eq!(w.verify(&old, &[]), "VALID", "in its grace");
    block_on(w.svc.revoke_token(&a, &id, &form(json!({"confirm_label": "ci"})), w.now())).unwrap();
    assert_eq!((w.verify(&old, &[]).as_str(), w.verify(&new, &[]).as_str()), ("REVOKED", "REVOKED"));
    block_on(w.svc.reapprove_token(&a, &id, &no_body(), w.now())).unwrap();
    assert_eq!(w.verify(&new, &[]), "VALID");
    assert_eq!(w.verify(&old, &[]), "NOT_FOUND", "the old secret stays dead");
    assert_eq!(w.verify_strict(&old, &[]), "NOT_FOUND");
}
