//! The registry of imported keys' hashes: one SQLite-backed Durable Object (binding `CLAIMS`,
//! class `KeyClaims`, one instance) that says which org holds each hash ever imported.
//!
//! Each org's authority decides alone, so two orgs importing the same key at the same moment
//! would both pass a check of the verify projection, and whichever wrote KV last would own the
//! key's verify entry. The registry is the one place both ask: a claim of a batch of hashes is
//! decided in one synchronous step (no other request runs in between), so exactly one org holds
//! a hash. A claim is kept for good, even when the token is deleted or its key is rotated away:
//! a hash is one key, and a key that was one org's is never another's while that org lives. The
//! same org may claim its own hashes again (its authority then refuses what its records already
//! hold). When the operator deletes an org, its claims go with it.

use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::wasm_bindgen;
use worker::{
    durable_object, DurableObject, Env, Headers, Method, Request, Response, SqlStorage, SqlStorageValue, State,
};

use super::problem::Problem;

/// The binding of the registry's namespace.
const BINDING: &str = "CLAIMS";
/// The one instance.
const INSTANCE: &str = "claims";
/// Internal requests are addressed to this origin (a Durable Object ignores the host).
const ORIGIN: &str = "https://claims.keyward.internal";

/// A batch of hashes, for one org.
#[derive(Serialize, Deserialize)]
struct Batch {
    org_id: String,
    hashes: Vec<String>,
}

/// The answer to a claim: the index of the first hash another org holds, if any, else the
/// indexes of the hashes this claim added (the others the org held already).
#[derive(Serialize, Deserialize, Default)]
pub struct Claimed {
    /// A hash another org holds: nothing was claimed.
    pub taken: Option<usize>,
    /// The hashes newly claimed, which a failed import gives back.
    #[serde(default)]
    pub added: Vec<usize>,
}

/// The registry.
#[durable_object]
pub struct KeyClaims {
    sql: SqlStorage,
}

impl DurableObject for KeyClaims {
    fn new(state: State, _env: Env) -> Self {
        Self { sql: state.storage().sql() }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let batch: Batch = match req.json().await {
            Ok(b) => b,
            Err(_) => return Response::error("a claim is {org_id, hashes}", 400),
        };
        let outcome = match req.path().as_str() {
            "/claim" => self.claim(&batch),
            "/release" => self.release(&batch).map(|()| Claimed::default()),
            "/release-org" => self.release_org(&batch.org_id).map(|()| Claimed::default()),
            _ => return Response::error("no such route", 404),
        };
        match outcome {
            Ok(v) => Response::from_json(&v),
            Err(e) => {
                worker::console_error!("claims: {}", crate::store::redact(&e.to_string()));
                Response::error("claims unavailable", 500)
            }
        }
    }
}

impl KeyClaims {
    fn ready(&self) -> worker::Result<()> {
        self.sql
            .exec("CREATE TABLE IF NOT EXISTS claims (hash TEXT PRIMARY KEY, org TEXT NOT NULL) WITHOUT ROWID", None)?;
        Ok(())
    }

    /// Claim every hash of `batch` for its org, or none when hash `i` is another org's.
    fn claim(&self, batch: &Batch) -> worker::Result<Claimed> {
        self.ready()?;
        let mut added = Vec::new();
        for (i, h) in batch.hashes.iter().enumerate() {
            let rows: Vec<Vec<SqlStorageValue>> = self
                .sql
                .exec("SELECT org FROM claims WHERE hash = ?", vec![h.as_str().into()])?
                .raw()
                .collect::<Result<_, _>>()?;
            let holder = rows.first().and_then(|r| match r.first() {
                Some(SqlStorageValue::String(s)) => Some(s.clone()),
                _ => None,
            });
            match holder {
                Some(o) if o != batch.org_id => return Ok(Claimed { taken: Some(i), added: Vec::new() }),
                Some(_) => {}
                None => added.push(i),
            }
        }
        for &i in &added {
            if let Some(h) = batch.hashes.get(i) {
                self.sql.exec(
                    "INSERT OR IGNORE INTO claims (hash, org) VALUES (?, ?)",
                    vec![h.as_str().into(), batch.org_id.as_str().into()],
                )?;
            }
        }
        Ok(Claimed { taken: None, added })
    }

    /// Give back every hash `org` holds (the org is deleted).
    fn release_org(&self, org: &str) -> worker::Result<()> {
        self.ready()?;
        self.sql.exec("DELETE FROM claims WHERE org = ?", vec![org.into()])?;
        Ok(())
    }

    /// Give back `batch`'s hashes that its org holds (an import that claimed them and then failed).
    fn release(&self, batch: &Batch) -> worker::Result<()> {
        self.ready()?;
        for h in &batch.hashes {
            self.sql.exec(
                "DELETE FROM claims WHERE hash = ? AND org = ?",
                vec![h.as_str().into(), batch.org_id.as_str().into()],
            )?;
        }
        Ok(())
    }
}

fn internal(e: impl core::fmt::Display) -> Problem {
    Problem::internal(format!("claims: {e}"))
}

async fn send(env: &Env, path: &str, org: &str, hashes: &[String]) -> Result<Claimed, Problem> {
    let body = serde_json::to_vec(&json!({ "org_id": org, "hashes": hashes })).map_err(internal)?;
    let headers = Headers::new();
    let _ = headers.set("content-type", "application/json");
    let at = (BINDING, INSTANCE, ORIGIN);
    let mut resp = super::relay::to_object(env, at, Method::Post, path, headers, Some(&body)).await?;
    if resp.status_code() != 200 {
        return Err(internal(format!("status {}", resp.status_code())));
    }
    resp.json().await.map_err(internal)
}

/// Claim `hashes` for `org`: `taken: Some(i)` when hash `i` is another org's (nothing is
/// claimed then), else which hashes were added.
///
/// # Errors
/// Internal, when the registry cannot be reached (the import is refused: fail closed).
pub async fn claim(env: &Env, org: &str, hashes: &[String]) -> Result<Claimed, Problem> {
    send(env, "/claim", org, hashes).await
}

/// Give back the hashes a failed import added (never those the org held before). A failure is
/// logged: the hashes then stay `org`'s, which refuses them to other orgs and to nobody else.
pub async fn release(env: &Env, org: &str, hashes: &[String], added: &[usize]) {
    let given: Vec<String> = added.iter().filter_map(|&i| hashes.get(i).cloned()).collect();
    if given.is_empty() {
        return;
    }
    if let Err(e) = send(env, "/release", org, &given).await {
        worker::console_error!("claims release: {e:?}");
    }
}

/// Give back every imported key's hash a deleted org held. A failure is logged (`claims release:`):
/// those keys then stay refused to other orgs' imports.
pub async fn release_org(env: &Env, org: &str) {
    if let Err(e) = send(env, "/release-org", org, &[]).await {
        worker::console_error!("claims release: {e:?}");
    }
}
