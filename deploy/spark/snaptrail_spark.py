"""snaptrail on Apache Spark: the same hunt over an organization's whole trail.

    spark-submit --master spark://HOST:7077 --files target/release/snaptrail \
        deploy/spark/snaptrail_spark.py --input s3a://trail/AWSLogs/ --output s3a://out/alerts \
        --config snaptrail.toml [--from 2026-01-01T00:00:00Z] [--to ...]

Map: Spark lists the objects (any Hadoop file system: local paths, s3a://, gs://, abfs://) and
hands each partition of objects to `snaptrail events --only-relevant`, which decodes,
normalizes and prefilters them. All the bytes are touched here, so this is where the scale is.

Shuffle: events are keyed by (account, time bucket). The account (the trail's owner) keeps
caller summaries, shares, consumption by other accounts and in-account restore chains together;
keying by principal would break chains whose steps are done by different identities. A bucket
(--bucket-days, aligned to whole days) bounds what one reduce task holds, so one huge account
does not become one huge task; each bucket also receives the last `horizon` of the previous one
as context, so chains, bursts and windows that cross a bucket edge are still seen whole.

Reduce: each key's events, in event-time order, are piped into `snaptrail hunt --from-events`;
an alert is kept by the bucket its last event falls in, so context copies never report twice.

Output: alerts as JSON lines (one part file per reduce partition) under --output.
"""
import argparse
import json
import os
import shutil
import subprocess
import tempfile

DAY = 86400


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--input", action="append", required=True, help="input path or URI (repeatable)")
    ap.add_argument("--output", required=True, help="directory or URI for alert JSON lines")
    ap.add_argument("--config", help="snaptrail.toml (shipped with the job)")
    ap.add_argument("--from", dest="time_from")
    ap.add_argument("--to", dest="time_to")
    ap.add_argument("--binary", help="path to the snaptrail binary on every executor (default: shipped with --files)")
    ap.add_argument("--map-partitions", type=int, default=0, help="map tasks (default: Spark's choice)")
    ap.add_argument("--reduce-partitions", type=int, default=0, help="reduce tasks (default: map partitions)")
    ap.add_argument("--bucket-days", type=int, default=30, help="time bucket of the shuffle key")
    ap.add_argument("--horizon-hours", type=int, default=48, help="context copied into the next bucket")
    return ap.parse_args(argv)


def binary(args):
    if args.binary:
        return args.binary
    from pyspark import SparkFiles
    return SparkFiles.get("snaptrail")


def map_partition(files, bin_path):
    """Decode one partition of objects with `snaptrail events --only-relevant`."""
    with tempfile.TemporaryDirectory(prefix="snaptrail-map-") as tmp:
        n = 0
        for path, content in files:
            # Keep the object's name (and so its compression suffix) for diagnostics.
            name = f"{n:06d}-{os.path.basename(path.rstrip('/'))}"
            with open(os.path.join(tmp, name), "wb") as f:
                f.write(content)
            n += 1
        if n == 0:
            return
        proc = subprocess.run([bin_path, "events", "--only-relevant", "-q", tmp], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if proc.returncode != 0:
            raise RuntimeError(f"snaptrail events failed: {proc.stderr.decode(errors='replace')[-2000:]}")
        for line in proc.stdout.splitlines():
            if line.strip():
                yield line.decode()


def keys(line, bucket_secs, horizon_secs):
    """(account, bucket) keys an event goes to: its own bucket, and the next one as context."""
    ev = json.loads(line)
    t = epoch(ev["time"])
    bucket = t // bucket_secs
    out = [((ev["cloud"], ev["account"], bucket), (t, line))]
    if t >= (bucket + 1) * bucket_secs - horizon_secs:
        out.append(((ev["cloud"], ev["account"], bucket + 1), (t, line)))
    return out


def epoch(rfc3339):
    from datetime import datetime
    return int(datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp())


def reduce_group(item, bin_path, config, bucket_secs, extra):
    (cloud, account, bucket), rows = item
    rows = sorted(rows)
    cmd = [bin_path, "hunt", "--no-state", "--from-events", "--format", "jsonl", "-q"] + extra
    if config:
        cmd += ["--config", config]
    cmd.append("-")
    proc = subprocess.run(cmd, input="\n".join(line for _, line in rows).encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"snaptrail hunt failed for {account}: {proc.stderr.decode(errors='replace')[-2000:]}")
    start, end = bucket * bucket_secs, (bucket + 1) * bucket_secs
    for line in proc.stdout.splitlines():
        alert = json.loads(line)
        if start <= epoch(alert["last_seen"]) < end:
            yield line.decode()


def main(argv=None):
    args = parse_args(argv)
    from pyspark.sql import SparkSession
    spark = SparkSession.builder.appName("snaptrail").getOrCreate()
    sc = spark.sparkContext
    config = None
    if args.config:
        sc.addFile(args.config)
        config_name = os.path.basename(args.config)
    bin_arg = args.binary
    bucket_secs = args.bucket_days * DAY
    horizon_secs = args.horizon_hours * 3600
    extra = []
    if args.time_from:
        extra += ["--from", args.time_from]
    if args.time_to:
        extra += ["--to", args.time_to]

    local = [p[len("file:"):] if p.startswith("file:") else p for p in args.input if "://" not in p or p.startswith("file:")]
    if len(local) == len(args.input):
        # Local or shared file system: list here and read on the executors. Hadoop's Path
        # rejects the colons in GCP sink object names (`08:00:00_08:59:59_S0.json`).
        paths = sorted(os.path.join(root, f) for top in local for root, _, names in os.walk(top) for f in names) \
            + [p for p in local if os.path.isfile(p)]
        files = sc.parallelize(paths, args.map_partitions or max(1, min(len(paths), sc.defaultParallelism * 4))) \
            .map(lambda p: (p, open(p, "rb").read()))
    else:
        # Object stores: Spark lists and reads; log trees are nested, so list recursively.
        sc._jsc.hadoopConfiguration().set("mapreduce.input.fileinputformat.input.dir.recursive", "true")
        files = sc.binaryFiles(",".join(args.input), minPartitions=args.map_partitions or None)

    def run_map(part):
        from pyspark import SparkFiles
        return map_partition(part, bin_arg or SparkFiles.get("snaptrail"))

    def run_reduce(item):
        from pyspark import SparkFiles
        cfg = SparkFiles.get(config_name) if args.config else None
        return reduce_group(item, bin_arg or SparkFiles.get("snaptrail"), cfg, bucket_secs, extra)

    events = files.mapPartitions(run_map)
    reduce_n = args.reduce_partitions or max(1, files.getNumPartitions())
    alerts = events.flatMap(lambda l: keys(l, bucket_secs, horizon_secs)).groupByKey(reduce_n).flatMap(run_reduce)
    alerts.saveAsTextFile(args.output)
    spark.stop()


if __name__ == "__main__":
    main()
