//! Rate limits, with the Workers Rate Limiting binding (`[[ratelimits]]` in wrangler.toml,
//! simulated by `wrangler dev`). The binding only answers yes or no; the wait a refused client
//! is told (`Retry-After`) is the limit's window, which must match wrangler.toml (a native test
//! checks it does).
//!
//! Only failures and strict verifications are limited: a verification of a token that exists
//! never calls a limiter, so a flood of junk never slows the tokens in real use.
//!
//! Verification misses are counted off the response path ([`count_later`]): the limiter's answer
//! is remembered by the isolate, so a miss waits for nothing but its own KV read, and a client
//! past its limit is refused from its next miss on.

use std::cell::RefCell;

use worker::{console_error, Context, Env};

use crate::store::cache::TtlCache;

use super::problem::Problem;

/// One limit of wrangler.toml's `[[ratelimits]]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// Verifications answered `MALFORMED` or `NOT_FOUND`, per client address.
    VerifyMisses,
    /// Failed admin authentications (401), per client address.
    #[cfg_attr(not(feature = "admin"), allow(dead_code))]
    AdminAuthFailures,
    /// Strict verifications, per token (they share the org authority's capacity).
    StrictVerifications,
    /// `POST /v1/credentials/revoke` calls, per client address.
    #[cfg_attr(not(feature = "admin"), allow(dead_code))]
    RevocationReports,
}

impl Limit {
    /// Every limit, for the configuration check.
    #[cfg(test)]
    pub const ALL: [Self; 4] =
        [Self::VerifyMisses, Self::AdminAuthFailures, Self::StrictVerifications, Self::RevocationReports];

    /// The binding's name in wrangler.toml.
    pub const fn binding(self) -> &'static str {
        match self {
            Self::VerifyMisses => "VERIFY_MISS_LIMIT",
            Self::AdminAuthFailures => "ADMIN_AUTH_LIMIT",
            Self::StrictVerifications => "STRICT_VERIFY_LIMIT",
            Self::RevocationReports => "REVOKE_REPORT_LIMIT",
        }
    }

    /// The limit's window in seconds (`period` in wrangler.toml: 10 or 60).
    pub const fn period_seconds(self) -> u32 {
        match self {
            Self::VerifyMisses | Self::AdminAuthFailures | Self::StrictVerifications | Self::RevocationReports => 60,
        }
    }
}

/// The client a limit counts, from the address Cloudflare saw (`CF-Connecting-IP`, set by the
/// platform; absent only in local runs): an IPv4 address as it is, an IPv6 address by its /64
/// (one subscriber's network: a client can pick any address in it at will).
pub fn client(header: Option<String>) -> String {
    let Some(raw) = header.filter(|h| !h.is_empty()) else { return "unknown".to_owned() };
    match crate::domain::ip::parse(raw.trim()) {
        Some(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
            }
        },
        Some(ip) => ip.to_string(),
        None => raw,
    }
}

/// Count one event of `limit` for `key`; `Err(RateLimited)` once the limit is passed. A missing
/// or failing binding lets the request through (logged): rate limits protect capacity and must
/// never take the service down with them.
///
/// # Errors
/// [`Error::RateLimited`] with the limit's window as `retry_after`.
pub async fn check(env: &Env, limit: Limit, key: &str) -> Result<(), Problem> {
    let limiter = match env.rate_limiter(limit.binding()) {
        Ok(l) => l,
        Err(e) => {
            super::log_once(limit.binding(), || format!("rate limit {}: no binding ({e})", limit.binding()));
            return Ok(());
        }
    };
    match limiter.limit(key.to_owned()).await {
        Ok(outcome) if !outcome.success => Err(Problem::RateLimited { retry_after: limit.period_seconds() }),
        Ok(_) => Ok(()),
        Err(e) => {
            console_error!("rate limit {}: {e}", limit.binding());
            Ok(())
        }
    }
}

/// Clients this isolate may remember as past a limit counted off the response path.
const LIMITED_MEMORY: usize = 4_096;

thread_local! {
    /// `<binding>:<key>` → refused until its window ends, as the limiter last answered.
    static LIMITED: RefCell<TtlCache<()>> = RefCell::new(TtlCache::new(LIMITED_MEMORY, 60_000));
}

fn memo_key(limit: Limit, key: &str) -> String {
    format!("{}:{key}", limit.binding())
}

/// Count one event of `limit` for `key` off the response path (`ctx.wait_until`), and refuse
/// at once a `key` the limiter has refused in this isolate within the limit's window. The event
/// that crosses the limit is answered; the next ones are refused until the window ends. A missing
/// or failing binding lets everything through (logged), as [`check`] does.
///
/// # Errors
/// [`Problem::RateLimited`] with the limit's window as `retry_after`.
pub fn count_later(ctx: &Context, env: &Env, limit: Limit, key: &str, now_ms: u64) -> Result<(), Problem> {
    let memo = memo_key(limit, key);
    let period_ms = u64::from(limit.period_seconds()) * 1_000;
    let refused = LIMITED.with(|m| m.borrow().get_aged(&memo, now_ms).is_some_and(|(_, age)| age < period_ms));
    if refused {
        return Err(Problem::RateLimited { retry_after: limit.period_seconds() });
    }
    let limiter = match env.rate_limiter(limit.binding()) {
        Ok(l) => l,
        Err(e) => {
            super::log_once(limit.binding(), || format!("rate limit {}: no binding ({e})", limit.binding()));
            return Ok(());
        }
    };
    let key = key.to_owned();
    ctx.wait_until(async move {
        match limiter.limit(key).await {
            Ok(outcome) if !outcome.success => LIMITED.with(|m| m.borrow_mut().insert(&memo, (), now_ms)),
            Ok(_) => {}
            Err(e) => console_error!("rate limit {}: {e}", limit.binding()),
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{client, Limit};

    #[test]
    fn clients_are_addresses_and_ipv6_networks() {
        assert_eq!(client(None), "unknown");
        assert_eq!(client(Some(String::new())), "unknown");
        assert_eq!(client(Some("198.51.100.7".into())), "198.51.100.7");
        assert_eq!(client(Some("2001:db8:1:2::1".into())), "2001:db8:1:2::/64");
        assert_eq!(client(Some("2001:db8:1:2:ffff:1:2:3".into())), "2001:db8:1:2::/64");
        assert_eq!(client(Some("2001:db8::1".into())), "2001:db8:0:0::/64");
        assert_eq!(client(Some("::ffff:198.51.100.7".into())), "198.51.100.7");
        assert_eq!(client(Some("not an address".into())), "not an address");
    }

    /// The windows the code tells clients about are the ones wrangler.toml configures, in both
    /// Workers' configurations.
    #[test]
    fn windows_match_wrangler_toml() {
        for (name, toml) in [
            ("wrangler.toml", include_str!("../../wrangler.toml")),
            ("wrangler.verify.toml", include_str!("../../wrangler.verify.toml")),
        ] {
            for limit in Limit::ALL {
                let Some(at) = toml.find(&format!("name = \"{}\"", limit.binding())) else {
                    assert_ne!(name, "wrangler.toml", "{} missing from {name}", limit.binding());
                    continue;
                };
                let block = toml[at..].split("[[").next().unwrap();
                let expected = format!("period = {}", limit.period_seconds());
                assert!(block.contains(&expected), "{name}: {} should have {expected}", limit.binding());
            }
        }
    }
}
