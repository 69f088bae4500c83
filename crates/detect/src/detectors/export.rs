//! Snapshot export: Azure SAS download URLs (`beginGetAccess`), EC2 image/instance export tasks,
//! RDS `StartExportTask`, EBS direct-API block reads. Block reads come in thousands per snapshot,
//! so events are grouped per principal, operation family and resource into one alert.

use super::groups::Groups;
use super::{Aggregator, T_CREATE_SNAPSHOT, T_TRANSFER};
use crate::config::Config;
use crate::finding::{Finding, describe_resource};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use snaptrail_model::{Component, EventRef, Severity, Text};

/// An export group ends after this long without another export of the same kind.
const QUIET: SignedDuration = SignedDuration::from_hours(24);

type Key = (Text, String, &'static str, Text);

/// Open groups by (account, principal, family, resource), due when quiet for [`QUIET`].
#[derive(Default)]
pub struct Exports {
    groups: Groups<Key, Vec<EventRef>>,
}

fn family(op: &str) -> &'static str {
    let lower = op.to_ascii_lowercase();
    if lower.contains("getaccess") {
        "sas-url"
    } else if matches!(
        op,
        "ListSnapshotBlocks" | "ListChangedBlocks" | "GetSnapshotBlock"
    ) {
        "ebs-direct-read"
    } else if op == "StartExportTask" {
        "rds-export"
    } else {
        "export-task"
    }
}

impl Aggregator for Exports {
    fn observe(&mut self, ev: &EventRef, _cfg: &Config) {
        if ev.component != Component::Export || !ev.outcome.success {
            return;
        }
        let resource = ev
            .resources
            .first()
            .map(|r| r.id.clone())
            .unwrap_or_default();
        let key = (
            ev.account.clone(),
            ev.principal.clone(),
            family(&ev.operation),
            resource,
        );
        // Due just after QUIET has passed with no further export.
        let due = ev.time + QUIET + SignedDuration::from_nanos(1);
        self.groups
            .get_or_insert_with(key.clone(), due, Vec::new)
            .push(ev.clone());
        self.groups.postpone(&key, due);
    }

    fn flush(&mut self, now: Timestamp, _cfg: &Config, out: &mut Vec<Finding>) {
        out.extend(self.groups.take_due(now).into_iter().map(report));
    }

    fn keys(&self) -> usize {
        self.groups.len()
    }

    fn evict(&mut self, n: usize, _cfg: &Config, out: &mut Vec<Finding>) -> usize {
        let closed = self.groups.take_oldest(n);
        let count = closed.len();
        out.extend(closed.into_iter().map(report));
        count
    }
}

fn report(((_, principal, family, _), events): (Key, Vec<EventRef>)) -> Finding {
    {
        let lead = &events[0];
        let (severity, base, how) = match family {
            "sas-url" => (
                Severity::High,
                65,
                "a SAS download URL was issued: anyone holding it can read the disk",
            ),
            "ebs-direct-read" => (
                Severity::Medium,
                45,
                "snapshot blocks read through the EBS direct API",
            ),
            "rds-export" => (Severity::Medium, 45, "RDS snapshot exported to S3"),
            _ => (
                Severity::Medium,
                45,
                "image or instance exported out of EC2",
            ),
        };
        let mut f = Finding::new(
            "snapshot.export",
            severity,
            &[T_TRANSFER, T_CREATE_SNAPSHOT],
            events.clone(),
        );
        f.title = format!(
            "{} exported ({family}) by {principal}",
            describe_resource(lead)
        );
        f.point(base, how);
        let ops: std::collections::BTreeSet<&str> =
            events.iter().map(|e| e.operation.as_str()).collect();
        f.evidence("family", json!(family));
        f.evidence("operations", json!(ops));
        if family == "sas-url" {
            f.share_targets.push("sas-url".into());
            f.tag("public");
        }
        f
    }
}
