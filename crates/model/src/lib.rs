//! The types every stage of snaptrail shares: the normalized [`Event`] that ingest produces and
//! detect consumes, and the [`Alert`] that detect produces and output prints.

mod alert;
mod event;

/// What earlier runs saw: the first-seen baseline that triage and first-seen scoring ask.
/// Implemented by the state store; `None` everywhere for a stateless hunt.
pub trait Baseline {
    /// When (unix seconds) `value` was first seen for `key` in the given `kind` of fact:
    /// `principal` (snapshot operations by a principal; value ""), `principal-ip`,
    /// `principal-ua`, `share-target` (key: account, value: target).
    fn first_seen(&self, kind: &str, key: &str, value: &str) -> Option<i64>;
}

pub use alert::{Alert, Severity, Triage, TriageAnswer};
pub use event::{
    Cloud, Component, Event, EventRef, Outcome, PrincipalKind, Resource, ResourceKind, ShareAction,
    ShareTarget, TargetKind, Text,
};
