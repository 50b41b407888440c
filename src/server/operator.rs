//! The operator's routes at the edge: authenticated with the operator secret here (a failure
//! counts as any failed sign-in) and again by the org's authority, which answers from the org's
//! records; the registry lists the orgs and keeps the operator's audit log.

use futures_util::future::join_all;
use serde_json::{json, Value};
use worker::{Env, Headers, Method, Request, Response};

use super::admin::{auth_failed, operator_secret};
use super::http::{bearer, read_body};
use super::problem::Problem;
use super::registry;
use super::relay::{
    self, CHANGED_HEADER, CREATE_PATH, DELETE_PATH, EXPORT_PATH, OPERATOR_ORG_PATH, ORG_HEADER, RECOVERY_PATH,
    RESUME_PATH, SUSPEND_PATH,
};
use super::{internal, reply, CryptoRandom};
use crate::domain::model::{is_id, new_id};
use crate::domain::Timestamp;
use crate::routes::Route;
use crate::service::registry::{OperatorAction, Registered};
use crate::service::{Error, Operator};

/// Whether `route` is the operator's.
pub(super) const fn is_operator(route: Route) -> bool {
    matches!(
        route,
        Route::CreateOrg
            | Route::ListOrgs
            | Route::OperatorGetOrg
            | Route::DeleteOrg
            | Route::RecoverOrg
            | Route::SuspendOrg
            | Route::ResumeOrg
            | Route::OperatorAudit
            | Route::ExportOrg
            | Route::ImportOrg
    )
}

/// Headers for the org's authority: the org, and the operator's credential as presented (the
/// authority checks it again).
fn to_authority(org: &str, presented: &str) -> Headers {
    let headers = Headers::new();
    let _ = headers.set("content-type", "application/json");
    let _ = headers.set(ORG_HEADER, org);
    let _ = headers.set("authorization", &format!("Bearer {presented}"));
    headers
}

/// The JSON body of an authority's answer, and the answer rebuilt for the client (without the
/// authority's [`CHANGED_HEADER`], which is for the edge).
async fn read(resp: Response) -> Result<(u16, Value, Response), Problem> {
    let status = resp.status_code();
    let mut copy = relay::relay(resp).await?;
    let bytes = copy.cloned().map_err(internal)?.bytes().await.map_err(internal)?;
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok((status, value, copy))
}

fn text(v: &Value, path: &[&str]) -> String {
    path.iter().try_fold(v, |v, k| v.get(k)).and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// Serve one of the operator's routes (`is_operator(route)`).
pub(super) async fn operator(
    req: &mut Request,
    env: &Env,
    method: &str,
    route: Route,
    now: Timestamp,
) -> Result<Response, Problem> {
    if req.headers().has(super::relay::ACT_AS_HEADER).unwrap_or(true) {
        // Acting for a member is for the org's admin routes: the operator's own are never a
        // member's, and a header passed through from a SaaS page must not reach them.
        return Err(Error::BadRequest("Keyward-Act-As is for an org's admin routes, not the operator's own.").into());
    }
    let body = if matches!(method, "POST" | "DELETE") { read_body(req).await? } else { Vec::new() };
    let Some(presented) = bearer(req) else { return Err(auth_failed(env, req).await) };
    if Operator::authenticate(operator_secret(env).as_deref(), Some(&presented)).is_err() {
        return Err(auth_failed(env, req).await);
    }
    let path = req.path();
    let id = crate::routes::resolve(method, &path).ok().and_then(|(_, id)| id).map(str::to_owned);
    let raw = req.inner().url();
    let query = raw.split_once('?').map_or(String::new(), |(_, q)| format!("?{}", q.split('#').next().unwrap_or("")));
    match route {
        Route::ListOrgs => list(env, &presented, &query).await,
        Route::OperatorAudit => {
            let page = match registry::page::<Value>(env, "/events", &query).await? {
                Ok(p) => p,
                Err(refused) => return Ok(refused),
            };
            reply(200, &json!({"events": page.items, "cursor": page.cursor}))
        }
        Route::CreateOrg => {
            // The edge names the org, since the name picks its authority.
            let org = new_id("org_", &CryptoRandom)?;
            let resp =
                relay::send(env, &org, Method::Post, CREATE_PATH, to_authority(&org, &presented), Some(&body)).await?;
            let (status, v, out) = read(resp).await?;
            if status == 201 {
                if let Err(e) = registry::register(env, &org, now).await {
                    worker::console_error!("registry: {org} created but not registered: {e:?}");
                }
                // Ids, not emails: this log outlives the org, whose people's data is erased with it.
                let summary =
                    format!("Created org {:?} with admin {}", text(&v, &["org", "name"]), text(&v, &["member", "id"]));
                registry::record(env, OperatorAction::OrgCreated, &org, &summary).await;
            }
            Ok(out)
        }
        Route::ImportOrg => import(env, &presented, &body, now).await,
        Route::ExportOrg => {
            let org = id.filter(|i| is_id("org_", i)).ok_or(Error::NotFound)?;
            let resp = relay::send(env, &org, Method::Get, EXPORT_PATH, to_authority(&org, &presented), None).await?;
            // Relayed as it is (up to megabytes; never parsed here): the authority set no-store.
            let exported = resp.status_code() == 200;
            let out = relay::relay(resp).await?;
            if exported {
                registry::record(env, OperatorAction::OrgExported, &org, "Exported the org's records").await;
            }
            Ok(out)
        }
        _ => {
            let org = id.filter(|i| is_id("org_", i)).ok_or(Error::NotFound)?;
            on_org(env, &presented, route, &org, &body, now).await
        }
    }
}

/// `POST /v1/orgs/import`: the export names its org, and so the authority that restores it
/// (`idFromName(org_id)`); the edge reads only that and relays the body, at the route's own path
/// (whose body limit the authority applies too). The authority authenticates the operator again
/// and decides; a restored org is registered again (its tombstone, if it was deleted here, goes).
async fn import(env: &Env, presented: &str, body: &[u8], now: Timestamp) -> Result<Response, Problem> {
    let org = crate::service::import_target(body)?;
    let path = crate::routes::ORG_IMPORT_PATH;
    let resp = relay::send(env, &org, Method::Post, path, to_authority(&org, presented), Some(body)).await?;
    let (status, v, out) = read(resp).await?;
    if status == 201 {
        let created = Timestamp::parse_rfc3339(&text(&v, &["org", "created_at"])).unwrap_or(now);
        if let Err(e) = registry::register(env, &org, created).await {
            worker::console_error!("registry: {org} restored but not registered: {e:?}");
        }
        let count = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or_default();
        let summary = format!(
            "Restored org \"{}\" from an export ({} records, {} tokens)",
            text(&v, &["org", "name"]),
            count("records"),
            count("tokens")
        );
        registry::record(env, OperatorAction::OrgImported, &org, &summary).await;
    }
    Ok(out)
}

/// The operator's routes on one org.
async fn on_org(
    env: &Env,
    presented: &str,
    route: Route,
    org: &str,
    body: &[u8],
    now: Timestamp,
) -> Result<Response, Problem> {
    let (method, path, action) = match route {
        Route::OperatorGetOrg => (Method::Get, OPERATOR_ORG_PATH, None),
        Route::SuspendOrg => (Method::Post, SUSPEND_PATH, Some(OperatorAction::OrgSuspended)),
        Route::ResumeOrg => (Method::Post, RESUME_PATH, Some(OperatorAction::OrgResumed)),
        Route::DeleteOrg => (Method::Post, DELETE_PATH, Some(OperatorAction::OrgDeleted)),
        Route::RecoverOrg => (Method::Post, RECOVERY_PATH, Some(OperatorAction::RecoveryIssued)),
        _ => return Err(Problem::NoRoute),
    };
    let body = (!body.is_empty()).then_some(body);
    let resp = relay::send(env, org, method, path, to_authority(org, presented), body).await?;
    let changed = resp.headers().get(CHANGED_HEADER).ok().flatten().is_some();
    let (status, v, out) = read(resp).await?;
    let _ = out.headers().delete(CHANGED_HEADER);
    if !(200..300).contains(&status) {
        return Ok(out);
    }
    let summary = match route {
        Route::OperatorGetOrg => {
            // An org made before the registry kept them is registered when the operator reads it.
            if registry::known(env, org).await.ok().flatten().is_none() {
                let created = crate::domain::Timestamp::parse_rfc3339(&text(&v, &["created_at"])).unwrap_or(now);
                if let Err(e) = registry::register(env, org, created).await {
                    worker::console_error!("registry: {org} not registered: {e:?}");
                }
            }
            return Ok(out);
        }
        Route::SuspendOrg => "Suspended the org".to_owned(),
        Route::ResumeOrg => "Resumed the org".to_owned(),
        Route::DeleteOrg => {
            let at = crate::domain::Timestamp::parse_rfc3339(&text(&v, &["deleted_at"])).unwrap_or(now);
            if let Err(e) = registry::tombstone(env, org, at).await {
                worker::console_error!("registry: {org} deleted but no tombstone written: {e:?}");
            }
            // The imported keys it held are nobody's now: the customer may bring them again.
            super::claims::release_org(env, org).await;
            "Deleted the org and erased its records".to_owned()
        }
        Route::RecoverOrg => format!("Issued a recovery token for {}", text(&v, &["member", "id"])),
        _ => String::new(),
    };
    // Only what this request changed: a repeat that found the org so already is not an action.
    let changed = changed || route == Route::RecoverOrg;
    if let Some(action) = action.filter(|_| changed) {
        registry::record(env, action, org, &summary).await;
    }
    Ok(out)
}

/// `GET /v1/orgs`: one page of the registry, each live org read from its authority (in
/// parallel), each deleted one as its tombstone.
async fn list(env: &Env, presented: &str, query: &str) -> Result<Response, Problem> {
    let page = match registry::page::<Registered>(env, "/orgs", query).await? {
        Ok(p) => p,
        Err(refused) => return Ok(refused),
    };
    let reads = page.items.iter().map(|r| async move {
        if let Some(at) = r.deleted_at {
            return Ok(Some(json!({"id": r.id, "deleted_at": at.to_rfc3339()})));
        }
        let resp =
            relay::send(env, &r.id, Method::Get, OPERATOR_ORG_PATH, to_authority(&r.id, presented), None).await?;
        let (status, v, _) = read(resp).await?;
        match status {
            200 => Ok(Some(v)),
            // Registered, then not created (its creation failed) or being deleted: not listed.
            404 => Ok(None),
            s => Err(internal(format!("org {} answered {s}", r.id))),
        }
    });
    let mut orgs = Vec::with_capacity(page.items.len());
    for read in join_all(reads).await {
        if let Some(v) = read? {
            orgs.push(v);
        }
    }
    reply(200, &json!({"orgs": orgs, "cursor": page.cursor}))
}
