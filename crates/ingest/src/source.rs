//! Where bytes come from: files, directories walked in a deterministic order, stdin; gzip and
//! zstd are recognised by their magic bytes, whatever the file is called.

use crate::gunzip::{Inflater, gunzip_into};
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
    static INFLATE: std::cell::RefCell<Inflater> = std::cell::RefCell::new(Inflater::default());
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
            // Too large to hold whole: zstd stops one byte past the limit, gzip says so.
            let too_large = plain.len() > limit
                || failure
                    .as_ref()
                    .is_some_and(|e| e.kind() == io::ErrorKind::FileTooLarge);
            let result = (!too_large).then(|| f(&plain, failure));
            // Keep the buffers for the next file, unless one file made them huge.
            if plain.capacity() > 4 * WHOLE_FILE_LIMIT as usize {
                *plain = Vec::new();
            }
            Ok(result)
        })
    })
}
