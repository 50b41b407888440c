//! The browser module: thin `#[wasm_bindgen]` wrappers over [`crate::domain`], so the admin page
//! masks and validates with the very rules the server enforces.
//!
//! Errors cross as JS `TypeError` (wrong argument shapes), never as panics.

use serde::Serialize;
use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;

use crate::domain::token::{mask, parse};
use crate::domain::validate::{self, FieldErrors};
use crate::domain::Policy;

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
}
"#;

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| js_sys::TypeError::new(&e.to_string()).into())
}

fn object(value: JsValue, what: &str) -> Result<Map<String, Value>, JsValue> {
    match serde_wasm_bindgen::from_value::<Value>(value) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(js_sys::TypeError::new(&format!("{what} must be a plain object")).into()),
    }
}

#[derive(Serialize)]
struct TokenCheck<'a> {
    ok: bool,
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    prefix: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    masked: Option<String>,
}

#[derive(Serialize)]
struct FormCheck {
    ok: bool,
    errors: FieldErrors,
}

impl<T> From<Result<T, FieldErrors>> for FormCheck {
    fn from(r: Result<T, FieldErrors>) -> Self {
        match r {
            Ok(_) => Self { ok: true, errors: FieldErrors::new() },
            Err(errors) => Self { ok: false, errors },
        }
    }
}

/// `kw_••••••••3f9A`: the masked form, identical to the server's `masked` field.
#[wasm_bindgen(js_name = maskToken)]
#[must_use]
pub fn mask_token(token: &str) -> String {
    mask(token)
}

/// Whether `token` is well formed (pattern and checksum), without asking the server.
///
/// # Errors
/// A `TypeError` only if the result cannot be built.
#[wasm_bindgen(js_name = checkToken, unchecked_return_type = "TokenCheck")]
pub fn check_token(token: &str) -> Result<JsValue, JsValue> {
    let check = match parse(token) {
        Ok(p) => TokenCheck { ok: true, code: "VALID_FORMAT", prefix: Some(p.prefix), masked: Some(mask(token)) },
        Err(_) => TokenCheck { ok: false, code: "MALFORMED", prefix: None, masked: None },
    };
    to_js(&check)
}

/// Validate a token form (`POST /v1/tokens` body) against the org's modules and policy.
///
/// # Errors
/// A `TypeError` when `form` or `policy` is not a plain object or `modules` not a string array.
#[wasm_bindgen(js_name = validateTokenForm, unchecked_return_type = "FormCheck")]
pub fn validate_token_form(
    #[wasm_bindgen(unchecked_param_type = "Record<string, unknown>")] form: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string[]")] modules: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Policy")] policy: JsValue,
) -> Result<JsValue, JsValue> {
    let form = object(form, "form")?;
    let modules: Vec<String> = serde_wasm_bindgen::from_value(modules)
        .map_err(|_| JsValue::from(js_sys::TypeError::new("modules must be an array of strings")))?;
    let policy: Policy = serde_wasm_bindgen::from_value(policy)
        .map_err(|_| JsValue::from(js_sys::TypeError::new("policy must be the org's policy object")))?;
    to_js(&FormCheck::from(validate::new_token(&form, &modules, &policy)))
}

/// Validate a member form (`POST /v1/members` body).
///
/// # Errors
/// A `TypeError` when `form` is not a plain object.
#[wasm_bindgen(js_name = validateMemberForm, unchecked_return_type = "FormCheck")]
pub fn validate_member_form(
    #[wasm_bindgen(unchecked_param_type = "Record<string, unknown>")] form: JsValue,
) -> Result<JsValue, JsValue> {
    let form = object(form, "form")?;
    to_js(&FormCheck::from(validate::new_member(&form)))
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
