//! Snapshot consumed by another account: `SharedSnapshotVolumeCreated` /
//! `SharedSnapshotCopyInitiated` service events in the owner's trail. The strongest sign that a
//! share was used: the data left.

use super::{EventRule, T_CREATE_SNAPSHOT, T_TRANSFER};
use crate::config::Config;
use crate::context::{TargetClass, classify_target};
use crate::finding::{Finding, describe_resource};
use serde_json::Value;
use snaptrail_model::{Component, EventRef, Severity};

pub struct ConsumedRule;

impl EventRule for ConsumedRule {
    fn check(&self, ev: &EventRef, cfg: &Config) -> Vec<Finding> {
        if ev.component != Component::Consume {
            return Vec::new();
        }
        let Some(target) = ev.share_targets.first() else {
            return Vec::new();
        };
        let class = classify_target(cfg, ev, target);
        let external = class == TargetClass::External;
        let detector = if external {
            "snapshot.consumed.external"
        } else {
            "snapshot.consumed"
        };
        // A trusted share target (the DR account) copying what it was shared is the point of
        // sharing with it: recorded, low. Another own account: high. Outside: critical.
        let severity = match class {
            TargetClass::External | TargetClass::Public => Severity::Critical,
            TargetClass::Trusted => Severity::Low,
            TargetClass::OwnAccount => Severity::High,
        };
        let mut f = Finding::new(
            detector,
            severity,
            &[T_TRANSFER, T_CREATE_SNAPSHOT],
            vec![ev.clone()],
        );
        let verb = if ev.operation == "SharedSnapshotCopyInitiated" {
            "copied"
        } else {
            "turned into a volume"
        };
        f.title = format!("{} {verb} by account {}", describe_resource(ev), target.id);
        f.point(
            if class == TargetClass::Trusted {
                20
            } else {
                70
            },
            format!(
                "account {} used a shared snapshot ({})",
                target.id, ev.operation
            ),
        );
        if external {
            f.point(25, "that account is outside the organization");
        }
        f.tag(class.tag());
        f.share_targets.push(target.id.to_string());
        f.evidence("consumer_account", Value::String(target.id.to_string()));
        f.evidence("consumer_class", Value::String(class.tag().into()));
        // The consumer is an AWS account acting through the service: not a benign actor.
        f.adjust_for_benign = false;
        vec![f]
    }
}
