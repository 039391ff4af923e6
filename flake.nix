{
  description = "ATproto Nix User Repository (catalog/) and atwb, its terminal workbench";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = {
    self,
    nixpkgs,
  }: let
    inherit (nixpkgs) lib;
    systems = [
      "x86_64-linux"
      "aarch64-linux"
    ];
    # Packages whose upstream states no license (SPDX NOASSERTION) carry an unfree-marked
    # license so nothing redistributes them by accident; the flake's own outputs may evaluate
    # them, nothing else unfree.
    pkgsFor = system:
      import nixpkgs {
        inherit system;
        config.allowUnfreePredicate = p: builtins.all (l: (l.shortName or "") == "noassertion") (lib.toList (p.meta.license or []));
      };
    forAllSystems = f: lib.genAttrs systems (system: f system (pkgsFor system));

    core = import ./catalog/lib/atproto-core.nix {};
    catalogFor = pkgs: removeAttrs (import ./catalog {inherit pkgs;}) (import ./catalog/lib/util.nix).reservedNames;

    # The workbench itself. The source is filtered to what cargo needs, so editing the catalog
    # does not rebuild atwb (and the catalog does not rebuild when atwb changes).
    atwbFor = pkgs: let
      cargo = lib.importTOML ./Cargo.toml;
    in
      pkgs.rustPlatform.buildRustPackage {
        pname = "atwb";
        inherit (cargo.package) version;
        src = lib.fileset.toSource {
          root = ./.;
          fileset = lib.fileset.unions [
            ./Cargo.toml
            ./Cargo.lock
            ./src
            # Empty directories are not tracked by git, so the flake may not see it.
            (lib.fileset.maybeMissing ./assets)
          ];
        };
        cargoLock.lockFile = ./Cargo.lock;
        # The integration tests need nix, tmux and a catalog; CI runs them with `.ci/run`.
        doCheck = false;
        meta = {
          inherit (cargo.package) description;
          license = with lib.licenses; [
            mit
            asl20
          ];
          mainProgram = "atwb";
          platforms = lib.platforms.unix;
        };
      };
  in {
    packages = forAllSystems (
      system: pkgs:
        lib.filterAttrs (
          _: p: lib.meta.availableOn pkgs.stdenv.hostPlatform p
        ) (catalogFor pkgs)
        // {
          atwb = atwbFor pkgs;
          default = atwbFor pkgs;
        }
    );

    # Every catalog package (as in the NUR template), and the same grouped:
    # legacyPackages.<system>.byOrg.<org>.<name>, legacyPackages.<system>.byTier.tier<N>.<name>.
    legacyPackages = forAllSystems (
      system: pkgs: let
        all = catalogFor pkgs;
        group = keyOf:
          lib.foldl' (
            acc: r: lib.recursiveUpdate acc {${keyOf r}.${r.name} = all.${r.name};}
          ) {} (builtins.attrValues core.packages);
      in
        all
        // {
          byOrg = group (r: r.org);
          byTier = group (r: "tier${toString r.tier}");
        }
    );

    nixosModules = import ./catalog/lib/nixos-modules.nix {};

    overlays.default = import ./catalog/lib/overlay.nix;

    checks = forAllSystems (system: pkgs: import ./catalog/lib/checks.nix {inherit pkgs;});

    devShells = forAllSystems (
      system: pkgs: {
        default = pkgs.mkShell {
          packages = [
            pkgs.cargo
            pkgs.rustc
            pkgs.clippy
            pkgs.rustfmt
            pkgs.rust-analyzer
            pkgs.nix
            pkgs.tmux
            pkgs.systemd
            pkgs.alejandra
          ];
        };
      }
    );

    # `nix fmt` formats with the formatter CI checks with (`.ci/nix-fmt`, catalog/lib/README.md).
    formatter = forAllSystems (system: pkgs: pkgs.alejandra);

    apps = forAllSystems (
      system: pkgs: {
        default = {
          type = "app";
          program = lib.getExe self.packages.${system}.atwb;
        };
      }
    );
  };
}
