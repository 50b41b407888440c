//! A small bounded cache whose entries expire after a fixed time: what one Worker isolate keeps
//! between requests (verify entries, last-use writes). Time is passed in, so it is plain Rust and
//! tested natively.

use std::collections::HashMap;

/// Up to `capacity` entries, each trusted for `ttl_ms` after it was inserted.
///
/// When a new key arrives and the cache is full, expired entries are dropped first; if that frees
/// less than a tenth of the room (the live working set is larger than the cache), everything is
/// dropped. Either way each insertion costs amortised O(1) and memory stays bounded.
///
/// # Example
/// ```
/// use keyward::store::cache::TtlCache;
///
/// let mut c = TtlCache::new(2, 1_000);
/// c.insert("a", 1, 0);
/// assert_eq!(c.get("a", 999), Some(&1));
/// assert_eq!(c.get("a", 1_000), None); // expired
/// ```
#[derive(Debug)]
pub struct TtlCache<V> {
    entries: HashMap<String, (V, u64)>,
    capacity: usize,
    ttl_ms: u64,
}

impl<V> TtlCache<V> {
    /// An empty cache of at most `capacity` entries (at least one), each living `ttl_ms`.
    pub fn new(capacity: usize, ttl_ms: u64) -> Self {
        Self { entries: HashMap::new(), capacity: capacity.max(1), ttl_ms }
    }

    /// The value under `key` if it was inserted less than the TTL before `now_ms`.
    pub fn get(&self, key: &str, now_ms: u64) -> Option<&V> {
        self.get_aged(key, now_ms).map(|(v, _)| v)
    }

    /// Like [`TtlCache::get`], with the entry's age in milliseconds.
    pub fn get_aged(&self, key: &str, now_ms: u64) -> Option<(&V, u64)> {
        let (v, at) = self.entries.get(key)?;
        let age = now_ms.saturating_sub(*at);
        (age < self.ttl_ms).then_some((v, age))
    }

    /// Like [`TtlCache::get_aged`], with the value mutable in place (its age is unchanged).
    pub fn get_aged_mut(&mut self, key: &str, now_ms: u64) -> Option<(&mut V, u64)> {
        let ttl = self.ttl_ms;
        let (v, at) = self.entries.get_mut(key)?;
        let age = now_ms.saturating_sub(*at);
        (age < ttl).then_some((v, age))
    }

    /// Store `value` under `key` as of `now_ms`, making room as described on [`TtlCache`].
    pub fn insert(&mut self, key: &str, value: V, now_ms: u64) {
        if let Some(slot) = self.entries.get_mut(key) {
            *slot = (value, now_ms);
            return;
        }
        if self.entries.len() >= self.capacity {
            let ttl = self.ttl_ms;
            self.entries.retain(|_, (_, at)| now_ms.saturating_sub(*at) < ttl);
            if self.entries.len() > self.capacity - self.capacity / 10 {
                self.entries.clear();
            }
        }
        self.entries.insert(key.to_owned(), (value, now_ms));
    }

    /// Forget `key`.
    pub fn remove(&mut self, key: &str) {
        self.entries.remove(key);
    }

    /// Entries held, expired ones included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A [`TtlCache`] in front of a store that never caches a read which raced with this isolate's
/// own write, and asks for busy entries to be re-read before they expire.
///
/// Every read from the store starts with a [`ticket`](Self::ticket) and ends with
/// [`finish`](Self::finish). [`invalidate`](Self::invalidate) (this isolate is writing the key)
/// drops the entry and voids every ticket issued before it, so a value read before the write can
/// never be cached after it. Entries count their age from when their read began.
///
/// **Refresh ahead.** [`lookup`](Self::lookup) serves an entry for its whole TTL, and the first
/// lookup after `refresh_after_ms` also says [`Hit::refresh`]: that caller (and no other) should
/// re-read the key off the response path, so a key in steady use never misses. Nothing is served
/// past the TTL, so the staleness bound is the TTL either way; if the refresh fails or races
/// with a write, the entry simply expires.
///
/// # Example
/// ```
/// use keyward::store::cache::ReadCache;
///
/// let mut c = ReadCache::new(100, 5_000, 4_000);
/// let ticket = c.ticket(0);
/// c.invalidate("k"); // a write lands while the read is in flight...
/// c.finish("k", "old", ticket); // ...so what the read saw is not kept
/// assert!(c.lookup("k", 1).is_none());
/// let ticket = c.ticket(2);
/// c.finish("k", "new", ticket);
/// assert_eq!(c.lookup("k", 3).map(|h| (h.value, h.refresh)), Some(("new", false)));
/// assert_eq!(c.lookup("k", 4_002).map(|h| h.refresh), Some(true)); // this caller re-reads it
/// assert_eq!(c.lookup("k", 4_003).map(|h| h.refresh), Some(false)); // nobody else does
/// assert!(c.lookup("k", 5_002).is_none()); // expired
/// ```
#[derive(Debug)]
pub struct ReadCache<V> {
    cache: TtlCache<Slot<V>>,
    epoch: u64,
    refresh_after_ms: u64,
}

#[derive(Debug)]
struct Slot<V> {
    value: V,
    /// A refresh of this entry has been handed out.
    claimed: bool,
}

/// A value [`ReadCache::lookup`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Hit<V> {
    /// The cached value, within its TTL.
    pub value: V,
    /// The caller should re-read this key in the background (at most one caller per entry).
    pub refresh: bool,
}

/// Proof that a store read began after every invalidation before it; see [`ReadCache`].
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct Ticket {
    epoch: u64,
    started_ms: u64,
}

impl<V: Clone> ReadCache<V> {
    /// At most `capacity` entries, each served for `ttl_ms` after its read began and due for a
    /// refresh from `refresh_after_ms` (`>= ttl_ms`: never).
    pub fn new(capacity: usize, ttl_ms: u64, refresh_after_ms: u64) -> Self {
        Self { cache: TtlCache::new(capacity, ttl_ms), epoch: 0, refresh_after_ms }
    }

    /// The cached value of `key` if fresh, and whether this caller should refresh it.
    pub fn lookup(&mut self, key: &str, now_ms: u64) -> Option<Hit<V>> {
        let (slot, age) = self.cache.get_aged_mut(key, now_ms)?;
        let refresh = !slot.claimed && age >= self.refresh_after_ms;
        slot.claimed |= refresh;
        Some(Hit { value: slot.value.clone(), refresh })
    }

    /// Call before reading `key` from the store, at `now_ms`.
    pub fn ticket(&self, now_ms: u64) -> Ticket {
        Ticket { epoch: self.epoch, started_ms: now_ms }
    }

    /// Call after the read succeeded: `value` is cached unless this isolate wrote since `ticket`.
    pub fn finish(&mut self, key: &str, value: V, ticket: Ticket) {
        if ticket.epoch == self.epoch {
            self.cache.insert(key, Slot { value, claimed: false }, ticket.started_ms);
        }
    }

    /// This isolate is writing or deleting `key`: forget it, and void reads already in flight.
    pub fn invalidate(&mut self, key: &str) {
        self.cache.remove(key);
        self.epoch = self.epoch.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::{ReadCache, TtlCache};

    fn value<V: Clone>(c: &mut ReadCache<V>, now_ms: u64) -> Option<V> {
        c.lookup("k", now_ms).map(|h| h.value)
    }

    fn refresh<V: Clone>(c: &mut ReadCache<V>, now_ms: u64) -> Option<bool> {
        c.lookup("k", now_ms).map(|h| h.refresh)
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let mut c = TtlCache::new(10, 5_000);
        c.insert("k", "v", 1_000);
        assert_eq!(c.get("k", 1_000), Some(&"v"));
        assert_eq!(c.get("k", 5_999), Some(&"v"));
        assert_eq!(c.get("k", 6_000), None);
        assert_eq!(c.get("other", 1_000), None);
        // a clock that goes backwards never makes an entry older
        assert_eq!(c.get("k", 0), Some(&"v"));
    }

    #[test]
    fn refreshing_a_key_never_evicts_the_others() {
        // The defect this replaces: a full cache was emptied whenever any key was re-inserted.
        let mut c = TtlCache::new(3, 5_000);
        for k in ["a", "b", "c"] {
            c.insert(k, 0, 0);
        }
        c.insert("a", 1, 100);
        assert_eq!(c.len(), 3);
        assert_eq!(c.get("a", 100), Some(&1));
        assert_eq!(c.get("b", 100), Some(&0));
        assert_eq!(c.get("c", 100), Some(&0));
    }

    #[test]
    fn a_full_cache_drops_expired_entries_first() {
        let mut c = TtlCache::new(10, 1_000);
        for i in 0..5 {
            c.insert(&format!("old{i}"), i, 0);
        }
        for i in 0..5 {
            c.insert(&format!("new{i}"), i, 900);
        }
        c.insert("newest", 99, 1_500);
        assert_eq!(c.len(), 6, "the five expired entries went, the live ones stayed");
        assert_eq!(c.get("new3", 1_500), Some(&3));
        assert_eq!(c.get("newest", 1_500), Some(&99));
    }

    #[test]
    fn a_full_cache_of_live_entries_is_emptied_and_stays_bounded() {
        let mut c = TtlCache::new(10, 1_000_000);
        for i in 0..1_000 {
            c.insert(&i.to_string(), i, i);
            assert!(c.len() <= 10);
        }
        assert_eq!(c.get("999", 1_000), Some(&999));
    }

    #[test]
    fn remove_forgets() {
        let mut c = TtlCache::new(10, 1_000);
        c.insert("k", (), 0);
        c.remove("k");
        assert!(c.is_empty());
        assert_eq!(c.get("k", 0), None);
    }

    #[test]
    fn a_read_that_raced_with_a_write_is_never_cached() {
        let mut c = ReadCache::new(10, 5_000, 5_000);
        let before = c.ticket(0);
        c.invalidate("k"); // this isolate revoked the token while the read was in flight
        c.finish("k", "active", before);
        assert_eq!(value(&mut c, 1), None);
        let after = c.ticket(2);
        c.finish("k", "revoked", after);
        assert_eq!(value(&mut c, 3), Some("revoked"));
        assert_eq!(value(&mut c, 5_001), Some("revoked"));
        assert_eq!(value(&mut c, 5_002), None, "the TTL counts from when the read began");
        let t = c.ticket(6_000);
        c.finish("k", "revoked", t);
        c.invalidate("k");
        assert_eq!(value(&mut c, 6_001), None, "a write drops the entry at once");
    }

    #[test]
    fn reads_of_other_keys_are_voided_too() {
        // One epoch for the whole cache: conservative (an unrelated write costs one extra read)
        // and O(1), with nothing per key to bound.
        let mut c = ReadCache::new(10, 5_000, 5_000);
        let t = c.ticket(0);
        c.invalidate("other");
        c.finish("k", 1, t);
        assert_eq!(value(&mut c, 1), None);
    }

    #[test]
    fn one_caller_is_asked_to_refresh_a_busy_entry_and_nothing_outlives_the_ttl() {
        let mut c = ReadCache::new(10, 5_000, 4_000);
        let t = c.ticket(1_000);
        c.finish("k", "active", t);
        assert_eq!(refresh(&mut c, 1_000), Some(false));
        assert_eq!(refresh(&mut c, 4_999), Some(false), "not before refresh_after");
        assert_eq!(refresh(&mut c, 5_000), Some(true), "the first lookup from then on is asked");
        assert_eq!(refresh(&mut c, 5_001), Some(false), "and only that one");
        // the refresh reads the new state; it replaces the entry and its age restarts
        let t = c.ticket(5_100);
        c.finish("k", "revoked", t);
        assert_eq!(value(&mut c, 5_200), Some("revoked"));
        assert_eq!(refresh(&mut c, 9_099), Some(false));
        assert_eq!(refresh(&mut c, 9_100), Some(true), "due again 4 s after the refresh began");
        assert_eq!(value(&mut c, 10_099), Some("revoked"));
        assert_eq!(value(&mut c, 10_100), None, "never served past the TTL, refresh or not");
    }

    #[test]
    fn a_refresh_that_raced_with_a_write_leaves_nothing_stale() {
        let mut c = ReadCache::new(10, 5_000, 4_000);
        let t = c.ticket(0);
        c.finish("k", "active", t);
        assert_eq!(refresh(&mut c, 4_000), Some(true));
        let t = c.ticket(4_001); // the background re-read begins...
        c.invalidate("k"); // ...this isolate revokes the token...
        c.finish("k", "active", t); // ...and the re-read returns the old state: dropped
        assert_eq!(value(&mut c, 4_002), None);
    }

    #[test]
    fn a_failed_refresh_lets_the_entry_expire_and_be_read_again() {
        let mut c = ReadCache::new(10, 5_000, 4_000);
        let t = c.ticket(0);
        c.finish("k", 1, t);
        assert_eq!(refresh(&mut c, 4_500), Some(true));
        // the re-read failed: no finish; no one else is asked, and the entry ends at its TTL
        assert_eq!(refresh(&mut c, 4_900), Some(false));
        assert_eq!(value(&mut c, 5_000), None);
        let t = c.ticket(5_000);
        c.finish("k", 2, t);
        assert_eq!(value(&mut c, 5_001), Some(2));
    }

    #[test]
    fn refresh_after_the_ttl_means_never() {
        let mut c = ReadCache::new(10, 5_000, 5_000);
        let t = c.ticket(0);
        c.finish("k", 1, t);
        assert!((0..5_000).all(|now| refresh(&mut c, now) == Some(false)));
    }
}
