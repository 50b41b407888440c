//! HTTP plumbing: bounded body reads, JSON and problem+json answers, credentials, CORS.

use futures_util::StreamExt as _;
use serde::Serialize;
use worker::{web_sys, ByteStream, Headers, Request, Response, ResponseBody};

use super::problem::Problem;
use crate::service::Error;
#[cfg(feature = "admin")]
use crate::service::Precondition;

pub use crate::routes::MAX_BODY;
/// Up to this size an oversized body is read and dropped before the 413, so the client's
/// keep-alive connection survives (workerd closes a connection whose request body was left
/// unread). Anything larger is refused at once.
pub const DRAIN_LIMIT: usize = 1024 * 1024;

/// Read the body, refusing more than its route takes ([`crate::routes::max_body`]: 64 KiB,
/// 1 MiB for an import of keys, 8 MiB for an org's restore) without ever holding more than that.
///
/// # Errors
/// [`Error::PayloadTooLarge`]; [`Error::BadRequest`] when the stream breaks.
#[cfg(feature = "admin")]
pub async fn read_body(req: &mut Request) -> Result<Vec<u8>, Problem> {
    let raw = req.inner();
    read_framed_body(raw, Framing::of(raw, &raw.headers())).await
}

/// What a request says of its body before it is read: its route's limit
/// ([`crate::routes::max_body`]) and the length its headers declare, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framing {
    /// The most the route takes.
    pub limit: usize,
    /// `Content-Length`, when present and a number.
    pub declared: Option<u64>,
}

impl Framing {
    /// Read from the request's URL and `headers` (the verify fast path, which has the length
    /// and the route in hand already, builds its own).
    #[must_use]
    pub fn of(req: &web_sys::Request, headers: &web_sys::Headers) -> Self {
        Self { limit: crate::routes::max_body(super::fast::path_of(&req.url())), declared: declared_length(headers) }
    }
}

/// `Content-Length` as a number (absent, or not a number: `None`).
#[must_use]
pub fn declared_length(headers: &web_sys::Headers) -> Option<u64> {
    headers.get("content-length").ok().flatten().and_then(|v| v.trim().parse::<u64>().ok())
}

/// [`read_body`] of the platform's own request, its [`Framing`] known: the one body reader of
/// both verify paths and every other route, so a body they refuse is refused alike.
///
/// # Errors
/// [`Error::PayloadTooLarge`]; [`Error::BadRequest`] when the stream breaks.
pub async fn read_framed_body(req: &web_sys::Request, framing: Framing) -> Result<Vec<u8>, Problem> {
    let Framing { limit, declared } = framing;
    // What is read before refusing: the drain limit, or more for a route that takes more.
    let drain = limit.max(DRAIN_LIMIT);
    if declared.is_some_and(|n| n > drain as u64) {
        return Err(Problem::PayloadTooLarge);
    }
    if declared.is_some_and(|n| n <= limit as u64) {
        // A declared length the route takes (the runtime frames the body by it): read it whole,
        // one awaited promise, where the stream below wakes this future once per chunk and
        // locks and releases a reader (about a tenth of a cached verification's time, in a V8
        // profile of the hot set; BENCHMARKS.md).
        let whole = req.array_buffer().map_err(|_| Error::BadRequest("the request body could not be read"))?;
        let buffer = worker::wasm_bindgen_futures::JsFuture::from(whole)
            .await
            .map_err(|_| Error::BadRequest("the request body could not be read"))?;
        let body = worker::js_sys::Uint8Array::new(&buffer).to_vec();
        return if body.len() > limit { Err(Problem::PayloadTooLarge) } else { Ok(body) };
    }
    let Some(raw) = req.body() else {
        // No body at all.
        return Ok(Vec::new());
    };
    let mut stream = ByteStream::from(raw);
    let mut body = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| Error::BadRequest("the request body could not be read"))?;
        seen = seen.saturating_add(chunk.len());
        if seen > drain {
            return Err(Problem::PayloadTooLarge);
        }
        if seen <= limit {
            body.extend_from_slice(&chunk);
        }
    }
    if seen > limit {
        return Err(Problem::PayloadTooLarge);
    }
    Ok(body)
}

/// One answer, before it becomes a response of either path: status, content type, body and the
/// `Retry-After` it may carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// `application/json` or `application/problem+json`.
    pub content_type: &'static str,
    /// The exact body.
    pub body: Body,
    /// `Retry-After` seconds, for 429.
    pub retry_after: Option<String>,
}

/// An answer's body: made here, or another Worker's (an org authority's strict verdict) passed on
/// as a stream, never read into wasm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// Made here.
    Text(String),
    /// Passed on unread (`None`: the answer had no body).
    Stream(Option<web_sys::ReadableStream>),
}

impl Body {
    /// As a JS `Response` body.
    pub fn response(&self, init: &web_sys::ResponseInit) -> Result<web_sys::Response, worker::wasm_bindgen::JsValue> {
        match self {
            Self::Text(s) => web_sys::Response::new_with_opt_str_and_init(Some(s), init),
            Self::Stream(s) => web_sys::Response::new_with_opt_readable_stream_and_init(s.as_ref(), init),
        }
    }
}

impl Answer {
    /// A JSON answer for `value`, or the internal problem if it cannot be encoded.
    pub fn json<T: Serialize>(status: u16, value: &T) -> Self {
        match serde_json::to_string(value) {
            Ok(body) => Self { status, content_type: "application/json", body: Body::Text(body), retry_after: None },
            Err(_) => Self::problem(&Problem::internal("response encoding failed")),
        }
    }

    /// The problem answer for `e`.
    #[must_use]
    pub fn problem(e: &Problem) -> Self {
        Self {
            status: e.status(),
            content_type: "application/problem+json",
            body: Body::Text(problem_body(e)),
            retry_after: retry_after(e),
        }
    }

    /// As a `worker::Response` (the general path).
    ///
    /// # Errors
    /// Only if the JS runtime refuses to build a `Response`.
    pub fn into_response(self) -> worker::Result<Response> {
        let headers = base_headers(self.content_type);
        if let Some(wait) = &self.retry_after {
            let _ = headers.set("retry-after", wait);
        }
        let body = match self.body {
            Body::Text(s) => ResponseBody::Body(s.into_bytes()),
            Body::Stream(Some(s)) => ResponseBody::Stream(s),
            Body::Stream(None) => ResponseBody::Empty,
        };
        Ok(Response::from_body(body)?.with_status(self.status).with_headers(headers))
    }
}

/// The typed input of an endpoint's JSON body (see [`crate::domain::validate::input`]); an
/// empty body reads as `{}`. Field-level problems are the use case's to report, after it has
/// checked the caller's authority.
///
/// # Errors
/// [`Error::BadRequest`] for malformed JSON or a body that is not a JSON object.
#[cfg(feature = "admin")]
pub fn input<T: crate::domain::validate::FromObject>(body: &[u8]) -> Result<T, Problem> {
    let v = crate::service::parse_json(body)?;
    crate::domain::validate::read(v).ok_or_else(|| Error::BadRequest("the body must be a JSON object").into())
}

/// The credential of `Authorization: Bearer <credential>` (scheme case-insensitive).
#[must_use]
pub fn bearer(req: &Request) -> Option<String> {
    let value = req.headers().get("authorization").ok().flatten()?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim().to_owned()).filter(|c| !c.is_empty())
}

/// Headers every API answer carries.
fn base_headers(content_type: &str) -> Headers {
    let h = Headers::new();
    // Setting well-formed ASCII headers cannot fail; an error here would only drop a header.
    let _ = h.set("content-type", content_type);
    let _ = h.set("cache-control", "no-store");
    let _ = h.set("x-content-type-options", "nosniff");
    h
}

/// A JSON answer with `status`.
///
/// # Errors
/// Only if the JS runtime refuses to build a `Response`.
pub fn json_response<T: Serialize>(status: u16, value: &T) -> worker::Result<Response> {
    match serde_json::to_vec(value) {
        Ok(body) => Ok(Response::from_bytes(body)?.with_status(status).with_headers(base_headers("application/json"))),
        Err(_) => problem(&Problem::internal("response encoding failed")),
    }
}

/// `200` with newline-delimited JSON, one `lines` item per line (`application/x-ndjson`).
///
/// # Errors
/// Only if the JS runtime refuses to build a `Response`.
#[cfg(feature = "admin")]
pub fn ndjson_response<T: Serialize>(lines: &[T]) -> worker::Result<Response> {
    let mut body = Vec::new();
    for l in lines {
        if serde_json::to_writer(&mut body, l).is_err() {
            return problem(&Problem::internal("response encoding failed"));
        }
        body.push(b'\n');
    }
    Ok(Response::from_bytes(body)?.with_status(200).with_headers(base_headers("application/x-ndjson")))
}

/// `204 No Content`.
///
/// # Errors
/// Only if the JS runtime refuses to build a `Response`.
pub fn no_content() -> worker::Result<Response> {
    Ok(Response::empty()?.with_status(204).with_headers(base_headers("text/plain")))
}

/// An RFC 9457 problem document, members in name order (as `serde_json`'s own maps write them).
#[derive(Serialize)]
struct ProblemDocument<'a> {
    code: &'static str,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a crate::domain::validate::FieldErrors>,
    /// The wait in the body too, for callers that never see headers (the service binding).
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u32>,
    status: u16,
    title: &'static str,
    #[serde(rename = "type")]
    kind: String,
}

/// The RFC 9457 problem document for `e`. Internal details are never included.
#[must_use]
pub fn problem_body(e: &Problem) -> String {
    let doc = ProblemDocument {
        code: e.code(),
        detail: e.detail(),
        errors: match e {
            Problem::Service(Error::Validation(errors)) => Some(errors),
            _ => None,
        },
        retry_after: match e {
            Problem::RateLimited { retry_after } => Some(*retry_after),
            _ => None,
        },
        status: e.status(),
        title: e.title(),
        kind: format!("urn:keyward:problem:{}", e.code().to_ascii_lowercase().replace('_', "-")),
    };
    serde_json::to_string(&doc).unwrap_or_else(|_| {
        r#"{"code":"INTERNAL","detail":"Something went wrong on our side; nothing secret was exposed. Try again.","status":500,"title":"Internal error","type":"urn:keyward:problem:internal"}"#.to_owned()
    })
}

/// An RFC 9457 problem response for `e`.
///
/// # Errors
/// Only if the JS runtime refuses to build a `Response`.
pub fn problem(e: &Problem) -> worker::Result<Response> {
    let headers = base_headers("application/problem+json");
    if let Some(wait) = retry_after(e) {
        let _ = headers.set("retry-after", &wait);
    }
    Ok(Response::from_bytes(problem_body(e).into_bytes())?.with_status(e.status()).with_headers(headers))
}

/// The `Retry-After` value a problem carries, if any.
#[must_use]
pub fn retry_after(e: &Problem) -> Option<String> {
    e.retry_after()
}

/// Add CORS headers when `origin` is one of the comma-separated `allowed` origins (exact match).
pub fn cors(resp: &mut Response, origin: Option<&str>, allowed: &str) {
    if let Some(o) = origin.filter(|o| allowed.split(',').map(str::trim).any(|a| !a.is_empty() && a != "*" && a == *o))
    {
        let h = resp.headers_mut();
        let _ = h.set("access-control-allow-origin", o);
        let _ = h.set("access-control-allow-headers", "authorization, content-type");
        let _ = h.set("access-control-allow-methods", "GET, POST, PUT, PATCH, DELETE");
        let _ = h.set("access-control-max-age", "600");
        let _ = h.append("vary", "Origin");
    }
}

#[cfg(feature = "admin")]
/// Read an `If-Match` header value: `*`, or the strong entity tags it lists. If-Match compares
/// strongly (RFC 9110, 13.1.1): a weak tag (`W/"3"`), an unquoted or unreadable one, and an empty
/// value name no version, so they match nothing.
#[must_use]
pub fn if_match(header: &str) -> Precondition {
    if header.trim() == "*" {
        return Precondition::Any;
    }
    Precondition::Versions(
        header.split(',').filter_map(|tag| version_tag(tag.trim().strip_prefix('"')?.strip_suffix('"')?)).collect(),
    )
}

/// The version an entity tag's opaque text names, only if it is exactly how [`etag`] writes one
/// (decimal digits, no sign, no leading zero): strong comparison is of the text, so `"05"` and
/// `"+5"` match nothing.
#[cfg(feature = "admin")]
fn version_tag(text: &str) -> Option<u64> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    (digits && (text == "0" || !text.starts_with('0'))).then(|| text.parse().ok()).flatten()
}

/// The `ETag` of a record at `version`.
#[cfg(feature = "admin")]
#[must_use]
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

#[cfg(all(test, feature = "admin"))]
mod if_match_tests {
    use super::{etag, if_match};

    #[test]
    fn strong_comparison_only() {
        assert!(if_match("*").allows(7));
        assert!(if_match(" * ").allows(7));
        assert!(if_match("\"7\"").allows(7));
        assert!(if_match(" \"3\" , \"7\"").allows(7));
        assert!(!if_match("\"3\"").allows(7));
        assert!(!if_match("W/\"7\"").allows(7), "weak tags never match If-Match");
        assert!(!if_match("7").allows(7), "an unquoted tag is unreadable");
        assert!(!if_match("").allows(7), "present but empty names no version");
        assert!(!if_match("\"\"").allows(7));
        assert!(!if_match(",").allows(0));
        assert!(if_match(&etag(7)).allows(7), "what we answer is what we read");
        assert!(if_match(&etag(0)).allows(0));
        for other in ["\"+7\"", "\"07\"", "\"0007\"", "\"7 \"", "\"-7\"", "\"7.0\"", "\"99999999999999999999999\""] {
            assert!(!if_match(other).allows(7), "{other} is not a tag we wrote");
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    /// What `problem_body` wrote when it built a `serde_json::Value` (members in name order).
    fn as_a_value(e: &Problem) -> String {
        let mut body = json!({
            "type": format!("urn:keyward:problem:{}", e.code().to_ascii_lowercase().replace('_', "-")),
            "title": e.title(),
            "status": e.status(),
            "detail": e.detail(),
            "code": e.code(),
        });
        if let (Problem::Service(Error::Validation(errors)), Some(obj)) = (e, body.as_object_mut()) {
            obj.insert("errors".into(), json!(errors));
        }
        if let (Problem::RateLimited { retry_after }, Some(obj)) = (e, body.as_object_mut()) {
            obj.insert("retry_after".into(), json!(retry_after));
        }
        body.to_string()
    }

    /// The typed document writes the same bytes, for every kind of problem.
    #[test]
    fn problem_documents_are_unchanged() {
        let mut errors = crate::domain::validate::FieldErrors::new();
        errors.insert("label".into(), "must not be empty \"here\"".into());
        errors.insert("expires_at".into(), "in the past".into());
        for p in [
            Problem::from(Error::Validation(errors)),
            Problem::RateLimited { retry_after: 60 },
            Problem::internal("disk on fire"),
            Problem::from(Error::BadRequest("the body must be a JSON object")),
            Problem::NoRoute,
        ] {
            let body = problem_body(&p);
            assert_eq!(body, as_a_value(&p));
            assert!(serde_json::from_str::<Value>(&body).is_ok());
            assert!(!body.contains("disk on fire"));
        }
    }

    /// Had the document failed to encode, its stand-in is the internal problem, byte for byte.
    #[test]
    fn the_stand_in_is_the_internal_problem() {
        let fallback = r#"{"code":"INTERNAL","detail":"Something went wrong on our side; nothing secret was exposed. Try again.","status":500,"title":"Internal error","type":"urn:keyward:problem:internal"}"#;
        assert_eq!(as_a_value(&Problem::internal("x")), fallback);
    }
}
