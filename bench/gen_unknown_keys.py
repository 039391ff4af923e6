#!/usr/bin/env python3
"""One package whose package.toml holds KEYS unknown top-level keys (default 40,000, about
580 KB): every key is a diagnostic, so `atwb check` on it measures the cost of turning byte
offsets into line:column. Usage: gen_unknown_keys.py OUT_DIR [KEYS]"""
import os
import sys

out = sys.argv[1]
keys = int(sys.argv[2]) if len(sys.argv) > 2 else 40000
pkg = os.path.join(out, "pkgs", "example", "demo")
os.makedirs(pkg, exist_ok=True)
head = """name = "demo"
version = "0.1.0"
tier = 3
category = "utility"
description = "Benchmark package with many unknown keys"
homepage = "https://example.org/demo"
license = ["MIT"]
"""
tail = """
[source]
host = "github"
owner = "example"
repo = "demo"
rev = "1111111111111111111111111111111111111111"
hash = "sha256-cpzYfGMpQI4rv+oOIFVASWlTmDKvEnc7VYrKYlzMkEE="
provenance = "benchmark"

[build]
language = "go"
builder = "go-module"
deps_hash = "unknown"
"""
with open(os.path.join(pkg, "package.toml"), "w") as f:
    f.write(head)
    # Names far from every allowed key, so the did-you-mean finds nothing: what is measured is
    # the diagnostics, not the suggestion search.
    for i in range(keys):
        f.write(f"zq{i:05} = \"x\"\n")
    f.write(tail)
