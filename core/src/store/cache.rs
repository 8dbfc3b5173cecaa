//! Documents kept decoded in memory, the least recently used dropped first.
//!
//! Decoding a stored document is most of what a push to it costs when it is
//! not in memory: Automerge 0.12 takes about 0.3 ms for a fresh order of 55
//! operations and 0.5 ms with one chunk after it, where applying the push
//! itself takes about 0.3 ms. A decoded order of that size holds about
//! 21 KB. So the documents a process served or changed last stay decoded,
//! up to a number of documents ([`DocCache::share_capacity`]): the phone keeps
//! a few hundred; the server's processes share a budget its operator sets
//! among the tenants they serve.
//!
//! Least recently used, kept cheaply: each entry carries the tick it was
//! last used at, and when the cache is full the oldest eighth goes in one
//! pass, so an insertion costs a constant amount on average.

use automerge::AutoCommit;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Documents kept decoded by default.
pub const DEFAULT_CAPACITY: usize = 256;

/// Never fewer: a write of several documents needs each of them still
/// decoded when it is written, so a cache must hold more than any one call
/// touches.
const MIN_CAPACITY: usize = 16;

/// A kept document and the tick it was last used at. The document is boxed:
/// an `AutoCommit` is a few kilobytes itself before any of its contents, and
/// a hash table holds its entries inline in every slot, used or not, and
/// copies them all each time it grows.
#[derive(Debug)]
struct Entry {
    doc: Box<AutoCommit>,
    used: u64,
}

#[derive(Debug)]
pub(crate) struct DocCache {
    docs: HashMap<String, Entry>,
    tick: u64,
    /// How many to keep; the server's tenants share one (their part of
    /// the process's budget), changed as tenants open.
    capacity: Arc<AtomicUsize>,
}

impl DocCache {
    pub(crate) fn new(capacity: usize) -> DocCache {
        DocCache {
            docs: HashMap::new(),
            tick: 0,
            capacity: Arc::new(AtomicUsize::new(capacity)),
        }
    }

    /// Keep at most `capacity` documents (at least 16); if it holds more
    /// now, the least recently used go.
    #[cfg(test)]
    pub(crate) fn set_capacity(&mut self, capacity: usize) {
        self.capacity.store(capacity, Ordering::Relaxed);
        self.shrink(0);
    }

    /// Keep as many as `capacity` says, whoever changes it; the cache
    /// shrinks to it at its next insertion.
    pub(crate) fn share_capacity(&mut self, capacity: Arc<AtomicUsize>) {
        self.capacity = capacity;
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity.load(Ordering::Relaxed).max(MIN_CAPACITY)
    }

    /// Down to the capacity less `room`, the least recently used first.
    fn shrink(&mut self, room: usize) {
        let keep = self.capacity().saturating_sub(room);
        if self.docs.len() > keep {
            self.drop_oldest(self.docs.len() - keep);
        }
    }

    pub(crate) fn contains(&self, doc_id: &str) -> bool {
        self.docs.contains_key(doc_id)
    }

    /// The document, marked as just used.
    pub(crate) fn get_mut(&mut self, doc_id: &str) -> Option<&mut AutoCommit> {
        self.tick += 1;
        let tick = self.tick;
        self.docs.get_mut(doc_id).map(|e| {
            e.used = tick;
            &mut *e.doc
        })
    }

    pub(crate) fn remove(&mut self, doc_id: &str) -> Option<AutoCommit> {
        self.docs.remove(doc_id).map(|e| *e.doc)
    }

    /// Keep `doc`, marked as just used; if the cache is full, the least
    /// recently used eighth (at least one) goes first.
    pub(crate) fn insert(&mut self, doc_id: &str, doc: AutoCommit) {
        let capacity = self.capacity();
        if !self.docs.contains_key(doc_id) && self.docs.len() >= capacity {
            self.shrink((capacity / 8).max(1));
        }
        self.tick += 1;
        self.docs.insert(
            doc_id.to_string(),
            Entry {
                doc: Box::new(doc),
                used: self.tick,
            },
        );
    }

    pub(crate) fn clear(&mut self) {
        self.docs.clear();
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.docs.len()
    }

    /// Drop the `n` least recently used documents.
    fn drop_oldest(&mut self, n: usize) {
        let n = n.min(self.docs.len());
        if n == 0 {
            return;
        }
        let mut ticks: Vec<u64> = self.docs.values().map(|e| e.used).collect();
        // Ticks are unique: everything at or before the n-th oldest goes.
        let (_, cutoff, _) = ticks.select_nth_unstable(n - 1);
        let cutoff = *cutoff;
        self.docs.retain(|_, e| e.used > cutoff);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> AutoCommit {
        AutoCommit::new()
    }

    #[test]
    fn the_least_recently_used_go_first_and_the_cache_never_holds_more_than_its_capacity() {
        let mut c = DocCache::new(16);
        for i in 0..16 {
            c.insert(&format!("d{i}"), doc());
        }
        // d0 and d1 were used again: they are now the most recent.
        assert!(c.get_mut("d0").is_some());
        assert!(c.get_mut("d1").is_some());
        c.insert("new", doc());
        assert!(c.len() <= 16);
        // The two oldest (d2, d3: an eighth of 16) went, not d0 or d1.
        assert!(!c.contains("d2") && !c.contains("d3"));
        for kept in ["d0", "d1", "d4", "d15", "new"] {
            assert!(c.contains(kept), "{kept} should still be cached");
        }
        for i in 0..1000 {
            c.insert(&format!("more{i}"), doc());
            assert!(c.len() <= 16);
        }
        assert!(c.contains("more999"));
    }

    #[test]
    fn a_smaller_capacity_drops_the_oldest_at_once_and_never_goes_below_sixteen() {
        let mut c = DocCache::new(32);
        for i in 0..32 {
            c.insert(&format!("d{i}"), doc());
        }
        c.get_mut("d0");
        c.set_capacity(20);
        assert_eq!(c.len(), 20);
        assert!(c.contains("d0"), "just used, so kept");
        assert!(!c.contains("d1") && !c.contains("d12"));
        assert!(c.contains("d13") && c.contains("d31"));
        c.set_capacity(0);
        assert_eq!(c.len(), 16);
        assert!(c.contains("d0") && c.contains("d31"));
        // Putting back a document already there drops nothing.
        c.insert("d31", doc());
        assert_eq!(c.len(), 16);
    }

    #[test]
    fn a_shared_capacity_applies_to_every_cache_at_its_next_insertion() {
        let shared = Arc::new(AtomicUsize::new(64));
        let (mut a, mut b) = (
            DocCache::new(DEFAULT_CAPACITY),
            DocCache::new(DEFAULT_CAPACITY),
        );
        a.share_capacity(shared.clone());
        b.share_capacity(shared.clone());
        for i in 0..64 {
            a.insert(&format!("a{i}"), doc());
            b.insert(&format!("b{i}"), doc());
        }
        assert_eq!((a.len(), b.len()), (64, 64));
        shared.store(32, Ordering::Relaxed);
        a.insert("a-new", doc());
        assert!(a.len() < 32, "down to its share less room: {}", a.len());
        assert!(a.contains("a-new") && a.contains("a63") && !a.contains("a0"));
        assert_eq!(b.len(), 64, "b shrinks when it next inserts");
    }
}
