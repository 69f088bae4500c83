//! Enumeration bursts (T1580): snapshot listing across regions, listings that ask for public or
//! shared snapshots, or listings with an offensive tool's user agent (Pacu, Stratus) — and,
//! worst, enumeration followed by snapshot creation by the same principal (T1578.001).

use super::episodes::{Episodes, span};
use super::{Aggregator, T_CREATE_SNAPSHOT};
use crate::config::Config;
use crate::finding::Finding;
use jiff::SignedDuration;
use serde_json::json;
use snaptrail_model::{Cloud, Component, Event, Severity};
use std::collections::{BTreeMap, BTreeSet};

/// How long after an enumeration a creation still counts as its follow-up.
const FOLLOW_UP: SignedDuration = SignedDuration::from_hours(1);

pub struct EnumerationBurst<'e> {
    threshold: usize,
    episodes: Episodes<'e, (Cloud, String, String)>,
    creates: BTreeMap<(Cloud, String, String), Vec<&'e Event>>,
}

impl<'e> EnumerationBurst<'e> {
    pub fn new(cfg: &Config) -> Self {
        EnumerationBurst {
            threshold: cfg.enumeration_burst,
            episodes: Episodes::new(SignedDuration::from_secs(cfg.burst_window_secs)),
            creates: BTreeMap::new(),
        }
    }
}

impl<'e> Aggregator<'e> for EnumerationBurst<'e> {
    fn observe(&mut self, ev: &'e Event, _cfg: &Config) {
        let key = (ev.cloud, ev.account.clone(), ev.principal.clone());
        match ev.component {
            Component::Enumerate if ev.outcome.success => self.episodes.push(key, ev),
            Component::Create if ev.outcome.success => {
                self.creates.entry(key).or_default().push(ev)
            }
            _ => {}
        }
    }

    fn finish(self: Box<Self>, _cfg: &Config) -> Vec<Finding<'e>> {
        let mut out = Vec::new();
        for (key, events) in self.episodes.finish() {
            let regions: BTreeSet<&str> =
                events.iter().filter_map(|e| e.region.as_deref()).collect();
            let tool = events.iter().any(|e| e.has_fact("attack-tool-agent"));
            let public = events
                .iter()
                .any(|e| e.has_fact("include-public") || e.has_fact("include-shared"));
            let burst = events.len() >= self.threshold || regions.len() >= 3;
            if !(burst || tool || public) {
                continue;
            }
            let (first, last) = span(&events);
            let follow_ups: Vec<&Event> = self
                .creates
                .get(&key)
                .map(|c| {
                    c.iter()
                        .filter(|e| e.time >= first && e.time <= last + FOLLOW_UP)
                        .copied()
                        .collect()
                })
                .unwrap_or_default();
            let severity = if !follow_ups.is_empty() || tool {
                Severity::High
            } else if burst {
                Severity::Medium
            } else {
                Severity::Low
            };
            let techniques: &'static [&'static str] = if follow_ups.is_empty() {
                &["T1580"]
            } else {
                &["T1580", T_CREATE_SNAPSHOT]
            };
            let mut all = events.clone();
            all.extend(follow_ups.iter().copied());
            all.sort_by_key(|e| e.time);
            let mut f = Finding::new("snapshot.enumerate.burst", severity, techniques, all);
            f.title = format!(
                "{} snapshot listings across {} regions by {}{}",
                events.len(),
                regions.len(),
                key.2,
                if follow_ups.is_empty() {
                    String::new()
                } else {
                    format!(", then {} snapshot creations", follow_ups.len())
                }
            );
            if burst {
                f.tag("burst");
                f.point(35, format!("{} listings in {} regions (thresholds.enumeration_burst {}, or 3+ regions)", events.len(), regions.len(), self.threshold));
            }
            if public {
                f.point(
                    15,
                    "asked for public or shared snapshots (includePublic / includeShared)",
                );
            }
            if tool {
                f.point(
                    30,
                    "user agent of an offensive tool (Pacu, Stratus Red Team, …)",
                );
            }
            if !follow_ups.is_empty() {
                f.tag("chain");
                f.point(
                    25,
                    "followed by snapshot creation by the same principal within 1h",
                );
            }
            f.evidence("listings", json!(events.len()));
            f.evidence("regions", json!(regions));
            f.evidence(
                "follow_up_creations",
                json!(
                    follow_ups
                        .iter()
                        .map(|e| e.event_id.as_str())
                        .collect::<Vec<_>>()
                ),
            );
            out.push(f);
        }
        out
    }
}
