# Builtins-only views of the catalog, for tools on machines without nixpkgs (the workbench's
# `atwb unit`, its offline tests, CI). Nothing here imports nixpkgs.
#
#   nix eval --json --file catalog/lib/offline.nix index
#   nix eval --json --file catalog/lib/offline.nix units.constellation
#   nix eval --json --file catalog/lib/offline.nix index --argstr catalogDir /path/to/a/catalog
#
# (Nix 2.8 calls a file's function with its defaults only when an attribute path is given, so
# this file is a function returning a set rather than the index itself.)
{catalogDir ? null}: let
  core = import ./atproto-core.nix ((import ./util.nix).catalogArgs catalogDir);
  common = import ./service-common.nix;
in {
  inherit (core) index;

  # Per service: the [Service] settings the generated module produces with every option at its
  # default, from the same function the module uses (`common.serviceUnit`).
  units =
    builtins.mapAttrs (
      _: entry: common.offlineUnit {inherit (entry) package service;}
    )
    core.services;
}
