//! From bytes on disk to normalized events: [`source`] finds and decompresses inputs, [`decode`]
//! splits envelopes into records, [`normalize`] turns each record into an [`Event`], and
//! [`dedupe`] makes one operation one event.

pub mod codec;
pub mod decode;
pub mod dedupe;
pub mod gunzip;
pub mod normalize;
pub mod prefilter;
pub mod report;
pub mod source;
pub mod split;
pub mod spool;
pub mod structural;

pub use decode::{FileOutput, Options};
pub use report::{Diagnostic, Summary};
pub use source::Input;

use snaptrail_model::Event;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The events of a whole run, with what was counted and what went wrong.
#[derive(Debug, Default)]
pub struct Batch {
    pub events: Vec<Event>,
    pub summary: Summary,
    pub diagnostics: Vec<Diagnostic>,
}

/// Read one input completely.
pub fn read_input(input: &Input, opts: &Options) -> FileOutput {
    read_input_into(input, opts, None)
}

/// Read one input, handing events to `sink` as they pile up (what is left at the end stays in
/// the output).
pub fn read_input_into(input: &Input, opts: &Options, sink: Option<decode::Sink>) -> FileOutput {
    let name = input.name();
    let mut decoder = decode::Decoder::new(opts, &name);
    decoder.sink = sink;
    let opened = match input {
        Input::File { path, .. } => std::fs::File::open(path).and_then(|mut file| {
            // The size is asked again, not taken from the listing: a log can grow in between.
            // One that cannot be asked is streamed.
            let len = file.metadata().map_or(u64::MAX, |m| m.len());
            if len <= source::WHOLE_FILE_LIMIT {
                let whole = source::with_small_file(&file, len, |bytes, failure| {
                    decoder.read_slice(bytes);
                    if let Some(e) = failure {
                        decoder.read_failed(bytes.len() as u64, &e);
                    }
                })?;
                if whole.is_some() {
                    return Ok(());
                }
                // Too large once read or decompressed: streamed from the start instead, from
                // the file already open.
                std::io::Seek::rewind(&mut file)?;
            }
            source::decompress(Box::new(file)).map(|(stream, _)| decoder.read_chunked(stream))
        }),
        Input::Stdin => source::open(input).map(|(stream, _)| decoder.read_chunked(stream)),
    };
    one_file(decoder, &name, opened)
}

/// Decode bytes already in memory (compressed or not) as if read from a file called `name`.
pub fn read_bytes(name: &str, bytes: Vec<u8>, opts: &Options) -> FileOutput {
    let mut decoder = decode::Decoder::new(opts, name);
    let opened = source::decompress(Box::new(std::io::Cursor::new(bytes)))
        .map(|(stream, _)| decoder.read_chunked(stream));
    one_file(decoder, name, opened)
}

/// What decoding one file gave, counted as a file; `opened` failing means it could not be read
/// at all.
fn one_file(decoder: decode::Decoder, name: &str, opened: std::io::Result<()>) -> FileOutput {
    let mut out = decoder.finish();
    if let Err(e) = opened {
        out.summary.unreadable_files += 1;
        out.diagnostics.push(Diagnostic {
            file: name.to_string(),
            location: String::new(),
            message: format!("cannot read: {e}"),
            skipped: false,
        });
    }
    out.summary.files += 1;
    out
}

/// Expand paths into inputs; paths that cannot be walked are reported in the returned batch.
pub fn walk(paths: &[PathBuf]) -> (Vec<Input>, Batch) {
    let (inputs, errors) = source::expand(paths);
    let mut batch = Batch::default();
    for (file, message) in errors {
        batch.summary.unreadable_files += 1;
        batch.diagnostics.push(Diagnostic {
            file,
            location: String::new(),
            message,
            skipped: false,
        });
    }
    (inputs, batch)
}

/// What [`spool`] read: the events, in a [`spool::Spool`], and what was counted.
pub struct Spooled {
    pub spool: spool::Spool,
    pub summary: Summary,
    pub diagnostics: Vec<Diagnostic>,
}

/// Read every input, files in parallel, into a spool that gives the events back in time order
/// with bounded memory (the batch [`ingest`] holds them all). Collapsing happens on the way out.
pub fn spool(paths: &[PathBuf], opts: &Options, spool: spool::Spool) -> Spooled {
    let (inputs, batch) = walk(paths);
    let sink = |events: &mut Vec<Event>| spool.take(events);
    // Trimmed as each input finishes, so memory stays bounded however many inputs are broken;
    // which messages are kept past the budget then depends on timing, the counts do not.
    let kept = AtomicUsize::new(0);
    // Each thread adds up its own files' counts and keeps only the diagnostics: a slot per
    // input (48k objects in an S3 export) is megabytes of fresh pages on one thread before
    // any reading starts.
    let per_thread = fold_largest_first(
        &inputs,
        || (Summary::default(), Vec::new()),
        |(summary, diagnostics), i, input| {
            let mut out = read_input_into(input, opts, Some(&sink));
            spool.add(std::mem::take(&mut out.events));
            within_budget(&kept, &mut out);
            summary.add(&out.summary);
            if !out.diagnostics.is_empty() {
                diagnostics.push((i, out.diagnostics));
            }
        },
    );
    let mut spooled = Spooled {
        spool,
        summary: batch.summary,
        diagnostics: batch.diagnostics,
    };
    let mut diagnostics = Vec::new();
    for (summary, kept) in per_thread {
        spooled.summary.add(&summary);
        diagnostics.extend(kept);
    }
    diagnostics.sort_unstable_by_key(|(i, _)| *i);
    spooled
        .diagnostics
        .extend(diagnostics.into_iter().flat_map(|(_, d)| d));
    spooled
}

/// Read every input, files in parallel on the current rayon pool; the result does not depend on
/// the number of threads (outputs are combined in input order, then sorted and collapsed).
pub fn ingest(paths: &[PathBuf], opts: &Options) -> Batch {
    let (inputs, mut batch) = walk(paths);
    let outputs = map_largest_first(&inputs, |input| read_input(input, opts));
    // In input order, so the messages kept do not depend on the number of threads.
    let kept = AtomicUsize::new(0);
    for mut out in outputs {
        within_budget(&kept, &mut out);
        batch.summary.add(&out.summary);
        batch.diagnostics.extend(out.diagnostics);
        batch.events.extend(out.events);
    }
    batch.summary.merged += dedupe::collapse(&mut batch.events);
    batch.summary.events = batch.events.len() as u64;
    batch
}

/// Diagnostics kept across all the inputs of a run (each input keeps at most
/// [`decode::KEPT_DIAGNOSTICS`]); past this they are counted, so a tree of broken files cannot
/// fill memory with messages.
pub const KEPT_DIAGNOSTICS_IN_ALL: usize = 10_000;

/// Keep `out`'s diagnostics while the run's budget lasts, and count the rest.
fn within_budget(kept: &AtomicUsize, out: &mut FileOutput) {
    let n = out.diagnostics.len();
    let before = kept.fetch_add(n, Ordering::Relaxed);
    let allowed = KEPT_DIAGNOSTICS_IN_ALL.saturating_sub(before).min(n);
    out.summary.unkept_diagnostics += (n - allowed) as u64;
    out.diagnostics.truncate(allowed);
}

/// `f` over every input on the current rayon pool, each thread taking the largest input not yet
/// taken, so the last to finish is a small one and no thread idles while another reads a big
/// file; results come back in input order.
fn map_largest_first<T: Send>(inputs: &[Input], f: impl Fn(&Input) -> T + Sync) -> Vec<T> {
    let per_thread = fold_largest_first(inputs, Vec::new, |done, i, input| {
        done.push((i, f(input)));
    });
    let mut done: Vec<(usize, T)> = per_thread.into_iter().flatten().collect();
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, t)| t).collect()
}

/// Every input folded into an accumulator per thread of the current rayon pool, largest input
/// first (see [`map_largest_first`]); `f` is also given the input's position.
fn fold_largest_first<A: Send>(
    inputs: &[Input],
    init: impl Fn() -> A + Sync,
    f: impl Fn(&mut A, usize, &Input) + Sync,
) -> Vec<A> {
    let size = |input: &Input| match input {
        Input::File { listed_bytes, .. } => *listed_bytes,
        Input::Stdin => 0,
    };
    let mut order: Vec<(u64, usize)> = inputs.iter().map(size).zip(0..).collect();
    order.sort_by_key(|&(bytes, i)| (std::cmp::Reverse(bytes), i));
    let next = AtomicUsize::new(0);
    let folded = Mutex::new(Vec::new());
    rayon::broadcast(|_| {
        let mut acc = init();
        while let Some(&(_, i)) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            f(&mut acc, i, &inputs[i]);
        }
        folded.lock().unwrap_or_else(|p| p.into_inner()).push(acc);
    });
    folded.into_inner().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spool_reports_counts_and_diagnostics_in_input_order_though_read_largest_first() {
        let dir = tempfile::tempdir().unwrap();
        // Later names are larger, so they are read first.
        for (i, name) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            // A first line that parses makes the file JSON lines, each broken line reported.
            let broken = "{\"eventName\": broken\n".repeat(i + 1);
            let text = format!("{{\"eventName\": \"x\"}}\n{broken}");
            std::fs::write(dir.path().join(format!("{name}.jsonl")), text).unwrap();
        }
        let two = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let runs = tempfile::tempdir().unwrap();
        // Without the prefilter, which would skip these records unparsed.
        let opts = Options {
            prefilter: false,
            only_relevant: true,
        };
        let spooled = two.install(|| {
            let runs = spool::Spool::new(runs.path().join("spool"), 100);
            spool(&[dir.path().to_path_buf()], &opts, runs)
        });
        let batch = ingest(&[dir.path().to_path_buf()], &opts);
        assert_eq!(spooled.summary.files, 5);
        assert_eq!(spooled.summary.bad_records, 15);
        assert_eq!(spooled.summary, batch.summary);
        let files: Vec<String> = spooled
            .diagnostics
            .iter()
            .map(|d| d.file.rsplit('/').next().unwrap().to_string())
            .collect();
        let expected: Vec<String> = ["a", "b", "c", "d", "e"]
            .iter()
            .enumerate()
            .flat_map(|(i, n)| std::iter::repeat_n(format!("{n}.jsonl"), i + 1))
            .collect();
        assert_eq!(files, expected);
        assert_eq!(spooled.diagnostics, batch.diagnostics);
    }

    #[test]
    fn largest_inputs_are_read_first_and_results_keep_input_order() {
        let dir = tempfile::tempdir().unwrap();
        let sizes = [3usize, 700, 0, 5000, 42];
        for (i, n) in sizes.iter().enumerate() {
            std::fs::write(dir.path().join(format!("f{i}")), vec![b'x'; *n]).unwrap();
        }
        let (inputs, errors) = source::expand(&[dir.path().to_path_buf()]);
        assert!(errors.is_empty());
        let taken = Mutex::new(Vec::new());
        let one_thread = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let results = one_thread.install(|| {
            map_largest_first(&inputs, |input| {
                let Input::File { path, .. } = input else {
                    unreachable!()
                };
                let n = std::fs::metadata(path).unwrap().len();
                taken.lock().unwrap().push(n);
                n
            })
        });
        assert_eq!(taken.into_inner().unwrap(), vec![5000, 700, 42, 3, 0]);
        assert_eq!(results, vec![3, 700, 0, 5000, 42]);
    }
}
