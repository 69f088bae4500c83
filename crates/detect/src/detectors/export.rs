//! Snapshot export: Azure SAS download URLs (`beginGetAccess`), EC2 image/instance export tasks,
//! RDS `StartExportTask`, EBS direct-API block reads. Block reads come in thousands per snapshot,
//! so events are grouped per principal, operation family and resource into one alert.

use super::{Aggregator, T_CREATE_SNAPSHOT, T_TRANSFER};
use crate::config::Config;
use crate::finding::{Finding, describe_resource};
use serde_json::json;
use snaptrail_model::{Component, Event, Severity};
use std::collections::BTreeMap;

#[derive(Default)]
pub struct Exports<'e> {
    groups: BTreeMap<(String, String, &'static str, String), Vec<&'e Event>>,
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

impl<'e> Aggregator<'e> for Exports<'e> {
    fn observe(&mut self, ev: &'e Event, _cfg: &Config) {
        if ev.component != Component::Export || !ev.outcome.success {
            return;
        }
        let resource = ev
            .resources
            .first()
            .map(|r| r.id.clone())
            .unwrap_or_default();
        self.groups
            .entry((
                ev.account.clone(),
                ev.principal.clone(),
                family(&ev.operation),
                resource,
            ))
            .or_default()
            .push(ev);
    }

    fn finish(self: Box<Self>, _cfg: &Config) -> Vec<Finding<'e>> {
        let mut out = Vec::new();
        for ((_, principal, family, _), events) in self.groups {
            let lead = events[0];
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
            out.push(f);
        }
        out
    }
}
