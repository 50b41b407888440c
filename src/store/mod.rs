//! Storage: a key-value [`Store`] trait shaped like Workers KV, and typed access on top of it.
//!
//! The trait is deliberately KV's own surface (get, put with metadata and expiration, delete,
//! prefix list with cursors), so that [`memory::MemoryStore`] and the Worker's KV store behave
//! alike and every use case runs natively in tests. [`Repo`] maps DESIGN.md's key layout onto it.

pub mod cache;
pub mod memory;
mod repo;

pub use repo::{cursor, keys, BadCursor, Page, Repo};

use core::fmt;

/// The largest metadata KV accepts per key, in bytes of serialised JSON.
pub const METADATA_MAX_BYTES: usize = 1024;
/// The most keys one KV `list` call returns.
pub const LIST_MAX: u32 = 1000;
/// KV refuses an absolute expiration less than this many seconds ahead.
pub const MIN_EXPIRATION_AHEAD_SECONDS: i64 = 60;

/// A storage failure. Its text goes to logs only, never to clients, and never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "store: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

/// Options of one write.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PutOptions {
    /// JSON metadata returned by `list` (at most [`METADATA_MAX_BYTES`] serialised).
    pub metadata: Option<serde_json::Value>,
    /// Absolute expiry in Unix seconds; the key disappears by itself after it.
    pub expiration: Option<i64>,
}

/// One key of a `list` answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedKey {
    /// The full key.
    pub name: String,
    /// Its metadata, if any was written.
    pub metadata: Option<serde_json::Value>,
}

/// One page of a `list` answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListPage {
    /// Keys in ascending byte order.
    pub keys: Vec<ListedKey>,
    /// Where the next page starts; `None` when this is the last.
    pub cursor: Option<String>,
}

/// A Workers-KV-shaped key-value store. No `Send` bound: Workers run single-threaded.
#[allow(async_fn_in_trait)]
pub trait Store {
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
