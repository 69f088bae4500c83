//! The azure normalizer on any JSON value: an event, a counted skip or an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use snaptrail_ingest::normalize::azure;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = azure::normalize(&v, "fuzz");
    }
});
