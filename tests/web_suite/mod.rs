//! Every export of the browser module, through JS values as the admin page passes them.

use js_sys::{Array, Object, Reflect};
use keyward::browser::{
    allowed_actions, audit_actions, check_token, confirm_label_matches, effective_role, grantable_scopes,
    keeps_an_active_admin, keyward_access, mask_token, may_act_on, validate_member_form, validate_token_edit,
    validate_token_form, validate_webhook_form, version, webhook_event_kinds,
};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

const V1: &str = "kw_0000000000000000000000000000003wuQEo";
const V2: &str = "kw_AbCdEfGhIjKlMnOpQrStUvWxYz012314Wc0Q";

/// A JS object from JSON text, as the page would build it.
fn js(json: &str) -> JsValue {
    js_sys::JSON::parse(json).expect("test JSON")
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).expect("property")
}

fn errors(v: &JsValue) -> Vec<String> {
    let e = get(v, "errors");
    let mut keys: Vec<String> =
        Object::keys(e.unchecked_ref::<Object>()).iter().filter_map(|k| k.as_string()).collect();
    keys.sort();
    keys
}

fn modules() -> JsValue {
    Array::of3(&"billing".into(), &"users:read".into(), &"audit".into()).into()
}

fn policy() -> JsValue {
    js(r#"{"max_personal_tokens":10,"default_ttl_days":30,"max_ttl_days":365,"allow_non_expiring_org_tokens":false}"#)
}

fn token_form(json: &str) -> JsValue {
    validate_token_form(js(json), modules(), policy()).expect("validated")
}

#[wasm_bindgen_test]
fn masks_the_design_vectors_like_the_server() {
    assert_eq!(mask_token(V1), "kw_••••••••uQEo");
    assert_eq!(mask_token(V2), "kw_••••••••Wc0Q");
    assert_eq!(mask_token("short"), "_••••••••");
}

#[wasm_bindgen_test]
fn checks_token_format() {
    let ok = check_token(V1);
    assert_eq!(get(&ok, "ok"), JsValue::TRUE);
    assert_eq!(get(&ok, "code").as_string().as_deref(), Some("VALID_FORMAT"));
    assert_eq!(get(&ok, "prefix").as_string().as_deref(), Some("kw"));
    assert_eq!(get(&ok, "masked").as_string().as_deref(), Some("kw_••••••••uQEo"));
    for bad in ["", "kw_", "junk", "kw_0000000000000000000000000000003wuQEp", "KW_0000000000000000000000000000003wuQEo"]
    {
        let r = check_token(bad);
        assert_eq!(get(&r, "ok"), JsValue::FALSE, "{bad}");
        assert_eq!(get(&r, "code").as_string().as_deref(), Some("MALFORMED"));
        assert!(get(&r, "prefix").is_undefined() && get(&r, "masked").is_undefined());
    }
}

#[wasm_bindgen_test]
fn token_form_accepts_a_good_form() {
    let r =
        token_form(r#"{"label":"CI","role":"developer","scopes":["billing"],"kind":"personal","expires_in_days":30}"#);
    assert_eq!(get(&r, "ok"), JsValue::TRUE);
    assert!(errors(&r).is_empty());
}

#[wasm_bindgen_test]
fn limits_and_credits_are_checked_with_the_server_rules() {
    let good = token_form(
        r#"{"label":"CI","role":"developer","kind":"org","ratelimit":{"limit":5,"period_s":60},
            "credits":{"remaining":10,"refill":{"amount":10,"interval":"month","day_of_month":15}}}"#,
    );
    assert_eq!(get(&good, "ok"), JsValue::TRUE);
    let bad = token_form(
        r#"{"label":"CI","role":"developer","kind":"org","ratelimit":{"limit":0,"period_s":60},
            "credits":{"refill":{"amount":1,"interval":"day","day_of_month":2}}}"#,
    );
    assert_eq!(errors(&bad), ["credits.refill.day_of_month", "credits.remaining", "ratelimit.limit"]);
    let edit = |json: &str| validate_token_edit(js(json), modules()).expect("validated");
    assert_eq!(get(&edit(r#"{"credits":{"remaining":3},"ratelimit":null}"#), "ok"), JsValue::TRUE);
    assert_eq!(errors(&edit(r#"{"credits":{"remaining":-1},"meta":[]}"#)), ["credits.remaining", "meta"]);
    assert!(validate_token_edit(js("[]"), modules()).unwrap_err().is_instance_of::<js_sys::TypeError>());
}

#[wasm_bindgen_test]
fn token_form_reports_every_rule() {
    let r = token_form(
        r#"{"label":"","role":"boss","scopes":["billing","billing"],"kind":"team","expires_in_days":400,"description":5,"logo":"data:image/svg+xml;base64,PHN2Zy8+","extra":1}"#,
    );
    assert_eq!(get(&r, "ok"), JsValue::FALSE);
    assert_eq!(errors(&r), ["description", "expires_in_days", "extra", "kind", "label", "logo", "role", "scopes"]);
    let r = token_form(r#"{"label":"a\u0007b","role":"developer","kind":"personal","scopes":["payroll"]}"#);
    assert_eq!(errors(&r), ["label", "scopes"]);
    let long = format!(
        r#"{{"label":"{}","role":"developer","kind":"org","description":"{}"}}"#,
        "x".repeat(65),
        "d".repeat(501)
    );
    assert_eq!(errors(&token_form(&long)), ["description", "label"]);
    // never_expires follows the policy, as on the server
    assert_eq!(
        errors(&token_form(r#"{"label":"x","role":"developer","kind":"org","never_expires":true}"#)),
        ["never_expires"]
    );
    let allow = js(
        r#"{"max_personal_tokens":10,"default_ttl_days":30,"max_ttl_days":365,"allow_non_expiring_org_tokens":true}"#,
    );
    let r = validate_token_form(
        js(r#"{"label":"x","role":"developer","kind":"org","never_expires":true}"#),
        modules(),
        allow,
    )
    .unwrap();
    assert_eq!(get(&r, "ok"), JsValue::TRUE);
    // a JS number from an <input type=number> is a float; whole ones are accepted
    let form = js(r#"{"label":"x","role":"developer","kind":"org"}"#);
    Reflect::set(&form, &"expires_in_days".into(), &JsValue::from_f64(7.0)).unwrap();
    assert_eq!(get(&validate_token_form(form.clone(), modules(), policy()).unwrap(), "ok"), JsValue::TRUE);
    Reflect::set(&form, &"expires_in_days".into(), &JsValue::from_f64(7.5)).unwrap();
    assert_eq!(errors(&validate_token_form(form, modules(), policy()).unwrap()), ["expires_in_days"]);
}

#[wasm_bindgen_test]
fn token_form_logo_rules() {
    let png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    let r = token_form(&format!(r#"{{"label":"x","role":"developer","kind":"org","logo":"{png}"}}"#));
    assert_eq!(get(&r, "ok"), JsValue::TRUE);
    let fake = "data:image/png;base64,R0lGODlhAQABAAAAACw=";
    assert_eq!(
        errors(&token_form(&format!(r#"{{"label":"x","role":"developer","kind":"org","logo":"{fake}"}}"#))),
        ["logo"]
    );
}

#[wasm_bindgen_test]
fn forms_read_like_the_json_the_server_gets() {
    // undefined properties are left out, as JSON.stringify does: an optional field set to undefined
    let form = js(r#"{"label":"x","role":"developer","kind":"org"}"#);
    Reflect::set(&form, &"description".into(), &JsValue::UNDEFINED).unwrap();
    assert_eq!(get(&validate_token_form(form.clone(), modules(), policy()).unwrap(), "ok"), JsValue::TRUE);
    // while null is a value, and a wrong one for a label
    Reflect::set(&form, &"label".into(), &JsValue::NULL).unwrap();
    assert_eq!(errors(&validate_token_form(form.clone(), modules(), policy()).unwrap()), ["label"]);
    // non-JSON values and cycles are a TypeError, never a panic or a hang
    let f = js_sys::Function::new_no_args("return 1");
    Reflect::set(&form, &"label".into(), &f).unwrap();
    assert!(validate_token_form(form.clone(), modules(), policy()).unwrap_err().is_instance_of::<js_sys::TypeError>());
    let nested = js(r#"{"a":{}}"#);
    Reflect::set(&get(&nested, "a"), &"self".into(), &nested).unwrap();
    Reflect::set(&form, &"label".into(), &nested).unwrap();
    assert!(validate_token_form(form, modules(), policy()).unwrap_err().is_instance_of::<js_sys::TypeError>());
    // a policy with fields missing keeps the defaults for them; a wrong field is refused
    let partial = js(r#"{"allow_non_expiring_org_tokens":true}"#);
    let r = validate_token_form(
        js(r#"{"label":"x","role":"developer","kind":"org","never_expires":true}"#),
        modules(),
        partial,
    );
    assert_eq!(get(&r.unwrap(), "ok"), JsValue::TRUE);
    let e = validate_token_form(js("{}"), js(r#"["billing", 5]"#), policy()).unwrap_err();
    assert!(e.is_instance_of::<js_sys::TypeError>());
}

#[wasm_bindgen_test]
fn member_form() {
    let ok = validate_member_form(js(r#"{"email":"dev@acme.io","name":"Dev","role":"developer"}"#)).unwrap();
    assert_eq!(get(&ok, "ok"), JsValue::TRUE);
    let bad = validate_member_form(js(r#"{"email":"dev@acme","name":" ","role":"owner","x":1}"#)).unwrap();
    assert_eq!(errors(&bad), ["email", "name", "role", "x"]);
}

#[wasm_bindgen_test]
fn wrong_argument_shapes_are_type_errors_not_panics() {
    for not_object in [JsValue::NULL, JsValue::from_str("form"), Array::new().into(), JsValue::from_f64(1.0)] {
        let e = validate_token_form(not_object.clone(), modules(), policy()).unwrap_err();
        assert!(e.is_instance_of::<js_sys::TypeError>());
        assert!(validate_member_form(not_object).unwrap_err().is_instance_of::<js_sys::TypeError>());
    }
    let e = validate_token_form(js("{}"), JsValue::from_str("billing"), policy()).unwrap_err();
    assert!(e.is_instance_of::<js_sys::TypeError>());
    let e = validate_token_form(js("{}"), modules(), js(r#"{"max_ttl_days":"long"}"#)).unwrap_err();
    assert!(e.is_instance_of::<js_sys::TypeError>());
}

#[wasm_bindgen_test]
fn confirmation_and_version() {
    assert!(confirm_label_matches("CI deploy", "CI deploy"));
    assert!(!confirm_label_matches("CI deploy", "ci deploy"));
    assert!(!confirm_label_matches("CI deploy", "CI deploy "));
    assert_eq!(version(), env!("CARGO_PKG_VERSION"));
}

/// The server's own vectors (tests/vectors/text.json, also run by src/domain/validate_tests.rs):
/// the browser refuses exactly what the server refuses.
#[wasm_bindgen_test]
fn text_rules_match_the_servers_vectors() {
    let v = js(include_str!("../vectors/text.json"));
    let list = |a: &str, b: &str| -> Vec<String> {
        Array::from(&get(&get(&v, a), b)).iter().map(|s| s.as_string().expect("string")).collect()
    };
    let label_errors = |label: &str| {
        let form = js(r#"{"role":"developer","kind":"personal"}"#);
        Reflect::set(&form, &"label".into(), &label.into()).expect("set");
        errors(&validate_token_form(form, modules(), policy()).expect("validated"))
    };
    let member_errors = |email: &str, name: &str| {
        let form = js(r#"{"role":"developer"}"#);
        Reflect::set(&form, &"email".into(), &email.into()).expect("set");
        Reflect::set(&form, &"name".into(), &name.into()).expect("set");
        errors(&validate_member_form(form).expect("validated"))
    };
    for ok in list("labels", "ok") {
        assert!(label_errors(&ok).is_empty(), "{ok:?}");
        assert!(member_errors("a@b.io", &ok).is_empty(), "{ok:?}");
    }
    for bad in list("labels", "bad") {
        assert_eq!(label_errors(&bad), ["label"], "{bad:?}");
        if bad.chars().count() <= 64 {
            assert_eq!(member_errors("a@b.io", &bad), ["name"], "{bad:?}");
        }
    }
    for ok in list("emails", "ok") {
        assert!(member_errors(&ok, "N").is_empty(), "{ok:?}");
    }
    for bad in list("emails", "bad") {
        assert_eq!(member_errors(&bad, "N"), ["email"], "{bad:?}");
    }
}

#[wasm_bindgen_test]
fn grants_follow_the_callers_keyward_scopes() {
    let names = |v: JsValue| -> Vec<String> { Array::from(&v).iter().filter_map(|s| s.as_string()).collect() };
    let none = grantable_scopes(modules(), Array::new().into()).expect("arrays");
    assert_eq!(names(none), ["billing", "users:read", "audit"]);
    let read = grantable_scopes(modules(), Array::of1(&"keyward:read".into()).into()).expect("arrays");
    assert_eq!(names(read.clone()), ["billing", "users:read", "audit", "keyward:read"]);
    let manage = grantable_scopes(modules(), Array::of1(&"keyward:manage".into()).into()).expect("arrays");
    assert_eq!(names(manage.clone()), ["billing", "users:read", "audit", "keyward:read", "keyward:manage"]);
    let ask = |grantable: JsValue| {
        let form = js(r#"{"label":"x","role":"developer","kind":"org","scopes":["keyward:manage"]}"#);
        errors(&validate_token_form(form, grantable, policy()).expect("validated"))
    };
    assert_eq!(ask(read), ["scopes"]);
    assert!(ask(manage).is_empty());
    assert!(grantable_scopes(modules(), JsValue::from(5)).is_err());
}

/// What cannot be read as JSON is a `TypeError` naming where it is, never a silent null: an
/// array element of the wrong type, a cycle through an array.
#[wasm_bindgen_test]
fn unreadable_values_are_type_errors_naming_their_path() {
    let message = |e: JsValue| -> String {
        assert!(e.is_instance_of::<js_sys::TypeError>());
        js_sys::Error::from(e).message().into()
    };
    let form = js(r#"{"label":"x","role":"developer","kind":"org","scopes":["billing","users:read","x"]}"#);
    let scopes = get(&form, "scopes");
    Reflect::set(&scopes, &JsValue::from_f64(2.0), &js_sys::Function::new_no_args("return 1")).unwrap();
    let m = message(validate_token_form(form.clone(), modules(), policy()).unwrap_err());
    assert!(m.contains("form.scopes[2]") && m.contains("a function"), "{m}");
    Reflect::set(&scopes, &JsValue::from_f64(2.0), &JsValue::UNDEFINED).unwrap();
    let m = message(validate_token_form(form.clone(), modules(), policy()).unwrap_err());
    assert!(m.contains("form.scopes[2]") && m.contains("undefined"), "{m}");
    // a cycle through an array
    let cyclic = Array::new();
    cyclic.push(&cyclic);
    Reflect::set(&form, &"scopes".into(), &cyclic).unwrap();
    let m = message(validate_token_form(form, modules(), policy()).unwrap_err());
    assert!(m.starts_with("form.scopes[0][0]") && m.contains("cycle"), "{m}");
    assert!(m.ends_with("[0] nests deeper than 16 levels (a cycle?)"), "{m}");
    // a form that is not an object is named as such
    let m = message(validate_member_form(JsValue::from_str("form")).unwrap_err());
    assert_eq!(m, "form must be a plain object");
}

#[wasm_bindgen_test]
fn roles_and_actions_as_the_server_decides_them() {
    assert_eq!(effective_role("personal", "admin", Some("developer".into())).unwrap(), "developer");
    assert_eq!(effective_role("personal", "admin", Some("admin".into())).unwrap(), "admin");
    assert_eq!(effective_role("org", "admin", None).unwrap(), "admin");
    assert!(effective_role("team", "admin", None).unwrap_err().is_instance_of::<js_sys::TypeError>());
    let acts = |state: &str, expired: bool, set: Option<&str>, role: &str| -> Vec<String> {
        let a: Array = allowed_actions(state, expired, set.map(str::to_owned), role).unwrap().unchecked_into();
        a.iter().filter_map(|v| v.as_string()).collect()
    };
    assert_eq!(acts("active", false, None, "developer"), ["disable", "revoke", "rotate", "delete"]);
    assert_eq!(acts("disabled", false, Some("developer"), "developer"), ["enable", "revoke", "rotate", "delete"]);
    // an admin's (or keyward's) disable: a developer cannot undo it, nor delete the token; an admin can
    assert_eq!(acts("disabled", false, Some("admin"), "developer"), ["revoke", "rotate"]);
    assert_eq!(acts("revoked", false, Some("report"), "developer"), Vec::<String>::new());
    assert_eq!(acts("active", false, Some("admin"), "developer"), ["disable", "revoke", "rotate", "delete"]);
    assert_eq!(acts("disabled", false, Some("system"), "admin"), ["enable", "revoke", "rotate", "delete"]);
    // an admin takes over a developer's own disable
    assert_eq!(
        acts("disabled", false, Some("developer"), "admin"),
        ["disable", "enable", "revoke", "rotate", "delete"]
    );
    assert_eq!(acts("revoked", false, Some("admin"), "admin"), ["reapprove", "delete"]);
    assert_eq!(acts("revoked", true, Some("admin"), "admin"), ["delete"]);
    assert_eq!(acts("active", true, None, "admin"), ["disable", "revoke", "delete"]);
    assert!(allowed_actions("gone", false, None, "admin").unwrap_err().is_instance_of::<js_sys::TypeError>());
}

#[wasm_bindgen_test]
fn keyward_access_as_the_server_reads_scopes() {
    let scopes = |s: &[&str]| -> JsValue { s.iter().map(|x| JsValue::from_str(x)).collect::<Array>().into() };
    let access = |s: &[&str]| keyward_access(scopes(s)).expect("array").as_string();
    assert_eq!(access(&[]), None);
    assert!(keyward_access(scopes(&["billing"])).unwrap().is_null(), "null, as the page tests it");
    assert_eq!(access(&["billing", "keyward:read"]).as_deref(), Some("read"));
    assert_eq!(access(&["keyward:read", "keyward:manage"]).as_deref(), Some("manage"));
    assert_eq!(access(&["keyward:manage"]).as_deref(), Some("manage"));
    // a scope is keyward's own only by name, exactly
    assert_eq!(access(&["keyward:Read", "keyward:*", "keyward"]), None);
    assert!(keyward_access(JsValue::from_str("keyward:read")).unwrap_err().is_instance_of::<js_sys::TypeError>());
    assert!(keyward_access(Array::of1(&JsValue::from(1)).into()).unwrap_err().is_instance_of::<js_sys::TypeError>());
}

#[wasm_bindgen_test]
fn the_last_active_admin_as_the_server_keeps_one() {
    let members = js(r#"[
        {"id":"mem_a","email":"a@x.io","name":"A","role":"admin","status":"active","created_at":"2025-01-01T00:00:00Z"},
        {"id":"mem_b","role":"admin","status":"deactivated"},
        {"id":"mem_c","role":"developer","status":"active"}
    ]"#);
    let keeps = |id: &str, role: &str, status: &str| keeps_an_active_admin(members.clone(), id, role, status).unwrap();
    assert!(!keeps("mem_a", "admin", "deactivated"), "the only active admin");
    assert!(!keeps("mem_a", "developer", "active"), "nor demoted");
    assert!(keeps("mem_a", "admin", "active"));
    assert!(keeps("mem_c", "developer", "deactivated"));
    assert!(keeps("mem_b", "admin", "deactivated"), "a deactivated admin counts for nothing either way");
    // with a second active admin, either may go
    Reflect::set(&get(&members, "1"), &"status".into(), &"active".into()).unwrap();
    assert!(keeps("mem_a", "admin", "deactivated"));
    assert!(keeps("mem_b", "developer", "active"));
    let type_error = |m: JsValue, role: &str, status: &str| {
        keeps_an_active_admin(m, "mem_a", role, status).unwrap_err().is_instance_of::<js_sys::TypeError>()
    };
    assert!(type_error(js(r#"{"id":"mem_a"}"#), "admin", "active"));
    assert!(type_error(js(r#"[{"id":"mem_a","role":"owner","status":"active"}]"#), "admin", "active"));
    assert!(type_error(js(r#"[{"id":"mem_a","role":"admin"}]"#), "admin", "active"));
    assert!(type_error(js("[null]"), "admin", "active"));
    assert!(type_error(members.clone(), "root", "active"));
    assert!(type_error(members, "admin", "gone"));
}

#[wasm_bindgen_test]
fn no_action_on_a_token_above_the_caller() {
    let scopes = |s: &[&str]| -> JsValue { s.iter().map(|x| JsValue::from_str(x)).collect::<Array>().into() };
    let manage = || scopes(&["keyward:manage"]);
    assert!(may_act_on("developer", manage(), "developer", scopes(&["billing", "keyward:manage"])).unwrap());
    assert!(!may_act_on("developer", manage(), "admin", scopes(&[])).unwrap());
    assert!(!may_act_on("admin", scopes(&["keyward:read"]), "admin", manage()).unwrap());
    assert!(may_act_on("admin", manage(), "admin", manage()).unwrap());
    assert!(may_act_on("root", manage(), "admin", manage()).unwrap_err().is_instance_of::<js_sys::TypeError>());
    assert!(may_act_on("admin", JsValue::NULL, "admin", manage()).unwrap_err().is_instance_of::<js_sys::TypeError>());
}

#[wasm_bindgen_test]
fn audit_actions_as_the_server_records_them() {
    let actions: Array = audit_actions().unchecked_into();
    assert_eq!(actions.length(), 13);
    assert_eq!(actions.get(0), "org.created");
    assert_eq!(actions.get(12), "token.leaked");
    assert!(!actions.includes(&JsValue::from_str("token.expiring"), 0), "warnings are not audited");
}

#[wasm_bindgen_test]
fn webhook_forms_and_kinds_as_the_server_has_them() {
    let kinds: Array = webhook_event_kinds().unchecked_into();
    // Every audited action, the warnings, and the day's audit checkpoint.
    assert_eq!(kinds.length(), 18);
    assert_eq!(kinds.get(0), "org.created");
    for kind in ["token.limited", "token.credits_exhausted", "member.created", "audit.checkpoint"] {
        assert!(kinds.includes(&JsValue::from_str(kind), 0), "{kind}");
    }
    let ok = validate_webhook_form(js(r#"{"url":"http://127.0.0.1:9/h","events":["*"]}"#), true).unwrap();
    assert_eq!(get(&ok, "ok"), JsValue::TRUE);
    let bad = validate_webhook_form(js(r#"{"url":"ftp://x","events":[]}"#), true).unwrap();
    assert_eq!(errors(&bad), ["events", "url"]);
    let strict = validate_webhook_form(js(r#"{"url":"http://example.com/h"}"#), false).unwrap();
    assert_eq!(errors(&strict), ["url"]);
}
