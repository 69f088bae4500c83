//! The output does not depend on how many threads decode.

mod common;
use common::*;

#[test]
fn thread_count_does_not_change_the_output() {
    let dir = tempfile::tempdir().unwrap();
    // Many small objects, like the CloudTrail S3 layout, copied from the fixtures under new names.
    let fixtures = workspace().join("tests/data");
    let mut n = 0;
    for sub in ["aws", "seed", "gcp"] {
        for entry in std::fs::read_dir(fixtures.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            for copy in 0..15 {
                let name = format!("{copy:02}-{}", path.file_name().unwrap().to_string_lossy());
                std::fs::write(dir.path().join(format!("{n:03}-{name}")), &bytes).unwrap();
                n += 1;
            }
        }
    }
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| ingest(&[dir.path().to_path_buf()], FAST))
    };
    let one = run(1);
    let two = run(2);
    let four = run(4);
    assert!(one.summary.files > 100);
    assert_eq!(
        serde_json::to_string(&one.events).unwrap(),
        serde_json::to_string(&two.events).unwrap()
    );
    assert_eq!(
        serde_json::to_string(&one.events).unwrap(),
        serde_json::to_string(&four.events).unwrap()
    );
    assert_eq!(one.summary, two.summary);
}
