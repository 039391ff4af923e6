# The few NixOS options the generated service modules write to, declared loosely, so the modules
# can be evaluated with nixpkgs' `lib` alone (github:nix-community/nixpkgs.lib) on a machine that
# cannot download nixpkgs:
#
#   nix eval --json --file catalog/lib/testing/eval-module.nix config.systemd.services \
#     --arg lib 'import /path/to/nixpkgs.lib/lib' --argstr service constellation
#
# Only for checking option types, defaults, assertions and the unit settings; real NixOS is
# exercised by the VM checks (catalog/lib/checks.nix).
{lib, ...}: let
  loose = lib.mkOption {
    type = lib.types.attrsOf lib.types.anything;
    default = {};
  };
in {
  options = {
    assertions = lib.mkOption {
      type = lib.types.listOf lib.types.anything;
      default = [];
    };
    warnings = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [];
    };
    systemd.services = loose;
    systemd.tmpfiles.rules = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [];
    };
    users.users = loose;
    users.groups = loose;
    environment.etc = loose;
    networking.firewall.allowedTCPPorts = lib.mkOption {
      type = lib.types.listOf lib.types.port;
      default = [];
    };
    services.postgresql = loose;
  };
}
