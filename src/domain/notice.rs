//! What people are told of a change, in words: the subject and body of a notification (and so of
//! its email), and the data of the webhook event it becomes. Pure: the service decides who is
//! told and when; this module only writes.
//!
//! Nothing written here holds a secret or a hash: tokens are named by label and masked form.

use serde_json::{json, Value};

use super::model::{Member, Token};
use super::time::Timestamp;

/// What a notice is about: a token (as the change leaves it, or as it was before a delete) or a
/// member.
#[derive(Clone, Copy, Debug)]
pub enum About<'a> {
    /// A token.
    Token(&'a Token),
    /// A member.
    Member(&'a Member),
}

/// A notice to write: `who` (in words: "Ada <ada@x.io>", "keyward", "A leak report") made the
/// change `verb` ("revoked", "role changed to admin", …) to what it is `about`, in the org named
/// `org`, at `at`. `text` replaces the body's first sentence when "<who> <verb> the token … at
/// <time>." does not fit (a warning rather than a change).
#[derive(Clone, Copy, Debug)]
pub struct Notice<'a> {
    /// The org's name.
    pub org: &'a str,
    /// Who made the change, in words.
    pub who: &'a str,
    /// The change, in words.
    pub verb: &'a str,
    /// What it is about.
    pub about: About<'a>,
    /// The body's first sentence, if the usual one does not fit.
    pub text: Option<&'a str>,
    /// When.
    pub at: Timestamp,
}

/// A token as people read it in notices and summaries: `personal developer token "ci"
/// (kw_••••••••3f9A)`.
#[must_use]
pub fn named(t: &Token) -> String {
    format!("{} {} token \"{}\" ({})", t.kind.as_str(), t.role.as_str(), t.label, t.masked())
}

/// The change and first sentence of a warning that `t` expires in `days` days, at `at`.
#[must_use]
pub fn expiry_warning(t: &Token, days: u32, at: Timestamp) -> (String, String) {
    let verb = if days == 1 { "expires in 1 day".to_owned() } else { format!("expires in {days} days") };
    (verb, format!("The {} expires at {at}. Rotate or replace it before then.", named(t)))
}

/// The change and first sentence of a warning that `t`, unused since `since`, will be disabled
/// at `at` by the org's idle policy.
#[must_use]
pub fn idle_warning(t: &Token, since: Timestamp, at: Timestamp) -> (String, String) {
    let text = format!(
        "The {} has not been used since {since}; keyward will disable it at {at} unless it is used before then.",
        named(t)
    );
    ("is unused and will be disabled".to_owned(), text)
}

/// The change and first sentence of a notice that `t` hit its rate limit of `limit` per
/// `period_s` seconds at `at` (told once per window).
#[must_use]
pub fn limited(t: &Token, limit: u32, period_s: u32, at: Timestamp) -> (String, String) {
    let text = format!(
        "The {} reached its rate limit of {limit} per {period_s} s at {at}; verifications over it are answered RATE_LIMITED until the window moves on.",
        named(t)
    );
    ("reached its rate limit".to_owned(), text)
}

/// The change and first sentence of a notice that `t` ran out of credits at `at` (told once per
/// refill, or until an admin sets its balance).
#[must_use]
pub fn credits_exhausted(t: &Token, at: Timestamp) -> (String, String) {
    let next = t.credits.and_then(|c| c.refill).map_or_else(
        || " An admin can set its credits again.".to_owned(),
        |r| format!(" They are refilled to {} every {} at 00:00 UTC.", r.amount, r.interval.as_str()),
    );
    let text =
        format!("The {} ran out of credits at {at}; its verifications are answered USAGE_EXCEEDED.{next}", named(t));
    ("ran out of credits".to_owned(), text)
}

/// The subject and body of a notification.
#[must_use]
pub fn written(n: &Notice<'_>) -> (String, String) {
    let Notice { org, who, verb, at, .. } = *n;
    match n.about {
        About::Token(t) => {
            let first = n.text.map_or_else(|| format!("{who} {verb} the {} at {at}.", named(t)), str::to_owned);
            let scopes = if t.scopes.is_empty() { "none".to_owned() } else { t.scopes.join(", ") };
            let expires = t.expires_at.map_or_else(|| "never".to_owned(), |e| e.to_string());
            (
                format!("[{org}] API token \"{}\" {verb}", t.label),
                format!("{first}\nScopes: {scopes}.\nExpires: {expires}.\n{}", if_unexpected(verb)),
            )
        }
        About::Member(m) => (
            format!("[{org}] Member {}: {verb}", m.email),
            format!(
                "{who} changed the member {} <{}> at {at}: {verb}.\nIf this was not expected, check the org's members in keyward.",
                m.name, m.email
            ),
        ),
    }
}

/// The body's last line: what to do if the change was not expected. A token already revoked or
/// deleted cannot be revoked again: its reader is sent to the audit log instead.
fn if_unexpected(verb: &str) -> &'static str {
    if verb == "revoked" || verb == "deleted" {
        "If this was not expected, see who did it in keyward's audit log."
    } else {
        "If this was not expected, revoke it in keyward."
    }
}

/// The `data` of the webhook event a notice becomes (one per change, whoever is told).
/// `kind` is the audit action, `by` the notification's `created_by`.
#[must_use]
pub fn event_data(org_id: &str, kind: &str, n: &Notice<'_>, by: &str) -> Value {
    let (subject, body) = written(n);
    let token = match n.about {
        About::Token(t) => Some(t),
        About::Member(_) => None,
    };
    json!({
        "org_id": org_id,
        "kind": kind,
        "subject": subject,
        "body": body,
        "token_id": token.map(|t| t.id.clone()),
        "created_by": by,
        "created_at": n.at.to_rfc3339(),
        "masked": token.map(Token::masked),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{Kind, MemberStatus, Role, State};

    const AT: Timestamp = Timestamp::from_millis(1_700_000_000_000);

    fn token() -> Token {
        serde_json::from_value(json!({
            "id": "tok_1", "org_id": "org_1", "kind": "personal", "owner_member_id": "mem_1",
            "created_by": "mem_1", "created_with": null, "label": "ci", "description": null, "logo": null,
            "role": "developer", "scopes": ["billing", "reports"], "created_at": 0, "updated_at": 0,
            "expires_at": null, "state": "active", "revoked_at": null, "hint": "abcd", "prefix": "kw",
            "rotated_at": null, "previous_valid_until": null, "hash": "h"
        }))
        .unwrap()
    }

    fn notice<'a>(verb: &'a str, about: About<'a>, text: Option<&'a str>) -> Notice<'a> {
        Notice { org: "Acme", who: "Ada <ada@acme.io>", verb, about, text, at: AT }
    }

    #[test]
    fn a_token_notice_names_the_change_the_token_and_what_to_do() {
        let t = token();
        let (subject, body) = written(&notice("disabled", About::Token(&t), None));
        assert_eq!(subject, "[Acme] API token \"ci\" disabled");
        assert_eq!(
            body,
            format!("Ada <ada@acme.io> disabled the personal developer token \"ci\" (kw_••••••••abcd) at {AT}.\nScopes: billing, reports.\nExpires: never.\nIf this was not expected, revoke it in keyward.")
        );
        let none = Token { scopes: vec![], expires_at: Some(AT), kind: Kind::Org, role: Role::Admin, ..t.clone() };
        let (_, body) = written(&notice("rotated", About::Token(&none), Some("A warning.")));
        assert_eq!(
            body,
            format!("A warning.\nScopes: none.\nExpires: {AT}.\nIf this was not expected, revoke it in keyward.")
        );
    }

    #[test]
    fn warnings_name_the_token_and_when() {
        let t = token();
        let (verb, text) = expiry_warning(&t, 7, AT);
        assert_eq!(verb, "expires in 7 days");
        assert_eq!(text, format!("The personal developer token \"ci\" (kw_••••••••abcd) expires at {AT}. Rotate or replace it before then."));
        assert_eq!(expiry_warning(&t, 1, AT).0, "expires in 1 day");
        let since = Timestamp::from_millis(0);
        let (verb, text) = idle_warning(&t, since, AT);
        assert_eq!(verb, "is unused and will be disabled");
        assert_eq!(text, format!("The personal developer token \"ci\" (kw_••••••••abcd) has not been used since {since}; keyward will disable it at {AT} unless it is used before then."));
    }

    #[test]
    fn a_revoked_or_deleted_token_is_not_to_be_revoked_again() {
        let t = Token { state: State::Revoked, ..token() };
        for verb in ["revoked", "deleted"] {
            let (_, body) = written(&notice(verb, About::Token(&t), None));
            assert!(body.ends_with("If this was not expected, see who did it in keyward's audit log."), "{body}");
            assert!(!body.contains("revoke it"), "{body}");
        }
    }

    #[test]
    fn a_member_notice_and_the_webhook_event() {
        let m = Member {
            id: "mem_2".into(),
            org_id: "org_1".into(),
            email: "dee@acme.io".into(),
            name: "Dee".into(),
            role: Role::Admin,
            status: MemberStatus::Active,
            created_at: AT,
            version: 1,
        };
        let n = notice("role changed to admin", About::Member(&m), None);
        let (subject, body) = written(&n);
        assert_eq!(subject, "[Acme] Member dee@acme.io: role changed to admin");
        assert_eq!(
            body,
            format!("Ada <ada@acme.io> changed the member Dee <dee@acme.io> at {AT}: role changed to admin.\nIf this was not expected, check the org's members in keyward.")
        );
        let data = event_data("org_1", "member.updated", &n, "mem_1");
        assert_eq!(data["subject"], subject);
        assert_eq!((data["token_id"].clone(), data["masked"].clone()), (Value::Null, Value::Null));
        assert_eq!(data["created_at"], AT.to_rfc3339());
        let t = token();
        let data = event_data("org_1", "token.created", &notice("created", About::Token(&t), None), "mem_1");
        assert_eq!((data["token_id"].as_str(), data["masked"].as_str()), (Some("tok_1"), Some("kw_••••••••abcd")));
        assert_eq!(
            (data["org_id"].as_str(), data["kind"].as_str(), data["created_by"].as_str()),
            (Some("org_1"), Some("token.created"), Some("mem_1"))
        );
    }

    #[test]
    fn limits_and_credits_are_told_in_words() {
        let t = token();
        let (verb, text) = limited(&t, 5, 60, AT);
        assert_eq!(verb, "reached its rate limit");
        assert!(text.contains("rate limit of 5 per 60 s") && text.contains("RATE_LIMITED"), "{text}");
        assert!(text.contains(&AT.to_rfc3339()), "{text}");
        let (verb, text) = credits_exhausted(&t, AT);
        assert_eq!(verb, "ran out of credits");
        assert!(text.contains("USAGE_EXCEEDED") && text.ends_with("An admin can set its credits again."), "{text}");
        let refilled = Token {
            credits: Some(crate::domain::meter::CreditPlan {
                refill: Some(crate::domain::meter::Refill {
                    amount: 50,
                    interval: crate::domain::meter::Interval::Month,
                    day_of_month: None,
                }),
                shared: false,
            }),
            ..t
        };
        let (_, text) = credits_exhausted(&refilled, AT);
        assert!(text.ends_with("They are refilled to 50 every month at 00:00 UTC."), "{text}");
    }
}
