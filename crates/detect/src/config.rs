//! `snaptrail.toml` (DESIGN.md's config contract). Every key is optional; an unknown key or a
//! bad value is an error naming the key and the file, never a silent default.

use jiff::tz::TimeZone;
use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    organization: RawOrganization,
    #[serde(default)]
    business_hours: RawBusinessHours,
    #[serde(default)]
    allow: RawAllow,
    #[serde(default)]
    thresholds: RawThresholds,
    #[serde(default)]
    triage: RawTriage,
    #[serde(default)]
    limits: RawLimits,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    max_keys: Option<i64>,
    max_principals: Option<i64>,
    sort_buffer_events: Option<i64>,
    sort_memory_mb: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrganization {
    #[serde(default)]
    accounts: Vec<String>,
    #[serde(default)]
    domains: Vec<String>,
    #[serde(default)]
    trusted_share_targets: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBusinessHours {
    timezone: Option<String>,
    start: Option<String>,
    end: Option<String>,
    weekend: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllow {
    #[serde(default)]
    principals: Vec<String>,
    #[serde(default)]
    change_tag_keys: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThresholds {
    bulk_snapshots: Option<i64>,
    window: Option<String>,
    deletion_burst: Option<i64>,
    enumeration_burst: Option<i64>,
    burst_window: Option<String>,
    chain_horizon: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTriage {
    #[serde(default)]
    compromised_principals: Vec<String>,
}

/// The resolved configuration the detectors read.
#[derive(Debug, Clone)]
pub struct Config {
    pub accounts: Vec<String>,
    pub domains: Vec<String>,
    pub trusted_share_targets: Vec<String>,
    pub timezone: TimeZone,
    pub timezone_name: String,
    /// Business hours as minutes after midnight, `[start, end)`.
    pub day_start: u16,
    pub day_end: u16,
    /// Weekend days, Monday = 1 … Sunday = 7.
    pub weekend: Vec<i8>,
    pub allow_principals: Vec<String>,
    pub change_tag_keys: Vec<String>,
    pub bulk_snapshots: u32,
    pub window_secs: i64,
    /// Deletions by one principal, each within `burst_window` of the previous, that make a burst.
    pub deletion_burst: usize,
    pub enumeration_burst: usize,
    pub burst_window_secs: i64,
    /// How long a snapshot's chain (create, share, use) stays open after its last step.
    pub chain_horizon_secs: i64,
    pub compromised_principals: Vec<String>,
    /// Open keys (windows, episodes, chains) per detector before the oldest are closed early.
    pub max_keys: usize,
    /// Principals triage keeps history for before the least recently active are forgotten.
    pub max_principals: usize,
    /// Events held in memory (split between the reader threads) before they are sorted into a
    /// run.
    pub sort_buffer_events: usize,
    /// Megabytes of sorted runs held in memory (encoded) before runs go to temporary files.
    pub sort_memory_mb: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            accounts: Vec::new(),
            domains: Vec::new(),
            trusted_share_targets: Vec::new(),
            timezone: TimeZone::UTC,
            timezone_name: "UTC".into(),
            day_start: 7 * 60,
            day_end: 19 * 60,
            weekend: vec![6, 7],
            allow_principals: Vec::new(),
            change_tag_keys: Vec::new(),
            bulk_snapshots: 5,
            window_secs: 24 * 3600,
            deletion_burst: 5,
            enumeration_burst: 10,
            burst_window_secs: 10 * 60,
            chain_horizon_secs: 7 * 86400,
            compromised_principals: Vec::new(),
            max_keys: 30_000,
            max_principals: 100_000,
            sort_buffer_events: 40_000,
            sort_memory_mb: 64,
        }
    }
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read config: {e}", path.display()))?;
        Config::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Config, String> {
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())?;
        let mut cfg = Config {
            accounts: raw.organization.accounts,
            domains: raw
                .organization
                .domains
                .iter()
                .map(|d| d.to_ascii_lowercase())
                .collect(),
            trusted_share_targets: raw.organization.trusted_share_targets,
            ..Config::default()
        };
        if let Some(tz) = raw.business_hours.timezone {
            cfg.timezone = TimeZone::get(&tz).map_err(|_| {
                format!("key `business_hours.timezone`: unknown IANA time zone {tz:?}")
            })?;
            cfg.timezone_name = tz;
        }
        if let Some(s) = raw.business_hours.start {
            cfg.day_start = parse_clock(&s)
                .ok_or_else(|| format!("key `business_hours.start`: expected HH:MM, got {s:?}"))?;
        }
        if let Some(s) = raw.business_hours.end {
            cfg.day_end = parse_clock(&s)
                .ok_or_else(|| format!("key `business_hours.end`: expected HH:MM, got {s:?}"))?;
        }
        if cfg.day_end <= cfg.day_start {
            return Err(
                "key `business_hours.end`: must be later than `business_hours.start`".into(),
            );
        }
        if let Some(days) = raw.business_hours.weekend {
            cfg.weekend = days
                .iter()
                .map(|d| {
                    parse_weekday(d).ok_or_else(|| {
                        format!("key `business_hours.weekend`: unknown day {d:?} (use Mon … Sun)")
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        cfg.allow_principals = raw.allow.principals;
        cfg.change_tag_keys = raw.allow.change_tag_keys;
        if let Some(n) = raw.thresholds.bulk_snapshots {
            cfg.bulk_snapshots = u32::try_from(n).ok().filter(|n| *n > 0).ok_or_else(|| {
                format!(
                    "key `thresholds.bulk_snapshots`: expected a positive whole number, got {n}"
                )
            })?;
        }
        if let Some(w) = raw.thresholds.window {
            cfg.window_secs = parse_duration(&w).filter(|s| *s > 0).ok_or_else(|| {
                format!(
                    "key `thresholds.window`: expected a duration like 30m, 24h or 7d, got {w:?}"
                )
            })?;
        }
        for (key, value, slot) in [
            (
                "deletion_burst",
                raw.thresholds.deletion_burst,
                &mut cfg.deletion_burst,
            ),
            (
                "enumeration_burst",
                raw.thresholds.enumeration_burst,
                &mut cfg.enumeration_burst,
            ),
        ] {
            if let Some(n) = value {
                *slot = usize::try_from(n).ok().filter(|n| *n > 0).ok_or_else(|| {
                    format!("key `thresholds.{key}`: expected a positive whole number, got {n}")
                })?;
            }
        }
        if let Some(w) = raw.thresholds.burst_window {
            cfg.burst_window_secs = parse_duration(&w).filter(|s| *s > 0).ok_or_else(|| {
                format!("key `thresholds.burst_window`: expected a duration like 10m, got {w:?}")
            })?;
        }
        if let Some(w) = raw.thresholds.chain_horizon {
            cfg.chain_horizon_secs = parse_duration(&w).filter(|s| *s > 0).ok_or_else(|| {
                format!("key `thresholds.chain_horizon`: expected a duration like 7d, got {w:?}")
            })?;
        }
        cfg.compromised_principals = raw.triage.compromised_principals;
        if let Some(n) = raw.limits.sort_buffer_events {
            cfg.sort_buffer_events =
                usize::try_from(n).ok().filter(|n| *n > 0).ok_or_else(|| {
                    format!(
                        "key `limits.sort_buffer_events`: expected a positive whole number, got {n}"
                    )
                })?;
        }
        if let Some(n) = raw.limits.sort_memory_mb {
            cfg.sort_memory_mb = usize::try_from(n)
                .ok()
                .filter(|n| *n <= 1 << 20)
                .ok_or_else(|| {
                    format!(
                        "key `limits.sort_memory_mb`: expected a whole number of megabytes, got {n}"
                    )
                })?;
        }
        for (key, value, slot) in [
            ("max_keys", raw.limits.max_keys, &mut cfg.max_keys),
            (
                "max_principals",
                raw.limits.max_principals,
                &mut cfg.max_principals,
            ),
        ] {
            if let Some(n) = value {
                *slot = usize::try_from(n)
                    .ok()
                    .filter(|n| *n >= 100)
                    .ok_or_else(|| {
                        format!(
                            "key `limits.{key}`: expected a whole number of at least 100, got {n}"
                        )
                    })?;
            }
        }
        Ok(cfg)
    }

    /// Add an organization's identities (validate adds the simulated estate's to the user's).
    pub fn extend_organization(
        &mut self,
        accounts: &[String],
        domains: &[String],
        trusted: &[String],
        allow: &[String],
    ) {
        self.accounts.extend(accounts.iter().cloned());
        self.domains
            .extend(domains.iter().map(|d| d.to_ascii_lowercase()));
        self.trusted_share_targets.extend(trusted.iter().cloned());
        self.allow_principals.extend(allow.iter().cloned());
    }

    /// Is this account id / subscription / project one of ours?
    pub fn is_own_account(&self, id: &str) -> bool {
        self.accounts.iter().any(|a| a == id)
    }

    pub fn is_trusted_target(&self, id: &str) -> bool {
        self.trusted_share_targets.iter().any(|a| a == id)
    }

    pub fn is_own_domain(&self, domain: &str) -> bool {
        let domain = domain.to_ascii_lowercase();
        self.domains
            .iter()
            .any(|d| domain == *d || domain.ends_with(&format!(".{d}")))
    }

    /// `allow.principals` patterns, with `*` matching any run of characters.
    pub fn allowed_principal(&self, principal: &str) -> Option<&str> {
        self.allow_principals
            .iter()
            .find(|p| glob_match(p, principal))
            .map(String::as_str)
    }

    pub fn is_compromised(&self, principal: &str) -> bool {
        self.compromised_principals
            .iter()
            .any(|p| glob_match(p, principal))
    }
}

fn parse_clock(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
}

fn parse_weekday(s: &str) -> Option<i8> {
    let lower = s.to_ascii_lowercase();
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    days.iter()
        .position(|d| lower.starts_with(d) && lower.len() >= 3)
        .map(|i| i as i8 + 1)
}

/// `90s`, `30m`, `24h`, `7d`.
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = num.parse().ok()?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return None,
    };
    n.checked_mul(mult)
}

pub fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(at) = rest.find(part) else {
                return false;
            };
            rest = &rest[at + part.len()..];
        }
    }
    true
}

/// The commented example `snaptrail config init` writes.
pub const EXAMPLE: &str = r#"# snaptrail configuration. Every key is optional; unknown keys are errors.

[organization]
# Your own AWS account ids, Azure subscription ids and GCP project ids. Shares to these are
# "own-account" (info), not external.
accounts = ["310987654321"]
# GCP / Azure identities inside the organization (user:alice@example.com is internal).
domains = ["example.com"]
# Share targets that are expected, e.g. the disaster-recovery account or your AWS Organization
# ARN: sharing there is "trusted" (info).
trusted_share_targets = ["410987654321"]

[business_hours]
# IANA time zone name; off-hours and weekend are judged in this zone, not the machine's.
timezone = "Europe/Berlin"
start = "07:00"
end = "19:00"
weekend = ["Sat", "Sun"]

[allow]
# Known-good actors: their alerts are kept at lower severity and tagged service-principal.
# `*` matches any run of characters.
principals = ["arn:aws:iam::*:role/backup-*"]
# A snapshot created with one of these tag keys is tagged change-ticket and lowered one step.
change_tag_keys = ["ChangeTicket"]

[thresholds]
# The seed's "> 5": more snapshot operations than this in one window is bulk.
bulk_snapshots = 5
# Caller-summary window (tumbling, on event time): 30m, 24h, 7d ...
window = "24h"
# Deletions (snapshots, AMIs, backups, recovery points) by one principal that make a burst, and
# listings (DescribeSnapshots & co.) that make an enumeration burst, each event within
# burst_window of the previous.
deletion_burst = 5
enumeration_burst = 10
burst_window = "10m"
# A snapshot's exfiltration chain (create, share, use by the other account) stays open this
# long after its last step.
chain_horizon = "7d"

[triage]
# Identities known to be compromised: any alert involving them escalates.
compromised_principals = []

[limits]
# Detection is streaming and its memory is capped. Open windows, episodes and chains per
# detector: past this, the least recently active are closed early (reported, not dropped) and
# counted in the run summary. Each costs about 3.5 KB; raise it if the summary reports early
# closes and memory allows.
max_keys = 30000
# Principals whose history triage keeps ("done this before?", "new source IP?"); past this, the
# least recently active are forgotten and counted.
max_principals = 100000
# Input arrives in any order and detection needs it in time order: events are sorted in runs of
# this many in memory (about 1.5 KB each), and the sorted runs merged.
sort_buffer_events = 40000
# Sorted runs are held in memory, encoded (about 180 bytes an event), up to this many
# megabytes; past it they are written to temporary files. 0 writes every run to a file.
sort_memory_mb = 64
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_parses() {
        let cfg = Config::parse(EXAMPLE).unwrap();
        assert_eq!(cfg.timezone_name, "Europe/Berlin");
        assert_eq!(cfg.weekend, vec![6, 7]);
        assert_eq!(cfg.window_secs, 86400);
        assert_eq!(cfg.sort_memory_mb, 64);
        assert_eq!(
            cfg.allowed_principal("arn:aws:iam::1:role/backup-nightly"),
            Some("arn:aws:iam::*:role/backup-*")
        );
        assert_eq!(cfg.allowed_principal("arn:aws:iam::1:role/admin"), None);
    }

    #[test]
    fn unknown_key_is_named() {
        let err = Config::parse("[thresholds]\nbulk_snapshot = 3\n").unwrap_err();
        assert!(err.contains("bulk_snapshot"), "{err}");
        let err = Config::parse("[organisation]\n").unwrap_err();
        assert!(err.contains("organisation"), "{err}");
    }

    #[test]
    fn bad_values_are_named() {
        for (text, key) in [
            (
                "[business_hours]\ntimezone = \"Mars/Olympus\"",
                "business_hours.timezone",
            ),
            ("[business_hours]\nstart = \"7am\"", "business_hours.start"),
            (
                "[business_hours]\nweekend = [\"Caturday\"]",
                "business_hours.weekend",
            ),
            (
                "[thresholds]\nbulk_snapshots = -1",
                "thresholds.bulk_snapshots",
            ),
            ("[thresholds]\nwindow = \"soon\"", "thresholds.window"),
            (
                "[business_hours]\nstart = \"19:00\"\nend = \"07:00\"",
                "business_hours.end",
            ),
            ("[limits]\nsort_memory_mb = -1", "limits.sort_memory_mb"),
        ] {
            let err = Config::parse(text).unwrap_err();
            assert!(err.contains(key), "{text}: {err}");
        }
        let err = Config::parse("[thresholds]\nbulk_snapshots = \"five\"").unwrap_err();
        assert!(err.contains("bulk_snapshots"), "{err}");
    }

    #[test]
    fn globs() {
        assert!(glob_match("a*c", "abc"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "aXbYc"));
        assert!(!glob_match("a*b*c", "aXcYb"));
        assert!(!glob_match("abc", "abcd"));
    }
}
