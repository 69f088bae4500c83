//! Byte-level splitting of JSON documents into records without parsing them: the elements of a
//! top-level array, or of the `Records` / `records` array of an envelope object. Splitting by
//! bracket depth means one malformed record does not take its neighbours down with it, and a
//! truncated file still yields every record that was complete.

use std::ops::Range;

pub struct Split {
    pub elements: Vec<Range<usize>>,
    /// False when the input ended before the array closed (truncated file); the last element,
    /// if any, is then the incomplete tail.
    pub complete: bool,
    /// Just past the array's closing `]` (or the end of the input).
    pub end: usize,
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

/// Split the array whose `[` is at `open`.
pub fn split_array(buf: &[u8], open: usize) -> Split {
    let mut elements = Vec::new();
    let mut depth = 0usize;
    let mut elem_start: Option<usize> = None;
    let mut i = open + 1;
    while i < buf.len() {
        match buf[i] {
            b'"' => {
                elem_start.get_or_insert(i);
                // Jump through the string: most of a record's bytes are string bodies, and
                // memchr skips them many bytes at a time.
                i += 1;
                loop {
                    match memchr::memchr2(b'"', b'\\', &buf[i..]) {
                        Some(k) if buf[i + k] == b'\\' => i += k + 2,
                        Some(k) => {
                            i += k;
                            break;
                        }
                        None => {
                            i = buf.len();
                            break;
                        }
                    }
                }
            }
            b'{' | b'[' => {
                depth += 1;
                elem_start.get_or_insert(i);
            }
            b'}' | b']' if depth > 0 => depth -= 1,
            b']' => {
                if let Some(s) = elem_start.take() {
                    elements.push(trim(buf, s, i));
                }
                return Split {
                    elements,
                    complete: true,
                    end: i + 1,
                };
            }
            b',' if depth == 0 => {
                if let Some(s) = elem_start.take() {
                    elements.push(trim(buf, s, i));
                }
            }
            c if !c.is_ascii_whitespace() => {
                elem_start.get_or_insert(i);
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(s) = elem_start {
        elements.push(trim(buf, s, buf.len().min(i)));
    }
    Split {
        elements,
        complete: false,
        end: buf.len(),
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
    fn truncated_input_keeps_complete_records() {
        let (e, ok) = texts(r#"{"Records":[{"a":1},{"b":2},{"c":"#);
        assert_eq!(e, vec![r#"{"a":1}"#, r#"{"b":2}"#, r#"{"c":"#]);
        assert!(!ok);
    }

    #[test]
    fn only_first_key_records_is_an_envelope() {
        assert!(envelope_array(br#"{"eventName":"x","Records":[]}"#, 0).is_none());
        assert_eq!(envelope_array(br#" { "Records" : [ ] }"#, 0), Some(15));
    }
}
