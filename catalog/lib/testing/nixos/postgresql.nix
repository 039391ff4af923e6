# Stand-in for `services.postgresql` (nixos/modules/services/databases/postgresql.nix, the
# nixos-25.11 generation). The point: `services.postgresql` is a set of options, not one option,
# so assigning it anything but an attribute set fails, even under a false `mkIf`. Declared here
# are the options, with NixOS's types and defaults, that a client module may set; when enabled
# it defines what NixOS defines: the postgres user and group, `postgresql.service`, the
# `postgresql-setup.service` that runs the ensure* statements, `postgresql.target` that stands
# for "server up and set up", and the assertion about `ensureDBOwnership`.
{
  lib,
  config,
  ...
}: let
  inherit (lib) mkOption mkEnableOption mkIf types;
  inherit (import ../../util.nix) placeholderPackage;
  cfg = config.services.postgresql;

  option = type: default: what:
    mkOption {
      inherit type default;
      description = what;
    };
  clause = what: option (types.nullOr types.bool) null "${what}; null leaves it as it is.";

  ensureUser = {
    options = {
      name = mkOption {
        type = types.str;
        description = "Role to create.";
      };
      ensureDBOwnership = option types.bool false "Make the role own the database of the same name (which must be in ensureDatabases).";
      ensureClauses = option (types.submodule {
        options = {
          superuser = clause "SUPERUSER";
          createrole = clause "CREATEROLE";
          createdb = clause "CREATEDB";
          "inherit" = clause "INHERIT";
          login = clause "LOGIN";
          replication = clause "REPLICATION";
          bypassrls = clause "BYPASSRLS";
        };
      }) {} "ALTER ROLE clauses.";
    };
  };

  settings = types.submodule {
    freeformType = types.attrsOf (types.oneOf [types.bool types.float types.int types.str]);
    options = {
      port = option types.port 5432 "TCP port.";
      log_line_prefix = option types.str "[%p] " "log_line_prefix.";
      shared_preload_libraries =
        option (types.nullOr (types.coercedTo (types.listOf types.str) (lib.concatStringsSep ",") types.commas))
        null "Libraries loaded at start.";
    };
  };
in {
  imports = [
    (lib.mkRenamedOptionModule ["services" "postgresql" "port"] ["services" "postgresql" "settings" "port"])
    (lib.mkRemovedOptionModule ["services" "postgresql" "extraConfig"] "Use services.postgresql.settings.")
  ];

  options.services.postgresql = {
    enable = mkEnableOption "the PostgreSQL server";
    enableJIT = mkEnableOption "JIT support";
    # NixOS chooses by system.stateVersion (17 for 25.11).
    package = option types.package (placeholderPackage "postgresql-17") "PostgreSQL package.";
    dataDir = option types.path "/var/lib/postgresql/17" "Data directory.";
    checkConfig = option types.bool true "Check postgresql.conf when the system is built.";
    enableTCPIP = option types.bool false "Listen on every interface.";
    authentication = option types.lines "" "pg_hba.conf lines, before NixOS's defaults.";
    identMap = option types.lines "" "pg_ident.conf lines.";
    initdbArgs = option (types.listOf types.str) [] "Extra initdb arguments.";
    initialScript = option (types.nullOr types.path) null "SQL run once, on the first start.";
    ensureDatabases = option (types.listOf types.str) [] "Databases created when missing, never dropped.";
    ensureUsers = option (types.listOf (types.submodule ensureUser)) [] "Roles created when missing.";
    extensions =
      option (types.coercedTo (types.listOf types.path) (ps: _: ps) (types.functionTo (types.listOf types.path)))
      (_: []) "Extensions: a list, or a function of the package's extension set.";
    settings = option settings {} "postgresql.conf settings.";
    superUser = mkOption {
      type = types.str;
      default = "postgres";
      internal = true;
      readOnly = true;
      description = "The superuser role.";
    };
  };

  config = mkIf cfg.enable {
    assertions =
      map (u: {
        assertion = u.ensureDBOwnership -> builtins.elem u.name cfg.ensureDatabases;
        message = "services.postgresql.ensureUsers: role ${u.name} has ensureDBOwnership = true, so ${u.name} must also be listed in services.postgresql.ensureDatabases.";
      })
      cfg.ensureUsers;

    users.users.postgres = {
      uid = 71;
      group = "postgres";
      description = "PostgreSQL server user";
      home = cfg.dataDir;
      useDefaultShell = true;
    };
    users.groups.postgres.gid = 71;

    systemd.services.postgresql = {
      description = "PostgreSQL Server";
      wantedBy = ["multi-user.target"];
      after = ["network.target"];
      partOf = ["postgresql.target"];
      environment.PGDATA = cfg.dataDir;
      serviceConfig = {
        User = "postgres";
        Group = "postgres";
        Type = "notify";
        RuntimeDirectory = "postgresql";
        ExecStart = "${cfg.package}/bin/postgres";
      };
    };
    systemd.services.postgresql-setup = {
      description = "PostgreSQL setup (ensureDatabases, ensureUsers)";
      requires = ["postgresql.service"];
      after = ["postgresql.service"];
      partOf = ["postgresql.target"];
      serviceConfig = {
        User = "postgres";
        Group = "postgres";
        Type = "oneshot";
        RemainAfterExit = true;
      };
      script = lib.concatMapStrings (d: "create database ${d}\n") cfg.ensureDatabases;
    };
    systemd.targets.postgresql = {
      description = "PostgreSQL, started and set up";
      wantedBy = ["multi-user.target"];
      requires = ["postgresql.service" "postgresql-setup.service"];
      after = ["postgresql.service" "postgresql-setup.service"];
    };

    testing.forced = [
      cfg.ensureDatabases
      (map (u: removeAttrs u ["_module"] // {ensureClauses = removeAttrs u.ensureClauses ["_module"];}) cfg.ensureUsers)
      (removeAttrs cfg.settings ["_module"])
      [cfg.dataDir cfg.authentication cfg.identMap cfg.initdbArgs cfg.package.outPath]
    ];
  };
}
