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
    match std::fs::metadata(path) {
        Ok(meta) => visit(path, &meta, out, errors),
        Err(e) => errors.push((path.display().to_string(), e.to_string())),
    }
}

fn visit(
    path: &Path,
    meta: &std::fs::Metadata,
    out: &mut Vec<Input>,
    errors: &mut Vec<(String, String)>,
) {
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
    let mut children = Vec::new();
    for entry in entries {
        match entry {
            Ok(e) => children.push((e.file_name(), e)),
            Err(e) => errors.push((path.display().to_string(), e.to_string())),
        }
    }
    // By name alone: every child shares this parent, so that is the order of the whole paths,
    // without comparing the parent's components again for each pair (a twentieth of a
    // second on the 48k objects of an S3 export).
    children.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (name, entry) in children {
        let child = entry.path();
        let name = name.to_str().unwrap_or("");
        // Hidden files and directories (.git, editor swap files) are never logs.
        if name.starts_with('.') {
            continue;
        }
        // Asked of the open directory, not by walking the whole path again: an S3 export is
        // tens of thousands of objects seven directories deep. A link is followed, as for a
        // path given on the command line.
        let meta = match entry.file_type() {
            Ok(kind) if !kind.is_symlink() => entry.metadata(),
            _ => std::fs::metadata(&child),
        };
        match meta {
            Ok(meta) => visit(&child, &meta, out, errors),
            Err(e) => errors.push((child.display().to_string(), e.to_string())),
        }
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

/// Read `file` to its end into `buf[..returned]`, starting from `len`, its size when asked (it
/// may have grown since); `None` once it holds more than `most` bytes, for the caller to stream
/// it instead. `buf` stays initialized from file to file, so only growing it is ever zeroed; and
/// `File::read_to_end` would ask the size and the position again, two more system calls per
/// file, tens of thousands of times on an S3 export.
fn read_all(
    mut file: &File,
    len: u64,
    most: usize,
    buf: &mut Vec<u8>,
) -> io::Result<Option<usize>> {
    // One byte more than the size, so that the read finding the end needs no growing.
    let want = usize::try_from(len)
        .unwrap_or(usize::MAX)
        .min(most)
        .saturating_add(1);
    if buf.len() < want {
        buf.resize(want, 0);
    }
    let mut filled = 0;
    loop {
        if filled > most {
            return Ok(None);
        }
        if filled == buf.len() {
            buf.resize(buf.len().saturating_mul(2).min(most + 1).max(filled + 1), 0);
        }
        match file.read(&mut buf[filled..]) {
            Ok(0) => return Ok(Some(filled)),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Read a small file whole and decompress it into a reused buffer, then hand the bytes to `f`.
/// A decompression error is returned beside the bytes that came before it. `Ok(None)` when it
/// decompresses to more than [`crate::decode::WHOLE_DOCUMENT`] bytes (a small file can be a
/// gzip bomb): it must be streamed instead.
pub fn with_small_file<T>(
    file: &File,
    len: u64,
    f: impl FnOnce(&[u8], Option<io::Error>) -> T,
) -> io::Result<Option<T>> {
    let limit = crate::decode::WHOLE_DOCUMENT;
    RAW.with(|raw| {
        PLAIN.with(|plain| {
            let mut raw = raw.borrow_mut();
            let mut plain = plain.borrow_mut();
            // A file that grew past the limit since it was asked is streamed too.
            let Some(read) = read_all(file, len, WHOLE_FILE_LIMIT as usize, &mut raw)? else {
                return Ok(None);
            };
            let raw = &raw[..read];
            let failure = match sniff(raw) {
                Compression::None => return Ok(Some(f(raw, None))),
                Compression::Gzip => {
                    plain.clear();
                    INFLATE
                        .with(|d| gunzip_into(&mut d.borrow_mut(), raw, &mut plain, limit))
                        .err()
                }
                Compression::Zstd => {
                    plain.clear();
                    match zstd::Decoder::with_buffer(raw) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_walk_sorts_by_name_skips_hidden_entries_and_follows_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("b.json"), [b'x'; 10]).unwrap();
        std::fs::create_dir(root.join("a")).unwrap();
        std::fs::write(root.join("a/x.json"), [b'x'; 3]).unwrap();
        // By bytes, capitals first; and `a`'s files before `a-b.json`, though `-` is below `/`.
        std::fs::write(root.join("a-b.json"), [b'x'; 4]).unwrap();
        std::fs::write(root.join("B.json"), [b'x'; 5]).unwrap();
        std::fs::write(root.join(".swap"), [b'x'; 1]).unwrap();
        std::os::unix::fs::symlink(root.join("b.json"), root.join("c-file-link")).unwrap();
        std::os::unix::fs::symlink(root.join("a"), root.join("d-dir-link")).unwrap();
        std::os::unix::fs::symlink(root.join("gone"), root.join("e-broken")).unwrap();
        let (inputs, errors) = expand(&[root.to_path_buf()]);
        let listed: Vec<(String, u64)> = inputs
            .iter()
            .map(|i| match i {
                Input::File { path, listed_bytes } => (
                    path.strip_prefix(root).unwrap().display().to_string(),
                    *listed_bytes,
                ),
                Input::Stdin => unreachable!(),
            })
            .collect();
        assert_eq!(
            listed,
            [
                ("B.json".to_string(), 5),
                ("a/x.json".to_string(), 3),
                ("a-b.json".to_string(), 4),
                ("b.json".to_string(), 10),
                ("c-file-link".to_string(), 10),
                ("d-dir-link/x.json".to_string(), 3),
            ]
        );
        // A broken link is named, and the rest of the walk goes on.
        assert_eq!(errors.len(), 1);
        assert!(errors[0].0.ends_with("e-broken"), "{errors:?}");
    }

    #[test]
    fn a_file_is_read_to_its_end_whatever_size_it_was_listed_at() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let text: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &text).unwrap();
        // Grown since it was asked, shrunk since, and exactly as asked; each time into a buffer
        // still holding an earlier, longer file's bytes.
        for asked in [10, 100_000, 5000, 0] {
            let mut buf = vec![0xee; 9000];
            let file = File::open(&path).unwrap();
            let n = read_all(&file, asked, 5000, &mut buf).unwrap().unwrap();
            assert_eq!(&buf[..n], &text[..], "asked {asked}");
            // Past the most it may hold: left to be streamed, whatever the size it was asked at.
            let file = File::open(&path).unwrap();
            assert_eq!(read_all(&file, asked, 4999, &mut buf).unwrap(), None);
            assert!(buf.len() <= 9000, "{}", buf.len());
        }
        // And through the per-thread buffers a hunt uses.
        let file = File::open(&path).unwrap();
        let seen = with_small_file(&file, 1, |bytes, failure| {
            assert!(failure.is_none());
            bytes.to_vec()
        });
        assert_eq!(seen.unwrap().unwrap(), text);
    }
}
