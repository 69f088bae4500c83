//! A database restored from a snapshot onto a publicly accessible instance: the snapshot's data
//! is now reachable from the internet. (The full restore chain, with password reset and
//! ingress, is `restore_chain.rs`'s; this is the single-event signal.)

use super::{EventRule, T_CREATE_SNAPSHOT};
use crate::config::Config;
use crate::finding::{Finding, describe_resource};
use serde_json::json;
use snaptrail_model::{Component, EventRef, Severity};

pub struct RestorePublicRule;

impl EventRule for RestorePublicRule {
    fn check(&self, ev: &EventRef, _cfg: &Config) -> Vec<Finding> {
        if ev.component != Component::Restore
            || !ev.outcome.success
            || !ev.has_fact("restore-public")
        {
            return Vec::new();
        }
        let mut f = Finding::new(
            "snapshot.restore.public",
            Severity::High,
            &[T_CREATE_SNAPSHOT, "T1578.002"],
            vec![ev.clone()],
        );
        f.title = format!(
            "{} restored onto a publicly accessible instance by {}",
            describe_resource(ev),
            ev.principal
        );
        f.point(
            65,
            "restored with publiclyAccessible = true: reachable from the internet",
        );
        f.tag("public");
        f.evidence("operation", json!(ev.operation));
        vec![f]
    }
}
