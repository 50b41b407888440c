//! The admin REST API at the edge: the operator's routes (`operator.rs`), and forwarding every other admin
//! request to the caller's org authority, which serves it. Left out of the verify-only Worker
//! (`--no-default-features --features server`).

use worker::{Context, Env, Headers, Method, Request, Response};

use super::http::{bearer, read_body};
use super::limits::{self, Limit};
use super::problem::Problem;
use super::relay::{self, ACT_AS_HEADER, CLIENT_HEADER, ORG_HEADER, SESSION_HEADER, TOKEN_HEADER};
use super::{edge, internal, prefix, touch};
use crate::domain::legacy::LegacyFormats;
use crate::domain::Timestamp;
use crate::routes::{Route, OPENAPI_JSON};
use crate::service::{self, Error, Operator};

/// The operator secret must match exactly (constant time over SHA-256 digests, so neither
/// content nor length leaks through timing).
/// The deployment's operator secret, if set.
pub(super) fn operator_secret(env: &Env) -> Option<String> {
    let secret = env.secret("OPERATOR_SECRET").map(|s| s.to_string()).ok().filter(|s| !s.is_empty());
    if secret.is_none() {
        super::log_once("OPERATOR_SECRET", || {
            "OPERATOR_SECRET is not set: the operator's routes are disabled".to_owned()
        });
    }
    secret
}

/// `/path?query` of the request (the fragment never reaches a server, but is dropped anyway).
fn path_and_query(req: &Request) -> String {
    let url = req.inner().url();
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let rest = url.get(after_scheme..).unwrap_or("");
    let from_path = rest.find('/').and_then(|i| rest.get(i..)).unwrap_or("/");
    from_path.split('#').next().unwrap_or(from_path).to_owned()
}

/// Every route of the admin API.
pub(super) async fn admin(
    req: &mut Request,
    env: &Env,
    ctx: &Context,
    method: &str,
    route: Route,
    now: Timestamp,
) -> Result<Response, Problem> {
    if route == Route::OpenApi {
        let resp = Response::ok(OPENAPI_JSON).map_err(internal)?;
        let _ = resp.headers().set("content-type", "application/json");
        return Ok(resp);
    }
    // A deployment that cannot issue well-formed tokens serves no admin request.
    prefix(env)?;
    match route {
        Route::LeakReport => return super::leaks::leak_report(req, env).await,
        Route::RevokeCredentials => return super::leaks::revoke_credentials(req, env, ctx).await,
        _ => {}
    }
    match route {
        Route::CreateSession => {
            let body = read_body(req).await?;
            // A refused sign-in counts as any failed authentication of this client.
            return match super::access::sign_in(req, env, &body, now).await {
                Err(Problem::Service(Error::Unauthenticated)) => Err(auth_failed(env, req).await),
                answered => answered,
            };
        }
        Route::GetSession | Route::DeleteSession if super::access::config(env).is_none() => {
            return Err(super::access::NOT_CONFIGURED);
        }
        _ => {}
    }
    if super::operator::is_operator(route) {
        return super::operator::operator(req, env, method, route, now).await;
    }
    forward(req, env, ctx, method, now).await
}

/// Send an admin request to the authority of the org the caller's secret belongs to. The edge
/// only finds the org (from the secret's verify entry); the authority authenticates the caller
/// against its own records, so a change there is felt at once.
pub(super) async fn forward(
    req: &mut Request,
    env: &Env,
    ctx: &Context,
    method: &str,
    now: Timestamp,
) -> Result<Response, Problem> {
    let body = if matches!(method, "POST" | "PUT" | "PATCH" | "DELETE") { read_body(req).await? } else { Vec::new() };
    if req.headers().has(ACT_AS_HEADER).unwrap_or(false) {
        return act_as(req, env, method, &body).await;
    }
    let Some(presented) = bearer(req) else {
        let cookie = req.headers().get("cookie").ok().flatten().unwrap_or_default();
        if let Some((org, secret)) = crate::domain::access::parse_session_cookie(&cookie) {
            return session(req, env, method, &body, (org, secret)).await;
        }
        return Err(auth_failed(env, req).await);
    };
    let Some(at) = service::locate(&edge(env), &presented, &LegacyFormats::none()).await? else {
        return Err(auth_failed(env, req).await);
    };
    let headers = Headers::new();
    let _ = headers.set("authorization", &format!("Bearer {presented}"));
    let _ = headers.set(ORG_HEADER, &at.org_id);
    let _ = headers.set(TOKEN_HEADER, &at.token_id);
    pass_on(req, &headers);
    let method = Method::from(method.to_owned());
    let resp = relay::send(env, &at.org_id, method, &path_and_query(req), headers, Some(&body)).await?;
    if resp.status_code() == 401 {
        // The authority refused it: count it like any other failed sign-in.
        let refused = auth_failed(env, req).await;
        if refused != Problem::Service(Error::Unauthenticated) {
            return Err(refused);
        }
    } else {
        touch(ctx, env, &at.org_id, &at.token_id, now);
    }
    relay::relay(resp).await
}

/// What the authority reads of the client's request besides the body: the connecting address
/// (network allowlists), the body's type and the precondition. Nothing else is passed on.
fn pass_on(req: &Request, headers: &Headers) {
    if let Ok(Some(ip)) = req.headers().get("cf-connecting-ip") {
        let _ = headers.set(CLIENT_HEADER, &ip);
    }
    for name in ["content-type", "if-match"] {
        if let Ok(Some(v)) = req.headers().get(name) {
            let _ = headers.set(name, &v);
        }
    }
}

/// An admin request the operator makes for one member of one org (`Keyward-Act-As: mem_…`,
/// `Keyward-Org: org_…`, the operator secret as bearer): checked here (a wrong secret counts as
/// any failed sign-in), then sent to that org's authority with headers the edge sets itself,
/// where the operator is checked again and the member must be active. The client's own
/// `Keyward-*` headers are read, never passed on.
async fn act_as(req: &Request, env: &Env, method: &str, body: &[u8]) -> Result<Response, Problem> {
    let presented = bearer(req);
    if Operator::authenticate(operator_secret(env).as_deref(), presented.as_deref()).is_err() {
        return Err(auth_failed(env, req).await);
    }
    let named = |name: &str| req.headers().get(name).ok().flatten().map(|v| v.trim().to_owned());
    let org = named(ORG_HEADER)
        .filter(|o| crate::domain::model::is_id("org_", o))
        .ok_or(Error::BadRequest("Keyward-Act-As needs Keyward-Org: the id (org_…) of the member's org."))?;
    let member = named(ACT_AS_HEADER)
        .filter(|m| crate::domain::model::is_id("mem_", m))
        .ok_or(Error::BadRequest("Keyward-Act-As must name a member id (mem_…)."))?;
    let headers = Headers::new();
    if let Some(p) = &presented {
        let _ = headers.set("authorization", &format!("Bearer {p}"));
    }
    let _ = headers.set(ORG_HEADER, &org);
    let _ = headers.set(ACT_AS_HEADER, &member);
    pass_on(req, &headers);
    let method = Method::from(method.to_owned());
    let resp = relay::send(env, &org, method, &path_and_query(req), headers, Some(body)).await?;
    relay::relay(resp).await
}

/// An admin request in a sign-in session (its cookie, no bearer): a change must come from this
/// site (`Origin`) and carry the session's CSRF token, which the authority checks. The cookie is
/// cleared when the session is ended or no longer works.
async fn session(
    req: &Request,
    env: &Env,
    method: &str,
    body: &[u8],
    (org, secret): (&str, &str),
) -> Result<Response, Problem> {
    if !matches!(method, "GET" | "HEAD") && !super::access::same_origin(req) {
        return Err(Error::Forbidden(service::Denied::Csrf).into());
    }
    let headers = Headers::new();
    let _ = headers.set(ORG_HEADER, org);
    let _ = headers.set(SESSION_HEADER, secret);
    if let Ok(Some(ip)) = req.headers().get("cf-connecting-ip") {
        let _ = headers.set(CLIENT_HEADER, &ip);
    }
    for name in ["content-type", "if-match", crate::domain::access::CSRF_HEADER] {
        if let Ok(Some(v)) = req.headers().get(name) {
            let _ = headers.set(name, &v);
        }
    }
    let path = path_and_query(req);
    let ends = method == "DELETE" && path.split('?').next() == Some("/v1/session");
    let resp = relay::send(env, org, Method::from(method.to_owned()), &path, headers, Some(body)).await?;
    let status = resp.status_code();
    let out = relay::relay(resp).await?;
    if ends || status == 401 {
        let _ = out.headers().append("set-cookie", &crate::domain::access::session_cookie(None));
    }
    Ok(out)
}

/// A failed admin authentication: counted per client address; 401 until the limit, then 429.
pub(super) async fn auth_failed(env: &Env, req: &Request) -> Problem {
    let client = limits::client(req.headers().get("cf-connecting-ip").ok().flatten());
    match limits::check(env, Limit::AdminAuthFailures, &client).await {
        Ok(()) => Error::Unauthenticated.into(),
        Err(limited) => limited,
    }
}
