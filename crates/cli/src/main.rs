//! `snaptrail`: the command line. Thin by design: parsing arguments, wiring ingest → detect →
//! output, and exit codes (0 nothing found, 1 alerts, 2 could not run).

mod args;
mod events_cmd;
mod hunt_cmd;
mod report;
mod simulate_cmd;

use clap::Parser;
use std::process::ExitCode;

// The events that pass the prefilter are parsed into JSON trees and normalized: many small
// allocations, which glibc's malloc spends a fifth of the run on.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
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
