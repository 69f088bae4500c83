//! Envelope decoding: a stream of decompressed bytes to raw records, each handed to the right
//! normalizer. Shapes: JSON lines (each line any of the shapes below), a JSON array, CloudTrail
//! `{"Records":[…]}`, Azure `{"records":[…]}`, EventBridge (`detail`), LookupEvents
//! (`CloudTrailEvent` string), Pub/Sub (`message.data` base64), and single records.

use crate::normalize::{Normalized, aws, aws_record, azure, gcp};
use crate::prefilter;
use crate::report::{Diagnostic, Summary};
use crate::split::{Split, array_start, envelope_array, skip_ws, split_array};
use base64::Engine;
use serde_json::Value;
use snaptrail_model::Event;

mod stream;
pub use stream::WHOLE_DOCUMENT;

/// Bytes read from a stream at a time: few read calls, yet small enough that the kernel's copy
/// into the buffer is still in the shared cache when the line scanner and prefilter read it.
/// On the 10 GB bench (2026-12-07), two threads, alternated runs: 2 MB 1.25 s, 1 MB 1.27 s,
/// 512 KB 1.33 s, 256 KB and 128 KB 1.47 s, 4 MB no better than 2 MB; one thread 2.25 s,
/// 2.30 s and 2.44 s. 8 MB reads were 10-15% slower on one thread (an earlier session).
pub const CHUNK: usize = 2048 << 10;

#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Skip parsing records that cannot matter (see `prefilter`).
    pub prefilter: bool,
    /// Keep only events some detector or triage question reads.
    pub only_relevant: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            prefilter: true,
            only_relevant: true,
        }
    }
}

/// Everything read from one input.
#[derive(Debug, Default)]
pub struct FileOutput {
    pub events: Vec<Event>,
    pub summary: Summary,
    pub diagnostics: Vec<Diagnostic>,
}

/// Envelopes nest at most this deep (a JSON line holding an EventBridge event holding a record).
const MAX_NESTING: usize = 4;

/// Where a decoder hands its events when it has [`HANDOFF`] of them, so a large file does not
/// pile up in memory. The sink takes the events out and leaves the vector, whose capacity the
/// decoder reuses: a fresh vector grown for every handoff costs the kernel zeroing new pages.
pub type Sink<'a> = &'a (dyn Fn(&mut Vec<Event>) + Sync);

/// Events a decoder with a sink holds before handing them on.
const HANDOFF: usize = 4096;

/// Diagnostics kept per input. Past this they are only counted (the bad-record count stays
/// exact), so a file of a billion broken lines does not become a billion messages in memory;
/// the summary counts how many more there were.
pub const KEPT_DIAGNOSTICS: usize = 200;

pub struct Decoder<'a> {
    opts: &'a Options,
    name: &'a str,
    out: FileOutput,
    pub sink: Option<Sink<'a>>,
    /// Diagnostics past [`KEPT_DIAGNOSTICS`].
    unkept: u64,
    /// Bytes read at a time, and the most bytes of one document held whole.
    chunk: usize,
    whole: usize,
}

impl<'a> Decoder<'a> {
    pub fn new(opts: &'a Options, name: &'a str) -> Decoder<'a> {
        Decoder {
            opts,
            name,
            out: FileOutput::default(),
            sink: None,
            unkept: 0,
            chunk: CHUNK,
            whole: WHOLE_DOCUMENT,
        }
    }

    /// Everything read, with the count of diagnostics that were not kept.
    pub fn finish(mut self) -> FileOutput {
        self.out.summary.unkept_diagnostics += self.unkept;
        self.out
    }

    /// Keep a diagnostic, or count it past the cap.
    fn diagnose(&mut self, location: String, message: String, skipped: bool) {
        if self.out.diagnostics.len() < KEPT_DIAGNOSTICS {
            self.out.diagnostics.push(Diagnostic {
                file: self.name.to_string(),
                location,
                message,
                skipped,
            });
        } else {
            self.unkept += 1;
        }
    }

    fn bad(&mut self, location: String, message: impl Into<String>) {
        self.out.summary.bad_records += 1;
        self.diagnose(location, message.into(), false);
    }

    /// Read `chunk` bytes at a time and hold at most `whole` bytes of one document, instead of
    /// [`CHUNK`] and [`WHOLE_DOCUMENT`]: tests use tiny sizes so that every buffer boundary of
    /// the streaming paths is crossed by small inputs.
    pub fn with_buffers(mut self, chunk: usize, whole: usize) -> Self {
        self.chunk = chunk.max(1);
        self.whole = whole;
        self
    }

    /// Stream `reader` through a buffer, decoding each complete line as it arrives when the
    /// input is JSON lines; anything else is read whole up to a limit, then streamed (see
    /// `stream`). A read error keeps everything decoded before it.
    pub fn read_chunked<R: std::io::Read>(&mut self, reader: R) {
        if self.chunk != CHUNK {
            self.read_chunked_into(reader, &mut vec![0; self.chunk]);
            return;
        }
        // One buffer per thread for every file it streams, kept initialized: zeroing 8 MB per
        // file (or per refill) costs as much as the kernel's copy into it.
        thread_local! {
            static CHUNKS: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        let mut buf = CHUNKS.with(|c| std::mem::take(&mut *c.borrow_mut()));
        if buf.len() < CHUNK {
            buf.resize(CHUNK, 0);
        }
        self.read_chunked_into(reader, &mut buf);
        if buf.len() <= 4 * CHUNK {
            CHUNKS.with(|c| *c.borrow_mut() = buf);
        }
    }

    /// Decode a whole input already in memory: the same decisions as `read_stream`, without
    /// copying lines.
    pub fn read_slice(&mut self, buf: &[u8]) {
        self.out.summary.bytes += buf.len() as u64;
        // An envelope or array that is the whole input (an S3 object): split once, with no
        // pass over its bytes to find where its first line ends (a hundredth of an S3 hunt).
        if let Some((open, envelope)) = array_start(buf) {
            let split = split_array(buf, open);
            if split.complete && only_blanks_after(buf, split.end, envelope) {
                self.split_document(buf, 1, split);
                return;
            }
        }
        let mut pos = 0;
        let mut line_no = 0;
        let first = loop {
            if pos >= buf.len() {
                return;
            }
            let end = memchr::memchr(b'\n', &buf[pos..]).map_or(buf.len(), |i| pos + i + 1);
            line_no += 1;
            let line = &buf[pos..end];
            if line.iter().any(|b| !b.is_ascii_whitespace()) {
                break line;
            }
            pos = end;
        };
        if !matches!(first[skip_ws(first, 0)..].first(), Some(b'{' | b'[')) {
            self.not_json(line_no);
            return;
        }
        let rest = &buf[pos..];
        // One line (a CloudTrail object in S3): a document either way, so do not split it once
        // to ask whether it is complete and again to decode it.
        if buf[pos + first.len()..].iter().all(u8::is_ascii_whitespace) {
            self.document(rest, line_no);
            return;
        }
        if complete_json(first) || self.is_json_lines_with_bad_first_line(rest) {
            self.lines_of(rest, line_no);
        } else {
            self.document(rest, line_no);
        }
    }

    fn not_json(&mut self, line_no: usize) {
        self.skip("file:not-json");
        self.diagnose(
            format!("line {line_no}"),
            "not JSON, file skipped".into(),
            true,
        );
    }

    /// A file that is not one valid document but whose later lines are complete JSON objects is
    /// JSON lines with a broken line at the top, not one broken document.
    fn is_json_lines_with_bad_first_line(&self, buf: &[u8]) -> bool {
        if array_start(buf).is_some() {
            return false;
        }
        if serde_json::from_slice::<serde::de::IgnoredAny>(buf).is_ok() {
            return false;
        }
        buf.split(|&b| b == b'\n').skip(1).any(|line| {
            let t = skip_ws(line, 0);
            line.get(t) == Some(&b'{')
                && serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok()
        })
    }

    /// Decode each non-blank line of `buf` as a document; returns how many lines there were.
    fn lines_of(&mut self, buf: &[u8], first_line: usize) -> usize {
        let mut start = 0;
        let mut lines = 0;
        for nl in memchr::memchr_iter(b'\n', buf).chain(std::iter::once(buf.len())) {
            if start > buf.len() || (nl == buf.len() && start == buf.len()) {
                break;
            }
            let line = &buf[start..nl];
            if line.iter().any(|b| !b.is_ascii_whitespace()) {
                self.document(line, first_line + lines);
            }
            lines += 1;
            start = nl + 1;
        }
        lines
    }

    /// The stream broke after `at` decompressed bytes, all of which were decoded.
    pub fn read_failed(&mut self, at: u64, e: &std::io::Error) {
        self.read_error(format!("decompressed byte {at}"), e);
    }

    fn read_error(&mut self, location: String, e: &std::io::Error) {
        self.out.summary.read_errors += 1;
        self.out.diagnostics.push(Diagnostic {
            file: self.name.to_string(),
            location,
            message: format!("read error, rest of file lost: {e}"),
            skipped: false,
        });
    }

    /// One document (a whole file, or one line) whose first byte is at line `first_line`.
    fn document(&mut self, buf: &[u8], first_line: usize) {
        let Some((open, _)) = array_start(buf) else {
            self.out.summary.records += 1;
            if is_digest(buf) {
                self.skip("aws:cloudtrail-digest");
                return;
            }
            self.record(buf, Origin::Line(first_line));
            return;
        };
        self.split_document(buf, first_line, split_array(buf, open));
    }

    /// The elements of an array `buf` holds, as `split`, starting on line `first_line`.
    fn split_document(&mut self, buf: &[u8], first_line: usize, split: Split) {
        for (i, (range, newlines)) in split.elements.iter().zip(&split.newlines).enumerate() {
            let unfinished = split.unfinished(range);
            self.element(
                &buf[range.clone()],
                unfinished,
                first_line + newlines,
                i + 1,
            );
        }
        if !split.complete && !split.ends_inside_element() {
            let end = first_line + memchr::memchr_iter(b'\n', buf).count();
            self.truncated_between(split.elements.len(), first_line, end);
        }
    }

    /// Element `index` (from 1) of an array, starting on `line`: a record, or the unfinished
    /// tail of an input that ended inside it.
    fn element(&mut self, raw: &[u8], unfinished: bool, line: usize, index: usize) {
        self.out.summary.records += 1;
        let origin = Origin::Element { line, index };
        if unfinished {
            self.bad(
                origin.to_string(),
                "truncated: the input ends inside this record",
            );
        } else {
            self.record(raw, origin);
        }
    }

    /// The input ended between two elements of an array (or before the first), before it
    /// closed: every record before was read, and the cut is still reported.
    fn truncated_between(&mut self, records: usize, first_line: usize, end_line: usize) {
        if records == 0 {
            self.bad(
                format!("line {first_line}"),
                "truncated: the input ends before any record",
            );
        } else {
            self.bad(
                format!("line {end_line}"),
                format!(
                    "truncated: the input ends after record {records}, before the array closes"
                ),
            );
        }
    }

    fn skip(&mut self, kind: &str) {
        self.out.summary.skip(kind, 1);
    }

    /// One raw record: prefilter, parse, dispatch.
    fn record(&mut self, raw: &[u8], origin: Origin) {
        if self.opts.prefilter {
            if !prefilter::may_be_relevant(raw) {
                self.out.summary.prefiltered += 1;
                return;
            }
            // A plain CloudTrail record skips the JSON tree (the prefilter's equivalence tests
            // cover this path too: it runs only with the prefilter on). Its event's origin is
            // written once, here, and moved into the event.
            if let Some(result) = aws_record::normalize(raw, origin.after(self.name)) {
                self.emit(result, origin);
                return;
            }
        }
        match serde_json::from_slice::<Value>(raw) {
            Ok(v) => self.value(&v, &origin.to_string(), 0),
            Err(e) => {
                let column = if e.line() > 1 {
                    format!(" (line {} of the record)", e.line())
                } else {
                    String::new()
                };
                self.bad(
                    origin.to_string(),
                    format!("malformed JSON at column {}{column}: {e}", e.column()),
                )
            }
        }
    }

    fn value(&mut self, v: &Value, origin: &str, depth: usize) {
        if depth > MAX_NESTING {
            self.bad(origin.to_string(), "envelopes nested too deep");
            return;
        }
        let obj = match v {
            Value::Object(o) => o,
            Value::Array(items) => {
                self.out.summary.records += items.len().saturating_sub(1) as u64;
                for (i, item) in items.iter().enumerate() {
                    self.value(item, &format!("{origin}, item {}", i + 1), depth + 1);
                }
                return;
            }
            other => {
                self.bad(
                    origin.to_string(),
                    format!(
                        "a record must be a JSON object, found {}",
                        crate::normalize::json::kind(other)
                    ),
                );
                return;
            }
        };
        for key in ["Records", "records"] {
            if let Some(Value::Array(items)) = obj.get(key) {
                self.out.summary.records += items.len().saturating_sub(1) as u64;
                for (i, item) in items.iter().enumerate() {
                    self.value(item, &format!("{origin}, record {}", i + 1), depth + 1);
                }
                return;
            }
        }
        if let Some(inner) = obj.get("CloudTrailEvent") {
            match inner.as_str().map(serde_json::from_str::<Value>) {
                Some(Ok(record)) => self.value(&record, origin, depth + 1),
                Some(Err(e)) => self.bad(
                    origin.to_string(),
                    format!("CloudTrailEvent is not JSON: {e}"),
                ),
                None => self.bad(origin.to_string(), "CloudTrailEvent is not a string"),
            }
            return;
        }
        if let (Some(kind), Some(detail)) = (obj.get("detail-type"), obj.get("detail")) {
            if aws::looks_like(detail) {
                self.value(detail, origin, depth + 1);
            } else {
                let kind = kind
                    .as_str()
                    .unwrap_or("unknown")
                    .to_ascii_lowercase()
                    .replace(' ', "-");
                self.skip(&format!("eventbridge:{kind}"));
            }
            return;
        }
        if let Some(data) = obj
            .get("message")
            .and_then(|m| m.get("data"))
            .and_then(Value::as_str)
        {
            match base64::engine::general_purpose::STANDARD.decode(data.trim()) {
                Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
                    Ok(inner) => self.value(&inner, origin, depth + 1),
                    Err(e) => self.bad(
                        origin.to_string(),
                        format!("Pub/Sub message.data is not JSON: {e}"),
                    ),
                },
                Err(e) => self.bad(
                    origin.to_string(),
                    format!("Pub/Sub message.data is not base64: {e}"),
                ),
            }
            return;
        }
        if obj.contains_key("digestS3Object") || obj.contains_key("digestPublicKeyFingerprint") {
            self.skip("aws:cloudtrail-digest");
            return;
        }
        let result = if aws::looks_like(v) {
            aws::normalize(v, &format!("{}:{origin}", self.name))
        } else if gcp::looks_like(v) {
            gcp::normalize(v, &format!("{}:{origin}", self.name))
        } else if azure::looks_like(v) {
            azure::normalize(v, &format!("{}:{origin}", self.name))
        } else {
            Ok(Normalized::Skip(unknown_kind(obj)))
        };
        self.emit(result, origin);
    }

    /// Keep a normalized event (or count the skip, or report the error at `origin`).
    fn emit(&mut self, result: Result<Normalized, String>, origin: impl std::fmt::Display) {
        match result {
            Ok(Normalized::Event(ev)) => {
                if self.opts.only_relevant && !ev.is_relevant() {
                    self.out.summary.irrelevant += 1;
                } else {
                    self.out.events.push(*ev);
                    if let Some(sink) = self.sink.filter(|_| self.out.events.len() >= HANDOFF) {
                        sink(&mut self.out.events);
                    }
                }
            }
            Ok(Normalized::Skip(kind)) => self.skip(&kind),
            Err(message) => self.bad(origin.to_string(), message),
        }
    }
}

/// Where a record is in its file, written out only when something needs the words: an event's
/// origin, or a diagnostic.
#[derive(Clone, Copy)]
enum Origin {
    /// A document on its own: one line of JSON lines, or a whole file.
    Line(usize),
    /// Element `index` (from 1) of an array that starts on `line`.
    Element { line: usize, index: usize },
}

impl Origin {
    /// `line N` (or `line N, record M`) appended to `out`, by hand: `format!` took a thousand
    /// instructions, once per relevant record.
    fn write_to(&self, out: &mut String) {
        let mut digits = itoa::Buffer::new();
        out.push_str("line ");
        match *self {
            Origin::Line(line) => out.push_str(digits.format(line)),
            Origin::Element { line, index } => {
                out.push_str(digits.format(line));
                out.push_str(", record ");
                out.push_str(digits.format(index));
            }
        }
    }

    /// `file:line N`, an event's origin.
    fn after(&self, file: &str) -> String {
        let mut out = String::with_capacity(file.len() + 32);
        out.push_str(file);
        out.push(':');
        self.write_to(&mut out);
        out
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut place = String::new();
        self.write_to(&mut place);
        f.write_str(&place)
    }
}

/// A CloudTrail digest file: its first keys are the account and the digest's time range, so
/// looking at the head is enough (and cheap enough to do for every record).
fn is_digest(record: &[u8]) -> bool {
    // Audit records lead with their version; a digest leads with the account.
    if record.starts_with(b"{\"eventVersion\"") {
        return false;
    }
    static DIGEST: std::sync::OnceLock<memchr::memmem::Finder<'static>> =
        std::sync::OnceLock::new();
    let head = &record[..record.len().min(256)];
    DIGEST
        .get_or_init(|| memchr::memmem::Finder::new(b"\"digestStartTime\""))
        .find(head)
        .is_some()
}

/// Is `line` a complete JSON value by itself? For a `{"Records":[…]}` envelope (a CloudTrail
/// object is one long line) the byte splitter answers without parsing the whole thing; a full
/// parse here would read every object twice.
fn complete_json(line: &[u8]) -> bool {
    let start = skip_ws(line, 0);
    if let Some(open) = envelope_array(line, start) {
        let split = split_array(line, open);
        // After the array's `]`, only the object's closing `}` may follow.
        return split.complete
            && line[split.end..]
                .iter()
                .filter(|b| !b.is_ascii_whitespace())
                .eq([&b'}']);
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok()
}

/// Name the kind of a record that is not an audit record, for the skip counts.
fn unknown_kind(obj: &serde_json::Map<String, Value>) -> String {
    if obj.contains_key("configRuleArn") || obj.contains_key("invokingEvent") {
        "aws:config-rule".into()
    } else if obj.contains_key("finding") {
        "gcp:security-command-center".into()
    } else if obj.contains_key("truth") && obj.contains_key("background_records") {
        // `snaptrail simulate` writes its ground truth beside the logs it made.
        "snaptrail:ground-truth".into()
    } else if obj.contains_key("configurationItem") {
        "aws:config-item".into()
    } else {
        "unknown".into()
    }
}

/// Whether nothing but blanks follows an array that closed at `end`, and, around an envelope's
/// array, the envelope's closing `}`.
fn only_blanks_after(buf: &[u8], end: usize, envelope: bool) -> bool {
    let mut at = skip_ws(buf, end);
    if envelope {
        if buf.get(at) != Some(&b'}') {
            return false;
        }
        at = skip_ws(buf, at + 1);
    }
    at == buf.len()
}

#[cfg(test)]
mod tests {
    use super::Origin;

    #[test]
    fn an_origin_names_the_line_and_the_record() {
        let file = "logs/a:b é.jsonl";
        for (origin, place) in [
            (Origin::Line(0), "line 0"),
            (Origin::Line(7), "line 7"),
            (Origin::Line(usize::MAX), "line 18446744073709551615"),
            (Origin::Element { line: 1, index: 1 }, "line 1, record 1"),
            (
                Origin::Element {
                    line: 123_456,
                    index: 9_876_543,
                },
                "line 123456, record 9876543",
            ),
        ] {
            assert_eq!(origin.to_string(), place);
            assert_eq!(origin.after(file), format!("{file}:{place}"));
        }
    }
}
