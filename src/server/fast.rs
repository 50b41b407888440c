//! The verification hot path: `POST /v1/verify` straight off the raw `web_sys::Request`.
//!
//! It skips what the general path pays for on every request (reading `request.cf`, building a
//! `worker::Request`, routing, CORS and env lookups) and declines, leaving the request untouched,
//! whenever anything is unusual: another route, an `Origin` header (a browser: CORS applies), or
//! a body without a declared length or over 64 KiB. The answer is byte-for-byte what the general
//! path gives.

use core::net::IpAddr;

use serde::Deserialize;
use serde_json::Value;
use worker::wasm_bindgen::JsValue;
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::{Headers, Request, Response, ResponseInit};
use worker::{Context, Env};

use super::http::MAX_BODY;
use crate::domain::Timestamp;
use crate::service::{object, Consistency, Error};

/// One verification asked for, by either form of the endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyRequest {
    /// The presented token.
    pub token: String,
    /// Scopes it must have.
    pub scopes: Vec<String>,
    /// Edge (KV) or strict (the org authority).
    pub consistency: Consistency,
    /// The address the calling service saw its client use (for network allowlists).
    pub client_ip: Option<IpAddr>,
}

/// `{token, scopes?, consistency?, client_ip?}`, the one shape `POST /v1/verify` takes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyBody {
    token: String,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    consistency: Option<Consistency>,
    #[serde(default)]
    client_ip: Option<String>,
}

/// A `client_ip` as given (`None` or empty: not given).
///
/// # Errors
/// [`Error::BadRequest`] when it is not an IPv4 or IPv6 address.
pub fn client_ip(raw: Option<&str>) -> Result<Option<IpAddr>, Error> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| Error::BadRequest("client_ip must be an IPv4 or IPv6 address")),
    }
}

/// Read a verify body: typed parse first (fast), and on failure the detailed check that names
/// what is wrong.
///
/// # Errors
/// [`Error::BadRequest`] for anything but `{token: string, scopes?: string[] | null,
/// consistency?: "edge" | "strict" | null, client_ip?: string | null}`.
pub fn verify_body(body: &[u8]) -> Result<VerifyRequest, Error> {
    if let Ok(b) = serde_json::from_slice::<VerifyBody>(body) {
        return Ok(VerifyRequest {
            token: b.token,
            scopes: b.scopes.unwrap_or_default(),
            consistency: b.consistency.unwrap_or_default(),
            client_ip: client_ip(b.client_ip.as_deref())?,
        });
    }
    let v = super::http::parse_json(body)?;
    let obj = object(&v)?;
    if obj.keys().any(|k| !["token", "scopes", "consistency", "client_ip"].contains(&k.as_str())) {
        return Err(Error::BadRequest("the body takes only token, scopes, consistency and client_ip"));
    }
    let consistency = match obj.get("consistency") {
        None | Some(Value::Null) => Consistency::Edge,
        Some(c) => c
            .as_str()
            .and_then(Consistency::parse)
            .ok_or(Error::BadRequest("consistency must be \"edge\" or \"strict\""))?,
    };
    let client_ip = match obj.get("client_ip") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => client_ip(Some(s))?,
        Some(_) => return Err(Error::BadRequest("client_ip must be an IPv4 or IPv6 address")),
    };
    let token = obj.get("token").and_then(Value::as_str).ok_or(Error::BadRequest("token must be a string"))?;
    let scopes = match obj.get("scopes") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|s| s.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or(Error::BadRequest("scopes must be a list of strings"))?,
        Some(_) => return Err(Error::BadRequest("scopes must be a list of strings")),
    };
    Ok(VerifyRequest { token: token.to_owned(), scopes, consistency, client_ip })
}

/// The path of a serialized WHATWG URL (`https://host/path?query` → `/path`).
fn path_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let rest = url.get(after_scheme..).unwrap_or("");
    let path = rest.find('/').and_then(|i| rest.get(i..)).unwrap_or("/");
    path.split(['?', '#']).next().unwrap_or(path)
}

fn js_err(e: JsValue) -> worker::Error {
    worker::Error::from(e)
}

fn respond(status: u16, content_type: &str, body: &str, retry_after: Option<String>) -> worker::Result<Response> {
    let headers = Headers::new().map_err(js_err)?;
    if let Some(wait) = retry_after {
        headers.set("retry-after", &wait).map_err(js_err)?;
    }
    headers.set("content-type", content_type).map_err(js_err)?;
    headers.set("cache-control", "no-store").map_err(js_err)?;
    headers.set("x-content-type-options", "nosniff").map_err(js_err)?;
    let init = ResponseInit::new();
    init.set_status(status);
    init.set_headers(&JsValue::from(headers));
    Response::new_with_opt_str_and_init(Some(body), &init).map_err(js_err)
}

fn problem(e: &Error) -> worker::Result<Response> {
    let body = super::http::problem_body(e);
    respond(e.status(), "application/problem+json", &body, super::http::retry_after(e))
}

/// Serve `POST /v1/verify` if this request is a plain one; `Ok(None)` declines.
///
/// # Errors
/// Only if the JS runtime refuses to build a `Response`.
pub async fn verify(req: &Request, env: &Env, ctx: &Context, now: Timestamp) -> worker::Result<Option<Response>> {
    if req.method() != "POST" || path_of(&req.url()) != "/v1/verify" {
        return Ok(None);
    }
    let headers = req.headers();
    let declared = headers.get("content-length").ok().flatten().and_then(|v| v.trim().parse::<usize>().ok());
    if headers.has("origin").unwrap_or(true) || declared.is_none_or(|n| n > MAX_BODY) {
        return Ok(None);
    }
    let text = match req.text() {
        Ok(promise) => JsFuture::from(promise).await.ok().and_then(|v| v.as_string()).unwrap_or_default(),
        Err(_) => String::new(),
    };
    let asked = match verify_body(text.as_bytes()) {
        Ok(parsed) => parsed,
        Err(e) => return problem(&e).map(Some),
    };
    let caller = super::limits::client(headers.get("cf-connecting-ip").ok().flatten());
    match super::verify(env, ctx, &asked, &caller, now).await {
        Ok(outcome) => {
            let body = serde_json::to_string(&outcome).unwrap_or_default();
            respond(200, "application/json", &body, None).map(Some)
        }
        Err(e) => {
            worker::console_error!("POST /v1/verify: {}", crate::store::redact(&e.to_string()));
            problem(&e).map(Some)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(path_of("https://kw.example/v1/verify"), "/v1/verify");
        assert_eq!(path_of("http://127.0.0.1:8787/v1/verify?x=1"), "/v1/verify");
        assert_eq!(path_of("http://h/v1/verify#f"), "/v1/verify");
        assert_eq!(path_of("http://h"), "/");
    }

    #[test]
    fn bodies() {
        let ask = |token: &str, scopes: &[&str], consistency, client_ip: Option<&str>| VerifyRequest {
            token: token.into(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            consistency,
            client_ip: client_ip.map(|ip| ip.parse().unwrap()),
        };
        let edge = Consistency::Edge;
        assert_eq!(verify_body(br#"{"token":"t"}"#).unwrap(), ask("t", &[], edge, None));
        assert_eq!(verify_body(br#"{"token":"t","scopes":null}"#).unwrap(), ask("t", &[], edge, None));
        assert_eq!(verify_body(br#"{"scopes":["a"],"token":"t"}"#).unwrap(), ask("t", &["a"], edge, None));
        assert_eq!(
            verify_body(br#"{"token":"t","consistency":"strict"}"#).unwrap(),
            ask("t", &[], Consistency::Strict, None)
        );
        assert_eq!(
            verify_body(br#"{"token":"t","client_ip":"2001:db8::1"}"#).unwrap(),
            ask("t", &[], edge, Some("2001:db8::1"))
        );
        assert_eq!(verify_body(br#"{"token":"t","client_ip":null}"#).unwrap(), ask("t", &[], edge, None));
        for bad in [
            &b"{"[..],
            b"[]",
            b"{}",
            br#"{"token":5}"#,
            br#"{"token":"t","x":1}"#,
            br#"{"token":"t","scopes":"a"}"#,
            br#"{"token":"t","consistency":"eventual"}"#,
            br#"{"token":"t","consistency":1}"#,
            br#"{"token":"t","client_ip":"10.0.0.300"}"#,
            br#"{"token":"t","client_ip":"10.0.0.0/8"}"#,
            br#"{"token":"t","client_ip":7}"#,
        ] {
            assert!(matches!(verify_body(bad), Err(Error::BadRequest(_))), "{}", String::from_utf8_lossy(bad));
        }
    }
}
