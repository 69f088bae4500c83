//! Record writers: CloudTrail, Azure Activity and GCP audit records as the clouds write them.
//! Written with `write!` rather than through a JSON tree: generation must outrun the hunt.

use crate::estate::Principal;
use jiff::Timestamp;
use std::fmt::Write;

/// One generated record, placed in time and in the layout.
#[derive(Clone, Debug)]
pub struct Record {
    pub time: Timestamp,
    pub cloud: Cloud,
    /// AWS account, Azure subscription or GCP project.
    pub account: String,
    pub region: &'static str,
    pub id: String,
    pub json: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cloud {
    Aws,
    Azure,
    Gcp,
}

/// A CloudTrail API call. `request` and `response` are raw JSON (`null` allowed).
pub struct Call<'a> {
    pub time: Timestamp,
    pub who: &'a Principal,
    pub source: &'a str,
    pub name: &'a str,
    pub region: &'static str,
    pub request: &'a str,
    pub response: &'a str,
    pub error: Option<(&'a str, &'a str)>,
    pub id: String,
    pub request_id: String,
    pub data_event: bool,
}

pub fn cloudtrail(c: &Call) -> Record {
    let mut s = String::with_capacity(900 + c.request.len() + c.response.len());
    let p = c.who;
    let _ = write!(
        s,
        "{{\"eventVersion\":\"1.09\",\"userIdentity\":{{\"type\":\"{}\",",
        p.kind
    );
    if p.kind == "AssumedRole" {
        let role = p.arn.split('/').nth(1).unwrap_or("");
        let _ = write!(
            s,
            "\"principalId\":\"AROA{}:{}\",\"arn\":\"{}\",\"accountId\":\"{}\",\"accessKeyId\":\"ASIA{}\",\"sessionContext\":{{\"sessionIssuer\":{{\"type\":\"Role\",\"principalId\":\"AROA{}\",\"arn\":\"arn:aws:iam::{}:role/{}\",\"accountId\":\"{}\",\"userName\":\"{}\"}},\"attributes\":{{\"creationDate\":\"{}\",\"mfaAuthenticated\":\"false\"}}}}",
            &p.account[..8],
            p.name,
            p.arn,
            p.account,
            &p.account[..8],
            &p.account[..8],
            p.account,
            role,
            p.account,
            role,
            c.time
        );
    } else {
        let _ = write!(
            s,
            "\"principalId\":\"AIDA{}\",\"arn\":\"{}\",\"accountId\":\"{}\",\"accessKeyId\":\"AKIA{}\",\"userName\":\"{}\"",
            &p.account[..8],
            p.arn,
            p.account,
            &p.account[..8],
            p.name
        );
    }
    if let Some(by) = p.invoked_by {
        let _ = write!(s, ",\"invokedBy\":\"{by}\"");
    }
    let _ = write!(
        s,
        "}},\"eventTime\":\"{}\",\"eventSource\":\"{}\",\"eventName\":\"{}\",\"awsRegion\":\"{}\",\"sourceIPAddress\":\"{}\",\"userAgent\":\"{}\",",
        c.time, c.source, c.name, c.region, p.ip, p.agent
    );
    if let Some((code, msg)) = c.error {
        let _ = write!(s, "\"errorCode\":\"{code}\",\"errorMessage\":\"{msg}\",");
    }
    let read_only =
        c.name.starts_with("Describe") || c.name.starts_with("Get") || c.name.starts_with("List");
    let _ = write!(
        s,
        "\"requestParameters\":{},\"responseElements\":{},\"requestID\":\"{}\",\"eventID\":\"{}\",\"readOnly\":{},\"eventType\":\"AwsApiCall\",\"managementEvent\":{},\"recipientAccountId\":\"{}\",\"eventCategory\":\"{}\",\"tlsDetails\":{{\"tlsVersion\":\"TLSv1.3\",\"cipherSuite\":\"TLS_AES_128_GCM_SHA256\",\"clientProvidedHostHeader\":\"{}.{}.amazonaws.com\"}}}}",
        c.request,
        c.response,
        c.request_id,
        c.id,
        read_only,
        !c.data_event,
        p.account,
        if c.data_event { "Data" } else { "Management" },
        c.source.split('.').next().unwrap_or("ec2"),
        c.region
    );
    Record {
        time: c.time,
        cloud: Cloud::Aws,
        account: p.account.clone(),
        region: c.region,
        id: c.id.clone(),
        json: s,
    }
}

/// A service event in the owner's trail (`SharedSnapshotVolumeCreated` and friends).
pub fn cloudtrail_service_event(
    time: Timestamp,
    owner: &str,
    other: &str,
    name: &str,
    region: &'static str,
    snapshot: &str,
    id: String,
) -> Record {
    let json = format!(
        "{{\"eventVersion\":\"1.08\",\"userIdentity\":{{\"accountId\":\"{other}\",\"invokedBy\":\"ec2.amazonaws.com\"}},\"eventTime\":\"{time}\",\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":\"{name}\",\"awsRegion\":\"{region}\",\"sourceIPAddress\":\"ec2.amazonaws.com\",\"userAgent\":\"ec2.amazonaws.com\",\"requestParameters\":null,\"responseElements\":null,\"eventID\":\"{id}\",\"readOnly\":false,\"eventType\":\"AwsServiceEvent\",\"managementEvent\":true,\"recipientAccountId\":\"{owner}\",\"serviceEventDetails\":{{\"snapshotId\":\"{snapshot}\"}},\"eventCategory\":\"Management\"}}"
    );
    Record {
        time,
        cloud: Cloud::Aws,
        account: owner.to_string(),
        region,
        id,
        json,
    }
}

/// One Azure Activity row (event-hub shape). `status` is Start / Accepted / Success / Failure.
#[allow(clippy::too_many_arguments)]
pub fn azure_row(
    time: Timestamp,
    subscription: &str,
    caller: &str,
    ip: &str,
    op: &str,
    resource_id: &str,
    status: &str,
    correlation: &str,
    event_data_id: String,
    body: Option<&str>,
) -> Record {
    let user = caller.contains('@');
    let claims = if user {
        format!(
            "\"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn\":\"{caller}\",\"idtyp\":\"user\""
        )
    } else {
        format!("\"appid\":\"{caller}\",\"idtyp\":\"app\"")
    };
    let props = match body {
        Some(b) => format!(
            ",\"requestbody\":{}",
            serde_json::to_string(b).unwrap_or_default()
        ),
        None => String::new(),
    };
    let json = format!(
        "{{\"time\":\"{time}\",\"resourceId\":\"{resource_id}\",\"operationName\":\"{op}\",\"category\":\"Administrative\",\"resultType\":\"{status}\",\"resultSignature\":\"{}\",\"durationMs\":\"{}\",\"callerIpAddress\":\"{ip}\",\"correlationId\":\"{correlation}\",\"identity\":{{\"authorization\":{{\"scope\":\"{resource_id}\",\"action\":\"{op}\"}},\"claims\":{{{claims}}}}},\"level\":\"Information\",\"location\":\"westeurope\",\"properties\":{{\"eventCategory\":\"Administrative\",\"entity\":\"{resource_id}\",\"message\":\"{op}\",\"hierarchy\":\"tenant/{subscription}\"{props}}},\"eventDataId\":\"{event_data_id}\",\"tenantId\":\"0f0f0f0f-1111-4222-8333-444455556666\"}}",
        if status == "Start" {
            "Started."
        } else {
            "Succeeded.OK"
        },
        if status == "Start" { 0 } else { 2000 }
    );
    Record {
        time,
        cloud: Cloud::Azure,
        account: subscription.to_string(),
        region: "westeurope",
        id: event_data_id,
        json,
    }
}

/// One GCP audit LogEntry. `op` carries (operation id, first, last) for long-running calls.
#[allow(clippy::too_many_arguments)]
pub fn gcp_entry(
    time: Timestamp,
    project: &str,
    email: &str,
    method: &str,
    resource: &str,
    request: &str,
    op: Option<(&str, bool, bool)>,
    insert_id: String,
    service_data: Option<&str>,
) -> Record {
    let mut s = String::with_capacity(800);
    let _ = write!(
        s,
        "{{\"protoPayload\":{{\"@type\":\"type.googleapis.com/google.cloud.audit.AuditLog\",\"authenticationInfo\":{{\"principalEmail\":\"{email}\"}},\"requestMetadata\":{{\"callerIp\":\"198.51.100.77\",\"callerSuppliedUserAgent\":\"google-cloud-sdk gcloud/455.0.0 command/gcloud.compute\"}},\"serviceName\":\"compute.googleapis.com\",\"methodName\":\"{method}\",\"resourceName\":\"{resource}\",\"request\":{request}"
    );
    if let Some(sd) = service_data {
        let _ = write!(s, ",\"serviceData\":{sd}");
    }
    let _ = write!(
        s,
        "}},\"insertId\":\"{insert_id}\",\"resource\":{{\"type\":\"gce_instance\",\"labels\":{{\"project_id\":\"{project}\",\"zone\":\"europe-west1-b\"}}}},\"timestamp\":\"{time}\",\"severity\":\"NOTICE\",\"logName\":\"projects/{project}/logs/cloudaudit.googleapis.com%2Factivity\",\"receiveTimestamp\":\"{time}\""
    );
    if let Some((id, first, last)) = op {
        let _ = write!(
            s,
            ",\"operation\":{{\"id\":\"{id}\",\"producer\":\"compute.googleapis.com\"{}{}}}",
            if first { ",\"first\":true" } else { "" },
            if last { ",\"last\":true" } else { "" }
        );
    }
    s.push('}');
    Record {
        time,
        cloud: Cloud::Gcp,
        account: project.to_string(),
        region: "europe-west1",
        id: insert_id,
        json: s,
    }
}
