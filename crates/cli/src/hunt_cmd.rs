//! `snaptrail hunt` and `snaptrail config`.

use crate::args::{ConfigAction, ConfigArgs, Format, HuntArgs};
use crate::report;
use snaptrail_detect::Config;
use snaptrail_ingest::Options;
use snaptrail_model::Severity;
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
    let mut batch = report::ingest(&args.input, opts)?;
    if from.is_some() || to.is_some() {
        batch
            .events
            .retain(|e| snaptrail_detect::triage::within(e.time, from, to));
    }
    let mut alerts = snaptrail_detect::hunt(&batch.events, &cfg);
    if let Some(min) = min {
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
    Ok(if alerts.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
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
