//! Detection: detectors over normalized events, the config they read, and triage.
//!
//! [`hunt`] runs every stateless [`detectors::EventRule`] on each event and feeds every
//! [`detectors::Aggregator`] the events in time order, then turns findings into alerts and
//! answers their triage questions.

pub mod config;
pub mod context;
pub mod detectors;
pub mod finding;
pub mod triage;

pub use config::Config;

use snaptrail_model::{Alert, Baseline, Event};
use std::collections::HashMap;

/// Run every detector over `events` (sorted by time, one event per operation) and return alerts
/// ordered by severity, then score, then time, then id — independent of input order.
pub fn hunt(events: &[Event], cfg: &Config) -> Vec<Alert> {
    hunt_with(events, cfg, None)
}

/// [`hunt`] with what earlier runs saw: first-seen questions are answered against `baseline`
/// as well as against the events of this run.
pub fn hunt_with(events: &[Event], cfg: &Config, baseline: Option<&dyn Baseline>) -> Vec<Alert> {
    let rules = detectors::event_rules();
    let mut aggregators = detectors::aggregators(cfg);
    let mut findings = Vec::new();
    for ev in events {
        for rule in &rules {
            findings.extend(rule.check(ev, cfg));
        }
        for agg in aggregators.iter_mut() {
            agg.observe(ev, cfg);
        }
    }
    for agg in aggregators {
        findings.extend(agg.finish(cfg));
    }
    let history = triage::History::new(events, baseline);
    let by_id: HashMap<&str, &Event> = events.iter().map(|e| (e.event_id.as_str(), e)).collect();
    let mut alerts: Vec<Alert> = findings
        .into_iter()
        .map(|f| {
            let mut alert = f.into_alert(cfg);
            let lead = alert
                .event_ids
                .first()
                .and_then(|id| by_id.get(id.as_str()).copied());
            history.answer(&mut alert, cfg, lead);
            alert
        })
        .collect();
    sort_alerts(&mut alerts);
    alerts
}

pub fn sort_alerts(alerts: &mut [Alert]) {
    alerts.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.score.cmp(&a.score))
            .then(a.first_seen.cmp(&b.first_seen))
            .then(a.id.cmp(&b.id))
    });
}
