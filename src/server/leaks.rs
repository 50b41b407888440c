//! Leaked tokens at the edge: `POST /v1/leaks` (GitHub's secret-scanning partner format,
//! signed) and `POST /v1/credentials/revoke` (anyone holding a token). Each reported token is
//! found through its verify entry and handed to its org's authority, which decides
//! ([`crate::service::Service::report`]).
//!
//! The signature is checked with the platform's WebCrypto (`crypto.subtle.verify`, ECDSA P-256
//! / SHA-256), called through `js_sys`: no ECDSA code in our wasm (DECISIONS.md).

use std::cell::RefCell;

use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{console_error, Context, Date, Env, Fetch, Headers, Method, Request, Response};

use super::http::read_body;
use super::limits::{self, Limit};
use super::problem::Problem;
use super::relay::{self, REPORT_PATH};
use super::{edge, internal, reply};
use crate::domain::leak::{ecdsa_der_to_raw, parse_report, parse_revocation, pem_to_der, Feedback};
use crate::domain::token::sha256_hex;
use crate::service::{self, parse_json, Error, Located, Reporter};

/// How long an isolate keeps keys fetched from `LEAK_REPORT_KEYS_URL`.
const KEYS_TTL_MS: u64 = 3_600_000;

thread_local! {
    /// Keys fetched from `LEAK_REPORT_KEYS_URL`, and when.
    static FETCHED: RefCell<Option<(u64, Vec<TrustedKey>)>> = const { RefCell::new(None) };
}

/// One trusted signing key (GitHub's `{key_identifier, key}`; `key` is PEM).
#[derive(Clone, Debug, Deserialize)]
struct TrustedKey {
    key_identifier: String,
    key: String,
}

/// Either a bare list of keys or GitHub's `{public_keys: [...]}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum KeyList {
    Bare(Vec<TrustedKey>),
    GitHub { public_keys: Vec<TrustedKey> },
}

impl KeyList {
    fn keys(self) -> Vec<TrustedKey> {
        match self {
            Self::Bare(k) | Self::GitHub { public_keys: k } => k,
        }
    }
}

/// What the edge asks an authority about one reported token.
#[derive(Serialize, Deserialize)]
pub struct ReportQuestion {
    /// The reported secret.
    pub token: String,
    /// Where the edge found it.
    pub org_id: String,
    /// Where the edge found it.
    pub token_id: String,
    /// A scanner's `source` and `url`, or a holder's address and user agent.
    pub scanner: Option<(String, String)>,
    /// A holder's address and user agent.
    pub holder: Option<(String, String)>,
}

impl ReportQuestion {
    /// Who reported it.
    pub fn reporter(&self) -> Option<Reporter> {
        match (&self.scanner, &self.holder) {
            (Some((source, url)), _) => Some(Reporter::Scanner { source: source.clone(), url: url.clone() }),
            (None, Some((address, user_agent))) => {
                Some(Reporter::Holder { address: address.clone(), user_agent: user_agent.clone() })
            }
            (None, None) => None,
        }
    }
}

/// Every trusted key: the `LEAK_REPORT_KEYS` secret's, then `LEAK_REPORT_KEYS_URL`'s.
async fn trusted_keys(env: &Env) -> Vec<TrustedKey> {
    let mut keys = Vec::new();
    if let Ok(s) = env.secret("LEAK_REPORT_KEYS") {
        match serde_json::from_str::<KeyList>(&s.to_string()) {
            Ok(list) => keys.extend(list.keys()),
            Err(e) => console_error!("LEAK_REPORT_KEYS is not a list of keys: {e}"),
        }
    }
    let url = env.var("LEAK_REPORT_KEYS_URL").map(|v| v.to_string()).unwrap_or_default();
    if url.is_empty() {
        return keys;
    }
    let now = Date::now().as_millis();
    // Keys are kept an hour; a failed fetch (kept as no keys) a minute, so a report with a
    // forged key id cannot make every request fetch again.
    let fresh =
        |at: u64, keys: &[TrustedKey]| now.saturating_sub(at) < if keys.is_empty() { 60_000 } else { KEYS_TTL_MS };
    let cached = FETCHED.with(|f| f.borrow().as_ref().filter(|(at, k)| fresh(*at, k)).map(|(_, k)| k.clone()));
    if let Some(k) = cached {
        keys.extend(k);
        return keys;
    }
    match fetch_keys(&url).await {
        Ok(k) => {
            FETCHED.with(|f| *f.borrow_mut() = Some((now, k.clone())));
            keys.extend(k);
        }
        Err(e) => {
            console_error!("LEAK_REPORT_KEYS_URL: {e}");
            FETCHED.with(|f| *f.borrow_mut() = Some((now, Vec::new())));
        }
    }
    keys
}

async fn fetch_keys(url: &str) -> Result<Vec<TrustedKey>, String> {
    // A request built from the string: `worker::Url` would bring the WHATWG URL parser (tens of
    // KiB of IDNA tables) into the wasm for one fetch.
    let req = Request::new(url, Method::Get).map_err(|e| e.to_string())?;
    let mut resp = Fetch::Request(req).send().await.map_err(|e| e.to_string())?;
    let text = resp.text().await.map_err(|e| e.to_string())?;
    serde_json::from_str::<KeyList>(&text).map(KeyList::keys).map_err(|e| e.to_string())
}

pub(super) fn js(e: JsValue) -> String {
    e.as_string().unwrap_or_else(|| "a WebCrypto call failed".to_owned())
}

pub(super) fn member(target: &JsValue, name: &str) -> Result<JsValue, String> {
    Reflect::get(target, &JsValue::from_str(name)).map_err(js)
}

pub(super) fn object(fields: &[(&str, JsValue)]) -> Result<Object, String> {
    let o = Object::new();
    for (k, v) in fields {
        Reflect::set(&o, &JsValue::from_str(k), v).map_err(js)?;
    }
    Ok(o)
}

pub(super) async fn call(subtle: &JsValue, name: &str, args: &Array) -> Result<JsValue, String> {
    let f: Function = member(subtle, name)?.dyn_into().map_err(|_| format!("crypto.subtle.{name} is missing"))?;
    let promise: Promise = f.apply(subtle, args).map_err(js)?.dyn_into().map_err(|_| "not a promise".to_owned())?;
    JsFuture::from(promise).await.map_err(js)
}

/// Whether `signature` (raw `r ‖ s`) is `key_der`'s (SPKI, P-256) ECDSA/SHA-256 over `data`.
async fn ecdsa_verifies(key_der: &[u8], signature: &[u8; 64], data: &[u8]) -> Result<bool, String> {
    let subtle = member(&member(&worker::js_sys::global(), "crypto")?, "subtle")?;
    let algorithm = object(&[("name", "ECDSA".into()), ("namedCurve", "P-256".into())])?;
    let import = Array::of5(
        &"spki".into(),
        &Uint8Array::from(key_der).into(),
        &algorithm.into(),
        &JsValue::FALSE,
        &Array::of1(&"verify".into()).into(),
    );
    let key = call(&subtle, "importKey", &import).await?;
    let params = object(&[("name", "ECDSA".into()), ("hash", "SHA-256".into())])?;
    let args =
        Array::of4(&params.into(), &key, &Uint8Array::from(&signature[..]).into(), &Uint8Array::from(data).into());
    Ok(call(&subtle, "verify", &args).await?.as_bool().unwrap_or(false))
}

/// Whether `body` carries a valid signature of a trusted key (headers
/// `Github-Public-Key-Identifier` and `Github-Public-Key-Signature`, base64 DER).
async fn signed(env: &Env, req: &Request, body: &[u8]) -> bool {
    use base64::Engine as _;
    let header = |n: &str| req.headers().get(n).ok().flatten().filter(|v| !v.is_empty());
    let (Some(id), Some(sig)) = (header("github-public-key-identifier"), header("github-public-key-signature")) else {
        return false;
    };
    let Some(raw) =
        base64::engine::general_purpose::STANDARD.decode(sig.trim()).ok().and_then(|d| ecdsa_der_to_raw(&d))
    else {
        return false;
    };
    let keys = trusted_keys(env).await;
    let Some(der) = keys.iter().find(|k| k.key_identifier == id).and_then(|k| pem_to_der(&k.key)) else {
        return false;
    };
    match ecdsa_verifies(&der, &raw, body).await {
        Ok(ok) => ok,
        Err(e) => {
            console_error!("leak report signature: {e}");
            false
        }
    }
}

/// Hand one reported token to its authority; whether it was live there.
async fn report_one(env: &Env, at: &Located, q: ReportQuestion) -> Result<bool, Problem> {
    let body = serde_json::to_vec(&q).map_err(internal)?;
    let headers = Headers::new();
    let _ = headers.set("content-type", "application/json");
    let mut resp = relay::send(env, &at.org_id, Method::Post, REPORT_PATH, headers, Some(&body)).await?;
    if resp.status_code() != 200 {
        return Err(internal(format!("report answered {}", resp.status_code())));
    }
    let v: serde_json::Value = serde_json::from_slice(&resp.bytes().await.map_err(internal)?).map_err(internal)?;
    Ok(v.get("live").and_then(serde_json::Value::as_bool).unwrap_or(false))
}

/// `POST /v1/leaks`: 401 and nothing changed unless signed by a trusted key; else GitHub's
/// feedback, one entry per reported token.
pub async fn leak_report(req: &mut Request, env: &Env) -> Result<Response, Problem> {
    let body = read_body(req).await?;
    if !signed(env, req, &body).await {
        return Err(Error::Unauthenticated.into());
    }
    let reported = parse_report(&body).map_err(Error::BadRequest)?;
    let edge = edge(env);
    let mut feedback = Vec::with_capacity(reported.len());
    for r in reported {
        let live = match service::locate(&edge, &r.token, &super::legacy_formats(env)).await? {
            Some(at) => {
                let q = ReportQuestion {
                    token: r.token.clone(),
                    org_id: at.org_id.clone(),
                    token_id: at.token_id.clone(),
                    scanner: Some((r.source.clone(), r.url.clone())),
                    holder: None,
                };
                report_one(env, &at, q).await?
            }
            None => false,
        };
        let label = if live { "true_positive" } else { "false_positive" };
        feedback.push(Feedback { token_hash: sha256_hex(&r.token), token_type: r.token_type, label });
    }
    reply(200, &feedback)
}

/// `POST /v1/credentials/revoke {tokens: [...]}`: always 202 `{received: n}` at once; every
/// live token named is revoked off the response path, so the answer never says whether any
/// existed. Limited per client address.
pub async fn revoke_credentials(req: &mut Request, env: &Env, ctx: &Context) -> Result<Response, Problem> {
    let body = read_body(req).await?;
    let connecting = req.headers().get("cf-connecting-ip").ok().flatten();
    limits::check(env, Limit::RevocationReports, &limits::client(connecting.clone())).await?;
    let address = connecting.unwrap_or_else(|| "an unknown address".to_owned());
    let mut tokens = parse_revocation(&parse_json(&body)?).map_err(Error::BadRequest)?;
    let received = tokens.len();
    // Each token once: a hundred copies of one must not cost a hundred round trips.
    tokens.sort_unstable();
    tokens.dedup();
    let user_agent = req.headers().get("user-agent").ok().flatten().unwrap_or_default();
    let env = env.clone();
    ctx.wait_until(async move {
        let edge = edge(&env);
        for token in tokens {
            let at = match service::locate(&edge, &token, &super::legacy_formats(&env)).await {
                Ok(Some(at)) => at,
                Ok(None) => continue,
                Err(e) => {
                    console_error!("credentials/revoke: {e}");
                    continue;
                }
            };
            let q = ReportQuestion {
                token: token.clone(),
                org_id: at.org_id.clone(),
                token_id: at.token_id.clone(),
                scanner: None,
                holder: Some((address.clone(), user_agent.clone())),
            };
            if let Err(e) = report_one(&env, &at, q).await {
                console_error!("credentials/revoke: {e}");
            }
        }
    });
    reply(202, &json!({ "received": received }))
}
