//! Stopping leaks: per-token network allowlists.

use futures_executor::block_on;
use keyward::service::{Error, Reporter};
use serde_json::json;

use crate::support::*;
use keyward::service::AuditQuery;

#[test]
fn network_allowlists_bind_verification_and_the_admin_api() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let body = json!({"label": "ci", "role": "admin", "kind": "org", "scopes": ["billing", "keyward:manage"],
        "allowed_cidrs": ["10.1.2.3/16", "2001:db8::/32"]});
    let (s, id) = w.create(&o.admin_secret, body);
    assert_eq!(w.token_json(&o.admin_secret, &id).unwrap()["allowed_cidrs"], json!(["10.1.0.0/16", "2001:db8::/32"]));
    // verification: inside, outside, no address
    w.client.set(Some("10.1.200.7".parse().unwrap()));
    assert_eq!(w.verify(&s, &["billing"]), "VALID");
    w.client.set(Some("::ffff:10.1.0.1".parse().unwrap()));
    assert_eq!(w.verify(&s, &[]), "VALID");
    w.client.set(Some("10.2.0.1".parse().unwrap()));
    assert_eq!(w.verify(&s, &["billing"]), "IP_NOT_ALLOWED");
    assert_eq!(w.verify(&s, &["payroll"]), "IP_NOT_ALLOWED", "before INSUFFICIENT_SCOPE");
    assert_eq!(w.auth(&s).unwrap_err(), Error::Unauthenticated, "the admin API checks the connecting address");
    w.client.set(None);
    assert_eq!(w.verify(&s, &[]), "IP_NOT_ALLOWED");
    assert_eq!(w.auth(&s).unwrap_err(), Error::Unauthenticated);
    w.client.set(Some("2001:db8:5::1".parse().unwrap()));
    assert!(w.auth(&s).is_ok());
    // an edit changes the verify entry too; [] lifts the allowlist
    let admin = w.actor(&o.admin_secret);
    block_on(w.svc.update_token(&admin, &id, form(json!({"allowed_cidrs": ["192.0.2.0/24"]})), w.now())).unwrap();
    assert_eq!(w.verify(&s, &[]), "IP_NOT_ALLOWED");
    block_on(w.svc.update_token(&admin, &id, form(json!({"allowed_cidrs": []})), w.now())).unwrap();
    w.client.set(None);
    assert_eq!(w.verify(&s, &[]), "VALID");
    // bad blocks are 422, every one named
    for bad in [
        json!(["10.0.0.0/33"]),
        json!(["nope"]),
        json!(["10.0.0.0/8", "10.0.0.1/8"]),
        json!("10.0.0.0/8"),
        json!((0..21).map(|i| format!("10.0.{i}.0/24")).collect::<Vec<_>>()),
    ] {
        let r = w.try_create(
            &o.admin_secret,
            json!({"label": "x", "role": "developer", "kind": "org", "allowed_cidrs": bad}),
        );
        assert!(matches!(r, Err(Error::Validation(e)) if e.contains_key("allowed_cidrs")), "{bad}");
    }
}

fn scanner() -> Reporter {
    Reporter::Scanner { source: "content".into(), url: "https://github.com/acme/app/blob/main/.env".into() }
}

fn report(w: &World, secret: &str, who: &Reporter) -> bool {
    let at = block_on(w.svc.locate(secret, &keyward::domain::legacy::LegacyFormats::none())).unwrap();
    match at {
        Some(at) => block_on(w.svc.report(secret, &at, who, w.now())).unwrap(),
        None => false,
    }
}

#[test]
fn a_reported_live_token_is_revoked_and_everyone_told() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (_, dev, _) = w.member_with_token(&o.admin_secret, "d@acme.io", "developer");
    let (s, id) = w.create(&dev, json!({"label": "laptop", "role": "developer", "kind": "personal"}));
    assert!(report(&w, &s, &scanner()), "true positive");
    assert_eq!(w.verify(&s, &[]), "REVOKED");
    let v = w.token_json(&o.admin_secret, &id).unwrap();
    assert_eq!((v["state"].clone(), v["state_set_by"].clone()), (json!("revoked"), json!("report")));
    // only an admin brings it back
    let d = w.actor(&dev);
    assert!(matches!(block_on(w.svc.reapprove_token(&d, &id, &no_body(), w.now())), Err(Error::Forbidden(_))));
    // audit and notifications say who reported it, and where it was found
    let admin = w.actor(&o.admin_secret);
    let (events, _) =
        block_on(w.svc.audit_events(&admin, &AuditQuery { target: Some(id.clone()), ..AuditQuery::default() }))
            .unwrap();
    assert!(events[0].summary.contains("github.com/acme/app") && events[0].actor_token_id.is_none());
    let notes = block_on(w.svc.notifications(&admin)).unwrap();
    let told: Vec<_> = notes
        .iter()
        .filter(|n| n.token_id.as_deref() == Some(id.as_str()) && json!(n.kind) == "token.revoked")
        .collect();
    let mut to: Vec<_> = told.iter().map(|n| n.to.as_str()).collect();
    to.sort_unstable();
    assert_eq!(to, ["admin@acme.io", "d@acme.io"]);
    assert!(told.iter().all(|n| n.created_by == "report" && n.body.starts_with("A leak report")));
    // reported again, or unknown, or junk: false positives, nothing changes
    assert!(!report(&w, &s, &scanner()));
    assert!(!report(&w, "kw_0000000000000000000000000000003wuQEo", &scanner()));
    assert!(!report(&w, "junk", &scanner()));
}

#[test]
fn on_leak_notify_tells_without_revoking_but_a_holder_always_revokes() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let admin = w.actor(&o.admin_secret);
    block_on(w.svc.update_org(&admin, &form(json!({"policy": {"on_leak": "notify"}})), w.now())).unwrap();
    let (s, id) = w.create(&o.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org"}));
    assert!(report(&w, &s, &scanner()));
    assert_eq!(w.verify(&s, &[]), "VALID", "notify only");
    let notes = block_on(w.svc.notifications(&w.actor(&o.admin_secret))).unwrap();
    assert!(notes.iter().any(|n| n.token_id.as_deref() == Some(id.as_str()) && json!(n.kind) == "token.leaked"));
    let holder = Reporter::Holder { address: "198.51.100.4".into(), user_agent: "curl/8.5".into() };
    assert!(report(&w, &s, &holder));
    assert_eq!(w.verify(&s, &[]), "REVOKED");
    let (events, _) = block_on(
        w.svc
            .audit_events(&w.actor(&o.admin_secret), &AuditQuery { target: Some(id.clone()), ..AuditQuery::default() }),
    )
    .unwrap();
    assert!(events[0].summary.contains("198.51.100.4") && events[0].summary.contains("curl/8.5"));
    assert!(matches!(
        block_on(w.svc.update_org(&w.actor(&o.admin_secret), &form(json!({"policy": {"on_leak": "ignore"}})), w.now())),
        Err(Error::Validation(e)) if e.contains_key("policy.on_leak")
    ));
}

#[test]
fn a_reported_secret_in_its_grace_stops_and_the_current_one_goes_on() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (old, id) = w.create(&o.admin_secret, json!({"label": "ci", "role": "developer", "kind": "org"}));
    let admin = w.actor(&o.admin_secret);
    let new = block_on(w.svc.rotate_token(&admin, &id, &form(json!({"grace_seconds": 3600})), w.now())).unwrap().secret;
    assert_eq!(w.verify(&old, &[]), "VALID");
    assert!(report(&w, &old, &scanner()));
    assert_eq!(w.verify(&old, &[]), "NOT_FOUND");
    assert_eq!(w.verify(&new, &[]), "VALID");
    assert!(!report(&w, &old, &scanner()), "its grace is over: nothing left to do");
}

#[test]
fn a_leaked_token_its_developer_revoked_stays_revoked_and_reporter_text_is_made_safe() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (_, dev, _) = w.member_with_token(&o.admin_secret, "d@acme.io", "developer");
    let (s, id) = w.create(&dev, json!({"label": "laptop", "role": "developer", "kind": "personal"}));
    let d = w.actor(&dev);
    block_on(w.svc.revoke_token(&d, &id, &form(json!({"confirm_label": "laptop"})), w.now())).unwrap();
    let sneaky =
        Reporter::Holder { address: "198.51.100.4".into(), user_agent: "curl \u{202e}nimda\u{2028}x\u{200b}".into() };
    assert!(!report(&w, &s, &sneaky), "not live: a false positive");
    let v = w.token_json(&o.admin_secret, &id).unwrap();
    assert_eq!((v["state"].clone(), v["state_set_by"].clone()), (json!("revoked"), json!("report")));
    assert!(matches!(block_on(w.svc.reapprove_token(&d, &id, &no_body(), w.now())), Err(Error::Forbidden(_))));
    let (events, _) = block_on(
        w.svc
            .audit_events(&w.actor(&o.admin_secret), &AuditQuery { target: Some(id.clone()), ..AuditQuery::default() }),
    )
    .unwrap();
    assert_eq!(json!(events[0].action), "token.leaked");
    assert!(
        events[0].summary.contains("curl nimdax") && !events[0].summary.contains('\u{202e}'),
        "{}",
        events[0].summary
    );
}

/// A reporter's words never carry a secret into the audit log, even one split by invisible
/// characters (the red team sent a bystander's live secret in a User-Agent).
#[test]
fn reporter_text_never_carries_a_secret() {
    use keyward::domain::ActedBy;
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (victim, id) = w.create(&o.admin_secret, json!({"label": "victim", "role": "developer", "kind": "org"}));
    let (bystander, _) = w.create(&o.admin_secret, json!({"label": "bystander", "role": "developer", "kind": "org"}));
    let split = format!("{}\u{200b}{}", &bystander[..10], &bystander[10..]);
    let sneaky = Reporter::Holder { address: bystander.clone(), user_agent: format!("tool/1 {split}") };
    assert!(report(&w, &victim, &sneaky), "live: revoked");
    let (events, _) = block_on(
        w.svc
            .audit_events(&w.actor(&o.admin_secret), &AuditQuery { target: Some(id.clone()), ..AuditQuery::default() }),
    )
    .unwrap();
    assert!(!events.is_empty());
    for e in &events {
        assert!(!e.summary.contains(&bystander[3..20]), "{}", e.summary);
        let by = if json!(e.action) == "token.created" { ActedBy::Token } else { ActedBy::Report };
        assert_eq!(e.acted_by, by, "{}", e.summary);
    }
    assert!(events.iter().any(|e| e.summary.contains("tool/1 (a secret, not shown)")), "{events:?}");
}

/// A red-team pass split a bystander's live secret with a space and a Braille blank in the
/// reporter's User-Agent: such text is left out of the audit log whole.
#[test]
fn reporter_text_split_by_spaces_is_left_out() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    let (victim, id) = w.create(&o.admin_secret, json!({"label": "victim", "role": "developer", "kind": "org"}));
    let (bystander, _) = w.create(&o.admin_secret, json!({"label": "bystander", "role": "developer", "kind": "org"}));
    let split = format!("{} {}\u{2800}{}", &bystander[..12], &bystander[12..24], &bystander[24..]);
    let sneaky = Reporter::Holder { address: "198.51.100.7".into(), user_agent: format!("curl/8 {split}") };
    assert!(report(&w, &victim, &sneaky));
    let a = w.actor(&o.admin_secret);
    let (events, _) =
        block_on(w.svc.audit_events(&a, &AuditQuery { target: Some(id), ..AuditQuery::default() })).unwrap();
    let revoked = events.iter().find(|e| json!(e.action) == "token.revoked").expect("audited");
    assert!(
        revoked.summary.contains("from 198.51.100.7 ((not shown: it held a secret or a hash))"),
        "{}",
        revoked.summary
    );
    for piece in [&bystander[3..12], &bystander[12..24], &bystander[24..]] {
        assert!(!revoked.summary.contains(piece), "{}", revoked.summary);
    }
}
