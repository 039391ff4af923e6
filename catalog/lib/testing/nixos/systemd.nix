# Stand-in for NixOS's `systemd.services`, `systemd.targets` and `systemd.tmpfiles`, with the
# types NixOS gives them (nixos/lib/systemd-unit-options.nix, systemd-types.nix, systemd-lib.nix,
# nixos/modules/system/boot/systemd/tmpfiles.nix; see catalog/lib/testing/README.md).
#
# What makes it strict: unit names in dependency lists must carry a unit suffix, `[Service]`
# values merge as NixOS merges them (lists concatenate, anything else must agree), `Type=` and
# `Restart=` are checked, `environment` takes strings and paths only, and every unit is rendered
# to text when the system is forced, so a value systemd could not be given fails here as well.
{
  lib,
  config,
  ...
}: let
  inherit (lib) mkOption mkIf mkMerge types;
  inherit (import ../../util.nix) placeholderPath placeholderPackage;

  unitSuffixes = "service|socket|device|mount|automount|swap|target|path|timer|scope|slice";
  unitName = types.strMatching "[a-zA-Z0-9@%:_.\\-]+[.](${unitSuffixes})";

  # A value of a unit section. No check of the value itself (NixOS has none); a list anywhere
  # makes every definition a list, concatenated, otherwise all definitions must be equal.
  unitValue = lib.mkOptionType {
    name = "systemd option";
    merge = loc: defs: let
      kept = lib.filterOverrides defs;
    in
      if lib.any (d: builtins.isList d.value) kept
      then lib.concatMap (d: lib.toList d.value) kept
      else lib.mergeEqualOption loc kept;
  };

  # `[Service]` keys with a closed set of values, checked after mkIf/mkOverride are unwrapped.
  closedValues = {
    Type = ["exec" "simple" "forking" "oneshot" "dbus" "notify" "notify-reload" "idle"];
    Restart = ["no" "on-success" "on-failure" "on-abnormal" "on-abort" "always"];
  };
  unwrap = v:
    if builtins.elem (v._type or "") ["override" "if"]
    then unwrap v.content
    else v;
  badValues = set:
    lib.concatLists (lib.mapAttrsToList (
        key: allowed:
          lib.optional (set ? ${key} && !(builtins.elem (unwrap set.${key}) allowed))
          "systemd [Service] `${key}` cannot be `${toString (unwrap set.${key})}` (one of: ${toString allowed})"
      )
      closedValues);
  serviceSection = types.addCheck (types.attrsOf unitValue) (
    set: let
      errors = badValues set;
    in
      errors == [] || builtins.trace (lib.concatStringsSep "\n" errors) false
  );

  unitList = what:
    mkOption {
      type = types.listOf unitName;
      default = [];
      description = "Units this unit ${what}.";
    };
  lines = what:
    mkOption {
      type = types.lines;
      default = "";
      description = what;
    };
  flag = default: what:
    mkOption {
      type = types.bool;
      inherit default;
      description = what;
    };

  # What every unit kind has.
  unitOptions = {
    enable = flag true "Whether the unit exists (false masks it).";
    description = mkOption {
      type = types.singleLineStr;
      default = "";
      description = "Description= (one line).";
    };
    documentation = mkOption {
      type = types.listOf types.str;
      default = [];
      description = "Documentation= URIs.";
    };
    wantedBy = unitList "is wanted by";
    requiredBy = unitList "is required by";
    upheldBy = unitList "is upheld by";
    aliases = unitList "is also known as";
    requires = unitList "requires";
    wants = unitList "wants";
    upholds = unitList "upholds";
    after = unitList "starts after";
    before = unitList "starts before";
    bindsTo = unitList "is bound to";
    partOf = unitList "is part of";
    conflicts = unitList "conflicts with";
    requisite = unitList "needs already active";
    onFailure = unitList "activates on failure";
    onSuccess = unitList "activates on success";
    unitConfig = mkOption {
      type = types.attrsOf unitValue;
      default = {};
      description = "[Unit] settings.";
    };
    # No default in NixOS: rendered only when defined.
    startLimitBurst = mkOption {
      type = types.int;
      description = "StartLimitBurst=.";
    };
    startLimitIntervalSec = mkOption {
      type = types.int;
      description = "StartLimitIntervalSec=.";
    };
    restartTriggers = mkOption {
      type = types.listOf types.unspecified;
      default = [];
      description = "Values whose change restarts the unit on a switch.";
    };
    reloadTriggers = mkOption {
      type = types.listOf unitValue;
      default = [];
      description = "Values whose change reloads the unit on a switch.";
    };
  };

  # The [Unit] section NixOS derives from the options above.
  unitSection = cfg: opts: let
    listKeys = {
      Requires = cfg.requires;
      Wants = cfg.wants;
      Upholds = cfg.upholds;
      After = cfg.after;
      Before = cfg.before;
      BindsTo = cfg.bindsTo;
      PartOf = cfg.partOf;
      Conflicts = cfg.conflicts;
      Requisite = cfg.requisite;
      OnFailure = cfg.onFailure;
      OnSuccess = cfg.onSuccess;
      Documentation = cfg.documentation;
    };
  in
    lib.mapAttrs (_: toString) (lib.filterAttrs (_: v: v != []) listKeys)
    // lib.optionalAttrs (cfg.description != "") {Description = cfg.description;}
    // lib.optionalAttrs opts.startLimitBurst.isDefined {StartLimitBurst = toString cfg.startLimitBurst;}
    // lib.optionalAttrs opts.startLimitIntervalSec.isDefined {StartLimitIntervalSec = toString cfg.startLimitIntervalSec;}
    // cfg.unitConfig;

  # Unit text as NixOS writes it: true/false for booleans, toString for the rest (an attrset
  # cannot be rendered, as in NixOS), one line per list element.
  valueText = v:
    if builtins.isBool v
    then lib.boolToString v
    else toString v;
  sectionText = set:
    lib.concatStrings (lib.concatLists (lib.mapAttrsToList (k: v: map (x: "${k}=${valueText x}\n") (lib.toList v)) set));
  environmentText = unit: env:
    lib.concatStrings (lib.mapAttrsToList (
        k: v: let
          line = "Environment=${builtins.toJSON "${k}=${toString v}"}\n";
        in
          if v == null
          then ""
          else if builtins.stringLength line >= 1048576
          then throw "The value of the environment variable `${k}' in systemd service `${unit}.service' is too long."
          else line
      )
      env);

  # Where NixOS would put a generated script (a store path).
  scriptPath = name: "${placeholderPath "unit-script-${name}"}/bin/${name}";

  serviceModule = {
    name,
    config,
    options,
    ...
  }: {
    options =
      unitOptions
      // {
        environment = mkOption {
          type = types.attrsOf (types.nullOr (types.oneOf [types.str types.path types.package]));
          default = {};
          description = "Environment= variables; null removes one.";
        };
        path = mkOption {
          type = types.listOf (types.oneOf [types.package types.str]);
          default = [];
          description = "Packages whose bin/ and sbin/ make up PATH.";
        };
        serviceConfig = mkOption {
          type = serviceSection;
          default = {};
          description = "[Service] settings.";
        };
        script = lines "Shell commands run as the main process (ExecStart=).";
        scriptArgs = mkOption {
          type = types.str;
          default = "";
          description = "Arguments of `script`.";
        };
        preStart = lines "ExecStartPre= commands.";
        postStart = lines "ExecStartPost= commands.";
        reload = lines "ExecReload= commands.";
        preStop = lines "ExecStop= commands.";
        postStop = lines "ExecStopPost= commands.";
        enableStrictShellChecks = flag false "Check the scripts with shellcheck.";
        restartIfChanged = flag true "Restart on a switch when the unit changed.";
        reloadIfChanged = flag false "Reload instead of restart on a switch.";
        stopIfChanged = flag true "Stop with the old unit before starting the new one.";
        startAt = mkOption {
          type = types.either types.str (types.listOf types.str);
          default = [];
          apply = lib.toList;
          description = "OnCalendar= of a timer NixOS generates.";
        };
        # Not a NixOS option: the rendered unit, forced by the system's toplevel.
        text = mkOption {
          type = types.str;
          internal = true;
          readOnly = true;
          description = "The unit file as NixOS would write it.";
        };
      };
    config = mkMerge [
      (mkIf (config.script != "") {serviceConfig.ExecStart = "${scriptPath "${name}-start"} ${config.scriptArgs}";})
      (mkIf (config.preStart != "") {serviceConfig.ExecStartPre = [(scriptPath "${name}-pre-start")];})
      (mkIf (config.postStart != "") {serviceConfig.ExecStartPost = [(scriptPath "${name}-post-start")];})
      (mkIf (config.reload != "") {serviceConfig.ExecReload = scriptPath "${name}-reload";})
      (mkIf (config.preStop != "") {serviceConfig.ExecStop = scriptPath "${name}-pre-stop";})
      (mkIf (config.postStop != "") {serviceConfig.ExecStopPost = scriptPath "${name}-post-stop";})
      {
        # NixOS always adds these to `path` and sets PATH from it, so a service that sets PATH
        # in `environment` itself conflicts.
        path = lib.mkAfter (map placeholderPackage ["coreutils" "findutils" "gnugrep" "gnused" "systemd"]);
        environment.PATH = "${lib.makeBinPath config.path}:${lib.makeSearchPathOutput "bin" "sbin" config.path}";
        text =
          "[Unit]\n"
          + sectionText (unitSection config options)
          + "\n[Service]\n"
          + environmentText name config.environment
          + sectionText config.serviceConfig;
      }
    ];
  };

  targetModule = {
    config,
    options,
    ...
  }: {
    options =
      unitOptions
      // {
        text = mkOption {
          type = types.str;
          internal = true;
          readOnly = true;
          description = "The unit file as NixOS would write it.";
        };
      };
    config.text = "[Unit]\n" + sectionText (unitSection config options);
  };

  tmpfilesEntry = {name, ...}: let
    field = default: what:
      mkOption {
        type = types.str;
        inherit default;
        description = what;
      };
  in {
    options = {
      type = field name "Type letter (defaults to the attribute name).";
      mode = field "-" "Mode.";
      user = field "-" "Owner.";
      group = field "-" "Group.";
      age = field "-" "Age after which files are cleaned up.";
      argument = field "" "Type-specific argument.";
    };
  };

  services = config.systemd.services;
in {
  options.systemd = {
    services = mkOption {
      type = types.attrsOf (types.submodule serviceModule);
      default = {};
      description = "Service units.";
    };
    targets = mkOption {
      type = types.attrsOf (types.submodule targetModule);
      default = {};
      description = "Target units.";
    };
    tmpfiles.rules = mkOption {
      type = types.listOf types.str;
      default = [];
      description = "tmpfiles.d(5) lines.";
    };
    tmpfiles.settings = mkOption {
      type = types.attrsOf (types.attrsOf (types.attrsOf (types.submodule tmpfilesEntry)));
      default = {};
      description = "tmpfiles.d entries: file -> path -> type -> entry.";
    };
    tmpfiles.packages = mkOption {
      type = types.listOf types.package;
      default = [];
      description = "Packages whose lib/tmpfiles.d is used.";
    };
  };

  config = {
    warnings = lib.concatLists (lib.mapAttrsToList (
        name: s: let
          get = k: default: unwrap (s.serviceConfig.${k} or default);
        in
          lib.optional (get "Type" "" == "oneshot" && !(builtins.elem (get "Restart" "no") ["no" "on-failure"]))
          "Service `${name}.service' with `Type=oneshot' can only have `Restart=no' or `Restart=on-failure'"
          ++ lib.optional (builtins.elem "network-online.target" s.after && !(builtins.elem "network-online.target" (s.wants ++ s.requires)))
          "${name}.service is ordered after 'network-online.target' but doesn't depend on it"
      )
      services);

    testing.forced = [
      (lib.mapAttrs (_: s: [s.text s.wantedBy s.requiredBy s.upheldBy s.aliases s.startAt]) services)
      (lib.mapAttrs (_: t: [t.text t.wantedBy t.requiredBy]) config.systemd.targets)
      config.systemd.tmpfiles.rules
      (lib.mapAttrs (_: paths: lib.mapAttrs (_: lib.mapAttrs (_: e: removeAttrs e ["_module"])) paths) config.systemd.tmpfiles.settings)
    ];
  };
}
