# A stand-in for `import nixpkgs { system; config; }` whose builders return inert attrsets that
# look like derivations (nothing can be built from them). With nixpkgs' real `lib` it lets the
# flake's outputs be *evaluated* offline: which packages, checks, modules and groups exist, and
# that every builder argument evaluates. It is not a test of the builders themselves.
{
  lib,
  system,
  config ? {},
  # nixpkgs attribute names the catalog uses as build inputs (dots for nested sets).
  toolNames ? [],
}: let
  # Standalone (the flake test copies this file out of the library), so not util.placeholderPath.
  placeholderPath = n: "/nix/store/00000000000000000000000000000000-${n}";
  fakeDrv = kind: args: let
    a =
      if builtins.isFunction args
      then args a
      else args;
    name = a.name or "${a.pname}-${a.version}";
    self =
      a
      // {
        type = "derivation";
        inherit name;
        outPath = placeholderPath name;
        drvKind = kind;
        meta = a.meta or {};
        overrideAttrs = f:
          fakeDrv kind (a
            // (
              if builtins.isFunction f
              then f a
              else f
            ));
        override = _: self;
      };
  in
    self;
  tool = n: fakeDrv "tool" {name = n;};
  pkgs =
    lib.genAttrs [
      "nodejs"
      "pnpm_10"
      "pnpmConfigHook"
      "makeWrapper"
      "jq"
      "cargo"
      "rustc"
      "clippy"
      "rustfmt"
      "rust-analyzer"
      "nix"
      "tmux"
      "systemd"
      "curl"
      "iproute2"
      "alejandra"
    ]
    tool
    // {
      inherit lib config;
      stdenv = {
        mkDerivation = fakeDrv "stdenv";
        hostPlatform = lib.systems.elaborate system;
      };
      stdenvNoCC.mkDerivation = fakeDrv "stdenvNoCC";
      fetchFromGitHub = a: fakeDrv "fetchFromGitHub" (a // {name = "source";});
      fetchzip = a: fakeDrv "fetchzip" a;
      fetchgit = a: fakeDrv "fetchgit" (a // {name = "source";});
      rustPlatform.buildRustPackage = fakeDrv "buildRustPackage";
      buildGoModule = fakeDrv "buildGoModule";
      buildNpmPackage = fakeDrv "buildNpmPackage";
      buildDenoPackage = fakeDrv "buildDenoPackage";
      fetchPnpmDeps = a: fakeDrv "fetchPnpmDeps" (a // {name = "${a.pname}-pnpm-deps";});
      runCommand = name: env: script: fakeDrv "runCommand" (env // {inherit name script;});
      writeShellScript = name: _text: placeholderPath name;
      mkShell = a: fakeDrv "mkShell" (a // {name = "shell";});
      testers.runNixOSTest = testModule:
        fakeDrv "runNixOSTest" {
          name = "nixos-test";
          inherit testModule;
        };
      callPackage = f: extra: let
        fn =
          if builtins.isFunction f
          then f
          else import f;
      in
        fn (builtins.intersectAttrs (builtins.functionArgs fn) pkgs // extra);
    };
in
  lib.foldl' (
    acc: n: lib.recursiveUpdate acc (lib.setAttrByPath (lib.splitString "." n) (tool n))
  )
  pkgs
  toolNames
