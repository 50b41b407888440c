//! The authority's alarm: what a commit asks it to wake for.
//! (Many were first written to pin behaviour mutation testing found unchecked; docs/ASSURANCE.md.)

use futures_executor::block_on;
use keyward::domain::audit::next_day;
use keyward::domain::reminder::EXPIRY_WARNING_DAYS;
use serde_json::json;

use crate::support::{form, World};

#[test]
fn a_new_or_edited_token_asks_for_a_wake_at_its_first_expiry_warning() {
    let w = World::new();
    let o = w.org("Acme", &["billing"]);
    // no e-mails: they would ask for a wake right away and hide the reminder's
    let a = w.actor(&o.admin_secret);
    block_on(w.svc.update_org(
        &a,
        &form(json!({"policy": {"email_notifications": false, "allow_non_expiring_org_tokens": true}})),
        w.now(),
    ))
    .unwrap();
    let _ = w.store().take_wake();

    let (_, id) = w.create(
        &o.admin_secret,
        json!({"label": "ci", "role": "developer", "kind": "org", "scopes": ["billing"], "expires_in_days": 30}),
    );
    let expires = block_on(w.svc.repo().token(&o.id, &id)).unwrap().unwrap().expires_at.unwrap();
    let first_warning = expires.plus_days(-i64::from(*EXPIRY_WARNING_DAYS.iter().max().unwrap()));
    assert!(first_warning > w.now());
    // Whichever comes first: the warning, or the audit checkpoint at the end of the day.
    let checkpoint = next_day(w.now());
    assert!(checkpoint < first_warning);
    assert_eq!(w.store().take_wake(), Some(checkpoint));
    assert_eq!(w.store().take_wake(), None, "a wake is taken once");

    w.advance_seconds(3600);
    let a = w.actor(&o.admin_secret);
    block_on(w.svc.update_token(&a, &id, form(json!({"label": "ci-2"})), w.now())).unwrap();
    assert_eq!(w.store().take_wake(), Some(first_warning.min(next_day(w.now()))), "an edit asks again");

    // a token that never expires, in an org without an idle policy, has nothing to wake for
    let (_, _) = w.create(
        &o.admin_secret,
        json!({"label": "forever", "role": "developer", "kind": "org", "never_expires": true}),
    );
    assert_eq!(w.store().take_wake(), Some(next_day(w.now())), "only the audit checkpoint");
}
