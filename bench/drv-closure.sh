#!/bin/sh
# Reading a job's plan from its .drv files (src/nix/drv_closure.rs): a real drv with 50 inputs
# built from tests/fixtures/flakes/chain, and a synthetic 5,000-drv closure; median and slowest
# walk, page cache warm. Figures: bench/README.md.
set -eu
cd "$(dirname "$0")/.."
export NIX_CONFIG='experimental-features = nix-command flakes
sandbox = false
build-users-group =
substituters ='
exec cargo test --release --lib drv_closure::tests::drv_closure_bench -- --ignored --nocapture
