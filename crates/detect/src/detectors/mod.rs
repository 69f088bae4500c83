//! Detectors, one file each. Two kinds, kept apart in the types:
//! - [`EventRule`]: stateless, looks at one event; cheap, `Send + Sync`, may run in parallel.
//! - [`Aggregator`]: stateful, sees every relevant event in time order (windows, groups,
//!   chains). Detection is streaming: the stream's event time is the clock, and an aggregator
//!   reports a window, episode or chain once that clock has passed its end, then forgets it.
//!   State is capped per detector; what a cap closes early is reported, not dropped.

pub mod caller_summary;
pub mod chain_exfil;
pub mod chain_restore;
pub mod consumed;
pub mod deletion_burst;
pub mod enumeration_burst;
pub mod episodes;
pub mod export;
pub mod failed;
pub mod groups;
pub mod outside_creator;
pub mod restore_public;
pub mod share;

use crate::config::Config;
use crate::finding::Finding;
use jiff::Timestamp;
use snaptrail_model::EventRef;

pub trait EventRule: Send + Sync {
    fn check(&self, ev: &EventRef, cfg: &Config) -> Vec<Finding>;
}

pub trait Aggregator: Send {
    /// Take the next event; events arrive in time order.
    fn observe(&mut self, ev: &EventRef, cfg: &Config);
    /// Report everything no event at or after `now` can change, and forget it. `Timestamp::MAX`
    /// ends the stream.
    fn flush(&mut self, now: Timestamp, cfg: &Config, out: &mut Vec<Finding>);
    /// Keys (windows, episodes, chains) held now.
    fn keys(&self) -> usize;
    /// Close the `n` keys that were active longest ago as if their time were up; returns how many
    /// were closed. Called when the detector holds more keys than `limits.max_keys`.
    fn evict(&mut self, n: usize, cfg: &Config, out: &mut Vec<Finding>) -> usize;
}

pub fn event_rules() -> Vec<Box<dyn EventRule>> {
    vec![
        Box::new(share::ShareRule),
        Box::new(consumed::ConsumedRule),
        Box::new(failed::FailedRule),
        Box::new(restore_public::RestorePublicRule),
        Box::new(outside_creator::OutsideCreatorRule),
    ]
}

pub fn aggregators(cfg: &Config) -> Vec<Box<dyn Aggregator>> {
    vec![
        Box::new(caller_summary::CallerSummary::new(cfg)),
        Box::new(export::Exports::default()),
        Box::new(deletion_burst::DeletionBurst::new(cfg)),
        Box::new(enumeration_burst::EnumerationBurst::new(cfg)),
        Box::new(chain_exfil::ExfilChain::new(cfg)),
        Box::new(chain_restore::RestoreChain::new(cfg)),
    ]
}

/// Every detector name an alert can carry, with what it means (docs/alerts.md has an example of
/// each, and a test keeps the two in step).
pub const DETECTORS: &[(&str, &str)] = &[
    (
        "snapshot.caller_summary",
        "the seed's per-caller summary over a tumbling window, scored 1-3 as the seed does",
    ),
    (
        "snapshot.share.public",
        "a snapshot, image or RDS snapshot made public (critical)",
    ),
    (
        "snapshot.share.external",
        "shared with an account or identity outside the organization (high)",
    ),
    (
        "snapshot.share.internal",
        "shared with an own or trusted account (info)",
    ),
    (
        "snapshot.unshare",
        "share permissions removed: a revert (info)",
    ),
    (
        "snapshot.share.failed",
        "a share attempt that failed: intent without effect",
    ),
    (
        "snapshot.consumed.external",
        "another account outside the organization used a shared snapshot (critical)",
    ),
    (
        "snapshot.consumed",
        "another account of the organization used a shared snapshot (high; low for a trusted share target)",
    ),
    (
        "snapshot.export",
        "SAS URL, export task, RDS export or EBS direct reads",
    ),
    ("snapshot.export.failed", "an export attempt that failed"),
    (
        "snapshot.restore.public",
        "a database restored from a snapshot onto a publicly accessible instance",
    ),
    (
        "snapshot.create.outside_principal",
        "a snapshot created by an identity outside the organization",
    ),
    (
        "snapshot.chain.exfiltration",
        "a snapshot shared with an untrusted account and then used by that account",
    ),
    (
        "snapshot.chain.restore",
        "a snapshot restored, mounted on an instance and exposed (world ingress or database password reset)",
    ),
    (
        "snapshot.delete.burst",
        "many deletions in minutes, or deletion of the recovery mechanism itself",
    ),
    (
        "snapshot.enumerate.burst",
        "snapshot enumeration across regions, for public/shared snapshots, by attack tools, or followed by creation",
    ),
];

pub const T_CREATE_SNAPSHOT: &str = "T1578.001";
pub const T_TRANSFER: &str = "T1537";
