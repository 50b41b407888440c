//! Sending one webhook delivery (a signed POST to the org's endpoint) or one delivery to the
//! audit sink (a POST with the collector's token), judged by its status alone (the body is never read, never kept). Redirects are not followed: a 3xx is a failure,
//! so an endpoint cannot bounce the request elsewhere.

use std::time::Duration;

use futures_util::future::{select, Either};
use worker::{Delay, Fetch, Headers, Method, Request, RequestInit, RequestRedirect};

use crate::service::Outgoing;

/// Send `out`; answer the endpoint's status, or why there was none (`timeout`, `connection
/// failed`), within `timeout_ms`.
pub async fn send(out: &Outgoing, timeout_ms: u64) -> (Option<u16>, Option<String>) {
    let headers = Headers::new();
    let _ = headers.set("content-type", "application/json");
    if let Some(auth) = &out.authorization {
        // The audit sink: the collector's token, and no webhook headers.
        let _ = headers.set("user-agent", "keyward-audit-sink/1");
        let _ = headers.set("authorization", &auth.0);
    } else {
        for (k, v) in [
            ("user-agent", "keyward-webhooks/1"),
            ("webhook-id", out.id.as_str()),
            ("webhook-timestamp", &out.timestamp.to_string()),
            ("webhook-signature", out.signature.as_str()),
        ] {
            let _ = headers.set(k, v);
        }
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual)
        .with_body(Some(out.body.clone().into()));
    let Ok(req) = Request::new_with_init(&out.url, &init) else {
        return (None, Some("invalid request".into()));
    };
    let request = Fetch::Request(req);
    let fetch = Box::pin(request.send());
    let timer = Box::pin(Delay::from(Duration::from_millis(timeout_ms)));
    let outcome = select(fetch, timer).await;
    let answer = match outcome {
        Either::Left((Ok(resp), _)) => {
            let code = resp.status_code();
            if (200..300).contains(&code) {
                (Some(code), None)
            } else {
                (Some(code), Some(format!("HTTP {code}")))
            }
        }
        Either::Left((Err(_), _)) => (None, Some("connection failed".into())),
        Either::Right(_) => (None, Some("timeout".into())),
    };
    answer
}
