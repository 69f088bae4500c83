//! Detection: detectors over normalized events, the config they read, and triage.
//!
//! Detection is streaming ([`Hunter`]): events arrive in time order and their time is the
//! clock. Every stateless [`detectors::EventRule`] checks each event; every
//! [`detectors::Aggregator`] reports a window, episode or chain once the clock has passed its
//! end. Findings become alerts, and wait [`triage::LOOKAHEAD`] of event time so their triage
//! questions ("failed logins within 24h?") see what came after them. Memory is what the open
//! windows, chains and pending alerts hold, capped by `[limits]`.

pub mod config;
pub mod context;
pub mod detectors;
pub mod finding;
pub mod history;
pub mod triage;

pub use config::Config;

use detectors::{Aggregator, EventRule};
use finding::Finding;
use jiff::Timestamp;
use snaptrail_model::{Alert, Baseline, Event, EventRef};
use std::sync::Arc;

/// Run every detector over `events` (sorted by time, one event per operation) and return alerts
/// ordered by severity, then score, then time, then id — independent of input order.
pub fn hunt(events: &[Event], cfg: &Config) -> Vec<Alert> {
    hunt_with(events, cfg, None)
}

/// [`hunt`] with what earlier runs saw: first-seen questions are answered against `baseline`
/// as well as against the events of this run.
pub fn hunt_with(events: &[Event], cfg: &Config, baseline: Option<&dyn Baseline>) -> Vec<Alert> {
    let mut hunter = Hunter::new(cfg, baseline);
    for ev in events {
        hunter.push(Arc::new(ev.clone()));
    }
    hunter.finish().0
}

/// What the stream did that a reader of the results should know.
#[derive(Debug, Default, Clone, Copy)]
pub struct StreamStats {
    pub events: u64,
    /// Events older than one already seen (the input was not in time order); detected as if
    /// they had come at the latest time seen.
    pub out_of_order: u64,
    /// Windows, episodes and chains closed early because a detector held `limits.max_keys`.
    pub evicted_keys: u64,
    /// Principals whose triage history was dropped at `limits.max_principals`.
    pub forgotten_principals: u64,
}

/// Streaming detection over events in time order.
pub struct Hunter<'a> {
    cfg: &'a Config,
    rules: Vec<Box<dyn EventRule>>,
    aggregators: Vec<Box<dyn Aggregator>>,
    triager: triage::Triager<'a>,
    /// Alerts waiting until the clock passes their last event plus the look-ahead, with the
    /// event their containment commands are written for.
    pending: Vec<(Alert, Option<EventRef>)>,
    next_due: Timestamp,
    alerts: Vec<Alert>,
    now: Timestamp,
    stats: StreamStats,
    findings: Vec<Finding>,
}

/// How often (in events) the detectors' key counts are checked against the cap.
const CAP_CHECK_EVERY: u64 = 256;

impl<'a> Hunter<'a> {
    pub fn new(cfg: &'a Config, baseline: Option<&'a dyn Baseline>) -> Hunter<'a> {
        Hunter {
            cfg,
            rules: detectors::event_rules(),
            aggregators: detectors::aggregators(cfg),
            triager: triage::Triager {
                history: history::History::new(cfg.max_principals),
                baseline,
            },
            pending: Vec::new(),
            next_due: Timestamp::MAX,
            alerts: Vec::new(),
            now: Timestamp::MIN,
            stats: StreamStats::default(),
            findings: Vec::new(),
        }
    }

    /// The next event. Events should come in time order; one that does not is counted in
    /// [`StreamStats::out_of_order`] and handled at the latest time seen.
    pub fn push(&mut self, ev: EventRef) {
        self.stats.events += 1;
        if ev.time < self.now {
            self.stats.out_of_order += 1;
        } else if ev.time > self.now {
            self.now = ev.time;
            self.advance(ev.time);
        }
        let pending = &self.pending;
        self.triager.history.record(&ev, || {
            pending.iter().map(|(a, _)| a.principal.clone()).collect()
        });
        for rule in &self.rules {
            self.findings.extend(rule.check(&ev, self.cfg));
        }
        for agg in self.aggregators.iter_mut() {
            agg.observe(&ev, self.cfg);
        }
        if self.stats.events.is_multiple_of(CAP_CHECK_EVERY) {
            self.enforce_caps();
        }
        self.take_findings();
    }

    /// The stream is over: report everything still open and answer every pending alert.
    pub fn finish(mut self) -> (Vec<Alert>, StreamStats) {
        self.advance(Timestamp::MAX);
        self.stats.forgotten_principals = self.triager.history.forgotten;
        let mut alerts = self.alerts;
        sort_alerts(&mut alerts);
        (alerts, self.stats)
    }

    /// The clock moved to `now`: collect what closed and answer alerts whose look-ahead passed.
    fn advance(&mut self, now: Timestamp) {
        for agg in self.aggregators.iter_mut() {
            agg.flush(now, self.cfg, &mut self.findings);
        }
        self.take_findings();
        if self.next_due > now {
            return;
        }
        let (due, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|(a, _)| ready_at(a) <= now);
        self.pending = waiting;
        self.next_due = self
            .pending
            .iter()
            .map(|(a, _)| ready_at(a))
            .min()
            .unwrap_or(Timestamp::MAX);
        for (mut alert, lead) in due {
            self.triager.answer(&mut alert, self.cfg, lead.as_deref());
            self.alerts.push(alert);
        }
    }

    fn take_findings(&mut self) {
        for f in self.findings.drain(..) {
            let lead = f.events.first().cloned();
            let alert = f.into_alert(self.cfg);
            self.next_due = self.next_due.min(ready_at(&alert));
            self.pending.push((alert, lead));
        }
    }

    fn enforce_caps(&mut self) {
        let cap = self.cfg.max_keys;
        for agg in self.aggregators.iter_mut() {
            let held = agg.keys();
            if held > cap {
                // Close a tenth more than the excess so the check does not fire every time.
                let n = held - cap + cap / 10;
                self.stats.evicted_keys += agg.evict(n, self.cfg, &mut self.findings) as u64;
            }
        }
    }
}

/// When an alert's look-ahead has passed and its questions can be answered.
fn ready_at(alert: &Alert) -> Timestamp {
    alert
        .last_seen
        .checked_add(triage::LOOKAHEAD)
        .unwrap_or(Timestamp::MAX)
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
