//! Micro-benchmarks of the decode path (divan): `cargo bench -p snaptrail-ingest`.
//! Inputs are made here from the fixtures so the numbers are comparable across machines.

use snaptrail_ingest::normalize::{aws, azure, gcp};
use snaptrail_ingest::{Options, gunzip, prefilter, read_bytes, split};

fn main() {
    divan::main();
}

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/").to_string() + rel)
        .unwrap()
}

/// About 4 MB of CloudTrail: the seed and detector fixtures repeated, as one `Records` object
/// and as JSON lines, plus irrelevant records (the bulk of real trails).
fn cloudtrail() -> (Vec<u8>, Vec<u8>) {
    let mut records: Vec<serde_json::Value> = Vec::new();
    for f in [
        "seed/1-ebs-snapshot-cli.json",
        "seed/2-cross-account-share.json",
        "aws/exports.json",
        "aws/bulk-and-benign.json",
    ] {
        let v: serde_json::Value = serde_json::from_slice(&fixture(f)).unwrap();
        records.extend(v["Records"].as_array().unwrap().iter().cloned());
    }
    let mut noise = records[0].clone();
    noise["eventName"] = "DescribeInstances".into();
    noise["requestParameters"] = serde_json::json!({"instancesSet": {}, "filterSet": {}});
    let mut all = Vec::new();
    for i in 0..120 {
        for r in &records {
            all.push(r.clone());
        }
        for _ in 0..20 * records.len() {
            let mut n = noise.clone();
            n["eventID"] = format!("noise-{i}").into();
            all.push(n);
        }
    }
    let envelope = serde_json::to_vec(&serde_json::json!({"Records": all})).unwrap();
    let mut lines = Vec::new();
    for r in &all {
        lines.extend(serde_json::to_vec(r).unwrap());
        lines.push(b'\n');
    }
    (envelope, lines)
}

#[divan::bench(args = [true, false])]
fn records_envelope(bencher: divan::Bencher, prefilter: bool) {
    let (envelope, _) = cloudtrail();
    let opts = Options {
        prefilter,
        only_relevant: true,
    };
    bencher
        .counter(divan::counter::BytesCount::of_slice(&envelope))
        .bench(|| read_bytes("b", envelope.clone(), &opts).events.len());
}

#[divan::bench(args = [true, false])]
fn json_lines(bencher: divan::Bencher, prefilter: bool) {
    let (_, lines) = cloudtrail();
    let opts = Options {
        prefilter,
        only_relevant: true,
    };
    bencher
        .counter(divan::counter::BytesCount::of_slice(&lines))
        .bench(|| read_bytes("b", lines.clone(), &opts).events.len());
}

#[divan::bench]
fn prefilter_only(bencher: divan::Bencher) {
    let (_, lines) = cloudtrail();
    bencher
        .counter(divan::counter::BytesCount::of_slice(&lines))
        .bench(|| {
            // Lines found as the decoder finds them (SIMD), so the prefilter is what is timed.
            let mut start = 0;
            let mut kept = 0;
            for end in memchr::memchr_iter(b'\n', &lines) {
                kept += usize::from(prefilter::may_be_relevant(&lines[start..end]));
                start = end + 1;
            }
            kept
        });
}

#[divan::bench]
fn split_envelope(bencher: divan::Bencher) {
    let (envelope, _) = cloudtrail();
    let open = split::envelope_array(&envelope, 0).unwrap();
    bencher
        .counter(divan::counter::BytesCount::of_slice(&envelope))
        .bench(|| split::split_array(&envelope, open).elements.len());
}

/// One S3 object's worth (about 200 KB, as CloudTrail writes them): inflated just before, it
/// is split from the core's own cache, where the whole envelope above streams from memory.
#[divan::bench]
fn split_object(bencher: divan::Bencher) {
    let (envelope, _) = cloudtrail();
    let records: serde_json::Value = serde_json::from_slice(&envelope).unwrap();
    let mut object = Vec::new();
    for n in 1.. {
        let some = &records["Records"].as_array().unwrap()[..n];
        object = serde_json::to_vec(&serde_json::json!({ "Records": some })).unwrap();
        if object.len() >= 200_000 {
            break;
        }
    }
    let open = split::envelope_array(&object, 0).unwrap();
    bencher
        .counter(divan::counter::BytesCount::of_slice(&object))
        .bench(|| split::split_array(&object, open).elements.len());
}

/// The envelope as one gzip member (an S3 object), inflated and checked into a reused buffer.
#[divan::bench]
fn gunzip_envelope(bencher: divan::Bencher) {
    use std::io::Write;
    let (envelope, _) = cloudtrail();
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    e.write_all(&envelope).unwrap();
    let gz = e.finish().unwrap();
    let mut inflater = gunzip::Inflater::default();
    let mut out = Vec::new();
    bencher
        .counter(divan::counter::BytesCount::of_slice(&envelope))
        .bench_local(|| {
            out.clear();
            gunzip::gunzip_into(&mut inflater, &gz, &mut out, usize::MAX).unwrap();
            out.len()
        });
}

#[divan::bench]
fn normalize_aws(bencher: divan::Bencher) {
    let v: serde_json::Value =
        serde_json::from_slice(&fixture("seed/2-cross-account-share.json")).unwrap();
    let r = v["Records"][1].clone();
    bencher.bench(|| aws::normalize(&r, "b").is_ok());
}

#[divan::bench]
fn normalize_azure(bencher: divan::Bencher) {
    let v: serde_json::Value =
        serde_json::from_slice(&fixture("seed/3-azure-snapshot-cli.json")).unwrap();
    let r = v["records"][1].clone();
    bencher.bench(|| azure::normalize(&r, "b").is_ok());
}

#[divan::bench]
fn normalize_gcp(bencher: divan::Bencher) {
    let text = String::from_utf8(fixture("gcp/public-and-foreign.jsonl")).unwrap();
    let r: serde_json::Value = serde_json::from_str(text.lines().nth(2).unwrap()).unwrap();
    bencher.bench(|| gcp::normalize(&r, "b").is_ok());
}
