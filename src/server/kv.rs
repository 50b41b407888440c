//! [`Store`] over a Workers KV binding, with a small in-isolate cache for verify entries.
//!
//! Error texts never include keys (a verify key is a hash of a secret) or values.
//!
//! **The cache.** `v:` reads (the verify path) are kept per isolate for [`VERIFY_CACHE_TTL_MS`],
//! at most [`VERIFY_CACHE_MAX`] of them, misses included. Any `v:` write or delete made by this
//! isolate drops its cached entry at once, so an isolate never serves its own stale change. A
//! change made elsewhere is seen here after at most this TTL on top of KV's own propagation
//! (about 60 s; reads also use KV's edge cache for [`VERIFY_KV_CACHE_TTL_S`]).

use std::cell::RefCell;
use std::collections::HashMap;

use worker::kv::KvStore;
use worker::Date;

use crate::store::{ListPage, ListedKey, PutOptions, Store, StoreError};

/// How long one isolate trusts a verify entry it read.
pub const VERIFY_CACHE_TTL_MS: u64 = 5_000;
/// Most verify entries one isolate keeps (the cache is emptied when full: simple and bounded).
pub const VERIFY_CACHE_MAX: usize = 10_000;
/// KV's own `cacheTtl` for verify reads (its minimum is 30 s; lower means fresher revocations).
pub const VERIFY_KV_CACHE_TTL_S: u64 = 30;

struct Cached {
    value: Option<String>,
    read_at_ms: u64,
}

thread_local! {
    static VERIFY_CACHE: RefCell<HashMap<String, Cached>> = RefCell::new(HashMap::new());
}

fn cached(key: &str, now_ms: u64) -> Option<Option<String>> {
    VERIFY_CACHE.with(|c| {
        c.borrow()
            .get(key)
            .filter(|e| now_ms.saturating_sub(e.read_at_ms) < VERIFY_CACHE_TTL_MS)
            .map(|e| e.value.clone())
    })
}

fn remember(key: &str, value: Option<String>, now_ms: u64) {
    VERIFY_CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= VERIFY_CACHE_MAX {
            c.clear();
        }
        c.insert(key.to_owned(), Cached { value, read_at_ms: now_ms });
    });
}

fn forget(key: &str) {
    if key.starts_with("v:") {
        VERIFY_CACHE.with(|c| c.borrow_mut().remove(key));
    }
}

/// Workers KV, as a [`Store`].
pub struct Kv(pub KvStore);

fn fail(op: &str, e: impl core::fmt::Display) -> StoreError {
    StoreError(format!("kv {op}: {e}"))
}

impl Store for Kv {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        if !key.starts_with("v:") {
            return self.0.get(key).text().await.map_err(|e| fail("get", e));
        }
        let now = Date::now().as_millis();
        if let Some(hit) = cached(key, now) {
            return Ok(hit);
        }
        let value = self.0.get(key).cache_ttl(VERIFY_KV_CACHE_TTL_S).text().await.map_err(|e| fail("get", e))?;
        remember(key, value.clone(), now);
        Ok(value)
    }

    async fn put(&self, key: &str, value: &str, options: PutOptions) -> Result<(), StoreError> {
        forget(key);
        let mut put = self.0.put(key, value).map_err(|e| fail("put", e))?;
        if let Some(m) = options.metadata {
            put = put.metadata(m).map_err(|e| fail("put", e))?;
        }
        if let Some(at) = options.expiration.and_then(|s| u64::try_from(s).ok()) {
            put = put.expiration(at);
        }
        let result = put.execute().await.map_err(|e| fail("put", e));
        forget(key);
        result
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        forget(key);
        let result = self.0.delete(key).await.map_err(|e| fail("delete", e));
        forget(key);
        result
    }

    async fn list(&self, prefix: &str, limit: u32, cursor: Option<&str>) -> Result<ListPage, StoreError> {
        let mut list = self.0.list().prefix(prefix.to_owned()).limit(u64::from(limit.clamp(1, crate::store::LIST_MAX)));
        if let Some(c) = cursor {
            list = list.cursor(c.to_owned());
        }
        let page = list.execute().await.map_err(|e| fail("list", e))?;
        Ok(ListPage {
            keys: page.keys.into_iter().map(|k| ListedKey { name: k.name, metadata: k.metadata }).collect(),
            cursor: if page.list_complete { None } else { page.cursor.filter(|c| !c.is_empty()) },
        })
    }
}
