//! The byte-level splitter of `{"Records":[…]}` envelopes and arrays: ranges stay in bounds and
//! in order, whatever the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use snaptrail_ingest::split::{envelope_array, skip_ws, split_array};

fuzz_target!(|data: &[u8]| {
    let start = skip_ws(data, 0);
    let open = envelope_array(data, start).or_else(|| (data.get(start) == Some(&b'[')).then_some(start));
    if let Some(open) = open {
        let split = split_array(data, open);
        let mut last = open;
        for r in split.elements {
            assert!(r.start >= last && r.start <= r.end && r.end <= data.len());
            last = r.end;
        }
    }
});
