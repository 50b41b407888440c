//! The admin REST API at the edge: the operator's routes (`operator.rs`), and forwarding every other admin
//! request to the caller's org authority, which serves it. Left out of the verify-only Worker
//! (`--no-default-features --features server`).

use worker::{Context, Env, Headers, Method, Request, Response};

use super::http::{bearer, read_body};
use super::limits::{self, Limit};
use super::problem::Problem;
use super::relay::{self, CLIENT_HEADER, ORG_HEADER, TOKEN_HEADER};
use super::{edge, internal, prefix, touch};
use crate::domain::legacy::LegacyFormats;
use crate::domain::Timestamp;
use crate::routes::{Route, OPENAPI_JSON};
use crate::service::{self, Error};

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
    let Some(presented) = bearer(req) else { return Err(auth_failed(env, req).await) };
    let Some(at) = service::locate(&edge(env), &presented, &LegacyFormats::none()).await? else {
        return Err(auth_failed(env, req).await);
    };
    let headers = Headers::new();
    let _ = headers.set("authorization", &format!("Bearer {presented}"));
    let _ = headers.set(ORG_HEADER, &at.org_id);
    let _ = headers.set(TOKEN_HEADER, &at.token_id);
    if let Ok(Some(ip)) = req.headers().get("cf-connecting-ip") {
        let _ = headers.set(CLIENT_HEADER, &ip);
    }
    for name in ["content-type", "if-match"] {
        if let Ok(Some(v)) = req.headers().get(name) {
            let _ = headers.set(name, &v);
        }
    }
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

/// A failed admin authentication: counted per client address; 401 until the limit, then 429.
pub(super) async fn auth_failed(env: &Env, req: &Request) -> Problem {
    let client = limits::client(req.headers().get("cf-connecting-ip").ok().flatten());
    match limits::check(env, Limit::AdminAuthFailures, &client).await {
        Ok(()) => Error::Unauthenticated.into(),
        Err(limited) => limited,
    }
}
