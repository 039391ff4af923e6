# What a generated NixOS module computes, as pure functions (builtins only): the hardening preset,
# the database integration, the unit a service gets and the credential guard. The module itself
# is `service-module.nix`; it and `offline.nix` both use `serviceUnit`, so the workbench evaluates
# the exact unit settings a module produces with plain `nix eval` and scores them with
# `systemd-analyze security --offline`.
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
    inherit local;
    # PostgreSQL peer authentication needs the database user to equal the unix user, and
    # ensureDBOwnership needs the database to be named like that user (the module asserts it).
    # null when nothing is created locally; the module writes `services.postgresql` as a set in
    # either case (NixOS's `services.postgresql` is a set of options, never one value).
    postgresql =
      if local
      then {
        enable = true;
        ensureDatabases = [name];
        ensureUsers = [
          {
            name = user;
            ensureDBOwnership = name == user;
          }
        ];
      }
      else null;
    # The unit a local client waits for; the module uses postgresql.target where NixOS has it
    # (25.11 and later: the server started and ensureDatabases/ensureUsers applied).
    after = util.optional local "postgresql.service";
  };

  # ------------------------------------------------------------------ exec lines and settings
  # One ExecStart= argument, escaped as nixpkgs' utils.escapeSystemdExecArg escapes one: JSON
  # string syntax (a subset of systemd's C-style quoting, so newlines and quotes survive) with `%`
  # and `$` doubled, so systemd expands no specifier and no variable from data. An argument of
  # only safe characters stays unquoted (the same to systemd, easier to read); `raw` parts (the
  # `%d/<name>` of a credential) are kept as they are.
  jsonInner = s: let
    j = builtins.toJSON s;
  in
    builtins.substring 1 (builtins.stringLength j - 2) j;
  escapeLiteral = s: builtins.replaceStrings ["%" "$"] ["%%" "$$"] (jsonInner s);
  isPlain = s: builtins.match "[A-Za-z0-9_@+=:,./-]+" s != null;
  joinExecArg = parts: let
    text = builtins.concatStringsSep "" (map (p:
      if p.raw
      then p.text
      else escapeLiteral p.text)
    parts);
  in
    if parts != [] && builtins.all (p: p.raw || isPlain p.text) parts
    then text
    else "\"${text}\"";

  # A whole command line (a list of plain strings), each argument escaped as above.
  escapeSystemdExecArgs = args:
    builtins.concatStringsSep " " (map (a:
      joinExecArg [
        {
          raw = false;
          text = a;
        }
      ])
    args);

  # Environment= values are subject to systemd's specifier expansion: a `%` from data is doubled
  # so it reaches the program as written (a password-free URL with %2F, a printf pattern).
  escapeEnv = builtins.replaceStrings ["%"] ["%%"];

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

    # A placeholder kind -> the part of the argument it becomes. `nested` is true inside the value
    # of an option that `{option:NAME}` brought in: that value may use every placeholder but
    # another option (which could refer back).
    literal = text: {
      raw = false;
      inherit text;
    };
    movable = kind:
      if service.fixed_listener
      then fail "${where}.fixed_listener" "is true (upstream hard-codes its listener), so no value may use {${kind}}: the module cannot move the listener"
      else true;
    placeholders = field: nested: p: {
      data_dir = literal dataDir;
      listen_address = assert movable "listen_address"; literal listenAddress;
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
        then assert movable "port:${p.arg}"; literal (toString ports.${p.arg})
        else fail field "{port:${toString p.arg}} names no port of [${where}.ports] (ports: ${builtins.concatStringsSep ", " (builtins.attrNames ports)})";
      option =
        if p.arg == null || !(optionsByName ? ${p.arg})
        then fail field "{option:${toString p.arg}} names no option of ${where}.options"
        else if nested
        then fail field "{option:${p.arg}} inside the value of another option; an option value may use {data_dir}, {listen_address} and {port:NAME}, not other options"
        else if isSecret optionsByName.${p.arg}
        then {
          raw = true;
          text = credentialPath p.arg;
        }
        else if optionSet p.arg
        then literal (envValue (expand "${where}.options.${p.arg}" true settings.${p.arg}))
        else literal "<unset:${p.arg}>";
    };
    substitute = field: nested: p:
      if builtins.isString p
      then literal p
      else (placeholders field nested p).${p.kind} or (fail field "unknown placeholder {${p.kind}}; use {data_dir}, {listen_address}, {port:NAME}, {option:NAME}, {database_url} or {database_path}");
    partsOf = field: nested: v: map (substitute field nested) (parseArg v);

    execArgs = builtins.genList (
      i:
        joinExecArg (partsOf "${where}.exec" false (builtins.elemAt service.exec i))
    ) (builtins.length service.exec);
    program = builtins.head service.exec;
    execStart = builtins.concatStringsSep " " (
      ["${packagePath}/bin/${program}"] ++ builtins.tail execArgs
    );

    # String option values may use the same placeholders (e.g. "{data_dir}/blobs"). `expand`
    # gives the plain value; `envText` the text of an Environment= value (`%` escaped, a
    # credential path kept as the specifier it is).
    expand = field: nested: v: let
      byType = {
        string = builtins.concatStringsSep "" (map (p: p.text) (partsOf field nested v));
        list = map (expand field nested) v;
      };
    in
      byType.${builtins.typeOf v} or v;
    envText = field: v: let
      byType = {
        string = builtins.concatStringsSep "" (map (p:
          if p.raw
          then p.text
          else escapeEnv p.text) (partsOf field false v));
        list = builtins.concatStringsSep "," (map (envText field) v);
      };
    in
      byType.${builtins.typeOf v} or (envValue v);

    # Options (with an `env`) -> environment variables.
    byEnv = f: options:
      builtins.listToAttrs (map (o: {
          name = o.env;
          value = f o;
        })
        options);
    plainEnvironment =
      byEnv (o: envText "${where}.options.${o.name}" settings.${o.name})
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

  # ------------------------------------------------------------------ credentials stay out of the store
  # A value that looks like a credential must not be a setting: settings become Environment=
  # lines of the unit, which lives in the world-readable Nix store. Two shapes are recognised: a
  # URL with `user:password@`, and any value of a variable whose name says it holds a
  # credential. Returns one message per problem, naming the option and what to use instead.
  credentialSuffixes = ["_SECRET" "_PASSWORD" "_PASSWD" "_PASS" "_KEY" "_TOKEN" "_PRIVATE_KEY_HEX" "_CREDENTIALS"];
  isCredentialName = n: builtins.any (x: hasSuffix x n) credentialSuffixes;
  hasUrlPassword = v: builtins.isString v && builtins.match "[A-Za-z][A-Za-z0-9+.-]*://[^/?#@]*:[^/?#@]*@.*" v != null;
  credentialProblems = {
    service,
    settings,
    environment ? {},
  }: let
    prefix = "services.atproto.${service.name}";
    secretNames = map (o: o.name) (builtins.filter isSecret service.options);
    sameEnv = env: builtins.filter (o: isSecret o && o.env == env) service.options;
    instead = env: let
      named = sameEnv env;
    in
      if named != []
      then "use ${prefix}.secrets.${(builtins.head named).name} (a file read at start) instead"
      else "put it in a file: a secret-file option (${prefix}.secrets.*${
        if secretNames == []
        then ": this service has none"
        else ": " + builtins.concatStringsSep ", " secretNames
      })${
        if service.database == "postgresql"
        then ", ${prefix}.database.passwordFile"
        else ""
      } or ${prefix}.environmentFiles (KEY=value lines)";
    values = v:
      if builtins.isList v
      then v
      else [v];
    nonEmpty = v: v != null && v != "" && v != [];
    settingProblems = o: let
      v = settings.${o.name} or null;
      where = "${prefix}.settings.${o.name}";
    in
      util.optional (builtins.any hasUrlPassword (values v))
      "${where} is a URL with a password, which would be written to the world-readable Nix store; ${instead o.env}."
      ++ util.optional (o.env != null && isCredentialName o.env && nonEmpty v)
      "${where} sets ${o.env}, a credential, which would be written to the world-readable Nix store; ${instead o.env}.";
    environmentProblems = name: v:
      util.optional (isCredentialName name || hasUrlPassword v)
      "${prefix}.environment.${name} looks like a credential, which would be written to the world-readable Nix store; use ${prefix}.environmentFiles (a file of KEY=value lines) or a secrets.* option.";
  in
    builtins.concatMap settingProblems (builtins.filter (o: !(isSecret o)) service.options)
    ++ builtins.concatLists (util.mapAttrsToList environmentProblems environment);

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
    publicPorts = service.public_ports;
    fixedListener = service.fixed_listener;
  };
in {
  inherit
    mkServiceSecurity
    mkDatabaseIntegration
    serviceUnit
    offlineUnit
    credentialProblems
    hasUrlPassword
    escapeSystemdExecArgs
    envValue
    ;
}
