//! The whole decode path on arbitrary bytes: compression sniffing, line/document detection,
//! envelopes, normalizers. Must never panic, and must account for every record.
#![no_main]
use libfuzzer_sys::fuzz_target;
use snaptrail_ingest::{Options, read_bytes};

fuzz_target!(|data: &[u8]| {
    for opts in [Options { prefilter: false, only_relevant: false }, Options::default()] {
        let out = read_bytes("fuzz", data.to_vec(), &opts);
        let s = &out.summary;
        let files_skipped = s.skipped.get("file:not-json").copied().unwrap_or(0);
        assert!(s.records >= out.events.len() as u64 - s.merged.min(out.events.len() as u64));
        assert!(s.skipped_total() >= files_skipped);
    }
});
