#!/usr/bin/env python3
"""Generate a large, realistic `nix --log-format internal-json -v` log for the ingest benchmark.

The shape follows the logs captured from Nix 2.8 in tests/fixtures/logs/: one Realise/Builds/
CopyPaths activity triple, then many Build activities, each with SetPhase results, a few thousand
BuildLogLine results (compiler-style output, some with ANSI colours and JSON escapes), Builds
progress updates, and a few downloads (FileTransfer/CopyPath with byte progress). The run ends
with a builder failure so the classifier has work to do. Deterministic for a given size.

Usage: bench/ingest-gen.py OUT [SIZE_MB]   (default 1024)
"""
import json
import random
import sys

out_path = sys.argv[1]
target = int(sys.argv[2] if len(sys.argv) > 2 else 1024) * 1024 * 1024
rng = random.Random(42)
ALPHABET = "0123456789abcdfghijklmnpqrsvwxyz"  # nix base32


def store_hash():
    return "".join(rng.choice(ALPHABET) for _ in range(32))


CRATES = ["serde", "tokio", "hyper", "rustls", "ring", "syn", "quote", "proc-macro2", "regex",
          "sqlx", "axum", "tower", "tracing", "futures", "bytes", "atrium-api", "jetstream"]
PHASES = ["unpackPhase", "patchPhase", "configurePhase", "buildPhase", "checkPhase",
          "installPhase", "fixupPhase"]


def log_lines(name, n):
    for i in range(n):
        k = rng.random()
        crate = rng.choice(CRATES)
        if k < 0.55:
            yield f"   Compiling {crate} v1.{rng.randint(0, 40)}.{rng.randint(0, 20)}"
        elif k < 0.75:
            yield (f"gcc -O2 -g -Wall -I/nix/store/{store_hash()}-openssl-3.0.12-dev/include "
                   f"-c src/{crate}/{i % 97}.c -o build/{crate}/{i % 97}.o")
        elif k < 0.85:
            yield f"\x1b[1m\x1b[32m    Finished\x1b[0m release [optimized] target(s) in {rng.randint(1, 900)}.{rng.randint(10, 99)}s"
        elif k < 0.93:
            yield (f"warning: unused variable: `x{i}`\n --> src/lib.rs:{i % 4000}:9 \"quoted\"\t"
                   f"tab\\backslash").replace("\n", " ")
        else:
            yield f"test {crate}::tests::case_{i} ... \x1b[32mok\x1b[0m"


def main():
    ids = iter(range(140_000_000_000_000, 1 << 62))
    written = 0
    with open(out_path, "w", encoding="utf-8", newline="\n") as f:
        def emit(obj):
            nonlocal written
            line = "@nix " + json.dumps(obj, separators=(",", ":"), sort_keys=True) + "\n"
            f.write(line)
            written += len(line)

        realise, builds, copies = next(ids), next(ids), next(ids)
        emit({"action": "start", "id": next(ids), "level": 4, "text": "copying '/tmp/flake'", "type": 0})
        for i, t in ((realise, 102), (builds, 104), (copies, 103)):
            emit({"action": "start", "id": i, "level": 0, "text": "", "type": t})
        # Roughly 3 MB of log per derivation.
        per_drv = 3 * 1024 * 1024
        expected = max(1, target // per_drv)
        done = 0
        while written < target:
            # A download now and then, with byte progress.
            if rng.random() < 0.3:
                dl = next(ids)
                url = f"https://cache.example.org/nar/{store_hash()}.nar.xz"
                emit({"action": "start", "fields": [url], "id": dl, "level": 4,
                      "text": f"downloading '{url}'", "type": 101})
                size = rng.randint(10_000, 50_000_000)
                for step in range(1, 5):
                    emit({"action": "result", "fields": [size * step // 4, size, 0, 0], "id": dl, "type": 105})
                emit({"action": "stop", "id": dl})
            name = f"{rng.choice(CRATES)}-{rng.randint(0, 9)}.{rng.randint(0, 99)}"
            drv = f"/nix/store/{store_hash()}-{name}.drv"
            b = next(ids)
            emit({"action": "start", "fields": [drv, "", 1, 1], "id": b, "level": 3,
                  "text": f"building '{drv}'", "type": 105})
            emit({"action": "result", "fields": [done, expected, 1, 0], "id": builds, "type": 105})
            drv_start = written
            phase_iter = iter(PHASES)
            line_no = 0
            for line in log_lines(name, 1 << 30):
                if line_no % 5000 == 0:
                    phase = next(phase_iter, None)
                    if phase:
                        emit({"action": "result", "fields": [phase], "id": b, "type": 104})
                emit({"action": "result", "fields": [line], "id": b, "type": 101})
                line_no += 1
                if written - drv_start > per_drv or written >= target:
                    break
            done += 1
            emit({"action": "result", "fields": [done, expected, 0, 0], "id": builds, "type": 105})
            emit({"action": "stop", "id": b})
        # The last derivation fails.
        drv = f"/nix/store/{store_hash()}-final.drv"
        b = next(ids)
        emit({"action": "start", "fields": [drv, "", 1, 1], "id": b, "level": 3,
              "text": f"building '{drv}'", "type": 105})
        emit({"action": "result", "fields": ["error[E0425]: cannot find value `x` in this scope"], "id": b, "type": 101})
        emit({"action": "result", "fields": [done, expected, 0, 1], "id": builds, "type": 105})
        emit({"action": "stop", "id": b})
        for i in (copies, builds, realise):
            emit({"action": "stop", "id": i})
        emit({"action": "msg", "column": None, "file": None, "level": 0, "line": None,
              "msg": f"\x1b[31;1merror:\x1b[0m builder for '\x1b[35;1m{drv}\x1b[0m' failed with exit code 101",
              "raw_msg": f"builder for '\x1b[35;1m{drv}\x1b[0m' failed with exit code 101"})


main()
