//! The open state of a streaming aggregator: values by key, each with the event time it is due
//! (its window ends, its episode goes quiet, its chain horizon passes). Due keys are found with
//! a min-heap of (due, key) and lazy deletion: a key that was postponed keeps its old heap
//! entry, and when that entry comes up the key is scheduled again at its real time. So the heap
//! holds about one entry per open key, and flushing costs only the keys that are due. Each key
//! also remembers when it was last touched, so a cap closes the least recently active first.

use crate::history::FastMap;
use jiff::Timestamp;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hash::Hash;

pub struct Groups<K, V> {
    /// Value, due time, and the touch counter at its last use.
    open: FastMap<K, (V, Timestamp, u64)>,
    heap: BinaryHeap<Reverse<(Timestamp, K)>>,
    touches: u64,
}

impl<K, V> Default for Groups<K, V> {
    fn default() -> Self {
        Groups {
            open: FastMap::default(),
            heap: BinaryHeap::new(),
            touches: 0,
        }
    }
}

impl<K: Hash + Eq + Ord + Clone, V> Groups<K, V> {
    pub fn len(&self) -> usize {
        self.open.len()
    }

    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// The value under `key`, made with `make` and due at `due` if there is none.
    pub fn get_or_insert_with(
        &mut self,
        key: K,
        due: Timestamp,
        make: impl FnOnce() -> V,
    ) -> &mut V {
        if !self.open.contains_key(&key) {
            self.heap.push(Reverse((due, key.clone())));
        }
        self.touches += 1;
        let touch = self.touches;
        let slot = self.open.entry(key).or_insert_with(|| (make(), due, touch));
        slot.2 = touch;
        &mut slot.0
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.open.get(key).map(|(v, ..)| v)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.touches += 1;
        let touch = self.touches;
        self.open.get_mut(key).map(|slot| {
            slot.2 = touch;
            &mut slot.0
        })
    }

    /// Move the key's due time later (never earlier: the heap entry already there stays valid).
    pub fn postpone(&mut self, key: &K, due: Timestamp) {
        if let Some((_, at, _)) = self.open.get_mut(key) {
            *at = (*at).max(due);
        }
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.open.remove(key).map(|(v, ..)| v)
    }

    /// Remove and return every key due at or before `now`.
    pub fn take_due(&mut self, now: Timestamp) -> Vec<(K, V)> {
        let mut out = Vec::new();
        while let Some(Reverse((at, _))) = self.heap.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((_, key))) = self.heap.pop() else {
                break;
            };
            match self.open.get(&key) {
                Some((_, real, _)) if *real <= now => {
                    if let Some((v, ..)) = self.open.remove(&key) {
                        out.push((key, v));
                    }
                }
                Some((_, real, _)) => self.heap.push(Reverse((*real, key))),
                None => {}
            }
        }
        out
    }

    /// Remove and return the `n` least recently touched keys, for a cap. Their heap entries
    /// stay behind and are skipped when they come up.
    pub fn take_oldest(&mut self, n: usize) -> Vec<(K, V)> {
        if n == 0 || self.open.is_empty() {
            return Vec::new();
        }
        let mut touches: Vec<u64> = self.open.values().map(|(.., t)| *t).collect();
        let n = n.min(touches.len());
        let (_, cut, _) = touches.select_nth_unstable(n - 1);
        let cut = *cut;
        let oldest: Vec<K> = self
            .open
            .iter()
            .filter(|(_, (.., t))| *t <= cut)
            .map(|(k, _)| k.clone())
            .collect();
        let out = oldest
            .into_iter()
            .filter_map(|k| self.open.remove(&k).map(|(v, ..)| (k, v)))
            .collect();
        // Entries of evicted keys would otherwise pile up until their time comes.
        if self.heap.len() > 2 * self.open.len() + 1024 {
            self.heap = self
                .open
                .iter()
                .map(|(k, (_, due, _))| Reverse((*due, k.clone())))
                .collect();
        }
        out
    }
}
