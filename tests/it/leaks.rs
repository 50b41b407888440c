//! Stopping leaks: per-token network allowlists.

use futures_executor::block_on;
use keyward::service::Error;
use serde_json::json;

use crate::support::*;

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
    block_on(w.svc.update_token(&admin, &id, &json!({"allowed_cidrs": ["192.0.2.0/24"]}), w.now())).unwrap();
    assert_eq!(w.verify(&s, &[]), "IP_NOT_ALLOWED");
    block_on(w.svc.update_token(&admin, &id, &json!({"allowed_cidrs": []}), w.now())).unwrap();
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
