//! One operation, one event.

mod common;
use common::*;
use serde_json::json;
use snaptrail_model::Component;

#[test]
fn cloudtrail_duplicates_across_files_collapse() {
    let dir = tempfile::tempdir().unwrap();
    let rec = json!({"eventTime": "2026-01-01T00:00:00Z", "eventSource": "ec2.amazonaws.com", "eventName": "CreateSnapshot",
                     "eventID": "dup-1", "recipientAccountId": "1", "requestParameters": {"volumeId": "vol-1"}});
    // Overlapping exports deliver the same record twice.
    std::fs::write(
        dir.path().join("a.json"),
        json!({"Records": [rec]}).to_string(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.json"),
        json!({"Records": [rec]}).to_string(),
    )
    .unwrap();
    let batch = ingest(&[dir.path().to_path_buf()], RELEVANT);
    assert_eq!(batch.events.len(), 1);
    assert_eq!(batch.summary.merged, 1);
}

fn azure_row(status: &str, t: &str, id: &str) -> serde_json::Value {
    json!({"time": t, "resourceId": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/snapshots/x",
           "operationName": "MICROSOFT.COMPUTE/SNAPSHOTS/WRITE", "category": "Administrative", "resultType": status,
           "correlationId": "corr-1", "eventDataId": id, "caller": "a@example.com", "callerIpAddress": "1.1.1.1"})
}

#[test]
fn azure_start_accepted_success_is_one_operation_with_the_final_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let rows = json!({"records": [azure_row("Start", "2026-01-01T00:00:00Z", "e1"), azure_row("Accepted", "2026-01-01T00:00:01Z", "e2"),
                                  azure_row("Success", "2026-01-01T00:00:05Z", "e3")]});
    std::fs::write(dir.path().join("a.json"), rows.to_string()).unwrap();
    let failed = json!({"records": [azure_row("Start", "2026-01-02T00:00:00Z", "f1"), azure_row("Failure", "2026-01-02T00:00:09Z", "f2")]});
    std::fs::write(
        dir.path().join("b.json"),
        failed.to_string().replace("corr-1", "corr-2"),
    )
    .unwrap();
    let batch = ingest(&[dir.path().to_path_buf()], RELEVANT);
    assert_eq!(batch.events.len(), 2, "{:#?}", batch.events);
    let ok = &batch.events[0];
    assert_eq!(ok.component, Component::Create);
    assert!(ok.outcome.success);
    assert_eq!(ok.event_id, "e1");
    assert_eq!(ok.merged_ids, vec!["e2", "e3"]);
    assert!(
        !batch.events[1].outcome.success,
        "the final Failure row decides"
    );
    assert_eq!(batch.summary.merged, 3);
}

#[test]
fn gcp_first_and_last_entries_are_one_operation() {
    let dir = tempfile::tempdir().unwrap();
    let entry = |insert: &str, t: &str, first: bool| {
        json!({"insertId": insert, "timestamp": t, "logName": "projects/p/logs/cloudaudit.googleapis.com%2Factivity",
               "resource": {"labels": {"project_id": "p"}},
               "operation": {"id": "op-1", "producer": "compute.googleapis.com", "first": first, "last": !first},
               "protoPayload": {"methodName": "v1.compute.snapshots.insert", "resourceName": "projects/p/global/snapshots/s",
                                "authenticationInfo": {"principalEmail": "a@example.com"}}})
    };
    let text = format!(
        "{}\n{}\n",
        entry("i1", "2026-01-01T00:00:00Z", true),
        entry("i2", "2026-01-01T00:00:30Z", false)
    );
    std::fs::write(dir.path().join("g.jsonl"), text).unwrap();
    let batch = ingest(&[dir.path().to_path_buf()], RELEVANT);
    assert_eq!(batch.events.len(), 1);
    assert_eq!(batch.events[0].merged_ids, vec!["i2"]);
}

fn event_at(second: i64, id: &str, origin: &str) -> snaptrail_model::Event {
    serde_json::from_value(json!({
        "time": jiff::Timestamp::from_second(second).unwrap(), "cloud": "aws", "account": "1",
        "principal": "p", "principal_kind": "user", "service": "ec2", "operation": "CreateSnapshot",
        "component": "create", "outcome": {"success": true}, "event_id": id, "origin": origin
    }))
    .unwrap()
}

proptest::proptest! {
    /// `sort` applies a sorted permutation in place, swap by swap: it must give exactly what a
    /// stable sort of the events themselves gives, duplicates and already-placed events included.
    #[test]
    fn sorting_in_place_equals_a_stable_sort(keys in proptest::collection::vec((0i64..6, 0u8..4, 0u8..3), 0..60)) {
        let events: Vec<_> = keys
            .iter()
            .enumerate()
            .map(|(i, (t, id, o))| {
                let mut ev = event_at(*t, &format!("id-{id}"), &format!("f:{o}"));
                // Tells apart events equal in every key the order looks at.
                ev.account = i.to_string().into();
                ev
            })
            .collect();
        let mut expected = events.clone();
        expected.sort_by(snaptrail_ingest::dedupe::order);
        let mut got = events;
        snaptrail_ingest::dedupe::sort(&mut got);
        let accounts = |v: &[snaptrail_model::Event]| v.iter().map(|e| e.account.clone()).collect::<Vec<_>>();
        proptest::prop_assert_eq!(accounts(&got), accounts(&expected));
    }
}

fn row(
    second: i64,
    cloud: &str,
    id: &str,
    operation: &str,
    origin: &str,
) -> snaptrail_model::Event {
    let mut ev = event_at(second, id, origin);
    ev.cloud = serde_json::from_value(json!(cloud)).unwrap();
    ev.operation = operation.into();
    ev
}

#[test]
fn a_source_record_is_its_instant_cloud_id_and_operation() {
    let mut events = vec![
        row(1, "aws", "a", "b|1000|c", "f:1"),
        // Joined with separators and the time in milliseconds, both read "aws|a|1000|b|1000|c":
        // they are still different records.
        row(1, "aws", "a|1000|b", "c", "f:2"),
        row(1, "aws", "a", "b|1000|c", "f:3"),
        row(1, "aws", "a", "Other", "f:4"),
        row(1, "gcp", "a", "b|1000|c", "f:5"),
        row(2, "aws", "a", "b|1000|c", "f:6"),
    ];
    let merged = snaptrail_ingest::dedupe::collapse(&mut events);
    assert_eq!(merged, 1, "only f:3 repeats f:1");
    let origins: Vec<&str> = events.iter().map(|e| e.origin.as_str()).collect();
    assert_eq!(origins, ["f:1", "f:4", "f:2", "f:5", "f:6"]);
}

proptest::proptest! {
    /// Duplicates are found by comparing neighbours in sort order: whatever order the rows come
    /// in, exactly one event is left per (instant, cloud, id, operation).
    #[test]
    fn one_event_per_source_record_in_any_order(
        keys in proptest::collection::vec((0i64..3, 0u8..2, 0u8..3, 0u8..3, 0u8..4), 0..80),
        rotate in 0usize..80,
    ) {
        let mut events: Vec<_> = keys
            .iter()
            .map(|(t, c, id, op, o)| {
                let cloud = ["aws", "gcp"][*c as usize];
                row(*t, cloud, &format!("id-{id}"), &format!("Op{op}"), &format!("f:{o}"))
            })
            .collect();
        let n = events.len();
        events.rotate_left(rotate.min(n));
        let distinct: std::collections::HashSet<_> =
            keys.iter().map(|(t, c, id, op, _)| (*t, *c, *id, *op)).collect();
        let merged = snaptrail_ingest::dedupe::collapse(&mut events);
        proptest::prop_assert_eq!(events.len(), distinct.len());
        proptest::prop_assert_eq!(merged as usize, keys.len() - distinct.len());
    }
}
