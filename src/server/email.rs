//! Sending one notification email through Cloudflare's Email Service (the `[[send_email]]`
//! binding `EMAIL`; `wrangler dev` simulates it, storing each message's parts in temporary
//! files). The sender is `NOTIFY_FROM`, an address on a domain verified for Email Service.

use worker::{Env, SendEmailBuilder};

use crate::domain::email::Email;

/// The binding's name in wrangler.toml.
pub const BINDING: &str = "EMAIL";

#[cfg(feature = "faults")]
thread_local! {
    /// Test builds only: every send fails (`POST /v1/_test/faults {"email": "fail"}`).
    pub static FAIL_SENDS: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// Send `e` from `from`; `Err` says in a few words why not (never the message).
pub async fn send(env: &Env, from: &str, e: &Email) -> Result<(), String> {
    #[cfg(feature = "faults")]
    if FAIL_SENDS.with(core::cell::Cell::get) {
        return Err("refused (fault injection)".into());
    }
    if from.is_empty() {
        return Err("NOTIFY_FROM is not set".into());
    }
    let binding = env.send_email(BINDING).map_err(|_| "no EMAIL binding".to_owned())?;
    let message = SendEmailBuilder::builder(from, &e.to, &e.subject).text(&e.text).html(&e.html).build();
    match binding.send_with_builder(&message).await {
        Ok(_) => Ok(()),
        Err(err) => {
            let why = err.message().as_string().unwrap_or_else(|| "the Email Service refused it".into());
            Err(why.chars().take(200).collect())
        }
    }
}
