#!/bin/sh
# Live derivation tree under load: 5,000 derivations, 1M log lines through the jobs layer's
# interpreter into the App, keys every 10 ms; p99 key-to-frame and peak RSS, against an anchor
# run with no log stream in the same process. Figures: bench/README.md.
set -eu
cd "$(dirname "$0")/.."
exec cargo test --release --lib drvtree_tests::drvtree_bench -- --ignored --nocapture
