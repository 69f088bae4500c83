//! docs/panther-verdicts.md is the source of truth for our verdicts on Panther's snapshot tests:
//! every row's "ours" cell must be what the detectors actually say.

use snaptrail_detect::Config;
use snaptrail_ingest::{Options, read_bytes};
use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn verdict(log: &serde_json::Value, cfg: &Config) -> String {
    let opts = Options {
        prefilter: true,
        only_relevant: true,
    };
    let out = read_bytes("case.json", serde_json::to_vec(log).unwrap(), &opts);
    assert_eq!(out.summary.bad_records, 0, "{:?}", out.diagnostics);
    let mut events = out.events;
    snaptrail_ingest::dedupe::collapse(&mut events);
    let alerts = snaptrail_detect::hunt(&events, cfg);
    let mut real: Vec<String> = alerts
        .iter()
        .filter(|a| a.severity.as_str() != "info")
        .map(|a| format!("{} ({})", a.detector, a.severity.as_str()))
        .collect();
    real.sort();
    real.dedup();
    let mut info: Vec<String> = alerts
        .iter()
        .filter(|a| a.severity.as_str() == "info")
        .map(|a| format!("{} (info)", a.detector))
        .collect();
    info.sort();
    info.dedup();
    if !real.is_empty() {
        format!("alert: {}", real.join(", "))
    } else if !info.is_empty() {
        format!("info: {}", info.join(", "))
    } else {
        "no alert".into()
    }
}

#[test]
fn our_verdicts_on_panthers_snapshot_tests_are_as_documented() {
    let cfg = Config::load(&root().join("docs/panther-verdicts.toml")).unwrap();
    let doc = std::fs::read_to_string(root().join("docs/panther-verdicts.md")).unwrap();
    let mut cases = Vec::new();
    for cloud in ["aws", "azure", "gcp"] {
        let path = root().join(format!(
            "../shared/corpus/panther/panther_{cloud}_tests.jsonl"
        ));
        for line in std::fs::read_to_string(path).unwrap().lines() {
            cases.push(serde_json::from_str::<serde_json::Value>(line).unwrap());
        }
    }
    let mut checked = 0;
    let mut differ = 0;
    for row in doc
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| Panther rule"))
    {
        let cells: Vec<&str> = row.trim_matches('|').split(" | ").map(str::trim).collect();
        let [rule, test, panther, ours, reason] = cells[..] else {
            panic!("bad row {row}")
        };
        let case = cases
            .iter()
            .find(|c| c["rule_id"] == rule && c["test_name"] == test)
            .unwrap_or_else(|| panic!("no Panther test {rule} / {test}"));
        assert_eq!(
            case["expected_result"].as_bool().unwrap(),
            panther == "alert",
            "{row}: Panther's verdict misquoted"
        );
        assert_eq!(verdict(&case["log"], &cfg), ours, "{row}");
        if (panther == "alert") != ours.starts_with("alert") {
            differ += 1;
            assert!(reason.len() > 20, "a difference needs its reason: {row}");
        }
        checked += 1;
    }
    assert_eq!(
        checked, 44,
        "every snapshot test of Panther's is in the table"
    );
    assert!(differ < checked / 2);
}
