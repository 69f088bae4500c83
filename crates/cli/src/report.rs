//! The stderr side of a run: diagnostics and the summary. stdout carries results only.

use crate::args::InputArgs;
use snaptrail_detect::Config;
use snaptrail_ingest::{Batch, Diagnostic, Options, Spooled, Summary};
use snaptrail_output::sanitize::terminal;
use std::collections::BTreeMap;
use std::time::Instant;

/// Diagnostics shown per file before the rest are only counted (all of them with -v).
const SHOWN_PER_FILE: usize = 20;

fn set_threads(input: &InputArgs) -> Result<(), String> {
    if let Some(n) = input.threads {
        if n == 0 {
            return Err("--threads must be at least 1".into());
        }
        // Building the global pool fails only if it was already built; one per process.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global();
    }
    Ok(())
}

pub fn ingest(input: &InputArgs, opts: Options) -> Result<Batch, String> {
    set_threads(input)?;
    let started = Instant::now();
    let batch = snaptrail_ingest::ingest(&input.paths, &opts);
    finish(&batch.summary, &batch.diagnostics, input, started)?;
    Ok(batch)
}

/// Read the inputs into a spool: events come back in time order, memory stays bounded.
pub fn spool(input: &InputArgs, opts: Options, cfg: &Config) -> Result<Spooled, String> {
    let spool = new_spool(input, cfg)?;
    let started = Instant::now();
    let spooled = snaptrail_ingest::spool(&input.paths, &opts, spool);
    finish(&spooled.summary, &spooled.diagnostics, input, started)?;
    Ok(spooled)
}

/// A spool under the temporary directory, sized by the config's limits and by the thread pool,
/// which is set up from `--threads` first: a spool asks rayon how many threads there are, and
/// asking before the pool is built builds the default one, leaving `--threads` ignored.
pub fn new_spool(
    input: &InputArgs,
    cfg: &Config,
) -> Result<snaptrail_ingest::spool::Spool, String> {
    set_threads(input)?;
    Ok(
        snaptrail_ingest::spool::Spool::in_temp_dir(cfg.sort_buffer_events)
            .with_runs_in_memory(cfg.sort_memory_mb << 20),
    )
}

/// Report what was wrong with the input, and refuse it under `--strict`.
fn finish(
    summary: &Summary,
    diagnostics: &[Diagnostic],
    input: &InputArgs,
    started: Instant,
) -> Result<(), String> {
    print_diagnostics(diagnostics, summary.unkept_diagnostics, input);
    if input.strict && summary.has_bad_input() {
        print_summary(summary, started, None);
        return Err("bad input and --strict: see the diagnostics above".into());
    }
    REPORT_START.with(|s| s.set(Some(started)));
    Ok(())
}

/// Read normalized events (JSON lines of `Event`) from files or stdin. Rows of one operation
/// that reached different map tasks merge here, as in a single-process hunt.
pub fn read_events(input: &InputArgs) -> Result<Batch, String> {
    use std::io::BufRead;
    let started = Instant::now();
    let (inputs, mut batch) = snaptrail_ingest::walk(&input.paths);
    for inp in &inputs {
        let name = inp.name();
        batch.summary.files += 1;
        let stream = match snaptrail_ingest::source::open(inp) {
            Ok((s, _)) => s,
            Err(e) => {
                batch.summary.unreadable_files += 1;
                batch.diagnostics.push(Diagnostic {
                    file: name,
                    location: String::new(),
                    message: format!("cannot read: {e}"),
                    skipped: false,
                });
                continue;
            }
        };
        let at_line = |i: usize, message: String| Diagnostic {
            file: name.clone(),
            location: format!("line {}", i + 1),
            message,
            skipped: false,
        };
        for (i, line) in stream.split(b'\n').enumerate() {
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    batch.summary.read_errors += 1;
                    batch
                        .diagnostics
                        .push(at_line(i, format!("read error: {e}")));
                    break;
                }
            };
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            batch.summary.bytes += line.len() as u64 + 1;
            batch.summary.records += 1;
            match serde_json::from_slice::<snaptrail_model::Event>(&line) {
                Ok(ev) => batch.events.push(ev),
                Err(e) => {
                    batch.summary.bad_records += 1;
                    if batch.diagnostics.len() < snaptrail_ingest::KEPT_DIAGNOSTICS_IN_ALL {
                        batch
                            .diagnostics
                            .push(at_line(i, format!("not a normalized event: {e}")));
                    } else {
                        batch.summary.unkept_diagnostics += 1;
                    }
                }
            }
        }
    }
    finish(&batch.summary, &batch.diagnostics, input, started)?;
    Ok(batch)
}

thread_local! {
    static REPORT_START: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) };
}

fn print_diagnostics(diagnostics: &[Diagnostic], unkept: u64, input: &InputArgs) {
    if input.quiet {
        return;
    }
    let mut per_file: BTreeMap<&str, usize> = BTreeMap::new();
    for d in diagnostics {
        let n = per_file.entry(d.file.as_str()).or_insert(0);
        *n += 1;
        if input.verbose || *n <= SHOWN_PER_FILE {
            let label = if d.skipped { "skipped" } else { "bad input" };
            eprintln!("snaptrail: {label}: {}", terminal(&d.to_string()));
        }
    }
    for (file, n) in per_file {
        if !input.verbose && n > SHOWN_PER_FILE {
            eprintln!(
                "snaptrail: bad input: {}: {} more problems not shown (-v shows all)",
                terminal(file),
                n - SHOWN_PER_FILE
            );
        }
    }
    if unkept > 0 {
        eprintln!(
            "snaptrail: bad input: {unkept} more problems counted but not kept (at most {} per file, {} in all)",
            snaptrail_ingest::decode::KEPT_DIAGNOSTICS,
            snaptrail_ingest::KEPT_DIAGNOSTICS_IN_ALL
        );
    }
}

pub fn print_summary(s: &Summary, started: Instant, alerts: Option<usize>) {
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    // Some kinds are named by log fields (an Azure category, an EventBridge detail-type).
    let skipped: Vec<String> = s
        .skipped
        .iter()
        .map(|(k, v)| format!("{}={v}", terminal(k)))
        .collect();
    let mut line = format!(
        "snaptrail: {} files, {} records, {} events, {} bad records, {} skipped{}, {} prefiltered, {} merged",
        s.files,
        s.records,
        s.events,
        s.bad_records,
        s.skipped_total(),
        if skipped.is_empty() {
            String::new()
        } else {
            format!(" ({})", skipped.join(", "))
        },
        s.prefiltered,
        s.merged,
    );
    if s.unreadable_files + s.read_errors > 0 {
        line.push_str(&format!(
            ", {} unreadable files, {} broken streams",
            s.unreadable_files, s.read_errors
        ));
    }
    if let Some(n) = alerts {
        line.push_str(&format!(", {n} alerts"));
    }
    line.push_str(&format!(
        ", {:.1} MB in {:.2}s ({:.0} MB/s)",
        s.bytes as f64 / 1e6,
        secs,
        s.bytes as f64 / 1e6 / secs
    ));
    eprintln!("{line}");
}

pub fn started() -> Instant {
    REPORT_START.with(|s| s.get()).unwrap_or_else(Instant::now)
}
