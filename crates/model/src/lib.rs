//! The types every stage of snaptrail shares: the normalized [`Event`] that ingest produces and
//! detect consumes, and the [`Alert`] that detect produces and output prints.

mod alert;
mod event;

pub use alert::{Alert, Severity, Triage, TriageAnswer};
pub use event::{
    Cloud, Component, Event, Outcome, PrincipalKind, Resource, ResourceKind, ShareAction,
    ShareTarget, TargetKind,
};
