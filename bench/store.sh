#!/bin/sh
# What one job's record write to the status store costs, with the derivation history at its cap
# and without, against an anchor in the same run (fs::write + fsync of the same bytes, and of
# 4 KiB), in a debug and a release build. `STORE_BENCH_DIR` picks the directory (default
# target/bench/store, on disk like the XDG state dir). Figures: bench/README.md.
set -eu
cd "$(dirname "$0")/.."
for profile in ${PROFILES:-dev release}; do
    if [ "$profile" = release ]; then flag=--release; else flag=; fi
    cargo test $flag --lib store::bench::record_write_cost -- --ignored --nocapture 2>&1 |
        grep -v '^running\|^test \|^$\|test result'
done
