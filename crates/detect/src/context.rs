//! Judgements every detector shares: where a share target sits relative to the organization,
//! whether an actor is a known-benign one, and whether a moment is inside business hours.

use crate::config::Config;
use jiff::Timestamp;
use snaptrail_model::{Cloud, Event, PrincipalKind, ShareTarget, TargetKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TargetClass {
    OwnAccount,
    Trusted,
    External,
    Public,
}

impl TargetClass {
    pub fn tag(self) -> &'static str {
        match self {
            TargetClass::OwnAccount => "own-account",
            TargetClass::Trusted => "trusted",
            TargetClass::External => "external",
            TargetClass::Public => "public",
        }
    }
}

/// Where a share target sits. With no organization configured, the event's own account is the
/// only one known to be ours: anything else is external.
pub fn classify_target(cfg: &Config, ev: &Event, t: &ShareTarget) -> TargetClass {
    match t.kind {
        TargetKind::Public | TargetKind::SasUrl => TargetClass::Public,
        TargetKind::Account | TargetKind::Organization | TargetKind::OrganizationalUnit => {
            if cfg.is_trusted_target(&t.id) {
                TargetClass::Trusted
            } else if t.id == ev.account || cfg.is_own_account(&t.id) {
                TargetClass::OwnAccount
            } else {
                TargetClass::External
            }
        }
        TargetKind::Member => classify_member(cfg, ev, &t.id),
    }
}

/// GCP IAM members: `user:a@example.com`, `serviceAccount:x@proj.iam.gserviceaccount.com`,
/// `group:…`, `domain:example.com`.
fn classify_member(cfg: &Config, ev: &Event, member: &str) -> TargetClass {
    if cfg.is_trusted_target(member) {
        return TargetClass::Trusted;
    }
    let (_, ident) = member.split_once(':').unwrap_or(("", member));
    let domain = ident.rsplit('@').next().unwrap_or(ident);
    if let Some(project) = domain.strip_suffix(".iam.gserviceaccount.com") {
        if project == ev.account || cfg.is_own_account(project) {
            return TargetClass::OwnAccount;
        }
        return TargetClass::External;
    }
    if cfg.is_own_domain(domain) {
        TargetClass::OwnAccount
    } else {
        TargetClass::External
    }
}

/// AWS services whose snapshot work is routine (spec section 4).
const BENIGN_SERVICES: &[&str] = &[
    "backup.amazonaws.com",
    "dlm.amazonaws.com",
    "guardduty.amazonaws.com",
    "malware-protection.guardduty.amazonaws.com",
    "assets.marketplace.amazonaws.com",
    "marketplace.amazonaws.com",
];

const BENIGN_ROLE_MARKERS: &[&str] = &[
    "AWSServiceRoleForBackup",
    "AWSBackupDefaultServiceRole",
    "AWSDataLifecycleManager",
    "AWSServiceRoleForAmazonGuardDuty",
    "AWSServiceRoleForMarketplace",
];

/// Why an actor is known-benign, if it is. Benign lowers severity; it never hides an alert,
/// because an attacker can drive a backup role too.
pub fn benign_reason(cfg: &Config, ev: &Event) -> Option<String> {
    if let Some(pattern) = cfg.allowed_principal(&ev.principal) {
        return Some(format!("principal matches allow.principals {pattern:?}"));
    }
    if ev.principal_kind == PrincipalKind::Service && ev.cloud == Cloud::Aws {
        return Some(format!("AWS service identity {}", ev.principal));
    }
    if let Some(by) = ev
        .invoked_by
        .as_deref()
        .filter(|b| BENIGN_SERVICES.contains(b))
    {
        return Some(format!("invoked by {by}"));
    }
    if ev.cloud == Cloud::Gcp && is_gcp_service_agent(&ev.principal) {
        return Some(format!("Google-managed service agent {}", ev.principal));
    }
    if let Some(role) = BENIGN_ROLE_MARKERS
        .iter()
        .find(|m| ev.principal.contains(*m))
    {
        return Some(format!("AWS service role {role}"));
    }
    if ev
        .facts
        .iter()
        .any(|f| f == "snapshot-type:automated" || f == "snapshot-type:awsbackup")
    {
        return Some("automated RDS snapshot".into());
    }
    None
}

/// Google-managed service agents (`service-<project number>@compute-system.iam.gserviceaccount.com`,
/// `<number>@cloudservices.gserviceaccount.com`) act for the platform: snapshot schedules,
/// managed instance groups. Their domain is Google's, not another organization's.
pub fn is_gcp_service_agent(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    let numbered = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (local.strip_prefix("service-").is_some_and(numbered)
        && domain.ends_with(".iam.gserviceaccount.com"))
        || (numbered(local) && domain == "cloudservices.gserviceaccount.com")
}

/// A change-ticket tag on the request marks the work as planned.
pub fn change_ticket(cfg: &Config, ev: &Event) -> Option<String> {
    ev.request_tags
        .iter()
        .find(|(k, v)| {
            !v.is_empty()
                && cfg
                    .change_tag_keys
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(k))
        })
        .map(|(k, v)| format!("{k}={v}"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hours {
    pub off_hours: bool,
    pub weekend: bool,
}

/// Business hours in the configured zone: outside `[start, end)` is off-hours; a weekend day is
/// both weekend and off-hours.
pub fn hours(cfg: &Config, t: Timestamp) -> Hours {
    let local = t.to_zoned(cfg.timezone.clone());
    let minute = local.hour() as u16 * 60 + local.minute() as u16;
    let weekend = cfg
        .weekend
        .contains(&local.weekday().to_monday_one_offset());
    Hours {
        off_hours: weekend || minute < cfg.day_start || minute >= cfg.day_end,
        weekend,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_instant_is_in_hours_in_one_zone_and_off_in_another() {
        // Wednesday 2026-01-14 06:30 UTC: 07:30 in Berlin (in hours), 01:30 in New York.
        let t: Timestamp = "2026-01-14T06:30:00Z".parse().unwrap();
        let berlin = Config::parse("[business_hours]\ntimezone = \"Europe/Berlin\"").unwrap();
        let new_york = Config::parse("[business_hours]\ntimezone = \"America/New_York\"").unwrap();
        assert!(!hours(&berlin, t).off_hours);
        assert!(hours(&new_york, t).off_hours);
        assert!(
            hours(&Config::default(), t).off_hours,
            "06:30 UTC is before 07:00 UTC"
        );
    }

    #[test]
    fn weekend_in_local_time() {
        // Saturday 00:30 in Berlin is still Friday 23:30 UTC.
        let t: Timestamp = "2026-01-16T23:30:00Z".parse().unwrap();
        let berlin = Config::parse("[business_hours]\ntimezone = \"Europe/Berlin\"").unwrap();
        assert!(hours(&berlin, t).weekend);
        assert!(!hours(&Config::default(), t).weekend);
    }

    #[test]
    fn end_of_day_is_exclusive() {
        let cfg = Config::default();
        assert!(!hours(&cfg, "2026-01-14T18:59:00Z".parse().unwrap()).off_hours);
        assert!(hours(&cfg, "2026-01-14T19:00:00Z".parse().unwrap()).off_hours);
    }
}
