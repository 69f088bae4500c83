//! `snaptrail events`: normalized events as JSON lines.

use crate::args::EventsArgs;
use crate::report;
use snaptrail_ingest::Options;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

pub fn run(args: EventsArgs) -> Result<ExitCode, String> {
    let opts = Options {
        prefilter: args.only_relevant && !args.input.no_prefilter && !args.input.strict,
        only_relevant: args.only_relevant,
    };
    let batch = report::ingest(&args.input, opts)?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for ev in &batch.events {
        // serde_json escapes control characters, so a log field cannot reach the terminal raw.
        serde_json::to_writer(&mut out, ev).map_err(|e| e.to_string())?;
        if out.write_all(b"\n").is_err() {
            break; // downstream closed the pipe (`| head`): stop quietly
        }
    }
    let _ = out.flush();
    report::print_summary(&batch, report::started(), None);
    Ok(ExitCode::SUCCESS)
}
