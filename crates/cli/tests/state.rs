//! Memory across runs: chains split over two runs, idempotent reruns, the first-seen baseline,
//! out-of-order input, and a store that survives kill -9 at any moment.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Stdio;

fn hunt_state(state: &Path, paths: &[PathBuf]) -> (Vec<serde_json::Value>, String) {
    let mut args = vec![
        PathBuf::from("--config"),
        data("snaptrail.toml"),
        PathBuf::from("--state"),
        state.to_path_buf(),
    ];
    args.extend(paths.iter().cloned());
    hunt_args(args)
}

#[test]
fn a_chain_split_across_two_files_and_two_runs_is_linked() {
    let state = tempfile::tempdir().unwrap();
    // Run 1: the snapshot is created and made public. Run 2: another account uses it.
    let (first, _) = hunt_state(state.path(), &[data("aws/share-public.json.gz")]);
    assert!(by_detector(&first, "snapshot.chain.exfiltration").is_empty());
    let (second, _) = hunt_state(state.path(), &[data("aws/consumed-external.json")]);
    let chain = by_detector(&second, "snapshot.chain.exfiltration");
    assert_eq!(chain.len(), 1, "{second:#?}");
    assert_eq!(
        chain[0]["count"], 3,
        "create and share from run 1, use from run 2"
    );
    assert_eq!(chain[0]["severity"], "critical");
    // Without memory, run 2 alone cannot link it.
    let (_, alone, _) = hunt(&[data("aws/consumed-external.json")], &[]);
    assert!(by_detector(&alone, "snapshot.chain.exfiltration").is_empty());
}

#[test]
fn rerunning_the_same_input_reports_nothing_twice() {
    let state = tempfile::tempdir().unwrap();
    let (first, _) = hunt_state(state.path(), &[data("seed")]);
    assert!(first.len() >= 5);
    let (second, stderr) = hunt_state(state.path(), &[data("seed")]);
    assert!(second.is_empty(), "{second:#?}");
    assert!(
        stderr.contains("0 new events")
            && stderr.contains(&format!(
                "{} alerts reported earlier not repeated",
                first.len()
            )),
        "{stderr}"
    );
    // A new file in a third run reports only what is new.
    let (third, _) = hunt_state(
        state.path(),
        &[data("seed"), data("aws/share-public.json.gz")],
    );
    assert!(!third.is_empty());
    let first_ids: Vec<&serde_json::Value> = first.iter().map(|a| &a["id"]).collect();
    assert!(third.iter().all(|a| !first_ids.contains(&&a["id"])));
}

#[test]
fn the_baseline_answers_first_seen() {
    let dir = tempfile::tempdir().unwrap();
    // History: alice snapshotted volumes in the week before (the seed's first test, moved back).
    let history = dir.path().join("history.json");
    let text = std::fs::read_to_string(root().join(data("seed/1-ebs-snapshot-cli.json")))
        .unwrap()
        .replace("2026-01-14", "2026-01-07");
    std::fs::write(&history, text.replace("5eed", "0ld0")).unwrap();
    let state = dir.path().join("state");
    snaptrail()
        .args(["baseline", "--state"])
        .arg(&state)
        .arg(&history)
        .assert()
        .success();
    let (with, _) = hunt_state(&state, &[data("seed/2-cross-account-share.json")]);
    let (_, without, _) = hunt(&[data("seed/2-cross-account-share.json")], &[]);
    let shared =
        |alerts: &[serde_json::Value]| by_detector(alerts, "snapshot.share.external")[0].clone();
    let known = shared(&with);
    let unknown = shared(&without);
    assert!(
        has_tag(&unknown, "first-seen"),
        "no baseline: alice is first seen"
    );
    let answer = known["triage"]["questions"][0]["a"].as_str().unwrap();
    assert!(answer.starts_with("Yes: since 2026-01-07"), "{answer}");
    // The share target is still new to the account, so the tag stays, for that reason.
    let reasons = known["evidence"]["score_reasons"].to_string();
    assert!(
        reasons.contains("share target never seen before")
            && !reasons.contains("principal never seen"),
        "{reasons}"
    );
    assert!(unknown["score"].as_u64() > known["score"].as_u64());
}

#[test]
fn out_of_order_input_gives_the_same_alerts() {
    // The same records, in reverse order and split across files, as delayed delivery makes them.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join(data("seed/4-pacu-enumerate-then-create.json")))
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut records = v["Records"].as_array().unwrap().clone();
    records.reverse();
    let (late, early) = records.split_at(5);
    std::fs::write(
        dir.path().join("a.json"),
        serde_json::json!({"Records": late}).to_string(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.json"),
        serde_json::json!({"Records": early}).to_string(),
    )
    .unwrap();
    let (_, shuffled, _) = hunt(&[dir.path().to_path_buf()], &[]);
    let (_, ordered, _) = hunt(&[data("seed/4-pacu-enumerate-then-create.json")], &[]);
    let ids = |a: &[serde_json::Value]| a.iter().map(|x| x["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&shuffled), ids(&ordered));
}

/// kill -9 at random moments, many times: the store always opens, and after a final run the
/// reported alerts are exactly those of an uninterrupted run.
#[test]
fn a_store_survives_kill_9_at_any_moment() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    snaptrail()
        .args(["simulate", "--background", "60000", "--days", "3", "--out"])
        .arg(&logs)
        .assert()
        .success();
    let bin = assert_cmd::cargo::cargo_bin("snaptrail");
    let run = |state: &Path| {
        std::process::Command::new(&bin)
            .current_dir(root())
            .args(["hunt", "--format", "jsonl", "--state"])
            .arg(state)
            .arg(&logs)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let clean = dir.path().join("clean");
    run(&clean).wait().unwrap();
    let want = ids_in(&clean);
    assert!(want.len() > 20, "{}", want.len());

    let killed = dir.path().join("killed");
    let started = std::time::Instant::now();
    let mut child = run(&clean.with_file_name("probe"));
    child.wait().unwrap();
    let full = started.elapsed().as_millis() as u64;
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    for round in 0..12 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let at = seed % (full + 50);
        let mut child = run(&killed);
        std::thread::sleep(std::time::Duration::from_millis(at));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // The store opens and is consistent after every kill (or was never created).
        if !killed.join("snaptrail.db").exists() {
            continue;
        }
        let conn = rusqlite::Connection::open(killed.join("snaptrail.db")).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "round {round}, killed at {at} ms");
    }
    run(&killed).wait().unwrap();
    assert_eq!(ids_in(&killed), want);
}

fn ids_in(state: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(state.join("snaptrail.db")).unwrap();
    let mut stmt = conn.prepare("SELECT id FROM alerts ORDER BY id").unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}
