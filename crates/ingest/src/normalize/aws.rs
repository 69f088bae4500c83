//! AWS CloudTrail records (`eventVersion` 1.0x), whatever envelope carried them.

use super::json::{field, optional_str, parse_time, path, required_str, str_at};
use super::node::Node;
use super::{Normalized, is_attack_tool_agent, push_fact, push_resource};
use serde_json::Value;
use snaptrail_model::{
    Cloud, Component, Event, Outcome, PrincipalKind, Resource, ResourceKind, ShareAction,
    ShareTarget, TargetKind, Text,
};

/// Does this object look like a CloudTrail record?
pub fn looks_like(v: &Value) -> bool {
    let Some(o) = v.as_object() else { return false };
    field(o, "eventName").is_some()
        && (field(o, "eventSource").is_some() || field(o, "eventTime").is_some())
}

/// The top-level fields of a CloudTrail record the normalizer reads, borrowed from a parsed
/// `Value` ([`normalize`]) or straight from the record's bytes ([`super::aws_record`]).
pub struct Fields<'a> {
    pub name: &'a str,
    pub source: Option<&'a str>,
    pub time: Option<&'a str>,
    /// Panther's `p_event_time`, used where a copy trimmed `eventTime`.
    pub panther_time: Option<&'a str>,
    pub event_id: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub identity: Identity<'a>,
    pub recipient: Option<&'a str>,
    pub error_code: Option<&'a str>,
    pub request: &'a Node<'a>,
    pub response: &'a Node<'a>,
    pub user_agent: Option<&'a str>,
    pub region: Option<&'a str>,
    pub source_ip: Option<&'a str>,
    pub details: Option<&'a Node<'a>>,
}

pub fn normalize(v: &Value, origin: &str) -> Result<Normalized, String> {
    let name = required_str(v, "eventName")?;
    let source = optional_str(v, "eventSource")?;
    let time = optional_str(v, "eventTime")?;
    let event_id = optional_str(v, "eventID")?;
    let request_id = optional_str(v, "requestID")?;
    let identity = Identity::of(path(v, &["userIdentity"]).unwrap_or(&Value::Null))?;
    let node = |key| path(v, &[key]).map(Node::of);
    let (request, response) = (node("requestParameters"), node("responseElements"));
    let details = node("serviceEventDetails");
    let fields = Fields {
        name,
        source,
        time,
        panther_time: str_at(v, &["p_event_time"]),
        event_id,
        request_id,
        identity,
        recipient: str_at(v, &["recipientAccountId"]),
        error_code: optional_str(v, "errorCode")?,
        request: request.as_ref().unwrap_or(&Node::Null),
        response: response.as_ref().unwrap_or(&Node::Null),
        user_agent: optional_str(v, "userAgent")?,
        region: optional_str(v, "awsRegion")?,
        source_ip: optional_str(v, "sourceIPAddress")?,
        details: details.as_ref(),
    };
    normalize_fields(&fields, origin.to_string())
}

/// What the normalizer reads of `userIdentity`: who called, nothing of the session.
#[derive(Debug, Default, Clone, Copy)]
pub struct Identity<'a> {
    /// `type`: `IAMUser`, `AssumedRole`, `AWSService`, …
    pub kind: Option<&'a str>,
    pub arn: Option<&'a str>,
    pub account_id: Option<&'a str>,
    pub invoked_by: Option<&'a str>,
    pub principal_id: Option<&'a str>,
}

impl<'a> Identity<'a> {
    /// From a parsed `userIdentity`; absent or `null` is nobody, anything but an object is an
    /// error.
    pub fn of(identity: &'a Value) -> Result<Identity<'a>, String> {
        if !identity.is_null() && !identity.is_object() {
            return Err("field `userIdentity` is not an object".into());
        }
        Ok(Identity {
            kind: str_at(identity, &["type"]),
            arn: str_at(identity, &["arn"]),
            account_id: str_at(identity, &["accountId"]),
            invoked_by: str_at(identity, &["invokedBy"]),
            principal_id: str_at(identity, &["principalId"]),
        })
    }
}

/// `origin` (file and place) is moved into the event.
pub fn normalize_fields(f: &Fields, origin: String) -> Result<Normalized, String> {
    let name = f.name;
    let source = f.source.unwrap_or("");
    let time = match (f.time, f.panther_time) {
        (Some(t), _) | (None, Some(t)) => parse_time(t)?,
        (None, None) => return Err("field `eventTime` is missing".into()),
    };
    let event_id = f.event_id.or(f.request_id).unwrap_or("").to_string();
    let identity = f.identity;
    let account = Text::from(f.recipient.or(identity.account_id).unwrap_or(""));
    let (principal, principal_kind, principal_account) = principal(&identity, &account);
    let error_code = f.error_code;
    let request = f.request;
    let response = f.response;
    let user_agent = f.user_agent.map(str::to_string);
    let region = f.region.map(Text::from);

    let mut ev = Event {
        time,
        cloud: Cloud::Aws,
        account,
        region,
        principal,
        principal_kind,
        principal_account,
        invoked_by: identity.invoked_by.map(Text::from),
        source_ip: f.source_ip.map(Text::from),
        user_agent,
        service: service_name(source).into(),
        operation: name.into(),
        component: Component::Other,
        resources: Vec::new(),
        share_targets: Vec::new(),
        outcome: Outcome {
            success: error_code.is_none(),
            error_code: error_code.map(Text::from),
        },
        request_tags: Vec::new(),
        facts: Vec::new(),
        event_id,
        op_key: None,
        op_final: true,
        merged_ids: Vec::new(),
        origin,
    };
    ev.component = classify(name, request, &mut ev.facts);
    collect_resources(request, &mut ev.resources, 0);
    collect_resources(response, &mut ev.resources, 0);
    if let Some(details) = f.details {
        collect_resources(details, &mut ev.resources, 0);
    }
    share_targets(name, request, &mut ev.share_targets);
    if ev.component == Component::Share
        && !ev.share_targets.is_empty()
        && ev
            .share_targets
            .iter()
            .all(|t| t.action == ShareAction::Remove)
    {
        ev.component = Component::Unshare;
    }
    request_facts(name, request, response, &ev.region, &mut ev.facts);
    if ev.user_agent.as_deref().is_some_and(is_attack_tool_agent) {
        push_fact(&mut ev.facts, "attack-tool-agent");
    }
    if ev.component == Component::Consume {
        // In the owner's trail, userIdentity.accountId is the account that consumed it.
        if let Some(other) = identity.account_id {
            ev.share_targets.push(ShareTarget {
                action: ShareAction::Add,
                kind: TargetKind::Account,
                id: other.into(),
            });
        }
    }
    collect_tags(request, &mut ev.request_tags);
    Ok(Normalized::Event(Box::new(ev)))
}

/// `ec2.amazonaws.com` is `ec2`. As `trim_end_matches`, without building a substring searcher
/// for every record (a sixtieth of a relevant record's cost).
fn service_name(source: &str) -> &str {
    let mut name = source;
    while let Some(shorter) = name.strip_suffix(".amazonaws.com") {
        name = shorter;
    }
    name
}

fn principal(identity: &Identity, account: &str) -> (String, PrincipalKind, Option<Text>) {
    let kind = identity.kind.unwrap_or("");
    let arn = identity.arn;
    let id_account = identity.account_id;
    let cross = id_account.filter(|a| !account.is_empty() && *a != account);
    let principal_kind = match kind {
        "Root" => PrincipalKind::Root,
        "IAMUser" | "IdentityCenterUser" | "SAMLUser" | "WebIdentityUser" => PrincipalKind::User,
        "AssumedRole" | "FederatedUser" => PrincipalKind::RoleSession,
        "AWSService" => PrincipalKind::Service,
        "AWSAccount" => PrincipalKind::CrossAccount,
        "Anonymous" | "Unknown" if arn.is_none() => PrincipalKind::Anonymous,
        _ => PrincipalKind::Unknown,
    };
    let principal_kind = if cross.is_some() && principal_kind != PrincipalKind::Service {
        PrincipalKind::CrossAccount
    } else {
        principal_kind
    };
    let name = arn
        .map(str::to_string)
        .or_else(|| identity.invoked_by.map(str::to_string))
        .or_else(|| id_account.map(|a| format!("account:{a}")))
        .or_else(|| identity.principal_id.map(str::to_string))
        .unwrap_or_else(|| "unknown".to_string());
    (name, principal_kind, cross.map(Text::from))
}

fn classify(name: &str, request: &Node, facts: &mut Vec<Text>) -> Component {
    use Component::*;
    match name {
        "CreateSnapshot"
        | "CreateSnapshots"
        | "CopySnapshot"
        | "CreateImage"
        | "CopyImage"
        | "CreateDBSnapshot"
        | "CreateDBClusterSnapshot"
        | "CopyDBSnapshot"
        | "CopyDBClusterSnapshot"
        | "StartBackupJob"
        | "StartCopyJob"
        | "StartSnapshot"
        | "CreateClusterSnapshot"
        | "CopyClusterSnapshot"
        | "CreateInstanceSnapshot"
        | "CreateDiskSnapshot"
        | "CreateRestoreImageTask" => Create,
        "ModifySnapshotAttribute"
        | "ModifyImageAttribute"
        | "ModifyDBSnapshotAttribute"
        | "ModifyDBClusterSnapshotAttribute"
        | "AuthorizeSnapshotAccess"
        | "DisableSnapshotBlockPublicAccess"
        | "DisableImageBlockPublicAccess" => Share,
        "ResetSnapshotAttribute" | "ResetImageAttribute" | "RevokeSnapshotAccess" => Unshare,
        "SharedSnapshotVolumeCreated" | "SharedSnapshotCopyInitiated" => Consume,
        "CreateInstanceExportTask"
        | "ExportImage"
        | "CreateStoreImageTask"
        | "StartExportTask"
        | "ListSnapshotBlocks"
        | "ListChangedBlocks"
        | "GetSnapshotBlock" => Export,
        "CreateVolume" if request.has_key("snapshotId") => Restore,
        "RunInstances" if run_instances_snapshot(request) => Restore,
        "RestoreDBInstanceFromDBSnapshot"
        | "RestoreDBClusterFromSnapshot"
        | "RestoreDBInstanceToPointInTime"
        | "RestoreDBClusterToPointInTime"
        | "RestoreDBInstanceFromS3"
        | "StartRestoreJob"
        | "RestoreFromClusterSnapshot" => Restore,
        "DeleteSnapshot"
        | "DeregisterImage"
        | "DeleteDBSnapshot"
        | "DeleteDBClusterSnapshot"
        | "DeleteDBInstanceAutomatedBackup"
        | "DeleteDBClusterAutomatedBackup"
        | "DeleteRecoveryPoint"
        | "DeleteBackupVault"
        | "DeleteBackupPlan"
        | "DeleteClusterSnapshot"
        | "DeleteInstanceSnapshot"
        | "DeleteDiskSnapshot" => Delete,
        "DeleteRule" | "UpdateRule" if is_rbin(request) => Delete,
        "ModifyDBInstance" | "ModifyDBCluster"
            if request
                .path(&["backupRetentionPeriod"])
                .and_then(Node::as_i64)
                == Some(0) =>
        {
            push_fact(facts, "backup-retention-zero");
            Delete
        }
        "DescribeSnapshots"
        | "DescribeSnapshotAttribute"
        | "DescribeImages"
        | "DescribeImageAttribute"
        | "DescribeDBSnapshots"
        | "DescribeDBClusterSnapshots"
        | "DescribeDBSnapshotAttributes"
        | "DescribeDBClusterSnapshotAttributes"
        | "DescribeClusterSnapshots" => Enumerate,
        _ => Other,
    }
}

/// Recycle Bin rules are logged as `DeleteRule`/`UpdateRule` with a `resourceType`; EventBridge
/// has operations of the same name, so only the rbin ones count.
fn is_rbin(request: &Node) -> bool {
    request.has_key("resourceType") || request.str_at(&["identifier"]).is_some()
}

fn run_instances_snapshot(request: &Node) -> bool {
    request
        .array_at(&["blockDeviceMapping", "items"])
        .iter()
        .any(|m| m.str_at(&["ebs", "snapshotId"]).is_some())
}

/// Facts from request and response that detectors key on.
fn request_facts(
    name: &str,
    request: &Node,
    response: &Node,
    region: &Option<Text>,
    facts: &mut Vec<Text>,
) {
    match name {
        "ConsoleLogin" => {
            let failed = response.str_at(&["ConsoleLogin"]) == Some("Failure");
            push_fact(facts, if failed { "login-failed" } else { "login" });
        }
        "AttachUserPolicy"
        | "AttachRolePolicy"
        | "AttachGroupPolicy"
        | "PutUserPolicy"
        | "PutRolePolicy"
        | "PutGroupPolicy"
        | "CreateAccessKey"
        | "CreateLoginProfile"
        | "UpdateLoginProfile"
        | "UpdateAssumeRolePolicy"
        | "CreatePolicyVersion"
        | "AddUserToGroup"
        | "SetDefaultPolicyVersion" => push_fact(facts, "privilege-change"),
        "AuthorizeSecurityGroupIngress" => {
            push_fact(facts, "ingress");
            for perm in request.array_at(&["ipPermissions", "items"]) {
                let v4 = perm
                    .array_at(&["ipRanges", "items"])
                    .iter()
                    .any(|r| r.str_at(&["cidrIp"]) == Some("0.0.0.0/0"));
                let v6 = perm
                    .array_at(&["ipv6Ranges", "items"])
                    .iter()
                    .any(|r| r.str_at(&["cidrIpv6"]) == Some("::/0"));
                if v4 || v6 {
                    push_fact(facts, "ingress-world");
                    let from = perm.path(&["fromPort"]).and_then(Node::as_i64);
                    let to = perm.path(&["toPort"]).and_then(Node::as_i64);
                    match (from, to) {
                        (Some(f), Some(t)) if f == t => push_fact(facts, format!("port:{f}")),
                        (Some(f), Some(t)) => push_fact(facts, format!("ports:{f}-{t}")),
                        _ => push_fact(facts, "ports:all"),
                    }
                }
            }
        }
        "AttachVolume" => push_fact(facts, "attach"),
        "RunInstances" => push_fact(facts, "instance-create"),
        "ModifyDBInstance" | "ModifyDBCluster" if request.has_key("masterUserPassword") => {
            push_fact(facts, "password-reset")
        }
        "RestoreDBInstanceFromDBSnapshot" | "RestoreDBClusterFromSnapshot"
            if response.bool_at(&["publiclyAccessible"]) == Some(true)
                || request.bool_at(&["publiclyAccessible"]) == Some(true) =>
        {
            push_fact(facts, "restore-public")
        }
        "DescribeDBSnapshots"
        | "DescribeDBClusterSnapshots"
        | "DescribeSnapshots"
        | "DescribeImages" => {
            if request.bool_at(&["includePublic"]) == Some(true) {
                push_fact(facts, "include-public");
            }
            if request.bool_at(&["includeShared"]) == Some(true) {
                push_fact(facts, "include-shared");
            }
        }
        "CreateDBSnapshot" | "CreateDBClusterSnapshot" => {
            if let Some(kind) = response.str_at(&["snapshotType"]) {
                push_fact(facts, format!("snapshot-type:{kind}"));
            }
        }
        _ => {}
    }
    // Copies into another region: CopySnapshot names the source region, RDS copies name a
    // source ARN in another region.
    let source_region = request
        .str_at(&["sourceRegion"])
        .map(str::to_string)
        .or_else(|| {
            [
                "sourceDBSnapshotIdentifier",
                "sourceDBClusterSnapshotIdentifier",
            ]
            .iter()
            .find_map(|k| request.str_at(&[k]))
            .filter(|s| s.starts_with("arn:"))
            .and_then(|arn| arn.split(':').nth(3).map(str::to_string))
        });
    if let (Some(src), Some(here)) = (source_region, region)
        && !src.is_empty()
        && src != *here
    {
        push_fact(facts, "cross-region");
    }
}

/// Share targets of the share/unshare operations, as logged.
fn share_targets(name: &str, request: &Node, out: &mut Vec<ShareTarget>) {
    match name {
        "ModifySnapshotAttribute" | "ModifyImageAttribute" => {
            for attr in ["createVolumePermission", "launchPermission"] {
                for (key, action) in [("add", ShareAction::Add), ("remove", ShareAction::Remove)] {
                    for item in request.array_at(&[attr, key, "items"]) {
                        if let Some(t) = ec2_permission_item(item, action) {
                            out.push(t);
                        }
                    }
                }
            }
            // Older records carry the operation as `operationType` with a flat `userIds` list.
            let action = match request.str_at(&["operationType"]) {
                Some("remove") => ShareAction::Remove,
                _ => ShareAction::Add,
            };
            for item in request
                .array_at(&["userIds"])
                .iter()
                .chain(request.array_at(&["userIds", "items"]))
            {
                if let Some(id) = item.as_str().or_else(|| item.str_at(&["userId"])) {
                    out.push(target(action, TargetKind::Account, id));
                }
            }
        }
        "ModifyDBSnapshotAttribute" | "ModifyDBClusterSnapshotAttribute" => {
            if request
                .str_at(&["attributeName"])
                .is_some_and(|a| a != "restore")
            {
                return;
            }
            for (key, action) in [
                ("valuesToAdd", ShareAction::Add),
                ("valuesToRemove", ShareAction::Remove),
            ] {
                for value in request.array_at(&[key]) {
                    if let Some(id) = value.as_str() {
                        let kind = if id == "all" {
                            TargetKind::Public
                        } else {
                            TargetKind::Account
                        };
                        out.push(target(action, kind, id));
                    }
                }
            }
        }
        "AuthorizeSnapshotAccess" | "RevokeSnapshotAccess" => {
            let action = if name == "AuthorizeSnapshotAccess" {
                ShareAction::Add
            } else {
                ShareAction::Remove
            };
            if let Some(id) = request.str_at(&["accountWithRestoreAccess"]) {
                out.push(target(action, TargetKind::Account, id));
            }
        }
        "DisableSnapshotBlockPublicAccess" | "DisableImageBlockPublicAccess" => {
            out.push(target(
                ShareAction::Add,
                TargetKind::Public,
                "block-public-access-disabled",
            ));
        }
        "ResetSnapshotAttribute" | "ResetImageAttribute" => {
            out.push(target(
                ShareAction::Remove,
                TargetKind::Account,
                "all-permissions-reset",
            ));
        }
        _ => {}
    }
}

fn ec2_permission_item(item: &Node, action: ShareAction) -> Option<ShareTarget> {
    if let Some(user) = item.str_at(&["userId"]) {
        return Some(target(action, TargetKind::Account, user));
    }
    if item.str_at(&["group"]) == Some("all") {
        return Some(target(action, TargetKind::Public, "all"));
    }
    if let Some(org) = item.str_at(&["organizationArn"]) {
        return Some(target(action, TargetKind::Organization, org));
    }
    if let Some(ou) = item.str_at(&["organizationalUnitArn"]) {
        return Some(target(action, TargetKind::OrganizationalUnit, ou));
    }
    None
}

fn target(action: ShareAction, kind: TargetKind, id: &str) -> ShareTarget {
    ShareTarget {
        action,
        kind,
        id: id.into(),
    }
}

/// Which request/response keys name which kind of resource. Walking for keys rather than fixed
/// paths covers the many shapes (sets of items, nested specifications) with one table.
fn resource_kind(key: &str) -> Option<ResourceKind> {
    Some(match key {
        "snapshotId"
        | "sourceSnapshotId"
        | "snapshotIdentifier"
        | "instanceSnapshotName"
        | "diskSnapshotName"
        | "sourceSnapshotIdentifier"
        | "targetSnapshotIdentifier" => ResourceKind::Snapshot,
        "imageId" | "sourceImageId" => ResourceKind::Image,
        "volumeId" => ResourceKind::Volume,
        "instanceId" => ResourceKind::Instance,
        "dBSnapshotIdentifier"
        | "sourceDBSnapshotIdentifier"
        | "targetDBSnapshotIdentifier"
        | "dBSnapshotArn" => ResourceKind::DbSnapshot,
        "dBClusterSnapshotIdentifier"
        | "sourceDBClusterSnapshotIdentifier"
        | "targetDBClusterSnapshotIdentifier"
        | "dBClusterSnapshotArn" => ResourceKind::DbClusterSnapshot,
        "dBInstanceIdentifier" => ResourceKind::DbInstance,
        "dBClusterIdentifier" => ResourceKind::DbCluster,
        "groupId" => ResourceKind::SecurityGroup,
        "recoveryPointArn" | "backupVaultName" | "backupPlanId" => ResourceKind::Backup,
        "s3BucketName" | "s3Bucket" => ResourceKind::Bucket,
        _ => return None,
    })
}

fn collect_resources(v: &Node, out: &mut Vec<Resource>, depth: usize) {
    if depth > 8 {
        return;
    }
    match v {
        Node::Object(members) => {
            for (key, value) in members {
                match (resource_kind(key), value) {
                    (Some(kind), Node::String(id)) => push_resource(out, kind, id),
                    // RDS export and copy sources are ARNs: the kind is in the ARN.
                    (None, Node::String(arn))
                        if *key == "sourceArn" || *key == "sourceDBSnapshotArn" =>
                    {
                        if arn.contains(":cluster-snapshot:") {
                            push_resource(out, ResourceKind::DbClusterSnapshot, arn)
                        } else if arn.contains(":snapshot:") {
                            push_resource(out, ResourceKind::DbSnapshot, arn)
                        }
                    }
                    _ => collect_resources(value, out, depth + 1),
                }
            }
        }
        Node::Array(items) => items
            .iter()
            .for_each(|i| collect_resources(i, out, depth + 1)),
        _ => {}
    }
}

/// Tags set on creation (`tagSpecificationSet`, RDS `tags`): change tickets live here.
fn collect_tags(request: &Node, out: &mut Vec<(Text, Text)>) {
    let specs = request.array_at(&["tagSpecificationSet", "items"]);
    let nested = specs.iter().flat_map(|s| s.array_at(&["tags"]).iter());
    for tag in nested
        .chain(request.array_at(&["tags"]))
        .chain(request.array_at(&["tagSet", "items"]))
    {
        let key = tag.str_at(&["key"]).or(tag.str_at(&["Key"]));
        let value = tag
            .str_at(&["value"])
            .or(tag.str_at(&["Value"]))
            .unwrap_or("");
        if let Some(key) = key {
            out.push((key.into(), value.into()));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn service_names_lose_every_amazonaws_suffix_as_trim_end_matches_does() {
        for source in [
            "ec2.amazonaws.com",
            "ec2",
            "",
            ".amazonaws.com",
            "rds.amazonaws.com.amazonaws.com",
            "amazonaws.com",
            "signin.amazonaws.com.cn",
        ] {
            assert_eq!(
                super::service_name(source),
                source.trim_end_matches(".amazonaws.com"),
                "{source}"
            );
        }
        assert_eq!(super::service_name("ebs.amazonaws.com"), "ebs");
    }
}
