//! Where a JSON text's brackets and commas are, outside strings, 64 bytes at a time (the first
//! stage of simdjson, without its parser). Each block is classified into bitmasks with AVX2 when
//! the CPU has it (a portable loop otherwise); escapes and string state are then pure bit
//! arithmetic carried from block to block. Splitting a CloudTrail envelope into records visits
//! only the few structural bytes instead of every byte and every string.

/// Bitmasks of one 64-byte block: bit `i` is byte `i`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Classes {
    quote: u64,
    backslash: u64,
    open: u64,
    close: u64,
    comma: u64,
    newline: u64,
}

fn classify_portable(block: &[u8; 64]) -> Classes {
    let mut c = Classes::default();
    for (i, b) in block.iter().enumerate() {
        let bit = 1u64 << i;
        match b {
            b'"' => c.quote |= bit,
            b'\\' => c.backslash |= bit,
            b'{' | b'[' => c.open |= bit,
            b'}' | b']' => c.close |= bit,
            b',' => c.comma |= bit,
            b'\n' => c.newline |= bit,
            _ => {}
        }
    }
    c
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn classify_avx2(block: &[u8; 64]) -> Classes {
    use std::arch::x86_64::*;
    // SAFETY: `block` is 64 readable bytes; unaligned loads are allowed for both halves.
    let (lo, hi) = unsafe {
        (
            _mm256_loadu_si256(block.as_ptr() as *const __m256i),
            _mm256_loadu_si256(block.as_ptr().add(32) as *const __m256i),
        )
    };
    let mask = |byte: u8| -> u64 {
        let needle = _mm256_set1_epi8(byte as i8);
        let l = _mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, needle)) as u32 as u64;
        let h = _mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, needle)) as u32 as u64;
        l | (h << 32)
    };
    // `{`/`[` and `}`/`]` differ only in bit 5: one compare each after setting it.
    let (lo20, hi20) = (
        _mm256_or_si256(lo, _mm256_set1_epi8(0x20)),
        _mm256_or_si256(hi, _mm256_set1_epi8(0x20)),
    );
    let folded = |byte: u8| -> u64 {
        let needle = _mm256_set1_epi8(byte as i8);
        let l = _mm256_movemask_epi8(_mm256_cmpeq_epi8(lo20, needle)) as u32 as u64;
        let h = _mm256_movemask_epi8(_mm256_cmpeq_epi8(hi20, needle)) as u32 as u64;
        l | (h << 32)
    };
    Classes {
        quote: mask(b'"'),
        backslash: mask(b'\\'),
        open: folded(b'{'),
        close: folded(b'}'),
        comma: mask(b','),
        newline: mask(b'\n'),
    }
}

#[cfg(test)]
fn classify(block: &[u8; 64]) -> Classes {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { classify_avx2(block) };
    }
    classify_portable(block)
}

/// Where every `"` of `text` is, in order, into `out` (cleared first). `None`, with `out`
/// unusable, when `text` holds a backslash or a control byte other than a tab, newline or
/// carriage return; else whether it holds one of those three. Without a backslash every quote
/// opens or closes a string: the CloudTrail record reader walks from quote to quote instead
/// of scanning each string (and checks strings for the three only when there are any).
pub fn plain_quotes(text: &[u8], out: &mut Vec<u32>) -> Option<bool> {
    out.clear();
    // Positions are kept in 32 bits.
    u32::try_from(text.len()).ok()?;
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { plain_quotes_avx2(text, out) };
    }
    plain_quotes_from(text, 0, false, out)
}

/// Whole 32-byte blocks with AVX2 (the block step inlines here), the rest byte by byte.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn plain_quotes_avx2(text: &[u8], out: &mut Vec<u32>) -> Option<bool> {
    let mut blanks = false;
    let mut at = 0;
    while let Some(block) = text.get(at..).and_then(|t| t.first_chunk::<32>()) {
        // SAFETY: this function only runs where AVX2 is available.
        let (quotes, backslashes, controls) = unsafe { quotes_avx2(block) };
        if backslashes != 0 {
            return None;
        }
        if controls != 0 {
            // Rare (pretty-printed records): told apart byte by byte.
            if !block
                .iter()
                .all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r'))
            {
                return None;
            }
            blanks = true;
        }
        push_bits(out, at, quotes as u64);
        at += 32;
    }
    plain_quotes_from(text, at, blanks, out)
}

/// The byte-by-byte way, from `at`.
fn plain_quotes_from(text: &[u8], at: usize, mut blanks: bool, out: &mut Vec<u32>) -> Option<bool> {
    for (i, &b) in text.iter().enumerate().skip(at) {
        match b {
            b'"' => out.push(i as u32),
            b'\t' | b'\n' | b'\r' => blanks = true,
            b'\\' | 0..0x20 => return None,
            _ => {}
        }
    }
    Some(blanks)
}

/// Does `text[from..to]` hold a bracket or a backslash? (It also says yes for `|`, which
/// shares the test: `{|}` are `[\\]` with the 0x20 bit set. Callers treat yes as "unsure".)
pub fn brackets_or_backslash(text: &[u8], from: usize, to: usize) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { brackets_or_backslash_avx2(text, from, to) };
    }
    text[from..to].iter().any(|&b| is_bracket_or_backslash(b))
}

fn is_bracket_or_backslash(b: u8) -> bool {
    (b | 0x20).wrapping_sub(b'{') <= 2
}

/// Whole 32-byte blocks; the last part block is read as the 32 bytes ending at `to`, with the
/// bytes before `from` masked off.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn brackets_or_backslash_avx2(text: &[u8], from: usize, to: usize) -> bool {
    use std::arch::x86_64::*;
    let text = &text[..to];
    let mask = |block: &[u8; 32]| {
        // SAFETY: `block` is 32 readable bytes; unaligned loads are allowed.
        let v = unsafe { _mm256_loadu_si256(block.as_ptr() as *const __m256i) };
        // `(b | 0x20) - '{'` is 0, 1 or 2 exactly for `{ | } [ \\ ]`: unsigned `<= 2`.
        let d = _mm256_sub_epi8(
            _mm256_or_si256(v, _mm256_set1_epi8(0x20)),
            _mm256_set1_epi8(b'{' as i8),
        );
        let small = _mm256_cmpeq_epi8(_mm256_min_epu8(d, _mm256_set1_epi8(2)), d);
        _mm256_movemask_epi8(small) as u32
    };
    let mut at = from;
    while let Some(block) = text.get(at..).and_then(|t| t.first_chunk::<32>()) {
        if mask(block) != 0 {
            return true;
        }
        at += 32;
    }
    let left = text.len().saturating_sub(at);
    if left == 0 {
        return false;
    }
    match text
        .len()
        .checked_sub(32)
        .and_then(|start| text[start..].first_chunk::<32>())
    {
        Some(last) => mask(last) >> (32 - left) != 0,
        None => text[at..].iter().any(|&b| is_bracket_or_backslash(b)),
    }
}

#[inline(always)]
fn push_bits(out: &mut Vec<u32>, at: usize, mut bits: u64) {
    while bits != 0 {
        out.push((at + bits.trailing_zeros() as usize) as u32);
        bits &= bits - 1;
    }
}

/// Quotes, backslashes and control bytes of 32 bytes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn quotes_avx2(block: &[u8; 32]) -> (u32, u32, u32) {
    use std::arch::x86_64::*;
    // SAFETY: `block` is 32 readable bytes; unaligned loads are allowed.
    let v = unsafe { _mm256_loadu_si256(block.as_ptr() as *const __m256i) };
    let quote = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'"' as i8));
    let backslash = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'\\' as i8));
    // Unsigned `v <= 0x1f`: the minimum with 0x1f is `v` itself.
    let control = _mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x1f)), v);
    (
        _mm256_movemask_epi8(quote) as u32,
        _mm256_movemask_epi8(backslash) as u32,
        _mm256_movemask_epi8(control) as u32,
    )
}

/// Bit `i` set when byte `i` is an odd number of ones up to and including `i`.
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// The structural bytes of one block, outside strings.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Structural {
    /// `{` and `[`.
    pub open: u64,
    /// `}` and `]`.
    pub close: u64,
    pub comma: u64,
    /// Newlines (never inside a string: JSON escapes them), for line numbers.
    pub newline: u64,
}

/// The CPU has what the vector path needs: AVX2 to classify, carry-less multiply for string
/// state, and population count for the splitter's bookkeeping.
pub fn simd_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("pclmulqdq")
            && std::arch::is_x86_feature_detected!("popcnt")
            && std::arch::is_x86_feature_detected!("bmi1")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Carries string and escape state across blocks.
pub struct Scanner {
    /// The next block's first byte is escaped by a backslash ending this block.
    escape_carry: bool,
    /// All ones when this block ended inside a string.
    in_string: u64,
    /// [`simd_available`], asked once.
    simd: bool,
}

impl Default for Scanner {
    fn default() -> Self {
        Scanner {
            escape_carry: false,
            in_string: 0,
            simd: simd_available(),
        }
    }
}

impl Scanner {
    /// Classify the next 64 bytes of the text.
    #[inline(always)]
    pub fn next(&mut self, block: &[u8; 64]) -> Structural {
        #[cfg(target_arch = "x86_64")]
        if self.simd {
            // SAFETY: `simd` is set only when the CPU supports AVX2 and carry-less multiply.
            return unsafe { self.next_avx2(block) };
        }
        let c = classify_portable(block);
        let quotes = self.quotes(&c);
        self.resolve(c, prefix_xor(quotes))
    }

    /// The whole step compiled for AVX2, so classifying inlines into it; and itself inlined
    /// into callers compiled with these features (the splitter), where the constants stay in
    /// registers across blocks instead of a call and a returned struct per 64 bytes.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,pclmulqdq")]
    #[inline]
    unsafe fn next_avx2(&mut self, block: &[u8; 64]) -> Structural {
        // SAFETY: this function only runs where AVX2 and carry-less multiply are available.
        let c = unsafe { classify_avx2(block) };
        let quotes = self.quotes(&c);
        // One carry-less multiply by all ones is the prefix XOR.
        let parity = {
            use std::arch::x86_64::*;
            let product =
                _mm_clmulepi64_si128(_mm_set_epi64x(0, quotes as i64), _mm_set1_epi8(-1), 0);
            _mm_cvtsi128_si64(product) as u64
        };
        self.resolve(c, parity)
    }

    /// Quotes not escaped by a backslash.
    #[inline(always)]
    fn quotes(&mut self, c: &Classes) -> u64 {
        c.quote & !self.escaped(c.backslash)
    }

    /// String state from the quotes' prefix XOR (bits set from an opening quote up to, not
    /// including, its closing quote, before carrying in the previous block's state).
    #[inline(always)]
    fn resolve(&mut self, c: Classes, quote_parity: u64) -> Structural {
        let in_string = quote_parity ^ self.in_string;
        self.in_string = ((in_string as i64) >> 63) as u64;
        let outside = !in_string;
        Structural {
            open: c.open & outside,
            close: c.close & outside,
            comma: c.comma & outside,
            newline: c.newline,
        }
    }

    /// Bytes escaped by a backslash: each backslash that is not itself escaped escapes the next
    /// byte. Blocks without backslashes (nearly all) take the first branch.
    #[inline(always)]
    fn escaped(&mut self, backslash: u64) -> u64 {
        let mut escaped = u64::from(self.escape_carry);
        self.escape_carry = false;
        if backslash == 0 {
            return escaped;
        }
        let mut escapers = backslash & !escaped;
        while escapers != 0 {
            let i = escapers.trailing_zeros();
            if i == 63 {
                self.escape_carry = true;
                break;
            }
            escaped |= 1 << (i + 1);
            // The escaped byte escapes nothing, even when it is a backslash.
            escapers &= !(1u64 << i) & !(1u64 << (i + 1));
        }
        escaped
    }
}

/// The structural masks of `buf[from..]`, block by block, with each block's offset. The tail
/// shorter than a block is padded with spaces.
pub struct Blocks<'a> {
    buf: &'a [u8],
    at: usize,
    scanner: Scanner,
}

impl<'a> Blocks<'a> {
    pub fn new(buf: &'a [u8], from: usize) -> Blocks<'a> {
        Blocks {
            buf,
            at: from,
            scanner: Scanner::default(),
        }
    }
}

impl Iterator for Blocks<'_> {
    type Item = (usize, Structural);

    #[inline(always)]
    fn next(&mut self) -> Option<(usize, Structural)> {
        let at = self.at;
        let rest = self.buf.get(at..).filter(|r| !r.is_empty())?;
        self.at += 64;
        let s = match rest.first_chunk::<64>() {
            Some(block) => self.scanner.next(block),
            None => {
                let mut padded = [b' '; 64];
                padded[..rest.len()].copy_from_slice(rest);
                self.scanner.next(&padded)
            }
        };
        Some((at, s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Structural offsets the slow way: byte by byte with explicit string state.
    fn reference(buf: &[u8]) -> Vec<usize> {
        let mut out = Vec::new();
        let (mut in_string, mut escaped) = (false, false);
        for (i, &b) in buf.iter().enumerate() {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = !in_string;
            } else if !in_string && matches!(b, b'{' | b'}' | b'[' | b']' | b',') {
                out.push(i);
            }
        }
        out
    }

    /// Structural offsets from the block scanner.
    fn scanned(buf: &[u8]) -> Vec<usize> {
        offsets(Blocks::new(buf, 0))
    }

    /// Structural offsets from the portable scanner, whatever the CPU has.
    fn scanned_portably(buf: &[u8]) -> Vec<usize> {
        let scanner = Scanner {
            simd: false,
            ..Scanner::default()
        };
        offsets(Blocks {
            buf,
            at: 0,
            scanner,
        })
    }

    fn offsets(blocks: Blocks) -> Vec<usize> {
        let mut out = Vec::new();
        for (at, s) in blocks {
            let mut bits = s.open | s.close | s.comma;
            while bits != 0 {
                out.push(at + bits.trailing_zeros() as usize);
                bits &= bits - 1;
            }
        }
        out
    }

    #[test]
    fn matches_the_byte_by_byte_scan() {
        let long_escapes = format!(r#"{{"a":"{}\"","b":[1,{{"c":"\\"}}]}}"#, "\\\\".repeat(40));
        for text in [
            r#"{"Records":[{"a":"x,]}"},{"b":[1,2]} , 3]}"#,
            r#"[ {"a":"\"]"} ]"#,
            r#"{"k":"\\","l":[",",{}]}"#,
            long_escapes.as_str(),
        ] {
            assert_eq!(
                scanned(text.as_bytes()),
                reference(text.as_bytes()),
                "{text}"
            );
        }
    }

    #[test]
    fn state_crosses_block_edges() {
        // Put a backslash, a quote and a bracket at every position around a block edge.
        for pad in 0..70 {
            let text = format!(
                r#"{}{{"x":"a\\\"b[","y":["\\",{{}}],"z":"{}"}}"#,
                " ".repeat(pad),
                "\\\"".repeat(pad % 7)
            );
            assert_eq!(
                scanned(text.as_bytes()),
                reference(text.as_bytes()),
                "pad {pad}"
            );
            assert_eq!(
                scanned_portably(text.as_bytes()),
                reference(text.as_bytes()),
                "pad {pad}"
            );
        }
    }

    #[test]
    fn quotes_are_found_and_escapes_or_controls_refused() {
        for pad in 0..70 {
            let text = format!(
                "{}{{\"a\":\"é{}\",\"b\":[1]}}",
                " ".repeat(pad),
                "x".repeat(pad % 40)
            );
            let mut out = Vec::new();
            assert_eq!(plain_quotes(text.as_bytes(), &mut out), Some(false));
            let expected: Vec<u32> = (0..text.len() as u32)
                .filter(|&i| text.as_bytes()[i as usize] == b'"')
                .collect();
            assert_eq!(out, expected, "pad {pad}");
            for at in [0, pad, text.len() - 1] {
                let mut t = text.clone().into_bytes();
                for (bad, verdict) in [
                    (b'\\', None),
                    (0x00, None),
                    (0x1f, None),
                    (b'\n', Some(true)),
                    (b'\t', Some(true)),
                ] {
                    t[at] = bad;
                    assert_eq!(
                        plain_quotes(&t, &mut out),
                        verdict,
                        "pad {pad}, {bad:#x} at {at}"
                    );
                }
            }
        }
    }

    #[test]
    fn portable_and_simd_classes_agree() {
        let mut block = [0u8; 64];
        for (i, b) in block.iter_mut().enumerate() {
            *b = b"\"\\{}[],ab :"[i % 11];
        }
        assert_eq!(classify(&block), classify_portable(&block));
    }

    #[test]
    fn brackets_and_backslashes_are_found_in_exactly_the_range_asked() {
        // Each byte that counts, and its neighbours that do not, alone in a run of letters:
        // every range that holds it says yes, every range that does not says no.
        for special in *b"{}[]\\|zZ:;^`" {
            let counts = b"{}[]\\|".contains(&special);
            for len in [1, 31, 32, 33, 70] {
                for at in 0..len {
                    let mut text = vec![b'a'; len];
                    text[at] = special;
                    for from in 0..=len {
                        for to in from..=len {
                            let expected = counts && (from..to).contains(&at);
                            assert_eq!(
                                brackets_or_backslash(&text, from, to),
                                expected,
                                "{:?} at {at} of {len}, range {from}..{to}",
                                special as char
                            );
                        }
                    }
                }
            }
        }
    }
}
