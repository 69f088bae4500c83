//! Whole gzip files in memory (RFC 1952): every member, each member's CRC-32 and length
//! checked. The deflate data goes through libdeflate, which inflates a whole buffer much faster
//! than a streaming inflater can (it was over half of a hunt's time on the S3 layout). A member
//! libdeflate rejects is inflated again by flate2, which keeps the bytes before the fault and
//! says what the fault is (truncated, corrupt) the way the streaming path does.

use std::io;
use std::ptr::NonNull;

/// The inflate states one thread reuses from file to file: a fresh one per file allocates and
/// zeroes its tables every time (and fragments the heap).
pub struct Inflater {
    fast: Libdeflate,
    slow: flate2::Decompress,
}

impl Default for Inflater {
    fn default() -> Inflater {
        Inflater {
            fast: Libdeflate::new(),
            slow: flate2::Decompress::new(false),
        }
    }
}

/// A libdeflate decompressor (whole buffers only, no state kept between calls).
struct Libdeflate(NonNull<libdeflate_sys::libdeflate_decompressor>);

// SAFETY: a decompressor is plain memory that libdeflate uses during one call at a time; `&mut
// self` on every use keeps calls from overlapping, whichever thread makes them.
unsafe impl Send for Libdeflate {}

impl Libdeflate {
    fn new() -> Libdeflate {
        // SAFETY: no preconditions; null (out of memory) is checked.
        let p = unsafe { libdeflate_sys::libdeflate_alloc_decompressor() };
        Libdeflate(NonNull::new(p).expect("out of memory allocating a libdeflate decompressor"))
    }

    /// Inflate the raw deflate stream at the start of `input`, appending at most `room` bytes to
    /// `out`. Returns the input bytes the stream took.
    fn inflate(&mut self, input: &[u8], out: &mut Vec<u8>, room: usize) -> Result<usize, Fault> {
        out.reserve(room);
        let (mut used, mut made) = (0usize, 0usize);
        // SAFETY: the decompressor is live and ours; `input` is readable for its length; the
        // output pointer has `room` bytes of spare capacity (reserved above), and libdeflate
        // writes only within them and reports how many it wrote.
        let result = unsafe {
            libdeflate_sys::libdeflate_deflate_decompress_ex(
                self.0.as_ptr(),
                input.as_ptr().cast(),
                input.len(),
                out.as_mut_ptr().add(out.len()).cast(),
                room,
                &mut used,
                &mut made,
            )
        };
        match result {
            libdeflate_sys::libdeflate_result_LIBDEFLATE_SUCCESS => {
                // SAFETY: libdeflate initialized these `made <= room` bytes.
                unsafe { out.set_len(out.len() + made) };
                Ok(used)
            }
            libdeflate_sys::libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE => Err(Fault::NoRoom),
            _ => Err(Fault::Bad),
        }
    }
}

impl Drop for Libdeflate {
    fn drop(&mut self) {
        // SAFETY: allocated by libdeflate_alloc_decompressor, freed once.
        unsafe { libdeflate_sys::libdeflate_free_decompressor(self.0.as_ptr()) }
    }
}

enum Fault {
    NoRoom,
    Bad,
}

fn crc32(data: &[u8]) -> u32 {
    // SAFETY: `data` is readable for its length.
    unsafe { libdeflate_sys::libdeflate_crc32(0, data.as_ptr().cast(), data.len()) }
}

/// The little-endian 32-bit word at the start of `b` (at least four bytes).
fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn bad(m: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, m.to_string())
}

fn truncated() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "gzip stream truncated")
}

fn too_large() -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        "decompresses to more than can be held whole",
    )
}

/// Decompress every gzip member of `raw` into `out`. On error, `out` holds what came before it.
/// Past `limit` bytes of output it stops with [`io::ErrorKind::FileTooLarge`].
pub fn gunzip_into(
    inflater: &mut Inflater,
    raw: &[u8],
    out: &mut Vec<u8>,
    limit: usize,
) -> io::Result<()> {
    // The last member's length, from the file's last four bytes: the exact output size of a
    // single-member file (nearly all are), so libdeflate usually needs one try.
    let hint = raw.len().checked_sub(4).map_or(0, |at| le32(&raw[at..])) as usize;
    let mut pos = 0;
    let mut members = 0;
    while pos < raw.len() {
        let head = &raw[pos..];
        if head.len() < 10 || head[0] != 0x1f || head[1] != 0x8b {
            // Zero padding after the last member (some writers add it) ends the stream.
            if members > 0 && head.iter().all(|&b| b == 0) {
                break;
            }
            return Err(if members > 0 {
                bad("garbage after gzip member")
            } else {
                bad("not a gzip stream")
            });
        }
        if head[2] != 8 {
            return Err(bad("gzip member is not deflate-compressed"));
        }
        let flags = head[3];
        let mut p = 10;
        if flags & 0x04 != 0 {
            let lo = *head.get(p).ok_or_else(truncated)? as usize;
            let hi = *head.get(p + 1).ok_or_else(truncated)? as usize;
            p += 2 + (lo | hi << 8);
        }
        for bit in [0x08, 0x10] {
            if flags & bit != 0 {
                let rest = head.get(p..).ok_or_else(truncated)?;
                p += memchr::memchr(0, rest).ok_or_else(truncated)? + 1;
            }
        }
        if flags & 0x02 != 0 {
            p += 2;
        }
        let deflated = head.get(p..).ok_or_else(truncated)?;
        let start = out.len();
        let used = inflate_member(inflater, deflated, out, limit, hint)?;
        let trailer = deflated.get(used..used + 8).ok_or_else(truncated)?;
        if crc32(&out[start..]) != le32(trailer) {
            return Err(bad("gzip CRC mismatch"));
        }
        if (out.len() - start) as u32 != le32(&trailer[4..]) {
            return Err(bad("gzip length mismatch"));
        }
        pos += p + used + 8;
        members += 1;
    }
    Ok(())
}

/// Inflate one member's deflate data onto `out`; returns the input bytes it took.
fn inflate_member(
    inflater: &mut Inflater,
    deflated: &[u8],
    out: &mut Vec<u8>,
    limit: usize,
    hint: usize,
) -> io::Result<usize> {
    // One byte past the limit: a member that fills it is too large.
    let room = limit.saturating_sub(out.len()).saturating_add(1);
    let mut want = hint.max(64 << 10).min(room);
    loop {
        match inflater.fast.inflate(deflated, out, want) {
            Ok(_) if out.len() > limit => return Err(too_large()),
            Ok(used) => return Ok(used),
            Err(Fault::NoRoom) if want < room => want = want.saturating_mul(4).min(room),
            Err(Fault::NoRoom) => return Err(too_large()),
            Err(Fault::Bad) => {
                return inflate_member_slowly(&mut inflater.slow, deflated, out, limit);
            }
        }
    }
}

/// flate2's inflate of one member, for the input libdeflate rejected: it keeps what precedes
/// the fault and tells a truncated stream from a corrupt one.
fn inflate_member_slowly(
    d: &mut flate2::Decompress,
    deflated: &[u8],
    out: &mut Vec<u8>,
    limit: usize,
) -> io::Result<usize> {
    use flate2::{FlushDecompress, Status};
    d.reset(false);
    let mut input = deflated;
    loop {
        if out.capacity() - out.len() < 32 * 1024 {
            out.reserve(out.len().max(64 * 1024));
        }
        let (in_before, out_before) = (d.total_in(), d.total_out());
        let status = d
            .decompress_vec(input, out, FlushDecompress::None)
            .map_err(|e| bad(&e.to_string()))?;
        input = &input[(d.total_in() - in_before) as usize..];
        if out.len() > limit {
            return Err(too_large());
        }
        match status {
            Status::StreamEnd => return Ok(deflated.len() - input.len()),
            _ if input.is_empty() && d.total_out() == out_before => return Err(truncated()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::MultiGzDecoder;
    use std::io::{Read, Write};

    fn gz(data: &[u8], level: u32) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn counting(n: u32) -> Vec<u8> {
        (0..n).flat_map(|i| (i % 251).to_le_bytes()).collect()
    }

    #[test]
    fn reused_inflater_reads_members_like_flate2() {
        let a = counting(200_000);
        let b = br#"{"Records":[]}"#.to_vec();
        // The last member's length (the size hint) is far off for the first one.
        let stream = [gz(&a, 1), gz(&b, 9), gz(b"", 6)].concat();
        let mut d = Inflater::default();
        let mut out = Vec::new();
        gunzip_into(&mut d, &stream, &mut out, usize::MAX).unwrap();
        let mut want = Vec::new();
        MultiGzDecoder::new(&stream[..])
            .read_to_end(&mut want)
            .unwrap();
        assert_eq!(out, want);
        // The same state serves the next file.
        out.clear();
        gunzip_into(&mut d, &gz(&b, 6), &mut out, usize::MAX).unwrap();
        assert_eq!(out, b);
    }

    #[test]
    fn truncated_and_corrupt_members_are_errors_with_the_prefix_kept() {
        let data: Vec<u8> = (0..100_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let z = gz(&data, 6);
        let mut d = Inflater::default();
        let mut out = Vec::new();
        let err = gunzip_into(&mut d, &z[..z.len() / 2], &mut out, usize::MAX).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert!(!out.is_empty() && data.starts_with(&out));
        let mut flipped = z.clone();
        let n = flipped.len();
        flipped[n - 6] ^= 0xff; // inside the stored CRC
        out.clear();
        assert_eq!(
            gunzip_into(&mut d, &flipped, &mut out, usize::MAX)
                .unwrap_err()
                .to_string(),
            "gzip CRC mismatch"
        );
        // A flipped bit inside the deflate data: an error, and what came before is kept.
        let mut corrupt = z.clone();
        corrupt[n / 2] ^= 0x55;
        out.clear();
        assert!(gunzip_into(&mut d, &corrupt, &mut out, usize::MAX).is_err());
        assert!(data.starts_with(&out[..out.len().min(1000)]));
        out.clear();
        assert!(gunzip_into(&mut d, &[0x1f, 0x8b, 0x08], &mut out, usize::MAX).is_err());
    }

    #[test]
    fn output_past_the_limit_is_too_large_whatever_the_stored_length_says() {
        let data = counting(50_000);
        let z = gz(&data, 6);
        let mut d = Inflater::default();
        let mut out = Vec::new();
        // Exactly the limit fits.
        gunzip_into(&mut d, &z, &mut out, data.len()).unwrap();
        assert_eq!(out, data);
        out.clear();
        let err = gunzip_into(&mut d, &z, &mut out, data.len() - 1).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
        // A lying length in the trailer (the size hint) changes neither answer.
        let mut lying = z.clone();
        let n = lying.len();
        lying[n - 4..].copy_from_slice(&16u32.to_le_bytes());
        out.clear();
        let err = gunzip_into(&mut d, &lying, &mut out, data.len() - 1).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
        out.clear();
        assert_eq!(
            gunzip_into(&mut d, &lying, &mut out, usize::MAX)
                .unwrap_err()
                .to_string(),
            "gzip length mismatch"
        );
        assert_eq!(out, data);
        // Members together past the limit.
        let two = [gz(&data, 6), gz(&data, 6)].concat();
        out.clear();
        let err = gunzip_into(&mut d, &two, &mut out, 2 * data.len() - 1).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
    }
}
