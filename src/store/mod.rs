//! Storage, in two parts (docs/ARCHITECTURE.md, "Storage"):
//!
//! - [`Store`]: the org authority's **records** (orgs, members, tokens, audit, notifications and
//!   the projection outbox). Reads and one atomic [`Store::commit`] per change. Implemented by the
//!   Durable Object's SQLite storage in the Worker and by [`memory::MemoryStore`] in tests.
//! - [`Kv`]: Workers KV's own surface (get, put with metadata and expiration, delete, prefix
//!   list with cursors). It holds only the verify projection and last-use times. Implemented by
//!   the KV binding in the Worker and by [`memory::MemoryKv`] in tests.
//!
//! [`Repo`] maps docs/ARCHITECTURE.md's record layout onto a [`Store`]; [`Edge`] the KV layout onto a [`Kv`].

pub mod cache;
mod edge;
pub mod memory;
pub mod remember;
mod repo;

pub use edge::{Edge, ORG_META};
pub use repo::{cursor, keys, BadCursor, Changes, DayCount, Event, OutboxRow, Page, Repo};

use core::fmt;

/// The largest metadata KV accepts per key, in bytes of serialised JSON.
pub const METADATA_MAX_BYTES: usize = 1024;
/// The most keys one KV `list` call returns.
pub const LIST_MAX: u32 = 1000;

/// A storage failure. Its text goes to logs only, never to clients, and never holds a secret
/// or a key (a verify key is the hash of a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "store: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

/// `text` with every run of 64 hexadecimal digits (a SHA-256, such as the hash of a secret in a
/// `v:` key) replaced by `<hash>`: for anything that reaches a log from outside our own words
/// (errors of the platform's bindings).
///
/// # Example
/// ```
/// use keyward::store::{keys, redact};
/// let key = keys::verify(&"ab".repeat(32));
/// assert_eq!(redact(&format!("KV GET failed for {key}")), "KV GET failed for v:<hash>");
/// assert_eq!(redact("tok_1234 deadbeef"), "tok_1234 deadbeef");
/// ```
#[must_use]
pub fn redact(text: &str) -> String {
    crate::domain::token::replace_hashes(text, "<hash>")
}

/// One write of a [`Store::commit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Set `key` to `value`.
    Put(String, String),
    /// Remove `key` (no error when absent).
    Delete(String),
}

/// The org authority's records: a sorted key-value map with atomic batches.
///
/// No `Send` bound: Workers run single-threaded. In the Durable Object every method completes
/// without yielding to the event loop, so a use case that only reads and commits runs as one
/// uninterrupted step.
#[allow(async_fn_in_trait)]
pub trait Store {
    /// The value at `key`.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// Up to `limit` `(key, value)` pairs whose keys start with `prefix` and sort after `after`
    /// (from the first when `None`), in ascending key order.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn list(&self, prefix: &str, after: Option<&str>, limit: u32) -> Result<Vec<(String, String)>, StoreError>;

    /// Apply every write, all or none, and see that whoever keeps the records (the org
    /// authority's alarm) wakes at `wake` or earlier: a reminder, a delivery or an email is then
    /// due. The service says when with each commit; it keeps no wake time of its own.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails; then nothing was written (nor any wake asked for).
    async fn commit(&self, writes: &[Write], wake: Option<crate::domain::Timestamp>) -> Result<(), StoreError>;
}

/// Options of one KV write.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PutOptions {
    /// JSON metadata returned by `list` (at most [`METADATA_MAX_BYTES`] serialised).
    pub metadata: Option<serde_json::Value>,
    /// Absolute expiry in Unix seconds; the key disappears by itself after it.
    pub expiration: Option<i64>,
}

/// One key of a KV `list` answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedKey {
    /// The full key.
    pub name: String,
    /// Its metadata, if any was written.
    pub metadata: Option<serde_json::Value>,
}

/// One page of a KV `list` answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListPage {
    /// Keys in ascending byte order.
    pub keys: Vec<ListedKey>,
    /// Where the next page starts; `None` when this is the last.
    pub cursor: Option<String>,
}

/// A Workers-KV-shaped key-value store: eventually consistent, one key at a time.
#[allow(async_fn_in_trait)]
pub trait Kv {
    /// The value at `key`.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// Write `value` at `key`.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails or refuses (metadata too large, …).
    async fn put(&self, key: &str, value: &str, options: PutOptions) -> Result<(), StoreError>;

    /// Remove `key` (no error when absent).
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;

    /// Keys starting with `prefix`, in ascending order, at most `limit` (≤ [`LIST_MAX`]), from `cursor`.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails or the cursor is not one it issued.
    async fn list(&self, prefix: &str, limit: u32, cursor: Option<&str>) -> Result<ListPage, StoreError>;
}
