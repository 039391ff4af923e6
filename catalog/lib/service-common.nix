# NixOS modules from catalog data. Everything except `mkAtprotoServiceModule` is pure (builtins
# only), so the workbench evaluates the exact unit settings a module produces with plain
# `nix eval` (catalog/lib/offline.nix) and scores them with `systemd-analyze security --offline`.
let
  util = import ./util.nix;
  inherit (util) byName hasPrefix hasSuffix isSecret removePrefix;
  anyLowPort = ports: builtins.any (p: p < 1024) (builtins.attrValues ports);

  # ------------------------------------------------------------------ hardening
  # The systemd hardening for every catalog service: nixpkgs' bluesky-pds preset
  # (nixos/modules/services/web-apps/bluesky-pds.nix) tightened where the catalog knows more:
  # MemoryDenyWriteExecute is on unless the runtime has a JIT (Node, Deno), a syscall filter is
  # always set, and the only capability ever granted is CAP_NET_BIND_SERVICE, and only when a port
  # is below 1024. `exceptions` (from `hardening_exceptions` in package.toml, each with a reason)
  # replace single keys last.
  mkServiceSecurity = {
    ports ? {},
    jit ? false,
    exceptions ? {},
  }: let
    lowPort = anyLowPort ports;
    preset = {
      NoNewPrivileges = true;
      RemoveIPC = true;
      # Binding a port < 1024 needs the capability in the host's user namespace, which a
      # private user namespace cannot have: PrivateUsers is given up only in that case.
      PrivateUsers = !lowPort;
      CapabilityBoundingSet =
        if lowPort
        then ["CAP_NET_BIND_SERVICE"]
        else [""];
      AmbientCapabilities =
        if lowPort
        then ["CAP_NET_BIND_SERVICE"]
        else [""];
      PrivateDevices = true;
      PrivateMounts = true;
      PrivateTmp = true;
      ProtectClock = true;
      ProtectKernelLogs = true;
      ProtectKernelModules = true;
      ProtectKernelTunables = true;
      ProtectControlGroups = true;
      ProtectHostname = true;
      ProtectHome = true;
      ProtectSystem = "strict";
      ProtectProc = "invisible";
      ProcSubset = "pid";
      RestrictNamespaces = true;
      RestrictSUIDSGID = true;
      RestrictRealtime = true;
      RestrictAddressFamilies = [
        "AF_UNIX"
        "AF_INET"
        "AF_INET6"
      ];
      LockPersonality = true;
      MemoryDenyWriteExecute = !jit;
      SystemCallArchitectures = "native";
      SystemCallFilter = [
        "@system-service"
        "~@privileged"
      ];
      SystemCallErrorNumber = "EPERM";
      DeviceAllow = [""];
      UMask = "0077";
    };
  in
    preset // builtins.mapAttrs (_: e: e.value) exceptions;

  # ------------------------------------------------------------------ databases
  # Where a service's database lives and what NixOS must provide for it. Pure: the module turns
  # `postgresql` into `services.postgresql` settings.
  mkDatabaseIntegration = {
    type,
    name,
    user,
    dataDir,
    url ? null,
    host ? null,
    createLocally ? true,
  }: let
    db = (import ./atproto-core.nix {}).mkAtprotoDatabase {
      inherit
        type
        name
        dataDir
        host
        user
        ;
    };
    # A URL or a host means someone else runs the database.
    local = type == "postgresql" && createLocally && host == null && url == null;
  in {
    inherit type;
    url =
      if url != null
      then url
      else db.url;
    path = db.path;
    # PostgreSQL peer authentication needs the database user to equal the unix user, and
    # ensureDBOwnership needs the database to be named like that user.
    postgresql =
      if local
      then {
        enable = true;
        ensureDatabases = [name];
        ensureUsers = [
          {
            name = user;
            ensureDBOwnership = true;
          }
        ];
      }
      else null;
    after = util.optional local "postgresql.service";
  };

  # ------------------------------------------------------------------ exec lines and settings
  # Quote one argument for ExecStart= (systemd.syntax(7)): `$` and `%` are doubled so nothing in
  # the data is expanded by systemd; `raw` parts (credential paths, `%d/...`) are kept as they are.
  escapeLiteral = s: builtins.replaceStrings ["\\" "\"" "$" "%"] ["\\\\" "\\\"" "$$" "%%"] s;
  needsQuotes = s: s == "" || builtins.match ".*[[:space:]\"'\\\\;].*" s != null;
  joinExecArg = parts: let
    text = builtins.concatStringsSep "" (map (p:
      if p.raw
      then p.text
      else escapeLiteral p.text)
    parts);
    plain = builtins.concatStringsSep "" (map (p: p.text) parts);
  in
    if needsQuotes plain
    then "\"${text}\""
    else text;

  # How an option value becomes an environment variable: lists are comma-separated, booleans are
  # "true"/"false".
  envValue = v: let
    byType = {
      bool =
        if v
        then "true"
        else "false";
      list = builtins.concatStringsSep "," (map envValue v);
    };
  in
    byType.${builtins.typeOf v} or (toString v);

  # Split "{a}b{c:d}" into literal and placeholder parts.
  placeholderRe = "\\{([a-z_]+)(:([A-Za-z0-9_.-]+))?}";
  parseArg = arg:
    builtins.filter (p: p != "") (
      map (
        x:
          if builtins.isList x
          then {
            kind = builtins.elemAt x 0;
            arg = builtins.elemAt x 2;
          }
          else x
      ) (builtins.split placeholderRe arg)
    );

  # Everything a service's unit needs, computed from plain values. Used by the NixOS module (with
  # the configured values and the real package) and by offline.nix (defaults, placeholder package
  # path), so `atwb unit` prints what the module produces.
  serviceUnit = {
    package, # catalog record
    service, # service record of that package
    packagePath, # store path of the package (a string)
    settings, # option name -> value, null when unset
    dataDir,
    listenAddress,
    ports, # port name -> number
    user,
    group,
    database, # result of mkDatabaseIntegration
    databasePasswordFile ? null,
    secretFiles ? {}, # secret option name -> path on the host (never in the store)
    extraEnvironment ? {},
  }: let
    where = "services.${service.name}";
    fail = util.fail package.file;
    optionsByName = byName (o: o) service.options;
    optionSet = n: settings ? ${n} && settings.${n} != null;

    # Secret-file options reach the service through systemd credentials: the file is read by
    # systemd at start and appears as $CREDENTIALS_DIRECTORY/<name> (%d/<name>). An env
    # variable ending in _FILE receives that path; any other env variable receives the content,
    # read by a small start script, so the secret never enters the Nix store or the unit file.
    secretOptions = builtins.filter isSecret service.options;
    setSecrets = builtins.filter (o: secretFiles ? ${o.name} && secretFiles.${o.name} != null) secretOptions;
    credentialPath = n: "%d/${n}";

    # A placeholder kind -> the part of the argument it becomes.
    literal = text: {
      raw = false;
      inherit text;
    };
    placeholders = field: p: {
      data_dir = literal dataDir;
      listen_address = literal listenAddress;
      database_url = literal (
        if database.url == null
        then fail field "{database_url} used but the service's database has no URL"
        else database.url
      );
      database_path = literal (
        if database.path == null
        then fail field "{database_path} used but the service's database has no path"
        else database.path
      );
      port =
        if p.arg != null && ports ? ${p.arg}
        then literal (toString ports.${p.arg})
        else fail field "{port:${toString p.arg}} names no port of [${where}.ports] (ports: ${builtins.concatStringsSep ", " (builtins.attrNames ports)})";
      option =
        if p.arg == null || !(optionsByName ? ${p.arg})
        then fail field "{option:${toString p.arg}} names no option of ${where}.options"
        else if isSecret optionsByName.${p.arg}
        then {
          raw = true;
          text = credentialPath p.arg;
        }
        else if optionSet p.arg
        then literal (envValue settings.${p.arg})
        else literal "<unset:${p.arg}>";
    };
    substitute = field: p:
      if builtins.isString p
      then literal p
      else (placeholders field p).${p.kind} or (fail field "unknown placeholder {${p.kind}}; use {data_dir}, {listen_address}, {port:NAME}, {option:NAME}, {database_url} or {database_path}");

    execArgs = builtins.genList (
      i:
        joinExecArg (map (substitute "${where}.exec") (parseArg (builtins.elemAt service.exec i)))
    ) (builtins.length service.exec);
    program = builtins.head service.exec;
    execStart = builtins.concatStringsSep " " (
      ["${packagePath}/bin/${program}"] ++ builtins.tail execArgs
    );

    # String option values may use the same placeholders (e.g. "{data_dir}/blobs").
    expand = field: v: let
      byType = {
        string = builtins.concatStringsSep "" (map (p: (substitute field p).text) (parseArg v));
        list = map (expand field) v;
      };
    in
      byType.${builtins.typeOf v} or v;

    # Options (with an `env`) -> environment variables.
    byEnv = f: options:
      builtins.listToAttrs (map (o: {
          name = o.env;
          value = f o;
        })
        options);
    plainEnvironment =
      byEnv (o: envValue (expand "${where}.options.${o.name}.default" settings.${o.name}))
      (builtins.filter (o: o.env != null && !isSecret o && optionSet o.name) service.options);
    fileEnvironment =
      byEnv (o: credentialPath o.name)
      (builtins.filter (o: o.env != null && hasSuffix "_FILE" o.env) setSecrets);
    # name -> env variable that gets the secret's content at start
    contentSecrets = builtins.filter (o: o.env != null && !(hasSuffix "_FILE" o.env)) setSecrets;
    withPassword = util.optional (databasePasswordFile != null);
    exportLines =
      map (o: "export ${o.env}=\"$(< \"$CREDENTIALS_DIRECTORY/${o.name}\")\"") contentSecrets
      ++ withPassword "export PGPASSWORD=\"$(< \"$CREDENTIALS_DIRECTORY/database-password\")\"";
    credentials =
      map (o: "${o.name}:${secretFiles.${o.name}}") setSecrets
      ++ withPassword "database-password:${databasePasswordFile}";

    unitName = util.serviceId service.name;
    stateDirectory =
      if hasPrefix "/var/lib/" dataDir
      then removePrefix "/var/lib/" dataDir
      else null;
  in {
    inherit unitName credentials stateDirectory;
    required = map (o: o.name) (
      builtins.filter (o: util.needsValue o && !(optionSet o.name)) service.options
    );
    missingSecrets = map (o: o.name) (builtins.filter (o: !(secretFiles ? ${o.name}) || secretFiles.${o.name} == null) secretOptions);
    environment = plainEnvironment // fileEnvironment // extraEnvironment;
    # The start script (only when a secret must be passed by content): the module writes it
    # with pkgs.writeShellScript and puts its path in front of ExecStart.
    startScript =
      if exportLines == []
      then null
      else builtins.concatStringsSep "\n" (exportLines ++ ["exec \"$@\""]) + "\n";
    inherit execStart;
    serviceConfig =
      mkServiceSecurity {
        inherit ports;
        inherit (service) jit;
        exceptions = service.hardening_exceptions;
      }
      // {
        User = user;
        Group = group;
        WorkingDirectory = dataDir;
        Restart = "on-failure";
        RestartSec = "5s";
      }
      // (
        if stateDirectory != null
        then {
          StateDirectory = stateDirectory;
          StateDirectoryMode = "0700";
        }
        else {ReadWritePaths = [dataDir];}
      )
      // (
        if credentials == []
        then {}
        else {LoadCredential = credentials;}
      );
  };

  # What offline.nix shows for one service: the module's result with every option at its default
  # and the package path left as a placeholder (the real one is only known after a build).
  offlineUnit = {
    package,
    service,
  }: let
    inherit (util) placeholderPath;
    dataDir = util.dataDirOf service.name;
    user = util.serviceId service.name;
    database = mkDatabaseIntegration {
      type = service.database;
      name = user;
      inherit user dataDir;
    };
    settings = byName (o: o.default) (builtins.filter (o: o.hasDefault) service.options);
    unit = serviceUnit {
      inherit
        package
        service
        settings
        dataDir
        user
        database
        ;
      packagePath = placeholderPath "${package.name}-${package.version}";
      # A real deployment sets every secret; show the unit as it is then.
      secretFiles = byName (o: "/run/secrets/${user}/${o.name}") (builtins.filter isSecret service.options);
      group = user;
      listenAddress = "127.0.0.1";
      ports = service.ports;
    };
  in {
    inherit
      (unit)
      unitName
      environment
      serviceConfig
      required
      missingSecrets
      startScript
      ;
    # As the module writes it: the start script (when a secret is passed by content) in front.
    execStart =
      if unit.startScript == null
      then unit.execStart
      else "${placeholderPath "${unit.unitName}-start"} ${unit.execStart}";
    packagePathIsPlaceholder = true;
    package = package.name;
    service = service.name;
    hardeningExceptions = service.hardening_exceptions;
    database = service.database;
    jit = service.jit;
    ports = service.ports;
  };

  # ------------------------------------------------------------------ the NixOS module
  # `services.atproto.<service>` for one service of one catalog record. `packageFor pkgs` returns
  # the package to run by default (the catalog's own build). Returns a module (a function), so it
  # needs no nixpkgs until NixOS evaluates it.
  mkAtprotoServiceModule = {
    package, # catalog record
    service, # service record
    packageFor, # pkgs -> derivation
  }: {
    config,
    lib,
    pkgs,
    ...
  }: let
    inherit (lib) mkOption mkEnableOption types mkIf;
    name = service.name;
    cfg = config.services.atproto.${name};
    serviceId = util.serviceId name; # default user, group and unit name
    absolutePath = types.strMatching "/.*";

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
      mkOption {
        type = types.nullOr (optionType o);
        description = o.description + lib.optionalString (o.env != null) " (environment variable `${o.env}`)";
        default =
          if o.hasDefault
          then o.default
          else null;
      }) (builtins.filter (o: !isSecret o) service.options);
    secretOptions = byName (o:
      mkOption {
        # A string, not a Nix path: a path literal would be copied into the world-readable store.
        type = types.nullOr absolutePath;
        default = null;
        example = "/run/secrets/${name}-${o.name}";
        description = "File holding ${o.description}; read by systemd at start (LoadCredential), never copied to the Nix store.";
      }) (builtins.filter isSecret service.options);

    database = mkDatabaseIntegration {
      inherit (cfg.database) type url host createLocally;
      name = cfg.database.name;
      user = cfg.database.user;
      dataDir = cfg.dataDir;
    };
    unit = serviceUnit {
      inherit package service database;
      packagePath = "${cfg.package}";
      settings = cfg.settings;
      inherit
        (cfg)
        dataDir
        listenAddress
        ports
        user
        group
        ;
      databasePasswordFile = cfg.database.passwordFile;
      secretFiles = cfg.secrets;
      extraEnvironment = cfg.environment;
    };
    startScript = pkgs.writeShellScript "${unit.unitName}-start" unit.startScript;
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
        default = "127.0.0.1";
        description = "Address the service binds.";
      };
      ports =
        builtins.mapAttrs (
          portName: port:
            mkOption {
              type = types.port;
              default = port;
              description = "Port `${portName}`.";
            }
        )
        service.ports;
      openFirewall = mkOption {
        type = types.bool;
        default = false;
        description = "Open every port of this service in the firewall.";
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
          defaultText = lib.literalExpression "config.services.atproto.${name}.user";
          description = "Database name (equal to the user for local peer authentication).";
        };
        user = mkOption {
          type = types.str;
          default = cfg.user;
          defaultText = lib.literalExpression "config.services.atproto.${name}.user";
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
        description = "Extra environment variables (not for secrets: they end up in the store).";
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

    config = mkIf cfg.enable (
      lib.mkMerge [
        {
          assertions =
            map (o: {
              assertion = false;
              message = "services.atproto.${name}.settings.${o} has no default and must be set.";
            })
            unit.required
            ++ [
              {
                assertion = cfg.database.url == null || builtins.match ".*://[^/@]*:[^/@]*@.*" cfg.database.url == null;
                message = "services.atproto.${name}.database.url contains a password; use database.passwordFile so it stays out of the Nix store.";
              }
            ];
          warnings =
            map (
              s: "services.atproto.${name}.secrets.${s} is not set; the service may refuse to start."
            )
            unit.missingSecrets;

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
            after = ["network-online.target"] ++ database.after;
            requires = database.after;
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

          networking.firewall.allowedTCPPorts = mkIf cfg.openFirewall (builtins.attrValues cfg.ports);
        }
        (mkIf (database.postgresql != null) {services.postgresql = database.postgresql;})
      ]
    );
  };
in {
  inherit
    mkServiceSecurity
    mkDatabaseIntegration
    serviceUnit
    offlineUnit
    mkAtprotoServiceModule
    envValue
    ;
}
