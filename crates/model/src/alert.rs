//! The alert contract of DESIGN.md (`--format jsonl`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s.to_ascii_lowercase().as_str() {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }

    /// One step down, for known-benign actors: lowered, never dropped.
    pub fn lowered(self, steps: u8) -> Severity {
        let mut s = self;
        for _ in 0..steps {
            s = match s {
                Severity::Critical => Severity::High,
                Severity::High => Severity::Medium,
                Severity::Medium => Severity::Low,
                _ => Severity::Info,
            };
        }
        s
    }

    /// The OCSF severity_id of this level.
    pub fn ocsf_id(self) -> u8 {
        match self {
            Severity::Info => 1,
            Severity::Low => 2,
            Severity::Medium => 3,
            Severity::High => 4,
            Severity::Critical => 5,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriageAnswer {
    pub q: String,
    pub a: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Triage {
    pub questions: Vec<TriageAnswer>,
    pub escalate: bool,
    pub containment: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: String,
    pub detector: String,
    pub title: String,
    pub severity: Severity,
    pub score: u8,
    pub techniques: Vec<String>,
    pub count: usize,
    pub cloud: String,
    pub account: String,
    pub region: Option<String>,
    pub principal: String,
    pub source_ips: Vec<String>,
    pub user_agents: Vec<String>,
    pub first_seen: jiff::Timestamp,
    pub last_seen: jiff::Timestamp,
    pub event_ids: Vec<String>,
    pub resources: Vec<String>,
    pub share_targets: Vec<String>,
    pub tags: Vec<String>,
    pub evidence: serde_json::Map<String, serde_json::Value>,
    pub triage: Triage,
}

impl Alert {
    /// The stable alert id: a hash of the detector and the sorted source event ids, so the same
    /// evidence gives the same id across runs, thread counts and machines.
    pub fn stable_id(detector: &str, event_ids: &[String]) -> String {
        let mut ids: Vec<&str> = event_ids.iter().map(String::as_str).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut a = Fnv::new(0xcbf2_9ce4_8422_2325);
        let mut b = Fnv::new(0x8422_2325_cbf2_9ce4);
        for part in std::iter::once(detector).chain(ids) {
            a.write(part.as_bytes());
            a.write(&[0]);
            b.write(part.as_bytes());
            b.write(&[0]);
        }
        format!("{:016x}{:016x}", a.0, b.0)
    }
}

/// FNV-1a, 64 bit: small, dependency-free and stable across Rust versions (unlike `DefaultHasher`).
struct Fnv(u64);

impl Fnv {
    fn new(seed: u64) -> Fnv {
        Fnv(seed)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_id_ignores_order_and_duplicates_but_not_detector() {
        let a = Alert::stable_id("d", &["2".into(), "1".into()]);
        let b = Alert::stable_id("d", &["1".into(), "2".into(), "2".into()]);
        assert_eq!(a, b);
        assert_ne!(a, Alert::stable_id("e", &["1".into(), "2".into()]));
        assert_ne!(a, Alert::stable_id("d", &["12".into()]));
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn lowering_stops_at_info() {
        assert_eq!(Severity::Critical.lowered(1), Severity::High);
        assert_eq!(Severity::Low.lowered(3), Severity::Info);
    }
}
