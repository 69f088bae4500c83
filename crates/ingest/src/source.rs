//! Where bytes come from: files, directories walked in a deterministic order, stdin; gzip and
//! zstd are recognised by their magic bytes, whatever the file is called.

use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file, and its size when the paths were expanded (it may grow before it is read).
    File {
        path: PathBuf,
        listed_bytes: u64,
    },
    Stdin,
}

impl Input {
    pub fn name(&self) -> String {
        match self {
            Input::File { path, .. } => path.display().to_string(),
            Input::Stdin => "<stdin>".to_string(),
        }
    }
}

/// Expand command-line paths into inputs: `-` is stdin, directories are walked recursively with
/// entries sorted by name so the order never depends on the file system. Errors (missing path,
/// unreadable directory) are returned alongside, one per path, and do not stop the walk.
pub fn expand(paths: &[PathBuf]) -> (Vec<Input>, Vec<(String, String)>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin);
        } else {
            walk(path, &mut inputs, &mut errors);
        }
    }
    (inputs, errors)
}

fn walk(path: &Path, out: &mut Vec<Input>, errors: &mut Vec<(String, String)>) {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            errors.push((path.display().to_string(), e.to_string()));
            return;
        }
    };
    if meta.is_file() {
        out.push(Input::File {
            path: path.to_path_buf(),
            listed_bytes: meta.len(),
        });
        return;
    }
    if !meta.is_dir() {
        errors.push((path.display().to_string(), "not a file or directory".into()));
        return;
    }
    let entries = match std::fs::read_dir(path) {
        Ok(rd) => rd,
        Err(e) => {
            errors.push((path.display().to_string(), e.to_string()));
            return;
        }
    };
    let mut children: Vec<PathBuf> = Vec::new();
    for entry in entries {
        match entry {
            Ok(e) => children.push(e.path()),
            Err(e) => errors.push((path.display().to_string(), e.to_string())),
        }
    }
    children.sort();
    for child in children {
        let name = child.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // Hidden files and directories (.git, editor swap files) are never logs.
        if name.starts_with('.') {
            continue;
        }
        walk(&child, out, errors);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Sniff compression from the first bytes.
pub fn sniff(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

const BUFFER: usize = 256 * 1024;

/// Open an input as a buffered stream of decompressed bytes.
pub fn open(input: &Input) -> io::Result<(Box<dyn BufRead + Send>, Compression)> {
    let raw: Box<dyn Read + Send> = match input {
        Input::File { path, .. } => Box::new(File::open(path)?),
        Input::Stdin => Box::new(io::stdin()),
    };
    decompress(raw)
}

pub fn decompress(raw: Box<dyn Read + Send>) -> io::Result<(Box<dyn BufRead + Send>, Compression)> {
    let mut reader = BufReader::with_capacity(BUFFER, raw);
    let compression = sniff(reader.fill_buf()?);
    let stream: Box<dyn BufRead + Send> = match compression {
        Compression::None => Box::new(reader),
        Compression::Gzip => Box::new(BufReader::with_capacity(
            BUFFER,
            MultiGzDecoder::new(reader),
        )),
        Compression::Zstd => Box::new(BufReader::with_capacity(
            BUFFER,
            zstd::Decoder::with_buffer(reader)?,
        )),
    };
    Ok((stream, compression))
}

/// Files up to this size (compressed) are read whole into reused per-thread buffers; larger
/// ones stream. CloudTrail objects are a few KB to a few MB: reading them whole and reusing the
/// buffers avoids churning large allocations per file, which fragments the heap (measured:
/// 567 MB RSS on 22k objects with fresh buffers per file).
pub const WHOLE_FILE_LIMIT: u64 = 8 * 1024 * 1024;

thread_local! {
    /// One raw-deflate state per thread, reset per member: a fresh decoder per file allocates
    /// and zeroes its window every time (and fragments the heap).
    static INFLATE: std::cell::RefCell<flate2::Decompress> = std::cell::RefCell::new(flate2::Decompress::new(false));
    static RAW: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    static PLAIN: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Read a small file whole and decompress it into a reused buffer, then hand the bytes to `f`.
/// A decompression error is returned beside the bytes that came before it. `Ok(None)` when it
/// decompresses to more than [`crate::decode::WHOLE_DOCUMENT`] bytes (a small file can be a
/// gzip bomb): it must be streamed instead.
pub fn with_small_file<T>(
    path: &Path,
    f: impl FnOnce(&[u8], Option<io::Error>) -> T,
) -> io::Result<Option<T>> {
    let limit = crate::decode::WHOLE_DOCUMENT;
    RAW.with(|raw| {
        PLAIN.with(|plain| {
            let mut raw = raw.borrow_mut();
            let mut plain = plain.borrow_mut();
            raw.clear();
            File::open(path)?.read_to_end(&mut raw)?;
            let failure = match sniff(&raw) {
                Compression::None => return Ok(Some(f(&raw, None))),
                Compression::Gzip => {
                    plain.clear();
                    INFLATE
                        .with(|d| gunzip_into(&mut d.borrow_mut(), &raw, &mut plain, limit))
                        .err()
                }
                Compression::Zstd => {
                    plain.clear();
                    match zstd::Decoder::with_buffer(&raw[..]) {
                        Ok(d) => d.take(limit as u64 + 1).read_to_end(&mut plain).err(),
                        Err(e) => Some(e),
                    }
                }
            };
            // Either decoder stops just past the limit (gzip with `FileTooLarge`).
            let result = (plain.len() <= limit).then(|| f(&plain, failure));
            // Keep the buffers for the next file, unless one file made them huge.
            if plain.capacity() > 4 * WHOLE_FILE_LIMIT as usize {
                *plain = Vec::new();
            }
            Ok(result)
        })
    })
}

/// Decompress every gzip member of `raw` (RFC 1952) into `out` with a reused inflate state,
/// checking each member's CRC-32 and length. On error, `out` holds what came before it. Past
/// `limit` bytes of output it stops with [`io::ErrorKind::FileTooLarge`].
pub fn gunzip_into(
    d: &mut flate2::Decompress,
    raw: &[u8],
    out: &mut Vec<u8>,
    limit: usize,
) -> io::Result<()> {
    use flate2::{FlushDecompress, Status};
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidData, m.to_string());
    let eof = || io::Error::new(io::ErrorKind::UnexpectedEof, "gzip stream truncated");
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
            let lo = *head.get(p).ok_or_else(eof)? as usize;
            let hi = *head.get(p + 1).ok_or_else(eof)? as usize;
            p += 2 + (lo | hi << 8);
        }
        for bit in [0x08, 0x10] {
            if flags & bit != 0 {
                p += memchr::memchr(0, head.get(p..).ok_or_else(eof)?).ok_or_else(eof)? + 1;
            }
        }
        if flags & 0x02 != 0 {
            p += 2;
        }
        let mut input = head.get(p..).ok_or_else(eof)?;
        d.reset(false);
        let start = out.len();
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
                return Err(io::Error::new(
                    io::ErrorKind::FileTooLarge,
                    "decompresses to more than can be held whole",
                ));
            }
            match status {
                Status::StreamEnd => break,
                _ if input.is_empty() && d.total_out() == out_before => return Err(eof()),
                _ => {}
            }
        }
        let trailer = input.get(..8).ok_or_else(eof)?;
        let mut crc = flate2::Crc::new();
        crc.update(&out[start..]);
        if crc.sum() != u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]) {
            return Err(bad("gzip CRC mismatch"));
        }
        if (out.len() - start) as u32
            != u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]])
        {
            return Err(bad("gzip length mismatch"));
        }
        pos = raw.len() - input.len() + 8;
        members += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8], level: u32) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn reused_inflater_reads_members_like_flate2() {
        let a: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let b = br#"{"Records":[]}"#.to_vec();
        let stream = [gz(&a, 1), gz(&b, 9), gz(b"", 6)].concat();
        let mut d = flate2::Decompress::new(false);
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
        let mut d = flate2::Decompress::new(false);
        let mut out = Vec::new();
        let err = gunzip_into(&mut d, &z[..z.len() / 2], &mut out, usize::MAX).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert!(!out.is_empty() && data.starts_with(&out));
        let mut flipped = z.clone();
        let n = flipped.len();
        flipped[n - 6] ^= 0xff; // inside the stored CRC
        out.clear();
        assert!(gunzip_into(&mut d, &flipped, &mut out, usize::MAX).is_err());
        out.clear();
        assert!(gunzip_into(&mut d, &[0x1f, 0x8b, 0x08], &mut out, usize::MAX).is_err());
    }
}
