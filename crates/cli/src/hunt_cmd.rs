//! `snaptrail hunt` and `snaptrail config`.

use crate::args::{BaselineArgs, ConfigAction, ConfigArgs, Format, HuntArgs, StateArgs};
use crate::report;
use snaptrail_detect::{Config, Hunter, StreamStats};
use snaptrail_ingest::Options;
use snaptrail_ingest::dedupe::Collapser;
use snaptrail_ingest::spool::Sorted;
use snaptrail_model::Severity;
use snaptrail_model::{Alert, Event, EventRef};
use snaptrail_state::{Caps, Store};
use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

pub fn load_config(explicit: Option<&Path>) -> Result<Config, String> {
    match explicit {
        Some(path) => Config::load(path),
        None if Path::new("snaptrail.toml").exists() => Config::load(Path::new("snaptrail.toml")),
        None => Ok(Config::default()),
    }
}

fn parse_time(flag: &str, value: Option<&str>) -> Result<Option<jiff::Timestamp>, String> {
    value
        .map(|v| {
            v.parse::<jiff::Timestamp>().map_err(|e| {
                format!("{flag} {v:?}: expected an RFC 3339 time like 2026-01-10T00:00:00Z ({e})")
            })
        })
        .transpose()
}

pub fn run(args: HuntArgs) -> Result<ExitCode, String> {
    let cfg = load_config(args.config.as_deref())?;
    let min = args
        .min_severity
        .as_deref()
        .map(|s| {
            Severity::parse(s).ok_or_else(|| {
                format!("--min-severity {s:?}: expected info, low, medium, high or critical")
            })
        })
        .transpose()?;
    let from = parse_time("--from", args.from.as_deref())?;
    let to = parse_time("--to", args.to.as_deref())?;
    let opts = Options {
        prefilter: !args.input.no_prefilter && !args.input.strict,
        only_relevant: true,
    };
    let (spool, mut summary) = if args.from_events {
        let spool = report::new_spool(&args.input, &cfg)?;
        let batch = report::read_events(&args.input)?;
        spool.add(batch.events);
        (spool, batch.summary)
    } else {
        let spooled = report::spool(&args.input, opts, &cfg)?;
        (spooled.spool, spooled.summary)
    };
    let store = open_store(&args.state)?;
    let mut retained = 0;
    if let (Some(store), Some((first, last))) = (&store, spool.time_range()) {
        // Events earlier runs kept, around this run's time span, so chains link across runs.
        let horizon = 86400 + cfg.window_secs.max(cfg.chain_horizon_secs);
        let earlier = store.retained(first.as_second() - horizon, last.as_second() + horizon)?;
        retained = earlier.len();
        spool.add(earlier);
    }
    let spilled = spool.spilled();
    let sorted = spool.into_sorted()?;
    let (mut alerts, stats, already) = detect(sorted, &cfg, store.as_ref(), from, to)?;
    summary.merged += stats.merged;
    summary.events = stats.stream.events;
    if let Some(min) = min {
        // Only what is printed counts as reported: filtered alerts stay unreported.
        alerts.retain(|a| a.severity >= min);
    }
    let stdout = std::io::stdout();
    let terminal = stdout.is_terminal();
    let format = match args.format.unwrap_or(if terminal {
        Format::Table
    } else {
        Format::Jsonl
    }) {
        Format::Table => snaptrail_output::Format::Table,
        Format::Jsonl => snaptrail_output::Format::Jsonl,
        Format::Json => snaptrail_output::Format::Json,
        Format::Csv => snaptrail_output::Format::Csv,
        Format::Ocsf => snaptrail_output::Format::Ocsf,
    };
    let mut out = BufWriter::new(stdout.lock());
    let written =
        snaptrail_output::write(format, &alerts, &mut out, terminal).and_then(|_| out.flush());
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(format!("writing results: {e}"));
    }
    report::print_summary(&summary, report::started(), Some(alerts.len()));
    print_stream_stats(&stats, spilled, &cfg);
    if let Some(store) = &store {
        // Commit after printing: a run killed before this point commits nothing, and its
        // rerun reports the same alerts again (at least once, never lost).
        let c = store.end_run(&alerts)?;
        eprintln!(
            "snaptrail: state {}: {} new events, {} seen in earlier runs (of them {} read back for chains), {} evicted by age or cap; {} alerts reported earlier not repeated",
            store.path.display(),
            c.new_events,
            c.already_seen,
            retained,
            c.evicted,
            already
        );
    }
    Ok(if alerts.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Say what the memory caps did, when they did anything.
fn print_stream_stats(stats: &Detected, spilled: u64, cfg: &Config) {
    let s = &stats.stream;
    let mut parts = Vec::new();
    if spilled > 0 {
        parts.push(format!(
            "{spilled} events sorted through temporary run files"
        ));
    }
    if s.evicted_keys > 0 {
        parts.push(format!(
            "{} windows/episodes/chains closed early at limits.max_keys = {}",
            s.evicted_keys, cfg.max_keys
        ));
    }
    if s.forgotten_principals > 0 {
        parts.push(format!(
            "{} principals' history forgotten at limits.max_principals = {}",
            s.forgotten_principals, cfg.max_principals
        ));
    }
    if stats.forced > 0 {
        parts.push(format!(
            "{} events passed on before their operation's rows all came (too many held)",
            stats.forced
        ));
    }
    if !parts.is_empty() {
        eprintln!("snaptrail: memory caps: {}", parts.join("; "));
    }
}

fn open_store(args: &StateArgs) -> Result<Option<Store>, String> {
    if args.no_state {
        return Ok(None);
    }
    let dir = args
        .state
        .clone()
        .or_else(snaptrail_state::default_dir)
        .ok_or("no --state DIR and no HOME to put the default state in (use --no-state)")?;
    Store::open(&dir, Caps::default()).map(Some)
}

/// What the detection stage counted.
struct Detected {
    stream: StreamStats,
    merged: u64,
    forced: u64,
}

/// Stream the run's events (time order, earlier runs' retained events included) through
/// collapse, the time filter, the store and the detectors; with a store, drop alerts it has
/// already reported. Returns (alerts, counts, not repeated).
fn detect(
    sorted: Sorted,
    cfg: &Config,
    store: Option<&Store>,
    from: Option<jiff::Timestamp>,
    to: Option<jiff::Timestamp>,
) -> Result<(Vec<Alert>, Detected, usize), String> {
    let mut hunter = Hunter::new(cfg, store.map(|s| s as &dyn snaptrail_model::Baseline));
    let within = |ev: &Event| snaptrail_detect::triage::within(ev.time, from, to);
    let (merged, forced) = stream(sorted, store, false, within, |ev| hunter.push(ev))?;
    let (alerts, stream) = hunter.finish();
    let counts = Detected {
        stream,
        merged,
        forced,
    };
    let Some(store) = store else {
        return Ok((alerts, counts, 0));
    };
    let total = alerts.len();
    let fresh: Vec<Alert> = alerts
        .into_iter()
        .filter(|a| !store.reported(&a.id))
        .collect();
    let already = total - fresh.len();
    Ok((fresh, counts, already))
}

/// Collapse the time-ordered stream and pass each event that `keep` accepts to `each`,
/// recording it first in the store's run (begun here; `learn_only` keeps no copy for chains).
/// Returns (rows merged, events passed on before their operation's rows all came).
fn stream(
    mut sorted: Sorted,
    store: Option<&Store>,
    learn_only: bool,
    keep: impl Fn(&Event) -> bool,
    mut each: impl FnMut(EventRef),
) -> Result<(u64, u64), String> {
    if let Some(store) = store {
        store.begin_run()?;
    }
    let mut failed: Option<String> = None;
    let mut pass = |ev: EventRef| {
        if !keep(&ev) {
            return;
        }
        if let (Some(store), None) = (store, &failed)
            && let Err(e) = store.record(&ev, learn_only)
        {
            failed = Some(e);
        }
        each(ev);
    };
    let (merged, forced, read_error) = if rayon::current_num_threads() >= 2 {
        pipelined(sorted, &mut pass)
    } else {
        let (merged, forced) = collapse(&mut sorted, &mut pass);
        (merged, forced, sorted.error.take())
    };
    match failed.or(read_error) {
        Some(e) => Err(e),
        None => Ok((merged, forced)),
    }
}

/// Events a batch of the pipeline carries, and batches in flight. Batches of 64 and 256 made
/// the tail slower than 1024 (170-195 ms against 135-150 ms on the 10 GB bench).
const PIPELINE_BATCH: usize = 1024;
const PIPELINE_DEPTH: usize = 8;

/// The merge and collapse on a thread of their own, feeding the detectors (and the store,
/// whose connection stays on this thread) in batches: once the readers finish, the rest of a
/// hunt ran on one core. Used batches come back to be refilled, so the events' references
/// are dropped where they were made and no batch is allocated twice.
fn pipelined(mut sorted: Sorted, pass: &mut impl FnMut(EventRef)) -> (u64, u64, Option<String>) {
    use std::sync::mpsc;
    let (full_tx, full_rx) = mpsc::sync_channel::<Vec<EventRef>>(PIPELINE_DEPTH);
    let (used_tx, used_rx) = mpsc::channel::<Vec<EventRef>>();
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || {
            let mut batch = Vec::with_capacity(PIPELINE_BATCH);
            let send = |batch: &mut Vec<EventRef>| {
                let mut next = match used_rx.try_recv() {
                    Ok(mut old) => {
                        old.clear();
                        old
                    }
                    Err(_) => Vec::with_capacity(PIPELINE_BATCH),
                };
                std::mem::swap(batch, &mut next);
                // The receiver is gone only if the consumer panicked; the scope passes that
                // panic on once this thread has run out.
                let _ = full_tx.send(next);
            };
            let (merged, forced) = collapse(&mut sorted, |ev| {
                batch.push(ev);
                if batch.len() == PIPELINE_BATCH {
                    send(&mut batch);
                }
            });
            if !batch.is_empty() {
                send(&mut batch);
            }
            (merged, forced, sorted.error.take())
        });
        for batch in full_rx {
            for ev in &batch {
                pass(ev.clone());
            }
            // The producer may be done and gone; the batch is then simply dropped here.
            let _ = used_tx.send(batch);
        }
        producer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Merged events through the collapser into `pass`; the rows merged and sent out early.
fn collapse(sorted: &mut Sorted, mut pass: impl FnMut(EventRef)) -> (u64, u64) {
    let mut collapser = Collapser::default();
    for ev in sorted.by_ref() {
        collapser.push(ev, &mut pass);
    }
    let (merged, forced) = (collapser.merged, collapser.forced);
    collapser.finish(&mut pass);
    (merged, forced)
}

pub fn baseline(args: BaselineArgs) -> Result<ExitCode, String> {
    let cfg = load_config(args.config.as_deref())?;
    let dir = args
        .state
        .clone()
        .or_else(snaptrail_state::default_dir)
        .ok_or("no --state DIR and no HOME")?;
    let store = Store::open(&dir, Caps::default())?;
    let opts = Options {
        prefilter: !args.input.no_prefilter && !args.input.strict,
        only_relevant: true,
    };
    // Learning from weeks of history streams like a hunt: sorted, collapsed, recorded.
    let spooled = report::spool(&args.input, opts, &cfg)?;
    let mut summary = spooled.summary;
    let sorted = spooled.spool.into_sorted()?;
    let (merged, _) = stream(
        sorted,
        Some(&store),
        true,
        |_| true,
        |_| summary.events += 1,
    )?;
    summary.merged += merged;
    let stats = store.end_run(&[])?;
    report::print_summary(&summary, report::started(), None);
    eprintln!(
        "snaptrail: baseline {}: learned from {} new events ({} already known), {} facts now, {} evicted",
        store.path.display(),
        stats.new_events,
        stats.already_seen,
        store.count("baseline"),
        stats.evicted
    );
    Ok(ExitCode::SUCCESS)
}

pub fn config(args: ConfigArgs) -> Result<ExitCode, String> {
    match args.action {
        ConfigAction::Init { file: None } => {
            print!("{}", snaptrail_detect::config::EXAMPLE);
            Ok(ExitCode::SUCCESS)
        }
        ConfigAction::Init { file: Some(path) } => {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            f.write_all(snaptrail_detect::config::EXAMPLE.as_bytes())
                .map_err(|e| format!("{}: {e}", path.display()))?;
            eprintln!("snaptrail: wrote {}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        ConfigAction::Check { file } => {
            let cfg = Config::load(&file)?;
            println!(
                "{}: ok (time zone {}, business hours {:02}:{:02}-{:02}:{:02}, {} own accounts, {} trusted targets, bulk > {}, window {}s)",
                file.display(),
                cfg.timezone_name,
                cfg.day_start / 60,
                cfg.day_start % 60,
                cfg.day_end / 60,
                cfg.day_end % 60,
                cfg.accounts.len(),
                cfg.trusted_share_targets.len(),
                cfg.bulk_snapshots,
                cfg.window_secs
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
