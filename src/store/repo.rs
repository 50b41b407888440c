//! Typed access to the authority's records over any [`Store`], and the [`Changes`] that one use
//! case commits at once.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, Write};
use crate::domain::audit::Head;
use crate::domain::meter::Meter;
use crate::domain::projection::{expiration, Projected};
use crate::domain::reminder::Watch;
use crate::domain::sink::AuditSink;
use crate::domain::webhook::{Delivery, Webhook};
use crate::domain::{AuditEvent, Member, Notification, Org, Timestamp, Token};

/// One token's verifications on one UTC day, counted at the edge.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    /// Answered `VALID`.
    pub valid: u64,
    /// Answered with any other code (the token was found, but refused).
    pub refused: u64,
    /// Of `refused`: answered `RATE_LIMITED`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rate_limited: u64,
    /// Of `refused`: answered `USAGE_EXCEEDED`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub usage_exceeded: u64,
}

const fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The key layout of the records (docs/ARCHITECTURE.md, "Storage"), and of the KV projection.
pub mod keys {
    use crate::domain::Timestamp;

    /// `v:<sha256hex>` in KV: the verify entry, the only read on the verify path.
    #[must_use]
    pub fn verify(hash: &str) -> String {
        format!("v:{hash}")
    }
    /// Prefix of every verify entry in KV (of every org).
    pub const VERIFY_ALL: &str = "v:";
    /// The hash a verify entry's KV key is for (`None`: not a verify key).
    #[must_use]
    pub fn verify_hash(kv_key: &str) -> Option<&str> {
        kv_key.strip_prefix(VERIFY_ALL)
    }
    /// `o:<org>`
    #[must_use]
    pub fn org(org: &str) -> String {
        format!("o:{org}")
    }
    /// `o:<org>:m:<member>`
    #[must_use]
    pub fn member(org: &str, member: &str) -> String {
        format!("o:{org}:m:{member}")
    }
    /// Prefix of every member of `org`.
    #[must_use]
    pub fn members(org: &str) -> String {
        format!("o:{org}:m:")
    }
    /// `o:<org>:t:<token>`
    #[must_use]
    pub fn token(org: &str, token: &str) -> String {
        format!("o:{org}:t:{token}")
    }
    /// Prefix of every token of `org`.
    #[must_use]
    pub fn tokens(org: &str) -> String {
        format!("o:{org}:t:")
    }
    /// `o:<org>:u:<token>` in KV: last use, written by the edge.
    #[must_use]
    pub fn last_used(org: &str, token: &str) -> String {
        format!("o:{org}:u:{token}")
    }
    /// Prefix of every last-use key of `org` in KV.
    #[must_use]
    pub fn last_used_all(org: &str) -> String {
        format!("o:{org}:u:")
    }
    /// `o:<org>:a:<rev-seq>`: the audit event of chain position `seq`, newest first in key
    /// order (`domain::audit`).
    #[must_use]
    pub fn audit(org: &str, seq: u64) -> String {
        format!("o:{org}:a:{}", rev_seq(seq))
    }
    /// Prefix of every audit event of `org`.
    #[must_use]
    pub fn audits(org: &str) -> String {
        format!("o:{org}:a:")
    }
    /// `o:<org>:ah`: the head of the org's audit chain (`domain::audit::Head`).
    #[must_use]
    pub fn audit_head(org: &str) -> String {
        format!("o:{org}:ah")
    }
    /// `o:<org>:ac`: the last audit checkpoint sent out (`domain::audit::Head`).
    #[must_use]
    pub fn audit_checkpoint(org: &str) -> String {
        format!("o:{org}:ac")
    }
    /// Twenty digits that sort the highest `seq` first.
    #[must_use]
    pub fn rev_seq(seq: u64) -> String {
        format!("{:020}", u64::MAX - seq)
    }
    /// The `seq` of an audit event key's last part ([`rev_seq`]).
    #[must_use]
    pub fn seq_of(rev: &str) -> Option<u64> {
        (rev.len() == 20).then(|| rev.parse::<u64>().ok()).flatten().map(|r| u64::MAX - r)
    }
    /// `o:<org>:n:<rev-time>:<ntf>`: the outbox, newest first (`seq` as for [`audit`]).
    #[must_use]
    pub fn notification(org: &str, at: Timestamp, seq: u16, ntf: &str) -> String {
        format!("o:{org}:n:{}{:04x}:{ntf}", rev_time(at), u16::MAX - seq)
    }
    /// Prefix of every notification of `org`.
    #[must_use]
    pub fn notifications(org: &str) -> String {
        format!("o:{org}:n:")
    }
    /// `o:<org>:wh`: the org's webhook endpoint and signing secret.
    #[must_use]
    pub fn webhook(org: &str) -> String {
        format!("o:{org}:wh")
    }
    /// `o:<org>:h:<rev-time>:<msg>`: webhook deliveries, newest first (`seq` as for [`audit`]).
    #[must_use]
    pub fn delivery(org: &str, at: Timestamp, seq: u16, msg: &str) -> String {
        format!("o:{org}:h:{}{:04x}:{msg}", rev_time(at), u16::MAX - seq)
    }
    /// Prefix of every webhook delivery of `org`.
    #[must_use]
    pub fn deliveries(org: &str) -> String {
        format!("o:{org}:h:")
    }
    /// `o:<org>:ak`: the org's audit sink (its collector and token).
    #[must_use]
    pub fn audit_sink(org: &str) -> String {
        format!("o:{org}:ak")
    }
    /// `o:<org>:k:<rev-time>:<msg>`: deliveries to the audit sink, newest first (`seq` as for
    /// [`audit`]).
    #[must_use]
    pub fn sink_delivery(org: &str, at: Timestamp, seq: u16, msg: &str) -> String {
        format!("o:{org}:k:{}{:04x}:{msg}", rev_time(at), u16::MAX - seq)
    }
    /// Prefix of every delivery to the audit sink of `org`.
    #[must_use]
    pub fn sink_deliveries(org: &str) -> String {
        format!("o:{org}:k:")
    }
    /// `o:<org>:w:<token>`: what the reminders remember about a token (its last use, the
    /// warnings sent).
    #[must_use]
    pub fn watch(org: &str, token: &str) -> String {
        format!("o:{org}:w:{token}")
    }
    /// Prefix of every watch record of `org`.
    #[must_use]
    pub fn watches(org: &str) -> String {
        format!("o:{org}:w:")
    }
    /// `o:<org>:q:<token>`: a metered token's meter (credits left, the rate limit's window).
    #[must_use]
    pub fn meter(org: &str, token: &str) -> String {
        format!("o:{org}:q:{token}")
    }
    /// Prefix of every meter of `org`.
    #[must_use]
    pub fn meters(org: &str) -> String {
        format!("o:{org}:q:")
    }
    /// `o:<org>:s:<external_id>`: the window or balance the tokens of one `external_id` share.
    #[must_use]
    pub fn shared_meter(org: &str, external_id: &str) -> String {
        format!("o:{org}:s:{external_id}")
    }
    /// Prefix of every shared meter of `org`.
    #[must_use]
    pub fn shared_meters(org: &str) -> String {
        format!("o:{org}:s:")
    }
    /// `o:<org>:l:<sha256hex of its secret>`: a sign-in session.
    #[must_use]
    pub fn session(org: &str, hash: &str) -> String {
        format!("o:{org}:l:{hash}")
    }
    /// Prefix of every sign-in session of `org`.
    #[must_use]
    pub fn sessions(org: &str) -> String {
        format!("o:{org}:l:")
    }
    /// `e:<sha256hex of the lowercased email>:<org>` in KV: an active member of `org` has that
    /// email (the value is the member id). Sign-in finds the orgs of an email with one `list`.
    #[must_use]
    pub fn member_email(email: &str, org: &str) -> String {
        format!("{}{org}", member_emails(email))
    }
    /// Prefix of every org with an active member of `email`, in KV.
    #[must_use]
    pub fn member_emails(email: &str) -> String {
        format!("e:{}:", crate::domain::token::sha256_hex(&email.trim().to_ascii_lowercase()))
    }
    /// The meter `t` keeps its window (`part` = its limit's `shared`) or its balance (its
    /// credits' `shared`) in: the one of its `external_id` when shared, else its own.
    #[must_use]
    pub fn meter_of(t: &crate::domain::Token, shared: bool) -> String {
        match (&t.external_id, shared) {
            (Some(x), true) => shared_meter(&t.org_id, x),
            _ => meter(&t.org_id, &t.id),
        }
    }
    /// Where `t`'s rate-limit window is kept.
    #[must_use]
    pub fn window_of(t: &crate::domain::Token) -> String {
        meter_of(t, t.ratelimit.is_some_and(|l| l.shared))
    }
    /// Where `t`'s credits balance is kept.
    #[must_use]
    pub fn balance_of(t: &crate::domain::Token) -> String {
        meter_of(t, t.credits.is_some_and(|c| c.shared))
    }
    /// `o:<org>:d:<token>:<YYYY-MM-DD>`: one token's verifications on one UTC day.
    #[must_use]
    pub fn usage(org: &str, token: &str, date: &str) -> String {
        format!("o:{org}:d:{token}:{date}")
    }
    /// Prefix of one token's usage days (oldest first).
    #[must_use]
    pub fn usage_days(org: &str, token: &str) -> String {
        format!("o:{org}:d:{token}:")
    }
    /// The prefix every org's own records start with (`o:<org>` itself sorts first).
    pub const ORGS: &str = "o:";
    /// `x:<kv key>`: a KV write the authority still owes (the projection outbox).
    #[must_use]
    pub fn outbox(kv_key: &str) -> String {
        format!("x:{kv_key}")
    }
    /// Prefix of the whole projection outbox.
    pub const OUTBOX: &str = "x:";
    /// `schema`: the storage schema version of the authority's records (`service::schema`).
    pub const SCHEMA: &str = "schema";

    /// Thirteen digits that sort newest first (good until the year 2286).
    #[must_use]
    pub fn rev_time(at: Timestamp) -> String {
        const MAX: i64 = 9_999_999_999_999;
        format!("{:013}", MAX - at.as_millis().clamp(0, MAX))
    }
}

/// API cursors: the last key of a page plus a checksum that binds it to its listing, so a junk
/// or foreign cursor is refused up front.
pub mod cursor {
    use base64::Engine as _;

    use crate::domain::token::checksum;

    const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn check(prefix: &str, raw: &str) -> String {
        checksum(format!("{prefix}\u{0}{raw}").as_bytes())
    }

    /// The public form of the store's `raw` cursor for the listing of `prefix`.
    #[must_use]
    pub fn encode(prefix: &str, raw: &str) -> String {
        format!("{}.{}", B64.encode(raw), check(prefix, raw))
    }

    /// The store's cursor inside `public`, if it was issued for the listing of `prefix`.
    #[must_use]
    pub fn decode(prefix: &str, public: &str) -> Option<String> {
        let (b64, sum) = public.rsplit_once('.')?;
        let raw = String::from_utf8(B64.decode(b64).ok()?).ok()?;
        (check(prefix, &raw) == sum).then_some(raw)
    }

    /// The store's cursor inside `public` if it is one of the listing of `prefix`: issued for it,
    /// and inside it.
    #[must_use]
    pub fn within(prefix: &str, public: &str) -> Option<String> {
        decode(prefix, public).filter(|raw| raw.starts_with(prefix))
    }

    /// Whether `public` is a cursor of `GET /v1/tokens` for `org` (checked before any read, so a
    /// bad one is reported with the other parameters).
    #[must_use]
    pub fn is_tokens(org: &str, public: &str) -> bool {
        within(&super::keys::tokens(org), public).is_some()
    }

    /// Whether `public` is a cursor of `GET /v1/audit` for `org`.
    #[must_use]
    pub fn is_audit(org: &str, public: &str) -> bool {
        within(&super::keys::audits(org), public).is_some()
    }
}

/// One KV write the authority owes: `x:<key>` in the records, committed with the change that
/// calls for it and removed once KV has accepted it. Only the latest state of a key is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxRow {
    /// The KV key (`v:<hash>` or `o:<org>:u:<token>`).
    pub key: String,
    /// The value to write; `None` deletes the key.
    pub value: Option<String>,
    /// When KV may drop the key by itself (Unix seconds); the write clamps it to KV's minimum
    /// ahead as of when it is made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<i64>,
    /// The org the key belongs to (KV metadata, so reconciliation can list an org's keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
}

fn encode<T: Serialize>(what: &str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError(format!("cannot encode {what}: {e}")))
}

/// The writes of one use case, committed at once by [`Repo::commit`]: records, audit events,
/// notifications and the KV writes they call for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    writes: Vec<Write>,
    events: Vec<Event>,
    wake: Option<Timestamp>,
    /// Audit events not chained yet.
    pending: Vec<(String, AuditEvent)>,
    /// Audit events chained, in `writes` already.
    audited: Vec<(String, AuditEvent)>,
}

/// Something that happened, for the org's webhook (one per change, not one per recipient).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The org it happened in.
    pub org: String,
    /// The event kind (a notification's `kind`).
    pub kind: String,
    /// The payload's `data`.
    pub data: serde_json::Value,
}

impl Changes {
    /// No writes yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether there is nothing to commit.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty() && self.pending.is_empty()
    }

    /// Tell the org's webhook about `e` (turned into a delivery when the changes commit).
    pub fn event(&mut self, e: Event) {
        self.events.push(e);
    }

    /// The webhook events of these changes.
    #[must_use]
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Ask the authority to wake at `at` at the latest (a reminder or a delivery due then).
    pub fn wake(&mut self, at: Timestamp) {
        self.wake = Some(self.wake.map_or(at, |w| w.min(at)));
    }

    /// The earliest wake asked for.
    #[must_use]
    pub const fn wake_at(&self) -> Option<Timestamp> {
        self.wake
    }

    /// Write the org's webhook.
    ///
    /// # Errors
    /// [`StoreError`] if the record cannot be encoded.
    pub fn put_webhook(&mut self, org: &str, w: &Webhook) -> Result<(), StoreError> {
        self.put(keys::webhook(org), w)
    }

    /// Write `value` at `key` as it is: a restored export's records, already checked
    /// (`service::exports`).
    pub fn put_raw(&mut self, key: String, value: String) {
        self.writes.push(Write::Put(key, value));
    }

    /// Remove the org's webhook.
    pub fn delete_webhook(&mut self, org: &str) {
        self.writes.push(Write::Delete(keys::webhook(org)));
    }

    /// Write the org's audit sink.
    ///
    /// # Errors
    /// [`StoreError`] if the record cannot be encoded.
    pub fn put_audit_sink(&mut self, org: &str, s: &AuditSink) -> Result<(), StoreError> {
        self.put(keys::audit_sink(org), s)
    }

    /// Remove the org's audit sink.
    pub fn delete_audit_sink(&mut self, org: &str) {
        self.writes.push(Write::Delete(keys::audit_sink(org)));
    }

    /// Write a delivery (`seq` orders deliveries of one millisecond; keep it for rewrites).
    ///
    /// # Errors
    /// [`StoreError`] if the record cannot be encoded.
    pub fn put_delivery(&mut self, key: String, d: &Delivery) -> Result<(), StoreError> {
        self.put(key, d)
    }

    /// Remove a record by its key (old deliveries, old usage days).
    pub fn delete(&mut self, key: String) {
        self.writes.push(Write::Delete(key));
    }

    /// Write a token's watch record.
    ///
    /// # Errors
    /// [`StoreError`] if the record cannot be encoded.
    pub fn put_watch(&mut self, org: &str, token: &str, w: &Watch) -> Result<(), StoreError> {
        self.put(keys::watch(org, token), w)
    }

    /// Write a meter at `key` ([`keys::window_of`], [`keys::balance_of`]).
    ///
    /// # Errors
    /// [`StoreError`] if the record cannot be encoded.
    pub fn put_meter(&mut self, key: String, m: &Meter) -> Result<(), StoreError> {
        self.put(key, m)
    }

    /// Write one token's counts for one day.
    ///
    /// # Errors
    /// [`StoreError`] if the record cannot be encoded.
    pub fn put_usage(&mut self, org: &str, token: &str, date: &str, d: &DayCount) -> Result<(), StoreError> {
        self.put(keys::usage(org, token, date), d)
    }

    /// The writes, in order.
    #[must_use]
    pub fn writes(&self) -> &[Write] {
        &self.writes
    }

    /// The value these changes write at `key`, if they do.
    fn written(&self, key: &str) -> Option<&str> {
        self.writes.iter().rev().find_map(|w| match w {
            Write::Put(k, v) if k == key => Some(v.as_str()),
            _ => None,
        })
    }

    /// Write any record as JSON at `key` (records outside an org's layout: the operator's registry).
    ///
    /// # Errors
    /// [`StoreError`] if it cannot be encoded.
    pub fn put<T: Serialize>(&mut self, key: String, value: &T) -> Result<(), StoreError> {
        let v = encode("record", value)?;
        self.writes.push(Write::Put(key, v));
        Ok(())
    }

    /// Write the org.
    ///
    /// # Errors
    /// [`StoreError`] if the record cannot be encoded.
    pub fn put_org(&mut self, org: &Org) -> Result<(), StoreError> {
        self.put(keys::org(&org.id), org)
    }

    /// Write a member.
    ///
    /// # Errors
    /// [`StoreError`] if the record cannot be encoded.
    pub fn put_member(&mut self, m: &Member) -> Result<(), StoreError> {
        // The sign-in index follows the member through the outbox: present while active.
        self.index_member(m, m.is_active());
        self.put(keys::member(&m.org_id, &m.id), m)
    }

    /// Owe KV the sign-in index entry of `m` ([`keys::member_email`]): written when `present`,
    /// else deleted (a member leaving with their org).
    pub fn index_member(&mut self, m: &Member, present: bool) {
        let key = keys::member_email(&m.email, &m.org_id);
        let value = present.then(|| m.id.clone());
        self.outbox(&OutboxRow { key, value, expiration: None, org: Some(m.org_id.clone()) });
    }

    /// Write a sign-in session under the hash of its secret.
    ///
    /// # Errors
    /// [`StoreError`] if the record cannot be encoded.
    pub fn put_session(&mut self, org: &str, hash: &str, s: &crate::domain::access::Session) -> Result<(), StoreError> {
        self.put(keys::session(org, hash), s)
    }

    /// Write a token.
    ///
    /// # Errors
    /// [`StoreError`] if the record cannot be encoded.
    pub fn put_token(&mut self, t: &Token) -> Result<(), StoreError> {
        self.put(keys::token(&t.org_id, &t.id), t)
    }

    /// Remove a token record, its watch record and its meter, and (through the outbox) its
    /// last-use key in KV. (Its usage days are dropped by [`Repo::usage`]'s caller.)
    pub fn delete_token(&mut self, org: &str, id: &str) {
        self.writes.push(Write::Delete(keys::token(org, id)));
        self.writes.push(Write::Delete(keys::watch(org, id)));
        self.writes.push(Write::Delete(keys::meter(org, id)));
        let row = OutboxRow { key: keys::last_used(org, id), value: None, expiration: None, org: None };
        self.outbox(&row);
    }

    /// Append an audit event to the org's chain: it gets its `seq` and `hash` when the changes
    /// are chained ([`Repo::chain`], at the latest in [`Repo::commit`]).
    pub fn audit(&mut self, org: &str, e: AuditEvent) {
        self.pending.push((org.to_owned(), e));
    }

    /// The audit events of these changes, once chained (with `seq` and `hash`), with their org.
    pub fn audited(&self) -> impl Iterator<Item = (&str, &AuditEvent)> {
        self.audited.iter().map(|(o, e)| (o.as_str(), e))
    }

    /// Queue a notification.
    ///
    /// # Errors
    /// [`StoreError`] if it cannot be encoded.
    pub fn notify(&mut self, org: &str, n: &Notification, seq: u16) -> Result<(), StoreError> {
        self.put(keys::notification(org, n.created_at, seq, &n.id), n)
    }

    /// Owe KV the verify-projection changes `p`.
    ///
    /// # Errors
    /// [`StoreError`] if an entry cannot be encoded.
    pub fn project(&mut self, p: &[Projected]) -> Result<(), StoreError> {
        for one in p {
            let row = match &one.entry {
                Some(e) => OutboxRow {
                    key: keys::verify(&one.hash),
                    value: Some(encode("verify entry", e)?),
                    expiration: expiration(e),
                    org: Some(e.org_id.clone()),
                },
                None => OutboxRow { key: keys::verify(&one.hash), value: None, expiration: None, org: None },
            };
            self.outbox(&row);
        }
        Ok(())
    }

    fn outbox(&mut self, row: &OutboxRow) {
        let key = keys::outbox(&row.key);
        self.writes.retain(|w| !matches!(w, Write::Put(k, _) if *k == key));
        // An outbox row is plain strings and numbers: encoding cannot fail.
        if let Ok(v) = serde_json::to_string(row) {
            self.writes.push(Write::Put(key, v));
        }
    }
}

/// One page of records and where the next starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The records.
    pub items: Vec<T>,
    /// Opaque public cursor (see [`cursor`]); `None` on the last page.
    pub cursor: Option<String>,
}

/// A cursor that this listing did not issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadCursor;

/// Records read in one `list` call when reading a whole prefix.
const CHUNK: u32 = 1000;

/// Typed records over a [`Store`].
#[derive(Debug)]
pub struct Repo<S> {
    store: S,
}

fn corrupt(what: &str, e: &serde_json::Error) -> StoreError {
    StoreError(format!("unreadable {what} record: {e}"))
}

fn decode<T: DeserializeOwned>(what: &str, s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| corrupt(what, &e))
}

impl<S: Store> Repo<S> {
    /// Typed access over `store`.
    pub const fn new(store: S) -> Self {
        Self { store }
    }

    /// The underlying store.
    pub const fn store(&self) -> &S {
        &self.store
    }

    /// Commit `changes` at once.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails; then nothing was written.
    pub async fn commit(&self, changes: &Changes) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        if changes.pending.is_empty() {
            return self.store.commit(changes.writes(), changes.wake_at()).await;
        }
        let mut chained = changes.clone();
        self.chain(&mut chained).await?;
        self.store.commit(chained.writes(), chained.wake_at()).await
    }

    /// Give the pending audit events of `changes` their place in their org's chain: read the
    /// head (or take the one `changes` already writes: an import), append each event in order,
    /// and add the events and the new head to the writes. The caller commits them with nothing
    /// but storage in between, so the authority runs no other change meanwhile
    /// (docs/ARCHITECTURE.md, "Storage").
    ///
    /// # Errors
    /// [`StoreError`] on backend failure, an unreadable head or an event that cannot be encoded.
    pub async fn chain(&self, changes: &mut Changes) -> Result<(), StoreError> {
        let pending = core::mem::take(&mut changes.pending);
        let mut heads: Vec<(String, Head)> = Vec::new();
        for (org, mut e) in pending {
            let at = match heads.iter().position(|(o, _)| *o == org) {
                Some(i) => i,
                None => {
                    let head = match changes.written(&keys::audit_head(&org)) {
                        Some(v) => decode("audit head", v)?,
                        None => self.audit_head(&org).await?,
                    };
                    heads.push((org.clone(), head));
                    heads.len() - 1
                }
            };
            let Some((_, head)) = heads.get_mut(at) else { continue };
            crate::domain::audit::append(head, &mut e).map_err(|err| StoreError(err.to_string()))?;
            changes.put(keys::audit(&org, head.seq), &e)?;
            changes.audited.push((org, e));
        }
        for (org, head) in &heads {
            let key = keys::audit_head(org);
            changes.writes.retain(|w| !matches!(w, Write::Put(k, _) if *k == key));
            changes.put(key, head)?;
        }
        Ok(())
    }

    async fn get_json<T: DeserializeOwned>(&self, what: &str, key: &str) -> Result<Option<T>, StoreError> {
        match self.store.get(key).await? {
            None => Ok(None),
            Some(s) => decode(what, &s).map(Some),
        }
    }

    /// One page of the records under `prefix` (`what` they are, for errors), by public cursor:
    /// `Ok(Err(BadCursor))` for a cursor this listing did not issue.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn page<T: DeserializeOwned>(
        &self,
        what: &str,
        prefix: &str,
        limit: u32,
        public: Option<&str>,
    ) -> Result<Result<Page<T>, BadCursor>, StoreError> {
        let after = match public {
            None => None,
            Some(c) => match cursor::within(prefix, c) {
                Some(raw) => Some(raw),
                None => return Ok(Err(BadCursor)),
            },
        };
        let mut rows = self.store.list(prefix, after.as_deref(), limit.saturating_add(1)).await?;
        let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let next = if more { rows.last().map(|(k, _)| cursor::encode(prefix, k)) } else { None };
        let items = rows.iter().map(|(_, v)| decode(what, v)).collect::<Result<Vec<T>, _>>()?;
        Ok(Ok(Page { items, cursor: next }))
    }

    async fn all<T: DeserializeOwned>(&self, what: &str, prefix: &str) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let rows = self.store.list(prefix, after.as_deref(), CHUNK).await?;
            let full = rows.len() >= usize::try_from(CHUNK).unwrap_or(usize::MAX);
            after = rows.last().map(|(k, _)| k.clone());
            for (_, v) in &rows {
                out.push(decode(what, v)?);
            }
            if !full {
                return Ok(out);
            }
        }
    }

    /// The org.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn org(&self, id: &str) -> Result<Option<Org>, StoreError> {
        self.get_json("org", &keys::org(id)).await
    }

    /// One member.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn member(&self, org: &str, id: &str) -> Result<Option<Member>, StoreError> {
        self.get_json("member", &keys::member(org, id)).await
    }

    /// A sign-in session, by the hash of its secret.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn session(&self, org: &str, hash: &str) -> Result<Option<crate::domain::access::Session>, StoreError> {
        self.get_json("session", &keys::session(org, hash)).await
    }

    /// Up to `limit` sign-in sessions of the org, with their keys.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn sessions(
        &self,
        org: &str,
        limit: u32,
    ) -> Result<Vec<(String, crate::domain::access::Session)>, StoreError> {
        let rows = self.store.list(&keys::sessions(org), None, limit).await?;
        rows.iter().map(|(k, v)| Ok((k.clone(), decode("session", v)?))).collect()
    }

    /// Every member of the org.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure.
    pub async fn members(&self, org: &str) -> Result<Vec<Member>, StoreError> {
        self.all("member", &keys::members(org)).await
    }

    /// One token record.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn token(&self, org: &str, id: &str) -> Result<Option<Token>, StoreError> {
        self.get_json("token", &keys::token(org, id)).await
    }

    /// One page of token records, in id order.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure; `Ok(Err(BadCursor))` for a cursor not from this listing.
    pub async fn token_page(
        &self,
        org: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Result<Page<Token>, BadCursor>, StoreError> {
        self.page("token", &keys::tokens(org), limit, cursor).await
    }

    /// Every token record of the org.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure.
    pub async fn tokens(&self, org: &str) -> Result<Vec<Token>, StoreError> {
        self.all("token", &keys::tokens(org)).await
    }

    /// One page of audit events, newest first.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure; `Ok(Err(BadCursor))` for a cursor not from this listing.
    pub async fn audit_page(
        &self,
        org: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Result<Page<AuditEvent>, BadCursor>, StoreError> {
        self.page("audit", &keys::audits(org), limit, cursor).await
    }

    /// The head of the org's audit chain (`seq` 0 before any event).
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn audit_head(&self, org: &str) -> Result<Head, StoreError> {
        Ok(self.get_json("audit head", &keys::audit_head(org)).await?.unwrap_or_default())
    }

    /// The last audit checkpoint sent out, if any.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn audit_checkpoint(&self, org: &str) -> Result<Option<Head>, StoreError> {
        self.get_json("audit checkpoint", &keys::audit_checkpoint(org)).await
    }

    /// The audit events after `after_seq`, oldest first, at most `limit` of them; `head` is the
    /// chain's head `seq` (events are numbered without gaps, so the keys to read are known).
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn audit_after(
        &self,
        org: &str,
        after_seq: u64,
        head: u64,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let count = head.saturating_sub(after_seq).min(u64::from(limit));
        if count == 0 {
            return Ok(Vec::new());
        }
        // Keys sort the highest seq first: list from just above `after_seq + count`.
        let last = after_seq.saturating_add(count);
        let from = keys::audit(org, last.saturating_add(1));
        let n = u32::try_from(count).unwrap_or(limit);
        let rows = self.store.list(&keys::audits(org), Some(&from), n).await?;
        let mut out = rows.iter().map(|(_, v)| decode("audit", v)).collect::<Result<Vec<AuditEvent>, _>>()?;
        out.retain(|e: &AuditEvent| e.seq.is_some_and(|s| s > after_seq && s <= last));
        out.reverse();
        Ok(out)
    }

    /// The newest `limit` notifications.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure.
    pub async fn notifications(&self, org: &str, limit: u32) -> Result<Vec<Notification>, StoreError> {
        let rows = self.store.list(&keys::notifications(org), None, limit).await?;
        rows.iter().map(|(_, v)| decode("notification", v)).collect()
    }

    /// The newest `limit` notifications, each with its key (for rewriting its email state).
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn notification_rows(&self, org: &str, limit: u32) -> Result<Vec<(String, Notification)>, StoreError> {
        let rows = self.store.list(&keys::notifications(org), None, limit).await?;
        rows.into_iter().map(|(k, v)| decode("notification", &v).map(|n| (k, n))).collect()
    }

    /// Write a notification back under its key (its email state changed).
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or if it cannot be encoded.
    pub async fn rewrite_notification(&self, key: &str, n: &Notification) -> Result<(), StoreError> {
        self.store.commit(&[Write::Put(key.to_owned(), encode("notification", n)?)], None).await
    }

    /// The org these records belong to (an org authority holds exactly one).
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn only_org(&self) -> Result<Option<Org>, StoreError> {
        let rows = self.store.list(keys::ORGS, None, 1).await?;
        rows.first().map(|(_, v)| decode("org", v)).transpose()
    }

    /// The org's webhook, if it has one.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn webhook(&self, org: &str) -> Result<Option<Webhook>, StoreError> {
        self.get_json("webhook", &keys::webhook(org)).await
    }

    /// The newest `limit` deliveries, each with its key (for rewriting it).
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn deliveries(&self, org: &str, limit: u32) -> Result<Vec<(String, Delivery)>, StoreError> {
        let rows = self.store.list(&keys::deliveries(org), None, limit).await?;
        rows.into_iter().map(|(k, v)| decode("delivery", &v).map(|d| (k, d))).collect()
    }

    /// The org's audit sink, if it has one.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn audit_sink(&self, org: &str) -> Result<Option<AuditSink>, StoreError> {
        self.get_json("audit sink", &keys::audit_sink(org)).await
    }

    /// The newest `limit` deliveries to the audit sink, each with its key (for rewriting it).
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn sink_deliveries(&self, org: &str, limit: u32) -> Result<Vec<(String, Delivery)>, StoreError> {
        let rows = self.store.list(&keys::sink_deliveries(org), None, limit).await?;
        rows.into_iter().map(|(k, v)| decode("delivery", &v).map(|d| (k, d))).collect()
    }

    /// A token's watch record (default: nothing remembered).
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn watch(&self, org: &str, token: &str) -> Result<Watch, StoreError> {
        Ok(self.get_json("watch", &keys::watch(org, token)).await?.unwrap_or_default())
    }

    /// The meter at `key` ([`keys::window_of`], [`keys::balance_of`]; default: empty).
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn meter(&self, key: &str) -> Result<Meter, StoreError> {
        Ok(self.get_json("meter", key).await?.unwrap_or_default())
    }

    /// Every shared meter of the org, by `external_id`.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn shared_meters(&self, org: &str) -> Result<std::collections::BTreeMap<String, Meter>, StoreError> {
        self.by_token(&keys::shared_meters(org), "meter").await
    }

    /// Every meter of the org, by token id.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn meters(&self, org: &str) -> Result<std::collections::BTreeMap<String, Meter>, StoreError> {
        self.by_token(&keys::meters(org), "meter").await
    }

    /// Every watch record of the org, by token id.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn watches(&self, org: &str) -> Result<std::collections::BTreeMap<String, Watch>, StoreError> {
        self.by_token(&keys::watches(org), "watch").await
    }

    /// Every record under `prefix` (one per token), by token id.
    async fn by_token<T: DeserializeOwned>(
        &self,
        prefix: &str,
        what: &str,
    ) -> Result<std::collections::BTreeMap<String, T>, StoreError> {
        let mut out = std::collections::BTreeMap::new();
        let mut after: Option<String> = None;
        loop {
            let rows = self.store.list(prefix, after.as_deref(), CHUNK).await?;
            let full = rows.len() >= usize::try_from(CHUNK).unwrap_or(usize::MAX);
            after = rows.last().map(|(k, _)| k.clone());
            for (k, v) in &rows {
                out.insert(k[prefix.len()..].to_owned(), decode(what, v)?);
            }
            if !full {
                return Ok(out);
            }
        }
    }

    /// One token's usage days that have counts, oldest first, with their keys.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn usage(&self, org: &str, token: &str) -> Result<Vec<(String, String, DayCount)>, StoreError> {
        let prefix = keys::usage_days(org, token);
        let rows = self.store.list(&prefix, None, CHUNK).await?;
        rows.into_iter().map(|(k, v)| decode("usage", &v).map(|d| (k[prefix.len()..].to_owned(), k, d))).collect()
    }

    /// Up to `limit` KV writes still owed, each with its stored form (for [`Repo::settle`]).
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable row.
    pub async fn outbox(&self, limit: u32) -> Result<Vec<(String, OutboxRow)>, StoreError> {
        let rows = self.store.list(keys::OUTBOX, None, limit).await?;
        rows.into_iter().map(|(_, v)| decode("outbox", &v).map(|row| (v, row))).collect()
    }

    /// Whether any KV write is still owed.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure.
    pub async fn outbox_is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.store.list(keys::OUTBOX, None, 1).await?.is_empty())
    }

    /// KV accepted the write stored as `written`: drop its row, unless a later change has
    /// replaced it meanwhile (then the newer state is still owed).
    ///
    /// # Errors
    /// [`StoreError`] on backend failure.
    pub async fn settle(&self, kv_key: &str, written: &str) -> Result<(), StoreError> {
        let key = keys::outbox(kv_key);
        if self.store.get(&key).await?.as_deref() == Some(written) {
            self.store.commit(&[Write::Delete(key)], None).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Timestamp;

    #[test]
    fn higher_seq_sorts_first() {
        let a = keys::audit("o", 1);
        let b = keys::audit("o", 2);
        assert!(b < a);
        assert!(keys::audit("o", 10) < keys::audit("o", 9));
        assert_eq!(keys::seq_of(&keys::rev_seq(42)), Some(42));
        assert_eq!(keys::seq_of(&keys::rev_seq(0)), Some(0));
        assert_eq!(keys::seq_of("123"), None);
        assert_eq!(keys::rev_time(Timestamp::from_millis(0)), "9999999999999");
        assert_eq!(keys::rev_time(Timestamp::from_millis(1_795_000_000_000)).len(), 13);
    }
}
