//! Running the binary on the fixtures.
#![allow(dead_code)]

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A fixture path relative to the workspace root, where the binary runs: output that quotes
/// it (alert origins) is the same on every checkout.
pub fn data(rel: &str) -> PathBuf {
    Path::new("tests/data").join(rel)
}

pub fn snaptrail() -> Command {
    let mut cmd = Command::cargo_bin("snaptrail").unwrap();
    cmd.current_dir(root());
    cmd
}

/// Hunt with the fixtures' config; returns (exit code, alerts, stderr).
pub fn hunt(paths: &[PathBuf], extra: &[&str]) -> (i32, Vec<Value>, String) {
    let mut cmd = snaptrail();
    cmd.arg("hunt")
        .arg("--no-state")
        .arg("--config")
        .arg(data("snaptrail.toml"))
        .arg("--format")
        .arg("jsonl")
        .args(extra)
        .args(paths);
    let out = cmd.output().unwrap();
    let alerts = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}")))
        .collect();
    (
        out.status.code().unwrap_or(-1),
        alerts,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `snaptrail hunt --format jsonl` with `args` (config, state, paths); returns (alerts, stderr).
pub fn hunt_args<I, S>(args: I) -> (Vec<Value>, String)
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = snaptrail()
        .args(["hunt", "--format", "jsonl"])
        .args(args)
        .output()
        .unwrap();
    let alerts = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}")))
        .collect();
    (alerts, String::from_utf8_lossy(&out.stderr).into_owned())
}

pub fn by_detector<'a>(alerts: &'a [Value], detector: &str) -> Vec<&'a Value> {
    alerts
        .iter()
        .filter(|a| a["detector"] == detector)
        .collect()
}

/// Every source event id in a CloudTrail/Azure fixture file.
pub fn fixture_ids(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let records = v
        .get("Records")
        .or(v.get("records"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    records
        .iter()
        .filter_map(|r| {
            r.get("eventID")
                .or(r.get("eventDataId"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect()
}

pub fn ids(alert: &Value) -> Vec<String> {
    alert["event_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

pub fn has_tag(alert: &Value, tag: &str) -> bool {
    alert["tags"].as_array().unwrap().iter().any(|t| t == tag)
}
