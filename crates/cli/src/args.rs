//! Command-line arguments (DESIGN.md's CLI contract).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "snaptrail",
    version,
    about = "Find cloud snapshot abuse in AWS, Azure and GCP audit logs"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Hunt for snapshot abuse and print alerts.
    Hunt(HuntArgs),
    /// Learn what is normal from history (first-seen baseline) without alerting.
    Baseline(BaselineArgs),
    /// Print normalized events as JSON lines (the debugging view; the map stage of scale-out).
    Events(EventsArgs),
    /// Configuration helpers.
    Config(ConfigArgs),
    /// Write realistic logs with attacks in them, as the clouds deliver them.
    Simulate(SimulateArgs),
    /// Simulate every scenario on a realistic background, hunt it with your config, and check
    /// that every attack is found and nothing else alerts.
    Validate(ValidateArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SimFormat {
    /// CloudTrail S3 layout (.json.gz objects), Azure event-hub files, GCP sink files.
    S3,
    /// CloudTrail as plain JSON lines per account and day.
    Jsonl,
}

#[derive(Args, Clone)]
pub struct SimulationArgs {
    /// Background events (normal activity) across all clouds.
    #[arg(long, default_value_t = 100_000)]
    pub background: u64,
    /// Days of activity, starting Monday 2026-01-05.
    #[arg(long, default_value_t = 7)]
    pub days: u32,
    /// AWS accounts of the organization.
    #[arg(long, default_value_t = 3)]
    pub accounts: usize,
    /// Principals per account.
    #[arg(long, default_value_t = 20)]
    pub principals: usize,
    /// Random seed: the same seed writes the same logs.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Clouds to simulate.
    #[arg(long, value_delimiter = ',', default_value = "aws,azure,gcp")]
    pub cloud: Vec<String>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(Args)]
pub struct SimulateArgs {
    /// Directory to write into (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Scenarios to include (default: all; `none` for background only). Repeatable.
    #[arg(long = "scenario")]
    pub scenarios: Vec<String>,
    #[arg(long, value_enum, default_value_t = SimFormat::S3)]
    pub format: SimFormat,
    /// Also write a snaptrail.toml describing the simulated organization (its accounts, DR
    /// account, backup roles) to hunt the logs with.
    #[arg(long)]
    pub write_config: Option<PathBuf>,
    /// Time zone for the diurnal rhythm and off-hours scenarios (default: the config's, else UTC).
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub sim: SimulationArgs,
}

#[derive(Args)]
pub struct ValidateArgs {
    /// Configuration to validate (default: ./snaptrail.toml when present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Keep the simulated logs in this directory instead of a temporary one.
    #[arg(long)]
    pub keep: Option<PathBuf>,
    #[command(flatten)]
    pub sim: SimulationArgs,
}

#[derive(Args, Clone)]
pub struct InputArgs {
    /// Files, directories (walked recursively) or `-` for stdin.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Worker threads for decoding (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Any bad input makes the run fail with exit status 2. Validates every record (turns the
    /// prefilter off), so nothing malformed goes unnoticed.
    #[arg(long)]
    pub strict: bool,
    /// Parse every record, even those the byte prefilter would skip (slower; for checking).
    #[arg(long)]
    pub no_prefilter: bool,
    /// Only the summary on stderr, no per-record diagnostics.
    #[arg(short, long)]
    pub quiet: bool,
    /// More detail on stderr: every diagnostic kept (up to 200 per file and 10,000 in all, then a count), not the first 20 per file.
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Args)]
pub struct EventsArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Only events that some detector or triage question reads.
    #[arg(long)]
    pub only_relevant: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Jsonl,
    Json,
    Csv,
    Ocsf,
}

#[derive(Args)]
pub struct HuntArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format (default: table on a terminal, jsonl otherwise).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Configuration file (default: ./snaptrail.toml when present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Drop alerts below this severity: info, low, medium, high, critical.
    #[arg(long)]
    pub min_severity: Option<String>,
    /// Only events at or after this time (RFC 3339, e.g. 2026-01-10T00:00:00Z).
    #[arg(long)]
    pub from: Option<String>,
    /// Only events before this time.
    #[arg(long)]
    pub to: Option<String>,
    #[command(flatten)]
    pub state: StateArgs,
    /// The inputs are normalized events (`snaptrail events --only-relevant` output, JSON
    /// lines) rather than raw logs: the reduce stage of a scale-out run.
    #[arg(long)]
    pub from_events: bool,
}

#[derive(Args, Clone)]
pub struct StateArgs {
    /// Where the baseline and run state live (default: $XDG_DATA_HOME/snaptrail or
    /// ~/.local/share/snaptrail). Alerts reported by earlier runs are not repeated.
    #[arg(long, conflicts_with = "no_state")]
    pub state: Option<PathBuf>,
    /// A pure in-memory hunt: no baseline read, nothing written.
    #[arg(long)]
    pub no_state: bool,
}

#[derive(Args)]
pub struct BaselineArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Where the baseline lives (default as for hunt).
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Config file (its `[limits]` bound the memory used while learning).
    #[arg(long, short = 'c')]
    pub config: Option<PathBuf>,
}

#[derive(Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub action: ConfigAction,
}

#[derive(Subcommand)]
pub enum ConfigAction {
    /// Write a commented example configuration (to FILE, or stdout).
    Init {
        /// Where to write it; refuses to overwrite an existing file.
        file: Option<PathBuf>,
    },
    /// Check a configuration file and print what it resolves to.
    Check { file: PathBuf },
}
