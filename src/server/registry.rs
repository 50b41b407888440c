//! The operator's registry: one SQLite-backed Durable Object (binding `REGISTRY`, class
//! `OrgRegistry`, one instance) holding which orgs exist, the tombstones of deleted ones and the
//! operator's audit log ([`crate::service::registry`] decides; this is its glue). Reached only
//! from the edge, for the operator's routes, and never on a verification's path.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use worker::wasm_bindgen;
use worker::{console_error, durable_object, DurableObject, Env, Headers, Method, Request, Response, State};

use super::authority::SqlStore;
use super::problem::Problem;
use super::{param, query, reply, CryptoRandom};
use crate::domain::Timestamp;
use crate::service::registry::{page_limit, OperatorAction, Registered, Registry, RegistryPage};
use crate::service::Error;

/// The binding of the registry's namespace.
const BINDING: &str = "REGISTRY";
/// The one instance.
const INSTANCE: &str = "operator";
/// Internal requests are addressed to this origin (a Durable Object ignores the host).
const ORIGIN: &str = "https://registry.keyward.internal";

/// `/register` and `/tombstone`.
#[derive(Serialize, Deserialize)]
struct OrgAt {
    id: String,
    at: Timestamp,
}

/// `/record`.
#[derive(Serialize, Deserialize)]
struct Record {
    action: OperatorAction,
    org_id: String,
    summary: String,
}

/// The registry.
#[durable_object]
pub struct OrgRegistry {
    registry: Option<Registry<SqlStore, CryptoRandom>>,
}

impl DurableObject for OrgRegistry {
    fn new(state: State, _env: Env) -> Self {
        let registry = match SqlStore::plain(&state) {
            Ok(store) => Some(Registry::new(store, CryptoRandom)),
            Err(e) => {
                console_error!("registry: {}", crate::store::redact(&e.to_string()));
                None
            }
        };
        Self { registry }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let (method, path) = (req.method().to_string(), req.path());
        let outcome = match &self.registry {
            Some(r) => serve(r, &mut req, &method, &path).await,
            None => Err(Error::Internal("storage unavailable".into()).into()),
        };
        match outcome {
            Ok(r) => Ok(r),
            Err(e) => super::answer_error(&e, &method, &path),
        }
    }
}

async fn serve(
    r: &Registry<SqlStore, CryptoRandom>,
    req: &mut Request,
    method: &str,
    path: &str,
) -> Result<Response, Problem> {
    let now = super::now();
    match (method, path) {
        ("POST", "/register") => {
            let q: OrgAt = req.json().await.map_err(internal)?;
            reply(200, &r.register(&q.id, q.at).await?)
        }
        ("POST", "/tombstone") => {
            let q: OrgAt = req.json().await.map_err(internal)?;
            reply(200, &r.tombstone(&q.id, q.at).await?)
        }
        ("POST", "/record") => {
            let q: Record = req.json().await.map_err(internal)?;
            reply(200, &r.record(q.action, &q.org_id, &q.summary, now).await?)
        }
        ("GET", "/orgs") => {
            let q = query(req)?;
            let limit = page_limit(param(&q, "limit").as_deref())?;
            reply(200, &r.orgs(limit, param(&q, "cursor").as_deref()).await?)
        }
        ("GET", "/events") => {
            let q = query(req)?;
            let limit = page_limit(param(&q, "limit").as_deref())?;
            reply(200, &r.events(limit, param(&q, "cursor").as_deref()).await?)
        }
        ("GET", p) if p.starts_with("/org/") => match r.org(p.trim_start_matches("/org/")).await? {
            Some(known) => reply(200, &known),
            None => Err(Error::NotFound.into()),
        },
        _ => Err(Problem::NoRoute),
    }
}

fn internal(e: impl core::fmt::Display) -> Problem {
    Problem::internal(format!("registry: {e}"))
}

/// Send `method path` (with a JSON `body`) to the registry; the answer as it came.
async fn send(env: &Env, method: Method, path: &str, body: Option<Vec<u8>>) -> Result<Response, Problem> {
    let headers = Headers::new();
    let _ = headers.set("content-type", "application/json");
    super::relay::to_object(env, (BINDING, INSTANCE, ORIGIN), method, path, headers, body.as_deref()).await
}

/// The registry's JSON answer to a call that must succeed.
async fn call<T: serde::de::DeserializeOwned>(
    env: &Env,
    method: Method,
    path: &str,
    body: Option<Vec<u8>>,
) -> Result<T, Problem> {
    let mut resp = send(env, method, path, body).await?;
    if resp.status_code() != 200 {
        return Err(internal(format!("{path} answered {}", resp.status_code())));
    }
    resp.json().await.map_err(internal)
}

/// Register `org`, created (or imported) at `at`.
///
/// # Errors
/// Internal, when the registry cannot be reached.
pub async fn register(env: &Env, org: &str, at: Timestamp) -> Result<Registered, Problem> {
    let body = serde_json::to_vec(&OrgAt { id: org.to_owned(), at }).map_err(internal)?;
    call(env, Method::Post, "/register", Some(body)).await
}

/// Leave only `org`'s tombstone, deleted at `at`.
///
/// # Errors
/// Internal, when the registry cannot be reached.
pub async fn tombstone(env: &Env, org: &str, at: Timestamp) -> Result<Registered, Problem> {
    let body = serde_json::to_vec(&OrgAt { id: org.to_owned(), at }).map_err(internal)?;
    call(env, Method::Post, "/tombstone", Some(body)).await
}

/// What the registry knows of `org`.
///
/// # Errors
/// Internal, when the registry cannot be reached.
pub async fn known(env: &Env, org: &str) -> Result<Option<Registered>, Problem> {
    let mut resp = send(env, Method::Get, &format!("/org/{org}"), None).await?;
    match resp.status_code() {
        200 => resp.json().await.map(Some).map_err(internal),
        404 => Ok(None),
        s => Err(internal(format!("/org answered {s}"))),
    }
}

/// Add `action` on `org` to the operator's audit log. The action has happened by then: a
/// failure to record it is logged (`operator audit:`, an alert line in docs/OPERATIONS.md) and
/// does not undo it.
pub async fn record(env: &Env, action: OperatorAction, org: &str, summary: &str) {
    let rec = Record { action, org_id: org.to_owned(), summary: summary.to_owned() };
    let outcome = match serde_json::to_vec(&rec) {
        Ok(body) => call::<Value>(env, Method::Post, "/record", Some(body)).await.map(|_| ()),
        Err(e) => Err(internal(e)),
    };
    if let Err(e) = outcome {
        console_error!("operator audit: {:?} on {org} not recorded: {e:?}", action);
    }
}

/// A listing page (`/orgs` or `/events`), its query passed on as the client sent it; a problem
/// of the registry's (a bad cursor or limit) is the client's.
///
/// # Errors
/// The registry's problem, or internal when it cannot be reached.
pub async fn page<T: serde::de::DeserializeOwned>(
    env: &Env,
    path: &str,
    query: &str,
) -> Result<Result<RegistryPage<T>, Response>, Problem> {
    let mut resp = send(env, Method::Get, &format!("{path}{query}"), None).await?;
    if resp.status_code() == 200 {
        return resp.json().await.map(Ok).map_err(internal);
    }
    if (400..500).contains(&resp.status_code()) {
        return Ok(Err(super::relay::relay(resp).await?));
    }
    Err(internal(format!("{path} answered {}", resp.status_code())))
}
