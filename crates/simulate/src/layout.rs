//! Where records land, as each cloud delivers them:
//! - CloudTrail: `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<id>.json.gz`,
//!   one gzipped `{"Records":[…]}` object per account, region and five minutes;
//! - Azure: event-hub capture files `{"records":[…]}` per subscription and hour;
//! - GCP: Cloud Storage sink files of LogEntry lines per project and hour.
//!
//! With `Format::Jsonl`, CloudTrail is written as uncompressed JSON lines per account and day
//! (the shape people load into DuckDB or pipe through jq).

use crate::records::{Cloud, Record};
use crate::rng::Rng;
use flate2::Compression;
use flate2::write::GzEncoder;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    S3,
    Jsonl,
}

pub struct Writer {
    pub root: PathBuf,
    pub format: Format,
    pub files: AtomicU64,
    /// Bytes on disk (compressed where the cloud compresses).
    pub bytes: AtomicU64,
    /// Bytes of JSON before compression: what a hunt has to parse.
    pub json_bytes: AtomicU64,
    pub records: AtomicU64,
    /// Every file written in this run: writing one twice would silently lose records.
    written: std::sync::Mutex<std::collections::HashSet<PathBuf>>,
}

impl Writer {
    pub fn new(root: &Path, format: Format) -> Writer {
        Writer {
            root: root.to_path_buf(),
            format,
            files: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            json_bytes: AtomicU64::new(0),
            records: AtomicU64::new(0),
            written: Default::default(),
        }
    }

    /// Write a batch of records; `tag` tells batches that share a time bucket apart.
    pub fn write(&self, mut records: Vec<Record>, tag: u64) -> io::Result<()> {
        records.sort_by(|a, b| {
            (a.cloud, &a.account, a.region, a.time).cmp(&(b.cloud, &b.account, b.region, b.time))
        });
        let mut groups: BTreeMap<(Cloud, String, &'static str, i64), Vec<&Record>> =
            BTreeMap::new();
        for r in &records {
            let bucket = match (r.cloud, self.format) {
                (Cloud::Aws, Format::S3) => r.time.as_second().div_euclid(300) * 300,
                (Cloud::Aws, Format::Jsonl) => r.time.as_second().div_euclid(86400) * 86400,
                _ => r.time.as_second().div_euclid(3600) * 3600,
            };
            let region = if r.cloud == Cloud::Aws && self.format == Format::S3 {
                r.region
            } else {
                ""
            };
            groups
                .entry((r.cloud, r.account.clone(), region, bucket))
                .or_default()
                .push(r);
        }
        let mut rng = Rng::derive(tag, &[0x1A70]);
        for ((cloud, account, region, bucket), recs) in groups {
            let t = jiff::Timestamp::from_second(bucket).unwrap_or_default();
            let (y, mo, d, h, mi) = {
                let z = t.to_zoned(jiff::tz::TimeZone::UTC);
                (z.year(), z.month(), z.day(), z.hour(), z.minute())
            };
            let path = match (cloud, self.format) {
                (Cloud::Aws, Format::S3) => self.root.join(format!(
                    "AWSLogs/{account}/CloudTrail/{region}/{y:04}/{mo:02}/{d:02}/{account}_CloudTrail_{region}_{y:04}{mo:02}{d:02}T{h:02}{mi:02}Z_{}.json.gz",
                    rng.alnum(16)
                )),
                (Cloud::Aws, Format::Jsonl) => self.root.join(format!("aws/{account}/{y:04}-{mo:02}-{d:02}-{tag:x}.jsonl")),
                (Cloud::Azure, _) => self.root.join(format!(
                    "azure/resourceId=/SUBSCRIPTIONS/{}/y={y:04}/m={mo:02}/d={d:02}/h={h:02}/m=00/PT1H-{tag:x}.json",
                    account.to_uppercase()
                )),
                (Cloud::Gcp, _) => self.root.join(format!(
                    "gcp/{account}/cloudaudit.googleapis.com/activity/{y:04}/{mo:02}/{d:02}/{h:02}:00:00_{h:02}:59:59_S{tag:x}.json"
                )),
            };
            let mut body =
                Vec::with_capacity(recs.iter().map(|r| r.json.len() + 1).sum::<usize>() + 16);
            let envelope = match (cloud, self.format) {
                (Cloud::Aws, Format::S3) => Some("Records"),
                (Cloud::Azure, Format::S3) => Some("records"),
                _ => None,
            };
            if let Some(key) = envelope {
                body.extend_from_slice(format!("{{\"{key}\":[").as_bytes());
                for (i, r) in recs.iter().enumerate() {
                    if i > 0 {
                        body.push(b',');
                    }
                    body.extend_from_slice(r.json.as_bytes());
                }
                body.extend_from_slice(b"]}");
            } else {
                for r in &recs {
                    body.extend_from_slice(r.json.as_bytes());
                    body.push(b'\n');
                }
            }
            self.json_bytes
                .fetch_add(body.len() as u64, Ordering::Relaxed);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let written = if cloud == Cloud::Aws && self.format == Format::S3 {
                // CloudTrail objects are gzip; level 1 keeps generation fast at a realistic ratio.
                let mut enc =
                    GzEncoder::new(Vec::with_capacity(body.len() / 8), Compression::fast());
                enc.write_all(&body)?;
                enc.finish()?
            } else {
                body
            };
            let fresh = self
                .written
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(path.clone());
            if !fresh {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} would be written twice in one run", path.display()),
                ));
            }
            std::fs::write(&path, &written)?;
            self.files.fetch_add(1, Ordering::Relaxed);
            self.bytes
                .fetch_add(written.len() as u64, Ordering::Relaxed);
            self.records.fetch_add(recs.len() as u64, Ordering::Relaxed);
        }
        Ok(())
    }
}
