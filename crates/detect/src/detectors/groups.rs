//! The open state of a streaming aggregator: values by key, each with the event time it is due
//! (its window ends, its episode goes quiet, its chain horizon passes). Due keys are found with
//! a min-heap of (due, key) and lazy deletion: a key that was postponed keeps its old heap
//! entry, and when that entry comes up the key is scheduled again at its real time. So the heap
//! holds about one entry per open key, and flushing costs only the keys that are due.

use jiff::Timestamp;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::Hash;

pub struct Groups<K, V> {
    open: HashMap<K, (V, Timestamp)>,
    heap: BinaryHeap<Reverse<(Timestamp, K)>>,
}

impl<K, V> Default for Groups<K, V> {
    fn default() -> Self {
        Groups {
            open: HashMap::new(),
            heap: BinaryHeap::new(),
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
        &mut self.open.entry(key).or_insert_with(|| (make(), due)).0
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.open.get(key).map(|(v, _)| v)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.open.get_mut(key).map(|(v, _)| v)
    }

    /// Move the key's due time later (never earlier: the heap entry already there stays valid).
    pub fn postpone(&mut self, key: &K, due: Timestamp) {
        if let Some((_, at)) = self.open.get_mut(key) {
            *at = (*at).max(due);
        }
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.open.remove(key).map(|(v, _)| v)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.open.iter().map(|(k, (v, _))| (k, v))
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
                Some((_, real)) if *real <= now => {
                    if let Some((v, _)) = self.open.remove(&key) {
                        out.push((key, v));
                    }
                }
                Some((_, real)) => self.heap.push(Reverse((*real, key))),
                None => {}
            }
        }
        out
    }

    /// Remove and return the `n` keys due soonest: the least recently active, for a cap.
    pub fn take_oldest(&mut self, n: usize) -> Vec<(K, V)> {
        let mut out = Vec::new();
        while out.len() < n {
            let Some(Reverse((at, key))) = self.heap.pop() else {
                break;
            };
            match self.open.get(&key) {
                Some((_, real)) if *real <= at => {
                    if let Some((v, _)) = self.open.remove(&key) {
                        out.push((key, v));
                    }
                }
                Some((_, real)) => self.heap.push(Reverse((*real, key))),
                None => {}
            }
        }
        out
    }
}
