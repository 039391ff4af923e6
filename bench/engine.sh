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
# hyperfine runs the commands without a shell (-N), so a 30 ms build's figures are not blurred
# by a shell's start; the piped variant needs one (`sh -c`), so it includes a shell's ~0.5 ms.
#
# Usage: bench/engine.sh [RUNS] [ATTR...]   (needs nix, hyperfine; builds atwb in release mode)
#   ATWB=path bench/engine.sh   times another atwb binary (e.g. a copy of an older build)
#   ROUNDS=N bench/engine.sh    also runs the four commands interleaved (random order in each
#                               of N rounds, fresh salt before each run) and prints medians:
#                               on a shared machine, load that comes and goes then hits every
#                               command alike instead of whichever hyperfine was running
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
shift || true
attrs=("$@")
[ ${#attrs[@]} -gt 0 ] || attrs=(ok nap1 chatty)
if [ -z "${ATWB:-}" ]; then
  cargo build --release --quiet --bin atwb
  atwb=$PWD/target/release/atwb
else
  atwb=$(realpath "$ATWB")
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r tests/fixtures/flakes/basic "$work/flake"
mkdir -p "$work/state" "$work/config"
export XDG_STATE_HOME=$work/state XDG_CONFIG_HOME=$work/config
export NIX_CONFIG=$'experimental-features = nix-command flakes\nsandbox = false\nbuild-users-group =\nsubstituters ='
prepare="sh -c 'date +%s%N > $work/flake/salt.txt'"
# Exactly the argument list atwb gives nix (src/nix/command.rs); hyperfine -N discards output.
same="nix --extra-experimental-features 'nix-command flakes' build"

for attr in "${attrs[@]}"; do
  echo "== $attr"
  hyperfine -N --warmup 3 --runs "$runs" --prepare "$prepare" \
    --export-json "$work/$attr.json" \
    -n "nix build" "nix build $work/flake#$attr --no-link" \
    -n "nix build (internal-json)" "$same $work/flake#$attr --log-format internal-json -v --json --no-link" \
    -n "nix build | cat > log" "sh -c \"$same $work/flake#$attr --log-format internal-json -v --json --no-link 2>&1 >/dev/null | cat > $work/captured.log\"" \
    -n "atwb build" "$atwb build --flake $work/flake $attr"
  python3 - "$work/$attr.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
keys = ("nix build", "nix build (internal-json)", "nix build | cat > log", "atwb build")
bare, same, piped, atwb = (r[k]["median"] for k in keys)
ms = lambda x: f"{x*1000:.1f} ms"
print(f"medians: nix build {ms(bare)}, same command {ms(same)}, same | cat {ms(piped)}, atwb build {ms(atwb)}")
print(f"atwb vs same command {100*(atwb/same-1):+.1f}%, vs same | cat {100*(atwb/piped-1):+.1f}%, vs bare nix {100*(atwb/bare-1):+.1f}%")
PY
  [ -n "${ROUNDS:-}" ] || continue
  python3 - "$ROUNDS" "$work/flake" "$attr" "$atwb" <<'PY'
import random, statistics, subprocess, sys, time
rounds, flake, attr, atwb = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
same = ["nix", "--extra-experimental-features", "nix-command flakes", "build", f"{flake}#{attr}",
        "--log-format", "internal-json", "-v", "--json", "--no-link"]
cmds = {
    "nix build": ["nix", "build", f"{flake}#{attr}", "--no-link"],
    "nix build (internal-json)": same,
    "nix build | cat > log": ["sh", "-c", " ".join(f"'{a}'" for a in same) + f" 2>&1 >/dev/null | cat > {flake}/../captured.log"],
    "atwb build": [atwb, "build", "--flake", flake, attr],
}
times = {k: [] for k in cmds}
for r in range(rounds + 3):  # the first 3 rounds are warm-up
    for name in random.sample(list(cmds), len(cmds)):
        open(f"{flake}/salt.txt", "w").write(str(time.time_ns()))
        t = time.perf_counter()
        subprocess.run(cmds[name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        if r >= 3:
            times[name].append(time.perf_counter() - t)
med = {k: statistics.median(v) * 1000 for k, v in times.items()}
print(f"interleaved, {rounds} rounds, medians: " + ", ".join(f"{k} {v:.1f} ms" for k, v in med.items()))
a = med["atwb build"]
print(f"atwb vs same command {a - med['nix build (internal-json)']:+.2f} ms ({100*(a/med['nix build (internal-json)']-1):+.1f}%), "
      f"vs same | cat {100*(a/med['nix build | cat > log']-1):+.1f}%, vs bare nix {a - med['nix build']:+.2f} ms ({100*(a/med['nix build']-1):+.1f}%)")
PY
done
