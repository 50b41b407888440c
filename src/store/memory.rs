//! In-memory doubles for tests: [`MemoryStore`] (the authority's records, atomic commits) and
//! [`MemoryKv`] (KV's rules). Both can be told to fail a chosen write, or every read.

use core::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use super::{Kv, ListPage, ListedKey, PutOptions, Store, StoreError, Write, LIST_MAX, METADATA_MAX_BYTES};

/// In-memory records: a sorted map whose commits apply whole or not at all.
///
/// Commits are counted from 1; [`MemoryStore::fail_write`] makes the Nth one fail, to check
/// what a crash at any point of a use case leaves behind.
#[derive(Debug, Default)]
pub struct MemoryStore {
    data: RefCell<BTreeMap<String, String>>,
    commits: Cell<u64>,
    fail_at: Cell<Option<u64>>,
    fail_reads: Cell<bool>,
    /// The earliest wake the commits asked for since [`MemoryStore::take_wake`] last took it.
    wake: Cell<Option<crate::domain::Timestamp>>,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Make the `n`th commit from now on fail (1 = the next one); `None` heals the store.
    pub fn fail_write(&self, n: Option<u64>) {
        self.fail_at.set(n.map(|n| self.commits.get() + n));
    }

    /// Make every read fail (or heal with `false`).
    pub fn fail_reads(&self, fail: bool) {
        self.fail_reads.set(fail);
    }

    /// The earliest wake the commits since the last call asked for (the alarm an org authority
    /// would have set), taken once.
    pub fn take_wake(&self) -> Option<crate::domain::Timestamp> {
        self.wake.take()
    }

    /// A copy of everything stored, for inspection in tests.
    #[must_use]
    pub fn dump(&self) -> BTreeMap<String, String> {
        self.data.borrow().clone()
    }

    fn read_allowed(&self) -> Result<(), StoreError> {
        if self.fail_reads.get() {
            return Err(StoreError("injected read failure".into()));
        }
        Ok(())
    }
}

impl Store for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.read_allowed()?;
        Ok(self.data.borrow().get(key).cloned())
    }

    async fn list(&self, prefix: &str, after: Option<&str>, limit: u32) -> Result<Vec<(String, String)>, StoreError> {
        self.read_allowed()?;
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let data = self.data.borrow();
        Ok(data
            .range(after.unwrap_or(prefix).to_owned()..)
            .filter(|(k, _)| Some(k.as_str()) != after)
            .take_while(|(k, _)| k.starts_with(prefix))
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    async fn commit(&self, writes: &[Write], wake: Option<crate::domain::Timestamp>) -> Result<(), StoreError> {
        let n = self.commits.get() + 1;
        self.commits.set(n);
        if self.fail_at.get() == Some(n) {
            return Err(StoreError(format!("injected failure at commit {n}")));
        }
        let mut data = self.data.borrow_mut();
        for w in writes {
            match w {
                Write::Put(k, v) => data.insert(k.clone(), v.clone()),
                Write::Delete(k) => data.remove(k),
            };
        }
        if let Some(at) = wake {
            self.wake.set(Some(self.wake.get().map_or(at, |w| w.min(at))));
        }
        Ok(())
    }
}

/// One stored value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The value.
    pub value: String,
    /// Its metadata.
    pub metadata: Option<serde_json::Value>,
    /// Its absolute expiry (Unix seconds), as KV would apply it.
    pub expiration: Option<i64>,
}

/// In-memory KV. Keys are kept sorted like KV's; cursors are the last key returned.
///
/// Writes (puts and deletes) are counted from 1; [`MemoryKv::fail_write`] makes the Nth one
/// fail, [`MemoryKv::fail_writes`] every one until healed (KV refusing writes for a while).
#[derive(Debug, Default)]
pub struct MemoryKv {
    data: RefCell<BTreeMap<String, Entry>>,
    writes: Cell<u64>,
    fail_at: Cell<Option<u64>>,
    fail_all: Cell<bool>,
    fail_reads: Cell<bool>,
}

impl MemoryKv {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Make the `n`th write from now on fail (1 = the next one); `None` heals the store.
    pub fn fail_write(&self, n: Option<u64>) {
        self.fail_at.set(n.map(|n| self.writes.get() + n));
    }

    /// Make every write fail until called with `false`.
    pub fn fail_writes(&self, fail: bool) {
        self.fail_all.set(fail);
    }

    /// Make every read fail (or heal with `false`).
    pub fn fail_reads(&self, fail: bool) {
        self.fail_reads.set(fail);
    }

    /// Plant a value by hand, as an operator with KV access could (no metadata, no expiry).
    pub fn plant(&self, key: &str, value: &str) {
        self.data
            .borrow_mut()
            .insert(key.to_owned(), Entry { value: value.to_owned(), metadata: None, expiration: None });
    }

    /// Writes attempted so far.
    #[must_use]
    pub fn writes(&self) -> u64 {
        self.writes.get()
    }

    /// A copy of everything stored, for inspection in tests.
    #[must_use]
    pub fn dump(&self) -> BTreeMap<String, Entry> {
        self.data.borrow().clone()
    }

    fn write_allowed(&self, key: &str) -> Result<(), StoreError> {
        let n = self.writes.get() + 1;
        self.writes.set(n);
        if self.fail_all.get() || self.fail_at.get() == Some(n) {
            return Err(StoreError(format!("injected failure at write {n} ({} bytes of key)", key.len())));
        }
        Ok(())
    }

    fn read_allowed(&self) -> Result<(), StoreError> {
        if self.fail_reads.get() {
            return Err(StoreError("injected read failure".into()));
        }
        Ok(())
    }
}

impl Kv for MemoryKv {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.read_allowed()?;
        Ok(self.data.borrow().get(key).map(|e| e.value.clone()))
    }

    async fn put(&self, key: &str, value: &str, options: PutOptions) -> Result<(), StoreError> {
        if key.is_empty() || key.len() > 512 {
            return Err(StoreError("key length out of range".into()));
        }
        if let Some(m) = &options.metadata {
            let size = serde_json::to_string(m).map_or(usize::MAX, |s| s.len());
            if size > METADATA_MAX_BYTES {
                return Err(StoreError(format!("metadata of {size} bytes for {key}")));
            }
        }
        self.write_allowed(key)?;
        self.data.borrow_mut().insert(
            key.to_owned(),
            Entry { value: value.to_owned(), metadata: options.metadata, expiration: options.expiration },
        );
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.write_allowed(key)?;
        self.data.borrow_mut().remove(key);
        Ok(())
    }

    async fn list(&self, prefix: &str, limit: u32, cursor: Option<&str>) -> Result<ListPage, StoreError> {
        self.read_allowed()?;
        let limit = usize::try_from(limit.clamp(1, LIST_MAX)).unwrap_or(1);
        if let Some(c) = cursor {
            if !c.starts_with(prefix) {
                return Err(StoreError("cursor does not belong to this listing".into()));
            }
        }
        let data = self.data.borrow();
        let mut keys: Vec<ListedKey> = data
            .range(cursor.unwrap_or(prefix).to_owned()..)
            .filter(|(k, _)| Some(k.as_str()) != cursor)
            .take_while(|(k, _)| k.starts_with(prefix))
            .take(limit + 1)
            .map(|(k, e)| ListedKey { name: k.clone(), metadata: e.metadata.clone() })
            .collect();
        let more = keys.len() > limit;
        keys.truncate(limit);
        let cursor = if more { keys.last().map(|k| k.name.clone()) } else { None };
        Ok(ListPage { keys, cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_executor::block_on;

    #[test]
    fn lists_pages_in_order_within_prefix() {
        block_on(async {
            let s = MemoryKv::new();
            for k in ["a:3", "a:1", "a:2", "b:1", "a"] {
                s.put(k, "v", PutOptions::default()).await.unwrap();
            }
            let p1 = s.list("a:", 2, None).await.unwrap();
            let names: Vec<_> = p1.keys.iter().map(|k| k.name.as_str()).collect();
            assert_eq!(names, ["a:1", "a:2"]);
            let p2 = s.list("a:", 2, p1.cursor.as_deref()).await.unwrap();
            let names: Vec<_> = p2.keys.iter().map(|k| k.name.as_str()).collect();
            assert_eq!(names, ["a:3"]);
            assert_eq!(p2.cursor, None);
            assert!(s.list("b:", 2, Some("a:1")).await.is_err());
        });
    }

    #[test]
    fn enforces_metadata_limit_and_injects_failures() {
        block_on(async {
            let s = MemoryKv::new();
            let big = serde_json::json!({ "x": "y".repeat(1100) });
            let opts = PutOptions { metadata: Some(big), expiration: None };
            assert!(s.put("k", "v", opts).await.is_err());
            s.fail_write(Some(2));
            s.put("a", "1", PutOptions::default()).await.unwrap();
            assert!(s.put("b", "2", PutOptions::default()).await.is_err());
            s.put("c", "3", PutOptions::default()).await.unwrap();
            assert_eq!(s.get("b").await.unwrap(), None);
            assert_eq!(s.get("c").await.unwrap().as_deref(), Some("3"));
            s.fail_reads(true);
            assert!(s.get("c").await.is_err());
        });
    }

    #[test]
    fn records_commit_whole_or_not_at_all() {
        block_on(async {
            let s = MemoryStore::new();
            let put = |k: &str| Write::Put(k.into(), "v".into());
            s.commit(&[put("a:1"), put("a:2"), put("b:1")], None).await.unwrap();
            s.fail_write(Some(1));
            assert!(s.commit(&[put("a:3"), Write::Delete("a:1".into())], None).await.is_err());
            assert_eq!(s.dump().keys().collect::<Vec<_>>(), ["a:1", "a:2", "b:1"]);
            s.commit(&[Write::Delete("a:1".into())], None).await.unwrap();
            let rows = s.list("a:", None, 10).await.unwrap();
            assert_eq!(rows, [("a:2".to_owned(), "v".to_owned())]);
            assert!(s.list("a:", Some("a:2"), 10).await.unwrap().is_empty());
            assert_eq!(s.list("", Some("a:2"), 1).await.unwrap()[0].0, "b:1");
        });
    }
}
