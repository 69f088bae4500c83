//! Deletion bursts: many snapshots, AMIs, RDS snapshots, backups, recovery points, restore
//! points or GCP snapshots deleted by one principal within minutes (T1485 / T1490: destroying
//! the way back before or after an attack). Deleting backup vaults or Recycle Bin rules is
//! worse: it removes the safety net itself.

use super::Aggregator;
use super::episodes::{Episode, Episodes, span};
use crate::config::Config;
use crate::finding::Finding;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use snaptrail_model::{Cloud, Component, Event, EventRef, Severity, Text};
use std::collections::BTreeSet;

type Key = (Cloud, Text, String);

pub struct DeletionBurst {
    threshold: usize,
    episodes: Episodes<Key, ()>,
    /// Episodes ended by a new one of the same key, reported at the next flush.
    pending: Vec<(Key, Episode<()>)>,
}

impl DeletionBurst {
    pub fn new(cfg: &Config) -> Self {
        DeletionBurst {
            threshold: cfg.deletion_burst,
            episodes: Episodes::new(
                SignedDuration::from_secs(cfg.burst_window_secs),
                SignedDuration::ZERO,
            ),
            pending: Vec::new(),
        }
    }
}

/// Deletions that remove the recovery mechanism itself rather than one copy.
fn removes_safety_net(ev: &Event) -> bool {
    matches!(
        ev.operation.as_str(),
        "DeleteBackupVault"
            | "DeleteBackupPlan"
            | "DeleteRule"
            | "UpdateRule"
            | "DeleteDBInstanceAutomatedBackup"
            | "DeleteDBClusterAutomatedBackup"
    ) || ev.has_fact("backup-retention-zero")
        || ev
            .operation
            .to_ascii_lowercase()
            .starts_with("microsoft.recoveryservices/")
}

impl Aggregator for DeletionBurst {
    fn observe(&mut self, ev: &EventRef, _cfg: &Config) {
        if ev.component == Component::Delete && ev.outcome.success {
            let key = (ev.cloud, ev.account.clone(), ev.principal.clone());
            if let Some(ended) = self.episodes.push(key, ev) {
                self.pending.push(ended);
            }
        }
    }

    fn flush(&mut self, now: Timestamp, _cfg: &Config, out: &mut Vec<Finding>) {
        let mut done = std::mem::take(&mut self.pending);
        done.extend(self.episodes.take_due(now));
        out.extend(done.into_iter().filter_map(|ep| self.report(ep)));
    }

    fn keys(&self) -> usize {
        self.episodes.len()
    }

    fn evict(&mut self, n: usize, _cfg: &Config, out: &mut Vec<Finding>) -> usize {
        let closed = self.episodes.take_oldest(n);
        let count = closed.len();
        out.extend(closed.into_iter().filter_map(|ep| self.report(ep)));
        count
    }
}

impl DeletionBurst {
    fn report(&self, ((_, _, principal), episode): (Key, Episode<()>)) -> Option<Finding> {
        let threshold = self.threshold;
        let events = episode.events;
        let net = events.iter().filter(|e| removes_safety_net(e)).count();
        if events.len() < threshold && net == 0 {
            return None;
        }
        let (first, last) = span(&events);
        let severity = if net > 0 {
            Severity::Critical
        } else {
            Severity::High
        };
        let mut f = Finding::new(
            "snapshot.delete.burst",
            severity,
            &["T1485", "T1490"],
            events.clone(),
        );
        let minutes = last.duration_since(first).as_secs() / 60;
        f.title = format!(
            "{} snapshot/backup deletions by {principal} within {minutes} min",
            events.len()
        );
        if events.len() >= threshold {
            f.point(60, format!("{} deletions, at least thresholds.deletion_burst ({threshold}) with no gap over the burst window", events.len()));
            f.tag("burst");
        }
        if net > 0 {
            f.point(30, format!("{net} deletions remove recovery itself (backup vaults/plans, Recycle Bin rules, automated backups, retention 0)"));
        }
        let ops: BTreeSet<&str> = events.iter().map(|e| e.operation.as_str()).collect();
        f.evidence("operations", json!(ops));
        f.evidence("deletions", json!(events.len()));
        f.evidence(
            "duration_seconds",
            json!(last.duration_since(first).as_secs()),
        );
        Some(f)
    }
}
