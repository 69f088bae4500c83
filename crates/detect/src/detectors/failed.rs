//! Failed share and export attempts: an alert of their own, never dropped. Sharing a snapshot
//! encrypted with the AWS-managed key fails, but the attempt shows intent.

use super::{EventRule, T_CREATE_SNAPSHOT, T_TRANSFER};
use crate::config::Config;
use crate::context::{TargetClass, classify_target};
use crate::finding::{Finding, describe_resource};
use serde_json::Value;
use snaptrail_model::{Component, EventRef, Severity, ShareAction};

pub struct FailedRule;

impl EventRule for FailedRule {
    fn check(&self, ev: &EventRef, cfg: &Config) -> Vec<Finding> {
        if ev.outcome.success || !matches!(ev.component, Component::Share | Component::Export) {
            return Vec::new();
        }
        let worst = ev
            .share_targets
            .iter()
            .filter(|t| t.action == ShareAction::Add)
            .map(|t| classify_target(cfg, ev, t))
            .max();
        let (detector, severity, base) = match (ev.component, worst) {
            (Component::Export, _) => ("snapshot.export.failed", Severity::Medium, 40),
            (_, Some(TargetClass::Public | TargetClass::External)) => {
                ("snapshot.share.failed", Severity::Medium, 45)
            }
            (_, Some(_)) => ("snapshot.share.failed", Severity::Low, 15),
            (_, None) => return Vec::new(), // a failed attribute change that shares nothing
        };
        let mut f = Finding::new(
            detector,
            severity,
            &[T_TRANSFER, T_CREATE_SNAPSHOT],
            vec![ev.clone()],
        );
        let error = ev.outcome.error_code.clone().unwrap_or_default();
        let verb = if ev.component == Component::Export {
            "export"
        } else {
            "share"
        };
        f.title = format!(
            "Failed attempt to {verb} {} by {} ({error})",
            describe_resource(ev),
            ev.principal
        );
        f.point(
            base,
            format!("the {verb} was attempted and failed with {error}: intent without effect"),
        );
        for t in &ev.share_targets {
            if t.action == ShareAction::Add {
                f.tag(classify_target(cfg, ev, t).tag());
                f.share_targets.push(t.id.to_string());
            }
        }
        f.tag("failed");
        f.evidence("error_code", Value::String(error.into()));
        vec![f]
    }
}
