//! The restore chain inside an account: a snapshot turned into a volume, disk or database,
//! mounted on a new instance, then exposed — ingress opened to the world, or the restored
//! database's master password reset. Each step alone is routine operations; together they are
//! how an attacker reads a copy of the data without touching the running machine.

use super::{Aggregator, T_CREATE_SNAPSHOT};
use crate::config::Config;
use crate::finding::{Finding, describe_resource};
use jiff::SignedDuration;
use serde_json::json;
use snaptrail_model::{Cloud, Component, Event, ResourceKind, Severity};
use std::collections::{BTreeMap, HashSet};

/// How long after a restore the mount and exposure steps still belong to it.
const HORIZON: SignedDuration = SignedDuration::from_hours(24);

#[derive(Default)]
pub struct RestoreChain<'e> {
    by_account: BTreeMap<(Cloud, String), Vec<&'e Event>>,
}

fn is_step(ev: &Event) -> bool {
    ev.component == Component::Restore
        || ev.has_fact("attach")
        || ev.has_fact("instance-create")
        || ev.has_fact("ingress-world")
        || ev.has_fact("password-reset")
        || (ev.component == Component::Create
            && ev
                .resources
                .iter()
                .any(|r| r.kind == ResourceKind::Snapshot))
}

/// What a restore made: the volume, disk, instance or database that now holds the data.
fn made_by(restore: &Event) -> HashSet<&str> {
    restore
        .resources
        .iter()
        .filter(|r| {
            matches!(
                r.kind,
                ResourceKind::Volume
                    | ResourceKind::Disk
                    | ResourceKind::DbInstance
                    | ResourceKind::DbCluster
                    | ResourceKind::Instance
            )
        })
        .map(|r| r.id.as_str())
        .collect()
}

impl<'e> Aggregator<'e> for RestoreChain<'e> {
    fn observe(&mut self, ev: &'e Event, _cfg: &Config) {
        if ev.outcome.success && is_step(ev) {
            self.by_account
                .entry((ev.cloud, ev.account.clone()))
                .or_default()
                .push(ev);
        }
    }

    fn finish(self: Box<Self>, _cfg: &Config) -> Vec<Finding<'e>> {
        let mut out = Vec::new();
        for events in self.by_account.values() {
            for (i, restore) in events
                .iter()
                .enumerate()
                .filter(|(_, e)| e.component == Component::Restore)
            {
                let made = made_by(restore);
                let later = || {
                    events[i + 1..]
                        .iter()
                        .filter(|e| e.time.duration_since(restore.time) <= HORIZON)
                };
                let same_actor = |e: &&&Event| e.principal == restore.principal;
                let touches =
                    |e: &&&Event| e.resources.iter().any(|r| made.contains(r.id.as_str()));
                let mounts: Vec<&Event> = later()
                    .filter(|e| {
                        (e.has_fact("attach") || e.has_fact("instance-create"))
                            && (touches(e) || same_actor(e))
                    })
                    .copied()
                    .collect();
                let opens: Vec<&Event> = later()
                    .filter(|e| e.has_fact("ingress-world") && same_actor(e))
                    .copied()
                    .collect();
                let resets: Vec<&Event> = later()
                    .filter(|e| e.has_fact("password-reset") && touches(e))
                    .copied()
                    .collect();
                // A restore that also mounts (RunInstances from a snapshot) counts as mounted.
                let mounted = !mounts.is_empty() || restore.has_fact("instance-create");
                if !((mounted && !opens.is_empty()) || !resets.is_empty()) {
                    continue;
                }
                let snapshots: HashSet<&str> = restore
                    .resources
                    .iter()
                    .filter(|r| {
                        r.kind == ResourceKind::Snapshot || r.kind == ResourceKind::DbSnapshot
                    })
                    .map(|r| r.id.as_str())
                    .collect();
                let creator = events[..i].iter().rev().find(|e| {
                    e.component == Component::Create
                        && e.resources
                            .iter()
                            .any(|r| snapshots.contains(r.id.as_str()))
                });
                let mut chain: Vec<&Event> = creator.into_iter().copied().collect();
                chain.push(restore);
                chain.extend(mounts.iter().chain(&opens).chain(&resets));
                chain.sort_by_key(|e| (e.event_id != restore.event_id, e.time));
                chain.dedup_by_key(|e| e.event_id.as_str());
                let mut f = Finding::new(
                    "snapshot.chain.restore",
                    Severity::High,
                    &[T_CREATE_SNAPSHOT, "T1578.002"],
                    chain,
                );
                f.title = format!(
                    "{} restored by {}, mounted and exposed ({})",
                    describe_resource(restore),
                    restore.principal,
                    if resets.is_empty() {
                        "ingress opened to the world"
                    } else {
                        "master password reset"
                    }
                );
                f.point(
                    50,
                    format!("restored from a snapshot ({})", restore.operation),
                );
                if mounted {
                    f.point(10, "attached to an instance");
                }
                if !opens.is_empty() {
                    f.point(
                        25,
                        format!(
                            "ingress opened to 0.0.0.0/0 or ::/0 ({})",
                            opens
                                .iter()
                                .flat_map(|e| e
                                    .facts
                                    .iter()
                                    .filter(|f| f.starts_with("port"))
                                    .cloned())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                }
                if !resets.is_empty() {
                    f.point(25, "master password of the restored database reset");
                }
                if let Some(c) = creator.filter(|c| c.principal != restore.principal) {
                    f.point(
                        10,
                        format!(
                            "restored by another principal than the snapshot's creator ({})",
                            c.principal
                        ),
                    );
                }
                f.tag("chain");
                f.evidence("restore", json!(restore.event_id));
                f.evidence(
                    "mount",
                    json!(mounts.iter().map(|e| &e.event_id).collect::<Vec<_>>()),
                );
                f.evidence(
                    "expose",
                    json!(
                        opens
                            .iter()
                            .chain(&resets)
                            .map(|e| &e.event_id)
                            .collect::<Vec<_>>()
                    ),
                );
                out.push(f);
            }
        }
        out
    }
}
