#!/usr/bin/env bash
# Benchmark snaptrail against DuckDB, jq and gunzip on simulated CloudTrail (see run.py).
# Installs its own tools: DuckDB from PyPI into target/bench-venv, jq from Debian if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v jq >/dev/null || { apt-get update -qq && apt-get install -y -qq jq; }
[ -x target/bench-venv/bin/python ] || python3 -m venv target/bench-venv
target/bench-venv/bin/python -c 'import duckdb' 2>/dev/null || target/bench-venv/bin/pip install -q duckdb
cargo build --release --locked -p snaptrail -p snaptrail-ingest --bins --examples
exec target/bench-venv/bin/python bench/run.py "$@"
