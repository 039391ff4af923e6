#!/bin/sh
# Time from launching `atwb` in a real (tmux) terminal until its tree is on the screen, N times.
# Upper bound on the user-visible first frame: it includes the tmux pane's shell start and the
# polling interval (capture-pane every ~2 ms). CATALOG=path overrides the catalog, N the runs.
set -eu
cd "$(dirname "$0")/.."
cargo build --release --quiet
catalog=${CATALOG:-catalog}
n=${N:-20}
base="atwb-frame-bench-$$"
sock="$base-0"
home=$(mktemp -d)
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$home"' EXIT
bin=$(pwd)/target/release/atwb
times=""
i=0
while [ "$i" -lt "$n" ]; do
    sock="$base-$i" # a fresh server per run: reusing one races with its shutdown
    # The pane starts a shell that waits for a go-file, so tmux's own start-up is not timed.
    tmux -L "$sock" -f /dev/null new-session -d -s b -x 120 -y 40 \
        "while [ ! -e $home/go ]; do sleep 0.01; done; env HOME=$home XDG_CONFIG_HOME=$home/c XDG_STATE_HOME=$home/s $bin --catalog $catalog; exec sleep 60"
    start=$(date +%s%N)
    touch "$home/go"
    until tmux -L "$sock" capture-pane -p -t b | grep -q '▾ Tier'; do :; done
    end=$(date +%s%N)
    rm -f "$home/go"
    sock_path=$(tmux -L "$sock" display-message -p '#{socket_path}')
    tmux -L "$sock" kill-server 2>/dev/null || true
    rm -f "$sock_path"
    times="$times $(( (end - start) / 1000 ))"
    i=$((i + 1))
done
echo "$times" | tr ' ' '\n' | sed '/^$/d' | sort -n | awk '
    { t[NR] = $1; s += $1 }
    END { printf "tmux time to first screen over %d runs: median %.1f ms, mean %.1f ms, min %.1f ms, max %.1f ms\n",
          NR, t[int((NR + 1) / 2)] / 1000, s / NR / 1000, t[1] / 1000, t[NR] / 1000 }'
