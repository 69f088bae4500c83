//! Property: a CloudTrail record gives the same normalized event whatever envelope carries it
//! (S3 `Records` object, JSON lines, JSON array, EventBridge, LookupEvents output, pretty
//! printed) and whatever compression (none, gzip, zstd).

mod common;
use common::comparable;
use proptest::prelude::*;
use serde_json::{Value, json};
use snaptrail_ingest::{Options, read_bytes};
use std::io::Write;

const OPTS: Options = Options {
    prefilter: false,
    only_relevant: false,
};

fn record() -> impl Strategy<Value = Value> {
    let names = prop::sample::select(vec![
        "CreateSnapshot",
        "ModifySnapshotAttribute",
        "DescribeSnapshots",
        "DeleteSnapshot",
        "CreateDBSnapshot",
        "ModifyDBSnapshotAttribute",
        "RunInstances",
        "GetObject",
    ]);
    (
        names,
        0i64..2_000_000_000,
        "[0-9]{12}",
        "[0-9]{12}",
        "[a-f0-9]{17}",
        prop::sample::select(vec!["eu-west-1", "us-east-1", "ap-south-1"]),
        "\\PC{0,40}",
        any::<bool>(),
    )
        .prop_map(|(name, secs, account, target, hex, region, agent, failed)| {
            let time = jiff::Timestamp::from_second(secs).unwrap().to_string();
            let mut r = json!({
                "eventVersion": "1.09",
                "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::{account}:user/u"), "accountId": account},
                "eventTime": time,
                "eventSource": if name.contains("DB") { "rds.amazonaws.com" } else { "ec2.amazonaws.com" },
                "eventName": name,
                "awsRegion": region,
                "sourceIPAddress": "203.0.113.9",
                "userAgent": agent,
                "requestParameters": {"snapshotId": format!("snap-{hex}"), "volumeId": format!("vol-{hex}"),
                    "attributeType": "CREATE_VOLUME_PERMISSION",
                    "createVolumePermission": {"add": {"items": [{"userId": target}]}},
                    "dBSnapshotIdentifier": "db-snap", "attributeName": "restore", "valuesToAdd": [target]},
                "responseElements": {"snapshotId": format!("snap-{hex}")},
                "eventID": format!("{hex}-id"),
                "eventType": "AwsApiCall",
                "recipientAccountId": account,
            });
            if failed {
                r["errorCode"] = json!("Client.UnauthorizedOperation");
            }
            r
        })
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn envelopes(r: &Value) -> Vec<(&'static str, Vec<u8>)> {
    let line = serde_json::to_vec(r).unwrap();
    let records = serde_json::to_vec(&json!({"Records": [r]})).unwrap();
    let eventbridge = serde_json::to_vec(&json!({
        "version": "0", "id": "x", "detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2",
        "account": "1", "time": r["eventTime"], "region": r["awsRegion"], "resources": [], "detail": r})).unwrap();
    let lookup = serde_json::to_vec(&json!({
        "EventId": r["eventID"], "EventName": r["eventName"], "ReadOnly": "false",
        "EventTime": r["eventTime"], "EventSource": r["eventSource"],
        "CloudTrailEvent": serde_json::to_string(r).unwrap()}))
    .unwrap();
    let mut jsonl = line.clone();
    jsonl.push(b'\n');
    vec![
        ("jsonl", jsonl.clone()),
        ("records", records.clone()),
        ("array", serde_json::to_vec(&json!([r])).unwrap()),
        (
            "pretty",
            serde_json::to_vec_pretty(&json!({"Records": [r]})).unwrap(),
        ),
        ("eventbridge", eventbridge),
        ("lookup-events", lookup),
        ("gzip-records", gzip(&records)),
        ("zstd-jsonl", zstd::encode_all(&jsonl[..], 3).unwrap()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn same_event_from_every_envelope(r in record()) {
        let mut seen: Option<Vec<Value>> = None;
        for (shape, bytes) in envelopes(&r) {
            let out = read_bytes(shape, bytes, &OPTS);
            prop_assert_eq!(out.summary.bad_records, 0, "{}: {:?}", shape, out.diagnostics);
            prop_assert_eq!(out.events.len(), 1, "{}", shape);
            let events = comparable(&out.events);
            match &seen {
                None => seen = Some(events),
                Some(first) => prop_assert_eq!(first, &events, "{} differs", shape),
            }
        }
    }
}

#[test]
fn multi_member_gzip_is_read_whole() {
    // `cat a.gz b.gz` is a valid gzip stream of two members; both must be read.
    let a = gzip(b"{\"eventName\":\"CreateSnapshot\",\"eventSource\":\"ec2.amazonaws.com\",\"eventTime\":\"2026-01-01T00:00:00Z\",\"eventID\":\"a\"}\n");
    let b = gzip(b"{\"eventName\":\"CreateSnapshot\",\"eventSource\":\"ec2.amazonaws.com\",\"eventTime\":\"2026-01-01T00:00:01Z\",\"eventID\":\"b\"}\n");
    let out = read_bytes("two.gz", [a, b].concat(), &OPTS);
    assert_eq!(out.events.len(), 2, "{:?}", out.diagnostics);
}

#[test]
fn pubsub_wrapped_gcp_entries_are_decoded() {
    use base64::Engine;
    let entry = json!({"insertId": "abc", "logName": "projects/p/logs/cloudaudit.googleapis.com%2Factivity",
        "timestamp": "2026-01-01T00:00:00Z", "resource": {"labels": {"project_id": "p"}},
        "protoPayload": {"methodName": "v1.compute.snapshots.insert", "resourceName": "projects/p/global/snapshots/s",
                         "authenticationInfo": {"principalEmail": "a@b.example"}}});
    let data =
        base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(&entry).unwrap());
    let push = json!({"message": {"data": data, "messageId": "1", "attributes": {}}, "subscription": "projects/p/subscriptions/s"});
    let out = read_bytes("push.json", serde_json::to_vec(&push).unwrap(), &OPTS);
    assert_eq!(out.events.len(), 1, "{:?}", out.diagnostics);
    assert_eq!(out.events[0].operation, "v1.compute.snapshots.insert");
    assert_eq!(out.events[0].component, snaptrail_model::Component::Create);
}

#[test]
fn digest_files_are_skipped_and_counted() {
    let digest = json!({"awsAccountId": "1", "digestStartTime": "2026-01-01T00:00:00Z", "digestEndTime": "2026-01-01T01:00:00Z",
        "digestS3Bucket": "b", "digestS3Object": "AWSLogs/1/CloudTrail-Digest/x.json.gz", "digestPublicKeyFingerprint": "f",
        "digestSignatureAlgorithm": "SHA256withRSA", "logFiles": []});
    let out = read_bytes(
        "digest.json.gz",
        gzip(&serde_json::to_vec(&digest).unwrap()),
        &OPTS,
    );
    assert_eq!(out.summary.skipped.get("aws:cloudtrail-digest"), Some(&1));
    assert_eq!(out.summary.bad_records, 0);
}

#[test]
fn azure_shapes_normalize_alike() {
    // The same operation in the event-hub, REST (snake and camel case) and AzureActivity shapes.
    let rid = "/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Compute/snapshots/s1";
    let hub = json!({"records": [{"time": "2026-01-01T00:00:00Z", "resourceId": rid, "operationName": "MICROSOFT.COMPUTE/SNAPSHOTS/WRITE",
        "category": "Administrative", "resultType": "Success", "callerIpAddress": "1.2.3.4", "correlationId": "c1",
        "identity": {"claims": {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "a@example.com"}}}]});
    let rest = json!({"eventTimestamp": "2026-01-01T00:00:00Z", "resourceId": rid,
        "operationName": {"value": "Microsoft.Compute/snapshots/write", "localizedValue": "Create or Update Snapshot"},
        "category": {"value": "Administrative"}, "status": {"value": "Succeeded"}, "caller": "a@example.com",
        "httpRequest": {"clientIpAddress": "1.2.3.4"}, "correlationId": "c1"});
    let snake = json!({"event_timestamp": "2026-01-01T00:00:00Z", "resource_id": rid,
        "operation_name": {"value": "Microsoft.Compute/snapshots/write"}, "category": {"value": "Administrative"},
        "status": {"value": "Succeeded"}, "caller": "a@example.com", "http_request": {"client_ip_address": "1.2.3.4"},
        "correlation_id": "c1"});
    let table = json!({"TimeGenerated": "2026-01-01T00:00:00Z", "_ResourceId": rid, "OperationNameValue": "MICROSOFT.COMPUTE/SNAPSHOTS/WRITE",
        "CategoryValue": "Administrative", "ActivityStatusValue": "Success", "Caller": "a@example.com",
        "CallerIpAddress": "1.2.3.4", "CorrelationId": "c1", "SubscriptionId": "sub-1"});
    for (name, v) in [
        ("hub", hub),
        ("rest", rest),
        ("snake", snake),
        ("table", table),
    ] {
        let out = read_bytes(name, serde_json::to_vec(&v).unwrap(), &OPTS);
        assert_eq!(out.events.len(), 1, "{name}: {:?}", out.diagnostics);
        let e = &out.events[0];
        assert_eq!(e.component, snaptrail_model::Component::Create, "{name}");
        assert_eq!(e.account, "sub-1", "{name}");
        assert_eq!(e.principal, "a@example.com", "{name}");
        assert_eq!(e.source_ip.as_deref(), Some("1.2.3.4"), "{name}");
        assert_eq!(e.time.to_string(), "2026-01-01T00:00:00Z", "{name}");
        assert!(e.outcome.success, "{name}");
    }
}
