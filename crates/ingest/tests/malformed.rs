//! A corpus of broken input, made here: each kind of damage is reported with its place, the rest
//! of the file is still read, and the counts are exact.

mod common;
use common::*;
use snaptrail_ingest::{Options, read_bytes};
use std::io::Write;

const OPTS: Options = EVERYTHING;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn corrupt_line_in_the_middle_of_json_lines() {
    let mut text = String::new();
    for i in 0..5 {
        text += &good(i);
        text += "\n";
    }
    text += "{\"eventName\": \"CreateSnapshot\", \"eventTime\": \n";
    for i in 5..9 {
        text += &good(i);
        text += "\n";
    }
    let out = read_bytes("mixed.jsonl", text.into_bytes(), &OPTS);
    assert_eq!(out.events.len(), 9);
    assert_eq!(out.summary.bad_records, 1);
    assert_eq!(out.diagnostics[0].location, "line 6");
    assert_eq!(out.diagnostics[0].file, "mixed.jsonl");
}

#[test]
fn truncated_gzip_keeps_every_complete_record() {
    let body = format!(
        "{{\"Records\":[{}]}}",
        (0..50).map(good).collect::<Vec<_>>().join(",")
    );
    let gz = gzip(body.as_bytes());
    let cut = gz[..gz.len() * 6 / 10].to_vec();
    let out = read_bytes("cut.json.gz", cut, &OPTS);
    assert_eq!(out.summary.read_errors, 1, "{:?}", out.diagnostics);
    assert!(
        out.diagnostics
            .iter()
            .any(|d| d.location.starts_with("decompressed byte")),
        "{:?}",
        out.diagnostics
    );
    // The partial record at the cut is reported; the complete ones before it are events.
    assert_eq!(out.summary.bad_records, 1);
    assert!(
        out.events.len() > 10 && out.events.len() < 50,
        "{}",
        out.events.len()
    );
    assert_eq!(out.summary.records, out.events.len() as u64 + 1);
}

/// A pretty-printed envelope that is the whole file is split once, without a pass to find its
/// first line; the lines it reports are those of the general way (taken here because something
/// follows the envelope).
#[test]
fn an_envelope_alone_in_its_file_reports_the_lines_the_general_way_does() {
    let body = format!(
        "\n\n{{\"Records\":[\n{},\n{{\"eventName\": tru}},\n{}\n]}}",
        good(1),
        good(2)
    );
    for tail in ["\n", " \n\n", "\nnot json\n"] {
        let out = read_bytes("envelope.json", format!("{body}{tail}").into_bytes(), &OPTS);
        assert_eq!(out.events.len(), 2, "{tail:?}");
        assert_eq!(out.summary.bad_records, 1, "{tail:?}");
        assert!(
            out.diagnostics[0].location.contains("line 5, record 2"),
            "{tail:?}: {:?}",
            out.diagnostics
        );
        let origins: Vec<&str> = out.events.iter().map(|e| e.origin.as_str()).collect();
        assert!(
            origins[0].ends_with("line 4, record 1") && origins[1].ends_with("line 6, record 3"),
            "{tail:?}: {origins:?}"
        );
    }
}

#[test]
fn corrupt_record_inside_a_records_array_does_not_take_its_neighbours() {
    let body = format!(
        "{{\"Records\":[{},{{\"eventName\": tru}},{}]}}",
        good(1),
        good(2)
    );
    let out = read_bytes("envelope.json", body.into_bytes(), &OPTS);
    assert_eq!(out.events.len(), 2);
    assert_eq!(out.summary.bad_records, 1);
    assert!(
        out.diagnostics[0].location.contains("record 2"),
        "{:?}",
        out.diagnostics
    );
}

#[test]
fn invalid_utf8_is_a_bad_record_not_a_crash() {
    let mut bytes = good(1).into_bytes();
    bytes.push(b'\n');
    let mut broken = good(2).into_bytes();
    let at = broken.iter().position(|&b| b == b'v').unwrap();
    broken[at] = 0xff;
    bytes.extend(broken);
    bytes.push(b'\n');
    bytes.extend(good(3).into_bytes());
    let out = read_bytes("utf8.jsonl", bytes, &OPTS);
    assert_eq!(out.events.len(), 2);
    assert_eq!(out.summary.bad_records, 1);
    assert_eq!(out.diagnostics[0].location, "line 2");
}

#[test]
fn wrong_field_types_are_named() {
    let text = [
        good(1),
        r#"{"eventName": 42, "eventSource": "ec2.amazonaws.com", "eventTime": "2026-01-01T00:00:00Z"}"#.to_string(),
        r#"{"eventName": "CreateSnapshot", "eventSource": "ec2.amazonaws.com", "eventTime": "2026-01-01T00:00:00Z", "userIdentity": "root"}"#.to_string(),
        r#"{"eventName": "CreateSnapshot", "eventSource": "ec2.amazonaws.com", "eventTime": 1767225600}"#.to_string(),
        r#"[1, 2]"#.to_string(),
    ]
    .join("\n");
    let out = read_bytes("types.jsonl", text.into_bytes(), &OPTS);
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.summary.bad_records, 5, "{:?}", out.diagnostics);
    let messages: Vec<&str> = out.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert!(messages[0].contains("eventName"), "{messages:?}");
    assert!(messages[1].contains("userIdentity"), "{messages:?}");
    assert!(messages[2].contains("eventTime"), "{messages:?}");
    assert!(messages[3].contains("JSON object"), "{messages:?}");
}

#[test]
fn deeply_nested_json_is_refused_not_overflowed() {
    let deep = format!(
        "{{\"eventName\":\"CreateSnapshot\",\"x\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let text = format!("{}\n{deep}\n{}\n", good(1), good(2));
    let out = read_bytes("deep.jsonl", text.into_bytes(), &OPTS);
    assert_eq!(out.events.len(), 2);
    assert_eq!(out.summary.bad_records, 1);
    assert_eq!(out.diagnostics[0].location, "line 2");
}

#[test]
fn a_reused_read_buffer_never_shows_an_earlier_file() {
    // Both reads run on this thread, so they share its read buffer. The first fills it (and
    // more) with complete lines; the second ends in a cut line that stale bytes could "finish".
    let lines: String = (0..40_000).map(|i| good(i) + "\n").collect();
    assert!(lines.len() > 8 << 20);
    let first = read_bytes("first.jsonl", lines.into_bytes(), &OPTS);
    assert_eq!((first.events.len(), first.summary.bad_records), (40_000, 0));
    let cut = good(7);
    let second = format!("{}\n{}", good(1), &cut[..cut.len() - 30]);
    let out = read_bytes("second.jsonl", second.into_bytes(), &OPTS);
    assert_eq!(out.summary.records, 2);
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.summary.bad_records, 1, "{:?}", out.diagnostics);
    assert_eq!(out.diagnostics[0].location, "line 2");
}

#[test]
fn garbage_and_empty_files() {
    let out = read_bytes("empty.json", Vec::new(), &OPTS);
    assert_eq!((out.summary.records, out.summary.bad_records), (0, 0));
    let out = read_bytes("binary.bin", vec![0u8, 159, 146, 150, 1, 2, 3], &OPTS);
    assert_eq!(out.summary.skipped.get("file:not-json"), Some(&1));
    let out = read_bytes("fake.gz", vec![0x1f, 0x8b, 0, 0, 0, 1, 2, 3], &OPTS);
    assert_eq!(out.events.len(), 0);
    assert!(
        out.summary.read_errors + out.summary.bad_records + out.summary.unreadable_files > 0,
        "{:?}",
        out.summary
    );
}

#[test]
fn malformed_directory_counts_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("a.jsonl"),
        format!("{}\nnot json\n{}\n", good(1), good(2)),
    )
    .unwrap();
    std::fs::write(
        d.join("b.json.gz"),
        gzip(format!("{{\"Records\":[{},{}]}}", good(3), good(4)).as_bytes()),
    )
    .unwrap();
    std::fs::write(d.join("c.json"), format!("[{},{{]", good(5))).unwrap();
    let batch = ingest(&[d.to_path_buf(), d.join("missing.json")], OPTS);
    assert_accounted(&batch);
    assert_eq!(batch.summary.files, 3);
    assert_eq!(batch.summary.unreadable_files, 1);
    assert_eq!(batch.events.len(), 5);
    assert_eq!(batch.summary.bad_records, 2);
    assert!(batch.summary.has_bad_input());
}
