//! Triage, answered from the logs: the seed's analyst questions for each alert, whether to
//! escalate, and the containment commands for its resources.

use crate::config::Config;
use crate::context::{benign_reason, hours};
use crate::detectors::caller_summary;
use crate::finding::short_id;
use crate::history::{FastSet, History, digest};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use snaptrail_model::Baseline;
use snaptrail_model::EventRef;
use snaptrail_model::{Alert, Cloud, Event, ResourceKind, Severity, Triage, TriageAnswer};

const NEARBY: SignedDuration = SignedDuration::from_hours(24);

/// How long after an alert's last event its questions can be answered: failed logins and
/// privilege changes up to [`NEARBY`] later count as "around" it.
pub const LOOKAHEAD: SignedDuration = NEARBY;

/// What happened before and around an alert: this run's [`History`], and the baseline store
/// of earlier runs when one is attached.
pub struct Triager<'b> {
    pub history: History,
    pub baseline: Option<&'b dyn Baseline>,
}

impl Triager<'_> {
    pub fn answer(&self, alert: &mut Alert, cfg: &Config, lead: Option<&Event>) {
        let ids: FastSet<u64> = alert.event_ids.iter().map(|id| digest(id)).collect();
        let (before, first_before) =
            self.history
                .snapshot_ops_before(&alert.principal, alert.first_seen, &ids);
        let mut questions = Vec::new();
        let t0 = alert.first_seen.as_second();
        // Earlier runs, from the baseline store: facts first seen before this alert began.
        let earlier = |kind: &str, key: &str, value: &str| {
            self.baseline
                .and_then(|b| b.first_seen(kind, key, value))
                .filter(|t| *t < t0)
        };
        let from_baseline = earlier("principal", &alert.principal, "");
        let familiar = before > 0 || from_baseline.is_some();
        questions.push(qa(
            "Has this principal done snapshot operations before?",
            match (first_before, from_baseline) {
                (_, Some(t)) => format!(
                    "Yes: since {} (baseline){}",
                    jiff::Timestamp::from_second(t).unwrap_or_default(),
                    if before == 0 {
                        String::new()
                    } else {
                        format!(", and {before} times earlier in this input")
                    }
                ),
                (Some(first), None) => {
                    format!("Yes: {before} earlier in this input, first at {first}")
                }
                (None, None) => format!(
                    "No: first seen doing snapshot operations{}",
                    if self.baseline.is_some() {
                        ""
                    } else {
                        " in this input (no baseline store)"
                    }
                ),
            },
        ));
        let mut first_seen_points: Vec<(i32, String)> = Vec::new();
        if !familiar && alert.detector != caller_summary::DETECTOR {
            first_seen_points.push((
                10,
                "principal never seen doing snapshot operations before".into(),
            ));
        }
        // Share targets never shared to before from this account.
        if alert.detector.starts_with("snapshot.share.")
            || alert.detector.starts_with("snapshot.chain.exfil")
        {
            let new_targets: Vec<&String> = alert
                .share_targets
                .iter()
                .filter(|t| earlier("share-target", &alert.account, t).is_none())
                .filter(|t| {
                    !self
                        .history
                        .shared_before(&alert.principal, t, alert.first_seen)
                })
                .collect();
            if !new_targets.is_empty() && alert.severity >= Severity::Medium {
                first_seen_points.push((
                    10,
                    format!(
                        "share target never seen before: {}",
                        new_targets
                            .iter()
                            .map(|t| t.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }

        let (from, to) = (alert.first_seen - NEARBY, alert.last_seen + NEARBY);
        let failed_logins = self.history.failed_logins(&alert.principal, from, to);
        let known_ips = self.history.ips_before(&alert.principal, alert.first_seen);
        let new_ips: Vec<&str> = alert
            .source_ips
            .iter()
            .map(String::as_str)
            .filter(|ip| {
                !known_ips.contains(&digest(ip))
                    && earlier("principal-ip", &alert.principal, ip).is_none()
            })
            .collect();
        let any_history = !known_ips.is_empty() || from_baseline.is_some();
        let ip_answer = if !any_history {
            "no earlier activity to compare source IPs with".to_string()
        } else if new_ips.is_empty() {
            "source IPs seen before".to_string()
        } else {
            if familiar && alert.severity >= Severity::Medium {
                first_seen_points.push((
                    5,
                    format!(
                        "known principal from a new source IP ({})",
                        new_ips.join(", ")
                    ),
                ));
            }
            format!("new source IPs {}", new_ips.join(", "))
        };
        questions.push(qa(
            "Failed logins or new source IPs for this principal around it?",
            format!("{failed_logins} failed logins within 24h; {ip_answer}"),
        ));
        if !first_seen_points.is_empty() {
            alert.tags.push("first-seen".into());
            alert.tags.sort();
            alert.tags.dedup();
            let reasons = alert
                .evidence
                .entry("score_reasons")
                .or_insert_with(|| json!([]));
            for (points, reason) in &first_seen_points {
                alert.score = (alert.score as i32 + points).clamp(0, 100) as u8;
                if let Some(list) = reasons.as_array_mut() {
                    list.push(json!({"points": points, "reason": reason}));
                }
            }
            // The restore chain by an identity never seen doing snapshot work is the attack
            // the spec describes: critical.
            if alert.detector == "snapshot.chain.restore" && !familiar {
                alert.severity = Severity::Critical;
            }
        }

        let h = hours(cfg, alert.first_seen);
        let local = alert.first_seen.to_zoned(cfg.timezone.clone());
        questions.push(qa(
            "Inside business hours?",
            format!(
                "{}: {} {} in {}",
                if h.off_hours { "No" } else { "Yes" },
                local.strftime("%a %H:%M"),
                if h.weekend { "(weekend)" } else { "" },
                cfg.timezone_name
            )
            .replace("  ", " "),
        ));

        let hour = SignedDuration::from_hours(1);
        let mut privs: Vec<&EventRef> = self
            .history
            .privileges(&alert.account, from, to)
            .filter(|e| e.principal == alert.principal)
            .collect();
        privs.extend(
            self.history
                .privileges(
                    &alert.account,
                    alert.first_seen - hour,
                    alert.last_seen + hour,
                )
                .filter(|e| e.principal != alert.principal),
        );
        privs.sort_by_key(|e| e.time);
        privs.dedup_by(|a, b| a.event_id == b.event_id);
        questions.push(qa(
            "Privilege changes nearby?",
            if privs.is_empty() {
                "None seen within 24h by this principal or within 1h in this account".to_string()
            } else {
                let list: Vec<String> = privs
                    .iter()
                    .take(5)
                    .map(|e| format!("{} by {} at {}", e.operation, e.principal, e.time))
                    .collect();
                format!("Yes: {}", list.join("; "))
            },
        ));
        let benign = lead.and_then(|e| benign_reason(cfg, e));
        questions.push(qa(
            "Is the actor a known-benign service or allow-listed principal?",
            benign
                .clone()
                .map(|r| format!("Yes: {r}"))
                .unwrap_or_else(|| "No".to_string()),
        ));
        let compromised = cfg.is_compromised(&alert.principal);
        if compromised {
            questions.push(qa(
                "Is the principal known to be compromised?",
                "Yes: listed in triage.compromised_principals".into(),
            ));
        }

        let serious = alert.severity >= Severity::Medium;
        let escalate = compromised || (serious && (!familiar || !privs.is_empty() || h.off_hours));
        alert.triage = Triage {
            questions,
            escalate,
            containment: containment(alert, lead),
        };
    }
}

fn qa(q: &str, a: String) -> TriageAnswer {
    TriageAnswer {
        q: q.to_string(),
        a,
    }
}

/// Quote a value for a POSIX shell unless it is plainly safe: log fields are attacker-controlled
/// and these commands get pasted into terminals.
pub fn sh(value: &str) -> String {
    let safe = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:/@=+-,".contains(&b));
    if safe {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}

fn containment(alert: &Alert, lead: Option<&Event>) -> Vec<String> {
    let Some(ev) = lead else { return Vec::new() };
    let mut out = Vec::new();
    let region = ev
        .region
        .as_deref()
        .map(|r| format!(" --region {}", sh(r)))
        .unwrap_or_default();
    let targets: Vec<&str> = alert.share_targets.iter().map(String::as_str).collect();
    match ev.cloud {
        Cloud::Aws => {
            for r in &ev.resources {
                let id = sh(&r.id);
                match r.kind {
                    ResourceKind::Snapshot if r.id.starts_with("snap-") => {
                        for t in &targets {
                            let who = if *t == "all" {
                                "--group-names all".to_string()
                            } else {
                                format!("--user-ids {}", sh(t))
                            };
                            out.push(format!("aws ec2 modify-snapshot-attribute{region} --snapshot-id {id} --attribute createVolumePermission --operation-type remove {who}"));
                        }
                        out.push(format!("aws ec2 describe-snapshot-attribute{region} --snapshot-id {id} --attribute createVolumePermission"));
                        out.push(format!("aws ec2 describe-volumes{region} --filters Name=snapshot-id,Values={id}"));
                    }
                    ResourceKind::Image if r.id.starts_with("ami-") => {
                        for t in &targets {
                            let who = if *t == "all" {
                                "Group=all".to_string()
                            } else {
                                format!("UserId={t}")
                            };
                            out.push(format!("aws ec2 modify-image-attribute{region} --image-id {id} --launch-permission {}", sh(&format!("Remove=[{{{who}}}]"))));
                        }
                        out.push(format!("aws ec2 describe-image-attribute{region} --image-id {id} --attribute launchPermission"));
                    }
                    ResourceKind::DbSnapshot => {
                        for t in &targets {
                            out.push(format!("aws rds modify-db-snapshot-attribute{region} --db-snapshot-identifier {id} --attribute-name restore --values-to-remove {}", sh(t)));
                        }
                        out.push(format!("aws rds describe-db-snapshot-attributes{region} --db-snapshot-identifier {id}"));
                    }
                    ResourceKind::DbClusterSnapshot => {
                        for t in &targets {
                            out.push(format!("aws rds modify-db-cluster-snapshot-attribute{region} --db-cluster-snapshot-identifier {id} --attribute-name restore --values-to-remove {}", sh(t)));
                        }
                    }
                    _ => {}
                }
            }
            if let Some(role) = ev
                .principal
                .split(":assumed-role/")
                .nth(1)
                .and_then(|r| r.split('/').next())
            {
                out.push(format!("aws iam put-role-policy --role-name {} --policy-name snaptrail-deny-snapshot-sharing --policy-document {}", sh(role), sh(DENY_POLICY)));
            } else if let Some(user) = ev.principal.split(":user/").nth(1) {
                let name = user.rsplit('/').next().unwrap_or(user);
                out.push(format!("aws iam put-user-policy --user-name {} --policy-name snaptrail-deny-snapshot-sharing --policy-document {}", sh(name), sh(DENY_POLICY)));
            }
        }
        Cloud::Azure => {
            for r in &ev.resources {
                let id = sh(&r.id);
                let noun = match r.kind {
                    ResourceKind::Snapshot => "snapshot",
                    ResourceKind::Disk => "disk",
                    _ => continue,
                };
                if ev.operation.to_ascii_lowercase().contains("getaccess") {
                    out.push(format!("az {noun} revoke-access --ids {id}"));
                }
                if alert.tags.iter().any(|t| t == "public") {
                    out.push(format!("az {noun} update --ids {id} --network-access-policy DenyAll --public-network-access Disabled"));
                }
                out.push(format!("az {noun} show --ids {id}"));
            }
            if ev.principal != "unknown" {
                out.push(format!(
                    "az role assignment list --all --assignee {}",
                    sh(&ev.principal)
                ));
            }
        }
        Cloud::Gcp => {
            for r in &ev.resources {
                let noun = match r.kind {
                    ResourceKind::Snapshot => "snapshots",
                    ResourceKind::Image => "images",
                    ResourceKind::Disk => "disks",
                    _ => continue,
                };
                let name = sh(short_id(&r.id));
                let project = sh(&ev.account);
                for t in &targets {
                    out.push(format!("gcloud compute {noun} remove-iam-policy-binding {name} --project {project} --member {} --role ROLE_FROM_POLICY", sh(t)));
                }
                out.push(format!(
                    "gcloud compute {noun} get-iam-policy {name} --project {project}"
                ));
            }
        }
    }
    out.dedup();
    out
}

const DENY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["ec2:ModifySnapshotAttribute","ec2:ModifyImageAttribute","rds:ModifyDBSnapshotAttribute","rds:ModifyDBClusterSnapshotAttribute","ec2:CreateSnapshot","ec2:CreateSnapshots"],"Resource":"*"}]}"#;

pub fn within(t: Timestamp, from: Option<Timestamp>, to: Option<Timestamp>) -> bool {
    from.is_none_or(|f| t >= f) && to.is_none_or(|x| t < x)
}

#[cfg(test)]
mod tests {
    use super::sh;

    #[test]
    fn shell_quoting_neutralizes_hostile_ids() {
        assert_eq!(sh("snap-0123"), "snap-0123");
        assert_eq!(sh("snap-1; rm -rf ~"), "'snap-1; rm -rf ~'");
        assert_eq!(sh("a'b"), "'a'\\''b'");
        assert_eq!(sh("$(id)"), "'$(id)'");
        assert_eq!(sh(""), "''");
    }
}
