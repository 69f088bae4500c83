//! Streaming detection with bounded memory: input order and the external sort do not change
//! the alerts, and the caps close old state early — counted, and without losing what it held.

mod common;
use common::*;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The fixtures' config plus `extra` TOML, written to `dir`.
fn config_with(dir: &Path, extra: &str) -> PathBuf {
    let base = std::fs::read_to_string(root().join(data("snaptrail.toml"))).unwrap();
    let path = dir.join("snaptrail.toml");
    std::fs::write(&path, format!("{base}\n{extra}\n")).unwrap();
    path
}

fn hunt_with_config(config: &Path, paths: &[PathBuf]) -> (Vec<serde_json::Value>, String) {
    let mut args = vec![
        PathBuf::from("--no-state"),
        PathBuf::from("--config"),
        config.to_path_buf(),
    ];
    args.extend(paths.iter().cloned());
    hunt_args(args)
}

#[test]
fn sorting_through_run_files_gives_the_same_alerts() {
    let inputs = [data("seed"), data("aws"), data("gcp"), data("azure")];
    let (one_batch, _) = hunt_with_config(&root().join(data("snaptrail.toml")), &inputs);
    assert!(one_batch.len() > 20, "the fixtures raise alerts");
    // Runs of 3 events: held in memory, then all written to files.
    for (memory, files) in [("", false), ("\nsort_memory_mb = 0", true)] {
        let dir = tempfile::tempdir().unwrap();
        let tiny = config_with(
            dir.path(),
            &format!("[limits]\nsort_buffer_events = 3{memory}"),
        );
        let (runs, stderr) = hunt_with_config(&tiny, &inputs);
        assert_eq!(
            stderr.contains("events sorted through temporary run files"),
            files,
            "{stderr}"
        );
        assert_eq!(runs, one_batch);
    }
}

/// CloudTrail JSON lines: `principals` users, each creating `per` snapshots a few seconds
/// apart, one user after another (one minute each).
fn many_principals(path: &Path, principals: usize, per: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let t0 = jiff::Timestamp::from_second(1_767_607_200).unwrap(); // 2026-01-05T10:00:00Z
    for p in 0..principals {
        for k in 0..per {
            let t = t0 + jiff::SignedDuration::from_secs((p * 60 + k * 5) as i64);
            writeln!(
                f,
                r#"{{"eventVersion":"1.09","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::310987654321:user/u{p}","accountId":"310987654321"}},"eventTime":"{t}","eventSource":"ec2.amazonaws.com","eventName":"CreateSnapshot","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.{}","userAgent":"aws-cli/2.15.0","requestParameters":{{"volumeId":"vol-{p:017}"}},"responseElements":{{"snapshotId":"snap-{p:09}{k:08}"}},"eventID":"id-{p}-{k}","recipientAccountId":"310987654321"}}"#,
                p % 250
            )
            .unwrap();
        }
    }
}

#[test]
fn caps_close_the_least_recently_active_state_first_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("principals.jsonl");
    // 3000 principals x 2 creations: each principal's window, chains and history are open
    // while it is active, and idle after.
    many_principals(&input, 3000, 2);
    let capped = config_with(
        dir.path(),
        "[limits]\nmax_keys = 100\nmax_principals = 100\nsort_buffer_events = 1000",
    );
    let (uncapped_alerts, uncapped_err) = hunt_with_config(
        &root().join(data("snaptrail.toml")),
        std::slice::from_ref(&input),
    );
    let (capped_alerts, capped_err) = hunt_with_config(&capped, &[input]);
    assert!(!uncapped_err.contains("closed early"), "{uncapped_err}");
    assert!(
        capped_err.contains("windows/episodes/chains closed early at limits.max_keys = 100"),
        "{capped_err}"
    );
    assert!(
        capped_err.contains("principals' history forgotten at limits.max_principals = 100"),
        "{capped_err}"
    );
    // Every principal made two snapshots in one window: the caller summary reports each, even
    // those whose window a cap closed before the day ended.
    assert_eq!(
        by_detector(&uncapped_alerts, "snapshot.caller_summary").len(),
        3000
    );
    // Closing idle state early loses nothing here: the same alerts, the same answers.
    assert_eq!(capped_alerts, uncapped_alerts);
}

#[test]
fn input_order_does_not_matter() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("principals.jsonl");
    many_principals(&input, 200, 3);
    let text = std::fs::read_to_string(&input).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.reverse();
    let reversed = dir.path().join("reversed.jsonl");
    std::fs::write(&reversed, lines.join("\n")).unwrap();
    let cfg = root().join(data("snaptrail.toml"));
    // Origins name the file and line, which differ; everything else must not.
    let without_origins = |mut alerts: Vec<serde_json::Value>| {
        for a in &mut alerts {
            a["evidence"]
                .as_object_mut()
                .map(|e| e.remove("origins"))
                .unwrap();
        }
        alerts
    };
    let (forward, _) = hunt_with_config(&cfg, &[input]);
    let (backward, _) = hunt_with_config(&cfg, &[reversed]);
    assert_eq!(forward.len(), 200);
    assert_eq!(without_origins(backward), without_origins(forward));
}

/// With two threads or more the merge and collapse run on a thread of their own and hand the
/// detectors batches of events; one thread runs them in line. Several batches' worth, from
/// sort batches kept whole and from encoded runs, with and without a state store (which
/// records every event on the detectors' side), must come out the same.
#[test]
fn one_thread_and_the_two_thread_pipeline_give_the_same_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("principals.jsonl");
    many_principals(&input, 2000, 4);
    let whole = root().join(data("snaptrail.toml"));
    // Encoded runs, and caps small enough that the detectors let go of events early, so
    // events are freed on both sides of the pipeline.
    let in_runs = config_with(
        dir.path(),
        "[limits]\nsort_buffer_events = 100\nmax_keys = 100\nmax_principals = 100",
    );
    let inputs = [input, data("seed"), data("aws"), data("gcp"), data("azure")];
    let run = |threads: &str, state: Option<&Path>, cfg: &Path| {
        let mut args: Vec<PathBuf> = vec!["--threads".into(), threads.into()];
        match state {
            Some(dir) => args.extend(["--state".into(), dir.to_path_buf()]),
            None => args.push("--no-state".into()),
        }
        args.extend(["--config".into(), cfg.to_path_buf()]);
        args.extend(inputs.iter().cloned());
        hunt_args(args)
    };
    let (one, _) = run("1", None, &whole);
    assert!(
        one.len() > 400,
        "every principal's creations raise an alert: {}",
        one.len()
    );
    assert_eq!(run("2", None, &whole).0, one);
    let (one_in_runs, _) = run("1", None, &in_runs);
    assert!(one_in_runs.len() > 400, "{}", one_in_runs.len());
    assert_eq!(run("2", None, &in_runs).0, one_in_runs);
    let learned = |stderr: &str| {
        stderr
            .lines()
            .find_map(|l| l.split_once("snaptrail.db: "))
            .map(|(_, counts)| counts.to_owned())
    };
    let (state_one, state_two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (one, one_err) = run("1", Some(state_one.path()), &in_runs);
    let (two, two_err) = run("2", Some(state_two.path()), &in_runs);
    assert!(learned(&one_err).is_some(), "{one_err}");
    assert!(!one.is_empty());
    assert_eq!(two, one);
    assert_eq!(learned(&two_err), learned(&one_err));
}
