# NUR entry point. NUR calls this with `pkgs` only (nix-community/NUR lib/evalRepo.nix); nothing
# else is required, nothing is fetched at evaluation time, and no derivation is read during
# evaluation (no import-from-derivation).
{pkgs ? import <nixpkgs> {}}: let
  core = import ./lib/atproto-core.nix {};
  packaging = import ./lib/packaging.nix {inherit pkgs core;};
  common = import ./lib/service-common.nix;
in
  packaging.packages
  // {
    # Functions for other repositories (NUR's reserved `lib`).
    lib = {
      inherit
        (core)
        atprotoMeta
        mkAtprotoService
        mkDidResolver
        mkAtprotoDatabase
        buildLexiconPackage
        ;
      inherit (common) mkServiceSecurity mkDatabaseIntegration mkAtprotoServiceModule;
      inherit (packaging) builders fetchSource workspaceDrvs;
      catalog = core.index;
    };
    overlays = {
      default = import ./lib/overlay.nix;
    };
    # Paths, as NUR asks: one module with every service (each off until enabled).
    nixosModules = {
      default = ./lib/nixos-module.nix;
    };
  }
