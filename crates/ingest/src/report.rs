//! What a run tells about its input: counts for the summary and one diagnostic per bad thing.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// A problem with the input, located precisely enough to find it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub file: String,
    /// `line N`, `line N, record M`, `decompressed byte N`.
    pub location: String,
    pub message: String,
    /// A whole file passed over on purpose (not JSON at all): counted as skipped, not bad.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: {}: {}", self.file, self.location, self.message)
        }
    }
}

/// Distinct kinds of skipped record counted apart.
pub const SKIP_KINDS: usize = 64;
/// Where skipped records of any further kind are counted.
pub const OTHER_KINDS: &str = "other-kinds";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub files: u64,
    /// Files that could not be opened at all.
    pub unreadable_files: u64,
    /// Files whose stream broke part-way (truncated gzip): what came before was read.
    pub read_errors: u64,
    /// Decompressed bytes read.
    pub bytes: u64,
    pub records: u64,
    /// Records the byte prefilter proved irrelevant without parsing.
    pub prefiltered: u64,
    /// Parsed and normalized, but of no use to any detector (with `--only-relevant`).
    pub irrelevant: u64,
    /// Rows folded into another (duplicate ids, Start/Success rows of one operation).
    pub merged: u64,
    pub events: u64,
    pub bad_records: u64,
    /// Records that are not cloud audit records, by kind.
    pub skipped: BTreeMap<String, u64>,
    /// Diagnostics counted but not kept, past the cap per file (`decode::KEPT_DIAGNOSTICS`).
    #[serde(skip_serializing_if = "is_zero")]
    pub unkept_diagnostics: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Summary {
    pub fn add(&mut self, other: &Summary) {
        self.files += other.files;
        self.unreadable_files += other.unreadable_files;
        self.read_errors += other.read_errors;
        self.bytes += other.bytes;
        self.records += other.records;
        self.prefiltered += other.prefiltered;
        self.irrelevant += other.irrelevant;
        self.merged += other.merged;
        self.events += other.events;
        self.bad_records += other.bad_records;
        self.unkept_diagnostics += other.unkept_diagnostics;
        for (k, v) in &other.skipped {
            self.skip(k, *v);
        }
    }

    /// Count `n` skipped records of `kind`. Kinds are named partly by log fields (an
    /// EventBridge detail-type, a GCP log name), so past [`SKIP_KINDS`] distinct ones the rest
    /// are counted together under [`OTHER_KINDS`]: the map cannot grow with the input.
    pub fn skip(&mut self, kind: &str, n: u64) {
        let kind = if self.skipped.contains_key(kind) || self.skipped.len() < SKIP_KINDS {
            kind
        } else {
            OTHER_KINDS
        };
        *self.skipped.entry(kind.to_string()).or_insert(0) += n;
    }

    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// Whether anything in the input was bad (for `--strict`).
    pub fn has_bad_input(&self) -> bool {
        self.bad_records > 0 || self.unreadable_files > 0 || self.read_errors > 0
    }
}
