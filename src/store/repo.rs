//! Typed access to DESIGN.md's KV layout over any [`Store`].

use std::collections::HashMap;

use futures_util::future::try_join_all;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::{ListPage, PutOptions, Store, StoreError, METADATA_MAX_BYTES, MIN_EXPIRATION_AHEAD_SECONDS};
use crate::domain::{AuditEvent, Member, Notification, Org, Timestamp, Token, VerifyEntry};

/// The key layout (DESIGN.md, "KV layout").
pub mod keys {
    use crate::domain::Timestamp;

    /// `v:<sha256hex>`: the verify entry, the only read on the verify path.
    #[must_use]
    pub fn verify(hash: &str) -> String {
        format!("v:{hash}")
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
    /// `o:<org>:u:<token>`: last use, its own key so the hot path never rewrites the record.
    #[must_use]
    pub fn last_used(org: &str, token: &str) -> String {
        format!("o:{org}:u:{token}")
    }
    /// Prefix of every last-use key of `org`.
    #[must_use]
    pub fn last_used_all(org: &str) -> String {
        format!("o:{org}:u:")
    }
    /// `o:<org>:a:<rev-time>:<evt>`: newest first in key order. `seq` orders events written in
    /// the same millisecond by one writer (a later `seq` sorts first).
    #[must_use]
    pub fn audit(org: &str, at: Timestamp, seq: u16, evt: &str) -> String {
        format!("o:{org}:a:{}{:04x}:{evt}", rev_time(at), u16::MAX - seq)
    }
    /// Prefix of every audit event of `org`.
    #[must_use]
    pub fn audits(org: &str) -> String {
        format!("o:{org}:a:")
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

    /// Thirteen digits that sort newest first (good until the year 2286).
    #[must_use]
    pub fn rev_time(at: Timestamp) -> String {
        const MAX: i64 = 9_999_999_999_999;
        format!("{:013}", MAX - at.as_millis().clamp(0, MAX))
    }
}

/// API cursors: the store's cursor plus a checksum that binds it to its listing, so a junk or
/// foreign cursor is refused up front (KV itself answers an empty page for a junk cursor).
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
}

/// How long a verify entry outlives its token's expiry, so callers are told `EXPIRED` for a
/// while instead of `NOT_FOUND`; after that KV drops the entry by itself.
pub const EXPIRED_ENTRY_RETENTION_DAYS: i64 = 1;

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

/// Typed records over a [`Store`].
#[derive(Debug)]
pub struct Repo<S> {
    store: S,
}

fn corrupt(key: &str, e: &serde_json::Error) -> StoreError {
    StoreError(format!("unreadable record at {key}: {e}"))
}

fn encode<T: Serialize>(key: &str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError(format!("cannot encode {key}: {e}")))
}

/// `value` as metadata when it fits KV's limit.
fn fitting(value: Value) -> Option<Value> {
    let size = serde_json::to_string(&value).map_or(usize::MAX, |s| s.len());
    (size <= METADATA_MAX_BYTES).then_some(value)
}

/// The list row of a token: the record without its hashes, when it has no logo and fits.
fn token_row(t: &Token) -> Option<Value> {
    if t.logo.is_some() {
        return None;
    }
    let row = Token { hash: String::new(), previous_hash: None, ..t.clone() };
    serde_json::to_value(row).ok().and_then(fitting)
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

    async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        match self.store.get(key).await? {
            None => Ok(None),
            Some(s) => serde_json::from_str(&s).map(Some).map_err(|e| corrupt(key, &e)),
        }
    }

    async fn put_json<T: Serialize>(&self, key: &str, value: &T, options: PutOptions) -> Result<(), StoreError> {
        self.store.put(key, &encode(key, value)?, options).await
    }

    /// Every record of one listing page: from metadata where it is there, else one read each
    /// (concurrently). Keys that vanished between list and read are skipped.
    async fn records<T: DeserializeOwned>(&self, page: ListPage) -> Result<Vec<T>, StoreError> {
        let reads = page.keys.into_iter().map(|k| async move {
            if let Some(v) = k.metadata.and_then(|m| serde_json::from_value::<T>(m).ok()) {
                return Ok(Some(v));
            }
            self.get_json::<T>(&k.name).await
        });
        Ok(try_join_all(reads).await?.into_iter().flatten().collect())
    }

    async fn raw_page<T: DeserializeOwned>(
        &self,
        prefix: &str,
        limit: u32,
        raw: Option<&str>,
    ) -> Result<(Vec<T>, Option<String>), StoreError> {
        let listed = self.store.list(prefix, limit, raw).await?;
        let next = listed.cursor.clone();
        Ok((self.records(listed).await?, next))
    }

    /// One page by public cursor: `Ok(Err(BadCursor))` for a cursor this listing did not issue.
    async fn page<T: DeserializeOwned>(
        &self,
        prefix: &str,
        limit: u32,
        public: Option<&str>,
    ) -> Result<Result<Page<T>, BadCursor>, StoreError> {
        let raw = match public {
            None => None,
            Some(c) => match cursor::decode(prefix, c) {
                Some(raw) => Some(raw),
                None => return Ok(Err(BadCursor)),
            },
        };
        let (items, next) = self.raw_page(prefix, limit, raw.as_deref()).await?;
        Ok(Ok(Page { items, cursor: next.map(|n| cursor::encode(prefix, &n)) }))
    }

    async fn all<T: DeserializeOwned>(&self, prefix: &str) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let (items, next) = self.raw_page::<T>(prefix, super::LIST_MAX, cursor.as_deref()).await?;
            out.extend(items);
            match next {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// The org.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn org(&self, id: &str) -> Result<Option<Org>, StoreError> {
        self.get_json(&keys::org(id)).await
    }

    /// Write the org.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure.
    pub async fn put_org(&self, org: &Org) -> Result<(), StoreError> {
        self.put_json(&keys::org(&org.id), org, PutOptions::default()).await
    }

    /// One member.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn member(&self, org: &str, id: &str) -> Result<Option<Member>, StoreError> {
        self.get_json(&keys::member(org, id)).await
    }

    /// Write a member (its list metadata is the whole, small, record).
    ///
    /// # Errors
    /// [`StoreError`] on backend failure.
    pub async fn put_member(&self, m: &Member) -> Result<(), StoreError> {
        let metadata = serde_json::to_value(m).ok().and_then(fitting);
        self.put_json(&keys::member(&m.org_id, &m.id), m, PutOptions { metadata, expiration: None }).await
    }

    /// Every member of the org (one `list` call per thousand).
    ///
    /// # Errors
    /// [`StoreError`] on backend failure.
    pub async fn members(&self, org: &str) -> Result<Vec<Member>, StoreError> {
        self.all(&keys::members(org)).await
    }

    /// One token record.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn token(&self, org: &str, id: &str) -> Result<Option<Token>, StoreError> {
        self.get_json(&keys::token(org, id)).await
    }

    /// Write a token record with its list row as metadata.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure.
    pub async fn put_token(&self, t: &Token) -> Result<(), StoreError> {
        let options = PutOptions { metadata: token_row(t), expiration: None };
        self.put_json(&keys::token(&t.org_id, &t.id), t, options).await
    }

    /// Remove a token record.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure.
    pub async fn delete_token(&self, org: &str, id: &str) -> Result<(), StoreError> {
        self.store.delete(&keys::token(org, id)).await
    }

    /// One page of token rows **for display**: records rebuilt from list metadata have empty
    /// hashes and must never be written back.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure; `Ok(Err(BadCursor))` for a cursor not from this listing.
    pub async fn token_rows(
        &self,
        org: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Result<Page<Token>, BadCursor>, StoreError> {
        self.page(&keys::tokens(org), limit, cursor).await
    }

    /// Every token row of the org, **for display and counting** (see [`Repo::token_rows`]).
    ///
    /// # Errors
    /// [`StoreError`] on backend failure.
    pub async fn all_token_rows(&self, org: &str) -> Result<Vec<Token>, StoreError> {
        self.all(&keys::tokens(org)).await
    }

    /// The verify entry of a secret's hash.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn verify_entry(&self, hash: &str) -> Result<Option<VerifyEntry>, StoreError> {
        self.get_json(&keys::verify(hash)).await
    }

    /// Write a verify entry; KV expires it by itself a day after the token expires, or when a
    /// rotated-out secret's grace ends.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure.
    pub async fn put_verify_entry(&self, hash: &str, e: &VerifyEntry, now: Timestamp) -> Result<(), StoreError> {
        let ends = [e.expires_at.map(|x| x.plus_days(EXPIRED_ENTRY_RETENTION_DAYS)), e.grace_until];
        let expiration = ends
            .into_iter()
            .flatten()
            .min()
            .map(|end| end.as_seconds().max(now.as_seconds() + MIN_EXPIRATION_AHEAD_SECONDS));
        self.put_json(&keys::verify(hash), e, PutOptions { metadata: None, expiration }).await
    }

    /// Remove a verify entry.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure.
    pub async fn delete_verify_entry(&self, hash: &str) -> Result<(), StoreError> {
        self.store.delete(&keys::verify(hash)).await
    }

    /// When the token was last used.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable record.
    pub async fn last_used(&self, org: &str, token: &str) -> Result<Option<Timestamp>, StoreError> {
        self.get_json(&keys::last_used(org, token)).await
    }

    /// Last use of every token of the org, by token id (one `list` call per thousand).
    ///
    /// # Errors
    /// [`StoreError`] on backend failure.
    pub async fn last_used_by_token(&self, org: &str) -> Result<HashMap<String, Timestamp>, StoreError> {
        let prefix = keys::last_used_all(org);
        let mut out = HashMap::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self.store.list(&prefix, super::LIST_MAX, cursor.as_deref()).await?;
            for k in page.keys {
                let at = k.metadata.and_then(|m| serde_json::from_value::<Timestamp>(m).ok());
                if let (Some(id), Some(at)) = (k.name.strip_prefix(&prefix), at) {
                    out.insert(id.to_owned(), at);
                }
            }
            match page.cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// Record a use (value and metadata both hold the instant, so listings need no reads).
    ///
    /// # Errors
    /// [`StoreError`] on backend failure.
    pub async fn put_last_used(&self, org: &str, token: &str, at: Timestamp) -> Result<(), StoreError> {
        let options = PutOptions { metadata: serde_json::to_value(at).ok(), expiration: None };
        self.put_json(&keys::last_used(org, token), &at, options).await
    }

    /// Forget a token's last use.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure.
    pub async fn delete_last_used(&self, org: &str, token: &str) -> Result<(), StoreError> {
        self.store.delete(&keys::last_used(org, token)).await
    }

    /// Append an audit event.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure.
    pub async fn put_audit(&self, org: &str, e: &AuditEvent, seq: u16) -> Result<(), StoreError> {
        let metadata = serde_json::to_value(e).ok().and_then(fitting);
        self.put_json(&keys::audit(org, e.at, seq, &e.id), e, PutOptions { metadata, expiration: None }).await
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
        self.page(&keys::audits(org), limit, cursor).await
    }

    /// Queue a notification.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure.
    pub async fn put_notification(&self, org: &str, n: &Notification, seq: u16) -> Result<(), StoreError> {
        let metadata = serde_json::to_value(n).ok().and_then(fitting);
        let key = keys::notification(org, n.created_at, seq, &n.id);
        self.put_json(&key, n, PutOptions { metadata, expiration: None }).await
    }

    /// The newest `limit` notifications.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure.
    pub async fn notifications(&self, org: &str, limit: u32) -> Result<Vec<Notification>, StoreError> {
        Ok(self.raw_page(&keys::notifications(org), limit, None).await?.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_sorts_first() {
        let a = keys::audit("o", Timestamp::from_millis(1_000), 0, "evt_a");
        let b = keys::audit("o", Timestamp::from_millis(2_000), 0, "evt_b");
        assert!(b < a);
        // same millisecond: the later write sorts first
        let c = keys::audit("o", Timestamp::from_millis(2_000), 1, "evt_0");
        assert!(c < b);
        assert_eq!(keys::rev_time(Timestamp::from_millis(0)), "9999999999999");
        assert_eq!(keys::rev_time(Timestamp::from_millis(1_795_000_000_000)).len(), 13);
    }
}
