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
  # Every toolchain attribute catalog/lib/toolchains.nix names (kept standalone: the flake test
  # copies this file alone).
  toolchainNames =
    map (v: "go_1_${toString v}") [25 26 27]
    ++ map (v: "nodejs_${toString v}") [20 22 24 26]
    ++ map (v: "pnpm_${toString v}") [9 10 11 12];
  goBuilders = lib.genAttrs (map (v: "buildGo1${toString v}Module") [25 26 27]) fakeDrv;
  pkgs =
    lib.genAttrs ([
        "nodejs"
        "pnpm"
        "go"
        "pnpmConfigHook"
        "makeWrapper"
        "jq"
        "cargo"
        "clippy"
        "rustfmt"
        "rust-analyzer"
        "nix"
        "tmux"
        "systemd"
        "curl"
        "iproute2"
        "alejandra"
        "git"
        "openssl"
        "sqlite"
        "coreutils"
        "bash"
        "websocat"
        "removeReferencesTo"
      ]
      ++ toolchainNames)
    tool
    // goBuilders
    // {
      inherit lib config;
      rustc = tool "rustc" // {version = "1.91.0";};
      python3 =
        tool "python3"
        // {
          withPackages = f: builtins.seq (f {setuptools = tool "setuptools";}) (tool "python3-env");
        };
      runtimeShell = placeholderPath "bash" + "/bin/bash";
      stdenv = {
        mkDerivation = fakeDrv "stdenv";
        hostPlatform = lib.systems.elaborate system;
        shell = placeholderPath "bash" + "/bin/bash";
      };
      stdenvNoCC.mkDerivation = fakeDrv "stdenvNoCC";
      fetchFromGitHub = a: fakeDrv "fetchFromGitHub" (a // {name = "source";});
      fetchzip = a: fakeDrv "fetchzip" a;
      fetchgit = a: fakeDrv "fetchgit" (a // {name = "source";});
      rustPlatform.buildRustPackage = fakeDrv "buildRustPackage";
      rustPlatform.bindgenHook = tool "bindgenHook";
      buildGoModule = fakeDrv "buildGoModule";
      buildNpmPackage = fakeDrv "buildNpmPackage";
      buildDenoPackage = fakeDrv "buildDenoPackage";
      fetchPnpmDeps = a: fakeDrv "fetchPnpmDeps" (a // {name = "${a.pname}-pnpm-deps";});
      srcOnly = d: fakeDrv "srcOnly" {name = "${d.name or "source"}-source";};
      runCommand = name: env: buildCommand: fakeDrv "runCommand" (env // {inherit name buildCommand;});
      writeShellScript = name: text: fakeDrv "writeShellScript" {inherit name text;};
      writeScript = name: text: fakeDrv "writeScript" {inherit name text;};
      writeText = name: text: fakeDrv "writeText" {inherit name text;};
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
