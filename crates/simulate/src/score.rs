//! Scoring a hunt against the ground truth: which scenarios were found, which alerts are false
//! positives, precision and recall.

use crate::scenarios::Truth;
use snaptrail_model::{Alert, Severity};
use std::collections::HashSet;

#[derive(Debug, Clone)]
pub struct Row {
    pub scenario: String,
    pub expected: String,
    pub got: String,
    pub pass: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub rows: Vec<Row>,
    /// Expectations met / expectations.
    pub recall: f64,
    /// Medium-or-higher alerts that cover an attack event / all medium-or-higher alerts.
    pub precision: f64,
    pub true_positives: usize,
    /// Medium-or-higher alerts on background or benign look-alikes only.
    pub false_positives: Vec<String>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.rows.iter().all(|r| r.pass) && self.false_positives.is_empty()
    }
}

pub fn evaluate(truth: &[Truth], alerts: &[Alert]) -> Report {
    let attack: HashSet<&str> = truth
        .iter()
        .flat_map(|t| t.attack_ids.iter().map(String::as_str))
        .collect();
    let mut rows = Vec::new();
    let (mut met, mut total) = (0usize, 0usize);
    for t in truth {
        let ids: HashSet<&str> = t.attack_ids.iter().map(String::as_str).collect();
        for e in &t.expect {
            total += 1;
            let min = Severity::parse(&e.min_severity).unwrap_or(Severity::Info);
            let covering: Vec<&Alert> = alerts
                .iter()
                .filter(|a| {
                    a.detector == e.detector
                        && a.event_ids.iter().any(|id| ids.contains(id.as_str()))
                })
                .collect();
            let best = covering.iter().map(|a| a.severity).max();
            let pass = best.is_some_and(|s| s >= min);
            met += usize::from(pass);
            rows.push(Row {
                scenario: t.scenario.clone(),
                expected: format!("{} >= {}", e.detector, e.min_severity),
                got: best
                    .map(|s| format!("{} {}", e.detector, s.as_str()))
                    .unwrap_or_else(|| "nothing".into()),
                pass,
            });
        }
        if !t.benign_ids.is_empty() {
            let benign: HashSet<&str> = t.benign_ids.iter().map(String::as_str).collect();
            let loud: Vec<String> = alerts
                .iter()
                .filter(|a| {
                    a.severity >= Severity::Medium
                        && a.event_ids.iter().any(|id| benign.contains(id.as_str()))
                })
                .map(|a| format!("{} {}", a.detector, a.severity.as_str()))
                .collect();
            let quiet: Vec<String> = alerts
                .iter()
                .filter(|a| a.event_ids.iter().any(|id| benign.contains(id.as_str())))
                .map(|a| format!("{} {}", a.detector, a.severity.as_str()))
                .collect();
            rows.push(Row {
                scenario: t.scenario.clone(),
                expected: "nothing >= medium".into(),
                got: if loud.is_empty() {
                    if quiet.is_empty() {
                        "nothing".into()
                    } else {
                        quiet.join(", ")
                    }
                } else {
                    loud.join(", ")
                },
                pass: loud.is_empty(),
            });
        }
    }
    let serious: Vec<&Alert> = alerts
        .iter()
        .filter(|a| a.severity >= Severity::Medium)
        .collect();
    let mut false_positives = Vec::new();
    let mut tp = 0;
    for a in &serious {
        if a.event_ids.iter().any(|id| attack.contains(id.as_str())) {
            tp += 1;
        } else {
            false_positives.push(format!(
                "{} {} {}: {}",
                a.severity.as_str(),
                a.detector,
                a.id,
                a.title
            ));
        }
    }
    Report {
        rows,
        recall: if total == 0 {
            1.0
        } else {
            met as f64 / total as f64
        },
        precision: if serious.is_empty() {
            1.0
        } else {
            tp as f64 / serious.len() as f64
        },
        true_positives: tp,
        false_positives,
    }
}
