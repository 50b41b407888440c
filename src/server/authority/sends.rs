//! What the org authority sends out: webhook deliveries and notification emails, a few at a time,
//! off the alarm's run, each outcome recorded and each next attempt put on the alarm.

use core::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

use futures_util::{stream, StreamExt as _};
use worker::{console_error, Env};

use super::alarm::{now, Alarm};
use super::Svc;
use crate::service::{Outgoing, OutgoingEmail};

/// Longest wait for a webhook endpoint's answer.
const DELIVERY_TIMEOUT_MS: u64 = 10_000;
/// Longest wait for the Email Service (shorter than a send's lease, like the webhook's).
const EMAIL_TIMEOUT_MS: u64 = 10_000;
/// Webhook deliveries, and emails, sent at once by one run.
const SENDS_AT_ONCE: usize = 16;

/// Make `deliveries` and `emails` (a few at a time, both at once), record each outcome, and wake
/// the alarm for each next attempt.
pub async fn sends(
    svc: Rc<Svc>,
    alarm: Rc<Alarm>,
    env: Env,
    from: String,
    deliveries: Vec<Outgoing>,
    emails: Vec<OutgoingEmail>,
    in_flight: InFlight,
) {
    let (svc, alarm, in_flight) = (&svc, &alarm, &in_flight);
    let delivered = stream::iter(deliveries).for_each_concurrent(SENDS_AT_ONCE, |out| async move {
        let started = now();
        let (code, error) = crate::server::webhooks::send(&out, DELIVERY_TIMEOUT_MS).await;
        match svc.record_attempt(&out.key, code, error, started).await {
            Ok(Some(next)) => alarm.wake_at(next),
            Ok(None) => {}
            Err(e) => console_error!("webhook: {}", crate::store::redact(&e.to_string())),
        }
        in_flight.borrow_mut().remove(&out.key);
    });
    let (env, from) = (&env, from.as_str());
    let sent = stream::iter(emails).for_each_concurrent(SENDS_AT_ONCE, |out| async move {
        let started = now();
        let outcome = crate::server::email::send(env, from, &out.email, EMAIL_TIMEOUT_MS).await;
        match &outcome {
            Err(why) if why == crate::server::email::NO_SENDER => {
                crate::server::log_once(crate::server::email::NO_SENDER, || format!("email: not sent: {why}"));
            }
            Err(why) if why == crate::server::email::NO_BINDING => {
                crate::server::log_once(crate::server::email::NO_BINDING, || format!("email: not sent: {why}"));
            }
            Err(why) => console_error!("email: not sent: {}", crate::store::redact(why)),
            Ok(()) => {}
        }
        match svc.record_email(&out.key, outcome, started).await {
            Ok(Some(next)) => alarm.wake_at(next),
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
pub type InFlight = Rc<RefCell<HashSet<String>>>;
