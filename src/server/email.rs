//! Sending one notification email through Cloudflare's Email Service (the `[[send_email]]`
//! binding `EMAIL`; `wrangler dev` simulates it, storing each message's parts in temporary
//! files). The sender is `NOTIFY_FROM`, an address on a domain verified for Email Service.

use std::time::Duration;

use futures_util::future::{select, Either};
use worker::{Delay, Env, SendEmailBuilder};

use crate::domain::email::Email;

/// The binding's name in wrangler.toml.
pub const BINDING: &str = "EMAIL";

#[cfg(feature = "faults")]
thread_local! {
    /// Test builds only: every send fails (`POST /v1/_test/faults {"email": "fail"}`).
    pub static FAIL_SENDS: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// Why a send failed when the deployment cannot send at all (logged once per isolate).
pub const NO_SENDER: &str = "NOTIFY_FROM is not set";
/// The same, without the binding.
pub const NO_BINDING: &str = "no EMAIL binding";

/// Send `e` from `from` within `timeout_ms`; `Err` says in a few words why not (never the
/// message).
pub async fn send(env: &Env, from: &str, e: &Email, timeout_ms: u64) -> Result<(), String> {
    #[cfg(feature = "faults")]
    if FAIL_SENDS.with(core::cell::Cell::get) {
        return Err("refused (fault injection)".into());
    }
    if from.is_empty() {
        return Err(NO_SENDER.into());
    }
    let binding = env.send_email(BINDING).map_err(|_| NO_BINDING.to_owned())?;
    let message = SendEmailBuilder::builder(from, &e.to, &e.subject).text(&e.text).html(&e.html).build();
    let sending = Box::pin(binding.send_with_builder(&message));
    let timer = Box::pin(Delay::from(Duration::from_millis(timeout_ms)));
    let outcome = select(sending, timer).await;
    let answer = match outcome {
        Either::Left((Ok(_), _)) => Ok(()),
        Either::Left((Err(err), _)) => {
            let why = err.message().as_string().unwrap_or_else(|| "the Email Service refused it".into());
            Err(why.chars().take(200).collect())
        }
        Either::Right(_) => Err("timeout".into()),
    };
    answer
}
