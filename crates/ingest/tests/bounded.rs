//! Memory stays bounded whatever the input: nothing larger than `WHOLE_DOCUMENT` is held whole
//! (an envelope or array streams record by record, anything else is read as JSON lines), a
//! small gzip that inflates past it is streamed, and diagnostics are capped per file while the
//! counts stay exact.

mod common;
use common::*;
use snaptrail_ingest::decode::{KEPT_DIAGNOSTICS, WHOLE_DOCUMENT};
use snaptrail_ingest::{Options, read_bytes};
use std::io::Write;

const OPTS: Options = EVERYTHING;

/// Enough records to pass the limit once joined.
fn past_the_limit() -> usize {
    WHOLE_DOCUMENT / good(0).len() + 1000
}

#[test]
fn a_line_under_the_limit_is_read_and_one_over_it_is_one_bad_record() {
    let with = |len: usize| {
        format!(
            "{{\"eventTime\":\"2026-01-01T00:00:00Z\",\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":\"CreateSnapshot\",\"eventID\":\"big\",\"requestParameters\":{{\"volumeId\":\"vol-big\",\"description\":\"{}\"}}}}",
            "x".repeat(len)
        )
    };
    let under = format!(
        "{}\n{}\n{}\n",
        good(1),
        with(WHOLE_DOCUMENT - 4096),
        good(2)
    );
    let out = read_bytes("under.jsonl", under.into_bytes(), &OPTS);
    assert_eq!(out.summary.bad_records, 0);
    assert!(out.events.iter().any(|e| e.event_id == "big"));
    assert_eq!(out.events.len(), 3);

    let over = format!("{}\n{}\n{}\n", good(1), with(WHOLE_DOCUMENT + 1), good(2));
    let out = read_bytes("over.jsonl", over.into_bytes(), &OPTS);
    assert_eq!(out.summary.records, 3);
    assert_eq!(out.summary.bad_records, 1);
    assert_eq!(out.events.len(), 2, "the lines around it are read");
    assert_eq!(out.diagnostics[0].location, "line 2");
    assert!(out.diagnostics[0].message.contains("skipped"));
}

#[test]
fn an_envelope_larger_than_the_limit_streams_with_its_line_numbers() {
    let n = past_the_limit();
    // Pretty-printed as the AWS CLI would: one record per line, inside `{"Records": [...]}`,
    // with a broken record in the middle and a record after it.
    let mut text = String::from("{\n  \"Records\": [\n");
    for i in 0..n {
        text += "    ";
        text += &if i == n / 2 {
            "{\"eventName\": \"CreateSnapshot\", \"eventTime\": }".to_string()
        } else {
            good(i)
        };
        text += if i + 1 < n { ",\n" } else { "\n" };
    }
    text += "  ]\n}\n";
    text += &good(n);
    text += "\n";
    assert!(text.len() > WHOLE_DOCUMENT);
    let out = read_bytes("big.json", text.into_bytes(), &OPTS);
    assert_eq!(out.summary.records, n as u64 + 1);
    assert_eq!(out.summary.bad_records, 1, "{:?}", out.diagnostics);
    assert_eq!(out.events.len(), n);
    assert_eq!(
        out.diagnostics[0].location,
        format!("line {}, record {}", n / 2 + 3, n / 2 + 1)
    );
    let last = out.events.iter().find(|e| e.event_id == format!("id-{n}"));
    assert!(
        last.is_some_and(|e| e.origin.ends_with(&format!("line {}", n + 5))),
        "the line after the envelope is read as JSON lines, numbered on"
    );
}

#[test]
fn a_truncated_envelope_larger_than_the_limit_keeps_every_complete_record() {
    let n = past_the_limit();
    let records: Vec<String> = (0..n).map(good).collect();
    let mut text = format!("{{\"Records\":[{}", records.join(","));
    // Cut inside the next record.
    text += ",{\"eventName\":\"CreateSn";
    let out = read_bytes("cut.json", text.into_bytes(), &OPTS);
    assert_eq!(out.events.len(), n);
    assert_eq!(out.summary.bad_records, 1);
    assert!(out.diagnostics[0].message.contains("truncated"));
    assert_eq!(
        out.diagnostics[0].location,
        format!("line 1, record {}", n + 1)
    );
}

#[test]
fn json_lines_with_a_broken_first_line_stream_past_the_limit() {
    let n = past_the_limit();
    let mut text = String::from("{\"eventName\": \"CreateSnapshot\", \"eventTime\": \n");
    for i in 0..n {
        text += &good(i);
        text += "\n";
    }
    let out = read_bytes("broken-top.jsonl", text.into_bytes(), &OPTS);
    assert_eq!(out.events.len(), n);
    assert_eq!(out.summary.bad_records, 1);
    assert_eq!(out.diagnostics[0].location, "line 1");
}

#[test]
fn a_small_gzip_that_inflates_past_the_limit_is_streamed_whole() {
    let dir = tempfile::tempdir().unwrap();
    let n = past_the_limit();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    for i in 0..n {
        writeln!(enc, "{}", good(i)).unwrap();
    }
    let gz = enc.finish().unwrap();
    assert!(
        gz.len() as u64 <= snaptrail_ingest::source::WHOLE_FILE_LIMIT,
        "read whole at first"
    );
    std::fs::write(dir.path().join("bomb.jsonl.gz"), gz).unwrap();
    let batch = ingest(&[dir.path().to_path_buf()], EVERYTHING);
    assert_eq!(batch.summary.records, n as u64);
    assert_eq!(batch.summary.bad_records, 0);
    assert_eq!(batch.events.len(), n);
    assert_accounted(&batch);
}

#[test]
fn diagnostics_are_capped_per_file_and_the_rest_counted() {
    let bad = KEPT_DIAGNOSTICS + 50;
    let mut text = String::new();
    for i in 0..bad {
        text += &good(i);
        text += "\n{\"eventName\": broken\n";
    }
    let out = read_bytes("many.jsonl", text.into_bytes(), &OPTS);
    assert_eq!(out.summary.bad_records, bad as u64);
    assert_eq!(out.diagnostics.len(), KEPT_DIAGNOSTICS);
    assert_eq!(out.summary.unkept_diagnostics, 50);
    assert_eq!(out.events.len(), bad);
}

#[test]
fn skipped_kinds_named_by_log_fields_are_capped_and_still_counted() {
    // EventBridge events that are not audit records are skipped by their detail-type, which
    // the log writer chooses: a thousand distinct ones must not make a thousand counters.
    let kinds = 1000;
    let text: String = (0..kinds)
        .map(|i| {
            format!("{{\"detail-type\":\"Kind {i}\",\"source\":\"x\",\"detail\":{{\"a\":1}}}}\n")
        })
        .collect();
    let out = read_bytes("kinds.jsonl", text.into_bytes(), &OPTS);
    let s = &out.summary;
    assert_eq!(
        s.skipped_total(),
        kinds as u64,
        "every skipped record is counted"
    );
    assert_eq!(s.skipped.len(), snaptrail_ingest::report::SKIP_KINDS + 1);
    assert_eq!(
        s.skipped.get(snaptrail_ingest::report::OTHER_KINDS),
        Some(&(kinds as u64 - snaptrail_ingest::report::SKIP_KINDS as u64))
    );
}

/// Decode `bytes` through buffers of `chunk` bytes holding at most `whole` bytes at once.
fn streamed(bytes: &[u8], chunk: usize, whole: usize) -> snaptrail_ingest::decode::FileOutput {
    let mut d = snaptrail_ingest::decode::Decoder::new(&OPTS, "f").with_buffers(chunk, whole);
    d.read_chunked(bytes);
    d.finish()
}

/// Decode `bytes` held whole, as a small file is.
fn held_whole(bytes: &[u8]) -> snaptrail_ingest::decode::FileOutput {
    let mut d = snaptrail_ingest::decode::Decoder::new(&OPTS, "f");
    d.read_slice(bytes);
    d.finish()
}

const BROKEN: &str = "{\"eventName\": \"CreateSnapshot\", \"eventTime\": }";

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

    /// Streaming an array or envelope (or JSON lines under a broken first line) through tiny
    /// buffers gives what reading it whole gives: the same events with the same line and
    /// record numbers, the same bad records and messages, the same counts. Cuts fall anywhere
    /// after the array's opening, so truncation is streamed too.
    #[test]
    fn streaming_through_small_buffers_decodes_as_reading_whole(
        records in proptest::collection::vec((0usize..1000, proptest::bool::weighted(0.2)), 1..30),
        layout in 0u8..4,
        cut in proptest::option::of(0usize..4000),
        chunk in 1usize..200,
        whole in 32usize..400,
    ) {
        let texts: Vec<String> = records
            .iter()
            .map(|&(i, broken)| if broken { BROKEN.to_string() } else { good(i) })
            .collect();
        let (prefix, mut text) = match layout {
            0 => ("{\"Records\":[", format!("{{\"Records\":[{}]}}\n", texts.join(","))),
            1 => ("{\n  \"Records\": [\n", format!("{{\n  \"Records\": [\n    {}\n  ]\n}}\n", texts.join(",\n    "))),
            2 => ("[", format!("[\n{}\n]", texts.join(" ,\n"))),
            _ => ("", format!("{BROKEN}\n{}\n", texts.join("\n"))),
        };
        if let Some(cut) = cut {
            text.truncate(prefix.len() + cut % (text.len() - prefix.len() + 1));
        }
        let whole_out = held_whole(text.as_bytes());
        let mut whole = whole;
        if layout == 3 {
            // Read whole, broken JSON lines with no complete line after the first are one
            // broken document; streamed, they are lines. Only JSON lines are compared, with
            // room for their longest line (a longer one is skipped by design, tested above).
            proptest::prop_assume!(whole_out.summary.records > 1);
            whole = whole.max(text.split('\n').map(str::len).max().unwrap_or(0) + 1);
        }
        let out = streamed(text.as_bytes(), chunk, whole);
        proptest::prop_assert_eq!(comparable(&out.events), comparable(&whole_out.events));
        let origins = |o: &snaptrail_ingest::decode::FileOutput| o.events.iter().map(|e| e.origin.clone()).collect::<Vec<_>>();
        proptest::prop_assert_eq!(origins(&out), origins(&whole_out));
        proptest::prop_assert_eq!(&out.diagnostics, &whole_out.diagnostics);
        proptest::prop_assert_eq!(&out.summary, &whole_out.summary);
    }
}

#[test]
fn diagnostics_are_capped_across_files_and_the_rest_counted() {
    // More broken files than the run keeps messages for: every bad record is still counted.
    let dir = tempfile::tempdir().unwrap();
    let files = snaptrail_ingest::KEPT_DIAGNOSTICS_IN_ALL / KEPT_DIAGNOSTICS + 3;
    let broken: String = (0..KEPT_DIAGNOSTICS)
        .map(|i| format!("{}\n{{\"eventName\": broken\n", good(i)))
        .collect();
    for f in 0..files {
        std::fs::write(dir.path().join(format!("{f}.jsonl")), &broken).unwrap();
    }
    for hunt in [false, true] {
        let (summary, diagnostics) = if hunt {
            let runs = tempfile::tempdir().unwrap();
            let spool = snaptrail_ingest::spool::Spool::new(runs.path().join("spool"), 1000);
            let s = snaptrail_ingest::spool(&[dir.path().to_path_buf()], &OPTS, spool);
            (s.summary, s.diagnostics)
        } else {
            let b = ingest(&[dir.path().to_path_buf()], OPTS);
            (b.summary, b.diagnostics)
        };
        let bad = (files * KEPT_DIAGNOSTICS) as u64;
        assert_eq!(summary.bad_records, bad);
        assert_eq!(diagnostics.len(), snaptrail_ingest::KEPT_DIAGNOSTICS_IN_ALL);
        assert_eq!(
            summary.unkept_diagnostics,
            bad - snaptrail_ingest::KEPT_DIAGNOSTICS_IN_ALL as u64
        );
    }
}
