# The NixOS options the catalog's modules and test machines write to, declared with the types
# NixOS declares for them, so the modules can be evaluated with nixpkgs' `lib` alone
# (github:nix-community/nixpkgs.lib) on a machine that cannot download nixpkgs. It is as strict
# as NixOS where the catalog meets it: an option NixOS does not have does not exist here either,
# namespaces are sets of options, and forcing `config.system.build.toplevel` fails on a failed
# assertion and renders every unit, as building the system would.
#
#   nix eval --json --file catalog/lib/testing/eval-module.nix config.systemd.services \
#     --arg lib 'import /path/to/nixpkgs.lib/lib' --argstr service constellation
#
# One file per namespace (each from the NixOS file named in its header; facts from the types,
# not NixOS code). Real NixOS is exercised by the VM checks (catalog/lib/checks.nix).
{
  imports = [
    ./nixos/misc.nix
    ./nixos/systemd.nix
    ./nixos/users.nix
    ./nixos/networking.nix
    ./nixos/postgresql.nix
  ];
}
