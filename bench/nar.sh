#!/bin/sh
# Native NAR hashing against the nix route, on real repository snapshots (release build of
# bench/nar_hash.rs):
#
# 1. From git objects: `nar_hash github REPO REV` (fetchFromGitHub's hash, read from the pack)
#    vs `git archive REV | tar -x` + `nix hash path` (what a prefetch without atwb does
#    locally; the download is left out, which favours the nix route, and the fresh directory is
#    made before each run, untimed).
# 2. A checked-out tree: `nar_hash path DIR` vs `nix hash path DIR`, page cache warm.
# 3. cargoHash: `nar_hash cargo Cargo.lock` (crates read from the warm cargo cache, each checked
#    against its checksum) vs `nix hash path` of the staging directory assembled once here.
#
# Every pair is first checked to print the same hash. Targets: (1) >= 2x, (2) >= 1.0x.
# Usage: bench/nar.sh [RUNS]
#   $NAR_BENCH_REPOS    repositories (required; e.g. snapshots of noto-emoji and indigo)
#   $NAR_BENCH_LOCK     lockfile for (3) (default: this repository's Cargo.lock)
#   $NAR_BENCH_SCRATCH  where the archive is extracted (default: target/bench/nar/x, on disk
#                       as a prefetch would; /dev/shm/... spares the nix route the disk writes,
#                       the comparison most favourable to it)
# Timing: one warm-up each, then RUNS rounds in which the two commands take turns; median and
# min wall time, median user+system CPU per run (a shared 2-core machine moves wall time around;
# the min is the run least disturbed by other processes).
set -eu
cd "$(dirname "$0")/.."
runs=${1:-5}
export NIX_CONFIG='experimental-features = nix-command flakes
sandbox = false
build-users-group =
substituters ='
cargo build --release --quiet --example nar_hash
bin=$PWD/target/release/examples/nar_hash
out=$PWD/target/bench/nar
mkdir -p "$out"
# Bare git repositories to hash (e.g. snapshots of googlefonts/noto-emoji and bluesky-social/indigo).
repos=${NAR_BENCH_REPOS:?set NAR_BENCH_REPOS to one or more bare git repositories}
lock=${NAR_BENCH_LOCK:-$PWD/Cargo.lock}
x=${NAR_BENCH_SCRATCH:-$out/x}

# timeit NAME PREPARE COMMAND [NAME PREPARE COMMAND ...]: PREPARE (untimed; `:` for nothing)
# runs before every run of COMMAND, like hyperfine's --prepare.
timeit() {
    python3 -c '
import resource, statistics, subprocess, sys, time
runs = int(sys.argv[1])
args = sys.argv[2:]
cmds = list(zip(args[0::3], args[1::3], args[2::3]))
def once(prepare, cmd):
    subprocess.run(prepare, shell=True, check=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, shell=True, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
# One warm-up each, then the commands take turns, so a busy spell on the machine hits both.
for _, prepare, cmd in cmds:
    once(prepare, cmd)
samples = [[] for _ in cmds]
for _ in range(runs):
    for i, (_, prepare, cmd) in enumerate(cmds):
        samples[i].append(once(prepare, cmd))
base_med = statistics.median(w for w, _ in samples[0])
base_min = min(w for w, _ in samples[0])
for (name, _, _), runs_ in zip(cmds, samples):
    walls = [w for w, _ in runs_]
    med, low = statistics.median(walls), min(walls)
    cpu = statistics.median(c for _, c in runs_)
    print(f"| {name} | {med*1000:.0f} ms | {low*1000:.0f} ms | {cpu*1000:.0f} ms | {base_med/med:.2f}x | {base_min/low:.2f}x |")
' "$runs" "$@"
}

same() {
    [ "$1" = "$2" ] || { echo "hash mismatch: $1 vs $2" >&2; exit 1; }
    echo "hash $1 (both)"
}

header() {
    echo "| $1 | median | min | CPU (median) | speed-up (median) | speed-up (min) |"
    echo "|---|---|---|---|---|---|"
}

# bench_rev REPO NAME: "REPO HEAD", or, when the mirror snapshot lacks some blobs (snapshots
# leave out their largest files), a commit of HEAD's tree without those files, made in a
# scratch repository that borrows REPO's objects.
bench_rev() {
    head=$(git -C "$1" rev-parse HEAD)
    missing=$(git -C "$1" ls-tree -r -l HEAD | awk -F'\t' '$1 ~ / blob / && $1 ~ / BAD$/ {print $2}')
    if [ -z "$missing" ]; then
        echo "$1 $head"
        return
    fi
    scratch=$out/$2.git
    rm -rf "$scratch" && git init -q --bare "$scratch"
    echo "$1/objects" > "$scratch/objects/info/alternates"
    export GIT_INDEX_FILE="$out/$2.index"
    git --git-dir="$scratch" read-tree "$head"
    echo "$missing" | sed 's/^/0 0000000000000000000000000000000000000000\t/' |
        git --git-dir="$scratch" update-index --index-info
    tree=$(git --git-dir="$scratch" write-tree)
    unset GIT_INDEX_FILE
    rev=$(git --git-dir="$scratch" -c user.name=bench -c user.email=bench@localhost \
        commit-tree "$tree" -p "$head" -m "bench: $head without blobs missing from the mirror")
    echo "$(echo "$missing" | wc -l) files left out (objects missing from the mirror)" >&2
    echo "$scratch $rev"
}

for mirror in $repos; do
    name=$(basename "$(dirname "$mirror")")
    set -- $(bench_rev "$mirror" "$name")
    repo=$1 rev=$2
    files=$(git -C "$repo" ls-tree -r "$rev" | wc -l)
    bytes=$(git -C "$repo" ls-tree -r -l "$rev" | awk '{s += $4} END {print s}')
    echo "== $name @ $rev: $files files, $((bytes / 1000000)) MB"

    fresh="rm -rf $x && mkdir -p $x"
    extract="git -C $repo archive --prefix=top/ $rev | tar -x -C $x && nix hash path $x/top"
    sh -c "$fresh"
    same "$($bin github "$repo" "$rev")" "$(sh -c "$extract")"
    header "from git objects"
    timeit "git archive, tar -x, nix hash path" "$fresh" "$extract" \
        "atwb (git objects)" : "$bin github $repo $rev"

    # The checkout: the extraction above, which is fetchFromGitHub's output tree.
    tree=$x/top
    same "$($bin path "$tree")" "$(nix hash path "$tree")"
    header "checked-out tree"
    timeit "nix hash path" : "nix hash path $tree" "atwb (disk)" : "$bin path $tree"
done
rm -rf "$x"

echo "== cargoHash of $lock: $(grep -c '^checksum = ' "$lock") registry crates"
staging=$out/staging
rm -rf "$staging" && mkdir -p "$staging/tarballs"
cp "$lock" "$staging/Cargo.lock"
python3 - "$lock" "$staging/tarballs" "${CARGO_HOME:-$HOME/.cargo}" <<'EOF'
import glob, shutil, sys, tomllib
lock, dest, home = sys.argv[1:]
for p in tomllib.load(open(lock, "rb"))["package"]:
    if not p.get("source", "").startswith(("registry+", "sparse+")):
        continue
    found = glob.glob(f"{home}/registry/cache/*/{p['name']}-{p['version']}.crate")
    if not found:
        sys.exit(f"{p['name']} {p['version']} is not in the cargo cache: cargo fetch --locked")
    shutil.copy(found[0], f"{dest}/{p['name']}-{p['version']}.tar.gz")
EOF
same "$($bin cargo "$lock")" "$(nix hash path "$staging")"
header "cargoHash"
timeit "nix hash path (staging dir)" : "nix hash path $staging" \
    "atwb (lockfile + cache)" : "$bin cargo $lock"
