//! What a detector reports ([`Finding`]) and how it becomes a contract [`Alert`]: the common
//! fields are derived from the contributing events, so every detector fills them the same way.

use crate::config::Config;
use crate::context::{benign_reason, change_ticket, hours};
use serde_json::{Map, Value, json};
use snaptrail_model::{Alert, Event, EventRef, Severity, Triage};
use std::collections::BTreeSet;

pub struct Finding {
    pub detector: &'static str,
    pub title: String,
    pub severity: Severity,
    pub techniques: &'static [&'static str],
    /// The events the alert covers, in time order; `event_ids` come from these.
    pub events: Vec<EventRef>,
    pub share_targets: Vec<String>,
    pub tags: Vec<String>,
    pub evidence: Map<String, Value>,
    /// Score points with the reason for each; the alert's `score` is their sum, 0–100.
    pub points: Vec<(i32, String)>,
    /// When false, benign actors and change tickets do not lower the severity (used where the
    /// detector already judged them, e.g. the caller summary's own allow handling).
    pub adjust_for_benign: bool,
}

impl Finding {
    pub fn new(
        detector: &'static str,
        severity: Severity,
        techniques: &'static [&'static str],
        events: Vec<EventRef>,
    ) -> Finding {
        Finding {
            detector,
            title: String::new(),
            severity,
            techniques,
            events,
            share_targets: Vec::new(),
            tags: Vec::new(),
            evidence: Map::new(),
            points: Vec::new(),
            adjust_for_benign: true,
        }
    }

    pub fn point(&mut self, points: i32, reason: impl Into<String>) {
        self.points.push((points, reason.into()));
    }

    pub fn tag(&mut self, tag: &str) {
        if !self.tags.iter().any(|t| t == tag) {
            self.tags.push(tag.to_string());
        }
    }

    pub fn evidence(&mut self, key: &str, value: Value) {
        self.evidence.insert(key.to_string(), value);
    }

    /// Adjustments every detector shares: timing, benign actors, change tickets, failures.
    fn common_adjustments(&mut self, cfg: &Config) {
        let all: Vec<_> = self.events.iter().map(|e| hours(cfg, e.time)).collect();
        if all.iter().any(|h| h.off_hours) {
            self.tag("off-hours");
            self.point(
                5,
                format!("outside business hours in {}", cfg.timezone_name),
            );
        }
        if all.iter().any(|h| h.weekend) {
            self.tag("weekend");
            self.point(5, "on a weekend day");
        }
        if self.events.iter().any(|e| !e.outcome.success) {
            self.tag("failed");
        }
        if !self.adjust_for_benign {
            return;
        }
        if let Some(reason) = self.events.iter().find_map(|e| benign_reason(cfg, e)) {
            self.tag("service-principal");
            self.severity = self.severity.lowered(2);
            self.point(
                -40,
                format!("known-benign actor ({reason}): severity lowered two steps"),
            );
        } else if let Some(ticket) = self.events.iter().find_map(|e| change_ticket(cfg, e)) {
            self.tag("change-ticket");
            self.severity = self.severity.lowered(1);
            self.point(
                -20,
                format!("change ticket {ticket}: severity lowered one step"),
            );
        }
        if self.events.iter().any(|e| cfg.is_compromised(&e.principal)) {
            self.point(20, "principal is listed as compromised");
        }
    }

    pub fn into_alert(mut self, cfg: &Config) -> Alert {
        self.common_adjustments(cfg);
        let mut event_ids: Vec<String> = Vec::new();
        let mut resources = BTreeSet::new();
        let mut ips = BTreeSet::new();
        let mut agents = BTreeSet::new();
        let mut regions = BTreeSet::new();
        for ev in &self.events {
            for id in ev.all_ids() {
                if !id.is_empty() && !event_ids.iter().any(|e| e == id) {
                    event_ids.push(id.to_string());
                }
            }
            resources.extend(ev.resource_ids().map(str::to_string));
            ips.extend(ev.source_ip.clone());
            agents.extend(ev.user_agent.clone());
            regions.extend(ev.region.clone());
        }
        let first = self.events.iter().map(|e| e.time).min().unwrap_or_default();
        let last = self.events.iter().map(|e| e.time).max().unwrap_or_default();
        let lead = self.events.first().map(|e| &**e);
        let score = self
            .points
            .iter()
            .map(|(p, _)| *p)
            .sum::<i32>()
            .clamp(0, 100) as u8;
        let mut evidence = std::mem::take(&mut self.evidence);
        evidence.insert(
            "score_reasons".into(),
            Value::Array(
                self.points
                    .iter()
                    .map(|(p, r)| json!({"points": p, "reason": r}))
                    .collect(),
            ),
        );
        evidence.insert(
            "origins".into(),
            Value::Array(
                self.events
                    .iter()
                    .filter(|e| !e.origin.is_empty())
                    .take(20)
                    .map(|e| Value::String(e.origin.clone()))
                    .collect(),
            ),
        );
        let mut tags = self.tags;
        tags.sort();
        let mut share_targets = self.share_targets;
        share_targets.sort();
        share_targets.dedup();
        Alert {
            id: Alert::stable_id(self.detector, &event_ids),
            detector: self.detector.to_string(),
            title: self.title,
            severity: self.severity,
            score,
            techniques: self.techniques.iter().map(|t| t.to_string()).collect(),
            count: self.events.len(),
            cloud: lead
                .map(|e| e.cloud.as_str().to_string())
                .unwrap_or_default(),
            account: lead.map(|e| e.account.to_string()).unwrap_or_default(),
            region: if regions.len() == 1 {
                regions.into_iter().next().map(String::from)
            } else {
                lead.and_then(|e| e.region.as_deref().map(String::from))
            },
            principal: lead.map(|e| e.principal.clone()).unwrap_or_default(),
            source_ips: ips.into_iter().map(String::from).collect(),
            user_agents: agents.into_iter().collect(),
            first_seen: first,
            last_seen: last,
            event_ids,
            resources: resources.into_iter().collect(),
            share_targets,
            tags,
            evidence,
            triage: Triage::default(),
        }
    }
}

/// A short human name for what an event acted on: "EBS snapshot snap-1", "RDS snapshot db-x".
pub fn describe_resource(ev: &Event) -> String {
    use snaptrail_model::ResourceKind::*;
    let pick = ev
        .resources
        .iter()
        .find(|r| {
            matches!(
                r.kind,
                Snapshot | Image | DbSnapshot | DbClusterSnapshot | Disk
            )
        })
        .or(ev.resources.first());
    let Some(r) = pick else {
        return format!("{} target", ev.operation);
    };
    let kind = match (ev.cloud, r.kind) {
        (snaptrail_model::Cloud::Aws, Snapshot) => "EBS snapshot",
        (snaptrail_model::Cloud::Aws, Image) => "AMI",
        (_, Snapshot) => "snapshot",
        (_, Image) => "image",
        (_, DbSnapshot) => "RDS snapshot",
        (_, DbClusterSnapshot) => "RDS cluster snapshot",
        (_, Disk) => "disk",
        (_, Volume) => "volume",
        (_, Backup) => "backup",
        _ => "resource",
    };
    format!("{kind} {}", short_id(&r.id))
}

/// Azure and GCP ids are long paths; the last segment names the thing.
pub fn short_id(id: &str) -> &str {
    if id.contains('/') {
        id.rsplit('/').find(|s| !s.is_empty()).unwrap_or(id)
    } else {
        id
    }
}
