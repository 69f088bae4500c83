//! One operation, one event: duplicate records collapse (overlapping CloudTrail exports), and the
//! rows of one long-running operation (Azure Start/Accepted/Success sharing a `correlationId`,
//! GCP `first`/`last` entries of one `operation.id`) merge into one event with the final outcome.

use jiff::{SignedDuration, Timestamp};
use snaptrail_model::{Cloud, Event, EventRef, Text};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Collapse `events` in place; returns how many rows were folded into others. The result is
/// sorted by time, then cloud, then event id, so it does not depend on read order.
pub fn collapse(events: &mut Vec<Event>) -> u64 {
    sort(events);
    let mut collapser = Collapser::default();
    let mut kept = Vec::with_capacity(events.len());
    for ev in events.drain(..) {
        collapser.push(Arc::new(ev), &mut |e| kept.push(Arc::unwrap_or_clone(e)));
    }
    let merged = collapser.merged;
    collapser.finish(&mut |e| kept.push(Arc::unwrap_or_clone(e)));
    *events = kept;
    merged
}

/// How long a row of an operation that has not reported its final status waits for the rest.
const OPEN_OPERATION: SignedDuration = SignedDuration::from_hours(24);
/// How long a finished operation waits for stray rows (a repeated final status).
const FINISHED_OPERATION: SignedDuration = SignedDuration::from_mins(15);
/// Events held at most, behind operations waiting for their rows, before the oldest go out.
const MAX_HELD: usize = 200_000;

/// Streaming collapse over events in time order ([`sort`]'s order): duplicates of a source
/// record (always at the same instant) are dropped, and later rows of an operation merge into
/// its first row. An event with an operation key is held until the operation's final row came
/// (plus a grace) or [`OPEN_OPERATION`] passed, and events after it wait behind it so the output
/// stays in time order. Everything else goes straight through. Events travel as the `Arc` the
/// detectors keep, made once when a run is read back: moving a few hundred bytes at each step
/// of the merge, the collapse and into the detectors was a sixth of the time after the readers
/// finished, and boxing them first cost an allocation and a copy more per event.
#[derive(Default)]
pub struct Collapser {
    held: VecDeque<EventRef>,
    /// Sequence number of `held[0]`.
    base: u64,
    /// Operation key to the sequence number of its first row, while held.
    ops: HashMap<(Cloud, Text, String), u64>,
    /// The current source record: events of one instant, cloud and id come one after another
    /// in [`sort`]'s order, and a duplicate is one whose operation the record already had.
    /// Buffers reused from record to record (formatting a key per event was a tenth of a hunt's
    /// time after the readers finished).
    record: Option<(Timestamp, Cloud)>,
    record_id: String,
    record_ops: String,
    record_op_ends: Vec<usize>,
    /// Rows folded into others.
    pub merged: u64,
    /// Events sent out early because [`MAX_HELD`] was reached.
    pub forced: u64,
}

impl Collapser {
    pub fn push(&mut self, ev: EventRef, out: &mut impl FnMut(EventRef)) {
        let now = ev.time;
        if !ev.event_id.is_empty() && self.is_duplicate(&ev) {
            self.merged += 1;
            return;
        }
        if let Some(op) = &ev.op_key {
            let key = (ev.cloud, ev.account.clone(), op.clone());
            match self.ops.get(&key) {
                Some(&seq) if seq >= self.base => {
                    merge(
                        Arc::make_mut(&mut self.held[(seq - self.base) as usize]),
                        ev,
                    );
                    self.merged += 1;
                    self.release(now, out);
                    return;
                }
                // Its first row has gone out: this row stands alone.
                _ => {}
            }
            self.ops.insert(key, self.base + self.held.len() as u64);
        }
        self.held.push_back(ev);
        self.release(now, out);
    }

    /// Has the source record of `ev` (same instant, cloud and id, as [`Event::source_key`]
    /// compares) already come with this operation? Remembers the operation if not.
    fn is_duplicate(&mut self, ev: &Event) -> bool {
        if self.record != Some((ev.time, ev.cloud)) || self.record_id != ev.event_id {
            self.record = Some((ev.time, ev.cloud));
            self.record_id.clear();
            self.record_id.push_str(&ev.event_id);
            self.record_ops.clear();
            self.record_op_ends.clear();
        }
        let mut start = 0;
        for &end in &self.record_op_ends {
            if self.record_ops[start..end] == *ev.operation {
                return true;
            }
            start = end;
        }
        self.record_ops.push_str(&ev.operation);
        self.record_op_ends.push(self.record_ops.len());
        false
    }

    /// The stream ended: send out everything held.
    pub fn finish(mut self, out: &mut impl FnMut(EventRef)) {
        self.release(Timestamp::MAX, out);
    }

    fn release(&mut self, now: Timestamp, out: &mut impl FnMut(EventRef)) {
        while let Some(front) = self.held.front() {
            let hold = match (&front.op_key, front.op_final) {
                (None, _) => SignedDuration::ZERO,
                (Some(_), true) => FINISHED_OPERATION,
                (Some(_), false) => OPEN_OPERATION,
            };
            let due = front.time.checked_add(hold).unwrap_or(Timestamp::MAX) <= now;
            if !due {
                if self.held.len() <= MAX_HELD {
                    break;
                }
                self.forced += 1;
            }
            let Some(ev) = self.held.pop_front() else {
                break;
            };
            if let Some(op) = &ev.op_key {
                let key = (ev.cloud, ev.account.clone(), op.clone());
                if self.ops.get(&key) == Some(&self.base) {
                    self.ops.remove(&key);
                }
            }
            self.base += 1;
            out(ev);
        }
    }
}

/// Put events in the order [`Collapser`] and the spool's merge expect. Positions are sorted,
/// not events: an event is a few hundred bytes, and a merge sort moving them spent a tenth of a
/// hunt heavy in relevant records in `memmove`. The order is then applied in place, one swap
/// per event, cycle by cycle (no second buffer of events to fault in).
pub fn sort(events: &mut [Event]) {
    let mut by = sorted_positions(events);
    for start in 0..by.len() {
        let mut at = start;
        // `by[at]` is where the event that belongs at `at` is now; `at` once placed.
        while by[at] != start {
            let from = by[at];
            events.swap(at, from);
            by[at] = at;
            at = from;
        }
        by[at] = at;
    }
}

/// Positions of `events` in [`sort`]'s order (a stable sort, as `sort` is).
pub fn sorted_positions(events: &[Event]) -> Vec<usize> {
    let mut by: Vec<usize> = (0..events.len()).collect();
    by.sort_by(|&a, &b| order(&events[a], &events[b]));
    by
}

/// [`sort`]'s order: time, then a tie-break that does not depend on input order.
pub fn order(a: &Event, b: &Event) -> std::cmp::Ordering {
    (a.time, a.cloud, &a.event_id, &a.origin).cmp(&(b.time, b.cloud, &b.event_id, &b.origin))
}

/// Fold a later row of the same operation into the first one.
fn merge(into: &mut Event, row: EventRef) {
    let row = Arc::unwrap_or_clone(row);
    if row.event_id != into.event_id
        && !into.merged_ids.contains(&row.event_id)
        && !row.event_id.is_empty()
    {
        into.merged_ids.push(row.event_id);
    }
    // A failure anywhere fails the operation; otherwise the final row's outcome stands.
    if !row.outcome.success || (row.op_final && into.outcome.success) {
        into.outcome = row.outcome;
    }
    into.op_final |= row.op_final;
    if into.component == snaptrail_model::Component::Other {
        into.component = row.component;
    }
    if into.principal == "unknown" && row.principal != "unknown" {
        into.principal = row.principal;
        into.principal_kind = row.principal_kind;
    }
    into.source_ip = into.source_ip.take().or(row.source_ip);
    into.user_agent = into.user_agent.take().or(row.user_agent);
    into.region = into.region.take().or(row.region);
    for r in row.resources {
        if !into.resources.contains(&r) {
            into.resources.push(r);
        }
    }
    for t in row.share_targets {
        if !into.share_targets.contains(&t) {
            into.share_targets.push(t);
        }
    }
    for f in row.facts {
        if !into.facts.contains(&f) {
            into.facts.push(f);
        }
    }
    for t in row.request_tags {
        if !into.request_tags.contains(&t) {
            into.request_tags.push(t);
        }
    }
}
