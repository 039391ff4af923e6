#!/bin/sh
# Time to first frame on the shipped catalog: `atwb debug first-frame` does what `atwb` does before
# its first frame (load + validate the catalog, read the config and keymap, build the state, lay
# out and draw one 120x40 frame) but draws into ratatui's TestBackend and exits, so hyperfine can
# time the whole process. Target: <= 30 ms. CATALOG=path overrides the catalog.
set -eu
cd "$(dirname "$0")/.."
cargo build --release --quiet
out=target/bench
mkdir -p "$out"
catalog=${CATALOG:-catalog}
cfg=$(mktemp -d)
trap 'rm -rf "$cfg"' EXIT
echo "packages: $(find "$catalog/pkgs" -name package.toml | wc -l) in $catalog"
XDG_CONFIG_HOME=$cfg hyperfine -N --warmup 5 --runs "${RUNS:-50}" \
    --export-markdown "$out/frame.md" \
    -n "first frame ($catalog)" "target/release/atwb --catalog $catalog debug first-frame" \
    -n "process floor (atwb --version)" "target/release/atwb --version"
