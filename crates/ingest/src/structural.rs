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
    fn portable_and_simd_classes_agree() {
        let mut block = [0u8; 64];
        for (i, b) in block.iter_mut().enumerate() {
            *b = b"\"\\{}[],ab :"[i % 11];
        }
        assert_eq!(classify(&block), classify_portable(&block));
    }
}
