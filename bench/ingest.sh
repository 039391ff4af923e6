#!/bin/sh
# Ingest benchmark: how fast `atwb log BIG --json` reads a large internal-json log (parser +
# build state + classifier), against `cat BIG > /dev/null` as the floor, and its peak RSS.
# Targets: >= 1M lines/s, <= 64 MiB peak RSS on a 1 GB log.
#
# Usage: bench/ingest.sh [SIZE_MB]     (default 1024; the log is generated once and reused)
# Needs: python3, hyperfine, GNU time (/usr/bin/time). Set ATWB_BENCH_DIR to choose where the
# generated log goes (default: /tmp/atwb-bench-ingest).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
size=${1:-1024}
work=${ATWB_BENCH_DIR:-/tmp/atwb-bench-ingest}
log="$work/ingest-${size}m.log"
mkdir -p "$work"

if [ ! -f "$log" ]; then
    echo "generating $log (${size} MB)..."
    python3 "$root/bench/ingest-gen.py" "$log" "$size"
fi
(cd "$root" && cargo build --release --quiet)
bin="$root/target/release/atwb"
lines=$(wc -l < "$log")
bytes=$(wc -c < "$log")
echo "log: $log, $lines lines, $bytes bytes"

# Warm the page cache so every command reads from memory.
cat "$log" > /dev/null

# `atwb log` exits 1 because the generated log ends with a builder failure: -i ignores that.
hyperfine --warmup 1 --runs 5 -i --export-json "$work/ingest.json" \
    -n cat "cat '$log' > /dev/null" \
    -n "atwb log --json" "'$bin' log '$log' --json > /dev/null" \
    -n "atwb debug ingest --parse-only" "'$bin' debug ingest --parse-only '$log' > /dev/null"

python3 - "$work/ingest.json" "$lines" <<'EOF'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
lines = int(sys.argv[2])
floor = results[0]["mean"]
print(f"\n{'command':34} {'mean s':>8} {'lines/s':>12} {'x cat':>7}")
for r in results:
    print(f"{r['command']:34} {r['mean']:8.3f} {lines / r['mean']:12,.0f} {r['mean'] / floor:7.1f}")
EOF

echo
echo "peak RSS of atwb log --json (GNU time):"
/usr/bin/time -v "$bin" log "$log" --json 2>&1 >/dev/null | grep -E "Maximum resident set size|Elapsed"
