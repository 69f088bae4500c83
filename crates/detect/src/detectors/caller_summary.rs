//! The seed detection done right: per caller and cloud, over a tumbling event-time window,
//! count snapshot operations and score them as the seed does — with its defects fixed:
//! the real `CREATE_VOLUME_PERMISSION` shares count, removes are not shares, public and RDS
//! shares are scored, off-hours is judged in the organization's zone and weekends count, failed
//! calls are counted apart, Azure Start/Success rows are one operation, GCP is covered.

use super::groups::Groups;
use super::{Aggregator, T_CREATE_SNAPSHOT, T_TRANSFER};
use crate::config::Config;
use crate::context::{TargetClass, classify_target, hours};
use crate::finding::Finding;
use jiff::Timestamp;
use serde_json::json;
use snaptrail_model::{Cloud, Component, Event, EventRef, Severity, ShareAction, Text};
use std::collections::BTreeSet;

pub const DETECTOR: &str = "snapshot.caller_summary";

/// Open windows by (cloud, caller, window start), due when the window ends.
pub struct CallerSummary {
    window: i64,
    groups: Groups<(Cloud, String, i64), Vec<EventRef>>,
}

impl CallerSummary {
    pub fn new(cfg: &Config) -> CallerSummary {
        CallerSummary {
            window: cfg.window_secs,
            groups: Groups::default(),
        }
    }
}

/// The operations the caller summary counts: creating, sharing and exporting copies.
pub fn counts(ev: &Event) -> bool {
    matches!(
        ev.component,
        Component::Create | Component::Share | Component::Unshare | Component::Export
    )
}

impl Aggregator for CallerSummary {
    fn observe(&mut self, ev: &EventRef, _cfg: &Config) {
        if !counts(ev) {
            return;
        }
        let start = ev.time.as_second().div_euclid(self.window) * self.window;
        let end = Timestamp::from_second(start + self.window).unwrap_or(Timestamp::MAX);
        self.groups
            .get_or_insert_with((ev.cloud, ev.principal.clone(), start), end, Vec::new)
            .push(ev.clone());
    }

    fn flush(&mut self, now: Timestamp, cfg: &Config, out: &mut Vec<Finding>) {
        for group in self.groups.take_due(now) {
            out.extend(self.report(group, cfg));
        }
    }

    fn keys(&self) -> usize {
        self.groups.len()
    }

    fn evict(&mut self, n: usize, cfg: &Config, out: &mut Vec<Finding>) -> usize {
        let closed = self.groups.take_oldest(n);
        let count = closed.len();
        for group in closed {
            out.extend(self.report(group, cfg));
        }
        count
    }
}

impl CallerSummary {
    /// The seed's summary row for one caller's window, when it has something to say.
    fn report(
        &self,
        ((cloud, principal, start), events): ((Cloud, String, i64), Vec<EventRef>),
        cfg: &Config,
    ) -> Option<Finding> {
        let mut stats = Stats::default();
        for ev in &events {
            stats.add(cfg, ev);
        }
        let shares = stats.external_shares + stats.public_shares + stats.internal_shares;
        if stats.snapshot_count <= 1 && shares == 0 {
            return None;
        }
        let bulk = stats.snapshot_count > cfg.bulk_snapshots as usize;
        let (seed_score, why) = if stats.external_shares + stats.public_shares > 0 {
            (3, "any external or public share")
        } else if bulk && stats.off_hours > 0 {
            (
                3,
                "more than thresholds.bulk_snapshots operations, some off-hours",
            )
        } else if bulk {
            (2, "more than thresholds.bulk_snapshots operations")
        } else {
            (1, "more than one operation or an internal share")
        };
        let severity = match seed_score {
            3 => Severity::High,
            2 => Severity::Medium,
            _ => Severity::Low,
        };
        let mut f = Finding::new(DETECTOR, severity, &[T_CREATE_SNAPSHOT, T_TRANSFER], events);
        f.point(
            [0, 20, 45, 70][seed_score],
            format!("seed score {seed_score}: {why}"),
        );
        if stats.external_shares > 0 {
            f.tag("external");
        }
        if stats.public_shares > 0 {
            f.tag("public");
        }
        if bulk {
            f.tag("burst");
        }
        f.title = format!(
            "{principal}: {} {} snapshot operations in {}h ({} external, {} public shares, {} off-hours)",
            stats.snapshot_count,
            cloud.as_str(),
            self.window / 3600,
            stats.external_shares,
            stats.public_shares,
            stats.off_hours,
        );
        f.share_targets = stats.targets.iter().map(Text::to_string).collect();
        let window_start = jiff::Timestamp::from_second(start).unwrap_or_default();
        let window_end = jiff::Timestamp::from_second(start + self.window).unwrap_or_default();
        f.evidence("window_start", json!(window_start));
        f.evidence("window_end", json!(window_end));
        f.evidence("caller", json!(principal));
        f.evidence("cloud", json!(cloud));
        f.evidence("snapshot_count", json!(stats.snapshot_count));
        f.evidence("external_share_count", json!(stats.external_shares));
        f.evidence("public_share_count", json!(stats.public_shares));
        f.evidence("internal_share_count", json!(stats.internal_shares));
        f.evidence("off_hours_count", json!(stats.off_hours));
        f.evidence("weekend_count", json!(stats.weekend));
        f.evidence("failed_count", json!(stats.failed));
        f.evidence("unique_source_ips", json!(stats.ips.len()));
        f.evidence("operations", json!(stats.operations));
        f.evidence("resources", json!(stats.resources));
        f.evidence("seed_score", json!(seed_score));
        Some(f)
    }
}

#[derive(Default)]
struct Stats {
    snapshot_count: usize,
    external_shares: usize,
    public_shares: usize,
    internal_shares: usize,
    off_hours: usize,
    weekend: usize,
    failed: usize,
    ips: BTreeSet<Text>,
    operations: BTreeSet<Text>,
    resources: BTreeSet<Text>,
    targets: BTreeSet<Text>,
}

impl Stats {
    fn add(&mut self, cfg: &Config, ev: &Event) {
        self.operations.insert(ev.operation.clone());
        self.resources.extend(ev.resource_ids().map(Text::from));
        self.ips.extend(ev.source_ip.clone());
        if !ev.outcome.success {
            // Failed calls are evidence of intent, not snapshots: counted apart.
            self.failed += 1;
            return;
        }
        self.snapshot_count += 1;
        let h = hours(cfg, ev.time);
        self.off_hours += usize::from(h.off_hours);
        self.weekend += usize::from(h.weekend);
        let worst = ev
            .share_targets
            .iter()
            .filter(|t| t.action == ShareAction::Add && ev.component == Component::Share)
            .map(|t| {
                self.targets.insert(t.id.clone());
                classify_target(cfg, ev, t)
            })
            .max();
        match worst {
            Some(TargetClass::Public) => self.public_shares += 1,
            Some(TargetClass::External) => self.external_shares += 1,
            Some(_) => self.internal_shares += 1,
            None => {}
        }
    }
}
