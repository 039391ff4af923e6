#!/usr/bin/env bash
# Memory and speed of paging a 1 GiB job log from disk (the log view's scrollback):
# builds the test in release mode and runs the ignored measurement in tests/jobs_pager_bench.rs.
# Target: peak RSS <= 64 MiB. Needs ~1 GiB free in $TMPDIR.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release --quiet --test jobs_pager_bench -- --ignored --nocapture 2>&1 | grep -E "^log |test result|panicked"
