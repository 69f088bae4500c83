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
