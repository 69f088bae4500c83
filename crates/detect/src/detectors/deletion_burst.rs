//! Deletion bursts: many snapshots, AMIs, RDS snapshots, backups, recovery points, restore
//! points or GCP snapshots deleted by one principal within minutes (T1485 / T1490: destroying
//! the way back before or after an attack). Deleting backup vaults or Recycle Bin rules is
//! worse: it removes the safety net itself.

use super::Aggregator;
use super::episodes::{Episodes, span};
use crate::config::Config;
use crate::finding::Finding;
use jiff::SignedDuration;
use serde_json::json;
use snaptrail_model::{Cloud, Component, Event, Severity};
use std::collections::BTreeSet;

pub struct DeletionBurst<'e> {
    threshold: usize,
    episodes: Episodes<'e, (Cloud, String, String)>,
}

impl<'e> DeletionBurst<'e> {
    pub fn new(cfg: &Config) -> Self {
        DeletionBurst {
            threshold: cfg.deletion_burst,
            episodes: Episodes::new(SignedDuration::from_secs(cfg.burst_window_secs)),
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

impl<'e> Aggregator<'e> for DeletionBurst<'e> {
    fn observe(&mut self, ev: &'e Event, _cfg: &Config) {
        if ev.component == Component::Delete && ev.outcome.success {
            self.episodes
                .push((ev.cloud, ev.account.clone(), ev.principal.clone()), ev);
        }
    }

    fn finish(self: Box<Self>, _cfg: &Config) -> Vec<Finding<'e>> {
        let threshold = self.threshold;
        let mut out = Vec::new();
        for ((_, _, principal), events) in self.episodes.finish() {
            let net = events.iter().filter(|e| removes_safety_net(e)).count();
            if events.len() < threshold && net == 0 {
                continue;
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
            out.push(f);
        }
        out
    }
}
