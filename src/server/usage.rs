//! Usage counted at the edge: every verification of a known token adds one to its count for
//! the day (valid or refused), in this isolate's memory. Each org's counts go to its authority
//! at most once per flush interval (`USAGE_FLUSH_SECONDS`, default 60), off the response path:
//! the first count after a quiet interval is sent at once, later ones wait for the interval's end
//! (a timer in `waitUntil`, so they are sent even when no other request follows).
//!
//! Counting costs a map update per verification; `USAGE_COUNTING = "off"` turns it off (for the
//! benchmark's on/off ratio). Counts are advisory: an isolate that is evicted before its flush
//! loses them, and a flush that fails is logged and dropped, never retried into a double count.
//! (Cloudflare caps `waitUntil` at 30 s after the response in production; with the default
//! 60 s interval a count that waits longer rides with the isolate's next flush instead.)

use core::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::Duration;

use worker::{console_error, Context, Delay, Env, Headers, Method};

use super::relay::{send, USAGE_PATH};
use crate::domain::{Code, Timestamp};
use crate::service::{Located, UsageCount, UsageReport};

/// Default flush interval per org and isolate.
const FLUSH_EVERY_MS: i64 = 60_000;
/// Distinct (token, day) counts one isolate holds for one org before it flushes early.
const PENDING_MAX: usize = 4_096;
const MS_PER_DAY: i64 = 86_400_000;

#[derive(Default)]
struct Count {
    day: i64,
    valid: u64,
    refused: u64,
    rate_limited: u64,
    usage_exceeded: u64,
}

#[derive(Default)]
struct OrgCounts {
    /// Token id → its counts, one per day seen since the last flush (almost always one).
    tokens: HashMap<String, Vec<Count>>,
    entries: usize,
    last_flush_ms: i64,
    flush_scheduled: bool,
}

thread_local! {
    static PENDING: RefCell<HashMap<String, OrgCounts>> = RefCell::new(HashMap::new());
    /// `(counting on, flush interval in ms)`, read from the environment once per isolate.
    static SETTINGS: Cell<Option<(bool, i64)>> = const { Cell::new(None) };
}

fn settings(env: &Env) -> (bool, i64) {
    if let Some(s) = SETTINGS.with(Cell::get) {
        return s;
    }
    let on = env.var("USAGE_COUNTING").map(|v| v.to_string()).map_or(true, |v| v != "off");
    let every = env
        .var("USAGE_FLUSH_SECONDS")
        .ok()
        .and_then(|v| v.to_string().parse::<i64>().ok())
        .map_or(FLUSH_EVERY_MS, |s| s.clamp(1, 3_600) * 1_000);
    SETTINGS.with(|c| c.set(Some((on, every))));
    (on, every)
}

/// Count a verification answered `code` at `now` for its token (`located`: where its secret
/// was found; `None`: unknown, not counted), and make sure a flush of its org is coming.
pub fn count(ctx: &Context, env: &Env, located: Option<&Located>, code: Code, now: Timestamp) {
    let Some(at) = located else { return };
    let (on, every) = settings(env);
    if !on {
        return;
    }
    let day = now.as_millis().div_euclid(MS_PER_DAY);
    let delay = PENDING.with(|p| {
        let mut p = p.borrow_mut();
        let org = match p.get_mut(&at.org_id) {
            Some(o) => o,
            None => p.entry(at.org_id.clone()).or_default(),
        };
        let counts = match org.tokens.get_mut(&at.token_id) {
            Some(c) => c,
            None => org.tokens.entry(at.token_id.clone()).or_default(),
        };
        if !counts.iter().any(|c| c.day == day) {
            counts.push(Count { day, ..Count::default() });
            org.entries += 1;
        }
        let c = counts.iter_mut().find(|c| c.day == day)?;
        if code == Code::Valid {
            c.valid += 1;
        } else {
            c.refused += 1;
        }
        match code {
            Code::RateLimited => c.rate_limited += 1,
            Code::UsageExceeded => c.usage_exceeded += 1,
            _ => {}
        }
        if org.flush_scheduled {
            return None;
        }
        org.flush_scheduled = true;
        let wait = if org.entries >= PENDING_MAX { 0 } else { (org.last_flush_ms + every - now.as_millis()).max(0) };
        Some(wait)
    });
    if let Some(wait) = delay {
        let (env, org) = (env.clone(), at.org_id.clone());
        ctx.wait_until(async move {
            if wait > 0 {
                Delay::from(Duration::from_millis(u64::try_from(wait).unwrap_or(0))).await;
            }
            flush(&env, &org).await;
        });
    }
}

/// Send `org`'s counts to its authority.
async fn flush(env: &Env, org: &str) {
    #[allow(clippy::cast_possible_truncation)]
    let now = worker::Date::now().as_millis() as i64;
    let taken = PENDING.with(|p| {
        let mut p = p.borrow_mut();
        let o = p.get_mut(org)?;
        o.flush_scheduled = false;
        o.last_flush_ms = now;
        o.entries = 0;
        Some(core::mem::take(&mut o.tokens))
    });
    let Some(tokens) = taken else { return };
    let counts: Vec<UsageCount> = tokens
        .into_iter()
        .flat_map(|(token_id, days)| {
            days.into_iter().map(move |c| UsageCount {
                token_id: token_id.clone(),
                date: Timestamp::from_millis(c.day * MS_PER_DAY).date(),
                valid: c.valid,
                refused: c.refused,
                rate_limited: c.rate_limited,
                usage_exceeded: c.usage_exceeded,
            })
        })
        .collect();
    for chunk in counts.chunks(crate::service::USAGE_REPORT_MAX) {
        let report = UsageReport { org_id: org.to_owned(), counts: chunk.to_vec() };
        let Ok(body) = serde_json::to_vec(&report) else { continue };
        let headers = Headers::new();
        let _ = headers.set("content-type", "application/json");
        match send(env, org, Method::Post, USAGE_PATH, headers, Some(&body)).await {
            Ok(r) if r.status_code() == 204 => {}
            Ok(r) => console_error!("usage: the authority answered {}", r.status_code()),
            Err(e) => console_error!("usage: {}", crate::store::redact(&e.to_string())),
        }
    }
}
