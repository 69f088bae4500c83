//! The documentation keeps up with the code.

use std::path::Path;

fn read(rel: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(rel),
    )
    .unwrap()
}

#[test]
fn every_detector_has_an_example_in_docs_alerts() {
    let doc = read("docs/alerts.md");
    for (name, _) in snaptrail_detect::detectors::DETECTORS {
        let heading = format!("### `{name}`");
        let at = doc
            .find(&heading)
            .unwrap_or_else(|| panic!("docs/alerts.md has no section {heading}"));
        let section = &doc[at..];
        let example = section.find("```json").unwrap_or(usize::MAX);
        let next = section[heading.len()..]
            .find("### ")
            .map(|n| n + heading.len())
            .unwrap_or(section.len());
        assert!(example < next, "{heading} has no JSON example");
        assert!(
            section[example..].contains(&format!("\"detector\": \"{name}\"")),
            "{heading}: example is of another detector"
        );
    }
}

#[test]
fn readme_opens_with_the_two_commands() {
    let readme = read("README.md");
    let first_blocks: Vec<&str> = readme.split("```").skip(1).step_by(2).take(2).collect();
    assert!(
        first_blocks[0].contains("snaptrail") && first_blocks[0].contains("hunt"),
        "first command runs a hunt"
    );
    assert!(
        first_blocks[1].contains("./test.sh"),
        "second command runs the test suite"
    );
    assert!(
        read(".ci/run").contains("./test.sh"),
        ".ci/run calls the README's test command"
    );
}

#[test]
fn alert_examples_are_real_output() {
    // Each example in docs/alerts.md must be exactly what the hunt on the fixtures prints.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = assert_cmd::Command::cargo_bin("snaptrail")
        .unwrap()
        .current_dir(&root)
        .args([
            "hunt",
            "--no-state",
            "--config",
            "tests/data/snaptrail.toml",
            "--format",
            "jsonl",
        ])
        .args([
            "tests/data/seed",
            "tests/data/aws",
            "tests/data/gcp",
            "tests/data/azure",
        ])
        .output()
        .unwrap();
    let alerts: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let doc = read("docs/alerts.md");
    let mut checked = 0;
    for block in doc.split("```json\n").skip(1) {
        let json = &block[..block.find("\n```").unwrap()];
        let example: serde_json::Value = serde_json::from_str(json).unwrap();
        let real = alerts.iter().find(|a| a["id"] == example["id"]);
        assert_eq!(
            real,
            Some(&example),
            "docs/alerts.md example {} is stale: run docs/regenerate-alerts.py",
            example["detector"]
        );
        checked += 1;
    }
    assert_eq!(checked, snaptrail_detect::detectors::DETECTORS.len());
}
