//! OCSF 1.3 Detection Finding (class_uid 2004), one JSON object per line.

use crate::sanitize::json_html_safe;
use serde_json::{Value, json};
use snaptrail_model::Alert;
use std::io::{self, Write};

pub fn write(alerts: &[Alert], out: &mut dyn Write) -> io::Result<()> {
    for a in alerts {
        writeln!(
            out,
            "{}",
            json_html_safe(&serde_json::to_string(&finding(a))?)
        )?;
    }
    Ok(())
}

fn cloud_provider(cloud: &str) -> &str {
    match cloud {
        "aws" => "AWS",
        "azure" => "Azure",
        "gcp" => "GCP",
        other => other,
    }
}

pub fn finding(a: &Alert) -> Value {
    let techniques: Vec<Value> = a
        .techniques
        .iter()
        .map(|t| json!({"technique": {"uid": t}, "tactic": {"name": tactic(t)}}))
        .collect();
    let resources: Vec<Value> = a
        .resources
        .iter()
        .map(|r| json!({"uid": r, "cloud_partition": a.cloud}))
        .collect();
    let time_ms = a.first_seen.as_millisecond();
    json!({
        "class_uid": 2004,
        "class_name": "Detection Finding",
        "category_uid": 2,
        "category_name": "Findings",
        "activity_id": 1,
        "activity_name": "Create",
        "type_uid": 200401,
        "severity_id": a.severity.ocsf_id(),
        "severity": capitalize(a.severity.as_str()),
        "status_id": 1,
        "status": "New",
        "time": time_ms,
        "message": a.title,
        "metadata": {
            "version": "1.3.0",
            "product": {"name": "snaptrail", "vendor_name": "snaptrail", "version": env!("CARGO_PKG_VERSION")},
            "event_code": a.detector,
        },
        "finding_info": {
            "uid": a.id,
            "title": a.title,
            "types": [a.detector],
            "analytic": {"name": a.detector, "type_id": 1, "type": "Rule"},
            "first_seen_time": a.first_seen.as_millisecond(),
            "last_seen_time": a.last_seen.as_millisecond(),
            "attacks": techniques,
            "related_events": a.event_ids.iter().map(|id| json!({"uid": id})).collect::<Vec<_>>(),
        },
        "cloud": {"provider": cloud_provider(&a.cloud), "account": {"uid": a.account}, "region": a.region},
        "actor": {"user": {"uid": a.principal, "name": a.principal}},
        "src_endpoint": a.source_ips.first().map(|ip| json!({"ip": ip})),
        "resources": resources,
        "risk_score": a.score,
        "count": a.count,
        "unmapped": {"tags": a.tags, "share_targets": a.share_targets, "evidence": a.evidence, "triage": a.triage, "user_agents": a.user_agents},
    })
}

fn tactic(t: &str) -> &'static str {
    match t {
        "T1537" => "Exfiltration",
        "T1578.001" => "Defense Evasion",
        "T1580" => "Discovery",
        "T1485" | "T1490" => "Impact",
        _ => "",
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}
