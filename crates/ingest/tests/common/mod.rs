//! Helpers shared by the ingest integration tests.
#![allow(dead_code)]

use snaptrail_ingest::{Batch, Options};
use std::path::{Path, PathBuf};

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

pub fn corpus() -> PathBuf {
    workspace().join("../shared/corpus")
}

pub const EVERYTHING: Options = Options {
    prefilter: false,
    only_relevant: false,
};
pub const RELEVANT: Options = Options {
    prefilter: false,
    only_relevant: true,
};
pub const FAST: Options = Options {
    prefilter: true,
    only_relevant: true,
};

/// Panther's corpus wraps each raw log in a test case; unwrap them into one JSON-lines file.
pub fn panther_logs(dir: &Path) -> PathBuf {
    let out = dir.join("panther-logs.jsonl");
    let mut text = String::new();
    for cloud in ["aws", "azure", "gcp"] {
        let path = corpus().join(format!("panther/panther_{cloud}_tests.jsonl"));
        for line in std::fs::read_to_string(path).unwrap().lines() {
            let case: serde_json::Value = serde_json::from_str(line).unwrap();
            text.push_str(&serde_json::to_string(&case["log"]).unwrap());
            text.push('\n');
        }
    }
    std::fs::write(&out, text).unwrap();
    out
}

pub fn ingest(paths: &[PathBuf], opts: Options) -> Batch {
    snaptrail_ingest::ingest(paths, &opts)
}

/// Every record ends as exactly one of: event, merged row, skip, bad, prefiltered, irrelevant.
pub fn assert_accounted(batch: &Batch) {
    let s = &batch.summary;
    let not_json_files = s.skipped.get("file:not-json").copied().unwrap_or(0);
    assert_eq!(
        s.records,
        s.events
            + s.merged
            + (s.skipped_total() - not_json_files)
            + s.bad_records
            + s.prefiltered
            + s.irrelevant,
        "records must all be accounted for: {s:?}"
    );
}

/// Events as comparable JSON, without where they were read from.
pub fn comparable(events: &[snaptrail_model::Event]) -> Vec<serde_json::Value> {
    events
        .iter()
        .map(|e| {
            let mut v = serde_json::to_value(e).unwrap();
            v.as_object_mut().unwrap().remove("origin");
            v
        })
        .collect()
}

/// A plain CloudTrail `CreateSnapshot` record, one line, with id `id-{i}`.
pub fn good(i: usize) -> String {
    format!(
        "{{\"eventVersion\":\"1.09\",\"eventTime\":\"2026-01-01T00:00:{:02}Z\",\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":\"CreateSnapshot\",\"eventID\":\"id-{i}\",\"recipientAccountId\":\"111122223333\",\"requestParameters\":{{\"volumeId\":\"vol-{i}\"}}}}",
        i % 60
    )
}
