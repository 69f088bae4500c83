//! Byte-level splitting of JSON documents into records without parsing them: the elements of a
//! top-level array, or of the `Records` / `records` array of an envelope object. Splitting by
//! bracket depth means one malformed record does not take its neighbours down with it, and a
//! truncated file still yields every record that was complete.

use std::ops::Range;

pub struct Split {
    pub elements: Vec<Range<usize>>,
    /// For each element, the newlines before its first byte (its line is this plus one).
    pub newlines: Vec<usize>,
    /// False when the input ended before the array closed (truncated file); the last element,
    /// if any, is then the incomplete tail.
    pub complete: bool,
    /// Just past the array's closing `]` (or the end of the input).
    pub end: usize,
    /// Where the text of the element after the last top-level comma begins: with `complete`
    /// false, splitting can resume there once more input has come (see `split_elements`).
    pub resume: usize,
}

impl Split {
    /// Whether `element` is the unfinished tail of an array the input ended inside.
    pub fn unfinished(&self, element: &Range<usize>) -> bool {
        !self.complete && element.start >= self.resume
    }

    /// Whether the input ended inside an element (rather than between two, or after the last).
    pub fn ends_inside_element(&self) -> bool {
        self.elements.last().is_some_and(|e| self.unfinished(e))
    }
}

/// Skip ASCII whitespace (and a UTF-8 byte-order mark at the very start).
pub fn skip_ws(buf: &[u8], mut i: usize) -> usize {
    if i == 0 && buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
        i = 3;
    }
    while i < buf.len() && buf[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// If `buf[start..]` is an object whose first key is `Records` or `records` holding an array,
/// return the offset of that array's `[`.
pub fn envelope_array(buf: &[u8], start: usize) -> Option<usize> {
    let mut i = skip_ws(buf, start);
    if buf.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_ws(buf, i + 1);
    let rest = &buf[i..];
    let key_len = if rest.starts_with(b"\"Records\"") || rest.starts_with(b"\"records\"") {
        9
    } else {
        return None;
    };
    i = skip_ws(buf, i + key_len);
    if buf.get(i) != Some(&b':') {
        return None;
    }
    i = skip_ws(buf, i + 1);
    (buf.get(i) == Some(&b'[')).then_some(i)
}

/// Where the array starts if `buf` (from its first non-blank byte) is an array or a `Records`
/// envelope, and whether it is an envelope (closed by a `}` after the array).
pub fn array_start(buf: &[u8]) -> Option<(usize, bool)> {
    // Every CloudTrail line: a compact object whose first key is not `Records`. Answered from
    // its first three bytes (the general way below took fifty instructions a line).
    if let [b'{', b'"', first, ..] = buf
        && !matches!(first, b'R' | b'r')
    {
        return None;
    }
    let start = skip_ws(buf, 0);
    envelope_array(buf, start)
        .map(|open| (open, true))
        .or_else(|| (buf.get(start) == Some(&b'[')).then_some((start, false)))
}

/// Split the array whose `[` is at `open`. Only structural bytes outside strings are looked at
/// (see [`crate::structural`]), and commas only where the depth is zero: an element is the
/// text between two top-level separators.
pub fn split_array(buf: &[u8], open: usize) -> Split {
    split_elements(buf, open + 1)
}

/// Split array elements starting at `start`, a position just inside the array (after its `[`
/// or after a top-level comma), outside any string. A stream too large to hold splits a
/// buffer, keeps the unfinished element from `resume` on, and splits again from there.
pub fn split_elements(buf: &[u8], start: usize) -> Split {
    use crate::structural::Level;
    match Level::detect() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU has every feature the function is compiled for (`Level::detect`).
        Level::Avx512 => unsafe { split_elements_avx512(buf, start) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Level::Avx2 => unsafe { split_elements_avx2(buf, start) },
        level => split_elements_with(buf, start, level),
    }
}

/// The splitter compiled with the vector features, so the block scanner inlines into it and
/// bit counts are single instructions.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,pclmulqdq,popcnt,bmi1")]
unsafe fn split_elements_avx2(buf: &[u8], start: usize) -> Split {
    split_elements_with(buf, start, crate::structural::Level::Avx2)
}

/// As [`split_elements_avx2`], classifying with AVX-512BW.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512bw,avx2,pclmulqdq,popcnt,bmi1")]
unsafe fn split_elements_avx512(buf: &[u8], start: usize) -> Split {
    split_elements_with(buf, start, crate::structural::Level::Avx512)
}

#[inline(always)]
fn split_elements_with(buf: &[u8], start: usize, level: crate::structural::Level) -> Split {
    let mut elements = Vec::new();
    let mut newlines = Vec::new();
    let mut push = |elements: &mut Vec<Range<usize>>, from: usize, from_nl: usize, to: usize| {
        let start = skip_ws(buf, from);
        if start < to {
            elements.push(trim(buf, start, to));
            newlines.push(from_nl + memchr::memchr_iter(b'\n', &buf[from..start]).count());
        }
    };
    let mut depth = 0usize;
    // Where the current element's text may begin: just after `[` or the last top-level comma,
    // and the newlines before it.
    let mut from = start;
    let mut from_nl = memchr::memchr_iter(b'\n', &buf[..from]).count();
    let mut block_nl = from_nl;
    let mut blocks = crate::structural::Blocks::at_level(buf, start, level);
    loop {
        // Inside a record, a block with fewer closing brackets than the depth cannot end it:
        // those are counted, not visited bracket by bracket (most blocks, most of the time).
        let next = if depth > 0 {
            blocks.next_closing(&mut depth, &mut block_nl)
        } else {
            blocks.next()
        };
        let Some((at, s)) = next else {
            break;
        };
        let mut brackets = s.open | s.close;
        // Bits below `lo` in this block are handled.
        let mut lo = 0u32;
        loop {
            let next = if brackets == 0 {
                64
            } else {
                brackets.trailing_zeros()
            };
            if depth == 0 && lo < 64 {
                let below_next = if next == 64 {
                    u64::MAX
                } else {
                    (1u64 << next) - 1
                };
                let mut commas = s.comma & (u64::MAX << lo) & below_next;
                while commas != 0 {
                    let bit = commas.trailing_zeros();
                    commas &= commas - 1;
                    let i = at + bit as usize;
                    push(&mut elements, from, from_nl, i);
                    from = i + 1;
                    from_nl = block_nl + (s.newline & ((1u64 << bit) - 1)).count_ones() as usize;
                }
            }
            if next == 64 {
                break;
            }
            let i = at + next as usize;
            brackets &= brackets - 1;
            lo = next + 1;
            if s.open & (1u64 << next) != 0 {
                depth += 1;
            } else if depth > 0 {
                depth -= 1;
            } else if buf[i] == b']' {
                push(&mut elements, from, from_nl, i);
                return Split {
                    elements,
                    newlines,
                    complete: true,
                    end: i + 1,
                    resume: i + 1,
                };
            }
            // A stray `}` at depth zero is part of the element's (broken) text.
        }
        block_nl += s.newline.count_ones() as usize;
    }
    push(&mut elements, from, from_nl, buf.len());
    Split {
        elements,
        newlines,
        complete: false,
        end: buf.len(),
        resume: from,
    }
}

fn trim(buf: &[u8], start: usize, mut end: usize) -> Range<usize> {
    while end > start && buf[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(buf: &str) -> (Vec<&str>, bool) {
        let open = envelope_array(buf.as_bytes(), 0).unwrap_or_else(|| skip_ws(buf.as_bytes(), 0));
        let s = split_array(buf.as_bytes(), open);
        (
            s.elements.iter().map(|r| &buf[r.clone()]).collect(),
            s.complete,
        )
    }

    #[test]
    fn splits_envelopes_and_arrays() {
        let (e, ok) = texts(r#"{"Records":[{"a":"x,]}"},{"b":[1,2]} , 3]}"#);
        assert_eq!(e, vec![r#"{"a":"x,]}"}"#, r#"{"b":[1,2]}"#, "3"]);
        assert!(ok);
        let (e, ok) = texts("[ {\"a\":\"\\\"]\"} ]");
        assert_eq!(e, vec!["{\"a\":\"\\\"]\"}"]);
        assert!(ok);
        let (e, _) = texts("{\n  \"records\": []\n}");
        assert!(e.is_empty());
    }

    #[test]
    fn every_level_splits_long_records_alike() {
        use crate::structural::Level;
        // Records spanning several blocks, with brackets, commas, quotes and backslashes in
        // strings at every offset around a block edge.
        let records: Vec<serde_json::Value> = (0..130)
            .map(|pad| {
                let text = format!("{}\\\"]}},{{\\", "x".repeat(pad));
                serde_json::json!({"a": text, "b": [1, {"c": [pad, "]"]}], "d": "\\"})
            })
            .collect();
        let expected: Vec<String> = records.iter().map(|r| r.to_string()).collect();
        let envelope = serde_json::json!({ "Records": records });
        for buf in [
            serde_json::to_vec(&envelope).unwrap(),
            serde_json::to_vec_pretty(&envelope).unwrap(),
        ] {
            let open = envelope_array(&buf, 0).unwrap();
            let portable = split_elements_with(&buf, open + 1, Level::Portable);
            assert!(portable.complete);
            let texts: Vec<serde_json::Value> = portable
                .elements
                .iter()
                .map(|r| serde_json::from_slice(&buf[r.clone()]).unwrap())
                .collect();
            assert_eq!(texts, records);
            let lines = |at: usize| buf[..at].iter().filter(|&&b| b == b'\n').count();
            let starts: Vec<usize> = portable.elements.iter().map(|r| lines(r.start)).collect();
            assert_eq!(portable.newlines, starts);
            for level in Level::available() {
                let split = split_elements_with(&buf, open + 1, level);
                assert_eq!(split.elements, portable.elements, "{level:?}");
                assert_eq!(split.newlines, portable.newlines, "{level:?}");
                assert_eq!(split.end, portable.end, "{level:?}");
            }
        }
        let compact = serde_json::to_vec(&envelope).unwrap();
        let open = envelope_array(&compact, 0).unwrap();
        let split = split_elements_with(&compact, open + 1, Level::detect());
        let texts: Vec<&[u8]> = split.elements.iter().map(|r| &compact[r.clone()]).collect();
        assert_eq!(
            texts,
            expected.iter().map(|e| e.as_bytes()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn truncated_input_keeps_complete_records() {
        let (e, ok) = texts(r#"{"Records":[{"a":1},{"b":2},{"c":"#);
        assert_eq!(e, vec![r#"{"a":1}"#, r#"{"b":2}"#, r#"{"c":"#]);
        assert!(!ok);
    }

    #[test]
    fn arrays_and_envelopes_are_told_from_records() {
        assert_eq!(array_start(br#"{"eventVersion":"1.08"}"#), None);
        assert_eq!(array_start(br#"{"Resource":1}"#), None);
        assert_eq!(array_start(br#"{"Records":[]}"#), Some((11, true)));
        assert_eq!(array_start(br#"{"records":[{}]}"#), Some((11, true)));
        assert_eq!(
            array_start(b"\xEF\xBB\xBF { \"Records\" : [ ] }"),
            Some((18, true))
        );
        assert_eq!(array_start(b" [1]"), Some((1, false)));
        assert_eq!(array_start(br#"{"Records":{}}"#), None);
    }

    #[test]
    fn only_first_key_records_is_an_envelope() {
        assert!(envelope_array(br#"{"eventName":"x","Records":[]}"#, 0).is_none());
        assert_eq!(envelope_array(br#" { "Records" : [ ] }"#, 0), Some(15));
    }
}
