# `services.atproto.<service>`: the NixOS module generated for one service of one catalog
# record (the options are documented in catalog/README.md). `packageFor pkgs` returns the
# package to run by default (the catalog's own build). What the module computes comes from the
# pure functions of service-common.nix, so `atwb unit` shows the same unit.
#
#   mkAtprotoServiceModule = import ./service-module.nix;
#   mkAtprotoServiceModule { package = record; service = record.services.x; packageFor = pkgs: ...; }
{
  package, # catalog record
  service, # service record
  packageFor, # pkgs -> derivation
}: {
  config,
  lib,
  pkgs,
  ...
}: let
  util = import ./util.nix;
  common = import ./service-common.nix;
  inherit (util) byName isSecret;
  inherit (lib) mkOption mkEnableOption types mkIf;
  name = service.name;
  prefix = "services.atproto.${name}";
  cfg = config.services.atproto.${name};
  serviceId = util.serviceId name; # default user, group and unit name
  absolutePath = types.strMatching "/.*";
  defaultListenAddress = "127.0.0.1";

  # Option type in package.toml -> NixOS option type (secret-file options are `secrets`).
  optionTypes = o: {
    str = types.str;
    int = types.int;
    port = types.port;
    bool = types.bool;
    enum = types.enum o.values;
    path = absolutePath;
    list = types.listOf types.str;
  };
  optionType = o: (optionTypes o).${o.type} or (throw "unreachable: ${o.type}");

  settingOptions = byName (o:
    mkOption ({
        type = types.nullOr (optionType o);
        description = o.description + lib.optionalString (o.env != null) " (environment variable `${o.env}`)";
        default =
          if o.hasDefault
          then o.default
          else null;
      }
      // lib.optionalAttrs o.hasExample {inherit (o) example;})) (builtins.filter (o: !isSecret o) service.options);
  secretOptions = byName (o:
    mkOption {
      # A string, not a Nix path: a path literal would be copied into the world-readable store.
      type = types.nullOr absolutePath;
      default = null;
      example = "/run/secrets/${name}-${o.name}";
      description =
        "File holding ${o.description}; read by systemd at start (LoadCredential), never copied to the Nix store."
        + lib.optionalString (o.example_generate != null) " Upstream's tool writes one: `${builtins.concatStringsSep " " o.example_generate}`.";
    }) (builtins.filter isSecret service.options);

  database = common.mkDatabaseIntegration {
    inherit (cfg.database) type url host createLocally name user;
    dataDir = cfg.dataDir;
  };
  unit = common.serviceUnit {
    inherit package service database;
    packagePath = "${cfg.package}";
    settings = cfg.settings;
    inherit (cfg) dataDir listenAddress ports user group;
    databasePasswordFile = cfg.database.passwordFile;
    secretFiles = cfg.secrets;
    extraEnvironment = cfg.environment;
  };
  startScript = pkgs.writeShellScript "${unit.unitName}-start" unit.startScript;

  # NixOS 25.11 runs ensureDatabases/ensureUsers in postgresql-setup.service and has
  # postgresql.target for "started and set up"; before that, postgresql.service did both.
  postgresqlUnit =
    if config.systemd.targets ? postgresql
    then "postgresql.target"
    else "postgresql.service";
  databaseUnits = lib.optional database.local postgresqlUnit;

  fixed = service.fixed_listener;
  portDescription = portName: port:
    if fixed
    then "Port `${portName}` (${toString port}); upstream hard-codes it, so it cannot be changed here."
    else "Port `${portName}`.";
  publicPortsText =
    if service.public_ports == []
    then "none: this service has no public port"
    else builtins.concatStringsSep ", " service.public_ports;

  assertions =
    map (o: {
      assertion = false;
      message = "${prefix}.settings.${o} has no default and must be set.";
    })
    unit.required
    ++ map (m: {
      assertion = false;
      message = m;
    }) (common.credentialProblems {
      inherit service;
      inherit (cfg) settings environment;
    })
    ++ [
      {
        assertion = cfg.database.url == null || !(common.hasUrlPassword cfg.database.url);
        message = "${prefix}.database.url contains a password; use ${prefix}.database.passwordFile so it stays out of the Nix store.";
      }
      {
        assertion = !database.local || cfg.database.name == cfg.database.user;
        message = "${prefix}.database.name (${cfg.database.name}) must equal ${prefix}.database.user (${cfg.database.user}) when the database is created on this machine: PostgreSQL's peer authentication lets the unix user in as the role of the same name, and ensureDBOwnership gives that role the database of the same name. Set createLocally = false to use an existing database.";
      }
    ]
    ++ lib.optionals fixed (
      [
        {
          assertion = cfg.listenAddress == defaultListenAddress;
          message = "${prefix}.listenAddress cannot be changed: upstream hard-codes the listener (see the package's description); the module cannot move it.";
        }
      ]
      ++ lib.mapAttrsToList (portName: port: {
        assertion = cfg.ports.${portName} == port;
        message = "${prefix}.ports.${portName} cannot be changed from ${toString port}: upstream hard-codes it; the module cannot move it.";
      })
      service.ports
    );
in {
  options.services.atproto.${name} = {
    enable = mkEnableOption "the ATproto service ${name} (${package.description})";
    package = mkOption {
      type = types.package;
      default = packageFor pkgs;
      defaultText = lib.literalExpression "atproto.${package.name}";
      description = "Package providing `bin/${builtins.head service.exec}`.";
    };
    user = mkOption {
      type = types.str;
      default = serviceId;
      description = "User the service runs as (created when left at the default).";
    };
    group = mkOption {
      type = types.str;
      default = serviceId;
      description = "Group the service runs as.";
    };
    dataDir = mkOption {
      type = absolutePath;
      default = util.dataDirOf name;
      description = "State directory; under /var/lib it is managed by systemd's StateDirectory.";
    };
    listenAddress = mkOption {
      type = types.str;
      default = defaultListenAddress;
      description =
        if fixed
        then "Not used: upstream hard-codes the listener (see the package's description), so it cannot be changed."
        else "Address the service binds.";
    };
    ports = builtins.mapAttrs (portName: port:
      mkOption {
        type = types.port;
        default = port;
        description = portDescription portName port;
      })
    service.ports;
    openFirewall = mkOption {
      type = types.bool;
      default = false;
      description = "Open the public ports of this service in the firewall (${publicPortsText}); metrics, debug and internal ports stay closed.";
    };
    database = {
      type = mkOption {
        type = types.enum [service.database];
        default = service.database;
        description = "Database kind; fixed by what the service supports.";
      };
      url = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "Connection URL; null derives it from host/name (or the local socket). Never put a password here: use passwordFile.";
      };
      host = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "Database host; null means the local PostgreSQL socket.";
      };
      name = mkOption {
        type = types.str;
        default = cfg.user;
        defaultText = lib.literalExpression "config.${prefix}.user";
        description = "Database name (equal to the user for local peer authentication).";
      };
      user = mkOption {
        type = types.str;
        default = cfg.user;
        defaultText = lib.literalExpression "config.${prefix}.user";
        description = "Database user.";
      };
      passwordFile = mkOption {
        type = types.nullOr absolutePath;
        default = null;
        description = "File with the database password, exported as PGPASSWORD at start.";
      };
      createLocally = mkOption {
        type = types.bool;
        default = service.database == "postgresql";
        description = "Create the PostgreSQL database and user on this machine.";
      };
    };
    settings = settingOptions;
    secrets = secretOptions;
    environment = mkOption {
      type = types.attrsOf types.str;
      default = {};
      description = "Extra environment variables, written to the unit as they are (systemd expands `%` specifiers in them). Not for secrets: they end up in the store; a name or value that looks like a credential is refused.";
    };
    environmentFiles = mkOption {
      type = types.listOf absolutePath;
      default = [];
      description = "Files of KEY=value lines read at start (EnvironmentFile=); for secrets.";
    };
    extraConfig = mkOption {
      type = types.attrsOf types.anything;
      default = {};
      description = "Extra systemd [Service] settings, applied last.";
    };
  };

  config = mkIf cfg.enable {
    inherit assertions;
    warnings = map (s: "${prefix}.secrets.${s} is not set; the service may refuse to start.") unit.missingSecrets;

    users.users = mkIf (cfg.user == serviceId) {
      ${cfg.user} = {
        isSystemUser = true;
        group = cfg.group;
      };
    };
    users.groups = mkIf (cfg.group == serviceId) {${cfg.group} = {};};

    systemd.services.${unit.unitName} = {
      description = "ATproto ${name} (${package.description})";
      wantedBy = ["multi-user.target"];
      wants = ["network-online.target"];
      after = ["network-online.target"] ++ databaseUnits;
      requires = databaseUnits;
      inherit (unit) environment;
      serviceConfig =
        unit.serviceConfig
        // {
          ExecStart =
            if unit.startScript == null
            then unit.execStart
            else "${startScript} ${unit.execStart}";
        }
        // lib.optionalAttrs (cfg.environmentFiles != []) {EnvironmentFile = cfg.environmentFiles;}
        // cfg.extraConfig;
    };

    # Outside /var/lib systemd's StateDirectory cannot manage it (see serviceUnit).
    systemd.tmpfiles.rules = lib.optional (unit.stateDirectory == null) "d ${cfg.dataDir} 0700 ${cfg.user} ${cfg.group} - -";

    networking.firewall.allowedTCPPorts = mkIf cfg.openFirewall (map (p: cfg.ports.${p}) service.public_ports);

    # Always an attribute set: `services.postgresql` is a set of options in NixOS, and the
    # module system reads the names of a definition before it looks at a `mkIf` condition.
    services.postgresql = mkIf database.local {
      enable = true;
      ensureDatabases = [cfg.database.name];
      ensureUsers = [
        {
          name = cfg.database.user;
          ensureDBOwnership = cfg.database.name == cfg.database.user;
        }
      ];
    };
  };
}
