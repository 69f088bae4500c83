//! Azure Activity Log records in all three shapes: event-hub/storage export (`operationName` a
//! string), REST/SDK (`operationName: {value, localizedValue}`, camel or snake case) and the Log
//! Analytics `AzureActivity` table (`OperationNameValue`, `ActivityStatusValue`, …).

use super::json::{field, parse_time, path, str_at, str_or_value};
use super::{Normalized, push_fact, push_resource};
use serde_json::Value;
use snaptrail_model::{
    Cloud, Component, Event, Outcome, PrincipalKind, ResourceKind, ShareAction, ShareTarget,
    TargetKind, Text,
};

pub fn looks_like(v: &Value) -> bool {
    let Some(o) = v.as_object() else { return false };
    ["operationName", "OperationNameValue"]
        .iter()
        .any(|k| field(o, k).is_some())
        && [
            "resourceId",
            "ResourceId",
            "_ResourceId",
            "correlationId",
            "category",
            "time",
        ]
        .iter()
        .any(|k| field(o, k).is_some())
}

/// Activity Log categories. Everything else that shares the envelope (sign-in, kube-audit,
/// resource diagnostics) is skipped by category.
const ACTIVITY_CATEGORIES: &[&str] = &[
    "administrative",
    "security",
    "policy",
    "servicehealth",
    "alert",
    "recommendation",
    "autoscale",
    "resourcehealth",
];

pub fn normalize(v: &Value, origin: &str) -> Result<Normalized, String> {
    if let Some(category) = str_or_value(v, "category").or(str_or_value(v, "CategoryValue"))
        && !ACTIVITY_CATEGORIES.contains(&category.to_ascii_lowercase().as_str())
    {
        return Ok(Normalized::Skip(format!(
            "azure:{}",
            category.to_ascii_lowercase()
        )));
    }
    let operation = str_or_value(v, "OperationNameValue")
        .or(str_or_value(v, "operationName"))
        .ok_or("field `operationName` is not a string or {value}")?;
    let op = operation.to_ascii_lowercase();
    let time_text = [
        "time",
        "eventTimestamp",
        "TimeGenerated",
        "timeStamp",
        "p_event_time",
    ]
    .iter()
    .find_map(|k| str_at(v, &[k]))
    .ok_or("no `time` / `eventTimestamp` / `TimeGenerated` field")?;
    let time = parse_time(time_text)?;
    let resource_id = ["resourceId", "ResourceId", "_ResourceId"]
        .iter()
        .find_map(|k| str_at(v, &[k]))
        .unwrap_or("");
    let account = str_at(v, &["subscriptionId"])
        .map(str::to_string)
        .or_else(|| subscription_of(resource_id))
        .unwrap_or_default();
    let status = str_or_value(v, "ActivityStatusValue")
        .or(str_or_value(v, "status"))
        .or(str_or_value(v, "resultType"))
        .unwrap_or("");
    let failed = matches!(
        status.to_ascii_lowercase().as_str(),
        "failed" | "failure" | "canceled"
    );
    let error_code = failed.then(|| {
        str_or_value(v, "subStatus")
            .or(str_at(v, &["properties", "statusCode"]))
            .or(str_at(v, &["resultSignature"]))
            .unwrap_or(status)
            .to_string()
    });
    let (principal, principal_kind) = principal(v);
    let correlation = str_at(v, &["correlationId"]).unwrap_or("");
    let event_id = str_at(v, &["eventDataId"])
        .or(str_at(v, &["EventDataId"]))
        .unwrap_or(correlation)
        .to_string();
    let body = request_body(v);
    let mut ev = Event {
        time,
        cloud: Cloud::Azure,
        account: account.into(),
        region: str_at(v, &["location"])
            .or(str_at(v, &["ResourceRegion"]))
            .map(Text::from),
        principal,
        principal_kind,
        principal_account: None,
        invoked_by: None,
        source_ip: str_at(v, &["callerIpAddress"])
            .or(str_at(v, &["httpRequest", "clientIpAddress"]))
            .map(Text::from),
        user_agent: str_at(v, &["properties", "userAgent"]).map(str::to_string),
        service: op.split('/').next().unwrap_or("").into(),
        operation: operation.into(),
        component: Component::Other,
        resources: Vec::new(),
        share_targets: Vec::new(),
        outcome: Outcome {
            success: !failed,
            error_code: error_code.map(Text::from),
        },
        request_tags: Vec::new(),
        facts: Vec::new(),
        event_id,
        op_key: (!correlation.is_empty()).then(|| format!("{correlation}|{op}")),
        op_final: !matches!(
            status.to_ascii_lowercase().as_str(),
            "start" | "started" | "accepted" | "beginrequest"
        ),
        merged_ids: Vec::new(),
        origin: origin.to_string(),
    };
    if let Some(kind) = resource_kind(resource_id) {
        push_resource(&mut ev.resources, kind, resource_id);
    }
    ev.component = classify(&op, resource_id, body.as_ref(), &mut ev);
    if let Some(tags) = body
        .as_ref()
        .and_then(|b| path(b, &["tags"]))
        .and_then(Value::as_object)
    {
        for (k, val) in tags {
            ev.request_tags
                .push((k.as_str().into(), val.as_str().unwrap_or_default().into()));
        }
    }
    Ok(Normalized::Event(Box::new(ev)))
}

fn classify(op: &str, resource_id: &str, body: Option<&Value>, ev: &mut Event) -> Component {
    use Component::*;
    let opens_network = body.is_some_and(|b| {
        str_at(b, &["properties", "networkAccessPolicy"])
            .is_some_and(|p| p.eq_ignore_ascii_case("AllowAll"))
            || str_at(b, &["properties", "publicNetworkAccess"])
                .is_some_and(|p| p.eq_ignore_ascii_case("Enabled"))
    });
    let public = |ev: &mut Event| {
        ev.share_targets.push(ShareTarget {
            action: ShareAction::Add,
            kind: TargetKind::Public,
            id: "networkAccessPolicy:AllowAll".into(),
        });
        Share
    };
    match op {
        "microsoft.compute/snapshots/write" if opens_network => public(ev),
        "microsoft.compute/snapshots/write"
        | "microsoft.compute/images/write"
        | "microsoft.compute/galleries/images/versions/write"
        | "microsoft.compute/virtualmachines/capture/action"
        | "microsoft.compute/restorepointcollections/write"
        | "microsoft.compute/restorepointcollections/restorepoints/write" => Create,
        "microsoft.compute/snapshots/begingetaccess/action"
        | "microsoft.compute/disks/begingetaccess/action" => {
            ev.share_targets.push(ShareTarget {
                action: ShareAction::Add,
                kind: TargetKind::SasUrl,
                id: "sas-url".into(),
            });
            Export
        }
        "microsoft.compute/snapshots/endgetaccess/action"
        | "microsoft.compute/disks/endgetaccess/action" => {
            ev.share_targets.push(ShareTarget {
                action: ShareAction::Remove,
                kind: TargetKind::SasUrl,
                id: "sas-url".into(),
            });
            Unshare
        }
        "microsoft.compute/disks/write" => {
            let source =
                body.and_then(|b| str_at(b, &["properties", "creationData", "sourceResourceId"]));
            if let Some(src) = source.filter(|s| s.to_ascii_lowercase().contains("/snapshots/")) {
                push_resource(&mut ev.resources, ResourceKind::Snapshot, src);
                Restore
            } else if opens_network {
                public(ev)
            } else {
                Other
            }
        }
        "microsoft.compute/virtualmachines/write" => {
            push_fact(&mut ev.facts, "instance-create");
            Other
        }
        "microsoft.network/networksecuritygroups/securityrules/write" => {
            push_fact(&mut ev.facts, "ingress");
            let src = body.and_then(|b| str_at(b, &["properties", "sourceAddressPrefix"]));
            let inbound = body
                .and_then(|b| str_at(b, &["properties", "direction"]))
                .is_none_or(|d| d.eq_ignore_ascii_case("Inbound"));
            if inbound && src.is_some_and(|s| matches!(s, "*" | "0.0.0.0/0" | "Internet" | "Any")) {
                push_fact(&mut ev.facts, "ingress-world");
            }
            Other
        }
        "microsoft.compute/snapshots/delete"
        | "microsoft.compute/disks/delete"
        | "microsoft.compute/images/delete"
        | "microsoft.compute/restorepointcollections/delete"
        | "microsoft.compute/restorepointcollections/restorepoints/delete" => Delete,
        o if o.starts_with("microsoft.recoveryservices/vaults/") && o.ends_with("/delete") => {
            Delete
        }
        "microsoft.authorization/roleassignments/write"
        | "microsoft.authorization/roledefinitions/write" => {
            push_fact(&mut ev.facts, "privilege-change");
            Other
        }
        _ if resource_id.is_empty() => Other,
        _ => Other,
    }
}

/// The caller: UPN or object id (`caller`), else the identity claims.
fn principal(v: &Value) -> (String, PrincipalKind) {
    let claims = path(v, &["identity", "claims"]).or(path(v, &["claims"]));
    let upn = claims.and_then(|c| {
        str_at(
            c,
            &["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"],
        )
        .or(str_at(c, &["upn"]))
        .or(str_at(
            c,
            &["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"],
        ))
    });
    let app = claims.and_then(|c| str_at(c, &["idtyp"])) == Some("app");
    // Service principals have no UPN: the application id names them.
    let appid = claims.and_then(|c| str_at(c, &["appid"]));
    let caller = str_at(v, &["caller"])
        .or(str_at(v, &["Caller"]))
        .or(upn)
        .or(if app { appid } else { None });
    match caller {
        Some(c) if c.contains('@') => (c.to_string(), PrincipalKind::User),
        Some(c) if app || looks_like_guid(c) => (c.to_string(), PrincipalKind::Service),
        Some(c) => (c.to_string(), PrincipalKind::Unknown),
        None => ("unknown".to_string(), PrincipalKind::Unknown),
    }
}

fn looks_like_guid(s: &str) -> bool {
    s.len() == 36 && s.bytes().filter(|&b| b == b'-').count() == 4
}

/// `properties.requestbody` is a JSON document serialized into a string, when logged at all.
fn request_body(v: &Value) -> Option<Value> {
    let raw = str_at(v, &["properties", "requestbody"])?;
    serde_json::from_str(raw).ok()
}

pub fn subscription_of(resource_id: &str) -> Option<String> {
    let mut parts = resource_id.split('/');
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case("subscriptions") {
            return parts.next().filter(|s| !s.is_empty()).map(str::to_string);
        }
    }
    None
}

fn resource_kind(resource_id: &str) -> Option<ResourceKind> {
    if resource_id.is_empty() {
        return None;
    }
    let lower = resource_id.to_ascii_lowercase();
    Some(if lower.contains("/snapshots/") {
        ResourceKind::Snapshot
    } else if lower.contains("/images/") || lower.contains("/restorepointcollections/") {
        ResourceKind::Image
    } else if lower.contains("/disks/") {
        ResourceKind::Disk
    } else if lower.contains("/virtualmachines/") {
        ResourceKind::Instance
    } else if lower.contains("/networksecuritygroups/") {
        ResourceKind::SecurityGroup
    } else if lower.contains("/vaults/") {
        ResourceKind::Backup
    } else {
        ResourceKind::Other
    })
}
