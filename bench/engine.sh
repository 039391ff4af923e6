#!/usr/bin/env bash
# Engine overhead: `atwb build --flake F ATTR` against a bare `nix build F#ATTR` of the same
# fixture derivation. Every run builds a fresh derivation (hyperfine --prepare writes a new salt
# into the fixture copy), so both commands really evaluate and build.
# Target: atwb's wall time within 5% of nix's.
#
# Four commands per fixture attribute:
#   nix build                 what a user types (no log streaming at all)
#   nix build (internal-json) the exact nix command line atwb runs, its log thrown away
#   nix build | cat > log     the same, its log captured through a pipe: the floor for any tool
#                             that keeps the log (what `cat` costs to drain the pipe)
#   atwb build                the engine: that nix command + parsing, log file, ring, exit code
# "engine overhead" compares atwb with the same nix command; "vs bare nix" with the first.
#
# Usage: bench/engine.sh [RUNS]   (needs nix, hyperfine; builds atwb in release mode)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
cargo build --release --quiet --bin atwb
atwb=$PWD/target/release/atwb

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r tests/fixtures/flakes/basic "$work/flake"
mkdir -p "$work/state" "$work/config"
export XDG_STATE_HOME=$work/state XDG_CONFIG_HOME=$work/config
export NIX_CONFIG=$'experimental-features = nix-command flakes\nsandbox = false\nbuild-users-group =\nsubstituters ='
prepare="date +%s%N > $work/flake/salt.txt"

for attr in ok nap1 chatty; do
  echo "== $attr"
  hyperfine --warmup 2 --runs "$runs" --prepare "$prepare" \
    --export-json "$work/$attr.json" \
    -n "nix build" "nix build $work/flake#$attr --no-link" \
    -n "nix build (internal-json)" "nix build $work/flake#$attr --no-link --json --log-format internal-json -v 2>/dev/null >/dev/null" \
    -n "nix build | cat > log" "nix build $work/flake#$attr --no-link --json --log-format internal-json -v 2>&1 >/dev/null | cat > $work/captured.log" \
    -n "atwb build" "$atwb build --flake $work/flake $attr 2>/dev/null"
  python3 - "$work/$attr.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
keys = ("nix build", "nix build (internal-json)", "nix build | cat > log", "atwb build")
bare, same, piped, atwb = (r[k]["median"] for k in keys)
ms = lambda x: f"{x*1000:.1f} ms"
print(f"medians: nix build {ms(bare)}, same command {ms(same)}, same | cat {ms(piped)}, atwb build {ms(atwb)}")
print(f"atwb vs same command {100*(atwb/same-1):+.1f}%, vs same | cat {100*(atwb/piped-1):+.1f}%, vs bare nix {100*(atwb/bare-1):+.1f}%")
PY
done
