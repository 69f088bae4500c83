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
use snaptrail_model::{Cloud, Component, Event, EventRef, ResourceKind, Severity, Text};

/// How long after a restore the mount and exposure steps still belong to it.
const HORIZON: SignedDuration = SignedDuration::from_hours(24);

/// A restore waiting for its mount and exposure steps.
struct Pending {
    restore: EventRef,
    creator: Option<EventRef>,
    /// What the restore made ([`made_by`]), kept to sort steps as they come.
    made: Vec<Text>,
    /// Steps in the same account after the restore that can join its chain (see
    /// [`Pending::may_join`]); [`HORIZON`] is applied when it is reported.
    later: Vec<EventRef>,
}

/// Snapshot creations by (cloud, account, snapshot), so a restore can name its creator, and
/// restores waiting for [`HORIZON`] to pass.
pub struct RestoreChain {
    horizon: SignedDuration,
    creates: Groups<(Cloud, Text, Text), EventRef>,
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
fn made_by(restore: &Event) -> Vec<Text> {
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
        .map(|r| r.id.clone())
        .collect()
}

impl Aggregator for RestoreChain {
    fn observe(&mut self, ev: &EventRef, _cfg: &Config) {
        if !ev.outcome.success || !is_step(ev) {
            return;
        }
        for p in &mut self.pending {
            if p.restore.cloud == ev.cloud && p.restore.account == ev.account && p.may_join(ev) {
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
                made: made_by(ev),
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
    fn same_actor(&self, e: &Event) -> bool {
        e.principal == self.restore.principal
    }

    /// Whether `e` names something the restore made.
    fn touches(&self, e: &Event) -> bool {
        e.resources.iter().any(|r| self.made.contains(&r.id))
    }

    fn is_mount(&self, e: &Event) -> bool {
        (e.has_fact("attach") || e.has_fact("instance-create"))
            && (self.touches(e) || self.same_actor(e))
    }

    fn is_open(&self, e: &Event) -> bool {
        e.has_fact("ingress-world") && self.same_actor(e)
    }

    fn is_reset(&self, e: &Event) -> bool {
        e.has_fact("password-reset") && self.touches(e)
    }

    /// Whether a later step can be a mount, an exposure or a reset in [`Pending::report`]:
    /// every other step in the account (each instance launched there, say) would be held for
    /// a day by every open restore, only to be filtered out when it is reported.
    fn may_join(&self, e: &Event) -> bool {
        self.is_mount(e) || self.is_open(e) || self.is_reset(e)
    }

    fn report(self) -> Option<Finding> {
        let restore = &self.restore;
        let later = |is: fn(&Self, &Event) -> bool| -> Vec<EventRef> {
            self.later
                .iter()
                .filter(|e| e.time.duration_since(restore.time) <= HORIZON && is(&self, e))
                .cloned()
                .collect()
        };
        let mounts = later(Self::is_mount);
        let opens = later(Self::is_open);
        let resets = later(Self::is_reset);
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn event(
        minute: i64,
        principal: &str,
        component: &str,
        facts: &[&str],
        resources: &[(&str, &str)],
    ) -> EventRef {
        let resources: Vec<_> = resources
            .iter()
            .map(|(kind, id)| serde_json::json!({"kind": kind, "id": id}))
            .collect();
        Arc::new(
            serde_json::from_value(json!({
                "time": Timestamp::from_second(1_767_607_200 + minute * 60).unwrap(),
                "cloud": "aws", "account": "310987654321", "principal": principal,
                "principal_kind": "user", "service": "ec2", "operation": "Op",
                "component": component, "resources": resources, "facts": facts,
                "outcome": {"success": true}, "event_id": format!("{principal}-{minute}"),
                "origin": "test"
            }))
            .unwrap(),
        )
    }

    #[test]
    fn an_open_restore_holds_only_the_steps_that_can_join_its_chain() {
        let cfg = Config::default();
        let mut chain = RestoreChain::new(&cfg);
        let (mallory, bob) = (
            "arn:aws:iam::310987654321:user/mallory",
            "arn:aws:iam::310987654321:user/bob",
        );
        let mut events = vec![event(
            0,
            mallory,
            "restore",
            &[],
            &[("snapshot", "snap-1"), ("volume", "vol-1")],
        )];
        // A busy account: hundreds of launches by others, each a step of some chain.
        events.extend((1..=500).map(|i| {
            let who = format!("arn:aws:iam::310987654321:role/app-{i}");
            event(
                i,
                &who,
                "other",
                &["instance-create"],
                &[("instance", &format!("i-{i}"))],
            )
        }));
        // Joins: another principal attaching what the restore made, and the restorer opening
        // ingress. Not: a reset of something else, and ingress opened by someone else.
        events.push(event(
            501,
            bob,
            "other",
            &["attach"],
            &[("volume", "vol-1"), ("instance", "i-9")],
        ));
        events.push(event(
            502,
            bob,
            "other",
            &["password-reset"],
            &[("db-instance", "other-db")],
        ));
        events.push(event(
            503,
            bob,
            "other",
            &["ingress-world", "port:22"],
            &[("security-group", "sg-2")],
        ));
        events.push(event(
            504,
            mallory,
            "other",
            &["ingress-world", "port:22"],
            &[("security-group", "sg-1")],
        ));
        for ev in &events {
            chain.observe(ev, &cfg);
        }
        let held: Vec<&str> = chain.pending[0]
            .later
            .iter()
            .map(|e| e.event_id.as_str())
            .collect();
        assert_eq!(held, [format!("{bob}-501"), format!("{mallory}-504")]);

        let mut out = Vec::new();
        chain.flush(
            Timestamp::from_second(1_767_607_200 + 3 * 86400).unwrap(),
            &cfg,
            &mut out,
        );
        assert_eq!(out.len(), 1);
        let ids: Vec<&str> = out[0].events.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(
            ids,
            [
                format!("{mallory}-0"),
                format!("{bob}-501"),
                format!("{mallory}-504")
            ]
        );
    }
}
