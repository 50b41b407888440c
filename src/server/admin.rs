//! The admin REST API: every route but health and verification. Left out of the verify-only
//! Worker (`--no-default-features --features server`).

use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use worker::{console_error, Context, Env, Request, Response};

use super::http::{bearer, expect_empty, no_content, parse_json, read_body};
use super::{internal, param, query, reply, service, touch, Svc};
use crate::domain::Timestamp;
use crate::routes::{Route, OPENAPI_JSON};
use crate::service::{Actor, Error, TokenQuery};

/// The operator secret must match exactly (constant time over SHA-256 digests, so neither
/// content nor length leaks through timing).
fn is_operator(env: &Env, presented: Option<&str>) -> bool {
    let secret = env.secret("OPERATOR_SECRET").map(|s| s.to_string()).ok().filter(|s| !s.is_empty());
    let Some(secret) = secret else {
        console_error!("OPERATOR_SECRET is not set: org creation is disabled");
        return false;
    };
    let Some(presented) = presented else {
        return false;
    };
    bool::from(Sha256::digest(secret.as_bytes()).ct_eq(&Sha256::digest(presented.as_bytes())))
}

async fn authenticated(ctx: &Context, env: &Env, svc: &Svc, req: &Request, now: Timestamp) -> Result<Actor, Error> {
    let presented = bearer(req).ok_or(Error::Unauthenticated)?;
    let actor = svc.authenticate(&presented, now).await?;
    touch(ctx, env, &actor.org.id, &actor.token.id, now);
    Ok(actor)
}

/// Every route of the admin API.
pub(super) async fn admin(
    req: &mut Request,
    env: &Env,
    ctx: &Context,
    method: &str,
    route: Route,
    id: &str,
    now: Timestamp,
) -> Result<Response, Error> {
    if route == Route::OpenApi {
        let resp = Response::ok(OPENAPI_JSON).map_err(internal)?;
        let _ = resp.headers().set("content-type", "application/json");
        return Ok(resp);
    }
    let body = if matches!(method, "POST" | "PATCH" | "DELETE") { read_body(req).await? } else { Vec::new() };
    let svc = service(env)?;
    if route == Route::CreateOrg {
        if !is_operator(env, bearer(req).as_deref()) {
            return Err(Error::Unauthenticated);
        }
        return reply(201, &svc.create_org(&parse_json(&body)?, now).await?);
    }
    let actor = authenticated(ctx, env, &svc, req, now).await?;
    let a = &actor;
    match route {
        Route::Me => reply(200, &svc.me(a, now).await?),
        Route::GetOrg => reply(200, &svc.org(a)),
        Route::UpdateOrg => reply(200, &svc.update_org(a, &parse_json(&body)?, now).await?),
        Route::ListMembers => reply(200, &json!({"members": svc.members(a).await?})),
        Route::CreateMember => reply(201, &svc.create_member(a, &parse_json(&body)?, now).await?),
        Route::UpdateMember => reply(200, &svc.update_member(a, id, &parse_json(&body)?, now).await?),
        Route::ListTokens => {
            let q = query(req);
            let tq = TokenQuery {
                kind: param(&q, "kind"),
                owner: param(&q, "owner"),
                status: param(&q, "status"),
                cursor: param(&q, "cursor"),
            };
            let (tokens, cursor) = svc.list_tokens(a, &tq, now).await?;
            reply(200, &json!({"tokens": tokens, "cursor": cursor}))
        }
        Route::CreateToken => reply(201, &svc.create_token(a, &parse_json(&body)?, now).await?),
        Route::GetToken => reply(200, &svc.get_token(a, id, now).await?),
        Route::UpdateToken => reply(200, &svc.update_token(a, id, &parse_json(&body)?, now).await?),
        Route::DeleteToken => {
            svc.delete_token(a, id, &parse_json(&body)?, now).await?;
            no_content().map_err(internal)
        }
        Route::DisableToken => {
            expect_empty(&body)?;
            reply(200, &svc.disable_token(a, id, now).await?)
        }
        Route::EnableToken => {
            expect_empty(&body)?;
            reply(200, &svc.enable_token(a, id, now).await?)
        }
        Route::RevokeToken => reply(200, &svc.revoke_token(a, id, &parse_json(&body)?, now).await?),
        Route::ReapproveToken => {
            expect_empty(&body)?;
            reply(200, &svc.reapprove_token(a, id, now).await?)
        }
        Route::RotateToken => reply(200, &svc.rotate_token(a, id, &parse_json(&body)?, now).await?),
        Route::Audit => {
            let q = query(req);
            let (events, cursor) = svc
                .audit_events(
                    a,
                    param(&q, "target").as_deref(),
                    param(&q, "actor_token").as_deref(),
                    param(&q, "cursor").as_deref(),
                    param(&q, "limit").as_deref(),
                )
                .await?;
            reply(200, &json!({"events": events, "cursor": cursor}))
        }
        Route::Notifications => reply(200, &json!({"notifications": svc.notifications(a).await?})),
        _ => Err(Error::NoRoute),
    }
}
