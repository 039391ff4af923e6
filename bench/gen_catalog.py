#!/usr/bin/env python3
"""Write a synthetic catalog for load benchmarks: pkgs/<org>/<name>/package.toml files in the
catalog v1 format, sized and shaped like the shipped ones (long descriptions, provenance lines,
services with ports and options, workspace groups), and valid, so `atwb check` passes on it and the
loader does its full work on every file.

    python3 bench/gen_catalog.py OUT_DIR [--packages 10000] [--orgs 200] [--seed 1]

Deterministic for a given seed. Pins are synthetic (verified = false, provenance says so): this is
benchmark input, never catalog data.
"""

import argparse
import base64
import hashlib
import os
import random
import shutil

WORDS = """
atmo sky feed relay firehose jet stream label graph index lex blob repo record plc did handle
moss fern cedar birch maple willow aster lupin heron wren finch kestrel otter badger lynx
quartz basalt granite cobalt amber onyx prism lantern beacon harbor anchor compass atlas orbit
""".split()
LANGS = {
    "rust-workspace": "rust",
    "rust-package": "rust",
    "go-module": "go",
    "pnpm-workspace": "typescript",
    "npm-package": "javascript",
    "deno-app": "typescript",
    "static-site": "typescript",
}
CATEGORIES = ["infrastructure", "application", "utility", "library"]
LICENSES = ["MIT", "Apache-2.0", "AGPL-3.0-only", "MPL-2.0", "BSD-3-Clause", "NOASSERTION"]
ROLES = ["pds", "relay", "feedgen", "labeler", "appview", "plc", "jetstream"]
PROTOCOLS = ["xrpc", "jetstream", "firehose", "http"]
DATABASES = ["none", "postgresql", "sqlite", "rocksdb"]
SENTENCES = [
    "Consumes the network firehose and keeps an index of the records it cares about.",
    "Serves its data over XRPC and a small plain HTTP API for dashboards.",
    "Stores state in the configured database and recovers from restarts without replaying.",
    "Built from the upstream workspace together with its sibling crates.",
    "The upstream default configuration is kept unless a setting below overrides it.",
    "Metrics are exported in the Prometheus text format on a separate port.",
    "Handles are resolved through DNS and the well-known endpoint before DIDs are trusted.",
    "Backfill runs in the background and can be paused from the admin endpoint.",
]


def sri(seed: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(seed.encode()).digest()).decode()


def rev(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()


def toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def toml_list(xs) -> str:
    return "[" + ", ".join(toml_str(x) for x in xs) + "]"


def option_block(rng, svc, name, kind, env_prefix):
    lines = [f"[services.{svc}.options.{name}]", f'type = "{kind}"']
    if kind == "enum":
        values = rng.sample(["debug", "info", "warn", "error", "trace"], 3)
        lines.append(f"values = {toml_list(values)}")
        lines.append(f"default = {toml_str(values[0])}")
    elif kind == "str":
        lines.append(f"default = {toml_str('wss://' + rng.choice(WORDS) + '.example.net')}")
    elif kind == "int":
        lines.append(f"default = {rng.randint(1, 5000)}")
    elif kind == "port":
        lines.append(f"default = {rng.randint(20000, 29999)}")
    elif kind == "bool":
        lines.append(f"default = {rng.choice(['true', 'false'])}")
    elif kind == "path":
        lines.append(f"default = {toml_str('/var/lib/atproto/' + svc + '/' + name)}")
    elif kind == "list":
        lines.append(f"default = {toml_list(rng.sample(WORDS, 2))}")
    # secret-file: never a default
    lines.append(f"description = {toml_str(rng.choice(SENTENCES).rstrip('.'))}")
    lines.append(f'env = "{env_prefix}_{name.upper().replace("-", "_")}"')
    return "\n".join(lines)


def package_text(rng, org, name, tier, group):
    builder = group["builder"]
    desc_words = rng.sample(WORDS, 3)
    description = f"{rng.choice(['Indexer', 'Server', 'Client', 'Toolkit', 'Gateway'])} for {' '.join(desc_words)} data"
    long_description = "\n".join(rng.sample(SENTENCES, rng.randint(3, 7)))
    out = [
        f"name = {toml_str(name)}",
        f'version = "0-unstable-2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"',
        f"tier = {tier}",
        f'category = "{rng.choice(CATEGORIES)}"',
        f"description = {toml_str(description)}",
        f'long_description = """\n{long_description}"""',
        f'homepage = "https://github.com/{org}/{group["repo"]}"',
        f"license = {toml_list(rng.sample(LICENSES, rng.randint(1, 2)))}",
        'maintainers = ["atwb"]',
        'platforms = ["x86_64-linux", "aarch64-linux"]',
        f"main_program = {toml_str(name)}",
        "",
        "[source]",
        'host = "github"',
        f'owner = "{org}"',
        f'repo = "{group["repo"]}"',
        f'rev = "{group["rev"]}"',
        f'hash = "{group["hash"]}"',
        "submodules = false",
        "verified = false",
        'provenance = "synthetic benchmark catalog written by bench/gen_catalog.py; not a real upstream pin"',
        "",
        "[build]",
        f'language = "{LANGS[builder]}"',
        f'builder = "{builder}"',
    ]
    if group["size"] > 1:
        out.append(f'workspace = "{group["repo"]}"')
    if builder == "rust-workspace":
        out.append(f"members = {toml_list([name])}")
    elif builder == "go-module":
        out.append(f"sub_packages = {toml_list(['cmd/' + name])}")
    elif builder in ("pnpm-workspace", "npm-package"):
        out.append(f"workspaces = {toml_list(['@' + org + '/' + name])}")
    out.append(f'deps_hash = "{group["deps_hash"]}"')
    out.append(f"build_inputs = {toml_list(rng.sample(['openssl', 'sqlite', 'zstd', 'lz4', 'rocksdb'], 2))}")
    out.append('native_build_inputs = ["pkg-config"]')
    out += [
        "",
        "[atproto]",
        f"services = {toml_list(rng.sample(ROLES, rng.randint(1, 2)))}",
        f"protocols = {toml_list(rng.sample(PROTOCOLS, 2))}",
        f"dependencies = {toml_list(rng.sample(['postgresql', 'sqlite', 'rocksdb', 'redis'], 1))}",
    ]
    next_port = 3000 + rng.randint(0, 1000)
    n_services = rng.choices([0, 1, 2, 3], weights=[25, 50, 18, 7])[0]
    for s in range(n_services):
        svc = name if s == 0 else f"{name}-worker{s}"
        ports = {"http": next_port, "metrics": next_port + 1}
        next_port += 2
        kinds = rng.sample(["str", "int", "port", "bool", "enum", "path", "secret-file", "list"], rng.randint(1, 5))
        opt_names = [f"{k.replace('-file', '')}-{rng.choice(WORDS)}{i}" for i, k in enumerate(kinds)]
        exec_args = [name, "--bind", "{listen_address}:{port:http}", "--metrics", "{listen_address}:{port:metrics}",
                     "--data", "{data_dir}"]
        exec_args += [f"--{n}={{option:{n}}}" for n in opt_names[:2]]
        jit = LANGS[builder] != "rust" and LANGS[builder] != "go"
        out += [
            "",
            f"[services.{svc}]",
            f"exec = {toml_list(exec_args)}",
            "ports = { " + ", ".join(f"{k} = {v}" for k, v in ports.items()) + " }",
            f'database = "{rng.choice(DATABASES)}"',
            'health_path = "/xrpc/_health"',
            f"jit = {'true' if jit else 'false'}",
        ]
        if jit:
            out += [
                "",
                f"[services.{svc}.hardening_exceptions.MemoryDenyWriteExecute]",
                "value = false",
                'reason = "the JavaScript runtime JIT-compiles into writable executable memory"',
            ]
        env_prefix = svc.upper().replace("-", "_").replace(".", "_")
        for opt, kind in zip(opt_names, kinds):
            out += ["", option_block(rng, svc, opt, kind, env_prefix)]
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--packages", type=int, default=10000)
    ap.add_argument("--orgs", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    pkgs = os.path.join(args.out, "pkgs")
    if os.path.exists(pkgs):
        shutil.rmtree(pkgs)
    orgs = [f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{i}" for i in range(args.orgs)]
    written = 0
    total_bytes = 0
    while written < args.packages:
        org = orgs[written % args.orgs]
        # Workspace groups of 2-5 packages share one pin; most packages stand alone.
        size = min(rng.choices([1, 2, 3, 5], weights=[70, 15, 10, 5])[0], args.packages - written)
        repo = f"{rng.choice(WORDS)}-{written}"
        builder = rng.choice(list(LANGS))
        group = {
            "size": size,
            "repo": repo,
            "builder": builder,
            "rev": rev(repo),
            "hash": sri(repo),
            "deps_hash": rng.choice([sri(repo + "-deps"), "unknown"]),
        }
        tier = rng.choices([1, 2, 3], weights=[10, 40, 50])[0]
        for _ in range(size):
            name = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{written}"
            text = package_text(rng, org, name, tier, group)
            d = os.path.join(pkgs, org, name)
            os.makedirs(d)
            with open(os.path.join(d, "package.toml"), "w") as f:
                f.write(text)
            total_bytes += len(text)
            written += 1
    print(f"wrote {written} packages in {args.orgs} orgs to {pkgs} ({total_bytes // 1024} KiB of package.toml)")


if __name__ == "__main__":
    main()
