//! The org authority: a SQLite-backed Durable Object per org (binding `ORGS`,
//! `idFromName(org_id)`), the source of truth for that org (DESIGN.md, "Storage").
//!
//! Every admin request and strict verification of the org runs here. The records live in one
//! SQLite table behind [`SqlStore`], whose calls are synchronous: a use case loads, decides and
//! commits without yielding to the event loop, so no other request can run in between, and the
//! commit is one `transactionSync`. Only then does the use case await KV (the projection), and
//! while it does the object's input gate lets other requests in: the outbox and its single
//! drainer ([`crate::service::Service::project`]) keep those KV writes in order. What KV refuses
//! stays owed and is retried by the object's alarm, with backoff.

use core::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::rc::Rc;
use std::time::Duration;

use futures_util::{stream, StreamExt as _};
use serde_json::json;
use worker::js_sys::{Function, Reflect};
use worker::wasm_bindgen;
use worker::wasm_bindgen::closure::Closure;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::{
    console_error, durable_object, Delay, DurableObject, Env, Request, Response, SqlStorage, SqlStorageValue, State,
};

use super::http::{bearer, etag, if_match, input, no_content, read_body};
use super::kv::WorkersKv;
use super::leaks::ReportQuestion;
use super::problem::Problem;
use super::relay::{
    StrictQuestion, CLIENT_HEADER, CREATE_PATH, ORG_HEADER, REPORT_PATH, STRICT_PATH, TOKEN_HEADER, USAGE_PATH,
};
use super::{internal, param, prefix, query, reply, CryptoRandom};
use crate::domain::Timestamp;
use crate::routes::{resolve, Route};
use crate::service::{
    Actor, AuditQuery, Error, Located, Operator, Outgoing, OutgoingEmail, Service, TokenQuery, UsageReport,
};
use crate::store::{keys, Store, StoreError, Write};

type Svc = Service<SqlStore, WorkersKv, CryptoRandom>;

/// Waits between the inline retries of a projection that KV refused, before the answer says
/// `Keyward-Projection: pending` and the alarm takes over.
const INLINE_RETRIES_MS: [u64; 2] = [100, 400];
/// First and longest wait of the alarm's retries.
const ALARM_FIRST_MS: i64 = 1_000;
const ALARM_MAX_MS: i64 = 60_000;
/// When the alarm set with every change that owes KV writes fires (a drain normally pays them
/// long before).
const SAFETY_ALARM_MS: f64 = 30_000.0;

/// The records: one SQLite table of keys and JSON values, sorted by key, so the repository's
/// key layout moves in as it is.
pub struct SqlStore {
    sql: SqlStorage,
    /// `ctx.storage` itself, for `transactionSync`.
    storage: JsValue,
    /// When the object's alarm is set for (epoch ms), as far as this instance knows: `None`
    /// when none is. Read from storage once per instance ([`OrgAuthority::know_alarm`]).
    alarm_at: Cell<Option<f64>>,
    /// Whether `alarm_at` has been read from storage.
    alarm_known: Cell<bool>,
}

fn sql_err(e: impl core::fmt::Display) -> StoreError {
    StoreError(format!("sqlite: {}", crate::store::redact(&e.to_string())))
}

fn text(v: Option<&SqlStorageValue>) -> Option<String> {
    match v {
        Some(SqlStorageValue::String(s)) => Some(s.clone()),
        _ => None,
    }
}

/// The first key after every key starting with `prefix` (`None`: no upper bound).
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = char::from_u32(u32::from(last) + 1) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

impl SqlStore {
    fn new(state: &State) -> Result<Self, StoreError> {
        let storage = state.storage();
        let sql = storage.sql();
        sql.exec("CREATE TABLE IF NOT EXISTS records (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID", None)
            .map_err(sql_err)?;
        let raw: &JsValue = storage.as_raw().as_ref();
        Ok(Self { sql, storage: raw.clone(), alarm_at: Cell::new(None), alarm_known: Cell::new(false) })
    }

    fn rows(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Result<Vec<Vec<SqlStorageValue>>, StoreError> {
        let cursor = self.sql.exec(query, bindings).map_err(sql_err)?;
        cursor.raw().map(|r| r.map_err(sql_err)).collect()
    }
}

impl Store for SqlStore {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let rows = self.rows("SELECT v FROM records WHERE k = ?", vec![key.into()])?;
        Ok(rows.first().and_then(|r| text(r.first())))
    }

    async fn list(&self, prefix: &str, after: Option<&str>, limit: u32) -> Result<Vec<(String, String)>, StoreError> {
        let mut q = String::from("SELECT k, v FROM records WHERE k >= ? AND k > ?");
        let mut b: Vec<SqlStorageValue> = vec![prefix.into(), after.unwrap_or("").into()];
        if let Some(end) = prefix_end(prefix) {
            q.push_str(" AND k < ?");
            b.push(end.into());
        }
        q.push_str(" ORDER BY k LIMIT ?");
        b.push(i64::from(limit).into());
        Ok(self.rows(&q, b)?.iter().filter_map(|r| Some((text(r.first())?, text(r.get(1))?))).collect())
    }

    async fn commit(&self, writes: &[Write]) -> Result<(), StoreError> {
        let owes_kv = writes.iter().any(|w| matches!(w, Write::Put(k, _) if k.starts_with(keys::OUTBOX)));
        let (sql, writes) = (self.sql.clone(), writes.to_vec());
        let body = Closure::once_into_js(move || -> Result<(), JsValue> {
            for w in writes {
                let done = match w {
                    Write::Put(k, v) => {
                        sql.exec("INSERT OR REPLACE INTO records (k, v) VALUES (?, ?)", vec![k.into(), v.into()])
                    }
                    Write::Delete(k) => sql.exec("DELETE FROM records WHERE k = ?", vec![k.into()]),
                };
                done.map_err(|e| JsValue::from_str(&e.to_string()))?;
            }
            Ok(())
        });
        let tx: Function = Reflect::get(&self.storage, &JsValue::from_str("transactionSync"))
            .map_err(|_| sql_err("no transactionSync"))?
            .dyn_into()
            .map_err(|_| sql_err("transactionSync is not a function"))?;
        tx.call1(&self.storage, &body)
            .map_err(|e| sql_err(e.as_string().unwrap_or_else(|| "transaction failed".into())))?;
        if owes_kv {
            self.wake_by(worker::Date::now().as_millis() as f64 + SAFETY_ALARM_MS);
        }
        Ok(())
    }
}

impl SqlStore {
    /// Make sure the alarm fires at `at_ms` (epoch ms, real time) or earlier: an alarm set for
    /// later is brought forward, one set for earlier is left alone (the alarm always ends by
    /// setting itself for the next thing due, so nothing is lost by firing early).
    ///
    /// A change that owes KV writes calls this too (the safety alarm), within the same
    /// synchronous step as its commit, so the output gate holds the answer until both are on
    /// disk: should the object die before its drain, the alarm wakes it to finish.
    fn wake_by(&self, at_ms: f64) {
        if self.alarm_at.get().is_some_and(|a| a <= at_ms) {
            return;
        }
        let set = Reflect::get(&self.storage, &JsValue::from_str("setAlarm"))
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok());
        if set.and_then(|f| f.call1(&self.storage, &JsValue::from_f64(at_ms)).ok()).is_some() {
            self.alarm_at.set(Some(at_ms));
        } else {
            console_error!("the alarm could not be set");
        }
    }
}

/// The org authority.
#[durable_object]
pub struct OrgAuthority {
    state: State,
    svc: Option<Rc<Svc>>,
    /// The alarm's next wait, doubled after each retry that still fails.
    backoff_ms: Cell<i64>,
    /// `WEBHOOK_ALLOW_INSECURE = "true"` (local development only): `http://` and private
    /// webhook hosts are accepted.
    allow_insecure: bool,
    /// For the Email Service binding and the `NOTIFY_FROM` and `PUBLIC_URL` vars.
    env: Env,
    /// Sends started by this instance and not yet recorded.
    in_flight: InFlight,
}

impl DurableObject for OrgAuthority {
    fn new(state: State, env: Env) -> Self {
        let svc = match (SqlStore::new(&state), prefix(&env)) {
            (Ok(store), Ok(p)) => Some(Rc::new(
                Service::new(store, WorkersKv::new(&env), CryptoRandom, p)
                    .with_entry_cache(Box::new(super::kv::IsolateCache::new(&env))),
            )),
            (Err(e), _) => {
                console_error!("org authority: {}", crate::store::redact(&e.to_string()));
                None
            }
            (_, Err(e)) => {
                console_error!("org authority: {}", crate::store::redact(&e.to_string()));
                None
            }
        };
        let allow_insecure = env.var("WEBHOOK_ALLOW_INSECURE").is_ok_and(|v| v.to_string() == "true");
        Self { state, svc, backoff_ms: Cell::new(ALARM_FIRST_MS), allow_insecure, env, in_flight: Rc::default() }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let method = req.method().to_string();
        let path = req.path();
        self.know_alarm().await;
        let outcome = match &self.svc {
            Some(svc) => self.serve(svc, &mut req, &method, &path, now()).await,
            None => Err(Error::Internal("storage unavailable".into()).into()),
        };
        self.wake_when_asked();
        let mut resp = match outcome {
            Ok(r) => r,
            Err(e) => super::answer_error(&e, &method, &path)?,
        };
        // (The fault switch itself leaves the debt alone, so a test can watch the alarm pay it.)
        #[cfg(feature = "faults")]
        let settle = method != "GET" && path != super::FAULTS_PATH;
        #[cfg(not(feature = "faults"))]
        let settle = method != "GET";
        if settle && self.settle_projection().await {
            let _ = resp.headers_mut().set("keyward-projection", "pending");
        }
        Ok(resp)
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let Some(svc) = &self.svc else { return Response::ok("") };
        // This alarm has fired: none is set until this run sets the next.
        let store = svc.repo().store();
        store.alarm_at.set(None);
        store.alarm_known.set(true);
        match svc.project(now()).await {
            Ok(d) if d.failed > 0 => console_error!("projection: {} KV writes still refused", d.failed),
            Ok(_) => {}
            Err(e) => console_error!("projection: {e}"),
        }
        if svc.projection_pending().await.unwrap_or(true) {
            let wait = self.backoff_ms.get();
            self.backoff_ms.set((wait * 2).min(ALARM_MAX_MS));
            self.wake_at_real(worker::Date::now().as_millis() as f64 + wait as f64);
        } else {
            self.backoff_ms.set(ALARM_FIRST_MS);
        }
        match self.timed_work(svc, false).await {
            Ok(Some(next)) => self.wake_at(next),
            Ok(None) => {}
            Err(e) => {
                console_error!("reminders and deliveries: {}", crate::store::redact(&e.to_string()));
                self.wake_at_real(worker::Date::now().as_millis() as f64 + ALARM_MAX_MS as f64);
            }
        }
        self.wake_when_asked();
        Response::ok("")
    }
}

/// The time as the org authority counts it: the platform's clock, moved by the test clock in a
/// `faults` build (never in a release build).
fn now() -> Timestamp {
    let real = super::now();
    #[cfg(feature = "faults")]
    return real.plus_seconds(CLOCK_OFFSET_S.with(Cell::get));
    #[cfg(not(feature = "faults"))]
    real
}

#[cfg(feature = "faults")]
thread_local! {
    /// Seconds the test clock is ahead of the platform's.
    static CLOCK_OFFSET_S: Cell<i64> = const { Cell::new(0) };
}

/// Make `deliveries` and `emails` (a few at a time, both at once), record each outcome, and wake
/// the alarm for each next attempt.
async fn sends(
    svc: Rc<Svc>,
    env: Env,
    from: String,
    deliveries: Vec<Outgoing>,
    emails: Vec<OutgoingEmail>,
    in_flight: InFlight,
) {
    let (svc, in_flight) = (&svc, &in_flight);
    let delivered = stream::iter(deliveries).for_each_concurrent(SENDS_AT_ONCE, |out| async move {
        let started = now();
        let (code, error) = super::webhooks::send(&out, DELIVERY_TIMEOUT_MS).await;
        match svc.record_attempt(&out.key, code, error, started).await {
            Ok(Some(next)) => wake(svc, next),
            Ok(None) => {}
            Err(e) => console_error!("webhook: {}", crate::store::redact(&e.to_string())),
        }
        in_flight.borrow_mut().remove(&out.key);
    });
    let (env, from) = (&env, from.as_str());
    let sent = stream::iter(emails).for_each_concurrent(SENDS_AT_ONCE, |out| async move {
        let started = now();
        let outcome = super::email::send(env, from, &out.email, EMAIL_TIMEOUT_MS).await;
        if let Err(why) = &outcome {
            console_error!("email: not sent: {}", crate::store::redact(why));
        }
        match svc.record_email(&out.key, outcome, started).await {
            Ok(Some(next)) => wake(svc, next),
            Ok(None) => {}
            Err(e) => console_error!("email: {}", crate::store::redact(&e.to_string())),
        }
        in_flight.borrow_mut().remove(&out.key);
    });
    futures_util::future::join(delivered, sent).await;
}

/// The records (deliveries, notifications) whose send this instance has started and not yet
/// recorded. The lease in each record guards against a sender that died with its instance; this
/// guards against a lease that runs out while the send is still going (a slow endpoint, or the
/// test clock jumping ahead), so nothing is sent twice by one instance.
type InFlight = Rc<RefCell<HashSet<String>>>;

/// Wake the alarm at `at` (the authority's time) or earlier.
fn wake(svc: &Svc, at: Timestamp) {
    let offset_ms = now().as_millis() - super::now().as_millis();
    svc.repo().store().wake_by((at.as_millis() - offset_ms) as f64);
}

/// Longest wait for a webhook endpoint's answer.
const DELIVERY_TIMEOUT_MS: u64 = 10_000;
/// Longest wait for the Email Service (shorter than a send's lease, like the webhook's).
const EMAIL_TIMEOUT_MS: u64 = 10_000;
/// Webhook deliveries, and emails, sent at once by one run.
const SENDS_AT_ONCE: usize = 16;

impl OrgAuthority {
    /// Read when the alarm is set for, once per instance (an earlier instance may have set it).
    async fn know_alarm(&self) {
        let Some(svc) = &self.svc else { return };
        let store = svc.repo().store();
        if store.alarm_known.get() {
            return;
        }
        match self.state.storage().get_alarm().await {
            Ok(at) => {
                store.alarm_at.set(at.map(|a| a as f64));
                store.alarm_known.set(true);
            }
            Err(e) => console_error!("alarm: {}", crate::store::redact(&e.to_string())),
        }
    }

    /// Wake at `at` (the authority's time) or earlier.
    fn wake_at(&self, at: Timestamp) {
        if let Some(svc) = &self.svc {
            wake(svc, at);
        }
    }

    fn wake_at_real(&self, at_ms: f64) {
        if let Some(svc) = &self.svc {
            svc.repo().store().wake_by(at_ms);
        }
    }

    /// Set the alarm for what the last commits asked for (a delivery due, a reminder coming).
    fn wake_when_asked(&self) {
        if let Some(at) = self.svc.as_deref().and_then(Service::take_wake) {
            self.wake_at(at);
        }
    }

    /// Send every reminder due now, and start every webhook delivery and email due now; answer
    /// when the next thing is due.
    ///
    /// The sends are leased (their records say "not before the lease ends", so no other run
    /// picks them up) and then made off this run: the alarm returns at once, and an endpoint that
    /// hangs holds up nothing else, not even the next event of its own org. Each send records its
    /// outcome and wakes the alarm for its next attempt; should the object die first, the lease
    /// runs out and the alarm tries again (receivers dedupe on `webhook-id`). With `wait` (the test
    /// clock) the run waits for its sends, so their outcome is known when it answers.
    async fn timed_work(&self, svc: &Rc<Svc>, wait: bool) -> Result<Option<Timestamp>, Problem> {
        let Some(org) = svc.repo().only_org().await? else { return Ok(None) };
        let tick = svc.tick(&org.id, now()).await?;
        let var = |name: &str| self.env.var(name).map(|v| v.to_string()).unwrap_or_default();
        let (from, public_url) = (var("NOTIFY_FROM"), var("PUBLIC_URL"));
        let mut deliveries = svc.due_deliveries(&org.id, now()).await?;
        let mut emails = svc.due_emails(&org.id, &public_url, now()).await?;
        {
            // Skip what this instance is still sending; claim the rest.
            let mut flying = self.in_flight.borrow_mut();
            deliveries.retain(|d| flying.insert(d.key.clone()));
            emails.retain(|e| flying.insert(e.key.clone()));
        }
        let leased = !deliveries.is_empty() || !emails.is_empty();
        let work = sends(Rc::clone(svc), self.env.clone(), from, deliveries, emails, Rc::clone(&self.in_flight));
        if wait {
            work.await;
        } else if leased {
            self.state.wait_until(work);
        }
        let lease_end = leased.then(|| now().plus_seconds(crate::domain::sending::SEND_LEASE_SECONDS));
        Ok([tick.next, lease_end].into_iter().flatten().min())
    }

    /// After a change: retry what KV refused a few times inline; if some is still owed, make sure
    /// the alarm will retry it and say so (`true`).
    async fn settle_projection(&self) -> bool {
        let Some(svc) = &self.svc else { return false };
        for wait in INLINE_RETRIES_MS {
            match svc.projection_pending().await {
                Ok(false) => return false,
                Ok(true) => {}
                Err(e) => console_error!("projection: {e}"),
            }
            Delay::from(Duration::from_millis(wait)).await;
            if let Err(e) = svc.project(now()).await {
                console_error!("projection: {e}");
            }
        }
        if !svc.projection_pending().await.unwrap_or(true) {
            return false;
        }
        // Bring the alarm forward (the safety alarm of the change is much later).
        self.backoff_ms.set(ALARM_FIRST_MS);
        self.wake_at_real(worker::Date::now().as_millis() as f64 + ALARM_FIRST_MS as f64);
        true
    }

    async fn serve(
        &self,
        svc: &Rc<Svc>,
        req: &mut Request,
        method: &str,
        path: &str,
        now: Timestamp,
    ) -> Result<Response, Problem> {
        if method == "POST" && path == STRICT_PATH {
            let q: StrictQuestion = serde_json::from_slice(&read_body(req).await?).map_err(internal)?;
            let at = Located { org_id: q.org_id, token_id: q.token_id };
            return reply(200, &svc.verify_strict(&q.hash, &at, &q.scopes, q.client_ip, now).await?);
        }
        if method == "POST" && path == REPORT_PATH {
            let q: ReportQuestion = serde_json::from_slice(&read_body(req).await?).map_err(internal)?;
            let reporter = q.reporter().ok_or_else(|| internal("a report names no reporter"))?;
            let at = Located { org_id: q.org_id.clone(), token_id: q.token_id.clone() };
            let live = svc.report(&q.token, &at, &reporter, now).await?;
            return reply(200, &json!({ "live": live }));
        }
        if method == "POST" && path == USAGE_PATH {
            let report: UsageReport = serde_json::from_slice(&read_body(req).await?).map_err(internal)?;
            svc.record_usage(&report, now).await?;
            return no_content().map_err(internal);
        }
        if method == "POST" && path == CREATE_PATH {
            let org = header(req, ORG_HEADER).ok_or_else(|| internal("no org named"))?;
            let body = read_body(req).await?;
            let secret = super::admin::operator_secret(&self.env);
            let operator = Operator::authenticate(secret.as_deref(), bearer(req).as_deref())?;
            return reply(201, &svc.create_org(&operator, &org, &input(&body)?, now).await?);
        }
        // Everything that waits on I/O comes first: from authentication to commit the request
        // must run as one step, or another request could change the records in between and
        // leave this one deciding on a stale caller.
        let body =
            if matches!(method, "POST" | "PUT" | "PATCH" | "DELETE") { read_body(req).await? } else { Vec::new() };
        let presented = bearer(req).ok_or(Error::Unauthenticated)?;
        let at = match (header(req, ORG_HEADER), header(req, TOKEN_HEADER)) {
            (Some(org_id), Some(token_id)) => Located { org_id, token_id },
            _ => return Err(Error::Unauthenticated.into()),
        };
        let client = header(req, CLIENT_HEADER).and_then(|c| c.parse().ok());
        let mut actor = svc.authenticate(&presented, &at, client, now).await?;
        // Present but empty, it matches nothing (RFC 9110, 13.1.1): a client whose `If-Match: $ETAG`
        // lost its variable must not overwrite blindly.
        actor.if_match = req.headers().get("if-match").ok().flatten().map(|h| if_match(&h));
        if let Err(e) = svc.note_use(&actor, now).await {
            console_error!("last use: {}", crate::store::redact(&e.to_string()));
        }
        #[cfg(feature = "faults")]
        if path == super::FAULTS_PATH {
            return self.faults(svc, &body, &actor).await;
        }
        let (route, id) = resolve(method, path)?;
        let ctx = Ctx { allow_insecure: self.allow_insecure };
        dispatch(svc, req, &actor, route, id.unwrap_or_default(), &body, now, ctx).await
    }
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten().filter(|v| !v.is_empty())
}

/// A JSON answer that carries a secret: never stored by a cache.
fn secret_reply<T: serde::Serialize>(status: u16, value: &T) -> Result<Response, Problem> {
    let resp = reply(status, value)?;
    let _ = resp.headers().set("cache-control", "no-store");
    Ok(resp)
}

/// A JSON answer carrying the record's `ETag`.
fn tagged<T: serde::Serialize>(status: u16, value: &T, version: u64) -> Result<Response, Problem> {
    let resp = reply(status, value)?;
    let _ = resp.headers().set("etag", &etag(version));
    Ok(resp)
}

/// What a route may need to know about the authority itself.
#[derive(Clone, Copy)]
struct Ctx {
    allow_insecure: bool,
}

/// One admin route, served from the records.
#[allow(clippy::too_many_arguments, clippy::too_many_lines)]
async fn dispatch(
    svc: &Svc,
    req: &Request,
    a: &Actor,
    route: Route,
    id: &str,
    body: &[u8],
    now: Timestamp,
    ctx: Ctx,
) -> Result<Response, Problem> {
    match route {
        Route::GetWebhook => reply(200, &json!({"webhook": svc.webhook(a, now).await?})),
        Route::SetWebhook => {
            let set = svc.put_webhook(a, &input(body)?, ctx.allow_insecure, now).await?;
            secret_reply(if set.created { 201 } else { 200 }, &set)
        }
        Route::DeleteWebhook => {
            svc.delete_webhook(a, &input(body)?, now).await?;
            no_content().map_err(internal)
        }
        Route::TestWebhook => reply(202, &svc.test_webhook(a, &input(body)?, now).await?),
        Route::RotateWebhookSecret => secret_reply(200, &svc.rotate_webhook(a, &input(body)?, now).await?),
        Route::ListWebhookDeliveries => reply(200, &json!({"deliveries": svc.deliveries(a).await?})),
        Route::TokenUsage => reply(200, &svc.token_usage(a, id, now).await?),
        Route::OrgUsage => reply(200, &json!({"tokens": svc.org_usage(a, now).await?})),
        Route::Me => reply(200, &svc.me(a, now).await?),
        Route::GetOrg => {
            let o = svc.org(a)?;
            tagged(200, &o, o.version)
        }
        Route::UpdateOrg => {
            let o = svc.update_org(a, &input(body)?, now).await?;
            tagged(200, &o, o.version)
        }
        Route::ReconcileOrg => reply(200, &svc.reconcile(a, &input(body)?, now).await?),
        Route::ListMembers => reply(200, &json!({"members": svc.members(a).await?})),
        Route::CreateMember => {
            let m = svc.create_member(a, &input(body)?, now).await?;
            tagged(201, &m, m.version)
        }
        Route::UpdateMember => {
            let m = svc.update_member(a, id, &input(body)?, now).await?;
            tagged(200, &m, m.version)
        }
        Route::ListTokens => {
            let q = query(req)?;
            let tq = TokenQuery {
                kind: param(&q, "kind"),
                owner: param(&q, "owner"),
                status: param(&q, "status"),
                cursor: param(&q, "cursor"),
            };
            let (tokens, cursor) = svc.list_tokens(a, &tq, now).await?;
            reply(200, &json!({"tokens": tokens, "cursor": cursor}))
        }
        Route::CreateToken => {
            let issued = svc.create_token(a, &input(body)?, now).await?;
            tagged(201, &issued, issued.token.version)
        }
        Route::GetToken => {
            let t = svc.get_token(a, id, now).await?;
            tagged(200, &t, t.version)
        }
        Route::UpdateToken => {
            let t = svc.update_token(a, id, &input(body)?, now).await?;
            tagged(200, &t, t.version)
        }
        Route::DeleteToken => {
            svc.delete_token(a, id, &input(body)?, now).await?;
            no_content().map_err(internal)
        }
        Route::DisableToken => {
            let t = svc.disable_token(a, id, &input(body)?, now).await?;
            tagged(200, &t, t.version)
        }
        Route::EnableToken => {
            let t = svc.enable_token(a, id, &input(body)?, now).await?;
            tagged(200, &t, t.version)
        }
        Route::RevokeToken => {
            let t = svc.revoke_token(a, id, &input(body)?, now).await?;
            tagged(200, &t, t.version)
        }
        Route::ReapproveToken => {
            let t = svc.reapprove_token(a, id, &input(body)?, now).await?;
            tagged(200, &t, t.version)
        }
        Route::RotateToken => {
            let issued = svc.rotate_token(a, id, &input(body)?, now).await?;
            tagged(200, &issued, issued.token.version)
        }
        Route::Audit => {
            let q = query(req)?;
            let aq = AuditQuery {
                target: param(&q, "target"),
                actor_token: param(&q, "actor_token"),
                cursor: param(&q, "cursor"),
                // An empty limit is not a number (unlike an empty filter, which filters nothing).
                limit: q.get("limit").and_then(serde_json::Value::as_str).map(str::to_owned),
            };
            let (events, cursor) = svc.audit_events(a, &aq).await?;
            reply(200, &json!({"events": events, "cursor": cursor}))
        }
        Route::Notifications => reply(200, &json!({"notifications": svc.notifications(a).await?})),
        _ => Err(Problem::NoRoute),
    }
}

#[cfg(feature = "faults")]
impl OrgAuthority {
    /// Test builds only, by an admin: `POST /v1/_test/faults` with
    /// - `{"kv_writes": "fail" | "ok"}`: this isolate's KV writes fail (or heal), to show the
    ///   outbox and the alarm finishing the job;
    /// - `{"email": "fail" | "ok"}`: every email send fails (or works again);
    /// - `{"advance_seconds": n}`: move the authority's clock `n` seconds ahead, then run what the
    ///   alarm would run at that time (reminders, deliveries due) and answer what it did. Tests
    ///   of expiry warnings, idle tokens and delivery retries use it instead of sleeping.
    async fn faults(&self, svc: &Rc<Svc>, body: &[u8], actor: &Actor) -> Result<Response, Problem> {
        actor.require(crate::domain::policy::Access::Manage)?;
        actor.require_admin("inject faults")?;
        let body = crate::service::parse_json(body)?;
        if let Some(n) = body.get("advance_seconds") {
            let n = n.as_i64().filter(|n| (0..=400 * 86_400).contains(n));
            let n =
                n.ok_or_else(|| Error::field("advance_seconds", "must be a whole number of seconds, 0 to 400 days"))?;
            CLOCK_OFFSET_S.with(|c| c.set(c.get() + n));
            let next = self.timed_work(svc, true).await?;
            if let Some(at) = next {
                self.wake_at(at);
            }
            return reply(200, &json!({"now": now().to_rfc3339(), "next": next.map(Timestamp::to_rfc3339)}));
        }
        if let Some(mode) = body.get("email") {
            let fail = match mode.as_str() {
                Some("fail") => true,
                Some("ok") => false,
                _ => return Err(Error::field("email", "must be \"fail\" or \"ok\"").into()),
            };
            super::email::FAIL_SENDS.with(|f| f.set(fail));
            return reply(200, &json!({"email": if fail { "fail" } else { "ok" }}));
        }
        let fail = match body.get("kv_writes").and_then(serde_json::Value::as_str) {
            Some("fail") => true,
            Some("ok") => false,
            _ => return Err(Error::field("kv_writes", "must be \"fail\" or \"ok\"").into()),
        };
        super::kv::FAIL_WRITES.with(|f| f.set(fail));
        reply(200, &json!({"kv_writes": if fail { "fail" } else { "ok" }}))
    }
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn prefix_ends() {
        // The last character moves up by one: every key of the prefix sorts before the end.
        let tokens = crate::store::keys::tokens("org_1");
        let end = prefix_end(&tokens).unwrap();
        assert!(tokens < end && format!("{tokens}zzzz") < end);
        assert_eq!(end.len(), tokens.len());
        assert_eq!(prefix_end("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_end(""), None);
    }
}
