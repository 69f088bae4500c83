//! Enumeration bursts (T1580): snapshot listing across regions, listings that ask for public or
//! shared snapshots, or listings with an offensive tool's user agent (Pacu, Stratus) — and,
//! worst, enumeration followed by snapshot creation by the same principal (T1578.001).

use super::episodes::{Episode, Episodes, span};
use super::{Aggregator, T_CREATE_SNAPSHOT};
use crate::config::Config;
use crate::finding::Finding;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use snaptrail_model::{Cloud, Component, EventRef, Severity, Text};
use std::collections::BTreeSet;

/// How long after an enumeration a creation still counts as its follow-up.
const FOLLOW_UP: SignedDuration = SignedDuration::from_hours(1);

type Key = (Cloud, Text, String);

/// Listing episodes per principal; each collects the creations that follow it.
pub struct EnumerationBurst {
    threshold: usize,
    episodes: Episodes<Key, Vec<EventRef>>,
    /// Episodes ended by a new one of the same key, still collecting follow-ups until due.
    ended: Vec<(Key, Episode<Vec<EventRef>>)>,
}

impl EnumerationBurst {
    pub fn new(cfg: &Config) -> Self {
        let gap = SignedDuration::from_secs(cfg.burst_window_secs);
        EnumerationBurst {
            threshold: cfg.enumeration_burst,
            // An episode stays open until a follow-up creation can no longer come.
            episodes: Episodes::new(gap, (FOLLOW_UP - gap).max(SignedDuration::ZERO)),
            ended: Vec::new(),
        }
    }
}

fn follow_up_ends(episode: &Episode<Vec<EventRef>>) -> Timestamp {
    span(&episode.events).1 + FOLLOW_UP
}

impl Aggregator for EnumerationBurst {
    fn observe(&mut self, ev: &EventRef, _cfg: &Config) {
        if !ev.outcome.success {
            return;
        }
        // The key is built only for the two components read here: cloning two strings for
        // every other event cost about 7% of merging and detecting after the readers finish.
        let key = || (ev.cloud, ev.account.clone(), ev.principal.clone());
        match ev.component {
            Component::Enumerate => {
                if let Some(ended) = self.episodes.push(key(), ev) {
                    self.ended.push(ended);
                }
            }
            Component::Create => {
                let key = key();
                if let Some(open) = self.episodes.get_mut(&key) {
                    open.extra.push(ev.clone());
                }
                for (k, ep) in &mut self.ended {
                    if *k == key && ev.time <= follow_up_ends(ep) {
                        ep.extra.push(ev.clone());
                    }
                }
            }
            _ => {}
        }
    }

    fn flush(&mut self, now: Timestamp, _cfg: &Config, out: &mut Vec<Finding>) {
        let mut done = self.episodes.take_due(now);
        let (ready, waiting) = std::mem::take(&mut self.ended)
            .into_iter()
            .partition(|(_, ep)| follow_up_ends(ep) < now);
        self.ended = waiting;
        done.extend::<Vec<_>>(ready);
        out.extend(done.into_iter().filter_map(|ep| self.report(ep)));
    }

    fn keys(&self) -> usize {
        self.episodes.len() + self.ended.len()
    }

    fn evict(&mut self, n: usize, _cfg: &Config, out: &mut Vec<Finding>) -> usize {
        let closed = self.episodes.take_oldest(n);
        let count = closed.len();
        out.extend(closed.into_iter().filter_map(|ep| self.report(ep)));
        count
    }
}

impl EnumerationBurst {
    fn report(&self, (key, episode): (Key, Episode<Vec<EventRef>>)) -> Option<Finding> {
        let events = episode.events;
        let regions: BTreeSet<&str> = events.iter().filter_map(|e| e.region.as_deref()).collect();
        let tool = events.iter().any(|e| e.has_fact("attack-tool-agent"));
        let public = events
            .iter()
            .any(|e| e.has_fact("include-public") || e.has_fact("include-shared"));
        let burst = events.len() >= self.threshold || regions.len() >= 3;
        if !(burst || tool || public) {
            return None;
        }
        let (first, last) = span(&events);
        let follow_ups: Vec<EventRef> = episode
            .extra
            .into_iter()
            .filter(|e| e.time >= first && e.time <= last + FOLLOW_UP)
            .collect();
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
        all.extend(follow_ups.iter().cloned());
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
            f.point(
                35,
                format!(
                    "{} listings in {} regions (thresholds.enumeration_burst {}, or 3+ regions)",
                    events.len(),
                    regions.len(),
                    self.threshold
                ),
            );
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
        Some(f)
    }
}
