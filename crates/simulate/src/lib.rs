//! `snaptrail simulate`: logs exactly as the clouds deliver them, with a realistic background of
//! normal activity and attack scenarios whose ground truth is written beside them.
//! Deterministic for a given seed, whatever the thread count.

pub mod background;
pub mod estate;
pub mod layout;
pub mod records;
pub mod rng;
pub mod scenarios;
pub mod score;

pub use estate::Estate;
pub use layout::Format;
pub use scenarios::{NAMES as SCENARIOS, Truth};

use background::Day;
use rayon::prelude::*;
use rng::Rng;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::atomic::Ordering;

#[derive(Debug, Clone)]
pub struct Options {
    pub scenarios: Vec<String>,
    pub background: u64,
    pub days: u32,
    pub accounts: usize,
    pub principals: usize,
    pub seed: u64,
    pub format: Format,
    pub aws: bool,
    pub azure: bool,
    pub gcp: bool,
    /// The organization's time zone: diurnal rhythm and off-hours scenarios follow it.
    pub timezone: jiff::tz::TimeZone,
    /// First simulated day (local midnight); a Monday by default.
    pub start: jiff::civil::Date,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            scenarios: SCENARIOS.iter().map(|s| s.to_string()).collect(),
            background: 100_000,
            days: 7,
            accounts: 3,
            principals: 20,
            seed: 1,
            format: Format::S3,
            aws: true,
            azure: true,
            gcp: true,
            timezone: jiff::tz::TimeZone::UTC,
            start: jiff::civil::date(2026, 1, 5),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub files: u64,
    pub bytes: u64,
    pub json_bytes: u64,
    pub records: u64,
    pub background_records: u64,
    pub seed: u64,
    pub accounts: Vec<String>,
    pub domains: Vec<String>,
    pub trusted_share_targets: Vec<String>,
    pub allow_principals: Vec<String>,
    pub truth: Vec<Truth>,
}

pub const TRUTH_FILE: &str = "ground-truth.json";

fn day(opts: &Options, i: u32) -> Day {
    let date = opts
        .start
        .checked_add(jiff::Span::new().days(i as i64))
        .unwrap_or(opts.start);
    let midnight = date
        .to_zoned(opts.timezone.clone())
        .map(|z| z.timestamp())
        .unwrap_or_default();
    let weekday = date.weekday().to_monday_one_offset();
    Day {
        midnight,
        weekend: weekday >= 6,
    }
}

/// File tags of background batches: `BACKGROUND_TAG + day`.
const BACKGROUND_TAG: u64 = 0x1000;

/// Write the simulated estate under `out` and its ground truth to `out/ground-truth.json`.
pub fn simulate(out: &Path, opts: &Options) -> Result<Manifest, String> {
    for s in &opts.scenarios {
        if !SCENARIOS.contains(&s.as_str()) {
            return Err(format!(
                "unknown scenario {s:?}; known: {}",
                SCENARIOS.join(", ")
            ));
        }
    }
    if opts.days == 0 {
        return Err("--days must be at least 1".into());
    }
    let estate = Estate::build(opts.seed, opts.accounts, opts.principals);
    let writer = layout::Writer::new(out, opts.format);
    let clouds = [opts.aws, opts.azure, opts.gcp]
        .iter()
        .filter(|c| **c)
        .count()
        .max(1) as u64;
    // AWS carries most of the volume, as in most estates; Azure and GCP a share each.
    let (aws_share, other_share) = if clouds == 1 {
        (1.0, 1.0)
    } else {
        (0.8, 0.2 / (clouds - 1) as f64)
    };
    let weights: Vec<f64> = (0..opts.days)
        .map(|i| if day(opts, i).weekend { 0.3 } else { 1.0 })
        .collect();
    let total_weight: f64 = weights.iter().sum();
    let per_day = |i: u32, share: f64| {
        (opts.background as f64 * share * weights[i as usize] / total_weight).round() as u64
    };

    let mut chunks: Vec<(u32, Option<usize>, u8)> = Vec::new();
    for d in 0..opts.days {
        if opts.aws {
            chunks.extend((0..estate.accounts.len()).map(|a| (d, Some(a), 0)));
        }
        if opts.azure {
            chunks.push((d, None, 1));
        }
        if opts.gcp {
            chunks.push((d, None, 2));
        }
    }
    chunks.par_iter().try_for_each(|&(d, acct, cloud)| {
        let today = day(opts, d);
        let mut rng = Rng::derive(
            opts.seed,
            &[d as u64, acct.unwrap_or(99) as u64, cloud as u64],
        );
        let records = match (cloud, acct) {
            (0, Some(a)) => background::aws_day(
                &estate,
                a,
                &today,
                d as u64,
                per_day(d, aws_share) / estate.accounts.len() as u64,
                &mut rng,
            ),
            (1, _) => background::azure_day(&estate, &today, per_day(d, other_share), &mut rng),
            _ => background::gcp_day(&estate, &today, per_day(d, other_share), &mut rng),
        };
        // One tag per background day: records near midnight fall into the next day's hour
        // buckets, and two writers of one bucket must not pick the same file name.
        writer
            .write(records, BACKGROUND_TAG + d as u64)
            .map_err(|e| format!("writing under {}: {e}", out.display()))
    })?;
    let background_records = writer.records.load(Ordering::Relaxed);

    let mut truth = Vec::new();
    // Scenario batches are tagged 1 + their index, below BACKGROUND_TAG.
    for (i, name) in opts.scenarios.iter().enumerate() {
        let index = SCENARIOS.iter().position(|s| s == name).unwrap_or(i) as u64;
        // Scenarios fall on weekdays, spread over the range.
        let mut d = (index as u32 * 3) % opts.days;
        for _ in 0..opts.days {
            if !day(opts, d).weekend {
                break;
            }
            d = (d + 1) % opts.days;
        }
        let Some((records, t)) =
            scenarios::generate(name, &estate, &day(opts, d), opts.seed, index)
        else {
            continue;
        };
        let kept: Vec<_> = records
            .into_iter()
            .filter(|r| {
                (r.cloud == records::Cloud::Aws && opts.aws)
                    || (r.cloud == records::Cloud::Azure && opts.azure)
                    || (r.cloud == records::Cloud::Gcp && opts.gcp)
            })
            .collect();
        if kept.is_empty() {
            continue;
        }
        writer
            .write(kept, 1 + index)
            .map_err(|e| format!("writing under {}: {e}", out.display()))?;
        truth.push(t);
    }
    let (accounts, domains, trusted, allow) = estate.organization();
    let manifest = Manifest {
        files: writer.files.load(Ordering::Relaxed),
        bytes: writer.bytes.load(Ordering::Relaxed),
        json_bytes: writer.json_bytes.load(Ordering::Relaxed),
        records: writer.records.load(Ordering::Relaxed),
        background_records,
        seed: opts.seed,
        accounts,
        domains,
        trusted_share_targets: trusted,
        allow_principals: allow,
        truth,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?;
    std::fs::write(out.join(TRUTH_FILE), json)
        .map_err(|e| format!("{}: {e}", out.join(TRUTH_FILE).display()))?;
    Ok(manifest)
}
