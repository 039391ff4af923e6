#!/bin/sh
# Catalog load time: `atwb list --json` (release build; walks pkgs/, reads, parses and validates
# every package.toml, prints JSON to /dev/null) against the floor of reading the same files with
# `find ... | xargs cat`, on the shipped catalog and on a synthetic 10k-package catalog
# (bench/gen_catalog.py). Target: 10k load <= 3x the cat floor. Run from anywhere; the synthetic
# catalog and the hyperfine exports go to target/bench/.
# LOAD_CORES=0 pins every command to one core (taskset) to see the loader's single-core cost.
set -eu
cd "$(dirname "$0")/.."
cargo build --release --quiet
out=target/bench
mkdir -p "$out"
big="$out/catalog-10k"
[ -d "$big/pkgs" ] || python3 bench/gen_catalog.py "$big" --packages 10000 --orgs 200
target/release/atwb --catalog "$big" check > /dev/null || { echo "synthetic catalog does not pass atwb check" >&2; exit 1; }
pin=""
[ -n "${LOAD_CORES:-}" ] && pin="taskset -c ${LOAD_CORES}"
suffix=${LOAD_CORES:+-pinned}

for cat_dir in catalog "$big"; do
    tag=$(basename "$cat_dir")
    n=$(find "$cat_dir/pkgs" -name package.toml | wc -l)
    echo "== $tag: $n packages"
    hyperfine --warmup 3 --runs "${RUNS:-30}" -N \
        --export-markdown "$out/load-$tag$suffix.md" --export-json "$out/load-$tag$suffix.json" \
        -n "cat floor ($tag)" "$pin sh -c 'find $cat_dir/pkgs -name package.toml | xargs cat > /dev/null'" \
        -n "atwb list --json ($tag)" "$pin sh -c 'target/release/atwb --catalog $cat_dir list --json > /dev/null'"
    # Medians as well: on a shared 2-core machine a few runs slowed by other processes move the
    # mean far more than the median.
    python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))["results"]
floor, atwb = r[0]["median"] * 1000, r[1]["median"] * 1000
print(f"median: cat floor {floor:.1f} ms, atwb {atwb:.1f} ms, ratio {atwb / floor:.2f}x")' "$out/load-$tag$suffix.json"
done
