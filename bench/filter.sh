#!/bin/sh
# Fuzzy filter on 100k package-like names: `atwb debug filter` (the TUI's own matcher, src/search.rs)
# against `fzf --filter` on the same file, several queries, with hyperfine. Both read the file and
# print the matches (to /dev/null). Run from anywhere; results go to target/bench/.
# FILTER_CORES=0 runs everything pinned to one core (taskset) to compare single-thread speed.
set -eu
cd "$(dirname "$0")/.."
cargo build --release --quiet
out=target/bench
mkdir -p "$out"
names="$out/names-100k.txt"
[ -s "$names" ] || python3 bench/filter-names.py 100000 > "$names"
pin=""
[ -n "${FILTER_CORES:-}" ] && pin="taskset -c ${FILTER_CORES}"
for q in relay pds cnstl atproto-feed bsky/jet xyzzyq; do
    tag=$(printf %s "$q" | tr -c 'a-z0-9\n' _)
    hyperfine --warmup 3 --runs "${RUNS:-20}" --ignore-failure \
        --export-markdown "$out/filter-$tag${FILTER_CORES:+-pinned}.md" \
        -n "atwb '$q'" "$pin target/release/atwb debug filter --names $names '$q'" \
        -n "fzf  '$q'" "$pin fzf --filter '$q' < $names"
done
