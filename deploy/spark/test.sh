#!/usr/bin/env bash
# The scale-out test: a Spark standalone master and worker on loopback, the job run against them
# on a simulated estate with attacks in it, and its alerts compared with `snaptrail hunt` on the
# same files (same alert ids). Starts and stops its own cluster and cleans up.
#
# Installs what it needs: pyspark from PyPI into target/spark-venv, Java 17 from Debian if
# missing. Uses target/release/snaptrail (built by test.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=$ROOT/target/release/snaptrail
[ -x "$BIN" ] || cargo build --release --locked -p snaptrail
command -v java >/dev/null || { apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless; }
[ -x target/spark-venv/bin/python ] || python3 -m venv target/spark-venv
target/spark-venv/bin/python -c 'import pyspark' 2>/dev/null || target/spark-venv/bin/pip install -q pyspark
PY=$ROOT/target/spark-venv/bin/python
export SPARK_HOME=$($PY -c 'import pyspark, os; print(os.path.dirname(pyspark.__file__))')
export SPARK_LOCAL_IP=127.0.0.1 PYSPARK_PYTHON=$PY PYSPARK_DRIVER_PYTHON=$PY
WORK=$(mktemp -d)
EXECUTORS=${EXECUTORS:-1}
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# A week of a small organization, all three clouds, every attack scenario.
"$BIN" simulate --out "$WORK/logs" --background "${BACKGROUND:-60000}" --write-config "$WORK/snaptrail.toml" 2>/dev/null

MASTER_PORT=$((7100 + RANDOM % 500))
"$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.master.Master --host 127.0.0.1 --port $MASTER_PORT --webui-port 0 > "$WORK/master.log" 2>&1 &
PIDS+=($!)
for i in $(seq 1 60); do grep -q "I have been elected leader" "$WORK/master.log" && break; sleep 1; done
for e in $(seq 1 "$EXECUTORS"); do
  "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores $((2 / EXECUTORS > 0 ? 2 / EXECUTORS : 1)) --memory 2g --webui-port 0 \
    "spark://127.0.0.1:$MASTER_PORT" > "$WORK/worker$e.log" 2>&1 &
  PIDS+=($!)
done
for i in $(seq 1 60); do [ "$(cat "$WORK"/worker*.log | grep -c 'Successfully registered with master')" -ge "$EXECUTORS" ] && break; sleep 1; done

start=$(date +%s%N)
"$SPARK_HOME/bin/spark-submit" --master "spark://127.0.0.1:$MASTER_PORT" --conf spark.ui.enabled=false \
  --files "$BIN" "$ROOT/deploy/spark/snaptrail_spark.py" \
  --input "$WORK/logs" --output "$WORK/spark-alerts" --config "$WORK/snaptrail.toml" \
  --map-partitions "${MAP_PARTITIONS:-8}" --bucket-days "${BUCKET_DAYS:-2}" > "$WORK/submit.log" 2>&1 || { tail -50 "$WORK/submit.log"; exit 1; }
spark_secs=$(( ($(date +%s%N) - start) / 1000000 ))
start=$(date +%s%N)
"$BIN" hunt --no-state --format jsonl --config "$WORK/snaptrail.toml" "$WORK/logs" > "$WORK/local.jsonl" 2>/dev/null || true
local_secs=$(( ($(date +%s%N) - start) / 1000000 ))

$PY - "$WORK" "$spark_secs" "$local_secs" "$EXECUTORS" <<'PYEOF'
import glob, json, sys
work, spark_secs, local_secs, executors = sys.argv[1], int(sys.argv[2]) / 1000, int(sys.argv[3]) / 1000, sys.argv[4]
spark = sorted(json.loads(l)["id"] for f in glob.glob(f"{work}/spark-alerts/part-*") for l in open(f) if l.strip())
local = sorted(json.loads(l)["id"] for l in open(f"{work}/local.jsonl") if l.strip())
truth = json.load(open(f"{work}/logs/ground-truth.json"))
print(f"spark: {len(spark)} alerts in {spark_secs:.1f}s with {executors} executor(s); snaptrail hunt: {len(local)} alerts in {local_secs:.1f}s; "
      f"{truth['records']} records")
missing, extra = sorted(set(local) - set(spark)), sorted(set(spark) - set(local))
dupes = len(spark) - len(set(spark))
ok = not missing and not extra and not dupes and len(local) > 20
print(f"spark-test: {1 if ok else 0} passed, {0 if ok else 1} failed (missing {len(missing)}, extra {len(extra)}, duplicated {dupes})")
sys.exit(0 if ok else 1)
PYEOF
