//! Share classification, per event: snapshots, AMIs, RDS snapshots made public, shared outside
//! the organization, shared inside it, or un-shared. Failed attempts are `failed.rs`'s.

use super::{EventRule, T_CREATE_SNAPSHOT, T_TRANSFER};
use crate::config::Config;
use crate::context::{TargetClass, classify_target};
use crate::finding::{Finding, describe_resource};
use serde_json::{Value, json};
use snaptrail_model::{Component, EventRef, Severity, ShareAction};

pub struct ShareRule;

impl EventRule for ShareRule {
    fn check(&self, ev: &EventRef, cfg: &Config) -> Vec<Finding> {
        if !matches!(ev.component, Component::Share | Component::Unshare)
            || !ev.outcome.success
            || ev.share_targets.is_empty()
        {
            return Vec::new();
        }
        let classes: Vec<(ShareAction, TargetClass, &str)> = ev
            .share_targets
            .iter()
            .map(|t| (t.action, classify_target(cfg, ev, t), t.id.as_str()))
            .collect();
        let worst_add = classes
            .iter()
            .filter(|(a, ..)| *a == ShareAction::Add)
            .map(|(_, c, _)| *c)
            .max();
        let what = describe_resource(ev);
        let (detector, severity, base, title) = match worst_add {
            Some(TargetClass::Public) => (
                "snapshot.share.public",
                Severity::Critical,
                85,
                format!("{what} made public by {}", ev.principal),
            ),
            Some(TargetClass::External) => {
                let targets: Vec<&str> = classes
                    .iter()
                    .filter(|(a, c, _)| *a == ShareAction::Add && *c == TargetClass::External)
                    .map(|(.., id)| *id)
                    .collect();
                (
                    "snapshot.share.external",
                    Severity::High,
                    65,
                    format!(
                        "{what} shared outside the organization with {} by {}",
                        targets.join(", "),
                        ev.principal
                    ),
                )
            }
            Some(_) => (
                "snapshot.share.internal",
                Severity::Info,
                5,
                format!("{what} shared inside the organization by {}", ev.principal),
            ),
            None => (
                "snapshot.unshare",
                Severity::Info,
                2,
                format!("{what} share revoked by {}", ev.principal),
            ),
        };
        let mut f = Finding::new(
            detector,
            severity,
            &[T_TRANSFER, T_CREATE_SNAPSHOT],
            vec![ev.clone()],
        );
        f.title = title;
        f.point(
            base,
            match worst_add {
                Some(TargetClass::Public) => "granted to everyone (public)".to_string(),
                Some(TargetClass::External) => {
                    "granted to an account outside organization.accounts and trusted_share_targets"
                        .to_string()
                }
                Some(TargetClass::Trusted) => "granted to a trusted share target".to_string(),
                Some(TargetClass::OwnAccount) => {
                    "granted to one of the organization's own accounts".to_string()
                }
                None => "permissions removed only".to_string(),
            },
        );
        if worst_add.is_none() {
            f.tag("revert");
        }
        let mut targets = Vec::new();
        for (action, class, id) in &classes {
            if *action == ShareAction::Add {
                f.tag(class.tag());
                f.share_targets.push(id.to_string());
            }
            targets.push(json!({"target": id, "action": action, "class": class.tag()}));
        }
        f.evidence("operation", Value::String(ev.operation.to_string()));
        f.evidence("targets", Value::Array(targets));
        vec![f]
    }
}
