//! Episodes on event time: consecutive events of one key, each within `gap` of the previous.
//! The building block of the burst detectors: it never looks at the wall clock, so replaying
//! old logs gives the same episodes as watching them live.

use jiff::{SignedDuration, Timestamp};
use snaptrail_model::Event;
use std::collections::BTreeMap;

pub struct Episodes<'e, K: Ord> {
    gap: SignedDuration,
    open: BTreeMap<K, Vec<&'e Event>>,
    closed: Vec<(K, Vec<&'e Event>)>,
}

impl<'e, K: Ord + Clone> Episodes<'e, K> {
    pub fn new(gap: SignedDuration) -> Self {
        Episodes {
            gap,
            open: BTreeMap::new(),
            closed: Vec::new(),
        }
    }

    /// Add an event (events arrive in time order per key).
    pub fn push(&mut self, key: K, ev: &'e Event) {
        let entry = self.open.entry(key.clone()).or_default();
        if let Some(last) = entry.last()
            && ev.time.duration_since(last.time) > self.gap
        {
            let done = std::mem::take(entry);
            self.closed.push((key, done));
        }
        entry.push(ev);
    }

    /// Every episode, closed or still open, in key then time order.
    pub fn finish(mut self) -> Vec<(K, Vec<&'e Event>)> {
        self.closed.extend(self.open);
        self.closed
            .sort_by(|a, b| a.0.cmp(&b.0).then(a.1[0].time.cmp(&b.1[0].time)));
        self.closed
    }
}

pub fn span(events: &[&Event]) -> (Timestamp, Timestamp) {
    let first = events.first().map(|e| e.time).unwrap_or_default();
    let last = events.last().map(|e| e.time).unwrap_or_default();
    (first, last)
}
