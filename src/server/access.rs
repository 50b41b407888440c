//! Sign-in through Cloudflare Access (`POST /v1/session`): the edge checks the JWT Access puts in
//! `Cf-Access-Jwt-Assertion` (RS256 against the team's published keys, with the platform's
//! WebCrypto, so no RSA code ships in the wasm), finds the orgs where that email is an active
//! member, and asks the chosen org's authority to start a session; the browser gets its secret
//! only as an `HttpOnly` cookie. The pure parts are `domain::access`.

use std::cell::RefCell;

use futures_util::future::join_all;
use serde::Deserialize;
use serde_json::json;
use worker::js_sys::{Array, Uint8Array};
use worker::wasm_bindgen::JsValue;
use worker::{console_error, Date, Env, Fetch, Headers, Method, Request, Response};

use super::leaks::{call, member, object};
use super::problem::Problem;
use super::relay::{self, EMAIL_HEADER, ORG_HEADER, SESSION_PATH, SIGN_IN_CHOICE_PATH};
use super::{internal, reply};
use crate::domain::access::{self as rules, Jwk, JwtError, MAX_ORGS_PER_EMAIL};
use crate::domain::Timestamp;
use crate::service::{Denied, Error, SignInChoice};
use crate::store::{keys, Kv as _};

/// How long an isolate keeps the team's keys.
const KEYS_TTL_MS: u64 = 3_600_000;
/// A JWT naming a key the cached set lacks refetches at most this often (keys rotate; a forged
/// `kid` must not make every request fetch).
const REFETCH_MIN_MS: u64 = 10_000;
/// The header Cloudflare Access adds to every request it lets through.
const JWT_HEADER: &str = "cf-access-jwt-assertion";

/// Said when Access is not configured.
pub(super) const NOT_CONFIGURED: Problem = Problem::NotConfigured(
    "Sign-in through Cloudflare Access is not configured on this deployment (ACCESS_TEAM_DOMAIN and ACCESS_AUD); sign in with a token.",
);

thread_local! {
    /// The team's keys, when fetched, and from which certs URL.
    static KEYS: RefCell<Option<(u64, String, Vec<Jwk>)>> = const { RefCell::new(None) };
}

/// The deployment's Access application.
pub(super) struct Access {
    team: String,
    aud: String,
}

/// Access, when `ACCESS_TEAM_DOMAIN` and `ACCESS_AUD` are both set (an `http://` team only
/// with `WEBHOOK_ALLOW_INSECURE = "true"`, for local tests).
pub(super) fn config(env: &Env) -> Option<Access> {
    let var = |n: &str| env.var(n).map(|v| v.to_string()).ok().filter(|v| !v.trim().is_empty());
    let insecure = var("WEBHOOK_ALLOW_INSECURE").is_some_and(|v| v == "true");
    let (team, aud) = (var("ACCESS_TEAM_DOMAIN")?, var("ACCESS_AUD")?);
    let team = rules::team_domain(&team, insecure);
    if team.is_none() {
        super::log_once("ACCESS_TEAM_DOMAIN", || {
            "ACCESS_TEAM_DOMAIN is not an https:// origin: Access sign-in is off".to_owned()
        });
    }
    Some(Access { team: team?, aud: aud.trim().to_owned() })
}

/// The team's keys: cached per isolate for an hour; fetched again for a `kid` the cache lacks.
async fn keys(certs: &str, kid: Option<&str>) -> Vec<Jwk> {
    let now = Date::now().as_millis();
    let cached =
        KEYS.with(|k| k.borrow().as_ref().filter(|(_, url, _)| url == certs).map(|(at, _, keys)| (*at, keys.clone())));
    if let Some((at, keys)) = &cached {
        let fresh = now.saturating_sub(*at) < KEYS_TTL_MS;
        let knows = rules::key_for(keys, kid).is_some();
        if fresh && (knows || now.saturating_sub(*at) < REFETCH_MIN_MS) {
            return keys.clone();
        }
    }
    match fetch_keys(certs).await {
        Ok(keys) => {
            KEYS.with(|k| *k.borrow_mut() = Some((now, certs.to_owned(), keys.clone())));
            keys
        }
        Err(e) => {
            console_error!("Access certs: {}", crate::store::redact(&e));
            // Keep what we had, but try again no sooner than REFETCH_MIN_MS.
            let keep = cached.map(|(_, k)| k).unwrap_or_default();
            KEYS.with(|k| *k.borrow_mut() = Some((now, certs.to_owned(), keep.clone())));
            keep
        }
    }
}

async fn fetch_keys(url: &str) -> Result<Vec<Jwk>, String> {
    let req = Request::new(url, Method::Get).map_err(|e| e.to_string())?;
    let mut resp = Fetch::Request(req).send().await.map_err(|e| e.to_string())?;
    if resp.status_code() != 200 {
        return Err(format!("answered {}", resp.status_code()));
    }
    let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
    rules::parse_jwks(&bytes).map_err(|e| e.to_string())
}

/// Whether `signature` is `key`'s RSASSA-PKCS1-v1_5 / SHA-256 signature over `data`.
async fn rs256_verifies(key: &Jwk, signature: &[u8], data: &[u8]) -> Result<bool, String> {
    let subtle = member(&member(&worker::js_sys::global(), "crypto")?, "subtle")?;
    let jwk = object(&[
        ("kty", "RSA".into()),
        ("n", key.n.as_str().into()),
        ("e", key.e.as_str().into()),
        ("alg", "RS256".into()),
        ("ext", JsValue::TRUE),
    ])?;
    let algorithm = object(&[("name", "RSASSA-PKCS1-v1_5".into()), ("hash", "SHA-256".into())])?;
    let import = Array::of5(
        &"jwk".into(),
        &jwk.into(),
        &algorithm.clone().into(),
        &JsValue::FALSE,
        &Array::of1(&"verify".into()).into(),
    );
    let imported = call(&subtle, "importKey", &import).await?;
    let args =
        Array::of4(&algorithm.into(), &imported, &Uint8Array::from(signature).into(), &Uint8Array::from(data).into());
    Ok(call(&subtle, "verify", &args).await?.as_bool().unwrap_or(false))
}

/// The email the request's Access JWT vouches for, checked in full at `now`.
async fn vouched_email(access: &Access, req: &Request, now: Timestamp) -> Result<String, JwtError> {
    let jwt = req.headers().get(JWT_HEADER).ok().flatten().ok_or(JwtError::Malformed)?;
    let parts = rules::split(jwt.trim())?;
    let email = rules::check(&parts.claims, &access.aud, &access.team, now.as_seconds())?;
    let keys = keys(&rules::certs_url(&access.team), parts.header.kid.as_deref()).await;
    let key = rules::key_for(&keys, parts.header.kid.as_deref()).ok_or(JwtError::UnknownKey)?;
    match rs256_verifies(key, &parts.signature, parts.signed.as_bytes()).await {
        Ok(true) => Ok(email),
        Ok(false) => Err(JwtError::Signature),
        Err(e) => {
            console_error!("Access signature check: {}", crate::store::redact(&e));
            Err(JwtError::Signature)
        }
    }
}

/// Whether a request that changes something, or starts a session, comes from this very site:
/// its `Origin`, when the browser sends one, must be the request's own.
pub(super) fn same_origin(req: &Request) -> bool {
    let Some(origin) = req.headers().get("origin").ok().flatten() else { return true };
    let url = req.inner().url();
    let after = url.find("://").map_or(0, |i| i + 3);
    let own =
        url.get(after..).and_then(|rest| rest.find('/')).map_or(url.as_str(), |i| url.get(..after + i).unwrap_or(""));
    origin == own
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SignIn {
    #[serde(default)]
    org_id: Option<String>,
}

/// `POST /v1/session`: sign in as the active member with the email Access vouched for, in the
/// org asked for or the only one that has them; with several and none asked for, `200 {orgs}`
/// to choose from.
pub(super) async fn sign_in(req: &Request, env: &Env, body: &[u8], now: Timestamp) -> Result<Response, Problem> {
    let access = config(env).ok_or(NOT_CONFIGURED)?;
    if !same_origin(req) {
        return Err(Error::Forbidden(Denied::Csrf).into());
    }
    let asked: SignIn = if body.iter().all(u8::is_ascii_whitespace) {
        SignIn::default()
    } else {
        serde_json::from_slice(body).map_err(|_| Error::BadRequest("The body is {\"org_id\"?: \"org_…\"}."))?
    };
    let email = match vouched_email(&access, req, now).await {
        Ok(e) => e,
        Err(why) => {
            console_error!("Access sign-in refused: {why}");
            return Err(Error::Unauthenticated.into());
        }
    };
    let org = match asked.org_id {
        Some(org) if crate::domain::model::is_id("org_", &org) => org,
        Some(_) => return Err(Error::Unauthenticated.into()),
        None => {
            let mut choices = choices(env, &email).await?;
            match choices.len() {
                0 => return Err(Error::Unauthenticated.into()),
                1 => choices.swap_remove(0).id,
                _ => {
                    choices.sort_by(|a, b| a.name.cmp(&b.name));
                    return reply(200, &json!({ "orgs": choices }));
                }
            }
        }
    };
    start(env, &org, &email).await
}

/// The orgs where `email` is an active member now: the KV index names candidates (it may lag),
/// each org's authority answers for itself.
async fn choices(env: &Env, email: &str) -> Result<Vec<SignInChoice>, Problem> {
    let kv = super::kv::WorkersKv::new(env);
    let prefix = keys::member_emails(email);
    let page = kv.list(&prefix, MAX_ORGS_PER_EMAIL, None).await.map_err(internal)?;
    let orgs: Vec<String> = page.keys.iter().filter_map(|k| k.name.strip_prefix(&prefix).map(str::to_owned)).collect();
    let asked = orgs.iter().map(|org| async move {
        let headers = Headers::new();
        let _ = headers.set(ORG_HEADER, org);
        let _ = headers.set(EMAIL_HEADER, email);
        let mut resp = relay::send(env, org, Method::Get, SIGN_IN_CHOICE_PATH, headers, None).await.ok()?;
        if resp.status_code() != 200 {
            return None;
        }
        resp.json::<Option<SignInChoice>>().await.ok().flatten()
    });
    Ok(join_all(asked).await.into_iter().flatten().collect())
}

/// Start a session in `org`'s authority; answer its view, the secret only in the cookie.
async fn start(env: &Env, org: &str, email: &str) -> Result<Response, Problem> {
    let headers = Headers::new();
    let _ = headers.set(ORG_HEADER, org);
    let _ = headers.set(EMAIL_HEADER, email);
    let mut resp = relay::send(env, org, Method::Post, SESSION_PATH, headers, None).await?;
    if resp.status_code() != 201 {
        return relay::relay(resp).await;
    }
    let started: serde_json::Value = resp.json().await.map_err(internal)?;
    let secret =
        started.get("secret").and_then(serde_json::Value::as_str).ok_or_else(|| internal("no session secret"))?;
    let view = started.get("session").ok_or_else(|| internal("no session view"))?;
    let out = reply(201, view)?;
    let _ = out.headers().set("set-cookie", &rules::session_cookie(Some((org, secret))));
    let _ = out.headers().set("cache-control", "no-store");
    Ok(out)
}
