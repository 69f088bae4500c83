//! The normalized event: one cloud API operation, whatever cloud and envelope it came from.
//! Field names follow OCSF API Activity where one exists so the OCSF output is a mapping.

use jiff::Timestamp;

/// An event shared between the detectors and triage that hold it: detection is streaming, so
/// state keeps events alive only as long as some window, chain or pending alert needs them.
pub type EventRef = std::sync::Arc<Event>;

/// A string kept inline when it is short (up to 24 bytes: accounts, regions, resource ids,
/// operation names), so most of an event's strings cost no allocation to make, copy or free.
pub type Text = compact_str::CompactString;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    Aws,
    Azure,
    Gcp,
}

impl Cloud {
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Aws => "aws",
            Cloud::Azure => "azure",
            Cloud::Gcp => "gcp",
        }
    }
}

/// The ATT&CK DS0020 (Snapshot) data component an operation belongs to, plus `other` for the
/// context operations (logins, privilege changes) that triage reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Component {
    Create,
    Share,
    Unshare,
    Consume,
    Export,
    Restore,
    Delete,
    Enumerate,
    Other,
}

impl Component {
    pub fn as_str(self) -> &'static str {
        match self {
            Component::Create => "create",
            Component::Share => "share",
            Component::Unshare => "unshare",
            Component::Consume => "consume",
            Component::Export => "export",
            Component::Restore => "restore",
            Component::Delete => "delete",
            Component::Enumerate => "enumerate",
            Component::Other => "other",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PrincipalKind {
    User,
    RoleSession,
    Service,
    Root,
    CrossAccount,
    Anonymous,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResourceKind {
    Snapshot,
    Image,
    DbSnapshot,
    DbClusterSnapshot,
    DbInstance,
    DbCluster,
    Volume,
    Disk,
    Instance,
    SecurityGroup,
    Backup,
    Bucket,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Resource {
    pub kind: ResourceKind,
    pub id: Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShareAction {
    Add,
    Remove,
}

/// What a share target names, as logged. Whether it is inside the organization is decided later
/// by detect, against the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    /// `group: all`, RDS `all`, GCP `allUsers` / `allAuthenticatedUsers`, Azure `AllowAll`.
    Public,
    Account,
    Organization,
    OrganizationalUnit,
    /// A GCP IAM member (`user:`, `serviceAccount:`, `group:`, `domain:`).
    Member,
    /// Azure SAS URL: anyone holding the URL can read the disk.
    SasUrl,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ShareTarget {
    pub action: ShareAction,
    pub kind: TargetKind,
    pub id: Text,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Outcome {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<Text>,
}

/// One operation. `event_id` is the source id (CloudTrail `eventID`, Azure `eventDataId` else
/// `correlationId`, GCP `insertId`); `merged_ids` lists the other rows collapsed into it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub time: Timestamp,
    pub cloud: Cloud,
    pub account: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Text>,
    pub principal: String,
    pub principal_kind: PrincipalKind,
    /// Account the principal belongs to when it differs from `account` (cross-account callers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_account: Option<Text>,
    /// The AWS service that made the call on the principal's behalf (`invokedBy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoked_by: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    pub service: Text,
    pub operation: Text,
    pub component: Component,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub share_targets: Vec<ShareTarget>,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub request_tags: Vec<(Text, Text)>,
    /// Facts a detector keys on that are not resources or targets, from a small vocabulary
    /// (documented in docs/events.md): `include-public`, `ingress-world`, `password-reset`, ...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub facts: Vec<Text>,
    pub event_id: String,
    /// Joins the rows of one long-running operation: Azure `correlationId` (plus operation),
    /// GCP `operation.id`. Rows sharing it collapse into one event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op_key: Option<String>,
    /// Whether this row carries the operation's final status (Azure Succeeded/Failed, GCP
    /// `last`); a merged operation takes its outcome from the final row.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub op_final: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_ids: Vec<String>,
    /// Where the record was read: `file:line` or `file:#byte`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub origin: String,
}

impl Event {
    pub fn has_fact(&self, fact: &str) -> bool {
        self.facts.iter().any(|f| f == fact)
    }

    /// Operations any detector or triage question reads.
    pub fn is_relevant(&self) -> bool {
        self.component != Component::Other || !self.facts.is_empty()
    }

    /// Every source id this event stands for.
    pub fn all_ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.event_id.as_str()).chain(self.merged_ids.iter().map(String::as_str))
    }

    /// What makes two rows the same source record: the same id for the same operation at the
    /// same instant, in the same cloud. Real duplicates (overlapping exports) are identical;
    /// test data and some tools reuse placeholder ids across different events, which this
    /// keeps apart. Dedupe, the state store's idempotency and run-to-run merges all use it.
    pub fn source_key(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.cloud.as_str(),
            escape_separator(&self.event_id),
            self.time.as_millisecond(),
            escape_separator(&self.operation)
        )
    }

    pub fn resource_ids(&self) -> impl Iterator<Item = &str> {
        self.resources.iter().map(|r| r.id.as_str())
    }
}

/// `s` with `%` and `|` percent-encoded, so fields joined by `|` cannot run into each other (ids
/// come from logs, and a crafted one could otherwise pass for another record). Real ids hold
/// neither, so their keys, which state stores keep, are unchanged.
fn escape_separator(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains(['%', '|']) {
        s.replace('%', "%25").replace('|', "%7C").into()
    } else {
        s.into()
    }
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, operation: &str) -> Event {
        serde_json::from_value(serde_json::json!({
            "time": "2026-01-01T00:00:01Z", "cloud": "aws", "account": "1", "principal": "p",
            "principal_kind": "user", "service": "ec2", "operation": operation,
            "component": "create", "outcome": {"success": true}, "event_id": id
        }))
        .unwrap()
    }

    #[test]
    fn source_keys_of_different_records_differ_whatever_their_ids_hold() {
        // Joined plainly, both would be "aws|a|1767225601000|b|1767225601000|c".
        let a = event("a", "b|1767225601000|c");
        let b = event("a|1767225601000|b", "c");
        assert_ne!(a.source_key(), b.source_key());
        assert_ne!(
            event("a%7Cb", "c").source_key(),
            event("a|b", "c").source_key()
        );
        // Ids as clouds write them keep the key earlier versions stored.
        assert_eq!(
            event("3d5c-11ee", "CreateSnapshot").source_key(),
            "aws|3d5c-11ee|1767225601000|CreateSnapshot"
        );
    }
}
