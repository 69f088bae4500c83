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
        // Neutralized like the alert formats: control characters escaped by serde, and
        // `< > &` and bidirectional controls as \uXXXX (the decoded values are unchanged).
        let line = serde_json::to_string(ev).map_err(|e| e.to_string())?;
        if writeln!(out, "{}", snaptrail_output::sanitize::json_html_safe(&line)).is_err() {
            break; // downstream closed the pipe (`| head`): stop quietly
        }
    }
    let _ = out.flush();
    report::print_summary(&batch.summary, report::started(), None);
    Ok(ExitCode::SUCCESS)
}
