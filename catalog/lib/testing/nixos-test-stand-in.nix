# The options of a `pkgs.testers.runNixOSTest` test module (nixos/lib/testing/: name, nodes,
# defaults, testScript, ...), with the types the test framework gives them, so a VM test's own
# module (including a package's test.nix) can be evaluated without nixpkgs. Each node is a
# deferred module; eval.nix evaluates it with the NixOS stand-in.
{lib, ...}: let
  inherit (lib) mkOption types;
  option = type: default: what:
    mkOption {
      inherit type default;
      description = what;
    };
in {
  options = {
    name = mkOption {
      type = types.str;
      description = "Name of the test (and of its derivation).";
    };
    nodes = option (types.attrsOf types.deferredModule) {} "Machines of the test, by name.";
    defaults = option types.deferredModule {} "Configuration every node gets.";
    testScript = mkOption {
      type = types.either types.str (types.functionTo types.str);
      description = "Python run by the test driver (a string, or a function of { nodes, ... }).";
    };
    skipLint = option types.bool false "Do not lint the test script.";
    skipTypeCheck = option types.bool false "Do not type-check the test script.";
    globalTimeout = option types.ints.positive 3600 "Seconds before the test is killed.";
    enableOCR = option types.bool false "Offer OCR of the screen.";
    extraPythonPackages = option (types.functionTo (types.listOf types.unspecified)) (_: []) "Python packages for the test script.";
    meta = option (types.attrsOf types.unspecified) {} "meta of the test derivation.";
  };
}
