//! [`Remembering`]: a [`Store`] that keeps what it read, for the one writer of its records.
//!
//! An org authority is the only writer of its storage, and every write goes through
//! [`Store::commit`] of the one store it holds. So a record it has read stays what it read until
//! that store commits, and a commit says exactly which keys it changed. Remembering reads then
//! costs nothing in correctness, and spares the storage the reads that repeat on every request
//! (a strict verification reads its token, the owner and the org, then asks whether the
//! projection outbox is empty: four queries, each a crossing into JS and back, on a path the org's
//! one thread serialises).
//!
//! It is plain Rust over any [`Store`] and tested natively with [`super::memory::MemoryStore`].

use core::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};

use super::{Store, StoreError, Write};

/// Records remembered at most, values and known-empty prefixes together. Past it, or past
/// [`REMEMBERED_BYTES_MAX`], everything is forgotten at once (and read again as needed).
pub const REMEMBERED_MAX: usize = 4096;

/// Bytes of keys and values remembered at most: 8 MiB of an isolate's 128 (a token's record is
/// about a kilobyte, or up to about 45 with a logo).
pub const REMEMBERED_BYTES_MAX: usize = 8 << 20;

/// `inner`, with every `get` answer and every empty first page of a `list` remembered until a
/// commit changes them.
///
/// Only for a store nothing else writes: an org authority's own storage.
#[derive(Debug)]
pub struct Remembering<S> {
    inner: S,
    /// key → its value (`None`: known absent).
    values: RefCell<HashMap<String, Option<String>>>,
    /// Prefixes known to have no key.
    empty: RefCell<HashSet<String>>,
    /// Bytes of the keys, values and prefixes remembered (counted when remembered; a value
    /// replaced by a commit is counted again, so this may over-count until all is forgotten).
    bytes: Cell<usize>,
    /// Bumped as every commit starts and again as it ends: a read that overlapped a commit may
    /// have seen the state before it, so it is not remembered.
    generation: Cell<u64>,
}

impl<S: Store> Remembering<S> {
    /// `inner`, remembering nothing yet.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            values: RefCell::default(),
            empty: RefCell::default(),
            bytes: Cell::new(0),
            generation: Cell::new(0),
        }
    }

    /// The store underneath.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn forget_all(&self) {
        self.values.borrow_mut().clear();
        self.empty.borrow_mut().clear();
        self.bytes.set(0);
    }

    /// Room for one more remembered thing of `bytes` (all forgotten when full), counted.
    fn make_room(&self, bytes: usize) {
        let count = self.values.borrow().len() + self.empty.borrow().len();
        if count >= REMEMBERED_MAX || self.bytes.get().saturating_add(bytes) > REMEMBERED_BYTES_MAX {
            self.forget_all();
        }
        self.bytes.set(self.bytes.get().saturating_add(bytes));
    }
}

impl<S: Store> Store for Remembering<S> {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        if let Some(known) = self.values.borrow().get(key) {
            return Ok(known.clone());
        }
        let before = self.generation.get();
        let value = self.inner.get(key).await?;
        let bytes = key.len() + value.as_ref().map_or(0, String::len);
        if self.generation.get() == before && bytes <= REMEMBERED_BYTES_MAX {
            self.make_room(bytes);
            self.values.borrow_mut().insert(key.to_owned(), value.clone());
        }
        Ok(value)
    }

    async fn list(&self, prefix: &str, after: Option<&str>, limit: u32) -> Result<Vec<(String, String)>, StoreError> {
        let first_page = after.is_none() && limit > 0;
        if first_page && self.empty.borrow().contains(prefix) {
            return Ok(Vec::new());
        }
        let before = self.generation.get();
        let page = self.inner.list(prefix, after, limit).await?;
        if first_page && page.is_empty() && self.generation.get() == before {
            self.make_room(prefix.len());
            self.empty.borrow_mut().insert(prefix.to_owned());
        }
        Ok(page)
    }

    async fn commit(&self, writes: &[Write], wake: Option<crate::domain::Timestamp>) -> Result<(), StoreError> {
        self.generation.set(self.generation.get().wrapping_add(1));
        let done = self.inner.commit(writes, wake).await;
        self.generation.set(self.generation.get().wrapping_add(1));
        if let Err(e) = done {
            // Nothing was written, the store says; forgetting everything costs only reads.
            self.forget_all();
            return Err(e);
        }
        let mut values = self.values.borrow_mut();
        let mut empty = self.empty.borrow_mut();
        let mut added = 0usize;
        for w in writes {
            match w {
                Write::Put(key, value) => {
                    empty.retain(|prefix| !key.starts_with(prefix.as_str()));
                    if let Some(known) = values.get_mut(key) {
                        *known = Some(value.clone());
                        added = added.saturating_add(value.len());
                    }
                }
                // A deletion empties no prefix by itself (others may remain); a remembered
                // value is now known absent.
                Write::Delete(key) => {
                    if let Some(known) = values.get_mut(key) {
                        *known = None;
                    }
                }
            }
        }
        drop((values, empty));
        let bytes = self.bytes.get().saturating_add(added);
        if bytes > REMEMBERED_BYTES_MAX {
            self.forget_all();
        } else {
            self.bytes.set(bytes);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use futures_executor::block_on;

    use super::*;
    use crate::store::memory::MemoryStore;

    fn put(k: &str, v: &str) -> Write {
        Write::Put(k.into(), v.into())
    }

    /// The store under test and a way to write past it (what it must never see happen, and
    /// what shows that it answers from memory).
    fn remembering() -> Remembering<MemoryStore> {
        Remembering::new(MemoryStore::new())
    }

    #[test]
    fn answers_from_memory_until_its_own_commit_changes_the_key() {
        block_on(async {
            let s = remembering();
            s.commit(&[put("t:1", "a")], None).await.unwrap();
            assert_eq!(s.get("t:1").await.unwrap().as_deref(), Some("a"));
            // Written past it (never done in an authority): still "a", so the read was remembered.
            s.inner().commit(&[put("t:1", "b")], None).await.unwrap();
            assert_eq!(s.get("t:1").await.unwrap().as_deref(), Some("a"));
            // Its own commit is seen at once.
            s.commit(&[put("t:1", "c")], None).await.unwrap();
            assert_eq!(s.get("t:1").await.unwrap().as_deref(), Some("c"));
            s.commit(&[Write::Delete("t:1".into())], None).await.unwrap();
            assert_eq!(s.get("t:1").await.unwrap(), None);
            assert_eq!(s.inner().get("t:1").await.unwrap(), None);
        });
    }

    #[test]
    fn absent_keys_are_remembered_and_appear_when_committed() {
        block_on(async {
            let s = remembering();
            assert_eq!(s.get("m:9").await.unwrap(), None);
            s.inner().commit(&[put("m:9", "past")], None).await.unwrap();
            assert_eq!(s.get("m:9").await.unwrap(), None, "remembered as absent");
            s.commit(&[put("m:9", "x")], None).await.unwrap();
            assert_eq!(s.get("m:9").await.unwrap().as_deref(), Some("x"));
        });
    }

    #[test]
    fn an_empty_prefix_stays_empty_until_a_key_under_it_is_put() {
        block_on(async {
            let s = remembering();
            assert!(s.list("o:", None, 1).await.unwrap().is_empty());
            s.inner().commit(&[put("o:k", "past")], None).await.unwrap();
            assert!(s.list("o:", None, 1).await.unwrap().is_empty(), "remembered as empty");
            // A key under another prefix changes nothing; a deletion empties nothing by itself.
            s.commit(&[put("p:k", "1"), Write::Delete("o:zz".into())], None).await.unwrap();
            assert!(s.list("o:", None, 1).await.unwrap().is_empty());
            s.commit(&[put("o:a", "1")], None).await.unwrap();
            let page = s.list("o:", None, 10).await.unwrap();
            assert_eq!(page.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["o:a", "o:k"]);
        });
    }

    #[test]
    fn later_pages_and_full_pages_are_always_read() {
        block_on(async {
            let s = remembering();
            s.commit(&[put("o:a", "1")], None).await.unwrap();
            assert_eq!(s.list("o:", None, 1).await.unwrap().len(), 1);
            assert!(s.list("o:", Some("o:a"), 1).await.unwrap().is_empty());
            s.commit(&[put("o:b", "2")], None).await.unwrap();
            assert_eq!(s.list("o:", Some("o:a"), 1).await.unwrap().len(), 1, "an after-page is never remembered");
            assert!(s.list("x:", None, 0).await.unwrap().is_empty());
            s.inner().commit(&[put("x:1", "past")], None).await.unwrap();
            assert_eq!(s.list("x:", None, 1).await.unwrap().len(), 1, "a zero-limit page says nothing");
        });
    }

    #[test]
    fn a_failed_commit_forgets_everything() {
        block_on(async {
            let s = remembering();
            s.commit(&[put("t:1", "a")], None).await.unwrap();
            assert_eq!(s.get("t:1").await.unwrap().as_deref(), Some("a"));
            assert!(s.list("o:", None, 1).await.unwrap().is_empty());
            s.inner().fail_write(Some(1));
            assert!(s.commit(&[put("t:1", "b"), put("o:1", "x")], None).await.is_err());
            assert_eq!(s.get("t:1").await.unwrap().as_deref(), Some("a"), "nothing was written");
            // What the store holds now is read afresh, whatever happened underneath.
            s.inner().commit(&[put("o:1", "past")], None).await.unwrap();
            assert_eq!(s.list("o:", None, 1).await.unwrap().len(), 1);
        });
    }

    #[test]
    fn a_failed_read_is_not_remembered() {
        block_on(async {
            let s = remembering();
            s.commit(&[put("t:1", "a")], None).await.unwrap();
            s.inner().fail_reads(true);
            assert!(s.get("t:1").await.is_err());
            assert!(s.list("o:", None, 1).await.is_err());
            s.inner().fail_reads(false);
            assert_eq!(s.get("t:1").await.unwrap().as_deref(), Some("a"));
        });
    }

    #[test]
    fn memory_is_bounded() {
        block_on(async {
            let s = remembering();
            for i in 0..REMEMBERED_MAX + 10 {
                assert_eq!(s.get(&format!("k:{i}")).await.unwrap(), None);
                assert!(s.values.borrow().len() + s.empty.borrow().len() <= REMEMBERED_MAX);
            }
            // Forgotten, so read again: a key written past it is now seen.
            s.inner().commit(&[put("k:0", "v")], None).await.unwrap();
            assert_eq!(s.get("k:0").await.unwrap().as_deref(), Some("v"));
        });
    }

    #[test]
    fn bytes_are_bounded_too() {
        block_on(async {
            let s = remembering();
            let big = "x".repeat(REMEMBERED_BYTES_MAX / 4);
            for i in 0..8 {
                s.commit(&[put(&format!("b:{i}"), &big)], None).await.unwrap();
                assert_eq!(s.get(&format!("b:{i}")).await.unwrap().as_deref(), Some(big.as_str()));
                assert!(s.bytes.get() <= REMEMBERED_BYTES_MAX && s.values.borrow().len() <= 4);
            }
            // Rewriting remembered values counts them again, and forgets all past the bound.
            for _ in 0..8 {
                s.commit(&[put("b:7", &big)], None).await.unwrap();
                assert!(s.bytes.get() <= REMEMBERED_BYTES_MAX);
            }
            // A value larger than the bound is read every time, never remembered.
            let huge = "y".repeat(REMEMBERED_BYTES_MAX + 1);
            s.commit(&[put("h", &huge)], None).await.unwrap();
            assert_eq!(s.get("h").await.unwrap().map(|v| v.len()), Some(huge.len()));
            assert!(!s.values.borrow().contains_key("h"));
        });
    }
}
