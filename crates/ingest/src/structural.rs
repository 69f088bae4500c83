//! Where a JSON text's brackets and commas are, outside strings, 64 bytes at a time (the first
//! stage of simdjson, without its parser). Each block is classified into bitmasks with AVX-512BW
//! or AVX2, the best the CPU has (a portable loop otherwise); escapes and string state are then
//! pure bit arithmetic carried from block to block. Splitting a CloudTrail envelope into
//! records visits only the few structural bytes instead of every byte and every string.

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

/// One 64-byte register, and each class straight into a mask register: a third of the
/// instructions of the AVX2 way (two halves, a move out of each compare, and a shift to join
/// them), which made the envelope split run at 12.6 GB/s a core.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512bw")]
#[inline]
unsafe fn classify_avx512(block: &[u8; 64]) -> Classes {
    use std::arch::x86_64::*;
    // SAFETY: `block` is 64 readable bytes; unaligned loads are allowed.
    let v = unsafe { _mm512_loadu_si512(block.as_ptr().cast()) };
    let folded = _mm512_or_si512(v, _mm512_set1_epi8(0x20));
    let eq = |v: __m512i, byte: u8| _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(byte as i8));
    Classes {
        quote: eq(v, b'"'),
        backslash: eq(v, b'\\'),
        open: eq(folded, b'{'),
        close: eq(folded, b'}'),
        comma: eq(v, b','),
        newline: eq(v, b'\n'),
    }
}

/// Every vector way this CPU has, with the block classified by each.
#[cfg(test)]
fn classified_by_each_level(block: &[u8; 64]) -> Vec<(Level, Classes)> {
    let mut out = vec![(Level::Portable, classify_portable(block))];
    #[cfg(target_arch = "x86_64")]
    {
        if Level::detect() >= Level::Avx2 {
            // SAFETY: the CPU supports AVX2, checked just above.
            out.push((Level::Avx2, unsafe { classify_avx2(block) }));
        }
        if Level::detect() >= Level::Avx512 {
            // SAFETY: the CPU supports AVX-512BW, checked just above.
            out.push((Level::Avx512, unsafe { classify_avx512(block) }));
        }
    }
    out
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

/// [`prefix_xor`] in one carry-less multiply by all ones.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq")]
#[inline]
fn clmul_prefix_xor(x: u64) -> u64 {
    use std::arch::x86_64::*;
    let product = _mm_clmulepi64_si128(_mm_set_epi64x(0, x as i64), _mm_set1_epi8(-1), 0);
    _mm_cvtsi128_si64(product) as u64
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

/// How blocks are classified: the best way this CPU has. Each vector way also needs carry-less
/// multiply for string state, and population count for the splitter's bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Portable,
    Avx2,
    Avx512,
}

impl Level {
    pub fn detect() -> Level {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx2") && has!("pclmulqdq") && has!("popcnt") && has!("bmi1") {
                return if has!("avx512bw") {
                    Level::Avx512
                } else {
                    Level::Avx2
                };
            }
        }
        Level::Portable
    }
}

#[cfg(test)]
impl Level {
    /// Every level this CPU has, from the portable way up.
    pub(crate) fn available() -> Vec<Level> {
        [Level::Portable, Level::Avx2, Level::Avx512]
            .into_iter()
            .filter(|&l| l <= Level::detect())
            .collect()
    }
}

/// Carries string and escape state across blocks.
#[derive(Clone, Copy)]
pub struct Scanner {
    /// The next block's first byte is escaped by a backslash ending this block.
    escape_carry: bool,
    /// All ones when this block ended inside a string.
    in_string: u64,
    /// How blocks are classified: at most [`Level::detect`], asked once.
    level: Level,
}

impl Scanner {
    /// A scanner classifying the way `level` says, or the best way the CPU has if that is
    /// less: the vector steps are only sound on a CPU with their features, and a caller could
    /// name any level.
    fn at(level: Level) -> Scanner {
        Scanner {
            escape_carry: false,
            in_string: 0,
            level: level.min(Level::detect()),
        }
    }

    /// Classify the next 64 bytes of the text.
    #[inline(always)]
    pub fn next(&mut self, block: &[u8; 64]) -> Structural {
        match self.level {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the level is at most the CPU's (`Scanner::at` clamps it).
            Level::Avx512 => unsafe { self.next_avx512(block) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Level::Avx2 => unsafe { self.next_avx2(block) },
            _ => {
                let c = classify_portable(block);
                let quotes = self.quotes(&c);
                self.resolve(c, prefix_xor(quotes))
            }
        }
    }

    /// As [`Scanner::next_avx2`], classifying with AVX-512BW.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512bw,pclmulqdq")]
    #[inline]
    unsafe fn next_avx512(&mut self, block: &[u8; 64]) -> Structural {
        // SAFETY: this function only runs where AVX-512BW and carry-less multiply are available.
        let c = unsafe { classify_avx512(block) };
        let quotes = self.quotes(&c);
        self.resolve(c, clmul_prefix_xor(quotes))
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
        self.resolve(c, clmul_prefix_xor(quotes))
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
    /// Classifying the way `level` says, or the CPU's best way if that is less.
    pub fn at_level(buf: &'a [u8], from: usize, level: Level) -> Blocks<'a> {
        Blocks {
            buf,
            at: from,
            scanner: Scanner::at(level),
        }
    }
}

impl Blocks<'_> {
    /// The next block where an element `depth` deep could end: one with at least as many
    /// closing brackets as the depth. The blocks passed over change `depth` by their brackets
    /// and add their newlines to `newlines`. Inside a record that is nearly every block.
    #[inline(always)]
    pub fn next_closing(
        &mut self,
        depth: &mut usize,
        newlines: &mut usize,
    ) -> Option<(usize, Structural)> {
        #[cfg(target_arch = "x86_64")]
        match self.scanner.level {
            // SAFETY: the level is at most the CPU's (`Scanner::at` clamps it).
            Level::Avx512 => return unsafe { self.next_closing_avx512(depth, newlines) },
            // SAFETY: as above.
            Level::Avx2 => return unsafe { self.next_closing_avx2(depth, newlines) },
            Level::Portable => {}
        }
        self.next_closing_by(depth, newlines, |s, block| s.next(block))
    }

    /// A loop of its own, not inlined into the splitter: there, the splitter's other state
    /// pushed this loop's (the offset, string state, counts) out to the stack, and each block
    /// waited on stores and loads of it. 13 to 17 GB/s a core on a cached S3 object.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512bw,pclmulqdq,popcnt")]
    #[inline(never)]
    unsafe fn next_closing_avx512(
        &mut self,
        depth: &mut usize,
        newlines: &mut usize,
    ) -> Option<(usize, Structural)> {
        // SAFETY: this function only runs where AVX-512BW and carry-less multiply are.
        self.next_closing_by(depth, newlines, |s, block| unsafe { s.next_avx512(block) })
    }

    /// As [`Blocks::next_closing_avx512`], with AVX2 (10 to 14 GB/s).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,pclmulqdq,popcnt")]
    #[inline(never)]
    unsafe fn next_closing_avx2(
        &mut self,
        depth: &mut usize,
        newlines: &mut usize,
    ) -> Option<(usize, Structural)> {
        // SAFETY: this function only runs where AVX2 and carry-less multiply are.
        self.next_closing_by(depth, newlines, |s, block| unsafe { s.next_avx2(block) })
    }

    /// Whole blocks classified by `step`, then the padded last one, if any, the general way.
    #[inline(always)]
    fn next_closing_by(
        &mut self,
        depth: &mut usize,
        newlines: &mut usize,
        mut step: impl FnMut(&mut Scanner, &[u8; 64]) -> Structural,
    ) -> Option<(usize, Structural)> {
        // Locals rather than fields behind `self`, so they stay in registers.
        let (buf, mut at, mut scanner) = (self.buf, self.at, self.scanner);
        let (mut d, mut nl) = (*depth, *newlines);
        let mut found = None;
        while let Some(block) = buf.get(at..).and_then(|rest| rest.first_chunk::<64>()) {
            let s = step(&mut scanner, block);
            if could_end_in(&s, &mut d, &mut nl) {
                found = Some((at, s));
                at += 64;
                break;
            }
            at += 64;
        }
        (self.at, self.scanner, *depth, *newlines) = (at, scanner, d, nl);
        found.or_else(|| {
            let (at, s) = self.next()?;
            could_end_in(&s, depth, newlines).then_some((at, s))
        })
    }
}

/// Whether an element `depth` deep could end in the block `s`: it holds at least as many
/// closing brackets as the depth. If not, the block is passed over, and `depth` and `newlines`
/// take in its brackets and newlines.
#[inline(always)]
fn could_end_in(s: &Structural, depth: &mut usize, newlines: &mut usize) -> bool {
    let closes = s.close.count_ones() as usize;
    if *depth <= closes {
        return true;
    }
    *depth = *depth + s.open.count_ones() as usize - closes;
    *newlines += s.newline.count_ones() as usize;
    false
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

    /// Structural offsets from the block scanner, with the CPU's best way.
    fn scanned(buf: &[u8]) -> Vec<usize> {
        offsets(Blocks::at_level(buf, 0, Level::detect()))
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
            for level in Level::available() {
                assert_eq!(
                    offsets(Blocks::at_level(text.as_bytes(), 0, level)),
                    reference(text.as_bytes()),
                    "pad {pad}, {level:?}"
                );
            }
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
        let by_each = classified_by_each_level(&block);
        assert_eq!(by_each.len(), Level::available().len());
        for (level, classes) in by_each {
            assert_eq!(classes, classify_portable(&block), "{level:?}");
        }
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
