//! The benchmark's floor: decompress every file under the given paths with the same code
//! `snaptrail hunt` uses (same gzip library, same reused buffers, same thread pool), and do
//! nothing else. `bench/run.py` compares the hunt's time on the S3 layout with this.
//!
//! Usage: gunzip_tree [--threads N] PATH...

use rayon::prelude::*;
use snaptrail_ingest::source::{Input, expand, with_small_file};
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
    let bytes = AtomicU64::new(0);
    inputs.par_iter().for_each(|input| {
        if let Input::File(p) = input {
            let n = with_small_file(p, |plain, _| plain.len()).unwrap_or(0);
            bytes.fetch_add(n as u64, Ordering::Relaxed);
        }
    });
    println!(
        "{} files, {} bytes decompressed",
        inputs.len(),
        bytes.load(Ordering::Relaxed)
    );
}
