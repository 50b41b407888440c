//! The browser module: thin `#[wasm_bindgen]` wrappers over [`crate::domain`], so the admin page
//! masks and validates with the very rules the server enforces.
//!
//! Errors cross as JS `TypeError` (wrong argument shapes), never as panics.

use js_sys::{Array, Object, Reflect};
use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::domain::token::{mask, parse};
use crate::domain::validate::{self, FieldErrors, FromObject};
use crate::domain::{Kind, Policy, Role};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** Result of `checkToken`: the format only; whether the token exists is the server's verify. */
export interface TokenCheck {
  ok: boolean;
  code: "VALID_FORMAT" | "MALFORMED";
  prefix?: string;
  masked?: string;
}
/** Result of the form validators: `errors` names every failed field. */
export interface FormCheck {
  ok: boolean;
  errors: Record<string, string>;
}
/** The org policy, as `GET /v1/org` returns it. */
export interface Policy {
  max_personal_tokens: number;
  default_ttl_days: number;
  max_ttl_days: number;
  allow_non_expiring_org_tokens: boolean;
  on_leak?: "revoke" | "notify";
}
"#;

/// The allocator: a free list (sorted, coalescing) instead of the standard library's dlmalloc,
/// which cost the module 3 KiB gzip. The page allocates little and briefly (one form at a time);
/// `LockedAllocator` keeps it safe code (a spin lock that is never contended in one thread).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());

/// How deep a form may nest: far more than any form has, and a bound on cyclic objects.
const MAX_DEPTH: u8 = 16;

fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

/// A JS value as the JSON the server would receive: what `JSON.stringify` would send, read by
/// hand with `js_sys` so the module needs no serde deserializer (and none of the float formatting
/// its error messages pull in). `undefined` properties are left out, as `JSON.stringify` does.
/// What is not JSON (a function, a symbol, a bigint, `undefined` inside an array, a cycle) is an
/// error naming where it is (`form.scopes[2]`), never a silent `null`.
fn json(value: &JsValue, path: &str, depth: u8) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        // As a u32, whose formatting the module has anyway (not one more for u8).
        return Err(format!("{path} nests deeper than {} levels (a cycle?)", u32::from(MAX_DEPTH)));
    }
    if value.is_null() {
        return Ok(Value::Null);
    }
    if let Some(b) = value.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Some(n) = value.as_f64() {
        // Safe integers as integers, like the server's JSON parser; NaN and ±∞ are null in JSON.
        return Ok(if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0 {
            Value::from(n as i64)
        } else {
            serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
        });
    }
    if let Some(s) = value.as_string() {
        return Ok(Value::String(s));
    }
    if Array::is_array(value) {
        // A loop rather than `collect` into a `Result`: the same values, less code.
        let mut out = Vec::new();
        for (i, item) in value.unchecked_ref::<Array>().iter().enumerate() {
            out.push(json(&item, &format!("{path}[{i}]"), depth + 1)?);
        }
        return Ok(Value::Array(out));
    }
    plain_object(value, path, depth).map(Value::Object)
}

/// What a value that is not JSON is, for messages.
fn kind_of(value: &JsValue) -> &'static str {
    if value.is_undefined() {
        "undefined"
    } else if value.is_function() {
        "a function"
    } else if value.is_symbol() {
        "a symbol"
    } else if value.is_bigint() {
        "a bigint"
    } else if Array::is_array(value) {
        "an array"
    } else if value.is_object() {
        "an object that is not plain"
    } else {
        "not JSON"
    }
}

/// The own enumerable properties of a plain object (not an array, function or other primitive).
fn plain_object(value: &JsValue, path: &str, depth: u8) -> Result<Map<String, Value>, String> {
    if !value.is_object() || Array::is_array(value) || value.is_function() {
        return Err(format!("{path} is {}, not JSON", kind_of(value)));
    }
    let object: &Object = value.unchecked_ref();
    let mut map = Map::new();
    for key in Object::keys(object).iter() {
        let name = key.as_string().ok_or_else(|| format!("{path} has a key that is not a string"))?;
        let field = Reflect::get(object, &key).map_err(|_| format!("{path}.{name} cannot be read"))?;
        if field.is_undefined() {
            continue;
        }
        let value = json(&field, &format!("{path}.{name}"), depth + 1)?;
        map.insert(name, value);
    }
    Ok(map)
}

/// The typed input of the form the page holds (the argument `form`), read as the server reads a
/// request body.
fn input<T: FromObject>(value: &JsValue) -> Result<T, JsValue> {
    if !value.is_object() || Array::is_array(value) || value.is_function() {
        return Err(type_error("form must be a plain object"));
    }
    plain_object(value, "form", 0).map(T::from_object).map_err(|why| type_error(&why))
}

fn string_array(value: &JsValue) -> Option<Vec<String>> {
    if !Array::is_array(value) {
        return None;
    }
    // A loop rather than `collect` into an `Option` (less code).
    let mut out = Vec::new();
    for item in value.unchecked_ref::<Array>().iter() {
        out.push(item.as_string()?);
    }
    Some(out)
}

/// The org's policy as `GET /v1/org` gives it, read with the server's own `PATCH /v1/org` rules
/// (fields left out keep their defaults).
fn org_policy(value: &JsValue) -> Option<Policy> {
    let policy = validate::PolicyInput::from_object(plain_object(value, "policy", 0).ok()?);
    validate::policy(&policy, &Policy::default()).ok()
}

/// A plain JS object from `(name, value)` pairs.
fn js_object<'a>(fields: impl IntoIterator<Item = (&'a str, JsValue)>) -> JsValue {
    let object = Object::new();
    for (name, value) in fields {
        // Setting a data property on a fresh plain object cannot fail.
        let _ = Reflect::set(&object, &JsValue::from_str(name), &value);
    }
    object.into()
}

/// `{ok, errors}` for a form's check; `failed` holds its errors (`None`: it passed). Not
/// generic over the form's value: one copy for every form.
fn form_check(failed: Option<FieldErrors>) -> JsValue {
    let ok = failed.is_none();
    let errors = failed.unwrap_or_default();
    let errors = js_object(errors.iter().map(|(field, message)| (field.as_str(), JsValue::from_str(message))));
    js_object([("ok", JsValue::from_bool(ok)), ("errors", errors)])
}

/// `kw_••••••••3f9A`: the masked form, identical to the server's `masked` field.
#[wasm_bindgen(js_name = maskToken)]
#[must_use]
pub fn mask_token(token: &str) -> String {
    mask(token)
}

/// Whether `token` is well formed (pattern and checksum), without asking the server.
#[wasm_bindgen(js_name = checkToken, unchecked_return_type = "TokenCheck")]
#[must_use]
pub fn check_token(token: &str) -> JsValue {
    match parse(token) {
        Ok(p) => js_object([
            ("ok", JsValue::TRUE),
            ("code", JsValue::from_str("VALID_FORMAT")),
            ("prefix", JsValue::from_str(p.prefix)),
            ("masked", JsValue::from_str(&mask(token))),
        ]),
        Err(_) => js_object([("ok", JsValue::FALSE), ("code", JsValue::from_str("MALFORMED"))]),
    }
}

/// Validate a token form (`POST /v1/tokens` body) against the org's policy and the scopes the
/// caller may grant (`modules`: see [`grantable_scopes`]).
///
/// # Errors
/// A `TypeError` when `form` or `policy` is not a plain object or `modules` not a string array.
#[wasm_bindgen(js_name = validateTokenForm, unchecked_return_type = "FormCheck")]
pub fn validate_token_form(
    #[wasm_bindgen(unchecked_param_type = "Record<string, unknown>")] form: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string[]")] modules: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Policy")] policy: JsValue,
) -> Result<JsValue, JsValue> {
    let form = input(&form)?;
    let modules = string_array(&modules).ok_or_else(|| type_error("modules must be an array of strings"))?;
    let policy = org_policy(&policy).ok_or_else(|| type_error("policy must be the org's policy object"))?;
    Ok(form_check(validate::new_token(form, &modules, &policy).err()))
}

/// Validate a token edit (`PATCH /v1/tokens/{id}` body) with the scopes the caller may grant
/// (`modules`: see [`grantable_scopes`]). Fields left out are kept; `null` removes `meta`,
/// `external_id`, `ratelimit` and `credits`. (Whether `credits.remaining` is needed because the
/// token has no credits yet is the server's to check: it knows the token.)
///
/// # Errors
/// A `TypeError` when `form` is not a plain object or `modules` not a string array.
#[wasm_bindgen(js_name = validateTokenEdit, unchecked_return_type = "FormCheck")]
pub fn validate_token_edit(
    #[wasm_bindgen(unchecked_param_type = "Record<string, unknown>")] form: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string[]")] modules: JsValue,
) -> Result<JsValue, JsValue> {
    let form = input(&form)?;
    let modules = string_array(&modules).ok_or_else(|| type_error("modules must be an array of strings"))?;
    Ok(form_check(validate::token_patch(form, &modules).err()))
}

/// The scopes a caller holding `callerScopes` may grant in an org with `modules`: every module,
/// and the keyward scopes it holds (`keyward:manage` includes `keyward:read`). Pass the result
/// to [`validate_token_form`] or [`validate_token_edit`] as its `modules`.
///
/// # Errors
/// A `TypeError` when either argument is not an array of strings.
#[wasm_bindgen(js_name = grantableScopes, unchecked_return_type = "string[]")]
pub fn grantable_scopes(
    #[wasm_bindgen(unchecked_param_type = "string[]")] modules: JsValue,
    #[wasm_bindgen(js_name = callerScopes, unchecked_param_type = "string[]")] caller_scopes: JsValue,
) -> Result<JsValue, JsValue> {
    let modules = string_array(&modules).ok_or_else(|| type_error("modules must be an array of strings"))?;
    let held = string_array(&caller_scopes).ok_or_else(|| type_error("callerScopes must be an array of strings"))?;
    Ok(crate::domain::policy::grantable(&modules, &held).iter().map(|s| JsValue::from_str(s)).collect::<Array>().into())
}

/// What `scopes` let a token do with keyward itself, by the server's rule: `"manage"` (every
/// change; includes read), `"read"` (the GET endpoints), or `null` for a token that cannot use
/// the admin API at all. A scope is keyward's own when `keywardAccess([scope])` is not null.
///
/// # Errors
/// A `TypeError` when `scopes` is not an array of strings.
#[wasm_bindgen(js_name = keywardAccess, unchecked_return_type = "\"read\" | \"manage\" | null")]
pub fn keyward_access(#[wasm_bindgen(unchecked_param_type = "string[]")] scopes: JsValue) -> Result<JsValue, JsValue> {
    use crate::domain::policy::{access, Access};
    let scopes = string_array(&scopes).ok_or_else(|| type_error("scopes must be an array of strings"))?;
    Ok(match access(&scopes) {
        Some(Access::Manage) => JsValue::from_str("manage"),
        Some(Access::Read) => JsValue::from_str("read"),
        None => JsValue::NULL,
    })
}

/// Whether the org still has an active admin after the member `memberId` takes `role` and
/// `status`, by the server's rule (it answers 409 otherwise). `members` are the org's members as
/// `GET /v1/members` answers them (only `id`, `role` and `status` are read).
///
/// # Errors
/// A `TypeError` when `members` is not such an array, or for a role or status the API never answers.
#[wasm_bindgen(js_name = keepsAnActiveAdmin)]
pub fn keeps_an_active_admin(
    #[wasm_bindgen(unchecked_param_type = "{ id: string; role: string; status: string }[]")] members: JsValue,
    #[wasm_bindgen(js_name = memberId)] member_id: &str,
    role: &str,
    status: &str,
) -> Result<bool, JsValue> {
    use crate::domain::MemberStatus;
    let status_of = |s: &str| match s {
        "active" => Some(MemberStatus::Active),
        "deactivated" => Some(MemberStatus::Deactivated),
        _ => None,
    };
    let role = Role::parse(role).ok_or_else(|| type_error("role must be \"admin\" or \"developer\""))?;
    let status = status_of(status).ok_or_else(|| type_error("status must be \"active\" or \"deactivated\""))?;
    let text = |m: &JsValue, key: &str| Reflect::get(m, &JsValue::from_str(key)).ok()?.as_string();
    // The rule asks whether any member is an active admin afterwards: asked of one member at a
    // time, it needs no list of them.
    let keeps = |m: JsValue| {
        let id = text(&m, "id")?;
        let one = (id.as_str(), Role::parse(&text(&m, "role")?)?, status_of(&text(&m, "status")?)?);
        Some(crate::domain::policy::is_active_admin_after(one, member_id, role, status))
    };
    let bad = || type_error("members must be an array of { id, role, status }");
    if !Array::is_array(&members) {
        return Err(bad());
    }
    let mut any = false;
    for m in members.unchecked_ref::<Array>().iter() {
        any |= keeps(m).ok_or_else(bad)?;
    }
    Ok(any)
}

/// Validate a member form (`POST /v1/members` body).
///
/// # Errors
/// A `TypeError` when `form` is not a plain object.
#[wasm_bindgen(js_name = validateMemberForm, unchecked_return_type = "FormCheck")]
pub fn validate_member_form(
    #[wasm_bindgen(unchecked_param_type = "Record<string, unknown>")] form: JsValue,
) -> Result<JsValue, JsValue> {
    let form = input(&form)?;
    Ok(form_check(validate::new_member(&form).err()))
}

/// The role a token acts with: a personal token's is the lower of its own and its owner's
/// (`ownerRole`; null for org tokens, or an owner not known), as the server decides it.
///
/// # Errors
/// A `TypeError` for a kind or role the API never answers.
#[wasm_bindgen(js_name = effectiveRole, unchecked_return_type = "\"admin\" | \"developer\"")]
pub fn effective_role(
    kind: &str,
    role: &str,
    #[wasm_bindgen(js_name = ownerRole)] owner_role: Option<String>,
) -> Result<JsValue, JsValue> {
    let kind = Kind::parse(kind).ok_or_else(|| type_error("kind must be \"personal\" or \"org\""))?;
    let role = Role::parse(role).ok_or_else(|| type_error("role must be \"admin\" or \"developer\""))?;
    let owner = match owner_role.as_deref() {
        None => None,
        Some(r) => Some(Role::parse(r).ok_or_else(|| type_error("ownerRole must be \"admin\" or \"developer\""))?),
    };
    Ok(JsValue::from_str(crate::domain::effective_role(kind, role, owner).as_str()))
}

/// What a caller acting as `callerRole` may do to a token in `state` (`expired`: whether it has
/// expired; `stateSetBy`: who disabled or revoked it), by the server's own rules: any of
/// `disable`, `enable`, `revoke`, `reapprove`, `rotate`, `delete`, in that order. (Reach, keyward
/// scopes and `If-Match` are the server's to check.)
///
/// # Errors
/// A `TypeError` for a state, role or `stateSetBy` the API never answers.
#[wasm_bindgen(js_name = allowedActions, unchecked_return_type = "string[]")]
pub fn allowed_actions(
    state: &str,
    expired: bool,
    #[wasm_bindgen(js_name = stateSetBy)] state_set_by: Option<String>,
    #[wasm_bindgen(js_name = callerRole)] caller_role: &str,
) -> Result<JsValue, JsValue> {
    use crate::domain::policy::{may_delete, may_undo, next_state, takes_over, Transition};
    use crate::domain::{SetBy, State, Timestamp};
    let state = match state {
        "active" => State::Active,
        "disabled" => State::Disabled,
        "revoked" => State::Revoked,
        _ => return Err(type_error("state must be \"active\", \"disabled\" or \"revoked\"")),
    };
    let set = match state_set_by.as_deref() {
        None => None,
        Some("admin") => Some(SetBy::Admin),
        Some("developer") => Some(SetBy::Developer),
        Some("system") => Some(SetBy::System),
        Some("report") => Some(SetBy::Report),
        Some(_) => return Err(type_error("stateSetBy must be admin, developer, system, report or null")),
    };
    let role = Role::parse(caller_role).ok_or_else(|| type_error("callerRole must be \"admin\" or \"developer\""))?;
    // `expired` as the domain reads it: an expiry at or before now.
    let (expires_at, now) = if expired {
        (Some(Timestamp::from_millis(0)), Timestamp::from_millis(1))
    } else {
        (None, Timestamp::from_millis(0))
    };
    let all = [
        ("disable", Transition::Disable),
        ("enable", Transition::Enable),
        ("revoke", Transition::Revoke),
        ("reapprove", Transition::Reapprove),
        ("rotate", Transition::Rotate),
        ("delete", Transition::Delete),
    ];
    let allowed = all.iter().filter(|(_, t)| {
        let possible = next_state(state, expires_at, *t, now).is_ok() || takes_over(state, set, *t, role);
        let undo = matches!(t, Transition::Enable | Transition::Reapprove);
        let delete = *t == Transition::Delete;
        possible && (!undo || may_undo(set, role)) && (!delete || may_delete(state, set, role))
    });
    Ok(allowed.map(|(name, _)| JsValue::from_str(name)).collect::<Array>().into())
}

/// Whether a caller acting as `callerRole` with `callerScopes` may change, rotate or delete a
/// token of `role` holding `scopes`: not when its role or keyward access is above the caller's
/// (the server answers 403; the page offers no such action).
///
/// # Errors
/// A `TypeError` for a role the API never answers, or scopes that are not arrays of strings.
#[wasm_bindgen(js_name = mayActOn)]
pub fn may_act_on(
    #[wasm_bindgen(js_name = callerRole)] caller_role: &str,
    #[wasm_bindgen(js_name = callerScopes, unchecked_param_type = "string[]")] caller_scopes: JsValue,
    role: &str,
    #[wasm_bindgen(unchecked_param_type = "string[]")] scopes: JsValue,
) -> Result<bool, JsValue> {
    let roles = || type_error("roles must be \"admin\" or \"developer\"");
    let caller = Role::parse(caller_role).ok_or_else(roles)?;
    let target = Role::parse(role).ok_or_else(roles)?;
    let held = string_array(&caller_scopes).ok_or_else(|| type_error("callerScopes must be an array of strings"))?;
    let scopes = string_array(&scopes).ok_or_else(|| type_error("scopes must be an array of strings"))?;
    Ok(crate::domain::policy::may_act_on((caller, &held), (target, &scopes)))
}

/// The event kinds a webhook may ask for (`"*"` asks for all of them, present and future).
#[wasm_bindgen(js_name = webhookEventKinds, unchecked_return_type = "string[]")]
#[must_use]
pub fn webhook_event_kinds() -> JsValue {
    crate::domain::webhook::EVENT_KINDS.iter().map(|k| JsValue::from_str(k)).collect::<Array>().into()
}

/// The actions the audit log records, for its filter (the server's own list).
#[wasm_bindgen(js_name = auditActions, unchecked_return_type = "string[]")]
#[must_use]
pub fn audit_actions() -> JsValue {
    crate::domain::Action::AUDITED.iter().map(|a| JsValue::from_str(a.as_str())).collect::<Array>().into()
}

/// Validate a webhook form (`PUT /v1/org/webhook` body). The page cannot know whether the
/// deployment admits `http://` and private hosts, so it checks as `wrangler dev` does
/// (`allowInsecure`) and leaves the production rule to the server.
///
/// # Errors
/// A `TypeError` when `form` is not a plain object.
#[wasm_bindgen(js_name = validateWebhookForm, unchecked_return_type = "FormCheck")]
pub fn validate_webhook_form(
    #[wasm_bindgen(unchecked_param_type = "Record<string, unknown>")] form: JsValue,
    #[wasm_bindgen(js_name = allowInsecure)] allow_insecure: bool,
) -> Result<JsValue, JsValue> {
    let form = input(&form)?;
    Ok(form_check(validate::webhook(&form, allow_insecure).err()))
}

/// Whether the typed confirmation equals the label exactly (revoke and delete dialogs).
#[wasm_bindgen(js_name = confirmLabelMatches)]
#[must_use]
pub fn confirm_label_matches(label: &str, typed: &str) -> bool {
    validate::confirm_label_matches(label, typed)
}

/// The crate version the module was built from.
#[wasm_bindgen]
#[must_use]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
