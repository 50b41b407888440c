//! The verification hot path: `POST /v1/verify` straight off the raw `web_sys::Request`.
//!
//! It skips what the general path pays for on every request (reading `request.cf`, building a
//! `worker::Request`, routing, CORS and env lookups) and declines, leaving the request untouched,
//! whenever anything is unusual: another route, an `Origin` header (a browser: CORS applies), or
//! a body without a declared length or over 64 KiB. The answer itself comes from the one function
//! both paths call ([`super::verify_post`]), so it is byte for byte the general path's.

use worker::wasm_bindgen::JsValue;
use worker::web_sys::{Headers, Request, Response, ResponseInit};
use worker::{Context, Env};

use super::http::{Body, Framing, MAX_BODY};
use crate::domain::Timestamp;

/// The path of a serialized WHATWG URL (`https://host/path?query` → `/path`).
pub(super) fn path_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let rest = url.get(after_scheme..).unwrap_or("");
    let path = rest.find('/').and_then(|i| rest.get(i..)).unwrap_or("/");
    path.split(['?', '#']).next().unwrap_or(path)
}

fn js_err(e: JsValue) -> worker::Error {
    worker::Error::from(e)
}

fn respond(status: u16, content_type: &str, body: &Body, retry_after: Option<String>) -> worker::Result<Response> {
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
    body.response(&init).map_err(js_err)
}

/// Serve `POST /v1/verify` if this request is a plain one; `Ok(None)` declines. The answer is
/// made by [`super::verify_post`], exactly as the general path makes it; only the response
/// object differs (no `worker::Request`, no router, no CORS).
///
/// # Errors
/// Only if the JS runtime refuses to build a `Response`.
pub async fn verify(req: &Request, env: &Env, ctx: &Context, now: Timestamp) -> worker::Result<Option<Response>> {
    if req.method() != "POST" || path_of(&req.url()) != "/v1/verify" {
        return Ok(None);
    }
    let headers = req.headers();
    let declared = super::http::declared_length(&headers);
    if headers.has("origin").unwrap_or(true) || declared.is_none_or(|n| n > MAX_BODY as u64) {
        return Ok(None);
    }
    // The URL, path and headers are read once: the body reader and the caller's address reuse them.
    let framing = Framing { limit: MAX_BODY, declared };
    let a = super::verify_post(req, Some((framing, &headers)), env, ctx, now).await;
    respond(a.status, a.content_type, &a.body, a.retry_after).map(Some)
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
}
