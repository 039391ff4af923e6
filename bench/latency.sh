#!/bin/sh
# Keystroke-to-frame latency of the TUI while 4 real nix jobs stream logs (target <= 50 ms p99). `atwb debug latency` runs the TUI's own event loop (runtime::run_loop:
# the engine's events, update, commands, draw) with the real job engine building
# stream1..stream4 of a fresh copy of tests/fixtures/flakes/tui (each builder logs as fast as it
# can for 12 s), draws into an in-memory terminal (120x40) and sends a key every 20 ms: the jobs
# view, the first job's log (following), k/j scrolling there, then k/j in the tree.
# RUNS=n repeats (default 3); KEYS=n keys per run (default 300).
set -eu
cd "$(dirname "$0")/.."
cargo build --release --quiet
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export NIX_CONFIG='experimental-features = nix-command flakes
sandbox = false
build-users-group =
substituters ='
export XDG_CONFIG_HOME="$scratch/config" XDG_STATE_HOME="$scratch/state"
for run in $(seq "${RUNS:-3}"); do
    rm -rf "$scratch/flake"
    cp -r tests/fixtures/flakes/tui "$scratch/flake"
    # A fresh salt: nix really builds (and streams) every run.
    echo "latency-$run-$$-$(date +%s%N)" > "$scratch/flake/salt.txt"
    echo "run $run:"
    target/release/atwb --catalog tests/fixtures/flakes/catalogrepo/catalog debug latency \
        --flake "path:$scratch/flake" --keys "${KEYS:-300}"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
