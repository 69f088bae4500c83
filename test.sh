#!/usr/bin/env bash
# The whole test suite: format, lints, every crate's tests. `.ci/run` calls this.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d ../shared/corpus ]; then
  echo "test.sh: ../shared/corpus (the shared log corpus) must sit beside this checkout" >&2
  exit 2
fi
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
# Issue 5's gate at full size: every scenario on a million background events, with the
# release binary (the README's demo uses the same build).
cargo build --release --locked
./target/release/snaptrail validate --background 1000000
# Scale-out: a Spark standalone cluster on loopback gives the same alert ids as one process.
bash deploy/spark/test.sh
