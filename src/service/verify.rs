//! Verification (edge and strict), last use, and the admin's audit and notification views.

use core::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{object, parse_json, Error, Notice, Result, Service, Who};
use crate::domain::legacy::LegacyFormats;
use crate::domain::meter::{meter, meter_apart, Meter, Refusal, COST_MAX, DEFAULT_COST};
use crate::domain::projection::entries;
use crate::domain::token::{parse, sha256_hex};
use crate::domain::validate::{Shape, Whole};
use crate::domain::{notice, verdict, Action, Code, Kind, RandomSource, Role, Timestamp, Token, VerifyEntry};
use crate::store::{keys, Changes, Edge, Kv, Store};

/// The token part of a `VALID` verify answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct VerifiedToken {
    /// `tok_…`
    pub id: String,
    /// The org.
    pub org_id: String,
    /// Personal or org.
    pub kind: Kind,
    /// Owner of a personal token.
    pub owner_member_id: Option<String>,
    /// Effective role.
    pub role: Role,
    /// Scopes.
    pub scopes: Vec<String>,
    /// RFC 3339 or null.
    pub expires_at: Option<String>,
    /// The token's `meta` (null when it has none).
    #[serde(default)]
    pub meta: Option<serde_json::Map<String, serde_json::Value>>,
    /// The token's `external_id` (null when it has none).
    #[serde(default)]
    pub external_id: Option<String>,
}

/// Where an answer came from (docs/ARCHITECTURE.md, "Verification: edge and strict").
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Consistency {
    /// The KV projection, through the isolate's cache: may lag a change made elsewhere.
    #[default]
    Edge,
    /// The org authority's records: exact.
    Strict,
}

impl Consistency {
    /// Parse the wire name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "edge" => Some(Self::Edge),
            "strict" => Some(Self::Strict),
            _ => None,
        }
    }
}

/// How stale an edge answer may be, in seconds: Workers KV's propagation (about 60 s) plus the
/// isolate's verify cache (5 s, `server::kv::VERIFY_CACHE_TTL_MS`; a test there checks the sum).
/// A strict answer is never stale (0).
pub const EDGE_MAX_STALENESS_S: u32 = 65;

/// `POST /v1/verify` answer: `{valid, code, consistency, checked_at, max_staleness_s}` plus
/// `token` when valid, and `ratelimit` and `credits` for a metered token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Verification {
    /// `code == VALID`.
    pub valid: bool,
    /// The verdict.
    pub code: Code,
    /// Which consistency the answer had.
    pub consistency: Consistency,
    /// When the verdict was decided (RFC 3339, UTC).
    #[serde(default)]
    pub checked_at: String,
    /// How old the records behind the verdict may have been: 0 for strict,
    /// [`EDGE_MAX_STALENESS_S`] for edge.
    #[serde(default)]
    pub max_staleness_s: u32,
    /// What the token may do (only when valid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<VerifiedToken>,
    /// A rate-limited token's window: `{limit, remaining, reset_at}` (only for such a token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratelimit: Option<LimitState>,
    /// A token with credits: `{remaining}` (only for such a token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits: Option<CreditsLeft>,
    /// The token the presented secret belongs to, valid or not (for usage counts; never
    /// answered).
    #[serde(skip)]
    pub located: Option<Located>,
}

impl Verification {
    /// The answer for `code` given the entry it was decided on, at `now`.
    #[must_use]
    pub fn new(code: Code, entry: Option<VerifyEntry>, consistency: Consistency, now: Timestamp) -> Self {
        let located = entry.as_ref().map(Located::from);
        let token = match (code, entry) {
            (Code::Valid, Some(e)) => Some(VerifiedToken {
                id: e.token_id,
                org_id: e.org_id,
                kind: e.kind,
                owner_member_id: e.owner_member_id,
                role: e.role,
                scopes: e.scopes,
                expires_at: e.expires_at.map(Timestamp::to_rfc3339),
                meta: e.meta,
                external_id: e.external_id,
            }),
            _ => None,
        };
        let max_staleness_s = match consistency {
            Consistency::Edge => EDGE_MAX_STALENESS_S,
            Consistency::Strict => 0,
        };
        Self {
            valid: code == Code::Valid,
            code,
            consistency,
            checked_at: now.to_rfc3339(),
            max_staleness_s,
            token,
            ratelimit: None,
            credits: None,
            located,
        }
    }
}

/// The `ratelimit` of a verify answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LimitState {
    /// Valid verifications allowed per period.
    pub limit: u32,
    /// Left in the current window (after this verification).
    pub remaining: u32,
    /// When the window's count next goes down (RFC 3339).
    pub reset_at: String,
}

/// The `credits` of a verify answer.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct CreditsLeft {
    /// Credits left (after this verification).
    pub remaining: u32,
}

/// One verification asked for, by either form of the endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyRequest {
    /// The presented token.
    pub token: String,
    /// Scopes it must have.
    pub scopes: Vec<String>,
    /// Edge (KV) or strict (the org authority).
    pub consistency: Consistency,
    /// The address the calling service saw its client use (for network allowlists).
    pub client_ip: Option<IpAddr>,
    /// Credits a valid verification spends (0..=[`COST_MAX`], default 1; only tokens with
    /// credits have any to spend).
    pub cost: u32,
}

/// `{token, scopes?, consistency?, client_ip?, cost?}`, the one shape `POST /v1/verify` takes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyBody {
    token: String,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    consistency: Option<Consistency>,
    #[serde(default)]
    client_ip: Option<String>,
    #[serde(default)]
    cost: Option<u32>,
}

/// What a `client_ip` that is not an address is told (both forms of the endpoint).
const BAD_CLIENT_IP: Error = Error::BadRequest("client_ip must be an IPv4 or IPv6 address");
/// What a `consistency` other than edge or strict is told (both forms of the endpoint).
const BAD_CONSISTENCY: Error = Error::BadRequest("consistency must be \"edge\" or \"strict\"");

/// What a `cost` outside 0..=1000 is told (both forms of the endpoint).
const BAD_COST: Error = Error::BadRequest("cost must be a whole number from 0 to 1000");

/// A `cost` as given (`None`: the default, 1).
///
/// # Errors
/// [`Error::BadRequest`] outside 0..=[`COST_MAX`].
pub fn cost(raw: Option<i64>) -> Result<u32, Error> {
    match raw {
        None => Ok(DEFAULT_COST),
        Some(n) => u32::try_from(n).ok().filter(|n| *n <= COST_MAX).ok_or(BAD_COST),
    }
}

/// A `cost` as a query gives it: decimal digits only (`+5`, ` 5`, `5.0` are refused); empty is
/// not given, as for the endpoint's other parameters.
///
/// # Errors
/// [`Error::BadRequest`] for anything else, or outside 0..=[`COST_MAX`].
pub fn cost_param(raw: Option<&str>) -> Result<u32, Error> {
    match raw.filter(|s| !s.is_empty()) {
        None => Ok(DEFAULT_COST),
        Some(s) if s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()) => cost(s.parse().ok()),
        Some(_) => Err(BAD_COST),
    }
}

/// A `client_ip` as given (`None` or empty: not given).
///
/// # Errors
/// [`Error::BadRequest`] when it is not an IPv4 or IPv6 address.
pub fn client_ip(raw: Option<&str>) -> Result<Option<IpAddr>, Error> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => crate::domain::ip::parse(s).map(Some).ok_or(BAD_CLIENT_IP),
    }
}

/// A `consistency` as given (`None`: the default, edge).
///
/// # Errors
/// [`Error::BadRequest`] for anything but `edge` or `strict`.
pub fn consistency(raw: Option<&str>) -> Result<Consistency, Error> {
    raw.map_or(Ok(Consistency::Edge), |c| Consistency::parse(c).ok_or(BAD_CONSISTENCY))
}

/// Read a verify body: typed parse first (fast), and on failure the detailed check that names
/// what is wrong.
///
/// # Errors
/// [`Error::BadRequest`] for anything but `{token: string, scopes?: string[] | null,
/// consistency?: "edge" | "strict" | null, client_ip?: string | null}`.
pub fn verify_body(body: &[u8]) -> Result<VerifyRequest, Error> {
    if let Ok(b) = serde_json::from_slice::<VerifyBody>(body) {
        return Ok(VerifyRequest {
            token: b.token,
            scopes: b.scopes.unwrap_or_default(),
            consistency: b.consistency.unwrap_or_default(),
            client_ip: client_ip(b.client_ip.as_deref())?,
            cost: cost(b.cost.map(i64::from))?,
        });
    }
    let v = parse_json(body)?;
    let obj = object(&v)?;
    if obj.keys().any(|k| !["token", "scopes", "consistency", "client_ip", "cost"].contains(&k.as_str())) {
        return Err(Error::BadRequest("the body takes only token, scopes, consistency, client_ip and cost"));
    }
    let cost = match obj.get("cost") {
        None | Some(Value::Null) => DEFAULT_COST,
        // A whole number as the forms read one (`3.0` and `3e0` are 3), so both agree.
        Some(n @ Value::Number(_)) => cost(Some(Whole::from_json(n.clone()).ok_or(BAD_COST)?.0))?,
        Some(_) => return Err(BAD_COST),
    };
    let consistency = match obj.get("consistency") {
        None | Some(Value::Null) => Consistency::Edge,
        Some(Value::String(c)) => consistency(Some(c))?,
        Some(_) => return Err(BAD_CONSISTENCY),
    };
    let client_ip = match obj.get("client_ip") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => client_ip(Some(s))?,
        Some(_) => return Err(BAD_CLIENT_IP),
    };
    let token = obj.get("token").and_then(Value::as_str).ok_or(Error::BadRequest("token must be a string"))?;
    let scopes = match obj.get("scopes") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|s| s.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or(Error::BadRequest("scopes must be a list of strings"))?,
        Some(_) => return Err(Error::BadRequest("scopes must be a list of strings")),
    };
    Ok(VerifyRequest { token: token.to_owned(), scopes, consistency, client_ip, cost })
}

/// Where the edge says a presented secret lives: its org (and so its authority) and its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The org, whose authority holds the records.
    pub org_id: String,
    /// The token the secret belongs to.
    pub token_id: String,
}

impl From<&VerifyEntry> for Located {
    fn from(e: &VerifyEntry) -> Self {
        Self { org_id: e.org_id.clone(), token_id: e.token_id.clone() }
    }
}

/// What the edge knows of a presented string, after one parse, one hash and at most one read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Not a token: wrong pattern or checksum (never read from KV).
    Malformed,
    /// A well-formed secret KV does not know.
    Unknown,
    /// A secret KV knows: its hash and its verify entry.
    Found {
        /// `sha256` hex of the secret (what the authority matches strictly).
        hash: String,
        /// The entry KV holds for it.
        entry: Box<VerifyEntry>,
    },
}

impl Lookup {
    /// Where the secret lives, if KV knows it.
    #[must_use]
    pub fn located(&self) -> Option<Located> {
        match self {
            Self::Found { entry, .. } => Some(Located::from(entry.as_ref())),
            _ => None,
        }
    }

    /// The edge's answer for `scopes` from the address `client` at `now`.
    #[must_use]
    pub fn edge_verdict<T: AsRef<str>>(self, scopes: &[T], client: Option<IpAddr>, now: Timestamp) -> Verification {
        let entry = match self {
            Self::Malformed => return Verification::new(Code::Malformed, None, Consistency::Edge, now),
            Self::Unknown => None,
            Self::Found { entry, .. } => Some(*entry),
        };
        let code = verdict(entry.as_ref(), now, scopes, client);
        Verification::new(code, entry, Consistency::Edge, now)
    }
}

/// Look `presented` up at the edge: parse and checksum, or else one of the deployment's
/// `legacy` formats (no read for junk), then one read of `v:<sha256>`.
///
/// # Errors
/// [`Error::Internal`] on storage failure only.
pub async fn lookup<K: Kv>(edge: &Edge<K>, presented: &str, legacy: &LegacyFormats) -> Result<Lookup> {
    if parse(presented).is_err() && !legacy.matches(presented) {
        return Ok(Lookup::Malformed);
    }
    let hash = sha256_hex(presented);
    Ok(match edge.verify_entry(&hash).await? {
        Some(entry) => Lookup::Found { hash, entry: Box::new(entry) },
        None => Lookup::Unknown,
    })
}

/// Verify a presented token for `scopes` at the edge ([`lookup`], then the pure verdict). Needs
/// nothing but KV, so the Worker's hot path calls it without building a [`Service`].
///
/// # Errors
/// [`Error::Internal`] on storage failure only; every other outcome is a [`Code`].
pub async fn verify<K: Kv, T: AsRef<str>>(
    edge: &Edge<K>,
    presented: &str,
    legacy: &LegacyFormats,
    scopes: &[T],
    client: Option<IpAddr>,
    now: Timestamp,
) -> Result<Verification> {
    Ok(lookup(edge, presented, legacy).await?.edge_verdict(scopes, client, now))
}

/// Where the edge says `presented` lives (`None`: malformed or unknown to KV). `legacy`: the
/// formats of keys brought from elsewhere that count ([`LegacyFormats::none`] for the admin
/// API, which only keyward's own tokens may call).
///
/// # Errors
/// [`Error::Internal`] on storage failure.
pub async fn locate<K: Kv>(edge: &Edge<K>, presented: &str, legacy: &LegacyFormats) -> Result<Option<Located>> {
    Ok(lookup(edge, presented, legacy).await?.located())
}

impl<S: Store, K: Kv, R: RandomSource> Service<S, K, R> {
    /// [`verify`] over this service's KV (edge consistency).
    ///
    /// # Errors
    /// [`Error::Internal`] on storage failure only.
    pub async fn verify<T: AsRef<str>>(
        &self,
        presented: &str,
        legacy: &LegacyFormats,
        scopes: &[T],
        client: Option<IpAddr>,
        now: Timestamp,
    ) -> Result<Verification> {
        verify(&self.edge, presented, legacy, scopes, client, now).await
    }

    /// [`locate`] over this service's KV.
    ///
    /// # Errors
    /// [`Error::Internal`] on storage failure.
    pub async fn locate(&self, presented: &str, legacy: &LegacyFormats) -> Result<Option<Located>> {
        locate(&self.edge, presented, legacy).await
    }

    /// Verify strictly, from the records: the verdict the edge will give once KV has caught
    /// up with every change made so far. `hash` is the presented secret's, as the edge computed
    /// it ([`Lookup::Found`]), and `at` where the edge found it: the secret itself never reaches
    /// the authority.
    ///
    /// A token with a rate limit or credits is metered here too ([`meter`]): its meter is read,
    /// decided on and written back in one step, so however many verifications arrive at once,
    /// no credit is spent twice and no limit exceeded. `cost` is what a valid one spends.
    ///
    /// # Errors
    /// [`Error::Internal`] on storage failure only.
    pub async fn verify_strict<T: AsRef<str>>(
        &self,
        hash: &str,
        at: &Located,
        scopes: &[T],
        client: Option<IpAddr>,
        cost: u32,
        now: Timestamp,
    ) -> Result<Verification> {
        let Some(t) = self.repo.token(&at.org_id, &at.token_id).await? else {
            return Ok(Verification::new(Code::NotFound, None, Consistency::Strict, now));
        };
        let owner = self.owner_of(&t).await?;
        let suspended = self.repo.org(&t.org_id).await?.is_some_and(|o| o.is_suspended());
        let entry = entries(&t, (owner.as_ref(), suspended), now).into_iter().find(|(h, _)| h == hash).map(|(_, e)| e);
        let code = verdict(entry.as_ref(), now, scopes, client);
        if entry.is_none() || !t.plan().is_metered() {
            return Ok(Verification::new(code, entry, Consistency::Strict, now));
        }
        let plan = t.plan();
        let (window, balance) = (keys::window_of(&t), keys::balance_of(&t));
        // The window's record, and the balance's when it is another (one of them shared).
        let mut writes = Vec::new();
        let m = if plan.kept_apart() {
            let (w, b) = (self.repo.meter(&window).await?, self.repo.meter(&balance).await?);
            let (m, b_after) = meter_apart(&plan, w.clone(), b.clone(), code == Code::Valid, cost, now);
            if b_after != b {
                writes.push((balance, b_after));
            }
            if m.meter != w {
                writes.push((window, m.meter.clone()));
            }
            m
        } else {
            let key = if plan.ratelimit.is_some() { window } else { balance };
            let before = self.repo.meter(&key).await?;
            let m = meter(&plan, before.clone(), code == Code::Valid, cost, now);
            if m.meter != before {
                writes.push((key, m.meter.clone()));
            }
            m
        };
        if !writes.is_empty() {
            self.record_meter(&t, writes, m.tell, now).await?;
        }
        let mut answer = Verification::new(code.metered(m.refused), entry, Consistency::Strict, now);
        answer.ratelimit = m.ratelimit.map(|l| LimitState {
            limit: l.limit,
            remaining: l.remaining,
            reset_at: l.reset_at.to_rfc3339(),
        });
        answer.credits = m.credits.map(|remaining| CreditsLeft { remaining });
        Ok(answer)
    }

    /// Store a metered verification's meter, and tell people (once per window or refill) that
    /// the token hit its limit or ran out of credits: a notification to every admin and the
    /// owner, the webhook event and the emails, in the same commit.
    async fn record_meter(
        &self,
        t: &Token,
        writes: Vec<(String, Meter)>,
        tell: Option<Refusal>,
        now: Timestamp,
    ) -> Result<()> {
        let mut changes = Changes::new();
        for (key, m) in writes {
            changes.put_meter(key, &m)?;
        }
        let told = match (tell, t.ratelimit) {
            (Some(Refusal::RateLimited), Some(l)) => {
                Some((Action::TokenLimited, notice::limited(t, l.limit, l.period_s, now)))
            }
            (Some(Refusal::UsageExceeded), _) => {
                Some((Action::TokenCreditsExhausted, notice::credits_exhausted(t, now)))
            }
            _ => None,
        };
        let Some((kind, (verb, text))) = told else {
            self.repo.commit(&changes).await?;
            return Ok(());
        };
        let org = self.repo.org(&t.org_id).await?.ok_or_else(|| Error::Internal("the org is gone".into()))?;
        let members = self.repo.members(&t.org_id).await?;
        let n = Notice { kind, verb: &verb, token: Some(t), member: None, text: Some(text), urgent: false };
        self.notify(&mut changes, &org, &members, Who::Keyward, &n, now)?;
        self.commit(&changes, now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies() {
        let ask = |token: &str, scopes: &[&str], consistency, client_ip: Option<&str>| VerifyRequest {
            token: token.into(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            consistency,
            client_ip: client_ip.map(|ip| ip.parse().unwrap()),
            cost: 1,
        };
        let edge = Consistency::Edge;
        assert_eq!(verify_body(br#"{"token":"t"}"#).unwrap(), ask("t", &[], edge, None));
        assert_eq!(verify_body(br#"{"token":"t","scopes":null}"#).unwrap(), ask("t", &[], edge, None));
        assert_eq!(verify_body(br#"{"scopes":["a"],"token":"t"}"#).unwrap(), ask("t", &["a"], edge, None));
        assert_eq!(
            verify_body(br#"{"token":"t","consistency":"strict"}"#).unwrap(),
            ask("t", &[], Consistency::Strict, None)
        );
        assert_eq!(
            verify_body(br#"{"token":"t","client_ip":"2001:db8::1"}"#).unwrap(),
            ask("t", &[], edge, Some("2001:db8::1"))
        );
        assert_eq!(verify_body(br#"{"token":"t","client_ip":null}"#).unwrap(), ask("t", &[], edge, None));
        let cost = |body: &[u8]| verify_body(body).map(|r| r.cost);
        assert_eq!(cost(br#"{"token":"t"}"#).unwrap(), 1);
        assert_eq!(cost(br#"{"token":"t","cost":null}"#).unwrap(), 1);
        assert_eq!(cost(br#"{"token":"t","cost":0}"#).unwrap(), 0);
        assert_eq!(cost(br#"{"token":"t","cost":1000}"#).unwrap(), 1000);
        assert_eq!(cost(br#"{"token":"t","cost":3.0}"#).unwrap(), 3, "a whole number as the forms read one");
        assert_eq!(cost(br#"{"token":"t","cost":1e3}"#).unwrap(), 1000);
        for bad in [
            &br#"{"token":"t","cost":1001}"#[..],
            br#"{"token":"t","cost":-1}"#,
            br#"{"token":"t","cost":1.5}"#,
            br#"{"token":"t","cost":"3"}"#,
            br#"{"token":"t","cost":true}"#,
            br#"{"token":"t","cost":1e30}"#,
        ] {
            assert_eq!(cost(bad), Err(BAD_COST), "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(cost_param(None), Ok(1));
        assert_eq!(cost_param(Some("")), Ok(1));
        assert_eq!(cost_param(Some("0")), Ok(0));
        assert_eq!(cost_param(Some("1000")), Ok(1000));
        for bad in ["+5", " 5", "5.0", "-1", "1001", "99999", "x", "0x10"] {
            assert_eq!(cost_param(Some(bad)), Err(BAD_COST), "{bad}");
        }
        for bad in [
            &b"{"[..],
            b"[]",
            b"{}",
            br#"{"token":5}"#,
            br#"{"token":"t","x":1}"#,
            br#"{"token":"t","scopes":"a"}"#,
            br#"{"token":"t","consistency":"eventual"}"#,
            br#"{"token":"t","consistency":1}"#,
            br#"{"token":"t","client_ip":"10.0.0.300"}"#,
            br#"{"token":"t","client_ip":"10.0.0.0/8"}"#,
            br#"{"token":"t","client_ip":7}"#,
        ] {
            assert!(matches!(verify_body(bad), Err(Error::BadRequest(_))), "{}", String::from_utf8_lossy(bad));
        }
    }
}
