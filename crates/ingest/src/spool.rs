//! A run's events in time order without holding them all. Readers hand batches of events to the
//! [`Spool`]; past a budget, the batch in memory is sorted and encoded into a run (in
//! [`crate::codec`]'s binary format), held in memory up to an allowance and written to a
//! temporary file past it, and [`Spool::into_sorted`] merges the runs back in [`sort`]'s order.
//! Input in any order gives the same stream; memory is the budget, the allowance, and one event
//! per run.

use crate::dedupe::{order, sort, sorted_positions};
use snaptrail_model::{Event, EventRef};
use std::cmp::Ordering;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Runs merged at once. More runs are first merged in groups of this many into longer runs, so
/// open files and read buffers stay bounded however large the input.
const FAN_IN: usize = 32;
/// Read buffer per run being merged.
const READ_BUFFER: usize = 64 << 10;
/// Bytes of encoded runs kept in memory by default; runs past this go to files. A run is about
/// 180 bytes an event, so this holds runs of a few hundred thousand events.
pub const RUNS_IN_MEMORY: usize = 64 << 20;

pub struct Spool {
    /// Events each slot holds before it writes a run.
    budget: usize,
    dir: PathBuf,
    /// One batch in memory per reader thread: a thread sorts, writes and frees the events it
    /// made itself. Frees from another thread (a shared batch written by whichever thread
    /// filled it) go through the allocator's slower cross-thread path.
    slots: Vec<Mutex<Slot>>,
    /// Bytes of runs held in memory before runs go to files: with two readers, writing runs
    /// into the page cache and reading them back cost a twentieth of a hunt.
    runs_in_memory: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Slot {
    memory: Vec<Event>,
    /// The batch last written, emptied and kept for its capacity: a batch grown afresh for
    /// every run costs a copy at each doubling and the kernel zeroing new pages.
    spare: Option<Vec<Event>>,
    range: Option<(jiff::Timestamp, jiff::Timestamp)>,
}

/// A sorted, encoded run: in memory while the spool's allowance lasts, else in a file.
enum Run {
    Memory(Vec<u8>),
    File(PathBuf),
}

#[derive(Default)]
struct Inner {
    runs: Vec<Run>,
    /// Bytes of the runs held in memory.
    in_memory: usize,
    /// Events in run files.
    spilled: u64,
    error: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Spool {
    /// A spool writing its runs under `dir` (created when the first run is written), holding
    /// about `budget` events in memory across the current rayon pool's threads. Outside a pool
    /// that is the global pool, which asking builds with the default size if it was not built
    /// yet: configure it first.
    pub fn new(dir: PathBuf, budget: usize) -> Spool {
        let threads = rayon::current_num_threads().max(1);
        Spool {
            budget: (budget / threads).max(1),
            dir,
            slots: (0..threads).map(|_| Mutex::default()).collect(),
            runs_in_memory: RUNS_IN_MEMORY,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Hold at most `bytes` of sorted runs in memory (0: every run goes to a file).
    pub fn with_runs_in_memory(mut self, bytes: usize) -> Spool {
        self.runs_in_memory = bytes;
        self
    }

    /// A spool under the system temporary directory, in a directory of its own.
    /// Spools of runs killed before they could clean up (kill -9) are removed first.
    pub fn in_temp_dir(budget: usize) -> Spool {
        sweep_stale(&std::env::temp_dir());
        let unique = format!(
            "{SPOOL_PREFIX}{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        );
        Spool::new(std::env::temp_dir().join(unique), budget)
    }

    /// Add events in any order. Called from reader threads; a full batch is sorted and written
    /// outside any lock, so readers keep reading while one of them spills.
    pub fn add(&self, mut events: Vec<Event>) {
        self.take(&mut events);
    }

    /// Add the events in `events`, leaving it empty with its capacity.
    pub fn take(&self, events: &mut Vec<Event>) {
        let i = rayon::current_thread_index().unwrap_or(0) % self.slots.len();
        let mut full = {
            let mut slot = lock(&self.slots[i]);
            for ev in events.iter() {
                slot.range = Some(match slot.range {
                    None => (ev.time, ev.time),
                    Some((a, b)) => (a.min(ev.time), b.max(ev.time)),
                });
            }
            if slot.memory.capacity() == 0 {
                let budget = self.budget;
                slot.memory = slot
                    .spare
                    .take()
                    .unwrap_or_else(|| Vec::with_capacity(budget + events.len()));
            }
            slot.memory.append(events);
            if slot.memory.len() < self.budget {
                return;
            }
            std::mem::take(&mut slot.memory)
        };
        let written = self.write_run(&mut full);
        // Empty even when writing failed early (the run fails then, with the error below).
        full.clear();
        lock(&self.slots[i]).spare = Some(full);
        let mut inner = self.lock();
        match written {
            Ok((run, n)) => {
                if let Run::File(_) = run {
                    inner.spilled += n;
                }
                inner.runs.push(run);
            }
            Err(e) => {
                inner.error.get_or_insert(e);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        lock(&self.inner)
    }

    /// Sort and encode `events` into a new run, leaving the vector empty.
    fn write_run(&self, events: &mut Vec<Event>) -> Result<(Run, u64), String> {
        // Encoded in sorted order without moving the events themselves.
        let by = sorted_positions(events);
        let n = events.len() as u64;
        let mut bytes = Vec::with_capacity(events.len() * 192);
        encode_sorted(events, &by, &mut bytes);
        drop_prefetched(events);
        let run_number = {
            let mut inner = self.lock();
            if inner.in_memory + bytes.len() <= self.runs_in_memory {
                inner.in_memory += bytes.len();
                return Ok((Run::Memory(bytes), n));
            }
            inner.runs.len()
        };
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| format!("spool {}: {e}", self.dir.display()))?;
        let path = self.dir.join(format!(
            "run-{run_number}-{:?}.bin",
            std::thread::current().id()
        ));
        std::fs::write(&path, &bytes).map_err(|e| format!("spool {}: {e}", path.display()))?;
        Ok((Run::File(path), n))
    }

    /// Events written to run files so far.
    pub fn spilled(&self) -> u64 {
        self.lock().spilled
    }

    /// The earliest and latest event time added.
    pub fn time_range(&self) -> Option<(jiff::Timestamp, jiff::Timestamp)> {
        let ranges = self.slots.iter().filter_map(|slot| lock(slot).range);
        ranges.reduce(|(a, b), (c, d)| (a.min(c), b.max(d)))
    }

    /// Every event, merged in time order. Fails if a run could not be written or reopened.
    pub fn into_sorted(self) -> Result<Sorted, String> {
        let inner = self.inner.into_inner().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = inner.error {
            return Err(e);
        }
        let mut runs = inner.runs;
        let mut pass = 0;
        while runs.len() >= FAN_IN {
            let mut longer = Vec::new();
            let mut rest = runs.into_iter();
            for k in 0.. {
                let group: Vec<Run> = rest.by_ref().take(FAN_IN).collect();
                if group.is_empty() {
                    break;
                }
                let path = self.dir.join(format!("merged-{pass}-{k}.bin"));
                merge_into(group, &path)?;
                longer.push(Run::File(path));
            }
            runs = longer;
            pass += 1;
        }
        let mut sources: Vec<Source> = Vec::new();
        for slot in self.slots {
            let mut memory = slot.into_inner().unwrap_or_else(|p| p.into_inner()).memory;
            if !memory.is_empty() {
                sort(&mut memory);
                sources.push(Source::Memory(memory.into_iter()));
            }
        }
        for run in runs {
            sources.push(open_run(run)?);
        }
        Ok(Sorted::merge(sources, Some(self.dir)))
    }
}

fn open_run(run: Run) -> Result<Source, String> {
    let decoder = crate::codec::Decoder::default();
    Ok(match run {
        Run::Memory(bytes) => Source::MemoryRun {
            bytes,
            at: 0,
            decoder,
        },
        Run::File(path) => {
            let file =
                std::fs::File::open(&path).map_err(|e| format!("spool {}: {e}", path.display()))?;
            Source::Run {
                path,
                reader: BufReader::with_capacity(READ_BUFFER, file),
                buf: Vec::new(),
                decoder,
            }
        }
    })
}

/// Merge sorted runs into one file at `out`, removing the files among them.
fn merge_into(runs: Vec<Run>, out: &Path) -> Result<(), String> {
    let files: Vec<PathBuf> = runs
        .iter()
        .filter_map(|run| match run {
            Run::File(path) => Some(path.clone()),
            Run::Memory(_) => None,
        })
        .collect();
    let sources = runs
        .into_iter()
        .map(open_run)
        .collect::<Result<Vec<_>, _>>()?;
    let mut merged = Sorted::merge(sources, None);
    let failed = |e: std::io::Error| format!("spool {}: {e}", out.display());
    // Runs held in memory until now may not have made the directory.
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    let mut file = std::fs::File::create(out).map_err(failed)?;
    // Encoded into a buffer written a megabyte at a time.
    let mut bytes = Vec::with_capacity(1 << 20);
    let mut encoder = crate::codec::Encoder::default();
    for ev in merged.by_ref() {
        encoder.encode(&ev, &mut bytes);
        if bytes.len() >= 1 << 20 {
            file.write_all(&bytes).map_err(failed)?;
            bytes.clear();
        }
    }
    file.write_all(&bytes).map_err(failed)?;
    if let Some(e) = merged.error.take() {
        return Err(e);
    }
    for path in files {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// Events asked of memory ahead of their encoding: how far ahead the event itself is asked
/// for, and (half as far) the strings it points to, which need the event in cache first.
const PREFETCH_AHEAD: usize = 16;

/// Encode `events` in the order of `by` onto `out`. That order is time, not the order the
/// events were made in, so each event and each of its strings is a cache miss unless it is
/// asked for ahead of time.
fn encode_sorted(events: &[Event], by: &[usize], out: &mut Vec<u8>) {
    let mut encoder = crate::codec::Encoder::default();
    for (k, &i) in by.iter().enumerate() {
        if let Some(&far) = by.get(k + PREFETCH_AHEAD) {
            let ev = &events[far];
            let start = (ev as *const Event).cast::<u8>();
            for line in (0..std::mem::size_of::<Event>()).step_by(64) {
                prefetch(start.wrapping_add(line));
            }
        }
        if let Some(&near) = by.get(k + PREFETCH_AHEAD / 2) {
            let ev = &events[near];
            prefetch_strings(ev);
            // The other end of the strings that are hashed (the hash reads the last bytes first).
            for s in [&ev.principal, &ev.origin]
                .into_iter()
                .chain(&ev.user_agent)
            {
                prefetch(s.as_ptr().wrapping_add(s.len().saturating_sub(1)));
            }
        }
        encoder.encode(&events[i], out);
    }
}

/// Drop every event of `events`, asking ahead for the strings each frees: freeing writes into
/// each string's block, and those were made long before.
fn drop_prefetched(events: &mut Vec<Event>) {
    let mut drain = events.drain(..);
    loop {
        if let Some(ev) = drain.as_slice().get(PREFETCH_AHEAD / 2) {
            prefetch_strings(ev);
        }
        if drain.next().is_none() {
            break;
        }
    }
}

/// Ask for the first cache line of each of `ev`'s long strings and of its resource list.
fn prefetch_strings(ev: &Event) {
    for s in [&ev.principal, &ev.origin, &ev.event_id]
        .into_iter()
        .chain(&ev.user_agent)
    {
        prefetch(s.as_ptr());
    }
    prefetch(ev.resources.as_ptr().cast());
}

/// Ask for the cache line holding `at`. Only a hint: it reads nothing and cannot fault.
#[inline(always)]
fn prefetch(at: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint that never faults, whatever the address.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(at.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

const SPOOL_PREFIX: &str = "snaptrail-spool-";

/// Remove spool directories under `base` left by processes that no longer run: a hunt killed
/// with kill -9 cannot remove its own. Where there is no `/proc` to ask, nothing is removed.
/// Returns how many were removed.
pub fn sweep_stale(base: &std::path::Path) -> usize {
    if !std::path::Path::new("/proc/self").exists() {
        return 0;
    }
    let Ok(entries) = std::fs::read_dir(base) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(SPOOL_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let alive =
            pid == std::process::id() || std::path::Path::new(&format!("/proc/{pid}")).exists();
        if !alive && std::fs::remove_dir_all(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

enum Source {
    /// A sort batch never written out.
    Memory(std::vec::IntoIter<Event>),
    /// A run held in memory, decoded in place.
    MemoryRun {
        bytes: Vec<u8>,
        at: usize,
        decoder: crate::codec::Decoder,
    },
    Run {
        path: PathBuf,
        reader: BufReader<std::fs::File>,
        buf: Vec<u8>,
        decoder: crate::codec::Decoder,
    },
}

const UNDECODABLE: &str = "a run record does not decode";

impl Source {
    fn next(&mut self) -> Result<Option<EventRef>, String> {
        match self {
            Source::Memory(it) => Ok(it.next().map(Arc::new)),
            Source::MemoryRun { bytes, at, decoder } => {
                let Some(&len) = bytes.get(*at..).and_then(|b| b.first_chunk::<4>()) else {
                    return Ok(None);
                };
                let start = *at + 4;
                let len = u32::from_le_bytes(len) as usize;
                let record = bytes.get(start..start + len);
                *at = start + len;
                record
                    .and_then(|r| decoder.decode(r))
                    .map(|ev| Some(Arc::new(ev)))
                    .ok_or_else(|| format!("spool (a run in memory): {UNDECODABLE}"))
            }
            Source::Run {
                path,
                reader,
                buf,
                decoder,
            } => {
                let failed = |e: &dyn std::fmt::Display| format!("spool {}: {e}", path.display());
                let mut len = [0u8; 4];
                match reader.read_exact(&mut len) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
                    Err(e) => return Err(failed(&e)),
                }
                buf.resize(u32::from_le_bytes(len) as usize, 0);
                reader.read_exact(buf).map_err(|e| failed(&e))?;
                decoder
                    .decode(buf)
                    .map(|ev| Some(Arc::new(ev)))
                    .ok_or_else(|| failed(&UNDECODABLE))
            }
        }
    }
}

/// The merged stream. The spool's directory (run files) is removed when it is dropped.
pub struct Sorted {
    /// The next event of each source, `None` once it is exhausted.
    heads: Vec<Option<EventRef>>,
    sources: Vec<Source>,
    dir: Option<PathBuf>,
    /// The first error reading a run back; the stream ends early when set.
    pub error: Option<String>,
}

impl Sorted {
    fn merge(sources: Vec<Source>, dir: Option<PathBuf>) -> Sorted {
        let mut sorted = Sorted {
            heads: sources.iter().map(|_| None).collect(),
            sources,
            dir,
            error: None,
        };
        for i in 0..sorted.sources.len() {
            sorted.refill(i);
        }
        sorted
    }

    fn refill(&mut self, i: usize) {
        self.heads[i] = match self.sources[i].next() {
            Ok(next) => next,
            Err(e) => {
                self.error.get_or_insert(e);
                None
            }
        };
    }

    /// The source whose head comes first in [`sort`]'s order (the lowest-numbered among
    /// equals). A scan, not a heap: there are at most [`FAN_IN`] runs plus a batch per reader
    /// thread, and a binary heap of events moved a few hundred bytes at every sift (a sixth of
    /// the merge's time).
    fn first(&self) -> Option<usize> {
        let mut best: Option<(usize, &Event)> = None;
        for (i, head) in self.heads.iter().enumerate() {
            if let Some(ev) = head.as_deref()
                && best.is_none_or(|(_, b)| order(ev, b) == Ordering::Less)
            {
                best = Some((i, ev));
            }
        }
        best.map(|(i, _)| i)
    }
}

impl Iterator for Sorted {
    type Item = EventRef;

    fn next(&mut self) -> Option<EventRef> {
        let i = self.first()?;
        let ev = self.heads[i].take();
        self.refill(i);
        ev
    }
}

impl Drop for Sorted {
    fn drop(&mut self) {
        // Absent when nothing spilled; nothing to report either way.
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(second: i64, id: &str) -> Event {
        serde_json::from_value(serde_json::json!({
            "time": jiff::Timestamp::from_second(second).unwrap(), "cloud": "aws", "account": "1",
            "principal": "p", "principal_kind": "user", "service": "ec2", "operation": "CreateSnapshot",
            "component": "create", "outcome": {"success": true}, "event_id": id, "origin": format!("f:{id}")
        }))
        .unwrap()
    }

    #[test]
    fn spools_of_dead_processes_are_swept_and_live_ones_kept() {
        let base = tempfile::tempdir().unwrap();
        // PIDs never go this high (pid_max is at most 2^22): a process that is gone.
        let dead = base.path().join(format!("{SPOOL_PREFIX}4294967295-1"));
        let mine = base
            .path()
            .join(format!("{SPOOL_PREFIX}{}-1", std::process::id()));
        let other = base.path().join("not-a-spool-1-2");
        for d in [&dead, &mine, &other] {
            std::fs::create_dir_all(d.join("x")).unwrap();
        }
        assert_eq!(sweep_stale(base.path()), 1);
        assert!(!dead.exists());
        assert!(mine.exists() && other.exists());
    }

    #[test]
    fn many_runs_merge_in_passes_into_one_ordered_stream() {
        // 200 events in a scrambled order, two per batch: 100 runs, merged in passes of
        // FAN_IN; the runs all in files, all in memory, and some of each.
        let one_run = {
            let mut bytes = Vec::new();
            encode_sorted(
                &[event(100, "e100"), event(101, "e101")],
                &[0, 1],
                &mut bytes,
            );
            bytes.len()
        };
        for (memory, in_files) in [(0, 200), (RUNS_IN_MEMORY, 0), (30 * one_run, 140)] {
            let dir = tempfile::tempdir().unwrap();
            let spool = Spool::new(dir.path().join("spool"), 2).with_runs_in_memory(memory);
            let mut times: Vec<i64> = (0..200).map(|i| (i * 7919) % 200).collect();
            times.rotate_left(13);
            for pair in times.chunks(2) {
                spool.add(pair.iter().map(|t| event(*t, &format!("e{t}"))).collect());
            }
            assert_eq!(spool.spilled(), in_files, "{memory}");
            let mut sorted = spool.into_sorted().unwrap();
            let got: Vec<i64> = sorted.by_ref().map(|e| e.time.as_second()).collect();
            assert!(sorted.error.is_none());
            assert_eq!(got, (0..200).collect::<Vec<_>>());
            drop(sorted);
            assert!(!dir.path().join("spool").exists(), "run files are removed");
        }
    }

    #[test]
    fn a_run_is_encoded_in_sorted_order_and_its_batch_dropped() {
        // More events than are asked for ahead, so every event is prefetched and encoded once.
        let mut events: Vec<Event> = (0..100)
            .map(|i| event((i * 37) % 100, &format!("e{i}")))
            .collect();
        let by = sorted_positions(&events);
        let mut bytes = Vec::new();
        encode_sorted(&events, &by, &mut bytes);
        let mut expected = Vec::new();
        let mut encoder = crate::codec::Encoder::default();
        for &i in &by {
            encoder.encode(&events[i], &mut expected);
        }
        assert_eq!(bytes, expected);
        // Read back the way the merge reads a run held in memory.
        let mut run = open_run(Run::Memory(bytes)).unwrap();
        let mut times = Vec::new();
        while let Some(ev) = run.next().unwrap() {
            times.push(ev.time.as_second());
        }
        assert_eq!(times, (0..100).collect::<Vec<_>>());
        drop_prefetched(&mut events);
        assert!(events.is_empty());
    }
}
