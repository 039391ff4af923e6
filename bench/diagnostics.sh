#!/bin/sh
# Cost of many diagnostics in one file: `atwb check` on one package.toml with 40,000 unknown keys
# (about 580 KB, bench/gen_unknown_keys.py). Each diagnostic turns a byte offset into
# line:column; this measures that the whole run stays linear in the file. Release build; the
# generated catalog goes to target/bench/. ATWB=path/to/atwb measures another binary (e.g. an
# older build) on the same input. KEYS=n changes the number of keys.
set -eu
cd "$(dirname "$0")/.."
out=target/bench
mkdir -p "$out"
dir="$out/unknown-keys-${KEYS:-40000}"
[ -d "$dir/pkgs" ] || python3 bench/gen_unknown_keys.py "$dir" "${KEYS:-40000}"
if [ -z "${ATWB:-}" ]; then
    cargo build --release --quiet
    ATWB=target/release/atwb
fi
echo "== $(wc -c < "$dir/pkgs/example/demo/package.toml") bytes, ${KEYS:-40000} unknown keys, $ATWB"
for run in $(seq "${RUNS:-3}"); do
    # atwb check exits 1 (the file has problems); the count shows every key was reported.
    /usr/bin/time -f "run $run: %e s wall, %U s user, %M KiB peak RSS" \
        sh -c '"$0" --catalog "$1" check > "$2"; exit 0' "$ATWB" "$dir" "$out/unknown-keys.out"
    tail -n 1 "$out/unknown-keys.out"
done
