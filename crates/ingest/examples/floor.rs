//! The benchmark's floors: the least any engine must do to see every record, done with
//! snaptrail's own code on the same thread pool. `bench/run.py` prints them beside the hunt, so
//! what is left to win by parsing less is visible.
//!
//! - `floor gunzip PATH...`: decompress every file, with the gzip library and reused buffers
//!   `snaptrail hunt` uses for small files (the S3 layout).
//! - `floor lines PATH...`: read every file the way `snaptrail hunt` streams JSON lines (its
//!   reads of `decode::CHUNK`) and count the newlines.
//!
//! Both take `--threads N`.

use rayon::prelude::*;
use snaptrail_ingest::source::{Input, expand, with_small_file};
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--threads") {
        let n: usize = args.get(i + 1).and_then(|n| n.parse().ok()).unwrap_or(1);
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global();
        args.drain(i..=i + 1);
    }
    if args.is_empty() || !matches!(args[0].as_str(), "gunzip" | "lines") {
        eprintln!("usage: floor gunzip|lines [--threads N] PATH...");
        std::process::exit(2);
    }
    let lines = args.remove(0) == "lines";
    let paths: Vec<std::path::PathBuf> = args.into_iter().map(Into::into).collect();
    let (inputs, _) = expand(&paths);
    let (bytes, newlines) = (AtomicU64::new(0), AtomicU64::new(0));
    inputs.par_iter().for_each_init(
        // The decoder's own read size, so the floor reads the way a hunt does.
        || {
            vec![
                0u8;
                if lines {
                    snaptrail_ingest::decode::CHUNK
                } else {
                    0
                }
            ]
        },
        |buf, input| {
            let Input::File { path: p, .. } = input else {
                return;
            };
            if !lines {
                // Opened and asked its size once, as `read_input_into` does.
                let n = std::fs::File::open(p)
                    .and_then(|file| {
                        let len = file.metadata()?.len();
                        with_small_file(&file, len, |plain, _| plain.len())
                    })
                    .ok()
                    .flatten()
                    .unwrap_or(0);
                bytes.fetch_add(n as u64, Ordering::Relaxed);
                return;
            }
            let Ok(mut f) = std::fs::File::open(p) else {
                return;
            };
            while let Ok(n @ 1..) = f.read(buf) {
                bytes.fetch_add(n as u64, Ordering::Relaxed);
                let count = memchr::memchr_iter(b'\n', &buf[..n]).count();
                newlines.fetch_add(count as u64, Ordering::Relaxed);
            }
        },
    );
    println!(
        "{} files, {} bytes{}, {} newlines",
        inputs.len(),
        bytes.load(Ordering::Relaxed),
        if lines { "" } else { " decompressed" },
        newlines.load(Ordering::Relaxed)
    );
}
