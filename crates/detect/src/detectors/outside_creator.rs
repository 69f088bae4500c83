//! A snapshot or image of our resources created by an identity outside the organization: a
//! cross-account AWS caller, a GCP principal from another project (`CrossEntityControlAuditMetadata`)
//! or from a domain not in `organization.domains`, an Azure UPN from another domain.
//! Domain checks apply only when `organization.domains` is configured.

use super::{EventRule, T_CREATE_SNAPSHOT, T_TRANSFER};
use crate::config::Config;
use crate::context::is_gcp_service_agent;
use crate::finding::{Finding, describe_resource};
use serde_json::json;
use snaptrail_model::{Cloud, Component, Event, EventRef, PrincipalKind, Severity};

pub struct OutsideCreatorRule;

fn outside_reason(ev: &Event, cfg: &Config) -> Option<String> {
    if ev.principal_kind == PrincipalKind::CrossAccount {
        let from = ev
            .principal_account
            .as_deref()
            .unwrap_or("another account or project");
        if !cfg.is_own_account(from) && !cfg.is_trusted_target(from) {
            return Some(format!("caller belongs to {from}, not to {}", ev.account));
        }
    }
    if ev.has_fact("cross-entity") {
        return Some("GCP logged the call as made from outside this project (CrossEntityControlAuditMetadata)".into());
    }
    if cfg.domains.is_empty() || !matches!(ev.cloud, Cloud::Gcp | Cloud::Azure) {
        return None;
    }
    if is_gcp_service_agent(&ev.principal) {
        return None;
    }
    let (_, domain) = ev.principal.rsplit_once('@')?;
    if ev.principal_kind == PrincipalKind::Service && domain.ends_with("gserviceaccount.com") {
        let project = domain.split('.').next().unwrap_or("");
        return (!cfg.is_own_account(project) && project != ev.account).then(|| {
            format!("service account of project {project}, not in organization.accounts")
        });
    }
    (!cfg.is_own_domain(domain))
        .then(|| format!("identity domain {domain} is not in organization.domains"))
}

impl EventRule for OutsideCreatorRule {
    fn check(&self, ev: &EventRef, cfg: &Config) -> Vec<Finding> {
        if ev.component != Component::Create || !ev.outcome.success {
            return Vec::new();
        }
        let Some(reason) = outside_reason(ev, cfg) else {
            return Vec::new();
        };
        let mut f = Finding::new(
            "snapshot.create.outside_principal",
            Severity::High,
            &[T_CREATE_SNAPSHOT, T_TRANSFER],
            vec![ev.clone()],
        );
        f.title = format!(
            "{} created by {}, an identity outside the organization",
            describe_resource(ev),
            ev.principal
        );
        f.point(70, reason.clone());
        f.tag("external");
        f.evidence("reason", json!(reason));
        vec![f]
    }
}
