//! The restore chain inside an account: a snapshot turned into a volume, disk or database,
//! mounted on a new instance, then exposed — ingress opened to the world, or the restored
//! database's master password reset. Each step alone is routine operations; together they are
//! how an attacker reads a copy of the data without touching the running machine.

use super::groups::Groups;
use super::{Aggregator, T_CREATE_SNAPSHOT};
use crate::config::Config;
use crate::finding::{Finding, describe_resource};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use snaptrail_model::{Cloud, Component, Event, EventRef, ResourceKind, Severity};
use std::collections::HashSet;

/// How long after a restore the mount and exposure steps still belong to it.
const HORIZON: SignedDuration = SignedDuration::from_hours(24);

/// A restore waiting for its mount and exposure steps.
struct Pending {
    restore: EventRef,
    creator: Option<EventRef>,
    /// Steps in the same account after the restore, within [`HORIZON`].
    later: Vec<EventRef>,
}

/// Snapshot creations by (cloud, account, snapshot), so a restore can name its creator, and
/// restores waiting for [`HORIZON`] to pass.
pub struct RestoreChain {
    horizon: SignedDuration,
    creates: Groups<(Cloud, String, String), EventRef>,
    pending: Vec<Pending>,
}

impl RestoreChain {
    pub fn new(cfg: &Config) -> Self {
        RestoreChain {
            horizon: SignedDuration::from_secs(cfg.chain_horizon_secs),
            creates: Groups::default(),
            pending: Vec::new(),
        }
    }
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

impl Aggregator for RestoreChain {
    fn observe(&mut self, ev: &EventRef, _cfg: &Config) {
        if !ev.outcome.success || !is_step(ev) {
            return;
        }
        for p in &mut self.pending {
            if p.restore.account == ev.account && p.restore.cloud == ev.cloud {
                p.later.push(ev.clone());
            }
        }
        if ev.component == Component::Create {
            for r in ev
                .resources
                .iter()
                .filter(|r| r.kind == ResourceKind::Snapshot)
            {
                let key = (ev.cloud, ev.account.clone(), r.id.clone());
                let due = ev.time + self.horizon;
                *self
                    .creates
                    .get_or_insert_with(key.clone(), due, || ev.clone()) = ev.clone();
                self.creates.postpone(&key, due);
            }
        }
        if ev.component == Component::Restore {
            // The latest creation of a snapshot this restore read.
            let creator = ev
                .resources
                .iter()
                .filter(|r| r.kind == ResourceKind::Snapshot || r.kind == ResourceKind::DbSnapshot)
                .filter_map(|r| {
                    self.creates
                        .get(&(ev.cloud, ev.account.clone(), r.id.clone()))
                        .filter(|c| c.time <= ev.time)
                })
                .max_by_key(|c| c.time)
                .cloned();
            self.pending.push(Pending {
                restore: ev.clone(),
                creator,
                later: Vec::new(),
            });
        }
    }

    fn flush(&mut self, now: Timestamp, _cfg: &Config, out: &mut Vec<Finding>) {
        self.creates.take_due(now);
        if self.pending.iter().all(|p| p.restore.time + HORIZON >= now) {
            return;
        }
        let (due, waiting) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|p| p.restore.time + HORIZON < now);
        self.pending = waiting;
        out.extend(due.into_iter().filter_map(|p: Pending| p.report()));
    }

    fn keys(&self) -> usize {
        self.creates.len() + self.pending.len()
    }

    fn evict(&mut self, n: usize, _cfg: &Config, out: &mut Vec<Finding>) -> usize {
        // Restores are few; creations are what a flood of snapshots fills.
        let mut count = self.creates.take_oldest(n).len();
        if count < n && !self.pending.is_empty() {
            let k = (n - count).min(self.pending.len());
            count += k;
            out.extend(self.pending.drain(..k).filter_map(|p| p.report()));
        }
        count
    }
}

impl Pending {
    fn report(self) -> Option<Finding> {
        let restore = &self.restore;
        let made = made_by(restore);
        let later = || {
            self.later
                .iter()
                .filter(|e| e.time.duration_since(restore.time) <= HORIZON)
        };
        let same_actor = |e: &&EventRef| e.principal == restore.principal;
        let touches = |e: &&EventRef| e.resources.iter().any(|r| made.contains(r.id.as_str()));
        let mounts: Vec<EventRef> = later()
            .filter(|e| {
                (e.has_fact("attach") || e.has_fact("instance-create"))
                    && (touches(e) || same_actor(e))
            })
            .cloned()
            .collect();
        let opens: Vec<EventRef> = later()
            .filter(|e| e.has_fact("ingress-world") && same_actor(e))
            .cloned()
            .collect();
        let resets: Vec<EventRef> = later()
            .filter(|e| e.has_fact("password-reset") && touches(e))
            .cloned()
            .collect();
        let creator = self.creator.as_ref();
        // A restore that also mounts (RunInstances from a snapshot) counts as mounted.
        let mounted = !mounts.is_empty() || restore.has_fact("instance-create");
        if !((mounted && !opens.is_empty()) || !resets.is_empty()) {
            return None;
        }
        let mut chain: Vec<EventRef> = creator.into_iter().cloned().collect();
        chain.push(restore.clone());
        chain.extend(mounts.iter().chain(&opens).chain(&resets).cloned());
        chain.sort_by_key(|e| (e.event_id != restore.event_id, e.time));
        chain.dedup_by(|a, b| a.event_id == b.event_id);
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
                        .flat_map(|e| e.facts.iter().filter(|f| f.starts_with("port")).cloned())
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
        Some(f)
    }
}
