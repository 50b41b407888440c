//! An in-memory [`Store`] with KV's rules, for tests; it can be told to fail a chosen write.

use core::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use super::{ListPage, ListedKey, PutOptions, Store, StoreError, LIST_MAX, METADATA_MAX_BYTES};

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
/// Writes (puts and deletes) are counted from 1; [`MemoryStore::fail_write`] makes the Nth one
/// fail, to check what a crash between two writes leaves behind.
#[derive(Debug, Default)]
pub struct MemoryStore {
    data: RefCell<BTreeMap<String, Entry>>,
    writes: Cell<u64>,
    fail_at: Cell<Option<u64>>,
    fail_reads: Cell<bool>,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Make the `n`th write from now on fail (1 = the next one); `None` heals the store.
    pub fn fail_write(&self, n: Option<u64>) {
        self.fail_at.set(n.map(|n| self.writes.get() + n));
    }

    /// Make every read fail (or heal with `false`).
    pub fn fail_reads(&self, fail: bool) {
        self.fail_reads.set(fail);
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
        if self.fail_at.get() == Some(n) {
            return Err(StoreError(format!("injected failure at write {n} ({key})")));
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

impl Store for MemoryStore {
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
            let s = MemoryStore::new();
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
            let s = MemoryStore::new();
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
}
