//! Signed webhooks: one endpoint per org, the events it wants, its signing secret, and each
//! delivery with its attempts (issue "Tell people in time").
//!
//! Signatures follow the Standard Webhooks specification: the signed content is
//! `<webhook-id>.<webhook-timestamp>.<body>`, the key is the base64 after `whsec_`, and the
//! `webhook-signature` header lists `v1,<base64 HMAC-SHA256>` once per secret still valid (two
//! during a rotation's grace), separated by spaces.
//!
//! Unlike a token, a signing secret must be kept (keyward signs with it); it lives only in the
//! org authority's records and is shown once, when it is made.

use core::net::IpAddr;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::random::{RandomError, RandomSource};
use super::sending::{held_until, lease_end, next_attempt};
use super::Timestamp;

mod host;
use host::Host;

/// Prefix of a signing secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a signing secret (the specification asks for 24 to 64).
pub const SECRET_BYTES: usize = 24;
/// Longest endpoint URL, in bytes.
pub const URL_MAX: usize = 2_048;
/// Every event kind (`"*"` in `events` subscribes to all of them, present and future).
pub const ALL_EVENTS: &str = "*";
/// The event kinds an endpoint may ask for: every audited action (`Action::AUDITED`) and every
/// notification's `kind`. An audited action that notifies nobody is sent with `data` made from
/// its audit event.
pub const EVENT_KINDS: [&str; 18] = [
    "org.created",
    "org.updated",
    "member.created",
    "token.created",
    "token.updated",
    "token.disabled",
    "token.enabled",
    "token.revoked",
    "token.reapproved",
    "token.rotated",
    "token.deleted",
    "token.leaked",
    "token.expiring",
    "token.idle",
    "token.limited",
    "token.credits_exhausted",
    "member.updated",
    "audit.checkpoint",
];
/// The event `POST /v1/org/webhook/test` sends; always delivered, whatever `events` says.
pub const TEST_EVENT: &str = "webhook.test";

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// An org's webhook endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    /// Where events are POSTed.
    pub url: String,
    /// The event kinds it wants (`["*"]`: all).
    pub events: Vec<String>,
    /// The current signing secret, `whsec_…`.
    pub secret: String,
    /// The secret replaced by the last rotation, while it still signs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret: Option<String>,
    /// Until when the previous secret still signs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_valid_until: Option<Timestamp>,
    /// When it was set.
    pub created_at: Timestamp,
    /// When its secret was last rotated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_at: Option<Timestamp>,
}

impl Webhook {
    /// Whether events of `kind` go to this endpoint.
    #[must_use]
    pub fn wants(&self, kind: &str) -> bool {
        kind == TEST_EVENT || self.events.iter().any(|e| e == ALL_EVENTS || e == kind)
    }

    /// The secrets that sign at `now`: the current one, and the previous one during its grace.
    #[must_use]
    pub fn signing_secrets(&self, now: Timestamp) -> Vec<&str> {
        let mut out = vec![self.secret.as_str()];
        if let (Some(p), Some(until)) = (&self.previous_secret, self.previous_valid_until) {
            if now < until {
                out.push(p);
            }
        }
        out
    }

    /// The secret as lists show it: `whsec_` + eight bullets + its last four characters.
    #[must_use]
    pub fn masked_secret(&self) -> String {
        mask_secret(&self.secret)
    }
}

/// `whsec_••••••••abcd`.
#[must_use]
pub fn mask_secret(secret: &str) -> String {
    let tail: String = secret.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("{SECRET_PREFIX}••••••••{tail}")
}

/// A new signing secret: `whsec_` + base64 of [`SECRET_BYTES`] random bytes.
///
/// # Errors
/// [`RandomError`] when the random source fails.
pub fn new_secret(rng: &dyn RandomSource) -> Result<String, RandomError> {
    let mut key = [0u8; SECRET_BYTES];
    rng.fill(&mut key)?;
    Ok(format!("{SECRET_PREFIX}{}", B64.encode(key)))
}

/// The `webhook-signature` header for `body` sent as message `id` at `timestamp` (seconds),
/// signed with each of `secrets`. A secret that is not `whsec_<base64>` is skipped.
#[must_use]
pub fn signature(secrets: &[&str], id: &str, timestamp: i64, body: &str) -> String {
    let content = format!("{id}.{timestamp}.{body}");
    secrets
        .iter()
        .filter_map(|s| {
            let key = B64.decode(s.strip_prefix(SECRET_PREFIX)?).ok()?;
            let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
            mac.update(content.as_bytes());
            Some(format!("v1,{}", B64.encode(mac.finalize().into_bytes())))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why an endpoint URL is refused, for people.
///
/// `allow_insecure` (local development and tests only) admits `http://` and hosts that are not
/// public; in production only `https://` to a public host is accepted. The host is read as
/// `fetch` reads it (the URL Standard: `127.1`, `0x7f.0.0.1` and `2130706433` are 127.0.0.1), and
/// one that `fetch` could not read is refused in both modes. An address must be of the public
/// Internet (see `host.rs` for the blocks that are not); a name is judged by its text (a dotless
/// name, `localhost`, `*.internal`, … only resolve privately). What a public name resolves to is
/// the platform's business: a deployed Worker's requests go out to the public Internet and never
/// into the account's private networks (SECURITY.md, "Webhook endpoints").
#[must_use]
pub fn url_problem(url: &str, allow_insecure: bool) -> Option<&'static str> {
    if url.len() > URL_MAX {
        return Some("must be at most 2048 bytes");
    }
    if url.bytes().any(|b| !(0x21..0x7f).contains(&b)) {
        return Some("must be printable ASCII without spaces");
    }
    if url.contains('\\') {
        // URL parsers (fetch's among them) read `\` as `/` in an http(s) URL.
        return Some("must not contain a backslash (write / instead)");
    }
    let rest = if let Some(r) = url.strip_prefix("https://") {
        r
    } else if let Some(r) = url.strip_prefix("http://") {
        if !allow_insecure {
            return Some("must start with https://");
        }
        r
    } else if allow_insecure {
        return Some("must start with https:// or http://");
    } else {
        return Some("must start with https://");
    };
    let (authority, _) = split_authority(rest);
    if authority.contains('@') {
        return Some("must not carry a user name or password");
    }
    let Some(host) = host_of(authority) else { return Some("has no valid host") };
    if matches!(&host, Host::Name(name) if name.is_empty()) {
        return Some("has no host");
    }
    if !allow_insecure && !host.is_public() {
        return Some("must point to a public host, not a private, loopback, link-local or reserved address");
    }
    None
}

/// How the audit log, and so notifications and webhook payloads, name an endpoint: its scheme
/// and host (with port), and `/…` when a path or query follows. Endpoint URLs often carry a
/// secret of their own in the path or query (chat services' incoming webhooks do); the org's
/// webhook setting keeps the whole URL, but no record repeats it.
///
/// # Example
/// ```
/// use keyward::domain::webhook::shown_url;
/// assert_eq!(shown_url("https://hooks.example.com/services/T0/B0/XyZ?t=1"), "https://hooks.example.com/…");
/// assert_eq!(shown_url("https://hooks.example.com:8443/"), "https://hooks.example.com:8443");
/// ```
#[must_use]
pub fn shown_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (authority, tail) = split_authority(rest);
    let more = !tail.trim_start_matches('/').is_empty();
    format!("{scheme}://{authority}{}", if more { "/…" } else { "" })
}

/// What follows `scheme://`, split where the authority ends: at the first `/`, `?` or `#`.
fn split_authority(rest: &str) -> (&str, &str) {
    rest.split_at_checked(rest.find(['/', '?', '#']).unwrap_or(rest.len())).unwrap_or((rest, ""))
}

/// The host of `host[:port]` or `[v6][:port]`, read as `fetch` reads it; `None` when it is not
/// a plain name or address, or `fetch` could not read it.
fn host_of(authority: &str) -> Option<Host> {
    if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(is_port)) {
            return None;
        }
        return super::ip::parse_v6(h).map(|ip| Host::Ip(IpAddr::V6(ip)));
    }
    // The last `:`, found by byte (as `ends_in_a_number` finds the last dot).
    let (h, port) = match authority.bytes().rposition(|b| b == b':') {
        Some(colon) => (authority.get(..colon).unwrap_or_default(), authority.get(colon + 1..)),
        None => (authority, None),
    };
    // Letters, digits, dots, hyphens (and underscores, which some services use): no percent
    // escapes, and nothing a URL parser would read as the end of the host.
    let host_chars = |b: u8| b.is_ascii_alphanumeric() || b".-_".contains(&b);
    if port.is_some_and(|p| !is_port(p)) || !h.bytes().all(host_chars) {
        return None;
    }
    host::read(h)
}

fn is_port(p: &str) -> bool {
    // At most five digits, read by hand (no integer parser in the browser module).
    !p.is_empty()
        && p.len() <= 5
        && p.bytes().all(|b| b.is_ascii_digit())
        && p.bytes().fold(0u32, |n, b| n * 10 + u32::from(b - b'0')) <= u32::from(u16::MAX)
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not delivered yet; another attempt is due at `next_attempt_at`.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Every attempt of the window failed; given up.
    Failed,
}

/// One attempt to deliver an event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// When it was made.
    pub at: Timestamp,
    /// The endpoint's HTTP status, if it answered.
    pub response_code: Option<u16>,
    /// Why it failed, in a few words (never the response body); `None` when delivered.
    pub error: Option<String>,
}

/// One event on its way to the org's endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// `msg_…`: the `webhook-id` header, the same on every attempt (receivers dedupe on it).
    pub id: String,
    /// The event kind (`type` in the payload).
    pub kind: String,
    /// When the event happened.
    pub created_at: Timestamp,
    /// The exact body sent: `{type, timestamp, data}`.
    pub payload: String,
    /// Where it stands.
    pub state: DeliveryState,
    /// When the next attempt is due (`None` once delivered or given up).
    pub next_attempt_at: Option<Timestamp>,
    /// Every attempt so far, oldest first.
    pub attempts: Vec<Attempt>,
    /// While an attempt is in flight: until when it holds the delivery (see [`Self::lease`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leased_until: Option<Timestamp>,
    /// The endpoint it was made for, named by when that endpoint was set ([`Webhook::created_at`]):
    /// it goes there or nowhere, never to an endpoint set after that one was removed. Absent in
    /// deliveries written before this field existed (taken as made for the current endpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<Timestamp>,
}

impl Delivery {
    /// A new delivery of `payload` to the endpoint `hook`, due at once.
    #[must_use]
    pub fn new(id: String, kind: String, payload: String, hook: &Webhook, now: Timestamp) -> Self {
        Self::to_endpoint(id, kind, payload, hook.created_at, now)
    }

    /// A new delivery of `payload` to the endpoint set at `endpoint` (a webhook's or an audit
    /// sink's `created_at`), due at once.
    #[must_use]
    pub fn to_endpoint(id: String, kind: String, payload: String, endpoint: Timestamp, now: Timestamp) -> Self {
        Self {
            id,
            kind,
            created_at: now,
            payload,
            state: DeliveryState::Pending,
            next_attempt_at: Some(now),
            attempts: Vec::new(),
            leased_until: None,
            endpoint: Some(endpoint),
        }
    }

    /// Whether it was made for `hook` (the endpoint set now), and so may be sent to it.
    #[must_use]
    pub fn is_for(&self, hook: &Webhook) -> bool {
        self.is_for_endpoint(hook.created_at)
    }

    /// Whether it was made for the endpoint set at `created_at` (absent: made before deliveries
    /// named their endpoint, so for the current one).
    #[must_use]
    pub fn is_for_endpoint(&self, created_at: Timestamp) -> bool {
        self.endpoint.is_none_or(|e| e == created_at)
    }

    /// Give up at `now` without sending, saying `why` as the attempt's error: its endpoint is
    /// gone.
    pub fn give_up(&mut self, now: Timestamp, why: &str) {
        self.attempts.push(Attempt { at: now, response_code: None, error: Some(why.to_owned()) });
        self.state = DeliveryState::Failed;
        self.next_attempt_at = None;
        self.leased_until = None;
    }

    /// Whether an attempt is due at `now` (and none is in flight).
    #[must_use]
    pub fn is_due(&self, now: Timestamp) -> bool {
        self.next_due().is_some_and(|t| t <= now)
    }

    /// When the next attempt may start: its slot, or the end of the lease of one in flight.
    #[must_use]
    pub fn next_due(&self) -> Option<Timestamp> {
        if self.state != DeliveryState::Pending {
            return None;
        }
        held_until(self.next_attempt_at, self.leased_until)
    }

    /// Hold it for an attempt starting at `now`: no one else starts one before the attempt is
    /// recorded or [`SEND_LEASE_SECONDS`] pass (its sender died).
    pub fn lease(&mut self, now: Timestamp) {
        self.leased_until = Some(lease_end(now));
    }

    /// Record an attempt made at `now` that got `response_code` (or failed with `error`), and
    /// decide what comes next: delivered on 2xx; otherwise the next slot of
    /// [`ATTEMPT_OFFSETS_SECONDS`], or failed after the last.
    pub fn record(&mut self, now: Timestamp, response_code: Option<u16>, error: Option<String>) {
        let ok = error.is_none() && response_code.is_some_and(|c| (200..300).contains(&c));
        let error = if ok {
            None
        } else {
            Some(error.unwrap_or_else(|| format!("HTTP {}", response_code.unwrap_or_default())))
        };
        self.attempts.push(Attempt { at: now, response_code, error });
        self.leased_until = None;
        if ok {
            self.state = DeliveryState::Delivered;
            self.next_attempt_at = None;
            return;
        }
        self.next_attempt_at = next_attempt(self.created_at, self.attempts.len(), now);
        if self.next_attempt_at.is_none() {
            self.state = DeliveryState::Failed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::random::testing::SeqRandom;
    use super::super::sending::{ATTEMPT_OFFSETS_SECONDS, SEND_LEASE_SECONDS};
    use super::*;

    /// The Standard Webhooks specification's own example (secret, id, timestamp, body and the
    /// signature its reference libraries compute).
    #[test]
    fn signs_like_the_specification() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        let sig = signature(&[secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn signs_with_every_live_secret() {
        let now = Timestamp::from_millis(1_000_000);
        let mut w = Webhook {
            url: "https://example.com/h".into(),
            events: vec![ALL_EVENTS.into()],
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
            previous_secret: Some("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into()),
            previous_valid_until: Some(now.plus_seconds(10)),
            created_at: now,
            rotated_at: Some(now),
        };
        assert_eq!(w.signing_secrets(now).len(), 2);
        let both = signature(&w.signing_secrets(now), "m", 1, "{}");
        assert_eq!(both.split(' ').count(), 2);
        assert!(both.split(' ').all(|s| s.starts_with("v1,")));
        assert_eq!(w.signing_secrets(now.plus_seconds(10)), vec![w.secret.as_str()]);
        w.previous_secret = Some("not a secret".into());
        assert_eq!(signature(&w.signing_secrets(now), "m", 1, "{}").split(' ').count(), 1);
        assert_eq!(w.masked_secret(), "whsec_••••••••LaSw");
    }

    #[test]
    fn secrets_are_fresh_and_well_formed() {
        let rng = SeqRandom::new(7);
        let a = new_secret(&rng).unwrap();
        let b = new_secret(&rng).unwrap();
        assert_ne!(a, b);
        assert_eq!(B64.decode(a.strip_prefix(SECRET_PREFIX).unwrap()).unwrap().len(), SECRET_BYTES);
    }

    #[test]
    fn events_filter() {
        let mut w = Webhook {
            url: String::new(),
            events: vec!["token.created".into()],
            secret: String::new(),
            previous_secret: None,
            previous_valid_until: None,
            created_at: Timestamp::from_millis(0),
            rotated_at: None,
        };
        assert!(w.wants("token.created"));
        assert!(!w.wants("token.revoked"));
        assert!(w.wants(TEST_EVENT));
        w.events = vec![ALL_EVENTS.into()];
        assert!(w.wants("token.revoked"));
    }

    #[test]
    fn urls_in_production() {
        for ok in ["https://hooks.example.com/keyward", "https://example.com:8443/a?b=c", "https://[2606:4700::1]/x"] {
            assert_eq!(url_problem(ok, false), None, "{ok}");
        }
        for bad in [
            "http://example.com/",
            "ftp://example.com/",
            "https://",
            "https://user:pw@example.com/",
            "https://localhost/",
            "https://api.localhost/",
            "https://intranet/",
            "https://db.internal/",
            "https://127.0.0.1/",
            "https://10.1.2.3/",
            "https://192.168.0.1:8080/",
            "https://172.16.0.1/",
            "https://169.254.169.254/latest",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://example.com:99999/",
            "https://exa mple.com/",
            "https://example.com/\u{7f}",
        ] {
            assert!(url_problem(bad, false).is_some(), "{bad}");
        }
        assert!(url_problem(&format!("https://example.com/{}", "a".repeat(URL_MAX)), false).is_some());
    }

    /// Every private range, and its public neighbours (found unchecked by mutation testing).
    #[test]
    fn private_ranges_and_their_neighbours() {
        let private = [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.1.1",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "100.64.0.1",
            "100.127.255.255",
            "198.18.0.1",
            "198.19.255.255",
        ];
        for ip in private {
            assert!(url_problem(&format!("https://{ip}/"), false).is_some(), "{ip} is private");
        }
        let public =
            ["8.8.8.8", "100.63.255.255", "100.128.0.1", "198.17.255.255", "198.20.0.1", "1.1.1.1", "99.64.0.1"];
        for ip in public {
            assert_eq!(url_problem(&format!("https://{ip}/"), false), None, "{ip} is public");
        }
        for ip in [
            "::1",
            "::",
            "fc00::1",
            "fdff::1",
            "fe80::1",
            "febf::1",
            "ff02::1",
            "64:ff9b::",
            "64:ff9b::a00:1",
            "::ffff:10.0.0.1",
            "fec0::1",
            "fe00::1",
        ] {
            assert!(url_problem(&format!("https://[{ip}]/"), false).is_some(), "{ip} is private");
        }
        for ip in ["2606:4700::1", "64:ff9b::808:808", "::ffff:8.8.8.8"] {
            assert_eq!(url_problem(&format!("https://[{ip}]/"), false), None, "{ip} is public");
        }
        // A URL of exactly the longest length is accepted; one byte more is not.
        let base = "https://example.com/";
        let exact = format!("{base}{}", "a".repeat(URL_MAX - base.len()));
        assert_eq!(url_problem(&exact, false), None);
        assert!(url_problem(&format!("{exact}a"), false).is_some());
    }

    /// The outside review's URLs: each reaches a private address once fetch has read it (as
    /// workerd's URL parser does: tests/e2e/webhook-hosts.test.mjs), and each is refused.
    const REVIEW_URLS: [&str; 9] = [
        "https://127.1/",
        "https://0x7f.0.0.1/",
        "https://0177.0.0.1/",
        "https://10.1/",
        "https://192.168.257/",
        "https://[::7f00:1]/",
        "https://[fec0::1]/",
        "https://[64:ff9b:1::a00:1]/",
        "https://[2002:7f00:1::]/",
    ];
    const NOT_PUBLIC: Option<&str> =
        Some("must point to a public host, not a private, loopback, link-local or reserved address");

    #[test]
    fn hosts_are_read_as_fetch_reads_them() {
        for url in REVIEW_URLS {
            assert_eq!(url_problem(url, false), NOT_PUBLIC, "{url}");
            assert_eq!(url_problem(url, true), None, "{url} in development");
        }
        // Their public neighbours, spelled the same ways.
        for url in [
            "https://8.8.8.8/",
            "https://0x8.0x8.0x8.0x8/",
            "https://010.010.010.010/",
            "https://8.526344/",
            "https://134744072/",
            "https://126.1/",
            "https://0x80.0.0.1/",
            "https://11.1/",
            "https://192.169.257/",
            "https://[2606:4700::1111]/",
            "https://[2002:808:808::]/",
            "https://[64:ff9b::808:808]/",
            "https://example.com/",
            "https://example.com./",
            "https://a-1.example/",
        ] {
            assert_eq!(url_problem(url, false), None, "{url}");
        }
        for url in [
            "https://0x/",                        // 0.0.0.0
            "https://0/",                         //
            "https://127.0.0.1./",                // a final dot changes nothing
            "https://0x7F000001/",                //
            "https://2130706433/",                //
            "https://0xa9.0xfe.0xa9.0xfe/latest", // 169.254.169.254
            "https://[::1.2.3.4]/",               // IPv4-compatible
            "https://[::ffff:0:808:808]/",        // IPv4-translated: not mapped
            "https://[2001::1]/",                 // Teredo
            "https://[3fff::1]/",                 // documentation
            "https://[2002:a00:1::]/",            // 6to4 of 10.0.0.1
            "https://localhost./",                //
            "https://db.internal./",
        ] {
            assert_eq!(url_problem(url, false), NOT_PUBLIC, "{url}");
        }
        // What fetch cannot read is refused in both modes.
        for dev in [false, true] {
            for url in [
                "https://1.2.3.0x100/", // the last of four numbers is one byte
                "https://1.2.3.4.5/",   // at most four numbers
                "https://256.0.0.1/",   //
                "https://99999999999999999999/",
                "https://hooks.example.0x10000000000000000000/",
                "https://4294967296/",
                "https://foo.0x/", // ends in a number, so IPv4, and foo is none
                "https://example.1/",
                "https://08.1/", // not octal
                "https://127.0.0.1../",
                "https://a..b.example/",
                "https://./",
            ] {
                assert_eq!(url_problem(url, dev), Some("has no valid host"), "{url} ({dev})");
            }
        }
        assert_eq!(url_problem("https://:443/", false), Some("has no host"));
    }

    #[test]
    fn ports_are_read_up_to_65535() {
        assert_eq!(url_problem("https://hooks.example.com:65535/", false), None);
        assert_eq!(url_problem("https://hooks.example.com:00443/", false), None);
        let not_a_port = url_problem("https://hooks.example.com:1x/", false);
        assert!(not_a_port.is_some());
        for url in
            ["https://hooks.example.com:65536/", "https://hooks.example.com:99999/", "https://hooks.example.com:/"]
        {
            assert_eq!(url_problem(url, false), not_a_port, "{url}");
        }
    }

    #[test]
    fn urls_in_development() {
        assert_eq!(url_problem("http://127.0.0.1:9000/hook", true), None);
        assert_eq!(url_problem("http://localhost:9000/hook", true), None);
        assert!(url_problem("ftp://127.0.0.1/", true).is_some());
    }

    /// Whatever a URL parser could read as the end of the host is refused, so the host the audit
    /// log names (`shown_url`) is the one requests go to, and nothing of the path comes with it.
    #[test]
    fn hosts_are_plain_names_or_addresses() {
        for dev in [true, false] {
            for bad in [
                "https://hooks.example.com\\secret/x",
                "https://hooks.example.com\\",
                "https://hooks.example.com%2Fsecret/x",
                "https://hooks.example.com;secret/x",
                "https://hooks.example.com%5Csecret",
                "https://[not-v6]/x",
                "https://[fe80::1%25eth0]/x",
            ] {
                assert!(url_problem(bad, dev).is_some(), "{bad} ({dev})");
            }
            for ok in ["https://hooks.example.com/x", "https://a_b.example.com/", "https://[2001:db8::1]:8443/x"] {
                let refused = url_problem(ok, dev);
                assert!(refused.is_none() || (!dev && refused.is_some_and(|w| w.contains("private"))), "{ok}");
            }
        }
        assert_eq!(
            url_problem("https://h.example.com\\x", true),
            Some("must not contain a backslash (write / instead)")
        );
        assert_eq!(shown_url("https://[2001:db8::1]:8443/x?t=1"), "https://[2001:db8::1]:8443/…");
    }

    fn hook(created_at: Timestamp) -> Webhook {
        Webhook {
            url: "https://example.com/h".into(),
            events: vec![ALL_EVENTS.into()],
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
            previous_secret: None,
            previous_valid_until: None,
            created_at,
            rotated_at: None,
        }
    }

    #[test]
    fn a_delivery_belongs_to_the_endpoint_it_was_made_for() {
        let t0 = Timestamp::from_millis(1_000_000);
        let first = hook(t0);
        let mut d = Delivery::new("msg_1".into(), "k".into(), "{}".into(), &first, t0);
        assert!(d.is_for(&first));
        // the same endpoint moved or rotated is still the one it was made for
        assert!(d.is_for(&Webhook { url: "https://example.org/x".into(), rotated_at: Some(t0), ..first.clone() }));
        // one set after that was removed is not
        assert!(!d.is_for(&hook(t0.plus_seconds(1))));
        // written before deliveries named their endpoint: the current one
        assert!(Delivery { endpoint: None, ..d.clone() }.is_for(&hook(t0.plus_seconds(1))));
        d.lease(t0);
        d.give_up(t0.plus_seconds(2), "the webhook was removed");
        assert_eq!(d.state, DeliveryState::Failed);
        assert_eq!((d.next_attempt_at, d.leased_until, d.next_due()), (None, None, None));
        assert_eq!(d.attempts[0].error.as_deref(), Some("the webhook was removed"));
        assert_eq!(d.attempts[0].at, t0.plus_seconds(2));
        assert_eq!(d.attempts[0].response_code, None);
    }

    #[test]
    fn attempts_back_off_then_give_up() {
        let t0 = Timestamp::from_millis(1_000_000);
        let mut d = Delivery::new("msg_1".into(), "token.created".into(), "{}".into(), &hook(t0), t0);
        assert!(d.is_due(t0));
        d.record(t0, Some(500), None);
        assert_eq!(d.state, DeliveryState::Pending);
        assert_eq!(d.next_attempt_at, Some(t0.plus_seconds(5)));
        assert!(!d.is_due(t0.plus_seconds(4)));
        d.record(t0.plus_seconds(5), None, Some("connection failed".into()));
        assert_eq!(d.next_attempt_at, Some(t0.plus_seconds(300)));
        assert_eq!(d.attempts[0].error.as_deref(), Some("HTTP 500"));
        for offset in &ATTEMPT_OFFSETS_SECONDS[2..] {
            assert_eq!(d.state, DeliveryState::Pending);
            d.record(t0.plus_seconds(*offset), Some(503), None);
        }
        assert_eq!(d.state, DeliveryState::Failed);
        assert_eq!(d.next_attempt_at, None);
        assert_eq!(d.attempts.len(), ATTEMPT_OFFSETS_SECONDS.len());
        assert!(!d.is_due(t0.plus_days(9)));
    }

    #[test]
    fn a_lease_holds_a_delivery_until_its_attempt_is_recorded_or_the_lease_ends() {
        let t0 = Timestamp::from_millis(1_000_000);
        let mut d = Delivery::new("msg_1".into(), "k".into(), "{}".into(), &hook(t0), t0);
        d.lease(t0);
        assert!(!d.is_due(t0));
        assert_eq!(d.next_attempt_at, Some(t0), "the schedule is unchanged: it is due now, in flight");
        assert_eq!(d.next_due(), Some(t0.plus_seconds(SEND_LEASE_SECONDS)));
        assert!(d.is_due(t0.plus_seconds(SEND_LEASE_SECONDS)), "its sender died: try again");
        d.record(t0.plus_seconds(1), Some(500), None);
        assert_eq!(d.leased_until, None);
        assert_eq!(d.next_due(), Some(t0.plus_seconds(5)));
        d.record(t0.plus_seconds(5), Some(200), None);
        assert_eq!(d.next_due(), None);
    }

    #[test]
    fn a_late_attempt_is_followed_at_once_and_a_2xx_delivers() {
        let t0 = Timestamp::from_millis(0);
        let mut d = Delivery::new("msg_1".into(), "k".into(), "{}".into(), &hook(t0), t0);
        d.record(t0.plus_days(1), Some(500), None);
        assert_eq!(d.next_attempt_at, Some(t0.plus_days(1)));
        d.record(t0.plus_days(1), Some(204), None);
        assert_eq!(d.state, DeliveryState::Delivered);
        assert_eq!(d.attempts[1].error, None);
        assert_eq!(d.next_attempt_at, None);
    }
}
