# Evaluate one generated service module with nixpkgs' lib and the stand-in options (see
# nixos-stand-in.nix). `pkgs` is a minimal stand-in too: the package is a fixed path and
# writeShellScript returns a placeholder path, so no derivation is built.
{
  lib,
  service,
  catalogDir ? null,
  config ? {},
}: let
  inherit (import ../util.nix) catalogArgs placeholderPath;
  modules = import ../nixos-modules.nix (catalogArgs catalogDir);
  pkgsStandIn = {
    writeShellScript = name: _text: placeholderPath name;
    atproto =
      builtins.mapAttrs (n: _: {
        type = "derivation";
        name = n;
        outPath = placeholderPath n;
      })
      modules;
  };
  evaluated = lib.evalModules {
    modules = [
      ./nixos-stand-in.nix
      modules.${service}
      {
        _module.args.pkgs = pkgsStandIn;
        services.atproto.${service} =
          {
            enable = true;
          }
          // config;
      }
    ];
  };
in {
  config = {
    inherit (evaluated.config) systemd users networking services;
    failedAssertions = map (a: a.message) (builtins.filter (a: !a.assertion) evaluated.config.assertions);
    inherit (evaluated.config) warnings;
  };
}
