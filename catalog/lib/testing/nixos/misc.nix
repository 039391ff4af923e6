# The rest of what the catalog's modules and test machines touch: `assertions` and `warnings`
# (nixos/modules/misc/assertions.nix), `environment.etc` (nixos/modules/system/etc/etc.nix),
# `environment.systemPackages`, the test VM's `virtualisation.*` (qemu-vm.nix), the part of
# `services.redis.servers` (nixos/modules/services/databases/redis.nix) the VM tests use, and
# `system.build.toplevel`, which, as in nixos/modules/system/activation/top-level.nix, fails
# with "Failed assertions:" and prints the warnings. Forcing the toplevel also forces everything
# the namespace files list in `testing.forced` (rendered units, users, firewall, ...), the way
# building the system would read them.
{
  lib,
  config,
  ...
}: let
  inherit (lib) mkOption mkDefault mkIf types;
  inherit (import ../../util.nix) placeholderPath;

  option = type: default: what:
    mkOption {
      inherit type default;
      description = what;
    };

  etcFile = {
    name,
    config,
    ...
  }: {
    options = {
      enable = option types.bool true "Whether the file is created.";
      target = mkOption {
        type = types.str;
        description = "Path below /etc (the attribute name by default).";
      };
      text = option (types.nullOr types.lines) null "Content of the file.";
      source = mkOption {
        type = types.path;
        description = "Where the file comes from.";
      };
      mode = option types.str "symlink" "\"symlink\", or the mode of a copy (e.g. \"0440\").";
      uid = option types.int 0 "Owner of a copy.";
      gid = option types.int 0 "Group of a copy.";
      user = option types.str "+${toString config.uid}" "Owner of a copy, by name.";
      group = option types.str "+${toString config.gid}" "Group of a copy, by name.";
    };
    config = {
      target = mkDefault name;
      source = mkIf (config.text != null) (mkDefault (placeholderPath "etc-${builtins.replaceStrings ["/"] ["-"] name}"));
    };
  };

  redisServer = {name, ...}: {
    options = {
      enable = option types.bool false "Whether this Redis server runs.";
      # NixOS: 6379 for the unnamed server "", else 0 (no TCP listener).
      port = option types.port (
        if name == ""
        then 6379
        else 0
      ) "TCP port (0: none).";
      bind = option (types.nullOr types.str) "127.0.0.1" "Addresses to listen on.";
      user = option types.str "redis${lib.optionalString (name != "") "-${name}"}" "User the server runs as.";
      databases = option types.int 16 "Number of databases.";
      save = option (types.listOf (types.listOf types.int)) [[900 1] [300 10] [60 10000]] "Snapshot schedule.";
    };
  };

  failed = map (a: a.message) (builtins.filter (a: !a.assertion) config.assertions);
  # nixpkgs' own lib.asserts.checkAssertWarn where this lib has it, else the same steps.
  checkAssertWarn =
    lib.asserts.checkAssertWarn
    or (
      _: warnings: value:
        if failed != []
        then throw "\nFailed assertions:\n${lib.concatMapStrings (m: "- ${m}\n") failed}"
        else lib.foldr lib.warn value warnings
    );
in {
  options = {
    assertions = mkOption {
      type = types.listOf types.unspecified;
      internal = true;
      default = [];
      description = "Conditions ({ assertion; message; }) that must hold for the system to build.";
    };
    warnings = mkOption {
      type = types.listOf types.str;
      internal = true;
      default = [];
      description = "Messages printed when the system is built.";
    };
    system.build = mkOption {
      type = types.lazyAttrsOf types.unspecified;
      internal = true;
      default = {};
      description = "What building the system produces; `toplevel` is the system.";
    };
    system.stateVersion = option types.str "25.11" "NixOS release the state was created with.";
    # Not a NixOS option: what the namespace files want forced with the toplevel.
    testing.forced = mkOption {
      type = types.listOf types.unspecified;
      internal = true;
      default = [];
      description = "Values forced (deepSeq) by system.build.toplevel.";
    };

    environment.etc = option (types.attrsOf (types.submodule etcFile)) {} "Files in /etc.";
    environment.systemPackages = option (types.listOf types.package) [] "Packages of the system profile.";
    environment.variables = option (types.attrsOf (types.either types.str (types.listOf types.str))) {} "Variables of login shells.";

    services.redis.servers = option (types.attrsOf (types.submodule redisServer)) {} "Redis servers, by name (\"\" is the default one).";

    virtualisation.memorySize = option types.ints.positive 1024 "Memory of the test VM in MiB.";
    virtualisation.diskSize = option types.ints.positive 1024 "Disk of the test VM in MiB.";
    virtualisation.cores = option types.ints.positive 1 "CPUs of the test VM.";
  };

  config = {
    testing.forced = [
      (lib.mapAttrs (_: f: [f.target f.source f.mode f.user f.group]) (lib.filterAttrs (_: f: f.enable) config.environment.etc))
      (map (p: p.outPath) config.environment.systemPackages)
      config.environment.variables
      (lib.mapAttrs (_: r: removeAttrs r ["_module"]) config.services.redis.servers)
      [config.virtualisation.memorySize config.virtualisation.diskSize config.virtualisation.cores]
    ];
    system.build.toplevel = checkAssertWarn config.assertions config.warnings (
      builtins.deepSeq config.testing.forced (placeholderPath "nixos-system-stand-in")
    );
  };
}
