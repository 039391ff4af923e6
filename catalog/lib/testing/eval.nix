# Evaluates NixOS configurations the way NixOS would, without nixpkgs: nixpkgs' `lib` (a clone
# of github:nix-community/nixpkgs.lib), the strict NixOS stand-in (nixos-stand-in.nix) and inert
# packages (stub-nixpkgs.nix). Forcing a `toplevel` below renders every unit and fails on a
# failed assertion, as building the system would. Nothing is built.
#
#   nix eval --json --file catalog/lib/testing/eval.nix report --arg lib 'import .../nixpkgs.lib/lib'
#   nix eval --file catalog/lib/testing/eval.nix vmTests.constellation-constellation-vm.toplevel --arg lib ...
#   nix eval --file catalog/lib/testing/eval.nix examples.pds --arg lib ...
{
  lib,
  # A catalog outside the repository (a string), as for offline.nix.
  catalogDir ? null,
  # Directory of example configurations (examples/*.nix), if any.
  examplesDir ? ../../../examples,
  system ? "x86_64-linux",
}: let
  util = import ../util.nix;
  args = util.catalogArgs catalogDir;
  catalogPath =
    if catalogDir == null
    then ../..
    else /. + catalogDir;
  core = import ../atproto-core.nix args;
  modules = import ../nixos-modules.nix args;
  samples = import ../test-samples.nix;

  toolNames = lib.unique (builtins.concatMap (r: r.build.build_inputs ++ r.build.native_build_inputs) (builtins.attrValues core.packages));
  pkgs = import ./stub-nixpkgs.nix {inherit lib system toolNames;};

  # One machine: the NixOS stand-in, the catalog's modules (all off until enabled) and `extra`.
  machine = extra: let
    evaluated = lib.evalModules {
      modules =
        [
          ./nixos-stand-in.nix
          modules.default
          {_module.args.pkgs = pkgs;}
        ]
        ++ extra;
    };
  in {
    inherit (evaluated) config options;
    toplevel = evaluated.config.system.build.toplevel;
  };

  # A runNixOSTest module: its own options (nixos-test-stand-in.nix), then each node as a machine.
  nixosTest = testModule: let
    test = lib.evalModules {modules = [./nixos-test-stand-in.nix testModule];};
    nodes = builtins.mapAttrs (_: node:
      machine [
        test.config.defaults
        node
        {_module.args.nodes = builtins.mapAttrs (_: n: n.config) nodes;}
      ])
    test.config.nodes;
    script = test.config.testScript;
  in {
    inherit (test.config) name;
    inherit nodes;
    testScript =
      if builtins.isFunction script
      then script {nodes = builtins.mapAttrs (_: n: n.config) nodes;}
      else script;
    toplevel = builtins.mapAttrs (_: n: n.toplevel) nodes;
  };

  checks = import ../checks.nix {
    inherit pkgs;
    catalogDir = catalogPath;
  };
  vmTests = builtins.mapAttrs (_: c: nixosTest c.testModule) (lib.filterAttrs (_: c: (c.drvKind or "") == "runNixOSTest") checks);

  # Every service enabled on one machine with its test values: ports, users, groups and
  # databases must not clash.
  together = let
    m = machine (map (e: samples.serviceSettings {inherit lib pkgs;} e) (builtins.attrValues core.services));
    ports = builtins.concatLists (lib.mapAttrsToList (svc: s: lib.mapAttrsToList (port: number: {inherit svc port number;}) s.ports) m.config.services.atproto);
    byNumber = lib.groupBy (p: toString p.number) ports;
    clashes = lib.filterAttrs (_: ps: builtins.length ps > 1) byNumber;
    databases = m.config.services.postgresql.ensureDatabases;
  in {
    inherit (m) toplevel;
    portClashes = builtins.mapAttrs (_: map (p: "${p.svc}.${p.port}")) clashes;
    databaseClashes = builtins.attrNames (lib.filterAttrs (_: n: n > 1) (builtins.foldl' (acc: d: acc // {${d} = (acc.${d} or 0) + 1;}) {} databases));
    units = builtins.length (builtins.attrNames m.config.systemd.services);
    inherit databases;
  };

  exampleFiles =
    if builtins.pathExists examplesDir
    then lib.filterAttrs (n: t: t == "regular" && lib.hasSuffix ".nix" n) (builtins.readDir examplesDir)
    else {};
  examples = lib.mapAttrs' (file: _: lib.nameValuePair (lib.removeSuffix ".nix" file) (machine [(examplesDir + "/${file}")]).toplevel) exampleFiles;

  # Each service alone, with the values its VM test uses.
  alone = builtins.mapAttrs (_: e: (machine [(samples.serviceSettings {inherit lib pkgs;} e)]).toplevel) core.services;
  optionCount = builtins.foldl' (n: e: n + builtins.length e.service.options) 0 (builtins.attrValues core.services);
in {
  inherit machine nixosTest vmTests together examples alone pkgs;
  # Everything at once, for the offline test: forcing it evaluates every configuration.
  report = {
    nothingEnabled = (machine []).toplevel;
    alone = builtins.attrNames alone;
    aloneForced = builtins.attrValues alone;
    together = {inherit (together) toplevel portClashes databaseClashes units databases;};
    vmTests =
      builtins.mapAttrs (_: t: {
        inherit (t) toplevel;
        script = builtins.stringLength t.testScript;
      })
      vmTests;
    examples = examples;
    counts = {
      services = builtins.length (builtins.attrNames core.services);
      options = optionCount;
      machines = 1 + builtins.length (builtins.attrNames alone) + 1 + builtins.foldl' (n: t: n + builtins.length (builtins.attrNames t.nodes)) 0 (builtins.attrValues vmTests) + builtins.length (builtins.attrNames examples);
    };
  };
}
