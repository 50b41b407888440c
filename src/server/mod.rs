//! The Cloudflare Worker: routing, the verify endpoint, and the way to each org's authority.
//! Thin: every decision is made in [`crate::service`].
//!
//! - The **edge** (this Worker's fetch handler) answers `/healthz`, `/v1/openapi.json` and
//!   edge verifications itself, from KV. Everything else it forwards to the org's authority.
//! - The **org authority** ([`authority::OrgAuthority`], a SQLite-backed Durable Object, one per
//!   org) serves every admin request and strict verification from its records, one at a time.

#[cfg(feature = "admin")]
mod access;
#[cfg(feature = "admin")]
mod admin;
#[cfg(feature = "admin")]
mod authority;
#[cfg(feature = "admin")]
mod claims;
#[cfg(feature = "admin")]
mod email;
mod fast;
mod http;
mod kv;
#[cfg(feature = "admin")]
mod leaks;
mod limits;
#[cfg(feature = "admin")]
mod operator;
mod problem;
#[cfg(feature = "admin")]
mod registry;
mod relay;
mod usage;
#[cfg(feature = "admin")]
mod webhooks;

/// The verify-only Worker holds the admin API by forwarding it.
#[cfg(not(feature = "admin"))]
mod admin {
    use worker::{Context, Env, Request, Response};

    use super::problem::Problem;
    use crate::domain::Timestamp;
    use crate::routes::Route;

    /// The service binding to the full Worker (`wrangler.verify.toml`, `services`).
    const ADMIN: &str = "ADMIN";

    /// The verify-only Worker (`--no-default-features --features server`, see
    /// `wrangler.verify.toml`) answers verifications itself and passes every other route of the
    /// API, as the client sent it, to the full Worker through the `ADMIN` service binding: one
    /// hostname holds the whole API while the Worker on the verify path carries only verify code.
    /// Without the binding those routes are 404, as in a verify-only deployment.
    pub(super) async fn admin(
        req: &mut Request,
        env: &Env,
        _: &Context,
        _: &str,
        _: Route,
        _: Timestamp,
    ) -> Result<Response, Problem> {
        let Ok(full) = env.service(ADMIN) else { return Err(Problem::NoRoute) };
        let sent = req.clone().map_err(|e| Problem::internal(format!("admin forward: {e}")))?;
        let resp = full.fetch_request(sent).await.map_err(|e| Problem::internal(format!("admin forward: {e}")))?;
        // A copy whose headers this Worker may still set (CORS).
        super::relay::relay(resp).await
    }
}

use std::cell::RefCell;

use serde_json::{json, Map, Value};
use worker::{console_error, event, web_sys, Context, Date, Env, IntoResponse as _, Request, Response};

use self::http::{bearer, json_response, no_content, problem, Answer, Body};
use self::kv::WorkersKv;
use self::problem::Problem;
use crate::domain::legacy::LegacyFormats;
use crate::domain::{Code, Timestamp};
use crate::routes::{resolve, Route};
use crate::service::{self, Consistency, Error, Located, Lookup, Verification};
use crate::store::cache::TtlCache;
use crate::store::Edge;

/// The CSPRNG of the platform (`crypto.getRandomValues`).
#[cfg(feature = "admin")]
struct CryptoRandom;

#[cfg(feature = "admin")]
impl crate::domain::RandomSource for CryptoRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), crate::domain::RandomError> {
        getrandom::getrandom(buf).map_err(|_| crate::domain::RandomError)
    }
}

/// How often one isolate writes a token's last use, at most.
const LAST_USED_EVERY_MS: u64 = 60_000;
/// Tokens whose last write this isolate remembers.
const LAST_USED_MEMORY: usize = 16_384;
/// Most last-use writes one background task makes (a request may make at most 1 000 KV
/// operations; what is left goes with the task the next use starts).
const LAST_USED_BATCH_MAX: usize = 100;
/// Most last uses waiting at once; past it a use is not queued (nor remembered as written), and
/// the token's next verification tries again.
const LAST_USED_PENDING_MAX: usize = 2_000;

/// How long a writing task may run before a new use counts it lost and starts another
/// (Cloudflare ends `waitUntil` work 30 s after the response; a task cut short never says so).
const LAST_USED_TASK_MAX_MS: i64 = 30_000;

/// Last uses waiting to be written, and since when a task has been writing them.
#[derive(Default)]
struct PendingUses {
    /// `(org, token, when)`.
    uses: Vec<(String, String, Timestamp)>,
    writing_since: Option<Timestamp>,
}

impl PendingUses {
    /// Whether another use would be one too many.
    fn full(&self) -> bool {
        self.uses.len() >= LAST_USED_PENDING_MAX
    }

    /// Queue a use made at `at`; answers whether the caller must start a task to write it (none
    /// is running, or the one that was has run past [`LAST_USED_TASK_MAX_MS`]).
    fn push(&mut self, org: &str, token: &str, at: Timestamp) -> bool {
        self.uses.push((org.to_owned(), token.to_owned(), at));
        let start = self
            .writing_since
            .is_none_or(|since| at.as_millis().saturating_sub(since.as_millis()) > LAST_USED_TASK_MAX_MS);
        if start {
            self.writing_since = Some(at);
        }
        start
    }

    /// The next use for the running task, which has written `written` so far; `None` ends the
    /// task (nothing left, or its share written).
    fn next(&mut self, written: usize) -> Option<(String, String, Timestamp)> {
        let next = if written < LAST_USED_BATCH_MAX { self.uses.pop() } else { None };
        if next.is_none() {
            self.writing_since = None;
        }
        next
    }
}

thread_local! {
    /// Token id → when this isolate last wrote its last use.
    static LAST_USED: RefCell<TtlCache<()>> = RefCell::new(TtlCache::new(LAST_USED_MEMORY, LAST_USED_EVERY_MS));
    /// Last uses not yet written (see [`touch`]).
    static LAST_USED_PENDING: RefCell<PendingUses> = RefCell::new(PendingUses::default());
}

thread_local! {
    /// The deployment's `LEGACY_KEY_FORMATS`, read once per isolate.
    static LEGACY: std::cell::OnceCell<std::rc::Rc<LegacyFormats>> = const { std::cell::OnceCell::new() };
}

/// The legacy key formats this deployment declares (`LEGACY_KEY_FORMATS`), read once per
/// isolate. A setting that does not parse is logged once and counts as none: keys of no declared
/// shape stay `MALFORMED`, never the other way round.
pub(crate) fn legacy_formats(env: &Env) -> std::rc::Rc<LegacyFormats> {
    LEGACY.with(|cell| {
        cell.get_or_init(|| {
            let text = env.var("LEGACY_KEY_FORMATS").map(|v| v.to_string()).unwrap_or_default();
            std::rc::Rc::new(LegacyFormats::parse(&text).unwrap_or_else(|e| {
                console_error!("{e}; no legacy key format is accepted");
                LegacyFormats::none()
            }))
        })
        .clone()
    })
}

thread_local! {
    /// The configuration problems this isolate has logged already.
    static LOGGED: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

/// Log a configuration problem (a missing binding, an unset variable) once per isolate, under
/// `key`: it is the same on every request, and a line per request would flood the logs and cost
/// every request the write.
pub(crate) fn log_once(key: &'static str, line: impl FnOnce() -> String) {
    let first = LOGGED.with(|l| {
        let mut l = l.borrow_mut();
        let first = !l.contains(&key);
        if first {
            l.push(key);
        }
        first
    });
    if first {
        console_error!("{} (logged once per isolate)", line());
    }
}

/// Test builds only (`--features faults`): the route that switches fault injection.
#[cfg(feature = "faults")]
const FAULTS_PATH: &str = "/v1/_test/faults";

/// The time now, as the domain counts it.
fn now() -> Timestamp {
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
    Timestamp::from_millis(Date::now().as_millis() as i64)
}

#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, ctx: Context) -> worker::Result<web_sys::Response> {
    let now = now();
    if let Some(resp) = fast::verify(&req, &env, &ctx, now).await? {
        return Ok(resp);
    }
    let resp = general(Request::from(req), &env, &ctx, now).await?;
    resp.into_raw().map_err(|e| worker::Error::RustError(e.into().to_string()))
}

/// Every request but the verify fast path: the admin API, CORS, problems.
async fn general(mut req: Request, env: &Env, ctx: &Context, now: Timestamp) -> worker::Result<Response> {
    // The method as sent: workers-rs reads a method it does not know (`PROPFIND`, `QUERY`) as GET.
    let sent = req.inner().method();
    // HEAD is GET without the body (RFC 9110 §9.3.2): everything below sees GET.
    let head = sent == "HEAD";
    let method = if head { "GET".to_owned() } else { sent };
    let path = req.path();
    let origin = req.headers().get("origin").ok().flatten();
    let allowed = env.var("ALLOWED_ORIGINS").map(|v| v.to_string()).unwrap_or_default();
    let outcome = if method == "OPTIONS" {
        options(&path)
    } else if head && !crate::routes::allowed_methods(&path).contains(&"HEAD") {
        // A verification is not safe (RFC 9110 §9.2.1): it counts use and spends credits.
        Err(crate::routes::RouteError::MethodNotAllowed.into())
    } else {
        handle(&mut req, env, ctx, &method, &path, now).await
    };
    let mut resp = match outcome {
        Ok(r) => r,
        Err(e) => answer_error(&e, &method, &path)?,
    };
    if !allowed.is_empty() {
        http::cors(&mut resp, origin.as_deref(), &allowed);
    }
    if head {
        // The GET answer's status and headers, no body.
        return Ok(Response::empty()?.with_status(resp.status_code()).with_headers(resp.headers().clone()));
    }
    Ok(resp)
}

/// `OPTIONS` (CORS preflights and plain asks): 204 with `Allow` on a path the API serves, 404 on
/// any other (the CORS headers are added after, as to every answer).
fn options(path: &str) -> Result<Response, Problem> {
    let mut methods = crate::routes::allowed_methods(path);
    if methods.is_empty() {
        return Err(crate::routes::RouteError::NoRoute.into());
    }
    methods.push("OPTIONS");
    let mut r = no_content().map_err(Problem::internal)?;
    r.headers_mut().set("allow", &methods.join(", ")).map_err(Problem::internal)?;
    Ok(r)
}

/// The problem answer for `e`, logged when it is internal (the log names the route, never a
/// secret: `path` holds ids only).
fn answer_error(e: &Problem, method: &str, path: &str) -> worker::Result<Response> {
    if let Problem::Service(Error::Internal(why)) = e {
        console_error!("{method} {path}: {}", crate::store::redact(why));
    }
    let mut r = problem(e)?;
    if *e == Problem::MethodNotAllowed {
        let _ = r.headers_mut().set("allow", &crate::routes::allowed_methods(path).join(", "));
    }
    Ok(r)
}

fn internal(e: impl core::fmt::Display) -> Problem {
    Problem::internal(e)
}

fn reply<T: serde::Serialize>(status: u16, value: &T) -> Result<Response, Problem> {
    json_response(status, value).map_err(internal)
}

/// The deployment's token prefix (`TOKEN_PREFIX`).
#[cfg(feature = "admin")]
fn prefix(env: &Env) -> Result<crate::domain::token::Prefix, Problem> {
    let prefix = env.var("TOKEN_PREFIX").map(|v| v.to_string()).unwrap_or_else(|_| "kw".to_owned());
    crate::domain::token::Prefix::new(&prefix).map_err(|e| Problem::internal(format!("TOKEN_PREFIX: {e}")))
}

/// KV, typed, with verify entries read through the isolate's cache.
fn edge(env: &Env) -> Edge<WorkersKv> {
    Edge::new(WorkersKv::new(env)).with_cache(Box::new(kv::IsolateCache::new(env)))
}

/// Query parameters, percent-decoded. Read off the URL string with `form_urlencoded` rather than
/// `Request::url()`, whose full WHATWG parse (IDNA tables and all) would cost the wasm tens of KiB
/// for nothing.
///
/// # Errors
/// 400 `BAD_REQUEST` when a name is given more than once: `scopes=a&scopes=b` would otherwise be
/// read as one of them, and a verification would check fewer scopes than its caller asked for.
fn query(req: &Request) -> Result<Map<String, Value>, Problem> {
    let raw = req.inner().url();
    let query = raw.split_once('?').map_or("", |(_, q)| q);
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    let mut params = Map::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        if params.insert(k.into_owned(), Value::String(v.into_owned())).is_some() {
            return Err(Error::BadRequest(REPEATED_PARAMETER).into());
        }
    }
    Ok(params)
}

/// What a query with a repeated parameter is told.
const REPEATED_PARAMETER: &str = "each query parameter may be given only once";

fn param(q: &Map<String, Value>, name: &str) -> Option<String> {
    q.get(name).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Remember a use of `token`, off the response path and at most once a minute per isolate.
/// Uses are written in batches: the first use after a quiet spell starts one background task, and
/// every use queued while it writes rides with it (at most [`LAST_USED_BATCH_MAX`] per task), so
/// a burst of first-seen tokens costs one task, not one per verification.
pub(crate) fn touch(ctx: &Context, env: &Env, org: &str, token: &str, now: Timestamp) {
    let now_ms = u64::try_from(now.as_millis()).unwrap_or(0);
    if LAST_USED_PENDING.with(|p| p.borrow().full()) {
        return;
    }
    let due = LAST_USED.with(|m| {
        let mut m = m.borrow_mut();
        if m.get(token, now_ms).is_some() {
            return false;
        }
        m.insert(token, (), now_ms);
        true
    });
    if !due {
        return;
    }
    let schedule = LAST_USED_PENDING.with(|p| p.borrow_mut().push(org, token, now));
    if !schedule {
        return;
    }
    let edge = edge(env);
    ctx.wait_until(async move {
        // One write at a time: uses queued meanwhile are taken by the next turn of this loop.
        let mut written = 0;
        while let Some((org, token, at)) = LAST_USED_PENDING.with(|p| p.borrow_mut().next(written)) {
            written += 1;
            if let Err(e) = edge.put_last_used(&org, &token, at).await {
                console_error!("last_used: {e}");
            }
        }
    });
}

async fn handle(
    req: &mut Request,
    env: &Env,
    ctx: &Context,
    method: &str,
    path: &str,
    now: Timestamp,
) -> Result<Response, Problem> {
    #[cfg(all(feature = "faults", feature = "admin"))]
    if path == FAULTS_PATH {
        return admin::forward(req, env, ctx, method, now).await;
    }
    let (route, _) = resolve(method, path)?;
    match route {
        Route::Healthz => reply(200, &json!({"ok": true, "version": crate::service::KEYWARD_VERSION})),
        Route::VerifyPost => verify_post(req.inner(), None, env, ctx, now).await.into_response().map_err(internal),
        Route::VerifyGet => {
            let asked = verify_query(req)?;
            let caller = limits::client(req.headers().get("cf-connecting-ip").ok().flatten());
            verify(env, ctx, &asked, &caller, now).await?.answer().into_response().map_err(internal)
        }
        _ => admin::admin(req, env, ctx, method, route, now).await,
    }
}

/// `POST /v1/verify`, for both paths (the fast path only decides whether it may skip the
/// router): read the body, parse it, verify, and make the answer. An internal failure is logged
/// here, once, with the route and never a secret.
///
/// `known`: the body's framing and the request's headers, when the caller has read them already.
pub(crate) async fn verify_post(
    req: &web_sys::Request,
    known: Option<(http::Framing, &web_sys::Headers)>,
    env: &Env,
    ctx: &Context,
    now: Timestamp,
) -> Answer {
    let outcome = async {
        let read;
        let (framing, headers) = match known {
            Some(known) => known,
            None => {
                read = req.headers();
                (http::Framing::of(req, &read), &read)
            }
        };
        let body = http::read_framed_body(req, framing).await?;
        let asked = service::verify_body(&body)?;
        let caller = limits::client(headers.get("cf-connecting-ip").ok().flatten());
        verify(env, ctx, &asked, &caller, now).await
    }
    .await;
    match outcome {
        Ok(v) => v.answer(),
        Err(e) => {
            if let Problem::Service(Error::Internal(why)) = &e {
                console_error!("POST /v1/verify: {}", crate::store::redact(why));
            }
            Answer::problem(&e)
        }
    }
}

/// `GET /v1/verify?scopes=a,b&consistency=strict&client_ip=…` with the token as Bearer.
fn verify_query(req: &Request) -> Result<service::VerifyRequest, Problem> {
    let q = query(req)?;
    // A misspelt `scope=` must not verify with no scope check, as an unknown body field does not.
    if q.keys().any(|k| !["scopes", "consistency", "client_ip", "cost"].contains(&k.as_str())) {
        return Err(Error::BadRequest("GET /v1/verify takes only scopes, consistency, client_ip and cost").into());
    }
    let scopes = param(&q, "scopes")
        .map(|s| s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    let consistency = service::consistency(param(&q, "consistency").as_deref())?;
    let client_ip = service::client_ip(param(&q, "client_ip").as_deref())?;
    let cost = service::cost_param(param(&q, "cost").as_deref())?;
    Ok(service::VerifyRequest { token: bearer(req).unwrap_or_default(), scopes, consistency, client_ip, cost })
}

/// A verification's answer: decided here, or the authority's, passed on as it wrote it.
pub(crate) enum Verified {
    /// Decided at the edge (from KV), or without a lookup.
    Decided(Box<Verification>),
    /// The org authority's strict answer.
    Relayed(relay::StrictAnswer),
}

impl Verified {
    /// The `200` answer.
    fn answer(self) -> Answer {
        match self {
            Self::Decided(v) => Answer::json(200, &*v),
            Self::Relayed(r) => {
                Answer { status: 200, content_type: "application/json", body: Body::Stream(r.body), retry_after: None }
            }
        }
    }
}

/// Answer a verification, both paths: at the edge from KV, or strictly from the org's authority
/// (found through the secret's verify entry), whose answer is passed on unread. A token with a
/// rate limit or credits (its entry says `metered`) is always answered by its authority, which
/// meters it exactly. A valid answer records the use off the response path. Answers `MALFORMED`
/// and `NOT_FOUND` count against `caller`'s limit (the connecting client, not `client_ip`), off
/// the response path; strict ones of unmetered tokens against the token's; nothing else is
/// limited (a metered token's own limit and credits bound it).
///
/// # Errors
/// [`Error::RateLimited`] past a limit; [`Error::Internal`] when KV or the authority fails.
pub(crate) async fn verify(
    env: &Env,
    ctx: &Context,
    asked: &service::VerifyRequest,
    caller: &str,
    now: Timestamp,
) -> Result<Verified, Problem> {
    let found = service::lookup(&edge(env), &asked.token, &legacy_formats(env)).await?;
    let strict = asked.consistency == Consistency::Strict;
    let (outcome, at, code) = match found {
        Lookup::Found { hash, entry } if entry.metered || strict => {
            let at = Located::from(entry.as_ref());
            if !entry.metered {
                limits::check(env, limits::Limit::StrictVerifications, &at.token_id).await?;
            }
            let answer = relay::strict(env, asked, &hash, &at).await?;
            let code = answer.code;
            (Verified::Relayed(answer), Some(at), code)
        }
        Lookup::Unknown if strict => {
            // An unknown secret names no org, so no authority can answer: the miss is KV's, and as
            // stale as an edge answer.
            let mut miss = Verification::new(Code::NotFound, None, Consistency::Strict, now);
            miss.max_staleness_s = service::EDGE_MAX_STALENESS_S;
            (Verified::Decided(Box::new(miss)), None, Code::NotFound)
        }
        Lookup::Malformed if strict => (
            Verified::Decided(Box::new(Verification::new(Code::Malformed, None, Consistency::Strict, now))),
            None,
            Code::Malformed,
        ),
        found => {
            let v = found.edge_verdict(&asked.scopes, asked.client_ip, now);
            let code = v.code;
            (Verified::Decided(Box::new(v)), None, code)
        }
    };
    // Where the secret was found: the entry's for a relayed answer, the verdict's own otherwise
    // (borrowed, not copied, on the edge path).
    let at = at.as_ref().or(match &outcome {
        Verified::Decided(v) => v.located.as_ref(),
        Verified::Relayed(_) => None,
    });
    if let Some(at) = at.filter(|_| code == Code::Valid) {
        touch(ctx, env, &at.org_id, &at.token_id, now);
    }
    usage::count(ctx, env, at, code, now);
    kv::refresh_due(ctx, env);
    if matches!(code, Code::Malformed | Code::NotFound) {
        let now_ms = u64::try_from(now.as_millis()).unwrap_or(0);
        limits::count_later(ctx, env, limits::Limit::VerifyMisses, caller, now_ms)?;
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    /// One task runs per burst: uses queued while it writes ride with it.
    #[test]
    fn last_uses_are_batched() {
        let mut p = PendingUses::default();
        assert!(p.push("org_a", "tok_1", at(1)), "the first use starts a task");
        assert!(!p.push("org_a", "tok_2", at(2)), "later ones ride with it");
        let mut seen = vec![];
        while let Some(u) = p.next(seen.len()) {
            seen.push(u.1.clone());
            if seen.len() == 1 {
                assert!(!p.push("org_b", "tok_3", at(3)), "queued while the task writes: taken by it");
            }
        }
        seen.sort();
        assert_eq!(seen, ["tok_1", "tok_2", "tok_3"]);
        assert!(p.push("org_a", "tok_4", at(4)), "after the task ends, the next use starts another");
    }

    /// A task writes at most its share; the rest waits for the task the next use starts.
    #[test]
    fn a_task_is_bounded() {
        let mut p = PendingUses::default();
        for i in 0..LAST_USED_BATCH_MAX + 5 {
            p.push("org_a", &format!("tok_{i}"), at(i64::try_from(i).unwrap_or(0)));
        }
        let mut written = 0;
        while p.next(written).is_some() {
            written += 1;
        }
        assert_eq!(written, LAST_USED_BATCH_MAX);
        assert!(p.push("org_a", "tok_next", at(10_000)), "what is left needs a new task");
        let mut rest = 0;
        while p.next(rest).is_some() {
            rest += 1;
        }
        assert_eq!(rest, 6);
    }

    /// A task cut short (its request's `waitUntil` ended) never ends itself: after
    /// `LAST_USED_TASK_MAX_MS` the next use starts another rather than queue forever.
    #[test]
    fn a_lost_task_is_replaced() {
        let mut p = PendingUses::default();
        assert!(p.push("org_a", "tok_1", at(1_000)));
        assert!(p.next(0).is_some(), "the task takes a use, then is never heard of again");
        assert!(!p.push("org_a", "tok_2", at(1_000 + LAST_USED_TASK_MAX_MS)), "still within its time");
        assert!(p.push("org_a", "tok_3", at(1_001 + LAST_USED_TASK_MAX_MS)), "past it: a new task");
        assert!(!p.push("org_a", "tok_4", at(1_002 + LAST_USED_TASK_MAX_MS)), "and that one runs now");
    }

    #[test]
    fn the_queue_is_bounded() {
        let mut p = PendingUses::default();
        for i in 0..LAST_USED_PENDING_MAX {
            assert!(!p.full());
            p.push("org_a", &format!("tok_{i}"), at(0));
        }
        assert!(p.full());
        p.next(0);
        assert!(!p.full());
    }
}
