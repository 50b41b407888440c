//! [`Kv`] over a Workers KV binding, and the isolate's cache of verify entries
//! ([`IsolateCache`], the [`EntryCache`] that [`crate::store::Edge`] reads through).
//!
//! Error texts never include keys (a verify key is a hash of a secret) or values.
//!
//! **The cache.** Verify entries (the verify path) are kept per isolate for [`VERIFY_CACHE_TTL_MS`]:
//! at most [`VERIFY_CACHE_MAX`] entries and, apart, at most [`VERIFY_MISS_CACHE_MAX`] misses, so
//! made-up tokens can never push out the ones in use; a full cache drops its oldest reads
//! first, never everything at once. Any verify-entry write or delete made by this
//! isolate drops its cached entry at once and voids reads in flight, so an isolate never serves
//! its own stale change. A change made elsewhere is seen here
//! after at most this TTL on top of KV's own propagation (about 60 s; reads also use KV's edge
//! cache for [`VERIFY_KV_CACHE_TTL_S`]). The policy itself is [`ReadCache`], tested natively.
//!
//! **Refresh ahead.** The first hit on an entry older than [`VERIFY_REFRESH_AFTER_MS`] queues its
//! key; [`refresh_due`] (called by the verify handlers once their answer is built) re-reads the
//! queued keys under `ctx.wait_until`, off the response path. A token in steady use is then
//! answered from the cache without ever waiting for KV, and nothing is served past the TTL.

use std::cell::{Cell, OnceCell, RefCell};

use worker::kv::KvStore;
use worker::{console_error, Context, Date, Env};

use crate::store::cache::{EntryCache, ReadCache, Ticket};
use crate::store::{redact, Kv, ListPage, ListedKey, PutOptions, StoreError};

/// How long one isolate trusts a verify entry it read (counted from when the read began).
pub const VERIFY_CACHE_TTL_MS: u64 = 5_000;
/// From this age a hit on a verify entry also queues a background re-read of it.
pub const VERIFY_REFRESH_AFTER_MS: u64 = 4_000;
/// Most keys queued for a refresh at once (past it, entries simply expire).
const REFRESH_QUEUE_MAX: usize = 256;
/// Most verify entries one isolate keeps (about 0.5 KiB each), unless the `VERIFY_CACHE_MAX` var
/// says otherwise.
pub const VERIFY_CACHE_MAX: usize = 16_384;
/// Most misses (keys with no entry) one isolate keeps (`VERIFY_MISS_CACHE_MAX` var), apart from
/// the entries: anyone can make
/// up well-formed tokens that do not exist, and they must never push out the ones in use.
pub const VERIFY_MISS_CACHE_MAX: usize = 1_024;
/// KV's own `cacheTtl` for verify reads (its minimum is 30 s; lower means fresher revocations).
pub const VERIFY_KV_CACHE_TTL_S: u64 = 30;

thread_local! {
    /// The cache's bounds: the defaults above, or the deployment's `VERIFY_CACHE_MAX` and
    /// `VERIFY_MISS_CACHE_MAX` vars, read by the isolate's first [`WorkersKv`] (always before
    /// the cache is first touched).
    static CACHE_BOUNDS: Cell<Option<(usize, usize)>> = const { Cell::new(None) };
    /// Secret hash → verify entry read (`None`: no such entry), per isolate.
    static VERIFY_CACHE: RefCell<ReadCache<String>> = RefCell::new({
        let (values, misses) = CACHE_BOUNDS.with(Cell::get).unwrap_or((VERIFY_CACHE_MAX, VERIFY_MISS_CACHE_MAX));
        ReadCache::new(values, misses, VERIFY_CACHE_TTL_MS, VERIFY_REFRESH_AFTER_MS)
    });
    /// Hashes whose cached entries are due for a background re-read.
    static REFRESH_DUE: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Re-read, off the response path, every verify entry queued for a refresh (see the module docs).
pub fn refresh_due(ctx: &Context, env: &Env) {
    let hashes = REFRESH_DUE.with(|q| std::mem::take(&mut *q.borrow_mut()));
    if hashes.is_empty() {
        return;
    }
    let edge = super::edge(env);
    ctx.wait_until(async move {
        for hash in hashes {
            if let Err(e) = edge.refresh(&hash).await {
                console_error!("verify refresh: {e}");
            }
        }
    });
}

/// The isolate's cache of verify entries (the thread-locals above), for [`crate::store::Edge`].
#[derive(Debug, Clone, Copy)]
pub struct IsolateCache;

impl IsolateCache {
    /// The cache, bounded by the deployment's `VERIFY_CACHE_MAX` and `VERIFY_MISS_CACHE_MAX` vars
    /// (read once per isolate, before the cache is first touched).
    pub fn new(env: &Env) -> Self {
        if CACHE_BOUNDS.with(Cell::get).is_none() {
            let var = |name: &str, default: usize| {
                env.var(name)
                    .ok()
                    .and_then(|v| v.to_string().parse().ok())
                    .map_or(default, |n: usize| n.clamp(1, 1 << 20))
            };
            let bounds =
                (var("VERIFY_CACHE_MAX", VERIFY_CACHE_MAX), var("VERIFY_MISS_CACHE_MAX", VERIFY_MISS_CACHE_MAX));
            CACHE_BOUNDS.with(|b| b.set(Some(bounds)));
        }
        Self
    }
}

impl EntryCache for IsolateCache {
    fn lookup(&self, hash: &str) -> Option<Option<String>> {
        let hit = VERIFY_CACHE.with(|c| c.borrow_mut().lookup(hash, Date::now().as_millis()))?;
        if hit.refresh {
            REFRESH_DUE.with(|q| {
                let mut q = q.borrow_mut();
                if q.len() < REFRESH_QUEUE_MAX {
                    q.push(hash.to_owned());
                }
            });
        }
        Some(hit.value)
    }

    fn ticket(&self) -> Ticket {
        VERIFY_CACHE.with(|c| c.borrow().ticket(Date::now().as_millis()))
    }

    fn fill(&self, hash: &str, value: Option<String>, ticket: Ticket) {
        VERIFY_CACHE.with(|c| c.borrow_mut().finish(hash, value, ticket));
    }

    fn invalidate(&self, hash: &str) {
        VERIFY_CACHE.with(|c| c.borrow_mut().invalidate(hash));
    }
}

/// The KV namespace binding (wrangler.toml `[[kv_namespaces]]`).
pub const BINDING: &str = "TOKENS";

/// Workers KV, as a [`Kv`]. The binding is looked up on first use, so a request answered from
/// the verify cache never pays for it.
pub struct WorkersKv {
    env: Env,
    store: OnceCell<KvStore>,
}

#[cfg(feature = "faults")]
thread_local! {
    /// Test builds only (`--features faults`): refuse every KV write while set.
    pub static FAIL_WRITES: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// Whether writes are refused (only ever in a `faults` build).
fn writes_refused() -> Result<(), StoreError> {
    #[cfg(feature = "faults")]
    if FAIL_WRITES.with(core::cell::Cell::get) {
        return Err(StoreError("kv write refused (fault injection)".into()));
    }
    Ok(())
}

impl WorkersKv {
    /// The [`BINDING`] namespace of `env`.
    pub fn new(env: &Env) -> Self {
        Self { env: env.clone(), store: OnceCell::new() }
    }

    fn store(&self) -> Result<&KvStore, StoreError> {
        if let Some(s) = self.store.get() {
            return Ok(s);
        }
        let kv = self.env.kv(BINDING).map_err(|e| fail("binding", e))?;
        Ok(self.store.get_or_init(|| kv))
    }
}

fn fail(op: &str, e: impl core::fmt::Display) -> StoreError {
    StoreError(format!("kv {op}: {}", redact(&e.to_string())))
}

impl Kv for WorkersKv {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        // Only verify entries and last-use times are read one by one; both may be KV's edge
        // cache's for its minimum TTL. Read as bytes: one copy into wasm memory and a UTF-8 check
        // here, where a JS string would be transcoded from UTF-16 on its way in (the miss path).
        let bytes =
            self.store()?.get(key).cache_ttl(VERIFY_KV_CACHE_TTL_S).bytes().await.map_err(|e| fail("get", e))?;
        bytes.map(String::from_utf8).transpose().map_err(|_| StoreError("kv get: the value is not UTF-8".into()))
    }

    async fn put(&self, key: &str, value: &str, options: PutOptions) -> Result<(), StoreError> {
        writes_refused()?;
        // As bytes: `put` of a `&str` goes through its generic serializer (and a float formatter),
        // which the Worker on the verify path would carry for nothing.
        let mut put = self.store()?.put_bytes(key, value.as_bytes()).map_err(|e| fail("put", e))?;
        if let Some(m) = options.metadata {
            put = put.metadata(m).map_err(|e| fail("put", e))?;
        }
        if let Some(at) = options.expiration.and_then(|s| u64::try_from(s).ok()) {
            put = put.expiration(at);
        }
        put.execute().await.map_err(|e| fail("put", e))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        writes_refused()?;
        self.store()?.delete(key).await.map_err(|e| fail("delete", e))
    }

    async fn list(&self, prefix: &str, limit: u32, cursor: Option<&str>) -> Result<ListPage, StoreError> {
        let mut list =
            self.store()?.list().prefix(prefix.to_owned()).limit(u64::from(limit.clamp(1, crate::store::LIST_MAX)));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every edge answer states `max_staleness_s`: KV's propagation plus this isolate's cache.
    #[test]
    fn edge_staleness_is_propagation_plus_cache() {
        // How long Workers KV may take to show a write everywhere (Cloudflare's documented bound).
        const KV_PROPAGATION_S: u64 = 60;
        let cache_s = VERIFY_CACHE_TTL_MS.div_ceil(1_000);
        assert_eq!(KV_PROPAGATION_S + cache_s, u64::from(crate::service::EDGE_MAX_STALENESS_S));
    }
}
