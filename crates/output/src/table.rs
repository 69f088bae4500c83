//! The terminal table: the seed's caller-summary columns, then the per-event alerts with their
//! triage answers, compactly. All text goes through `sanitize::terminal`.

use crate::sanitize::terminal;
use snaptrail_model::{Alert, Severity};
use std::io::{self, Write};

const SUMMARY: &str = "snapshot.caller_summary";

pub fn write(alerts: &[Alert], out: &mut dyn Write, color: bool) -> io::Result<()> {
    let summaries: Vec<&Alert> = alerts.iter().filter(|a| a.detector == SUMMARY).collect();
    let others: Vec<&Alert> = alerts.iter().filter(|a| a.detector != SUMMARY).collect();
    if !summaries.is_empty() {
        writeln!(out, "Caller summary (seed columns)")?;
        let header = [
            "FirstEvent",
            "LastEvent",
            "Cloud",
            "Caller",
            "Snapshots",
            "ExtShares",
            "OffHours",
            "SrcIPs",
            "Operations",
            "Resources",
            "Score",
        ];
        let mut rows: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
        for a in &summaries {
            let ev = &a.evidence;
            let num = |k: &str| ev.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
            let list = |k: &str| {
                ev.get(k)
                    .and_then(|v| v.as_array())
                    .map(|xs| {
                        xs.iter()
                            .filter_map(|x| x.as_str())
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .unwrap_or_default()
            };
            rows.push(vec![
                a.first_seen.strftime("%Y-%m-%d %H:%M:%S").to_string(),
                a.last_seen.strftime("%Y-%m-%d %H:%M:%S").to_string(),
                a.cloud.to_uppercase(),
                clip(&a.principal, 60),
                num("snapshot_count").to_string(),
                (num("external_share_count") + num("public_share_count")).to_string(),
                num("off_hours_count").to_string(),
                num("unique_source_ips").to_string(),
                clip(&list("operations"), 40),
                clip(&list("resources"), 40),
                num("seed_score").to_string(),
                a.severity.as_str().to_string(),
            ]);
        }
        write_rows(out, &rows)?;
        writeln!(out)?;
    }
    if !others.is_empty() {
        writeln!(out, "Alerts")?;
        for a in others {
            let sev = a.severity.as_str().to_uppercase();
            let sev = if color { paint(a.severity, &sev) } else { sev };
            writeln!(
                out,
                "{sev:<8} {:>3}  {}  {}",
                a.score,
                a.first_seen.strftime("%Y-%m-%d %H:%M:%S"),
                terminal(&clip(&a.title, 140))
            )?;
            writeln!(
                out,
                "         {}  tags: {}  events: {}  id: {}",
                a.detector,
                terminal(&a.tags.join(",")),
                a.event_ids.len(),
                a.id
            )?;
            for qa in &a.triage.questions {
                writeln!(
                    out,
                    "         ? {} {}",
                    terminal(&qa.q),
                    terminal(&clip(&qa.a, 120))
                )?;
            }
            if a.triage.escalate {
                writeln!(out, "         ! escalate to tier 2")?;
            }
            if let Some(first) = a.triage.containment.first() {
                writeln!(out, "         $ {}", terminal(&clip(first, 160)))?;
            }
        }
    }
    if alerts.is_empty() {
        writeln!(out, "No alerts.")?;
    }
    Ok(())
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

fn write_rows(out: &mut dyn Write, rows: &[Vec<String>]) -> io::Result<()> {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| terminal(c)).collect())
        .collect();
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    Ok(())
}

fn paint(sev: Severity, text: &str) -> String {
    let code = match sev {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    };
    format!("\x1b[{code}m{text:<8}\x1b[0m")
}
