//! AWS CloudTrail records (`eventVersion` 1.0x), whatever envelope carried them.

use super::json::{array_at, bool_at, field, optional_str, parse_time, path, required_str, str_at};
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
    pub request: &'a Value,
    pub response: &'a Value,
    pub user_agent: Option<&'a str>,
    pub region: Option<&'a str>,
    pub source_ip: Option<&'a str>,
    pub details: Option<&'a Value>,
}

pub fn normalize(v: &Value, origin: &str) -> Result<Normalized, String> {
    let name = required_str(v, "eventName")?;
    let source = optional_str(v, "eventSource")?;
    let time = optional_str(v, "eventTime")?;
    let event_id = optional_str(v, "eventID")?;
    let request_id = optional_str(v, "requestID")?;
    let identity = Identity::of(path(v, &["userIdentity"]).unwrap_or(&Value::Null))?;
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
        request: path(v, &["requestParameters"]).unwrap_or(&Value::Null),
        response: path(v, &["responseElements"]).unwrap_or(&Value::Null),
        user_agent: optional_str(v, "userAgent")?,
        region: optional_str(v, "awsRegion")?,
        source_ip: optional_str(v, "sourceIPAddress")?,
        details: path(v, &["serviceEventDetails"]),
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

fn classify(name: &str, request: &Value, facts: &mut Vec<Text>) -> Component {
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
        "CreateVolume" if has_key(request, "snapshotId") => Restore,
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
            if path(request, &["backupRetentionPeriod"]).and_then(Value::as_i64) == Some(0) =>
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
fn is_rbin(request: &Value) -> bool {
    has_key(request, "resourceType") || str_at(request, &["identifier"]).is_some()
}

fn run_instances_snapshot(request: &Value) -> bool {
    array_at(request, &["blockDeviceMapping", "items"])
        .iter()
        .any(|m| str_at(m, &["ebs", "snapshotId"]).is_some())
}

fn has_key(v: &Value, key: &str) -> bool {
    v.as_object()
        .and_then(|o| field(o, key))
        .is_some_and(|x| !x.is_null())
}

/// Facts from request and response that detectors key on.
fn request_facts(
    name: &str,
    request: &Value,
    response: &Value,
    region: &Option<Text>,
    facts: &mut Vec<Text>,
) {
    match name {
        "ConsoleLogin" => {
            let failed = str_at(response, &["ConsoleLogin"]) == Some("Failure");
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
            for perm in array_at(request, &["ipPermissions", "items"]) {
                let v4 = array_at(perm, &["ipRanges", "items"])
                    .iter()
                    .any(|r| str_at(r, &["cidrIp"]) == Some("0.0.0.0/0"));
                let v6 = array_at(perm, &["ipv6Ranges", "items"])
                    .iter()
                    .any(|r| str_at(r, &["cidrIpv6"]) == Some("::/0"));
                if v4 || v6 {
                    push_fact(facts, "ingress-world");
                    let from = path(perm, &["fromPort"]).and_then(Value::as_i64);
                    let to = path(perm, &["toPort"]).and_then(Value::as_i64);
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
        "ModifyDBInstance" | "ModifyDBCluster" if has_key(request, "masterUserPassword") => {
            push_fact(facts, "password-reset")
        }
        "RestoreDBInstanceFromDBSnapshot" | "RestoreDBClusterFromSnapshot"
            if bool_at(response, &["publiclyAccessible"]) == Some(true)
                || bool_at(request, &["publiclyAccessible"]) == Some(true) =>
        {
            push_fact(facts, "restore-public")
        }
        "DescribeDBSnapshots"
        | "DescribeDBClusterSnapshots"
        | "DescribeSnapshots"
        | "DescribeImages" => {
            if bool_at(request, &["includePublic"]) == Some(true) {
                push_fact(facts, "include-public");
            }
            if bool_at(request, &["includeShared"]) == Some(true) {
                push_fact(facts, "include-shared");
            }
        }
        "CreateDBSnapshot" | "CreateDBClusterSnapshot" => {
            if let Some(kind) = str_at(response, &["snapshotType"]) {
                push_fact(facts, format!("snapshot-type:{kind}"));
            }
        }
        _ => {}
    }
    // Copies into another region: CopySnapshot names the source region, RDS copies name a
    // source ARN in another region.
    let source_region = str_at(request, &["sourceRegion"])
        .map(str::to_string)
        .or_else(|| {
            [
                "sourceDBSnapshotIdentifier",
                "sourceDBClusterSnapshotIdentifier",
            ]
            .iter()
            .find_map(|k| str_at(request, &[k]))
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
fn share_targets(name: &str, request: &Value, out: &mut Vec<ShareTarget>) {
    match name {
        "ModifySnapshotAttribute" | "ModifyImageAttribute" => {
            for attr in ["createVolumePermission", "launchPermission"] {
                for (key, action) in [("add", ShareAction::Add), ("remove", ShareAction::Remove)] {
                    for item in array_at(request, &[attr, key, "items"]) {
                        if let Some(t) = ec2_permission_item(item, action) {
                            out.push(t);
                        }
                    }
                }
            }
            // Older records carry the operation as `operationType` with a flat `userIds` list.
            let action = match str_at(request, &["operationType"]) {
                Some("remove") => ShareAction::Remove,
                _ => ShareAction::Add,
            };
            for item in array_at(request, &["userIds"])
                .iter()
                .chain(array_at(request, &["userIds", "items"]))
            {
                if let Some(id) = item.as_str().or_else(|| str_at(item, &["userId"])) {
                    out.push(target(action, TargetKind::Account, id));
                }
            }
        }
        "ModifyDBSnapshotAttribute" | "ModifyDBClusterSnapshotAttribute" => {
            if str_at(request, &["attributeName"]).is_some_and(|a| a != "restore") {
                return;
            }
            for (key, action) in [
                ("valuesToAdd", ShareAction::Add),
                ("valuesToRemove", ShareAction::Remove),
            ] {
                for value in array_at(request, &[key]) {
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
            if let Some(id) = str_at(request, &["accountWithRestoreAccess"]) {
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

fn ec2_permission_item(item: &Value, action: ShareAction) -> Option<ShareTarget> {
    if let Some(user) = str_at(item, &["userId"]) {
        return Some(target(action, TargetKind::Account, user));
    }
    if str_at(item, &["group"]) == Some("all") {
        return Some(target(action, TargetKind::Public, "all"));
    }
    if let Some(org) = str_at(item, &["organizationArn"]) {
        return Some(target(action, TargetKind::Organization, org));
    }
    if let Some(ou) = str_at(item, &["organizationalUnitArn"]) {
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

fn collect_resources(v: &Value, out: &mut Vec<Resource>, depth: usize) {
    if depth > 8 {
        return;
    }
    match v {
        Value::Object(map) => {
            for (key, value) in map {
                match (resource_kind(key), value) {
                    (Some(kind), Value::String(id)) => push_resource(out, kind, id),
                    // RDS export and copy sources are ARNs: the kind is in the ARN.
                    (None, Value::String(arn))
                        if key == "sourceArn" || key == "sourceDBSnapshotArn" =>
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
        Value::Array(items) => items
            .iter()
            .for_each(|i| collect_resources(i, out, depth + 1)),
        _ => {}
    }
}

/// Tags set on creation (`tagSpecificationSet`, RDS `tags`): change tickets live here.
fn collect_tags(request: &Value, out: &mut Vec<(Text, Text)>) {
    let specs = array_at(request, &["tagSpecificationSet", "items"]);
    let nested = specs.iter().flat_map(|s| array_at(s, &["tags"]).iter());
    for tag in nested
        .chain(array_at(request, &["tags"]))
        .chain(array_at(request, &["tagSet", "items"]))
    {
        let key = str_at(tag, &["key"]).or(str_at(tag, &["Key"]));
        let value = str_at(tag, &["value"])
            .or(str_at(tag, &["Value"]))
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
