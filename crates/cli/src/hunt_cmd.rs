//! `snaptrail hunt` and `snaptrail config`.

use crate::args::{BaselineArgs, ConfigAction, ConfigArgs, Format, HuntArgs, StateArgs};
use crate::report;
use snaptrail_detect::Config;
use snaptrail_ingest::Options;
use snaptrail_model::Severity;
use snaptrail_model::{Alert, Event};
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
    let mut batch = if args.from_events {
        report::read_events(&args.input)?
    } else {
        report::ingest(&args.input, opts)?
    };
    if from.is_some() || to.is_some() {
        batch
            .events
            .retain(|e| snaptrail_detect::triage::within(e.time, from, to));
    }
    let mut store = open_store(&args.state)?;
    let (mut alerts, already) = detect(&batch.events, &cfg, store.as_mut())?;
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
    report::print_summary(&batch, report::started(), Some(alerts.len()));
    if let Some(store) = store.as_mut() {
        // Commit after printing: a run killed before this point commits nothing, and its
        // rerun reports the same alerts again (at least once, never lost).
        let stats = store.commit(&batch.events, &alerts, false)?;
        eprintln!(
            "snaptrail: state {}: {} new events, {} seen in earlier runs, {} evicted by age or cap; {} alerts reported earlier not repeated",
            store.path.display(),
            stats.new_events,
            stats.already_seen,
            stats.evicted,
            already
        );
    }
    Ok(if alerts.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
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

/// Detect over this run's events plus the retained events of earlier runs that chains may
/// need; with a store, drop alerts it has already reported. Returns (alerts, not repeated).
fn detect(
    events: &[Event],
    cfg: &Config,
    store: Option<&mut Store>,
) -> Result<(Vec<Alert>, usize), String> {
    let Some(store) = store else {
        return Ok((snaptrail_detect::hunt(events, cfg), 0));
    };
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return Ok((Vec::new(), 0));
    };
    let horizon = 86400 + cfg.window_secs;
    let retained = store.retained(
        first.time.as_second() - horizon,
        last.time.as_second() + horizon,
    )?;
    let mut all: Vec<Event> = events.to_vec();
    let here: std::collections::HashSet<String> = events.iter().map(Event::source_key).collect();
    all.extend(
        retained
            .into_iter()
            .filter(|e| !here.contains(&e.source_key())),
    );
    snaptrail_ingest::dedupe::sort(&mut all);
    let alerts =
        snaptrail_detect::hunt_with(&all, cfg, Some(&*store as &dyn snaptrail_model::Baseline));
    let total = alerts.len();
    let fresh: Vec<Alert> = alerts
        .into_iter()
        .filter(|a| !store.reported(&a.id))
        .collect();
    let already = total - fresh.len();
    Ok((fresh, already))
}

pub fn baseline(args: BaselineArgs) -> Result<ExitCode, String> {
    let dir = args
        .state
        .clone()
        .or_else(snaptrail_state::default_dir)
        .ok_or("no --state DIR and no HOME")?;
    let mut store = Store::open(&dir, Caps::default())?;
    let batch = report::ingest(
        &args.input,
        Options {
            prefilter: !args.input.no_prefilter && !args.input.strict,
            only_relevant: true,
        },
    )?;
    let stats = store.commit(&batch.events, &[], true)?;
    report::print_summary(&batch, report::started(), None);
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
