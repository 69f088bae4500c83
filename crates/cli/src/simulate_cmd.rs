//! `snaptrail simulate` and `snaptrail validate`.

use crate::args::{SimFormat, SimulateArgs, SimulationArgs, ValidateArgs};
use crate::hunt_cmd::load_config;
use snaptrail_detect::Config;
use snaptrail_ingest::Options;
use snaptrail_simulate::score::evaluate;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

fn options(
    sim: &SimulationArgs,
    cfg: &Config,
    scenarios: Vec<String>,
    format: SimFormat,
) -> Result<snaptrail_simulate::Options, String> {
    if let Some(n) = sim.threads {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global();
    }
    let mut opts = snaptrail_simulate::Options {
        background: sim.background,
        days: sim.days,
        accounts: sim.accounts,
        principals: sim.principals,
        seed: sim.seed,
        format: match format {
            SimFormat::S3 => snaptrail_simulate::Format::S3,
            SimFormat::Jsonl => snaptrail_simulate::Format::Jsonl,
        },
        aws: false,
        azure: false,
        gcp: false,
        timezone: cfg.timezone.clone(),
        ..Default::default()
    };
    for c in &sim.cloud {
        match c.as_str() {
            "aws" => opts.aws = true,
            "azure" => opts.azure = true,
            "gcp" => opts.gcp = true,
            other => return Err(format!("--cloud {other:?}: expected aws, azure or gcp")),
        }
    }
    if !scenarios.is_empty() {
        opts.scenarios = if scenarios == ["none"] {
            Vec::new()
        } else {
            scenarios
        };
    }
    Ok(opts)
}

pub fn simulate(args: SimulateArgs) -> Result<ExitCode, String> {
    let cfg = load_config(args.config.as_deref())?;
    let opts = options(&args.sim, &cfg, args.scenarios.clone(), args.format)?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let started = Instant::now();
    let m = snaptrail_simulate::simulate(&args.out, &opts)?;
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    if let Some(path) = &args.write_config {
        let list = |xs: &[String]| {
            xs.iter()
                .map(|x| format!("{x:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let toml = format!(
            "# The organization `snaptrail simulate` made (seed {}).\n[organization]\naccounts = [{}]\ndomains = [{}]\ntrusted_share_targets = [{}]\n\n[business_hours]\ntimezone = {:?}\n\n[allow]\nprincipals = [{}]\n",
            m.seed,
            list(&m.accounts),
            list(&m.domains),
            list(&m.trusted_share_targets),
            cfg.timezone_name,
            list(&m.allow_principals)
        );
        std::fs::write(path, toml).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    eprintln!(
        "snaptrail: simulated {} records ({} background, {} scenarios) in {} files: {:.1} MB of JSON ({:.1} MB on disk) in {:.2}s ({:.0} MB/s of JSON); ground truth in {}",
        m.records,
        m.background_records,
        m.truth.len(),
        m.files,
        m.json_bytes as f64 / 1e6,
        m.bytes as f64 / 1e6,
        secs,
        m.json_bytes as f64 / 1e6 / secs,
        args.out.join(snaptrail_simulate::TRUTH_FILE).display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn validate(args: ValidateArgs) -> Result<ExitCode, String> {
    let mut cfg = load_config(args.config.as_deref())?;
    let opts = options(&args.sim, &cfg, Vec::new(), SimFormat::S3)?;
    let temp;
    let dir: &Path = match &args.keep {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
            d
        }
        None => {
            temp = tempdir()?;
            &temp.0
        }
    };
    let started = Instant::now();
    let manifest = snaptrail_simulate::simulate(dir, &opts)?;
    let simulated = started.elapsed();
    cfg.extend_organization(
        &manifest.accounts,
        &manifest.domains,
        &manifest.trusted_share_targets,
        &manifest.allow_principals,
    );
    let batch = snaptrail_ingest::ingest(&[dir.to_path_buf()], &Options::default());
    if batch.summary.bad_records > 0 {
        return Err(format!(
            "the simulated logs have {} bad records: {:?}",
            batch.summary.bad_records,
            batch.diagnostics.first()
        ));
    }
    let alerts = snaptrail_detect::hunt(&batch.events, &cfg);
    let report = evaluate(&manifest.truth, &alerts);
    println!("{:<28} {:<44} {:<44} result", "scenario", "expected", "got");
    for r in &report.rows {
        println!(
            "{:<28} {:<44} {:<44} {}",
            r.scenario,
            r.expected,
            r.got,
            if r.pass { "pass" } else { "FAIL" }
        );
    }
    for fp in &report.false_positives {
        println!("unexpected alert on background: {fp}");
    }
    println!(
        "precision {:.3} ({} true, {} false positives at medium or above), recall {:.3}",
        report.precision,
        report.true_positives,
        report.false_positives.len(),
        report.recall
    );
    eprintln!(
        "snaptrail: validated {} scenarios on {} background records ({} events hunted, {} alerts) in {:.1}s (simulation {:.1}s)",
        manifest.truth.len(),
        manifest.background_records,
        batch.summary.events,
        alerts.len(),
        started.elapsed().as_secs_f64(),
        simulated.as_secs_f64()
    );
    let passed = report.rows.iter().filter(|r| r.pass).count();
    let failed = report.rows.len() - passed + report.false_positives.len();
    println!("validate: {passed} passed, {failed} failed");
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A temporary directory removed on drop (kept small: no dependency for one directory).
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempdir() -> Result<TempDir, String> {
    let base = std::env::temp_dir();
    for n in 0..1000u32 {
        let dir = base.join(format!("snaptrail-validate-{}-{n}", std::process::id()));
        if std::fs::create_dir(&dir).is_ok() {
            return Ok(TempDir(dir));
        }
    }
    Err(format!(
        "cannot create a temporary directory in {}",
        base.display()
    ))
}
