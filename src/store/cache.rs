//! A small bounded cache whose entries expire after a fixed time: what one Worker isolate keeps
//! between requests (verify entries, last-use writes). Time is passed in, so it is plain Rust and
//! tested natively.

use std::collections::{HashMap, VecDeque};

/// Up to `capacity` entries, each trusted for `ttl_ms` after it was inserted.
///
/// When a new key arrives and the cache is full, the **oldest** entries go first: every
/// expired one at the front of the insertion order, then, if that freed nothing, the single
/// oldest live one. Nothing else is evicted, so a flood of new keys pushes out only what came
/// before it and never empties the cache at once. Each insertion costs amortised O(1) and
/// memory stays bounded.
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
    /// key → (value, inserted at, insertion number)
    entries: HashMap<String, (V, u64, u64)>,
    /// Keys in insertion order with their insertion number; a key inserted again leaves a stale
    /// element behind, skipped (and compacted away) later.
    order: VecDeque<(String, u64)>,
    next: u64,
    capacity: usize,
    ttl_ms: u64,
}

impl<V> TtlCache<V> {
    /// An empty cache of at most `capacity` entries (at least one), each living `ttl_ms`.
    pub fn new(capacity: usize, ttl_ms: u64) -> Self {
        Self { entries: HashMap::new(), order: VecDeque::new(), next: 0, capacity: capacity.max(1), ttl_ms }
    }

    /// The value under `key` if it was inserted less than the TTL before `now_ms`.
    pub fn get(&self, key: &str, now_ms: u64) -> Option<&V> {
        self.get_aged(key, now_ms).map(|(v, _)| v)
    }

    /// Like [`TtlCache::get`], with the entry's age in milliseconds.
    pub fn get_aged(&self, key: &str, now_ms: u64) -> Option<(&V, u64)> {
        let (v, at, _) = self.entries.get(key)?;
        let age = now_ms.saturating_sub(*at);
        (age < self.ttl_ms).then_some((v, age))
    }

    /// Like [`TtlCache::get_aged`], with the value mutable in place (its age is unchanged).
    pub fn get_aged_mut(&mut self, key: &str, now_ms: u64) -> Option<(&mut V, u64)> {
        let ttl = self.ttl_ms;
        let (v, at, _) = self.entries.get_mut(key)?;
        let age = now_ms.saturating_sub(*at);
        (age < ttl).then_some((v, age))
    }

    /// Store `value` under `key` as of `now_ms`, making room as described on [`TtlCache`].
    pub fn insert(&mut self, key: &str, value: V, now_ms: u64) {
        let n = self.next;
        self.next = self.next.wrapping_add(1);
        if let Some(slot) = self.entries.get_mut(key) {
            *slot = (value, now_ms, n);
        } else {
            if self.entries.len() >= self.capacity {
                self.evict(now_ms);
            }
            self.entries.insert(key.to_owned(), (value, now_ms, n));
        }
        self.order.push_back((key.to_owned(), n));
        if self.order.len() > self.capacity.saturating_mul(2) {
            let entries = &self.entries;
            self.order.retain(|(k, n)| entries.get(k).is_some_and(|e| e.2 == *n));
        }
    }

    /// Drop the expired entries at the front of the insertion order, or else the oldest one.
    fn evict(&mut self, now_ms: u64) {
        let mut dropped = 0usize;
        while let Some((k, n)) = self.order.front() {
            let Some((at, current)) = self.entries.get(k).map(|(_, at, c)| (*at, *c)) else {
                self.order.pop_front();
                continue;
            };
            if current != *n {
                self.order.pop_front();
                continue;
            }
            let expired = now_ms.saturating_sub(at) >= self.ttl_ms;
            if dropped > 0 && !expired {
                return;
            }
            if let Some((k, _)) = self.order.pop_front() {
                self.entries.remove(&k);
            }
            dropped += 1;
        }
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
/// let mut c = ReadCache::new(100, 100, 5_000, 4_000);
/// let ticket = c.ticket(0);
/// c.invalidate("k"); // a write lands while the read is in flight...
/// c.finish("k", Some("old"), ticket); // ...so what the read saw is not kept
/// assert!(c.lookup("k", 1).is_none());
/// let ticket = c.ticket(2);
/// c.finish("k", Some("new"), ticket);
/// assert_eq!(c.lookup("k", 3).map(|h| (h.value, h.refresh)), Some((Some("new"), false)));
/// assert_eq!(c.lookup("k", 4_002).map(|h| h.refresh), Some(true)); // this caller re-reads it
/// assert_eq!(c.lookup("k", 4_003).map(|h| h.refresh), Some(false)); // nobody else does
/// assert!(c.lookup("k", 5_002).is_none()); // expired
/// ```
#[derive(Debug)]
pub struct ReadCache<V> {
    /// Reads that found a value.
    hits: TtlCache<Slot<V>>,
    /// Reads that found nothing, apart and smaller: anyone can make up keys that do not exist,
    /// and those must never push out the entries in real use.
    misses: TtlCache<Slot<V>>,
    epoch: u64,
    refresh_after_ms: u64,
}

#[derive(Debug)]
struct Slot<V> {
    value: Option<V>,
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
    /// At most `capacity` values and `miss_capacity` misses, each served for `ttl_ms` after its
    /// read began and due for a refresh from `refresh_after_ms` (`>= ttl_ms`: never).
    pub fn new(capacity: usize, miss_capacity: usize, ttl_ms: u64, refresh_after_ms: u64) -> Self {
        Self {
            hits: TtlCache::new(capacity, ttl_ms),
            misses: TtlCache::new(miss_capacity, ttl_ms),
            epoch: 0,
            refresh_after_ms,
        }
    }

    /// The cached read of `key` if fresh (`Some(None)` inside: a cached miss), and whether this
    /// caller should refresh it.
    pub fn lookup(&mut self, key: &str, now_ms: u64) -> Option<Hit<Option<V>>> {
        let after = self.refresh_after_ms;
        let claim = |slot: &mut Slot<V>, age: u64| {
            let refresh = !slot.claimed && age >= after;
            slot.claimed |= refresh;
            refresh
        };
        if let Some((slot, age)) = self.hits.get_aged_mut(key, now_ms) {
            let refresh = claim(slot, age);
            return Some(Hit { value: slot.value.clone(), refresh });
        }
        let (slot, age) = self.misses.get_aged_mut(key, now_ms)?;
        Some(Hit { value: None, refresh: claim(slot, age) })
    }

    /// Call before reading `key` from the store, at `now_ms`.
    pub fn ticket(&self, now_ms: u64) -> Ticket {
        Ticket { epoch: self.epoch, started_ms: now_ms }
    }

    /// Call after the read succeeded with `value` (`None`: nothing there): it is cached unless
    /// this isolate wrote since `ticket`.
    pub fn finish(&mut self, key: &str, value: Option<V>, ticket: Ticket) {
        if ticket.epoch != self.epoch {
            return;
        }
        match value {
            Some(v) => {
                self.misses.remove(key);
                self.hits.insert(key, Slot { value: Some(v), claimed: false }, ticket.started_ms);
            }
            None => {
                self.hits.remove(key);
                self.misses.insert(key, Slot { value: None, claimed: false }, ticket.started_ms);
            }
        }
    }

    /// This isolate is writing or deleting `key`: forget it, and void reads already in flight.
    pub fn invalidate(&mut self, key: &str) {
        self.hits.remove(key);
        self.misses.remove(key);
        self.epoch = self.epoch.wrapping_add(1);
    }
}

/// A cache of verify-entry reads, keyed by the secret's hash: what [`super::Edge`] consults
/// before KV and fills after (a read-through decorator of its one verify read). The Worker's is
/// per isolate, with its own clock; tests use none.
pub trait EntryCache: core::fmt::Debug {
    /// The cached read of `hash` if fresh (`Some(None)`: a cached miss).
    fn lookup(&self, hash: &str) -> Option<Option<String>>;
    /// Call before reading `hash` from KV.
    fn ticket(&self) -> Ticket;
    /// Call after the read: `value` is kept unless this isolate wrote `hash` since `ticket`.
    fn fill(&self, hash: &str, value: Option<String>, ticket: Ticket);
    /// This isolate is writing or deleting `hash`'s entry.
    fn invalidate(&self, hash: &str);
}

#[cfg(test)]
mod tests {
    use super::{ReadCache, TtlCache};

    fn value<V: Clone>(c: &mut ReadCache<V>, now_ms: u64) -> Option<V> {
        c.lookup("k", now_ms).and_then(|h| h.value)
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
    fn a_full_cache_of_live_entries_drops_only_its_oldest_and_stays_bounded() {
        let mut c = TtlCache::new(10, 1_000_000);
        for i in 0..1_000 {
            c.insert(&i.to_string(), i, i);
            assert!(c.len() <= 10);
            assert!(c.order.len() <= 20, "the insertion order stays bounded too");
        }
        for i in 990..1_000 {
            assert_eq!(c.get(&i.to_string(), 1_000), Some(&i), "the ten newest are all there");
        }
    }

    #[test]
    fn a_busy_key_reinserted_keeps_its_place_as_the_newest() {
        let mut c = TtlCache::new(3, 1_000_000);
        c.insert("hot", 0, 0);
        for i in 0..100u64 {
            c.insert(&format!("junk{i}"), 0, i);
            c.insert("hot", 0, i); // read again, so inserted again
        }
        assert_eq!(c.get("hot", 100), Some(&0), "a key in steady use is never the oldest");
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
        let mut c = ReadCache::new(10, 10, 5_000, 5_000);
        let before = c.ticket(0);
        c.invalidate("k"); // this isolate revoked the token while the read was in flight
        c.finish("k", Some("active"), before);
        assert_eq!(value(&mut c, 1), None);
        let after = c.ticket(2);
        c.finish("k", Some("revoked"), after);
        assert_eq!(value(&mut c, 3), Some("revoked"));
        assert_eq!(value(&mut c, 5_001), Some("revoked"));
        assert_eq!(value(&mut c, 5_002), None, "the TTL counts from when the read began");
        let t = c.ticket(6_000);
        c.finish("k", Some("revoked"), t);
        c.invalidate("k");
        assert_eq!(value(&mut c, 6_001), None, "a write drops the entry at once");
    }

    #[test]
    fn reads_of_other_keys_are_voided_too() {
        // One epoch for the whole cache: conservative (an unrelated write costs one extra read)
        // and O(1), with nothing per key to bound.
        let mut c = ReadCache::new(10, 10, 5_000, 5_000);
        let t = c.ticket(0);
        c.invalidate("other");
        c.finish("k", Some(1), t);
        assert_eq!(value(&mut c, 1), None);
    }

    #[test]
    fn one_caller_is_asked_to_refresh_a_busy_entry_and_nothing_outlives_the_ttl() {
        let mut c = ReadCache::new(10, 10, 5_000, 4_000);
        let t = c.ticket(1_000);
        c.finish("k", Some("active"), t);
        assert_eq!(refresh(&mut c, 1_000), Some(false));
        assert_eq!(refresh(&mut c, 4_999), Some(false), "not before refresh_after");
        assert_eq!(refresh(&mut c, 5_000), Some(true), "the first lookup from then on is asked");
        assert_eq!(refresh(&mut c, 5_001), Some(false), "and only that one");
        // the refresh reads the new state; it replaces the entry and its age restarts
        let t = c.ticket(5_100);
        c.finish("k", Some("revoked"), t);
        assert_eq!(value(&mut c, 5_200), Some("revoked"));
        assert_eq!(refresh(&mut c, 9_099), Some(false));
        assert_eq!(refresh(&mut c, 9_100), Some(true), "due again 4 s after the refresh began");
        assert_eq!(value(&mut c, 10_099), Some("revoked"));
        assert_eq!(value(&mut c, 10_100), None, "never served past the TTL, refresh or not");
    }

    #[test]
    fn a_refresh_that_raced_with_a_write_leaves_nothing_stale() {
        let mut c = ReadCache::new(10, 10, 5_000, 4_000);
        let t = c.ticket(0);
        c.finish("k", Some("active"), t);
        assert_eq!(refresh(&mut c, 4_000), Some(true));
        let t = c.ticket(4_001); // the background re-read begins...
        c.invalidate("k"); // ...this isolate revokes the token...
        c.finish("k", Some("active"), t); // ...and the re-read returns the old state: dropped
        assert_eq!(value(&mut c, 4_002), None);
    }

    #[test]
    fn a_failed_refresh_lets_the_entry_expire_and_be_read_again() {
        let mut c = ReadCache::new(10, 10, 5_000, 4_000);
        let t = c.ticket(0);
        c.finish("k", Some(1), t);
        assert_eq!(refresh(&mut c, 4_500), Some(true));
        // the re-read failed: no finish; no one else is asked, and the entry ends at its TTL
        assert_eq!(refresh(&mut c, 4_900), Some(false));
        assert_eq!(value(&mut c, 5_000), None);
        let t = c.ticket(5_000);
        c.finish("k", Some(2), t);
        assert_eq!(value(&mut c, 5_001), Some(2));
    }

    #[test]
    fn misses_never_push_out_values() {
        let mut c = ReadCache::new(4, 2, 5_000, 4_000);
        let t = c.ticket(0);
        c.finish("hot", Some("active"), t);
        for i in 0..20_000u64 {
            let t = c.ticket(i / 10);
            c.finish(&format!("junk{i}"), None, t);
        }
        assert_eq!(c.lookup("hot", 1_999).and_then(|h| h.value), Some("active"));
        assert_eq!(c.lookup("junk19999", 1_999).map(|h| h.value), Some(None), "the newest misses are kept");
        assert!(c.lookup("junk0", 1_999).is_none(), "the oldest misses made room");
        // a key that starts to exist moves from the misses to the values, and back
        let t = c.ticket(2_000);
        c.finish("junk19999", Some("new"), t);
        assert_eq!(c.lookup("junk19999", 2_001).and_then(|h| h.value), Some("new"));
        let t = c.ticket(2_002);
        c.finish("junk19999", None, t);
        assert_eq!(c.lookup("junk19999", 2_003).map(|h| h.value), Some(None));
    }

    #[test]
    fn refresh_after_the_ttl_means_never() {
        let mut c = ReadCache::new(10, 10, 5_000, 5_000);
        let t = c.ticket(0);
        c.finish("k", Some(1), t);
        assert!((0..5_000).all(|now| refresh(&mut c, now) == Some(false)));
    }
}
