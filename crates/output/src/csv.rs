//! CSV: one row per alert, the alert contract flattened. Cells are spreadsheet-safe.

use crate::sanitize::csv_field;
use snaptrail_model::Alert;
use std::io::{self, Write};

const HEADER: &[&str] = &[
    "id",
    "detector",
    "severity",
    "score",
    "title",
    "cloud",
    "account",
    "region",
    "principal",
    "first_seen",
    "last_seen",
    "count",
    "source_ips",
    "user_agents",
    "resources",
    "share_targets",
    "tags",
    "techniques",
    "escalate",
    "event_ids",
];

pub fn write(alerts: &[Alert], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", HEADER.join(","))?;
    for a in alerts {
        let cells = [
            a.id.clone(),
            a.detector.clone(),
            a.severity.as_str().to_string(),
            a.score.to_string(),
            a.title.clone(),
            a.cloud.clone(),
            a.account.clone(),
            a.region.clone().unwrap_or_default(),
            a.principal.clone(),
            a.first_seen.to_string(),
            a.last_seen.to_string(),
            a.count.to_string(),
            a.source_ips.join(" "),
            a.user_agents.join(" | "),
            a.resources.join(" "),
            a.share_targets.join(" "),
            a.tags.join(" "),
            a.techniques.join(" "),
            a.triage.escalate.to_string(),
            a.event_ids.join(" "),
        ];
        let row: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
        writeln!(out, "{}", row.join(","))?;
    }
    Ok(())
}
