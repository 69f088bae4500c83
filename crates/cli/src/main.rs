//! `snaptrail`: the command line. Thin by design: parsing arguments, wiring ingest → detect →
//! output, and exit codes (0 nothing found, 1 alerts, 2 could not run).

mod alloc;
mod args;
mod events_cmd;
mod hunt_cmd;
mod report;
mod simulate_cmd;

use clap::Parser;
use std::process::ExitCode;

// The events that pass the prefilter are parsed into JSON trees and normalized: many small
// allocations, which glibc's malloc spends a fifth of the run on. mimalloc, called as
// `alloc.rs` says.
#[global_allocator]
static ALLOCATOR: alloc::Allocator = alloc::Allocator;

/// mimalloc's `mi_option_purge_delay` (the same index in its v2 and v3 headers).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keep freed memory instead of handing it back to the OS: a hunt frees and reallocates its
/// event batches all the time, and every purged page came back as a fresh page fault that the
/// kernel zeroes (5,800 faults on the 10 GB bench instead of 370; most of the merge thread's
/// time). Peak memory is unchanged: what is kept is reused, and the process is short-lived.
fn keep_freed_memory() {
    // SAFETY: sets a plain integer option before any other thread exists; -1 is documented
    // as "no purging at all".
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

/// Fault memory in 4 KB pages, not 2 MB transparent huge pages (mimalloc asks for those on its
/// arenas). On the bench VM every fresh huge page cost the kernel 2-4 ms to zero and back (the
/// host hands memory over on first touch), a tenth of a second of an S3 hunt with both readers
/// waiting on it; 4 KB pages come from memory the guest already holds. A hunt touches about
/// 130 MB in all, so the TLB misses huge pages would save are few.
fn small_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_THP_DISABLE takes plain integers and changes only how this
    // process's later page faults are served. Failure (an old kernel) leaves huge pages on.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() -> ExitCode {
    small_pages();
    keep_freed_memory();
    let cli = args::Cli::parse();
    let result = match cli.command {
        args::Command::Events(a) => events_cmd::run(a),
        args::Command::Hunt(a) => hunt_cmd::run(a),
        args::Command::Baseline(a) => hunt_cmd::baseline(a),
        args::Command::Config(a) => hunt_cmd::config(a),
        args::Command::Simulate(a) => simulate_cmd::simulate(a),
        args::Command::Validate(a) => simulate_cmd::validate(a),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("snaptrail: error: {message}");
            ExitCode::from(2)
        }
    }
}
