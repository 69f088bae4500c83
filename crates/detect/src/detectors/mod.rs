//! Detectors, one file each. Two kinds, kept apart in the types:
//! - [`EventRule`]: stateless, looks at one event; cheap, `Send + Sync`, may run in parallel.
//! - [`Aggregator`]: stateful, sees every relevant event in time order and reports at the end
//!   (windows, groups, chains); owns its state.

pub mod caller_summary;
pub mod consumed;
pub mod deletion_burst;
pub mod enumeration_burst;
pub mod episodes;
pub mod export;
pub mod failed;
pub mod outside_creator;
pub mod restore_public;
pub mod share;

use crate::config::Config;
use crate::finding::Finding;
use snaptrail_model::Event;

pub trait EventRule: Send + Sync {
    fn check<'e>(&self, ev: &'e Event, cfg: &Config) -> Vec<Finding<'e>>;
}

pub trait Aggregator<'e> {
    fn observe(&mut self, ev: &'e Event, cfg: &Config);
    fn finish(self: Box<Self>, cfg: &Config) -> Vec<Finding<'e>>;
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

pub fn aggregators<'e>(cfg: &Config) -> Vec<Box<dyn Aggregator<'e> + 'e>> {
    vec![
        Box::new(caller_summary::CallerSummary::new(cfg)),
        Box::new(export::Exports::default()),
        Box::new(deletion_burst::DeletionBurst::new(cfg)),
        Box::new(enumeration_burst::EnumerationBurst::new(cfg)),
    ]
}

pub const T_CREATE_SNAPSHOT: &str = "T1578.001";
pub const T_TRANSFER: &str = "T1537";
