//! GCP Cloud Audit Log `LogEntry` records (`protoPayload` of type AuditLog).

use super::json::{array_at, field, optional_str, parse_time, path, str_at};
use super::{Normalized, push_fact, push_resource};
use serde_json::Value;
use snaptrail_model::{
    Cloud, Component, Event, Outcome, PrincipalKind, ResourceKind, ShareAction, ShareTarget,
    TargetKind, Text,
};

pub fn looks_like(v: &Value) -> bool {
    let Some(o) = v.as_object() else { return false };
    field(o, "protoPayload").is_some()
        || (field(o, "logName").is_some() && field(o, "insertId").is_some())
}

/// `v1.compute.snapshots.insert` → `compute.snapshots.insert`; matching is on the suffix.
pub fn method_suffix(method: &str) -> &str {
    for prefix in ["v1.", "beta.", "alpha.", "v2.", "v1beta1."] {
        if let Some(rest) = method.strip_prefix(prefix) {
            return rest;
        }
    }
    method
}

pub fn normalize(v: &Value, origin: &str) -> Result<Normalized, String> {
    let Some(proto) = path(v, &["protoPayload"]) else {
        let log = str_at(v, &["logName"]).unwrap_or("");
        let kind = log
            .rsplit("%2F")
            .next()
            .unwrap_or(log)
            .rsplit('/')
            .next()
            .unwrap_or("");
        return Ok(Normalized::Skip(format!("gcp:{kind}")));
    };
    if !proto.is_object() {
        return Err("field `protoPayload` is not an object".into());
    }
    let method =
        optional_str(proto, "methodName")?.ok_or("field `protoPayload.methodName` is missing")?;
    let op = method_suffix(method);
    let time = parse_time(
        str_at(v, &["timestamp"])
            .or(str_at(v, &["receiveTimestamp"]))
            .or(str_at(v, &["p_event_time"]))
            // The request's own time, present even in entries trimmed of `timestamp`.
            .or(str_at(
                proto,
                &["requestMetadata", "requestAttributes", "time"],
            ))
            .ok_or("no `timestamp` field")?,
    )?;
    let resource_name = str_at(proto, &["resourceName"]).unwrap_or("");
    let log_name = str_at(v, &["logName"]).unwrap_or("");
    let account = str_at(v, &["resource", "labels", "project_id"])
        .map(str::to_string)
        .or_else(|| segment_after(log_name, "projects"))
        .or_else(|| segment_after(resource_name, "projects"))
        .unwrap_or_default();
    let email = str_at(proto, &["authenticationInfo", "principalEmail"]);
    let cross_entity = str_at(proto, &["metadata", "@type"])
        .or(str_at(proto, &["metadata", "at_sign_type"]))
        .is_some_and(|t| t.contains("CrossEntityControlAuditMetadata"));
    let principal_kind = match email {
        None => PrincipalKind::Anonymous,
        Some(_) if cross_entity => PrincipalKind::CrossAccount,
        Some(e) if e.ends_with(".gserviceaccount.com") => PrincipalKind::Service,
        Some(_) => PrincipalKind::User,
    };
    let code = path(proto, &["status", "code"])
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let failed = code != 0 || str_at(v, &["severity"]) == Some("ERROR");
    let error_code = failed.then(|| {
        str_at(proto, &["status", "message"])
            .map(str::to_string)
            .unwrap_or_else(|| format!("code {code}"))
    });
    let op_id = str_at(v, &["operation", "id"]);
    let is_first_only = path(v, &["operation", "first"]).and_then(Value::as_bool) == Some(true)
        && path(v, &["operation", "last"]).and_then(Value::as_bool) != Some(true);
    let region = str_at(v, &["resource", "labels", "zone"])
        .or(str_at(v, &["resource", "labels", "location"]))
        .or(str_at(v, &["resource", "labels", "region"]))
        .or_else(|| {
            array_at(proto, &["resourceLocation", "currentLocations"])
                .first()
                .and_then(Value::as_str)
        })
        .map(str::to_string);
    let mut ev = Event {
        time,
        cloud: Cloud::Gcp,
        account: account.into(),
        region: region.map(Text::from),
        principal: email.unwrap_or("anonymous").to_string(),
        principal_kind,
        principal_account: None,
        invoked_by: None,
        source_ip: str_at(proto, &["requestMetadata", "callerIp"]).map(Text::from),
        user_agent: str_at(proto, &["requestMetadata", "callerSuppliedUserAgent"])
            .map(str::to_string),
        service: str_at(proto, &["serviceName"])
            .unwrap_or("")
            .trim_end_matches(".googleapis.com")
            .into(),
        operation: method.into(),
        component: Component::Other,
        resources: Vec::new(),
        share_targets: Vec::new(),
        outcome: Outcome {
            success: !failed,
            error_code: error_code.map(Text::from),
        },
        request_tags: Vec::new(),
        facts: Vec::new(),
        event_id: str_at(v, &["insertId"]).unwrap_or("").to_string(),
        op_key: op_id.map(|id| format!("{id}|{op}")),
        op_final: !is_first_only,
        merged_ids: Vec::new(),
        origin: origin.to_string(),
    };
    if cross_entity {
        push_fact(&mut ev.facts, "cross-entity");
    }
    if let Some(kind) = resource_kind(resource_name) {
        push_resource(&mut ev.resources, kind, resource_name);
    }
    let request = path(proto, &["request"]).unwrap_or(&Value::Null);
    ev.component = classify(op, proto, request, &mut ev);
    if let Some(labels) = path(request, &["labels"]).and_then(Value::as_object) {
        for (k, val) in labels {
            ev.request_tags
                .push((k.as_str().into(), val.as_str().unwrap_or_default().into()));
        }
    }
    Ok(Normalized::Event(Box::new(ev)))
}

fn classify(op: &str, proto: &Value, request: &Value, ev: &mut Event) -> Component {
    use Component::*;
    for key in ["sourceDisk", "sourceSnapshot", "sourceImage"] {
        if let Some(src) = str_at(request, &[key]) {
            let kind = resource_kind(src).unwrap_or(ResourceKind::Other);
            push_resource(&mut ev.resources, kind, src);
        }
    }
    match op {
        "compute.snapshots.insert"
        | "compute.disks.createSnapshot"
        | "compute.regionDisks.createSnapshot"
        | "compute.instantSnapshots.insert"
        | "compute.images.insert"
        | "compute.machineImages.insert"
        | "cloudsql.backupRuns.insert" => Create,
        "compute.snapshots.setIamPolicy"
        | "compute.images.setIamPolicy"
        | "compute.disks.setIamPolicy"
        | "compute.machineImages.setIamPolicy" => {
            iam_targets(proto, request, &mut ev.share_targets);
            if !ev.share_targets.is_empty()
                && ev
                    .share_targets
                    .iter()
                    .all(|t| t.action == ShareAction::Remove)
            {
                Unshare
            } else {
                Share
            }
        }
        "compute.images.export" | "cloudsql.instances.export" => Export,
        "compute.disks.insert" | "compute.regionDisks.insert"
            if str_at(request, &["sourceSnapshot"]).is_some() =>
        {
            Restore
        }
        "compute.instances.insert" => {
            push_fact(&mut ev.facts, "instance-create");
            let mut from_snapshot = false;
            for disk in array_at(request, &["disks"]) {
                if let Some(src) = str_at(disk, &["initializeParams", "sourceSnapshot"]) {
                    push_resource(&mut ev.resources, ResourceKind::Snapshot, src);
                    from_snapshot = true;
                }
            }
            if from_snapshot { Restore } else { Other }
        }
        "compute.instances.attachDisk" => {
            push_fact(&mut ev.facts, "attach");
            if let Some(src) = str_at(request, &["source"]) {
                push_resource(&mut ev.resources, ResourceKind::Disk, src);
            }
            Other
        }
        "compute.firewalls.insert" | "compute.firewalls.patch" | "compute.firewalls.update" => {
            push_fact(&mut ev.facts, "ingress");
            let ingress = str_at(request, &["direction"]).is_none_or(|d| d == "INGRESS");
            let world = array_at(request, &["sourceRanges"])
                .iter()
                .any(|r| matches!(r.as_str(), Some("0.0.0.0/0") | Some("::/0")));
            if ingress && world {
                push_fact(&mut ev.facts, "ingress-world");
            }
            Other
        }
        "compute.snapshots.delete"
        | "compute.images.delete"
        | "compute.machineImages.delete"
        | "compute.instantSnapshots.delete"
        | "compute.resourcePolicies.delete"
        | "cloudsql.backupRuns.delete" => Delete,
        "compute.snapshots.list"
        | "compute.snapshots.get"
        | "compute.images.list"
        | "compute.machineImages.list" => Enumerate,
        "SetIamPolicy" | "setIamPolicy"
            if str_at(proto, &["serviceName"]) == Some("cloudresourcemanager.googleapis.com") =>
        {
            push_fact(&mut ev.facts, "privilege-change");
            Other
        }
        o if o.ends_with("CreateServiceAccountKey") || o.ends_with("roles.create") => {
            push_fact(&mut ev.facts, "privilege-change");
            Other
        }
        _ => Other,
    }
}

/// Members granted or removed. `serviceData.policyDelta` (or `metadata.policyDelta`) says what
/// changed; without it the request's whole policy is read as grants.
fn iam_targets(proto: &Value, request: &Value, out: &mut Vec<ShareTarget>) {
    let deltas = [
        &["serviceData", "policyDelta", "bindingDeltas"][..],
        &["metadata", "policyDelta", "bindingDeltas"],
    ]
    .iter()
    .map(|p| array_at(proto, p))
    .find(|d| !d.is_empty())
    .unwrap_or(&[]);
    if !deltas.is_empty() {
        for d in deltas {
            let action = match str_at(d, &["action"]) {
                Some("REMOVE") => ShareAction::Remove,
                _ => ShareAction::Add,
            };
            if let Some(member) = str_at(d, &["member"]) {
                out.push(member_target(action, member));
            }
        }
        return;
    }
    for binding in array_at(request, &["policy", "bindings"]) {
        for member in array_at(binding, &["members"]) {
            if let Some(m) = member.as_str() {
                out.push(member_target(ShareAction::Add, m));
            }
        }
    }
}

fn member_target(action: ShareAction, member: &str) -> ShareTarget {
    let kind = match member {
        "allUsers" | "allAuthenticatedUsers" => TargetKind::Public,
        _ => TargetKind::Member,
    };
    ShareTarget {
        action,
        kind,
        id: member.into(),
    }
}

fn segment_after(path: &str, key: &str) -> Option<String> {
    let mut parts = path.split('/');
    while let Some(p) = parts.next() {
        if p == key {
            return parts.next().filter(|s| !s.is_empty()).map(str::to_string);
        }
    }
    None
}

fn resource_kind(name: &str) -> Option<ResourceKind> {
    if name.is_empty() {
        return None;
    }
    Some(
        if name.contains("/snapshots/")
            || name.contains("/instantSnapshots/")
            || name.contains("/backupRuns")
        {
            ResourceKind::Snapshot
        } else if name.contains("/images/") || name.contains("/machineImages/") {
            ResourceKind::Image
        } else if name.contains("/disks/") {
            ResourceKind::Disk
        } else if name.contains("/instances/") {
            ResourceKind::Instance
        } else if name.contains("/firewalls/") {
            ResourceKind::SecurityGroup
        } else {
            ResourceKind::Other
        },
    )
}
