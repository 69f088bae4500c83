//! One operation, one event: duplicate records collapse (overlapping CloudTrail exports), and the
//! rows of one long-running operation (Azure Start/Accepted/Success sharing a `correlationId`,
//! GCP `first`/`last` entries of one `operation.id`) merge into one event with the final outcome.

use snaptrail_model::{Cloud, Event};
use std::collections::{HashMap, HashSet};

/// Collapse `events` in place; returns how many rows were folded into others. The result is
/// sorted by time, then cloud, then event id, so it does not depend on read order.
pub fn collapse(events: &mut Vec<Event>) -> u64 {
    sort(events);
    let mut by_id: HashSet<String> = HashSet::new();
    let mut by_op: HashMap<(Cloud, String, String), usize> = HashMap::new();
    let mut kept: Vec<Event> = Vec::with_capacity(events.len());
    let mut merged = 0u64;
    for ev in events.drain(..) {
        let id_key = ev.source_key();
        if !ev.event_id.is_empty() && by_id.contains(&id_key) {
            merged += 1;
            continue;
        }
        if let Some(op) = &ev.op_key {
            let op_key = (ev.cloud, ev.account.clone(), op.clone());
            if let Some(&i) = by_op.get(&op_key) {
                merge(&mut kept[i], ev);
                merged += 1;
                continue;
            }
            by_op.insert(op_key, kept.len());
        }
        if !ev.event_id.is_empty() {
            by_id.insert(id_key);
        }
        kept.push(ev);
    }
    *events = kept;
    merged
}

pub fn sort(events: &mut [Event]) {
    events.sort_by(|a, b| {
        (a.time, a.cloud, &a.event_id, &a.origin).cmp(&(b.time, b.cloud, &b.event_id, &b.origin))
    });
}

/// Fold a later row of the same operation into the first one.
fn merge(into: &mut Event, row: Event) {
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
