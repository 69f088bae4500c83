//! Episodes on event time: consecutive events of one key, each within `gap` of the previous.
//! The building block of the burst detectors: it never looks at the wall clock, so replaying
//! old logs gives the same episodes as watching them live. An episode is due once the stream
//! has gone `gap` past its last event, plus a `linger` for detectors that look past its end.

use super::groups::Groups;
use jiff::{SignedDuration, Timestamp};
use snaptrail_model::EventRef;
use std::hash::Hash;

pub struct Episode<A> {
    pub events: Vec<EventRef>,
    /// What the detector attaches while the episode is open (e.g. follow-up creations).
    pub extra: A,
}

pub struct Episodes<K, A> {
    gap: SignedDuration,
    linger: SignedDuration,
    open: Groups<K, Episode<A>>,
}

impl<K: Hash + Eq + Ord + Clone, A: Default> Episodes<K, A> {
    pub fn new(gap: SignedDuration, linger: SignedDuration) -> Self {
        Episodes {
            gap,
            linger,
            open: Groups::default(),
        }
    }

    /// Add an event (events arrive in time order). Returns the episode of the same key it ended,
    /// if the gap since that episode's last event was too long.
    pub fn push(&mut self, key: K, ev: &EventRef) -> Option<(K, Episode<A>)> {
        let ended = match self.open.get(&key).and_then(|ep| ep.events.last()) {
            Some(last) if ev.time.duration_since(last.time) > self.gap => {
                self.open.remove(&key).map(|ep| (key.clone(), ep))
            }
            _ => None,
        };
        let due = ev.time + self.gap + self.linger + SignedDuration::from_nanos(1);
        self.open
            .get_or_insert_with(key.clone(), due, || Episode {
                events: Vec::new(),
                extra: A::default(),
            })
            .events
            .push(ev.clone());
        self.open.postpone(&key, due);
        ended
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut Episode<A>> {
        self.open.get_mut(key)
    }

    pub fn take_due(&mut self, now: Timestamp) -> Vec<(K, Episode<A>)> {
        self.open.take_due(now)
    }

    pub fn take_oldest(&mut self, n: usize) -> Vec<(K, Episode<A>)> {
        self.open.take_oldest(n)
    }

    pub fn len(&self) -> usize {
        self.open.len()
    }

    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }
}

pub fn span(events: &[EventRef]) -> (Timestamp, Timestamp) {
    let first = events.first().map(|e| e.time).unwrap_or_default();
    let last = events.last().map(|e| e.time).unwrap_or_default();
    (first, last)
}
