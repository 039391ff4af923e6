#!/bin/sh
# `atwb log` on the two shapes of log that once cost time quadratic in the log or memory linear
# in it (see bench/README.md, "Log limits"):
#
# - interrupted: N build activities started, each followed by "error: interrupted by the user"
#   (every such message walked every derivation seen so far);
# - unstopped: M activities started and never stopped (every one was kept, with its strings).
#
# Usage: bench/log-limits.sh [N] [M] [BIN]   (defaults 100000, 2000000, target/release/atwb)
# Prints wall time and peak RSS (GNU time) for each, best of 3 runs. Needs python3, /usr/bin/time.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-100000}
m=${2:-2000000}
bin=${3:-$root/target/release/atwb}
work=${ATWB_BENCH_DIR:-/tmp/atwb-bench-log-limits}
mkdir -p "$work"
[ "$bin" = "$root/target/release/atwb" ] && (cd "$root" && cargo build --release --quiet)

python3 - "$work" "$n" "$m" <<'PY'
import os, sys
work, n, m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
p = os.path.join(work, f"interrupted-{n}.log")
if not os.path.exists(p):
    with open(p, "w") as f:
        for i in range(n):
            f.write('@nix {"action":"start","fields":["/nix/store/%032d-p%d.drv","",1,1],"id":%d,"level":3,"text":"building","type":105}\n' % (i, i, i + 10))
            f.write('@nix {"action":"msg","level":0,"msg":"\\u001b[31;1merror:\\u001b[0m interrupted by the user","raw_msg":"interrupted by the user"}\n')
p = os.path.join(work, f"unstopped-{m}.log")
if not os.path.exists(p):
    with open(p, "w") as f:
        for i in range(m):
            if i % 2:
                f.write('@nix {"action":"start","fields":["https://cache.example/nar/%064d.nar.xz"],"id":%d,"level":4,"text":"downloading","type":101}\n' % (i, i))
            else:
                f.write('@nix {"action":"start","fields":["/nix/store/%032d-package-number-%d.drv","",1,1],"id":%d,"level":3,"text":"building","type":105}\n' % (i, i, i))
PY

for log in "$work/interrupted-$n.log" "$work/unstopped-$m.log"; do
    echo "$(basename "$log"): $(wc -l < "$log") lines, $(wc -c < "$log") bytes"
    for run in 1 2 3; do
        /usr/bin/time -f '%e %M' -o "$work/time.txt" "$bin" log "$log" --json > /dev/null || true
        # GNU time writes "Command exited with non-zero status 1" first when atwb exits 1.
        set -- $(tail -n 1 "$work/time.txt")
        echo "  run $run: ${1} s, peak RSS ${2} KiB"
    done
done
