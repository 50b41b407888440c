//! Typed access to what Workers KV holds: the verify projection and last-use times.

use std::collections::HashMap;

use serde_json::json;

use super::cache::EntryCache;
use super::repo::{keys, OutboxRow};
use super::{Kv, ListPage, PutOptions, StoreError, LIST_MAX};
use crate::domain::projection::kv_expiration;
use crate::domain::{Timestamp, VerifyEntry};

/// The metadata field of a `v:` key naming its org, so that reconciliation can tell an org's
/// keys from a listing without reading every value.
pub const ORG_META: &str = "org";

/// Typed access over a [`Kv`], with an optional [`EntryCache`] in front of its verify reads.
#[derive(Debug)]
pub struct Edge<K> {
    kv: K,
    cache: Option<Box<dyn EntryCache>>,
}

impl<K: Kv> Edge<K> {
    /// Typed access over `kv`, uncached.
    pub const fn new(kv: K) -> Self {
        Self { kv, cache: None }
    }

    /// The same, reading verify entries through `cache` (and keeping it right on every write).
    #[must_use]
    pub fn with_cache(mut self, cache: Box<dyn EntryCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The underlying KV.
    pub const fn kv(&self) -> &K {
        &self.kv
    }

    /// The verify entry of a secret's hash, through the cache if there is one.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable entry (its text names no key).
    pub async fn verify_entry(&self, hash: &str) -> Result<Option<VerifyEntry>, StoreError> {
        let raw = match self.cache.as_ref().and_then(|c| c.lookup(hash)) {
            Some(hit) => hit,
            None => self.refresh(hash).await?,
        };
        match raw {
            None => Ok(None),
            Some(s) => {
                serde_json::from_str(&s).map(Some).map_err(|e| StoreError(format!("unreadable verify entry: {e}")))
            }
        }
    }

    /// Read a secret's verify entry from KV itself, and keep what was read in the cache.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure.
    pub async fn refresh(&self, hash: &str) -> Result<Option<String>, StoreError> {
        let ticket = self.cache.as_ref().map(|c| c.ticket());
        let value = self.kv.get(&keys::verify(hash)).await?;
        if let (Some(c), Some(t)) = (&self.cache, ticket) {
            c.fill(hash, value.clone(), t);
        }
        Ok(value)
    }

    /// The raw verify entry KV holds for a hash, never from the cache (reconciliation compares it).
    ///
    /// # Errors
    /// [`StoreError`] on backend failure.
    pub async fn stored(&self, hash: &str) -> Result<Option<String>, StoreError> {
        self.kv.get(&keys::verify(hash)).await
    }

    fn invalidate(&self, kv_key: &str) {
        if let (Some(c), Some(hash)) = (&self.cache, keys::verify_hash(kv_key)) {
            c.invalidate(hash);
        }
    }

    /// Make one owed write, at `now`.
    ///
    /// # Errors
    /// [`StoreError`] when KV refuses or fails.
    pub async fn apply(&self, row: &OutboxRow, now: Timestamp) -> Result<(), StoreError> {
        // Forget the cached entry before the write (and void reads in flight), and again after
        // (a read that began during the write).
        self.invalidate(&row.key);
        let done = match &row.value {
            Some(v) => {
                let metadata = row.org.as_ref().map(|o| json!({ ORG_META: o }));
                let expiration = row.expiration.map(|end| kv_expiration(end, now));
                self.kv.put(&row.key, v, PutOptions { metadata, expiration }).await
            }
            None => self.kv.delete(&row.key).await,
        };
        self.invalidate(&row.key);
        done
    }

    /// One page of every `v:` key in the namespace (all orgs), with metadata.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure.
    pub async fn verify_keys(&self, cursor: Option<&str>) -> Result<ListPage, StoreError> {
        self.kv.list(keys::VERIFY_ALL, LIST_MAX, cursor).await
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
            let page = self.kv.list(&prefix, LIST_MAX, cursor.as_deref()).await?;
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

    /// When one token was last used.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure or an unreadable value.
    pub async fn last_used(&self, org: &str, token: &str) -> Result<Option<Timestamp>, StoreError> {
        match self.kv.get(&keys::last_used(org, token)).await? {
            None => Ok(None),
            Some(s) => serde_json::from_str(&s).map(Some).map_err(|e| StoreError(format!("unreadable last use: {e}"))),
        }
    }

    /// Record a use (value and metadata both hold the instant, so listings need no reads).
    ///
    /// # Errors
    /// [`StoreError`] on backend failure.
    pub async fn put_last_used(&self, org: &str, token: &str, at: Timestamp) -> Result<(), StoreError> {
        let options = PutOptions { metadata: serde_json::to_value(at).ok(), expiration: None };
        let value = serde_json::to_string(&at).map_err(|e| StoreError(format!("cannot encode last use: {e}")))?;
        self.kv.put(&keys::last_used(org, token), &value, options).await
    }

    /// Delete every last-use key of `org` (the erasure of a deleted org). One pass by cursor:
    /// KV's listings lag its deletions, so listing again until nothing is left might not end.
    ///
    /// # Errors
    /// [`StoreError`] on backend failure; the keys not yet deleted stay, for the next try.
    pub async fn erase_last_used(&self, org: &str) -> Result<(), StoreError> {
        let prefix = keys::last_used_all(org);
        let mut cursor: Option<String> = None;
        loop {
            let page = self.kv.list(&prefix, LIST_MAX, cursor.as_deref()).await?;
            for k in page.keys {
                self.kv.delete(&k.name).await?;
            }
            match page.cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(()),
            }
        }
    }
}
