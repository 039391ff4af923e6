# The toolchain versions `[build]` may ask for, and the nixpkgs attributes each one means. One
# table for the Nix side (packaging.nix builds with it, atproto-core.nix checks names against
# it); the workbench keeps the same table in src/catalog/toolchains.rs and a test compares them.
# Plain data, builtins only:
#
#   nix eval --json --file catalog/lib/toolchains.nix
#
# Per toolchain: the builders it applies to (a toolchain named for another builder is an error),
# and per version the nixpkgs attributes. Absent in package.toml = nixpkgs' default (`go`,
# `nodejs`, `pnpm`, `rustc`). `rust` is a minimum, not a choice: nixpkgs has one rustc, and the
# build stops with a message when it is older than asked.
#
# The names are those of nixpkgs-unstable in 2026 (pkgs/top-level/all-packages.nix,
# pkgs/development/tools/pnpm/default.nix): go_1_25..go_1_27 with buildGo125Module..
# buildGo127Module, nodejs_20..nodejs_26 (even majors only), pnpm_9..pnpm_12. An attribute a
# given nixpkgs lacks (pnpm_9 is being removed) fails the build with the name it looked for.
{
  go = {
    builders = ["go-module"];
    versions = {
      "1.25" = {
        package = "go_1_25";
        builder = "buildGo125Module";
      };
      "1.26" = {
        package = "go_1_26";
        builder = "buildGo126Module";
      };
      "1.27" = {
        package = "go_1_27";
        builder = "buildGo127Module";
      };
    };
  };
  nodejs = {
    builders = ["pnpm-workspace" "npm-package"];
    versions = {
      "20".package = "nodejs_20";
      "22".package = "nodejs_22";
      "24".package = "nodejs_24";
      "26".package = "nodejs_26";
    };
  };
  pnpm = {
    builders = ["pnpm-workspace"];
    versions = {
      "9".package = "pnpm_9";
      "10".package = "pnpm_10";
      "11".package = "pnpm_11";
      "12".package = "pnpm_12";
    };
  };
  rust = {
    builders = ["rust-workspace" "rust-package"];
    # Minimum rustc versions (MAJOR.MINOR); compared with lib.versionAtLeast rustc.version.
    versions = builtins.listToAttrs (map (minor: {
      name = "1.${toString minor}";
      value.minimum = "1.${toString minor}";
    }) (builtins.genList (i: 80 + i) 16));
  };
}
