//! The way from the edge to an org's authority (the `ORGS` Durable Object namespace): strict
//! verification, and (in the full Worker) every admin request.
//!
//! The authority is reachable only through this binding, so the headers the edge sets here
//! (where it found the caller's secret) are trusted there; the edge never copies them from a
//! client request.

use serde::Serialize;
use worker::js_sys::Uint8Array;
use worker::wasm_bindgen::JsValue;
use worker::{web_sys, Env, Headers, Method, Request, Response, Stub};

use super::problem::Problem;
use crate::domain::Code;
use crate::service::Located;

/// The Durable Object namespace binding (wrangler.toml `[[durable_objects.bindings]]`).
pub const BINDING: &str = "ORGS";
/// Internal path of a strict verification.
pub const STRICT_PATH: &str = "/_authority/verify";
/// Internal path of an edge isolate's usage counts.
pub const USAGE_PATH: &str = "/_authority/usage";
/// Internal path of a leaked-token report.
#[cfg(feature = "admin")]
pub const REPORT_PATH: &str = "/_authority/report";
/// Internal path of an org's creation.
#[cfg(feature = "admin")]
pub const CREATE_PATH: &str = "/_authority/orgs";
/// Internal path of the operator's read of an org.
#[cfg(feature = "admin")]
pub const OPERATOR_ORG_PATH: &str = "/_authority/org";
/// Internal path of the operator's suspension of an org.
#[cfg(feature = "admin")]
pub const SUSPEND_PATH: &str = "/_authority/suspend";
/// Internal path of the operator's resumption of an org.
#[cfg(feature = "admin")]
pub const RESUME_PATH: &str = "/_authority/resume";
/// Internal path of the operator's deletion of an org.
#[cfg(feature = "admin")]
pub const DELETE_PATH: &str = "/_authority/delete";
/// Internal path of the operator's recovery token.
#[cfg(feature = "admin")]
pub const RECOVERY_PATH: &str = "/_authority/recovery";
/// Set by the authority on an operator's answer when that request changed the org (not on a
/// repeat that found it so already): only then is it in the operator's audit log.
#[cfg(feature = "admin")]
pub const CHANGED_HEADER: &str = "keyward-changed";
/// Internal path of the operator's export of an org. (Its restore goes to the authority at its
/// public path, [`crate::routes::ORG_IMPORT_PATH`], whose body limit it shares.)
#[cfg(feature = "admin")]
pub const EXPORT_PATH: &str = "/_authority/export";
/// The org the edge found the caller's secret in (or the org to create).
#[cfg(feature = "admin")]
pub const ORG_HEADER: &str = "keyward-org";
/// The token the edge found the caller's secret to belong to.
#[cfg(feature = "admin")]
pub const TOKEN_HEADER: &str = "keyward-token";
/// The caller's connecting address as Cloudflare saw it (network allowlists of admin callers).
#[cfg(feature = "admin")]
pub const CLIENT_HEADER: &str = "keyward-client";
/// The member the operator acts for (`Keyward-Act-As`, checked by the edge and again by the
/// authority, with the operator secret it forwards).
#[cfg(feature = "admin")]
pub const ACT_AS_HEADER: &str = "keyward-act-as";
/// Internal path of a sign-in session's start (the email Access vouched for in [`EMAIL_HEADER`]).
#[cfg(feature = "admin")]
pub const SESSION_PATH: &str = "/_authority/session";
/// Internal path of the question whether an email may sign in to the org (the org picker).
#[cfg(feature = "admin")]
pub const SIGN_IN_CHOICE_PATH: &str = "/_authority/sign-in-choice";
/// The email Cloudflare Access vouched for, as the edge checked it.
#[cfg(feature = "admin")]
pub const EMAIL_HEADER: &str = "keyward-email";
/// The secret of the caller's sign-in session (from its cookie).
#[cfg(feature = "admin")]
pub const SESSION_HEADER: &str = "keyward-session";
/// Internal requests are addressed to this origin (a Durable Object ignores the host).
const ORIGIN: &str = "https://authority.keyward.internal";

fn internal(e: impl core::fmt::Display) -> Problem {
    Problem::internal(format!("authority: {e}"))
}

/// Send `method path` with `headers` and `body` to the Durable Object named `name` of the
/// namespace bound as `binding` (the org authorities, the key claims, the registry), addressed as
/// `origin` (an object ignores the host). The request is built with `web_sys` directly:
/// `worker::RequestInit` would bring its `cf` options' serializer (image resizing and all) into
/// the Worker on the verify path.
pub async fn to_object(
    env: &Env,
    (binding, name, origin): (&str, &str, &str),
    method: Method,
    path_and_query: &str,
    headers: Headers,
    body: Option<&[u8]>,
) -> Result<Response, Problem> {
    let init = web_sys::RequestInit::new();
    init.set_method(method.as_ref());
    init.set_headers(&JsValue::from(headers.0));
    if let Some(b) = body.filter(|b| !b.is_empty()) {
        init.set_body(&JsValue::from(Uint8Array::from(b)));
    }
    let req = web_sys::Request::new_with_str_and_init(&format!("{origin}{path_and_query}"), &init)
        .map_err(|e| internal(worker::Error::from(e)))?;
    let stub: Stub = env
        .durable_object(binding)
        .map_err(internal)?
        .id_from_name(name)
        .map_err(internal)?
        .get_stub()
        .map_err(internal)?;
    stub.fetch_with_request(Request::from(req)).await.map_err(internal)
}

/// Send `method path` with `headers` and `body` to the authority of `org`.
pub async fn send(
    env: &Env,
    org: &str,
    method: Method,
    path_and_query: &str,
    headers: Headers,
    body: Option<&[u8]>,
) -> Result<Response, Problem> {
    to_object(env, (BINDING, org, ORIGIN), method, path_and_query, headers, body).await
}

/// The body of a strict verification, edge to authority: the secret's hash as the edge computed
/// it, never the secret.
#[derive(Serialize, serde::Deserialize)]
pub struct StrictQuestion {
    /// `sha256` hex of the presented secret.
    pub hash: String,
    /// Scopes asked for.
    pub scopes: Vec<String>,
    /// Where the edge found it.
    pub org_id: String,
    /// Where the edge found it.
    pub token_id: String,
    /// The address the calling service saw (network allowlists).
    #[serde(default)]
    pub client_ip: Option<core::net::IpAddr>,
    /// Credits a valid verification spends.
    #[serde(default = "default_cost")]
    pub cost: u32,
}

const fn default_cost() -> u32 {
    crate::domain::meter::DEFAULT_COST
}

/// The header the authority names its strict verdict's code in, so the edge can count and
/// remember the use without reading the answer.
pub const CODE_HEADER: &str = "keyward-code";

/// A strict verdict as the authority wrote it: the answer's body, passed on as it is, and its code.
pub struct StrictAnswer {
    /// The JSON answer, byte for byte the authority's, as a stream this Worker never reads.
    pub body: Option<web_sys::ReadableStream>,
    /// Its code.
    pub code: Code,
}

/// Ask the org's authority for a strict verdict on what was `asked`, whose secret hashes to
/// `hash` and was found at `at`. One round trip; the answer is not read here (its code comes in
/// [`CODE_HEADER`]): its body streams to the caller as the authority wrote it.
///
/// # Errors
/// Internal when the authority cannot be reached or answers something else.
pub async fn strict(
    env: &Env,
    asked: &crate::service::VerifyRequest,
    hash: &str,
    at: &Located,
) -> Result<StrictAnswer, Problem> {
    let q = StrictQuestion {
        hash: hash.to_owned(),
        scopes: asked.scopes.clone(),
        org_id: at.org_id.clone(),
        token_id: at.token_id.clone(),
        client_ip: asked.client_ip,
        cost: asked.cost,
    };
    let body = serde_json::to_vec(&q).map_err(internal)?;
    let headers = Headers::new();
    let _ = headers.set("content-type", "application/json");
    let resp = send(env, &at.org_id, Method::Post, STRICT_PATH, headers, Some(&body)).await?;
    if resp.status_code() != 200 {
        return Err(internal(format!("strict verification answered {}", resp.status_code())));
    }
    let code = resp.headers().get(CODE_HEADER).ok().flatten().and_then(|c| Code::parse(&c));
    let code = code.ok_or_else(|| internal("a strict answer without its code"))?;
    let body = match resp.body() {
        worker::ResponseBody::Stream(s) => Some(s.clone()),
        worker::ResponseBody::Body(_) | worker::ResponseBody::Empty => None,
    };
    Ok(StrictAnswer { body, code })
}

/// A copy of an answer (an authority's, or the full Worker's) that the edge may add headers to
/// (CORS).
pub async fn relay(mut resp: Response) -> Result<Response, Problem> {
    let status = resp.status_code();
    let bytes = resp.bytes().await.map_err(internal)?;
    let headers = Headers::new();
    for (k, v) in resp.headers().entries() {
        let _ = headers.append(&k, &v);
    }
    let out = if status == 204 { Response::empty() } else { Response::from_bytes(bytes) };
    Ok(out.map_err(internal)?.with_status(status).with_headers(headers))
}
