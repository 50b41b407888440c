//! Accept and reject side of every rule in docs/API.md's validation table.

use serde_json::{json, Map, Value};

use super::model::{Kind, MemberStatus, Policy, Role};
use super::policy::Lifetime;
use super::validate::*;

/// The typed input of a JSON object, as the server reads a body.
fn obj<T: crate::domain::validate::FromObject>(v: Value) -> T {
    read(v).expect("a JSON object")
}

fn map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

fn mods() -> Vec<String> {
    vec!["billing".into(), "users:read".into(), "audit".into()]
}

fn token_map(extra: Value) -> Map<String, Value> {
    let mut base = map(json!({"label": "CI deploy", "role": "developer", "scopes": ["billing"], "kind": "personal"}));
    base.extend(map(extra));
    base
}

fn token_form(extra: Value) -> NewTokenInput {
    obj(Value::Object(token_map(extra)))
}

fn token_errors(extra: Value) -> FieldErrors {
    new_token(token_form(extra), &mods(), &Policy::default()).unwrap_err()
}

// A 1×1 PNG, a JPEG header and a WebP header.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF";
const WEBP: &[u8] = b"RIFF\x10\0\0\0WEBPVP8 ";

fn data_url(format: &str, bytes: &[u8]) -> String {
    use base64::Engine as _;
    format!("data:image/{format};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

#[test]
fn label_rule() {
    assert_eq!(label_problem("x"), None);
    assert_eq!(label_problem(&"x".repeat(64)), None);
    assert_eq!(label_problem(&format!("  {}  ", "é".repeat(64))), None); // characters, trimmed
    assert!(label_problem("").is_some());
    assert!(label_problem("   ").is_some());
    assert!(label_problem(&"a".repeat(65)).is_some());
    assert!(label_problem("a\tb").is_some());
    assert!(label_problem("a\nb").is_some());
    assert!(label_problem("a\u{7f}b").is_some());
    let t = new_token(token_form(json!({"label": "  padded  "})), &mods(), &Policy::default()).unwrap();
    assert_eq!(t.label, "padded");
}

#[test]
fn description_rule() {
    assert_eq!(description_problem(&"z".repeat(500)), None);
    assert_eq!(description_problem("line one\nline two"), None);
    assert!(description_problem(&"d".repeat(501)).is_some());
    assert!(description_problem("tab\there").is_some());
    assert!(description_problem("cr\r\n").is_some());
    let t = new_token(token_form(json!({"description": ""})), &mods(), &Policy::default()).unwrap();
    assert_eq!(t.description, None);
    assert!(token_errors(json!({"description": 5})).contains_key("description"));
}

#[test]
fn logo_rule() {
    for (f, b) in [("png", PNG), ("jpeg", JPEG), ("webp", WEBP)] {
        assert_eq!(logo_problem(&data_url(f, b)), None, "{f}");
    }
    let mut big = PNG.to_vec();
    big.resize(32 * 1024, 0);
    assert_eq!(logo_problem(&data_url("png", &big)), None);
    big.push(0);
    assert_eq!(logo_problem(&data_url("png", &big)).as_deref(), Some("must be at most 32 KiB"));
    // Bad text is told as bad text, however long.
    let padded = format!("{}{}", data_url("png", PNG), " ".repeat(50_000));
    assert_eq!(logo_problem(&padded).as_deref(), Some("is not valid base64"));
    assert!(logo_problem(&data_url("svg+xml", b"<svg/>")).is_some(), "svg");
    assert!(logo_problem(&data_url("gif", b"GIF89a")).is_some(), "gif");
    assert!(logo_problem(&data_url("png", JPEG)).is_some(), "jpeg bytes labelled png");
    assert!(logo_problem(&data_url("webp", b"RIFF\0\0\0\0AVI LIST")).is_some(), "riff but not webp");
    assert!(logo_problem("data:image/png;base64,!!!!").is_some(), "bad base64");
    assert!(logo_problem("data:image/png,rawbytes").is_some(), "not base64");
    assert!(logo_problem("https://example.com/logo.png").is_some(), "a URL");
    assert!(token_errors(json!({"logo": "nope"})).contains_key("logo"));
}

#[test]
fn role_and_kind_rules() {
    assert!(token_errors(json!({"role": "owner"})).contains_key("role"));
    assert!(token_errors(json!({"role": "Admin"})).contains_key("role"));
    assert!(token_errors(json!({"kind": "team"})).contains_key("kind"));
    let e = new_token(obj(json!({"label": "x"})), &mods(), &Policy::default()).unwrap_err();
    assert_eq!(e.get("role").map(String::as_str), Some("is required"));
    assert_eq!(e.get("kind").map(String::as_str), Some("is required"));
    let t = new_token(token_form(json!({"role": "admin", "kind": "org"})), &mods(), &Policy::default()).unwrap();
    assert_eq!((t.role, t.kind), (Role::Admin, Kind::Org));
}

#[test]
fn scopes_rule() {
    let ok = new_token(token_form(json!({"scopes": []})), &mods(), &Policy::default()).unwrap();
    assert!(ok.scopes.is_empty());
    let ok = new_token(token_form(json!({"scopes": ["billing", "audit"]})), &mods(), &Policy::default()).unwrap();
    assert_eq!(ok.scopes, ["billing", "audit"]);
    let absent: NewTokenInput = obj(json!({"label": "x", "role": "developer", "kind": "personal"}));
    assert!(new_token(absent, &mods(), &Policy::default()).unwrap().scopes.is_empty());
    assert!(token_errors(json!({"scopes": ["billing", "billing"]})).contains_key("scopes"));
    assert!(token_errors(json!({"scopes": ["payroll"]})).contains_key("scopes"));
    assert!(token_errors(json!({"scopes": "billing"})).contains_key("scopes"));
    assert!(token_errors(json!({"scopes": [1]})).contains_key("scopes"));
}

#[test]
fn expiry_rules() {
    let p = Policy::default();
    let t = new_token(token_form(json!({"expires_in_days": 1})), &mods(), &p).unwrap();
    assert_eq!(t.lifetime, Lifetime::Days(1));
    let t = new_token(token_form(json!({"expires_in_days": 365})), &mods(), &p).unwrap();
    assert_eq!(t.lifetime, Lifetime::Days(365));
    let t = new_token(token_form(json!({"expires_in_days": 7.0})), &mods(), &p).unwrap();
    assert_eq!(t.lifetime, Lifetime::Days(7));
    let t = new_token(token_form(json!({"never_expires": false})), &mods(), &p).unwrap();
    assert_eq!(t.lifetime, Lifetime::Days(30));
    for bad in [json!(0), json!(366), json!(-1), json!(1.5), json!("30"), json!(true)] {
        assert!(token_errors(json!({ "expires_in_days": bad })).contains_key("expires_in_days"), "{bad}");
    }
    // never_expires: org tokens only, only when the policy allows, never with expires_in_days
    assert!(token_errors(json!({"never_expires": true})).contains_key("never_expires"));
    assert!(token_errors(json!({"never_expires": true, "kind": "org"})).contains_key("never_expires"));
    let allow = Policy { allow_non_expiring_org_tokens: true, ..Policy::default() };
    let t = new_token(token_form(json!({"never_expires": true, "kind": "org"})), &mods(), &allow).unwrap();
    assert_eq!(t.lifetime, Lifetime::Never);
    let e = new_token(token_form(json!({"never_expires": true, "kind": "org", "expires_in_days": 3})), &mods(), &allow)
        .unwrap_err();
    assert!(e.contains_key("never_expires"));
    assert!(token_errors(json!({"never_expires": "yes"})).contains_key("never_expires"));
    let short = Policy { max_ttl_days: 10, default_ttl_days: 5, ..Policy::default() };
    assert!(new_token(token_form(json!({"expires_in_days": 11})), &mods(), &short).is_err());
    assert_eq!(new_token(token_form(json!({})), &mods(), &short).unwrap().lifetime, Lifetime::Days(5));
}

#[test]
fn owner_member_id_rule() {
    let t = new_token(token_form(json!({"owner_member_id": "mem_abcdefghij0123456789"})), &mods(), &Policy::default())
        .unwrap();
    assert_eq!(t.owner_member_id.as_deref(), Some("mem_abcdefghij0123456789"));
    assert!(token_errors(json!({"owner_member_id": "tok_abcdefghij0123456789"})).contains_key("owner_member_id"));
    assert!(token_errors(json!({"owner_member_id": "mem_abcdefghij0123456789", "kind": "org"}))
        .contains_key("owner_member_id"));
}

#[test]
fn every_failed_field_at_once_and_unknown_fields() {
    let e = new_token(
        obj(json!({"label": "", "role": "boss", "scopes": ["x"], "kind": "k", "expires_in_days": 0, "color": "red"})),
        &mods(),
        &Policy::default(),
    )
    .unwrap_err();
    let keys: Vec<&str> = e.keys().map(String::as_str).collect();
    assert_eq!(keys, ["color", "expires_in_days", "kind", "label", "role", "scopes"]);
    assert_eq!(e["color"], "unknown field");
    // a very long unknown field name is clipped in the answer
    let long = "z".repeat(10_000);
    let mut form = token_map(json!({}));
    form.insert(long, json!(1));
    let e = new_token(obj(Value::Object(form)), &mods(), &Policy::default()).unwrap_err();
    assert!(e.keys().all(|k| k.len() < 100));
}

#[test]
fn token_patch_rules() {
    let p = token_patch(obj(json!({})), &mods()).unwrap();
    assert!(p.is_empty());
    let p = token_patch(
        obj(json!({"label": " New ", "description": null, "logo": "", "scopes": ["audit"], "role": "admin"})),
        &mods(),
    )
    .unwrap();
    assert_eq!(p.label.as_deref(), Some("New"));
    assert_eq!(p.description, Some(None));
    assert_eq!(p.logo, Some(None));
    assert_eq!(p.scopes, Some(vec!["audit".to_owned()]));
    assert_eq!(p.role, Some(Role::Admin));
    let p = token_patch(obj(json!({"description": "hello"})), &mods()).unwrap();
    assert_eq!(p.description, Some(Some("hello".into())));
    assert_eq!(p.logo, None);
    let e =
        token_patch(obj(json!({"label": null, "scopes": ["nope"], "kind": "org", "role": 1})), &mods()).unwrap_err();
    let keys: Vec<&str> = e.keys().map(String::as_str).collect();
    assert_eq!(keys, ["kind", "label", "role", "scopes"]);
}

#[test]
fn grace_rule() {
    assert_eq!(rotate(&obj(json!({}))), Ok(0));
    assert_eq!(rotate(&obj(json!({"grace_seconds": 0}))), Ok(0));
    assert_eq!(rotate(&obj(json!({"grace_seconds": 86400}))), Ok(86_400));
    for bad in [json!(-1), json!(86401), json!(1.5), json!("60")] {
        assert!(rotate(&obj(json!({ "grace_seconds": bad }))).unwrap_err().contains_key("grace_seconds"));
    }
    assert!(rotate(&obj(json!({"grace": 5}))).unwrap_err().contains_key("grace"));
}

#[test]
fn confirmation_rule() {
    assert_eq!(confirmation(&obj(json!({"confirm_label": "CI"}))), Ok("CI".to_owned()));
    assert!(confirmation(&obj(json!({}))).unwrap_err().contains_key("confirm_label"));
    assert!(confirmation(&obj(json!({"confirm_label": 3}))).unwrap_err().contains_key("confirm_label"));
    assert!(confirm_label_matches("CI deploy", "CI deploy"));
    assert!(!confirm_label_matches("CI deploy", "CI deploy "));
    assert!(!confirm_label_matches("CI deploy", "ci deploy"));
    assert!(!confirm_label_matches("CI deploy", ""));
}

#[test]
fn module_rule() {
    for ok in ["a", "billing", "users:read", "x.y-z_9", &format!("a{}", "x".repeat(63))] {
        assert_eq!(module_problem(ok), None, "{ok}");
    }
    for bad in ["", "Billing", "1abc", "a b", "a/b", "ü", &format!("a{}", "b".repeat(64))] {
        assert!(module_problem(bad).is_some(), "{bad}");
    }
    let fifty: Vec<String> = (0..50).map(|i| format!("m{i}")).collect();
    let body = json!({"name": "Acme", "modules": fifty, "admin": {"email": "a@b.io", "name": "A"}});
    assert!(new_org(&obj(body)).is_ok());
    let fifty_one: Vec<String> = (0..51).map(|i| format!("m{i}")).collect();
    let body = json!({"name": "Acme", "modules": fifty_one, "admin": {"email": "a@b.io", "name": "A"}});
    assert!(new_org(&obj(body)).unwrap_err().contains_key("modules"));
    let body = json!({"name": "Acme", "modules": ["a", "a"], "admin": {"email": "a@b.io", "name": "A"}});
    assert!(new_org(&obj(body)).unwrap_err().contains_key("modules"));
}

#[test]
fn email_rule() {
    for ok in ["a@b.io", "first.last+tag@sub.example.com", &format!("{}@b.io", "q".repeat(249))] {
        assert_eq!(email_problem(ok), None, "{ok}");
    }
    for bad in [
        "",
        "a",
        "a@b",
        "@b.io",
        "a@.io",
        "a@b.",
        "a@@b.io",
        "a b@c.io",
        "a@b.io\n",
        &format!("{}@b.io", "a".repeat(250)),
    ] {
        assert!(email_problem(bad).is_some(), "{bad:?}");
    }
    assert_eq!(email_key("Ann@Acme.IO"), "ann@acme.io");
}

#[test]
fn name_rule() {
    assert_eq!(name_problem("Ann"), None);
    assert_eq!(name_problem(&"n".repeat(100)), None);
    assert!(name_problem(&"n".repeat(101)).is_some());
    assert!(name_problem(" ").is_some());
    assert!(name_problem("a\u{0}b").is_some());
}

#[test]
fn member_forms() {
    let m = new_member(&obj(json!({"email": "Dev@Acme.io", "name": " Dev ", "role": "developer"}))).unwrap();
    assert_eq!((m.email.as_str(), m.name.as_str(), m.role), ("Dev@Acme.io", "Dev", Role::Developer));
    let e = new_member(&obj(json!({"email": "x", "role": "root", "extra": 1}))).unwrap_err();
    let keys: Vec<&str> = e.keys().map(String::as_str).collect();
    assert_eq!(keys, ["email", "extra", "name", "role"]);
    let p = member_patch(&obj(json!({"status": "deactivated", "role": "admin"}))).unwrap();
    assert_eq!((p.status, p.role), (Some(MemberStatus::Deactivated), Some(Role::Admin)));
    assert!(member_patch(&obj(json!({"status": "gone"}))).unwrap_err().contains_key("status"));
    assert!(member_patch(&obj(json!({"email": "a@b.io"}))).unwrap_err().contains_key("email"));
}

#[test]
fn org_forms() {
    let e = new_org(&obj(json!({}))).unwrap_err();
    let keys: Vec<&str> = e.keys().map(String::as_str).collect();
    assert_eq!(keys, ["admin", "modules", "name"]);
    let e = new_org(&obj(json!({"name": "A", "modules": [], "admin": {"email": "a@b.io", "name": "A", "role": "x"}})))
        .unwrap_err();
    assert!(e.contains_key("admin.role"));
    let cur = Policy::default();
    let p = org_patch(&obj(json!({"policy": {"max_personal_tokens": 3}})), &cur).unwrap();
    assert_eq!(p.policy, Some(Policy { max_personal_tokens: 3, ..cur.clone() }));
    let e = org_patch(&obj(json!({"policy": {"default_ttl_days": 400}})), &cur).unwrap_err();
    assert!(e.contains_key("policy.default_ttl_days"));
    let e = org_patch(&obj(json!({"policy": {"max_ttl_days": 0, "bogus": 1}, "name": ""})), &cur).unwrap_err();
    let keys: Vec<&str> = e.keys().map(String::as_str).collect();
    assert_eq!(keys, ["name", "policy.bogus", "policy.max_ttl_days"]);
    let p = org_patch(&obj(json!({"modules": ["a", "b"], "name": "New"})), &cur).unwrap();
    assert_eq!(p.modules, Some(vec!["a".into(), "b".into()]));
    assert_eq!(p.name.as_deref(), Some("New"));
}

/// The vectors the browser module is tested with too (`tests/web_suite`): both sides accept and
/// refuse exactly the same strings.
#[test]
fn shared_text_vectors() {
    let v: Value = serde_json::from_str(include_str!("../../tests/vectors/text.json")).unwrap();
    let list = |a: &str, b: &str| -> Vec<String> {
        v[a][b].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
    };
    for ok in list("labels", "ok") {
        assert_eq!(label_problem(&ok), None, "{ok:?}");
        assert_eq!(name_problem(&ok), None, "{ok:?}");
    }
    for bad in list("labels", "bad") {
        assert!(label_problem(&bad).is_some(), "{bad:?}");
        if bad.chars().count() <= 64 {
            assert!(name_problem(&bad).is_some(), "{bad:?}");
        }
    }
    for ok in list("emails", "ok") {
        assert_eq!(email_problem(&ok), None, "{ok:?}");
    }
    for bad in list("emails", "bad") {
        assert!(email_problem(&bad).is_some(), "{bad:?}");
    }
}

#[test]
fn unsafe_characters() {
    for c in [
        '\u{0}', '\u{9f}', '\u{ad}', '\u{200b}', '\u{202e}', '\u{2069}', '\u{feff}', '\u{2028}', '\u{e000}', '\u{f8ff}',
    ] {
        assert!(is_unsafe_char(c), "{:04x}", u32::from(c));
    }
    for c in ['\u{f0000}', '\u{10fffd}', '\u{fdd0}', '\u{fdef}', '\u{fffe}', '\u{ffff}', '\u{10ffff}', '\u{e0041}'] {
        assert!(is_unsafe_char(c), "{:04x}", u32::from(c));
    }
    // default-ignorable: invisible letters, variation selectors, the combining grapheme joiner
    for c in ['\u{e0000}', '\u{3164}', '\u{fe0f}', '\u{34f}', '\u{115f}', '\u{ffa0}', '\u{e01ef}'] {
        assert!(is_unsafe_char(c), "{:04x}", u32::from(c));
    }
    // characters that draw as a blank (a red-team pass split secrets with them)
    for c in ['\u{2800}', '\u{13441}', '\u{13442}', '\u{16fe4}', '\u{1d159}'] {
        assert!(is_unsafe_char(c), "{:04x}", u32::from(c));
    }
    for c in ['a', 'é', ' ', '\u{fffd}', '\u{fdcf}', '\u{fdf0}', '😀', '\u{2801}', '\u{a0}', '\u{13440}', '\u{1d158}']
    {
        assert!(!is_unsafe_char(c), "{:04x}", u32::from(c));
    }
}

#[test]
fn secrets_are_never_quoted_back() {
    let secret = "kw_0000000000000000000000000000003wuQEo";
    let hidden = "(a secret, not shown)";
    // as an unknown field's name, at the top and nested
    let e = org_patch(&obj(json!({ secret: 1, "policy": { secret: 1 } })), &Policy::default()).unwrap_err();
    assert!(e.keys().all(|k| !k.contains("kw_0000")), "{e:?}");
    assert!(e.contains_key(hidden) && e.contains_key(&format!("policy.{hidden}")), "{e:?}");
    // wrapped in other text, in values quoted by messages
    for value in [format!("x {secret}"), format!("{secret} "), format!("\"{secret}"), format!("9{secret}")] {
        let e = token_errors(json!({"scopes": [value], "allowed_cidrs": [value]}));
        assert!(e.values().all(|m| !m.contains("kw_0000") && !m.contains("3wuQEo")), "{e:?}");
        let e = org_patch(&obj(json!({"modules": [value]})), &Policy::default()).unwrap_err();
        assert!(e["modules"].contains(hidden), "{e:?}");
    }
}

#[test]
fn numbers_beyond_any_range_are_told_the_range() {
    for huge in [json!(u64::MAX), json!(1e300), json!(-1e300), json!(18_446_744_073_709_551_616.0)] {
        let e = org_patch(&obj(json!({"policy": {"max_ttl_days": huge}})), &Policy::default()).unwrap_err();
        assert_eq!(e["policy.max_ttl_days"], "must be between 1 and 3650", "{huge}");
        assert!(
            rotate(&obj(json!({ "grace_seconds": huge }))).unwrap_err()["grace_seconds"].starts_with("must be between")
        );
    }
    assert_eq!(token_errors(json!({"expires_in_days": 1.5}))["expires_in_days"], "must be a whole number");
}

#[test]
fn overlapping_and_webhook_secrets_are_hidden_too() {
    use crate::domain::token::hide_secrets;
    let live = "kw_JYc4cAlp2GcJrMlLo7Wq6B5HxXlwRg01B9aS";
    // A half-pasted secret ending in the next one's prefix (the red team's case), and ones
    // overlapping by a single character.
    for text in [
        format!("kw_Zq9Zq9Zq9Zq9Zq9Zq9Zq9Zq9Zq9Zq9Zq9Z{live}"),
        format!("kw_Zq9Zq9Zq9Zq9Zq9Zq9Zq9Zq9Zq9Zq9Zq9Zk{}", &live[1..]),
        format!("ab_{}{live}", "x".repeat(36)),
    ] {
        let shown = hide_secrets(&text);
        assert!(!shown.contains("JYc4cAlp2GcJrMlLo7Wq6B5HxXlwRg01B9aS"), "{shown}");
        assert!(!shown.contains("_J") && !shown.contains("w_"), "{shown}");
    }
    let whsec = "whsec_U5ebgBzS205mZg9B2jyRWC1GuO5ugaFM";
    assert_eq!(hide_secrets(&format!("a {whsec}!")), "a (a secret, not shown)!");
    let e = org_patch(&obj(json!({ "modules": [whsec], whsec: 1 })), &Policy::default()).unwrap_err();
    assert!(!format!("{e:?}").contains("U5ebgBzS"), "{e:?}");
    // Multibyte text around a secret is kept whole.
    assert_eq!(hide_secrets(&format!("é{live}ü")), "é(a secret, not shown)ü");
}

#[test]
fn stored_text_refuses_secrets() {
    let live = "kw_0000000000000000000000000000003wuQEo";
    let whsec = "whsec_U5ebgBzS205mZg9B2jyRWC1GuO5ugaFM";
    for text in [format!("CI {live}"), format!("x{live}y"), format!("hook {whsec}")] {
        assert_eq!(label_problem(&text).as_deref(), Some(SECRET_PROBLEM), "{text}");
        assert_eq!(name_problem(&text).as_deref(), Some(SECRET_PROBLEM), "{text}");
        assert_eq!(description_problem(&text).as_deref(), Some(SECRET_PROBLEM), "{text}");
    }
    assert_eq!(email_problem(&format!("{live}@acme.io")).as_deref(), Some(SECRET_PROBLEM));
    // Near-misses are only hidden, not refused: a label may hold any text that is not a secret.
    assert_eq!(label_problem("kw_0000000000000000000000000000003wuQEp"), None);
    let e = webhook(&obj(json!({"url": format!("https://example.com/hook/{live}")})), false).unwrap_err();
    assert_eq!(e["url"], SECRET_PROBLEM);
}

#[test]
fn list_filters_take_ids_of_their_kind_only() {
    let id = |prefix: &str| format!("{prefix}0123456789ABCDEFghij");
    let owner = |o: &str| token_filters(None, None, Some(o)).err().map(|e| e.into_keys().collect::<Vec<_>>());
    assert_eq!(owner(&id("mem_")), None);
    for bad in [id("tok_"), id("org_"), id("MEM_"), id("mem_")[..23].to_string(), format!("{}k", id("mem_"))] {
        assert_eq!(owner(&bad), Some(vec!["owner".to_string()]), "{bad}");
    }
    let audit = |target: Option<&str>, actor: Option<&str>| audit_filters(target, actor, Some("7"), 50, 100);
    for target in ["org_", "mem_", "tok_"] {
        assert_eq!(audit(Some(&id(target)), Some(&id("tok_"))), Ok(7), "{target}");
    }
    for (target, actor, failed) in [
        (Some(id("evt_")), None, vec!["target"]),
        (None, Some(id("mem_")), vec!["actor_token"]),
        (Some("mem_".to_string()), Some(id("tok_") + "/"), vec!["actor_token", "target"]),
    ] {
        let e = audit(target.as_deref(), actor.as_deref()).unwrap_err();
        assert_eq!(e.keys().collect::<Vec<_>>(), failed);
    }
    let e = audit_filters(None, Some("x"), Some("101"), 50, 100).unwrap_err();
    assert_eq!(e["actor_token"], "must be a token id (tok_…): a prefix and 20 letters or digits");
    assert_eq!(e["limit"], "must be a whole number from 1 to 100");
    assert_eq!(
        token_filters(None, None, Some("x")).unwrap_err()["owner"],
        "must be a member id (mem_…): a prefix and 20 letters or digits"
    );
    assert_eq!(audit_filters(None, None, None, 50, 100), Ok(50));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]

    /// The hand check answers what the `base64` crate's decoder answers, for text that is
    /// mostly base64 (near misses included) and for the encoding of any bytes.
    #[test]
    fn base64_head_agrees_with_the_base64_crate(
        s in "[A-Za-z0-9+/]{0,16}(=|==|===)?|[A-Za-z0-9+/= \n_-]{0,12}",
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
        head in 0usize..16,
    ) {
        use base64::Engine as _;
        let std = base64::engine::general_purpose::STANDARD;
        for text in [s.clone(), std.encode(&bytes)] {
            let expected = std.decode(&text).ok().map(|d| (d.len(), d[..head.min(d.len())].to_vec()));
            proptest::prop_assert_eq!(base64_head(&text, head), expected, "{:?}", text);
        }
    }
}

/// Nor do blank-looking characters or combining marks hide a secret (a red-team pass).
#[test]
fn blanks_and_combining_marks_split_nothing() {
    let secret = "kw_0000000000000000000000000000003wuQEo";
    for gap in ["\u{2800}", "\u{13441}", "\u{1d159}", "\u{16fe4}", "\u{301}", "\u{332}", "\u{20dd}", "\u{1d17b}"] {
        let split = format!("x {}{gap}{} y", &secret[..17], &secret[17..]);
        assert_eq!(description_problem(&split).as_deref(), Some(SECRET_PROBLEM), "{gap:?}");
        assert!(holds_secret(&split), "{gap:?}");
    }
    assert!(label_problem("prod\u{2800}").is_some(), "a blank does not pass for a space");
    assert_eq!(label_problem("Café Münster"), None, "accents stay allowed");
    assert!(!holds_secret("an ordinary user agent/1.0 (linux)"));
}

/// A live secret split by a space, a line break or an invisible character is still a secret: the
/// same joining as for hashes (found by an outside review in descriptions).
#[test]
fn stored_text_refuses_a_secret_split_by_spaces_or_invisible_characters() {
    let secret = "kw_0000000000000000000000000000003wuQEo";
    for gap in [" ", "\n", "\u{200b}", "\u{2060}", "\u{ad}", " \u{200b}\n", "\t"] {
        for at in [3, 10, 33, 38] {
            let split = format!("see {}{gap}{} here", &secret[..at], &secret[at..]);
            let want = if gap == "\t" { None } else { Some(SECRET_PROBLEM) };
            if want.is_some() {
                assert_eq!(description_problem(&split).as_deref(), want, "{gap:?} at {at}");
            }
            if !gap.contains(['\n', '\t']) && !gap.chars().any(is_unsafe_char) {
                assert_eq!(label_problem(&split).as_deref(), Some(SECRET_PROBLEM), "{gap:?} at {at}");
                assert_eq!(name_problem(&split).as_deref(), Some(SECRET_PROBLEM), "{gap:?} at {at}");
            }
        }
    }
    // a tab is a control character: refused as such, before any secret is looked for
    assert_eq!(description_problem("a\tb").as_deref(), Some("must not contain control characters other than newline"));
    // the same words around a near-miss (bad checksum) are only text
    assert_eq!(description_problem("see kw_00000000000000 00000000000000003wuQEp here"), None);
    // a webhook secret split by a space too
    assert_eq!(description_problem("whsec_MfKQ9r8GKYqr TwjUPD8ILPZIo2LaLaSw").as_deref(), Some(SECRET_PROBLEM));
}

#[test]
fn stored_text_refuses_a_hash_and_messages_hide_one() {
    use crate::domain::token::{hide_secrets, HIDDEN};
    let hash = crate::domain::token::sha256_hex("kw_0000000000000000000000000000003wuQEo");
    for text in [hash.clone(), hash.to_uppercase(), format!("x{hash}y"), format!("{hash}0")] {
        if text.len() == 64 {
            assert_eq!(label_problem(&text).as_deref(), Some(HASH_PROBLEM), "{text}");
        }
        assert_eq!(description_problem(&text).as_deref(), Some(HASH_PROBLEM), "{text}");
        assert_eq!(name_problem(&text).as_deref(), Some(HASH_PROBLEM), "{text}");
        assert!(!hide_secrets(&text).contains(&hash[..16]) && hide_secrets(&text).contains(HIDDEN), "{text}");
    }
    assert_eq!(email_problem(&format!("{hash}@b.io")).as_deref(), Some(HASH_PROBLEM));
    // invisible characters, allowed in a description, do not split a run on screen
    for gap in ['\u{200b}', '\u{200c}', '\u{2060}', '\u{ad}'] {
        let split = format!("{}{gap}{}", &hash[..32], &hash[32..]);
        assert_eq!(description_problem(&split).as_deref(), Some(HASH_PROBLEM), "{gap:?}");
    }
    // nor do spaces and line breaks, in a description, a label or a name
    for gap in [" ", "\n", " \n ", "\u{3000}", "\u{a0}"] {
        let split = format!("{}{gap}{}", &hash[..32], &hash[32..]);
        assert_eq!(description_problem(&split).as_deref(), Some(HASH_PROBLEM), "{gap:?}");
        if !gap.contains('\n') {
            // (a label is too short to hold one split)
            assert_eq!(name_problem(&split).as_deref(), Some(HASH_PROBLEM), "{gap:?}");
        }
    }
    // 63 hex digits, or 64 broken by another character, are only text
    let short = &hash[..63];
    assert_eq!(description_problem(&format!("{short}-{short}")), None);
    assert_eq!(description_problem(&format!("{short}\n")), None);
    assert_eq!(description_problem(&format!("{}-{}", &hash[..32], &hash[32..])), None);
    assert_eq!(hide_secrets(short), short);
    // a module name's message never quotes one back
    let e = new_org(&obj(json!({"name": "O", "modules": [hash.clone()], "admin": {"email": "a@b.io", "name": "A"}})))
        .unwrap_err();
    assert!(!format!("{e:?}").contains(&hash[..16]), "{e:?}");
}

#[test]
fn audit_sink_form() {
    let token = "12345678-90ab-cdef-1234-567890abcdef";
    let ok = audit_sink(
        &obj(json!({"kind": "splunk_hec", "url": "https://splunk.example.com:8088/services/collector/event", "token": token})),
        false,
    )
    .unwrap();
    assert_eq!(ok.kind, crate::domain::sink::SinkKind::SplunkHec);
    assert_eq!(ok.token, token);
    // Local development admits http and private hosts, as for webhooks.
    let local = json!({"kind": "splunk_hec", "url": "http://127.0.0.1:8088/services/collector", "token": token});
    assert!(audit_sink(&obj(local.clone()), true).is_ok());
    let e = audit_sink(&obj(local), false).unwrap_err();
    assert_eq!(e.keys().collect::<Vec<_>>(), ["url"]);
    for url in ["https://10.1.2.3/", "https://localhost:8088/", "https://user:pw@splunk.example.com/", "ftp://x/"] {
        let e = audit_sink(&obj(json!({"kind": "splunk_hec", "url": url, "token": token})), false).unwrap_err();
        assert!(e.contains_key("url"), "{url}");
    }
    // Every failed field at once; the token is never quoted back.
    let bad = "has a space inside";
    let e = audit_sink(&obj(json!({"kind": "splunk", "url": 3, "token": bad, "x": 1})), true).unwrap_err();
    assert_eq!(e.keys().map(String::as_str).collect::<Vec<_>>(), ["kind", "token", "url", "x"]);
    assert!(e.values().all(|m| !m.contains(bad)));
    let e = audit_sink(&obj(json!({"kind": null})), true).unwrap_err();
    assert_eq!(e.len(), 3);
    assert!(e.values().all(|m| m == "is required"));
    let short = audit_sink(&obj(json!({"kind": "splunk_hec", "url": "https://a.example/", "token": "short"})), false);
    assert!(short.unwrap_err().contains_key("token"));
}

#[test]
fn webhook_events_are_explained() {
    use crate::domain::webhook::EVENT_KINDS;
    let events = |list: Value| webhook(&obj(json!({"url": "https://example.com/h", "events": list})), false);
    let unknown = format!("unknown event kind (one of *, {})", EVENT_KINDS.join(", "));
    assert!(unknown.starts_with("unknown event kind (one of *, org.created, org.updated, member.created, "));
    assert_eq!(events(json!(["token.nope"])).unwrap_err()["events"], unknown);
    assert_eq!(events(json!(["*", "*"])).unwrap_err()["events"], "must not name an event kind twice");
    assert_eq!(events(json!([])).unwrap_err()["events"], "must name at least one event kind, or \"*\" for all");
    assert_eq!(
        events(json!(["*", "org.created"])).unwrap_err()["events"],
        "\"*\" already names every kind: give it alone"
    );
    assert_eq!(events(json!(["org.created"])).unwrap().events, ["org.created"]);
}
