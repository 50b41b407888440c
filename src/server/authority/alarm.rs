//! The org authority's alarm, and its clock: the one owner of when the object next wakes.
//!
//! Each authority has one alarm, only ever brought forward ([`Alarm::wake_at`]): a commit asks
//! for it when something falls due (a reminder, a delivery, an email) and when it owes KV writes
//! (the safety alarm); a run that finds KV still refusing retries with backoff. Each run ends by
//! setting it for the next thing due. In a `faults` build the authority's clock can be moved
//! ahead ([`advance`]); the alarm converts between that clock and the platform's.

use core::cell::Cell;

use worker::js_sys::{Function, Reflect};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::{console_error, State};

use crate::domain::Timestamp;

/// First and longest wait of the alarm's retries of KV writes.
pub const FIRST_RETRY_MS: i64 = 1_000;
const MAX_RETRY_MS: i64 = 60_000;
/// When the alarm set with every change that owes KV writes fires (a drain normally pays them
/// long before).
const SAFETY_MS: f64 = 30_000.0;

/// The time as the org authority counts it: the platform's clock, moved by the test clock in a
/// `faults` build (never in a release build).
pub fn now() -> Timestamp {
    let real = super::super::now();
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

/// Move the authority's clock `seconds` ahead (test builds only).
#[cfg(feature = "faults")]
pub fn advance(seconds: i64) {
    CLOCK_OFFSET_S.with(|c| c.set(c.get() + seconds));
}

/// The object's alarm, as far as this instance knows it.
pub struct Alarm {
    /// `ctx.storage`, for `setAlarm`.
    storage: JsValue,
    /// When the alarm is set for (epoch ms): `None` when none is. Read once per instance.
    at: Cell<Option<f64>>,
    /// Whether `at` has been read from storage.
    known: Cell<bool>,
    /// The next wait of the KV retries, doubled after each that still fails.
    backoff_ms: Cell<i64>,
}

impl Alarm {
    /// The alarm of the object whose state is `state`.
    pub fn new(state: &State) -> Self {
        let storage = state.storage();
        let raw: &JsValue = storage.as_raw().as_ref();
        Self {
            storage: raw.clone(),
            at: Cell::new(None),
            known: Cell::new(false),
            backoff_ms: Cell::new(FIRST_RETRY_MS),
        }
    }

    /// Read when the alarm is set for, once per instance (an earlier instance may have set it).
    pub async fn know(&self, state: &State) {
        if self.known.get() {
            return;
        }
        match state.storage().get_alarm().await {
            Ok(at) => {
                self.at.set(at.map(|a| a as f64));
                self.known.set(true);
            }
            Err(e) => console_error!("alarm: {}", crate::store::redact(&e.to_string())),
        }
    }

    /// The alarm has fired: none is set until this run sets the next.
    pub fn fired(&self) {
        self.at.set(None);
        self.known.set(true);
    }

    /// Wake at `at` (the authority's time) or earlier.
    pub fn wake_at(&self, at: Timestamp) {
        let offset_ms = now().as_millis() - super::super::now().as_millis();
        self.wake_by((at.as_millis() - offset_ms) as f64);
    }

    /// Wake in `ms` milliseconds (platform time) or earlier.
    fn wake_in(&self, ms: f64) {
        self.wake_by(worker::Date::now().as_millis() as f64 + ms);
    }

    /// The safety alarm of a commit that owes KV writes.
    pub fn safety(&self) {
        self.wake_in(SAFETY_MS);
    }

    /// KV still refuses what is owed: retry after the current wait, and wait twice as long next
    /// time (at most a minute).
    pub fn retry_later(&self) {
        let wait = self.backoff_ms.get();
        self.backoff_ms.set((wait * 2).min(MAX_RETRY_MS));
        self.wake_in(wait as f64);
    }

    /// KV took everything owed: the next retry starts from the first wait again.
    pub fn kv_settled(&self) {
        self.backoff_ms.set(FIRST_RETRY_MS);
    }

    /// Retry owed KV writes soon (a change just left some), from the first wait.
    pub fn retry_soon(&self) {
        self.backoff_ms.set(FIRST_RETRY_MS);
        self.wake_in(FIRST_RETRY_MS as f64);
    }

    /// Something failed in a run: try again in a minute.
    pub fn after_failure(&self) {
        self.wake_in(MAX_RETRY_MS as f64);
    }

    /// Make sure the alarm fires at `at_ms` (epoch ms, real time) or earlier: an alarm set for
    /// later is brought forward, one set for earlier is left alone (the alarm always ends by
    /// setting itself for the next thing due, so nothing is lost by firing early).
    ///
    fn wake_by(&self, at_ms: f64) {
        if self.at.get().is_some_and(|a| a <= at_ms) {
            return;
        }
        let set = Reflect::get(&self.storage, &JsValue::from_str("setAlarm"))
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok());
        if set.and_then(|f| f.call1(&self.storage, &JsValue::from_f64(at_ms)).ok()).is_some() {
            self.at.set(Some(at_ms));
        } else {
            console_error!("the alarm could not be set");
        }
    }
}
