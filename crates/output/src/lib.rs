//! Printers, one per output format. Every printer neutralizes text that came from logs:
//! [`sanitize`] says how for each medium.

mod csv;
mod ocsf;
pub mod sanitize;
mod table;

use snaptrail_model::Alert;
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Jsonl,
    Json,
    Csv,
    Ocsf,
}

pub fn write(format: Format, alerts: &[Alert], out: &mut dyn Write, color: bool) -> io::Result<()> {
    match format {
        Format::Jsonl => {
            for a in alerts {
                writeln!(
                    out,
                    "{}",
                    sanitize::json_html_safe(&serde_json::to_string(a)?)
                )?;
            }
            Ok(())
        }
        Format::Json => writeln!(
            out,
            "{}",
            sanitize::json_html_safe(&serde_json::to_string_pretty(alerts)?)
        ),
        Format::Csv => csv::write(alerts, out),
        Format::Ocsf => ocsf::write(alerts, out),
        Format::Table => table::write(alerts, out, color),
    }
}
