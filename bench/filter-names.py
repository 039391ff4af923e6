#!/usr/bin/env python3
"""Writes N package-like names (default 100000), one per line, deterministic (fixed seed).

Shapes mimic what the fuzzy filter sees in practice: `org/name` pairs, nixpkgs-style attribute
names, npm scopes, and dashed multi-word names drawn from an ATproto / packaging vocabulary plus
random syllables, so that queries hit a realistic mix of dense and sparse matches.
Usage: bench/filter-names.py [N] > names.txt
"""
import random
import sys

WORDS = """atproto bsky bluesky pds relay feed feedgen labeler appview jetstream firehose plc did
constellation slingshot spacedust ufos allegedly indigo rsky leaflet frontpage smokesignal whitewind
tangled knot spindle ozone chat video cdn blob repo lexicon xrpc oauth handle resolver sync
backfill index search graph social moderation notify push mirror cache proxy gateway bridge
server client cli tool lib sdk core common util utils api web app ui dash dashboard admin
worker daemon service agent node rust go deno ts js python nix flake module test bench""".split()
ORGS = """bluesky-social at-microcosm blacksky-algorithms hyperlink-academy witchcraft-systems
tangled-sh graze-social skyware smokesignal-events whtwnd frontpage-fyi psky-atp ngerakines
mary-ext haileyok bnewbold nixos nix-community atproto-nix""".split()
SYL = "ka lo mi ne ru si ta vo xe za qu ph th st tr gr bl cr fl sk sp".split()


def word(rng):
    if rng.random() < 0.75:
        return rng.choice(WORDS)
    return "".join(rng.choice(SYL) for _ in range(rng.randint(2, 4)))


def name(rng):
    parts = "-".join(word(rng) for _ in range(rng.randint(1, 4)))
    shape = rng.random()
    if shape < 0.35:
        return f"{rng.choice(ORGS)}/{parts}"
    if shape < 0.45:
        return f"@{rng.choice(ORGS)}/{parts}"
    if shape < 0.60:
        return f"{parts}-{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
    return parts


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rng = random.Random(20261125)
    out = sys.stdout
    for _ in range(n):
        out.write(name(rng) + "\n")


if __name__ == "__main__":
    main()
