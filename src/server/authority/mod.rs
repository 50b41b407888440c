//! The org authority: a SQLite-backed Durable Object per org (binding `ORGS`,
//! `idFromName(org_id)`), the source of truth for that org (docs/ARCHITECTURE.md, "Storage").
//!
//! Every admin request and strict verification of the org runs here. The records live in one
//! SQLite table behind [`SqlStore`], whose calls are synchronous: a use case loads, decides and
//! commits without yielding to the event loop, so no other request can run in between, and the
//! commit is one `transactionSync`. Only then does the use case await KV (the projection), and
//! while it does the object's input gate lets other requests in: the outbox and its single
//! drainer ([`crate::service::Service::project`]) keep those KV writes in order. What KV refuses
//! stays owed and is retried by the object's alarm, with backoff.

mod alarm;
mod router;
mod sends;
mod store;

use core::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use worker::wasm_bindgen;
use worker::{console_error, durable_object, Delay, DurableObject, Env, Request, Response, State};

use self::alarm::{now, Alarm};
use self::sends::{sends, InFlight};
pub use self::store::SqlStore;
use super::kv::WorkersKv;
use super::problem::Problem;
use super::{prefix, CryptoRandom};
use crate::domain::Timestamp;
use crate::service::{Erasure, Error, Service};
use crate::store::remember::Remembering;

/// The org's records, read through [`Remembering`]: this object is their only writer.
type Svc = Service<Remembering<SqlStore>, WorkersKv, CryptoRandom>;

/// Waits between the inline retries of a projection that KV refused, before the answer says
/// `Keyward-Projection: pending` and the alarm takes over.
const INLINE_RETRIES_MS: [u64; 2] = [100, 400];

/// The org authority.
#[durable_object]
pub struct OrgAuthority {
    state: State,
    svc: Option<Rc<Svc>>,
    /// When the object next wakes: the one owner of that (its records' commits wake it too).
    alarm: Rc<Alarm>,
    /// `WEBHOOK_ALLOW_INSECURE = "true"` (local development only): `http://` and private
    /// webhook hosts are accepted.
    allow_insecure: bool,
    /// For the Email Service binding and the `NOTIFY_FROM` and `PUBLIC_URL` vars.
    env: Env,
    /// Sends started by this instance and not yet recorded.
    in_flight: InFlight,
    /// Whether this instance has brought its records to the current storage schema
    /// ([`Svc::migrate`]): done before it serves anything.
    migrated: Cell<bool>,
}

impl DurableObject for OrgAuthority {
    fn new(state: State, env: Env) -> Self {
        let alarm = Rc::new(Alarm::new(&state));
        let svc = match (SqlStore::new(&state, Rc::clone(&alarm)), prefix(&env)) {
            (Ok(store), Ok(p)) => Some(Rc::new(
                Service::new(Remembering::new(store), WorkersKv::new(&env), CryptoRandom, p)
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
        Self { state, svc, alarm, allow_insecure, env, in_flight: Rc::default(), migrated: Cell::new(false) }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let method = req.method().to_string();
        let path = req.path();
        self.alarm.know(&self.state).await;
        let outcome = match &self.svc {
            Some(svc) => match self.migrate(svc).await {
                Ok(()) => self.serve(svc, &mut req, &method, &path, now()).await,
                Err(e) => Err(e),
            },
            None => Err(Error::Internal("storage unavailable".into()).into()),
        };
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
        if self.migrate(svc).await.is_err() {
            // Logged by `migrate`; nothing runs on records this code cannot read.
            return Response::ok("");
        }
        self.alarm.fired();
        match svc.project(now()).await {
            Ok(d) if d.failed > 0 => console_error!("projection: {} KV writes still refused", d.failed),
            Ok(_) => {}
            Err(e) => console_error!("projection: {e}"),
        }
        if svc.projection_pending().await.unwrap_or(true) {
            self.alarm.retry_later();
        } else {
            self.alarm.kv_settled();
        }
        match self.timed_work(svc, false).await {
            Ok(Some(next)) => self.alarm.wake_at(next),
            Ok(None) => {}
            Err(e) => {
                console_error!("reminders and deliveries: {}", crate::store::redact(&e.to_string()));
                self.alarm.after_failure();
            }
        }
        Response::ok("")
    }
}

impl OrgAuthority {
    /// Before the first request or alarm this instance serves: bring the records to the storage
    /// schema of this code, in one commit (docs/OPERATIONS.md, "Upgrades"). Records of a newer
    /// schema (a rollback past a migration) are refused: every request answers 500 until a
    /// keyward that knows them runs.
    async fn migrate(&self, svc: &Rc<Svc>) -> Result<(), Problem> {
        if self.migrated.get() {
            return Ok(());
        }
        match svc.migrate().await {
            Ok(done) => {
                if let Some(m) = done {
                    worker::console_log!(
                        "storage schema: migrated from {} to {} ({} records changed)",
                        m.from,
                        m.to,
                        m.changed
                    );
                }
                self.migrated.set(true);
                Ok(())
            }
            Err(e) => {
                console_error!("storage schema: {}", crate::store::redact(&e.to_string()));
                Err(Problem::internal("storage schema"))
            }
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
        if org.is_deleted() {
            // A deletion: finish what KV refused, then the last sweep when it is due.
            return Ok(match svc.erase(&org.id, now()).await? {
                Erasure::Owed => Some(now().plus_seconds(60)),
                Erasure::Sweeping(at) => Some(at),
                Erasure::Done => None,
            });
        }
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
        let alarm = Rc::clone(&self.alarm);
        let work = sends(Rc::clone(svc), alarm, self.env.clone(), from, deliveries, emails, Rc::clone(&self.in_flight));
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
        self.alarm.retry_soon();
        true
    }
}
