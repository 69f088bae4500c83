//! Decoding a stream through a bounded buffer. JSON lines are decoded as each line arrives. Any
//! other input (a pretty-printed document, an envelope spanning lines) is read whole, up to
//! [`WHOLE_DOCUMENT`] bytes; past that, an array or `Records` envelope streams element by
//! element, and anything else is read as JSON lines from there on. A line longer than that
//! which is not an array is skipped as a bad record. So memory stays bounded whatever the
//! input: a 5 MB gzip of repeated lines used to become a 3.6 GB buffer.

use super::{Decoder, complete_json};
use crate::split::{array_start, skip_ws, split_elements};
use std::io::Read;

/// The most bytes of one document (or one line) held in memory. The only thing larger that is
/// still held whole is a single array element (one record) larger than this.
pub const WHOLE_DOCUMENT: usize = 32 << 20;

/// A read buffer over a stream: `buf[..filled]` is read and not yet decoded.
struct Window<'b, R> {
    reader: R,
    buf: &'b mut Vec<u8>,
    filled: usize,
    eof: bool,
    failed: Option<std::io::Error>,
    /// Bytes dropped from the front so far: decoded, or skipped.
    consumed: u64,
}

impl<R: Read> Window<'_, R> {
    /// Read until the buffer is full or the stream ends.
    fn fill(&mut self) {
        while !self.ended() && self.filled < self.buf.len() {
            match self.reader.read(&mut self.buf[self.filled..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => self.failed = Some(e),
            }
        }
    }

    fn ended(&self) -> bool {
        self.eof || self.failed.is_some()
    }

    fn data(&self) -> &[u8] {
        &self.buf[..self.filled]
    }

    fn full(&self) -> bool {
        self.filled == self.buf.len()
    }

    fn grow(&mut self) {
        let len = self.buf.len();
        self.buf.resize(2 * len, 0);
    }

    /// Drop the first `n` bytes.
    fn drop_front(&mut self, n: usize) {
        self.buf.copy_within(n..self.filled, 0);
        self.filled -= n;
        self.consumed += n as u64;
    }

    /// Drop the first `n` bytes; returns the newlines among them, for line numbers.
    fn drop_lines(&mut self, n: usize) -> usize {
        let newlines = memchr::memchr_iter(b'\n', &self.buf[..n]).count();
        self.drop_front(n);
        newlines
    }
}

impl Decoder<'_> {
    /// `buf` is all initialized and at least one byte long.
    pub(super) fn read_chunked_into<R: Read>(&mut self, reader: R, buf: &mut Vec<u8>) {
        let mut w = Window {
            reader,
            buf,
            filled: 0,
            eof: false,
            failed: None,
            consumed: 0,
        };
        w.fill();
        let first_line_whole = memchr::memchr(b'\n', w.data()).is_some_and(|e| {
            let first = &w.data()[..e];
            skip_ws(first, 0) < first.len() && complete_json(first)
        });
        if !first_line_whole {
            while !w.ended() && w.buf.len() < self.whole {
                w.grow();
                w.fill();
            }
            if w.ended() {
                // All of it is in memory: decide and decode as for a file read whole.
                self.read_slice(&w.buf[..w.filled]);
                if let Some(e) = w.failed {
                    self.read_failed(w.filled as u64, &e);
                }
                return;
            }
        }
        let mut line = 1;
        if !first_line_whole && let Some((open, envelope)) = array_start(w.data()) {
            line = self.stream_array(&mut w, open, envelope, line);
        }
        self.stream_lines(&mut w, line);
        self.out.summary.bytes += w.consumed;
        if let Some(e) = &w.failed {
            self.read_failed(w.consumed, e);
        }
    }

    /// Decode JSON lines from the window, the first of them numbered `line`, to the end.
    fn stream_lines<R: Read>(&mut self, w: &mut Window<'_, R>, mut line: usize) {
        loop {
            // Decode every complete line in the buffer; keep the unfinished tail.
            let cut = if w.ended() {
                w.filled
            } else {
                memchr::memrchr(b'\n', w.data()).map_or(0, |i| i + 1)
            };
            if cut > 0 {
                line += self.lines_of(&w.buf[..cut], line);
                w.drop_front(cut);
            } else if w.full() && w.buf.len() < self.whole {
                // One line longer than the buffer: grow until it ends.
                w.grow();
            } else if w.full() {
                // Longer than anything held whole: an array streams, anything else is skipped.
                match array_start(w.data()) {
                    Some((open, envelope)) => line = self.stream_array(w, open, envelope, line),
                    None => {
                        self.skip_line(w, line);
                        line += 1;
                    }
                }
                continue;
            }
            if w.ended() {
                return;
            }
            w.fill();
        }
    }

    /// Count one over-long line as bad and drop it, up to and including its newline.
    fn skip_line<R: Read>(&mut self, w: &mut Window<'_, R>, line: usize) {
        self.out.summary.records += 1;
        self.bad(
            format!("line {line}"),
            format!(
                "a line longer than {} that is not an array of records: skipped",
                if self.whole >= 1 << 20 {
                    format!("{} MB", self.whole >> 20)
                } else {
                    format!("{} bytes", self.whole)
                }
            ),
        );
        loop {
            if let Some(nl) = memchr::memchr(b'\n', w.data()) {
                w.drop_front(nl + 1);
                return;
            }
            w.drop_front(w.filled);
            if w.ended() {
                return;
            }
            w.fill();
        }
    }

    /// Decode the elements of the array whose `[` is at `open` in the window, as they arrive;
    /// the window's first byte is on line `line`. Returns the line the window starts on after
    /// the array (and the envelope's closing `}`) has been dropped.
    fn stream_array<R: Read>(
        &mut self,
        w: &mut Window<'_, R>,
        open: usize,
        envelope: bool,
        mut line: usize,
    ) -> usize {
        let first_line = line;
        let mut start = open + 1;
        let mut records = 0;
        loop {
            let split = split_elements(w.data(), start);
            for (range, newlines) in split.elements.iter().zip(&split.newlines) {
                let unfinished = split.unfinished(range);
                if unfinished && !w.ended() {
                    // Its rest is still to come: decoded after the next read.
                    break;
                }
                records += 1;
                self.element(&w.buf[range.clone()], unfinished, line + newlines, records);
            }
            if split.complete {
                line += w.drop_lines(split.end);
                return self.close_envelope(w, envelope, line);
            }
            if w.ended() {
                line += w.drop_lines(w.filled);
                if !split.ends_inside_element() {
                    self.truncated_between(records, first_line, line);
                }
                return line;
            }
            // Keep the unfinished element and read on; an element alone filling the buffer
            // (a single record over the limit) is the one thing allowed to grow it further.
            line += w.drop_lines(split.resume);
            if w.full() {
                w.grow();
            }
            w.fill();
            start = 0;
        }
    }

    /// After an envelope's array: drop blanks and the object's closing `}` when they follow.
    fn close_envelope<R: Read>(
        &mut self,
        w: &mut Window<'_, R>,
        envelope: bool,
        mut line: usize,
    ) -> usize {
        if !envelope {
            return line;
        }
        w.fill();
        let after = w
            .data()
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(w.filled);
        if w.data().get(after) == Some(&b'}') {
            line += w.drop_lines(after + 1);
        }
        line
    }
}
