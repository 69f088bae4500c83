//! The shared corpus of real-format logs: every record is read, becomes an event or a counted
//! skip, and the snapshot-related ones normalize exactly as pinned.

mod common;
use common::*;

#[test]
fn every_corpus_record_is_an_event_or_a_counted_skip() {
    let batch = ingest(
        &[corpus().join("cloud-custodian"), corpus().join("plaso")],
        EVERYTHING,
    );
    assert_accounted(&batch);
    let s = &batch.summary;
    assert_eq!(s.files, 87);
    assert_eq!(s.unreadable_files + s.read_errors, 0);
    // The one bad record: a trimmed CloudTrail record with no eventTime cannot be placed in time.
    let bad: Vec<String> = batch
        .diagnostics
        .iter()
        .filter(|d| !d.skipped)
        .map(|d| d.to_string())
        .collect();
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(
        bad[0].contains("bedrock") && bad[0].contains("eventTime"),
        "{bad:?}"
    );
    // Non-audit records are skipped by kind, never silently.
    assert_eq!(s.skipped.get("aws:config-rule"), Some(&2));
    assert_eq!(s.skipped.get("eventbridge:guardduty-finding"), Some(&2));
    assert_eq!(s.skipped.get("gcp:testlog"), Some(&2));
    assert_eq!(s.skipped.get("gcp:security-command-center"), Some(&1));
    // 45 GCP audit entries + 29 AWS (EventBridge and bare) + plaso's LookupEvents, Azure, GCP.
    assert!(s.events >= 75, "{s:?}");
}

#[test]
fn every_panther_log_is_an_event_or_a_counted_skip() {
    let dir = tempfile::tempdir().unwrap();
    let batch = ingest(&[panther_logs(dir.path())], EVERYTHING);
    assert_accounted(&batch);
    assert_eq!(batch.summary.records, 966);
    // Panther trims logs to the fields its rules read: those without any time are bad records,
    // reported with their line, never guessed.
    for d in batch.diagnostics.iter().filter(|d| !d.skipped) {
        let m = &d.message;
        assert!(
            m.contains("time")
                || m.contains("Time")
                || m.contains("timestamp")
                || m.contains("methodName"),
            "unexpected bad record: {d}"
        );
        assert!(d.location.starts_with("line "), "{d}");
    }
    assert_eq!(batch.summary.bad_records, 64);
    // Sign-in logs, kube-audit and other diagnostic categories are skipped by category.
    assert!(
        batch
            .summary
            .skipped
            .keys()
            .any(|k| k.starts_with("azure:")),
        "{:?}",
        batch.summary.skipped
    );
}

#[test]
fn snapshot_events_normalize_as_pinned() {
    let dir = tempfile::tempdir().unwrap();
    let batch = ingest(
        &[
            corpus().join("cloud-custodian"),
            corpus().join("plaso"),
            panther_logs(dir.path()),
        ],
        RELEVANT,
    );
    let relevant: Vec<serde_json::Value> = comparable(&batch.events)
        .into_iter()
        .filter(|e| e["component"] != "other")
        .collect();
    let text: String = relevant.iter().map(|e| format!("{e}\n")).collect();
    insta::assert_snapshot!("corpus_snapshot_events", text);
}

#[test]
fn prefilter_drops_nothing_a_detector_uses_on_the_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let paths = [
        corpus().join("cloud-custodian"),
        corpus().join("plaso"),
        panther_logs(dir.path()),
        workspace().join("tests/data"),
    ];
    let with = ingest(&paths, FAST);
    let without = ingest(&paths, RELEVANT);
    assert!(
        with.summary.prefiltered > 100,
        "the prefilter should skip most records: {:?}",
        with.summary
    );
    assert_eq!(comparable(&with.events), comparable(&without.events));
}

/// Panther's CloudTrail records, bent the ways a byte search can be misled, read with and without
/// the prefilter: the same events either way. Their keys are sorted (they went through
/// `serde_json`), so request parameters come before the record's own `userAgent`.
#[test]
fn prefilter_is_not_misled_by_nested_keys_or_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<serde_json::Value> = std::fs::read_to_string(panther_logs(dir.path()))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .filter(|r: &serde_json::Value| r["eventName"].is_string() && r["userAgent"].is_string())
        .collect();
    assert!(records.len() > 50, "{}", records.len());

    // A tool's agent, with a map key spelled `userAgent` (callers choose tag keys) in the request
    // ahead of it: every one of these is relevant, whatever its operation.
    let tool = |r: &serde_json::Value| {
        let mut r = r.clone();
        r["userAgent"] = "Boto3/1.34 Pacu-Session".into();
        if !r["requestParameters"].is_object() {
            r["requestParameters"] = serde_json::json!({});
        }
        r["requestParameters"]["tags"] = serde_json::json!({"userAgent": "aws-cli/2.15"});
        r.to_string()
    };
    // The operation's first letter, and a tool's name, written as `\u` escapes.
    let escaped_name = |r: &serde_json::Value| {
        let name = r["eventName"].as_str().unwrap();
        let first = name.chars().next().unwrap() as u32;
        r.to_string().replacen(
            &format!(r#""eventName":"{name}""#),
            &format!(r#""eventName":"\u{first:04x}{}""#, &name[1..]),
            1,
        )
    };
    let escaped_tool = |r: &serde_json::Value| {
        let mut r = r.clone();
        r["userAgent"] = "PACU-MARKER".into();
        r.to_string().replace("PACU-MARKER", r"\u0070acu/1.0")
    };
    // The record's own name after one nested in an object that comes first.
    let nested_name = |r: &serde_json::Value| {
        let mut r = r.clone();
        r["additionalEventData"] = serde_json::json!({"eventName": "GetObject"});
        r.to_string()
    };

    let bent = |name: &str, bend: &dyn Fn(&serde_json::Value) -> String| {
        let path = dir.path().join(format!("{name}.jsonl"));
        let text: String = records.iter().map(|r| bend(r) + "\n").collect();
        std::fs::write(&path, text).unwrap();
        path
    };
    // Every tool's record passes the prefilter.
    for tools in [bent("tool", &tool), bent("escaped-tool", &escaped_tool)] {
        let with = ingest(std::slice::from_ref(&tools), FAST);
        assert_eq!(with.summary.prefiltered, 0, "{tools:?}: {:?}", with.summary);
        assert!(with.events.len() > 200, "{:?}", with.summary);
        assert_eq!(
            comparable(&with.events),
            comparable(&ingest(&[tools], RELEVANT).events)
        );
    }
    let paths = [
        bent("escaped-name", &escaped_name),
        bent("nested-name", &nested_name),
    ];
    let with = ingest(&paths, FAST);
    let without = ingest(&paths, RELEVANT);
    assert!(with.events.len() > 20, "{:?}", with.summary);
    assert_eq!(comparable(&with.events), comparable(&without.events));
}
