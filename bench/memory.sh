#!/usr/bin/env bash
# Peak RSS of a hunt over many distinct principals: one CreateSnapshot per principal, spread
# over 7 days, at the default caps and at small caps. Memory follows [limits], not the input.
# Usage: bench/memory.sh [PRINCIPALS...]   (default: 200000 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p snaptrail
out=target/bench-data/memory
mkdir -p "$out"
printf '[limits]\nmax_keys = 10000\nmax_principals = 20000\n' > "$out/small-caps.toml"
[ $# -gt 0 ] || set -- 200000 1000000
for n in "$@"; do
  file="$out/principals-$n.jsonl"
  [ -s "$file" ] || python3 - "$n" "$file" <<'PY'
import sys, datetime
n, path = int(sys.argv[1]), sys.argv[2]
t0 = datetime.datetime(2026, 1, 5, tzinfo=datetime.timezone.utc)
with open(path, "w") as f:
    for i in range(n):
        t = (t0 + datetime.timedelta(seconds=i * 7 * 86400 // n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        f.write('{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::310987654321:user/u%07d","accountId":"310987654321"},"eventTime":"%s","eventSource":"ec2.amazonaws.com","eventName":"CreateSnapshot","awsRegion":"eu-west-1","sourceIPAddress":"198.51.%d.%d","userAgent":"aws-cli/2.15.0","requestParameters":{"volumeId":"vol-%017d"},"responseElements":{"snapshotId":"snap-%017d"},"eventID":"id-%d","recipientAccountId":"310987654321"}\n' % (i, t, i // 256 % 256, i % 256, i, i, i))
PY
  for caps in default small; do
    cfg=()
    [ "$caps" = small ] && cfg=(--config "$out/small-caps.toml")
    /usr/bin/time -f "$n principals, $caps caps: %e s, peak RSS %M KB" \
      target/release/snaptrail hunt --no-state "${cfg[@]}" --format jsonl "$file" 2>&1 >/dev/null | grep -E "principals,|memory caps"
  done
done
