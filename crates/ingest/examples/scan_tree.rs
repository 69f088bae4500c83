//! The benchmark's floor for uncompressed input: read every file under the given paths the way
//! `snaptrail hunt` streams JSON lines (8 MB reads, one thread per file, same thread pool) and
//! count newlines, the least any engine must do to see every record. `bench/run.py` prints it
//! beside the hunt, so what is left to win by parsing less is visible.
//!
//! Usage: scan_tree [--threads N] PATH...

use rayon::prelude::*;
use snaptrail_ingest::source::{Input, expand};
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
    let paths: Vec<std::path::PathBuf> = args.into_iter().map(Into::into).collect();
    let (inputs, _) = expand(&paths);
    let (bytes, lines) = (AtomicU64::new(0), AtomicU64::new(0));
    inputs.par_iter().for_each_init(
        || vec![0u8; 8 << 20],
        |buf, input| {
            let Input::File(p) = input else { return };
            let Ok(mut f) = std::fs::File::open(p) else {
                return;
            };
            while let Ok(n @ 1..) = f.read(buf) {
                bytes.fetch_add(n as u64, Ordering::Relaxed);
                let newlines = memchr::memchr_iter(b'\n', &buf[..n]).count();
                lines.fetch_add(newlines as u64, Ordering::Relaxed);
            }
        },
    );
    println!(
        "{} files, {} bytes, {} lines",
        inputs.len(),
        bytes.load(Ordering::Relaxed),
        lines.load(Ordering::Relaxed)
    );
}
