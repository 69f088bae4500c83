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
