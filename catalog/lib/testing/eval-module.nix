# Evaluate one generated service module, enabled with `config`, with nixpkgs' lib, the strict
# NixOS stand-in and inert packages (see eval.nix). `toplevel` forces what building the system
# would (rendered units, assertions); `config` is the part the workbench's tests compare with
# `atwb unit`.
{
  lib,
  service,
  catalogDir ? null,
  config ? {},
}: let
  evaluated = (import ./eval.nix {inherit lib catalogDir;}).machine [
    {
      services.atproto.${service} =
        {
          enable = true;
        }
        // config;
    }
  ];
in {
  inherit (evaluated) toplevel;
  config = {
    inherit (evaluated.config) systemd users networking;
    failedAssertions = map (a: a.message) (builtins.filter (a: !a.assertion) evaluated.config.assertions);
    inherit (evaluated.config) warnings;
  };
}
