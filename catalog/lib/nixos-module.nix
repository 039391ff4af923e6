# Every catalog service as one NixOS module (each stays off until `services.atproto.<name>.enable`).
{
  imports = [(import ./nixos-modules.nix {}).default];
}
