# The catalog as Nix data, plus the small ATproto helpers the design names.
#
# Everything above `helpers` uses builtins only, so `nix eval --file catalog/lib/offline.nix`
# works on a machine without nixpkgs (the workbench's offline checks rely on that). The helpers
# take `pkgs`/`lib` as arguments, so importing this file never needs nixpkgs.
#
# Usage:
#   core = import ./atproto-core.nix { };                # reads ../pkgs
#   core = import ./atproto-core.nix { catalogDir = ./some/catalog; };
#   core.packages.constellation                         # one normalised record
#   core.index                                          # what `atwb list --json` lists
{catalogDir ? ../.}: let
  pkgsDir = catalogDir + "/pkgs";
  util = import ./util.nix;
  inherit (util) describe fail mapAttrsToList;

  # A typed lookup: `get file table prefix key type default`. `default = required` makes the field
  # mandatory. Types: the names in `typeChecks`.
  required = {
    __required = true;
  };
  typeChecks = {
    string = builtins.isString;
    int = builtins.isInt;
    bool = builtins.isBool;
    table = builtins.isAttrs;
    list-of-strings = v: builtins.isList v && builtins.all builtins.isString v;
  };
  typeOk = type: typeChecks.${type} or (throw "atproto-core.nix: unknown type ${type}");
  get = file: table: prefix: key: type: default: let
    field =
      if prefix == ""
      then key
      else "${prefix}.${key}";
  in
    if !(table ? ${key})
    then
      if default == required
      then fail file field "missing; add `${key} = ...` (see catalog/README.md)"
      else default
    else if typeOk type table.${key}
    then table.${key}
    else fail file field "expected ${type}, got ${describe table.${key}}";

  oneOf = file: field: allowed: v:
    if builtins.elem v allowed
    then v
    else fail file field "\"${v}\" is not one of: ${builtins.concatStringsSep ", " allowed}";

  builders = [
    "rust-workspace"
    "rust-package"
    "go-module"
    "pnpm-workspace"
    "npm-package"
    "deno-app"
    "static-site"
  ];
  optionTypes = [
    "str"
    "int"
    "port"
    "bool"
    "enum"
    "path"
    "secret-file"
    "list"
  ];
  databases = [
    "none"
    "postgresql"
    "sqlite"
    "rocksdb"
  ];

  # ---------------------------------------------------------------- one package.toml -> record
  readSource = file: src: let
    g = get file src "source";
    host = oneOf file "source.host" ["github" "tangled" "git"] (g "host" "string" required);
    rev = g "rev" "string" required;
    hash = g "hash" "string" required;
  in
    if builtins.match "[0-9a-f]{40}" rev == null
    then fail file "source.rev" "\"${rev}\" is not 40 lowercase hex digits; pin a commit, never a branch or tag"
    else if !(util.isSri hash)
    then fail file "source.hash" "\"${hash}\" is not an SRI sha256 (sha256-<44 base64 chars>); run `nix hash path` on the unpacked tree"
    else {
      inherit host rev hash;
      owner =
        if host == "git"
        then null
        else g "owner" "string" required;
      repo =
        if host == "git"
        then null
        else g "repo" "string" required;
      url =
        if host == "git"
        then g "url" "string" required
        else g "url" "string" null;
      submodules = g "submodules" "bool" false;
      verified = g "verified" "bool" false;
      provenance = g "provenance" "string" "";
    };

  # `[build]` go / nodejs / pnpm / rust: a version of toolchains.nix, for a builder it applies to.
  toolchains = import ./toolchains.nix;
  readToolchain = file: b: builder: kind: let
    t = toolchains.${kind};
    v = get file b "build" kind "string" null;
    known = builtins.attrNames t.versions;
  in
    if v == null
    then null
    else if !(builtins.elem builder t.builders)
    then fail file "build.${kind}" "is a toolchain for ${builtins.concatStringsSep ", " t.builders} builders, not ${builder}; remove it"
    else if !(t.versions ? ${v})
    then fail file "build.${kind}" "\"${v}\" is not a version nixpkgs has; one of: ${builtins.concatStringsSep ", " known}"
    else v;

  readBuild = file: b: let
    g = get file b "build";
    depsHash = g "deps_hash" "string" required;
    env = g "env" "table" {};
    builder = oneOf file "build.builder" builders (g "builder" "string" required);
    toolchain = readToolchain file b builder;
  in {
    go = toolchain "go";
    nodejs = toolchain "nodejs";
    pnpm = toolchain "pnpm";
    rust = toolchain "rust";
    language = g "language" "string" required;
    inherit builder;
    workspace = g "workspace" "string" null;
    members = g "members" "list-of-strings" [];
    sub_packages = g "sub_packages" "list-of-strings" [];
    workspaces = g "workspaces" "list-of-strings" [];
    source_root = g "source_root" "string" null;
    # "unknown" stays a marker here; packaging.nix turns it into lib.fakeHash.
    deps_hash =
      if depsHash == "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
      then fail file "build.deps_hash" "is lib.fakeHash; write the literal \"unknown\" instead (it becomes lib.fakeHash in Nix)"
      else if depsHash == "unknown" || util.isSri depsHash
      then depsHash
      else fail file "build.deps_hash" "\"${depsHash}\" is neither an SRI sha256 nor the literal \"unknown\"";
    build_inputs = g "build_inputs" "list-of-strings" [];
    native_build_inputs = g "native_build_inputs" "list-of-strings" [];
    env =
      builtins.mapAttrs (
        k: v:
          if builtins.isString v
          then v
          else fail file "build.env.${k}" "expected a string, got ${describe v}"
      )
      env;
  };

  readOption = file: svc: name: o: let
    prefix = "services.${svc}.options.${name}";
    g = get file o prefix;
    type = oneOf file "${prefix}.type" optionTypes (g "type" "string" required);
    exampleGenerate = g "example_generate" "list-of-strings" null;
  in
    if type == "secret-file" && o ? default
    then fail file "${prefix}.default" "a secret-file option never has a default (the secret would land in the Nix store); remove it"
    else if type == "secret-file" && o ? example
    then fail file "${prefix}.example" "a secret-file option has no example value (it would land in the Nix store); use example_generate, or let the VM test generate one"
    else if exampleGenerate != null && type != "secret-file"
    then fail file "${prefix}.example_generate" "is for secret-file options only"
    else if exampleGenerate == []
    then fail file "${prefix}.example_generate" "must name a program of the package"
    else {
      inherit name type;
      hasDefault = o ? default;
      default = o.default or null;
      hasExample = o ? example;
      example = o.example or null;
      example_generate = exampleGenerate;
      description = g "description" "string" "";
      env = g "env" "string" null;
      values = g "values" "list-of-strings" [];
    };

  readException = file: svc: key: e: let
    prefix = "services.${svc}.hardening_exceptions.${key}";
  in
    if !(builtins.isAttrs e)
    then fail file prefix "expected a table with `value` and `reason`"
    else if !(e ? value)
    then fail file "${prefix}.value" "missing; give the systemd value used instead of the preset's"
    else {
      inherit (e) value;
      reason = let
        r = get file e prefix "reason" "string" required;
      in
        if r == ""
        then fail file "${prefix}.reason" "must say why the preset is relaxed"
        else r;
    };

  readService = file: name: s: let
    prefix = "services.${name}";
    g = get file s prefix;
    exec = g "exec" "list-of-strings" required;
    ports = g "ports" "table" {};
    # openFirewall opens these; never a metrics, debug or pprof port.
    publicPorts = g "public_ports" "list-of-strings" (
      if ports ? http
      then ["http"]
      else []
    );
    privatePortNames = ["metrics" "pprof" "debug"];
    checkPublic = p:
      if !(ports ? ${p})
      then fail file "${prefix}.public_ports" "\"${p}\" is not a port of this service (ports: ${builtins.concatStringsSep ", " (builtins.attrNames ports)})"
      else if builtins.elem p privatePortNames
      then fail file "${prefix}.public_ports" "\"${p}\" must never be opened in the firewall; remove it"
      else p;
  in
    if exec == []
    then fail file "${prefix}.exec" "must name the program to run"
    else if builtins.match "(.*/.*|[.]|[.][.])" (builtins.head exec) != null
    then
      # The module runs <package>/bin/<exec[0]>: a path would run a file outside the package.
      fail file "${prefix}.exec" "the program must be a name in the package's bin/, not a path"
    else {
      inherit name exec;
      public_ports = map checkPublic publicPorts;
      fixed_listener = g "fixed_listener" "bool" false;
      ports =
        builtins.mapAttrs (
          k: v:
            if builtins.isInt v && v > 0 && v < 65536
            then v
            else fail file "${prefix}.ports.${k}" "expected a port number 1-65535, got ${describe v}"
        )
        ports;
      database = oneOf file "${prefix}.database" databases (g "database" "string" "none");
      health_path = g "health_path" "string" null;
      jit = g "jit" "bool" false;
      hardening_exceptions = builtins.mapAttrs (readException file name) (
        g "hardening_exceptions" "table" {}
      );
      options = mapAttrsToList (readOption file name) (g "options" "table" {});
    };

  # `[check]`: the smoke test. `smoke` is argv (a program of the package, then arguments), or
  # false with a test.nix beside package.toml that builds the check itself.
  readCheck = file: c: files: let
    g = get file c "check";
    smoke = c.smoke or null;
  in {
    smoke =
      if smoke == null || builtins.isList smoke && smoke != [] && builtins.all builtins.isString smoke
      then smoke
      else if smoke == false
      then
        if files ? "test.nix"
        then false
        else fail file "check.smoke" "is false, so a test.nix beside package.toml must build the check ({ pkgs, lib, package }: derivation)"
      else fail file "check.smoke" "expected a non-empty list of strings (program, arguments) or false, got ${describe smoke}";
    smoke_env =
      builtins.mapAttrs (
        k: v:
          if builtins.isString v
          then v
          else fail file "check.smoke_env.${k}" "expected a string, got ${describe v}"
      )
      (g "smoke_env" "table" {});
    smoke_expect = g "smoke_expect" "string" null;
  };

  readPackage = org: name: let
    dir = pkgsDir + "/${org}/${name}";
    file = "catalog/pkgs/${org}/${name}/package.toml";
    toml = builtins.fromTOML (builtins.readFile (dir + "/package.toml"));
    g = get file toml "";
    declaredName = g "name" "string" required;
    tier = g "tier" "int" required;
    atproto = g "atproto" "table" {};
    ga = get file atproto "atproto";
    files = builtins.readDir dir;
  in
    if declaredName != name
    then fail file "name" "\"${declaredName}\" differs from its folder \"${name}\"; rename one of them"
    else if !(builtins.elem tier [1 2 3])
    then fail file "tier" "${toString tier} is out of range: use 1 (foundation), 2 (ecosystem service) or 3 (specialized)"
    else {
      inherit name org tier dir;
      file = file;
      version = g "version" "string" required;
      category = oneOf file "category" ["infrastructure" "application" "utility" "library"] (
        g "category" "string" required
      );
      description = g "description" "string" required;
      long_description = g "long_description" "string" "";
      homepage = g "homepage" "string" required;
      license = g "license" "list-of-strings" required;
      maintainers = g "maintainers" "list-of-strings" [];
      platforms = g "platforms" "list-of-strings" [];
      main_program = g "main_program" "string" null;
      source = readSource file (g "source" "table" required);
      build = readBuild file (g "build" "table" required);
      atproto = {
        services = ga "services" "list-of-strings" [];
        protocols = ga "protocols" "list-of-strings" [];
        dependencies = ga "dependencies" "list-of-strings" [];
      };
      services = builtins.mapAttrs (readService file) (g "services" "table" {});
      check = readCheck file (g "check" "table" {}) files;
      extra_files = {
        package_nix = files ? "package.nix";
        module_nix = files ? "module.nix";
        test_nix = files ? "test.nix";
      };
    };

  # ---------------------------------------------------------------- the whole catalog
  dirsIn = path: let
    entries = builtins.readDir path;
  in
    builtins.filter (n: entries.${n} == "directory") (builtins.attrNames entries);

  recordList =
    if !(builtins.pathExists pkgsDir)
    then []
    else
      builtins.concatMap (
        org:
          map (readPackage org) (
            builtins.filter (n: builtins.pathExists (pkgsDir + "/${org}/${n}/package.toml")) (
              dirsIn (pkgsDir + "/${org}")
            )
          )
      ) (dirsIn pkgsDir);

  # Names are global (flake attributes, `services.atproto.<name>`): a duplicate is an error that
  # names both files.
  packages =
    builtins.foldl' (
      acc: r:
        if acc ? ${r.name}
        then fail r.file "name" "\"${r.name}\" is also used by ${acc.${r.name}.file}; package names must be unique"
        else acc // {${r.name} = r;}
    ) {}
    recordList;

  # Services are global too: `services.atproto.<service>` and the unit `atproto-<service>`.
  services =
    builtins.foldl' (
      acc: entry:
        if acc ? ${entry.service.name}
        then
          fail entry.package.file "services.${entry.service.name}"
          "service name also used by ${acc.${entry.service.name}.package.file}; service names must be unique"
        else acc // {${entry.service.name} = entry;}
    ) {} (
      builtins.concatMap (
        r:
          mapAttrsToList (_: s: {
            package = r;
            service = s;
          })
          r.services
      ) (builtins.attrValues packages)
    );

  # Packages that name the same `build.workspace` share one derivation; they must agree on what
  # that derivation is built from.
  workspaces = let
    grouped = builtins.foldl' (
      acc: r:
        if r.build.workspace == null
        then acc
        else acc // {${r.build.workspace} = (acc.${r.build.workspace} or []) ++ [r];}
    ) {} (builtins.attrValues packages);
    check = ws: members: let
      first = builtins.head members;
      same = r: field: a: b:
        if a == b
        then true
        else fail r.file field "differs from ${first.file} although both name workspace \"${ws}\"; packages of one workspace share one derivation, so make them equal";
      ok =
        builtins.all (
          r:
            same r "source" (removeAttrs r.source ["provenance"]) (removeAttrs first.source ["provenance"])
            && same r "build.builder" r.build.builder first.build.builder
            && same r "build.deps_hash" r.build.deps_hash first.build.deps_hash
            && builtins.all (t: same r "build.${t}" r.build.${t} first.build.${t}) ["go" "nodejs" "pnpm" "rust"]
        )
        members;
    in
      if ok
      then {
        name = ws;
        records = members;
        memberNames = builtins.concatLists (map (r:
          if r.build.members == []
          then [r.name]
          else r.build.members)
        members);
      }
      else throw "unreachable";
  in
    builtins.mapAttrs check grouped;

  # Sorted like the Rust loader: tier, org, name.
  lessThan = a: b:
    if a.tier != b.tier
    then a.tier < b.tier
    else if a.org != b.org
    then a.org < b.org
    else a.name < b.name;

  # Forcing each whole record first makes any malformed field fail here, with its message,
  # rather than only when a build reaches it.
  index = map (r:
    builtins.deepSeq (removeAttrs r ["dir"]) {
      inherit
        (r)
        name
        org
        tier
        category
        description
        version
        ;
      services = builtins.attrNames r.services;
    }) (builtins.sort lessThan (builtins.attrValues packages));

  # ---------------------------------------------------------------- helpers (need pkgs/lib)

  # `meta.atproto` as the design's metadata schema has it.
  atprotoMeta = r: {
    inherit (r) category tier;
    inherit (r.atproto) services protocols dependencies;
  };

  # A NixOS module fragment for one ATproto service that is not described by catalog data
  # (e.g. a site's own feed generator): the same hardening and layout as the generated modules.
  # Returns a module; `exec` is a list whose first element is a full path.
  mkAtprotoService = {
    name,
    exec,
    environment ? {},
    ports ? {},
    jit ? false,
    hardeningExceptions ? {},
    description ? "ATproto service ${name}",
  }: _: let
    common = import ./service-common.nix;
    security = common.mkServiceSecurity {
      inherit ports jit;
      exceptions = hardeningExceptions;
    };
  in {
    users.users.${name} = {
      isSystemUser = true;
      group = name;
    };
    users.groups.${name} = {};
    systemd.services.${name} = {
      inherit description environment;
      wantedBy = ["multi-user.target"];
      after = ["network-online.target"];
      wants = ["network-online.target"];
      serviceConfig =
        security
        // {
          # systemd's quoting, not the shell's: `%` and `$` doubled, so nothing is expanded.
          ExecStart = common.escapeSystemdExecArgs exec;
          User = name;
          Group = name;
          StateDirectory = "atproto/${name}";
          WorkingDirectory = util.dataDirOf name;
          Restart = "on-failure";
        };
    };
  };

  # DID resolution settings as environment variables, in the names the services in this catalog
  # read (PLC directory URL, handle resolver, cache TTL). Pure: returns an attrset of strings.
  mkDidResolver = {
    plcUrl ? "https://plc.directory",
    handleResolver ? null,
    cacheTtlSeconds ? 3600,
    prefix ? "ATPROTO",
  }:
    {
      "${prefix}_PLC_URL" = plcUrl;
      "${prefix}_DID_CACHE_TTL" = toString cacheTtlSeconds;
    }
    // (
      if handleResolver == null
      then {}
      else {"${prefix}_HANDLE_RESOLVER" = handleResolver;}
    );

  # Where a service's database lives and how it is reached, for the three kinds the catalog
  # knows. PostgreSQL uses the local socket and peer authentication (no password in the store).
  mkAtprotoDatabase = {
    type,
    name,
    dataDir ? util.dataDirOf name,
    host ? null,
    user ? name,
  }: let
    layouts = {
      postgresql = {
        url =
          if host == null
          then "postgresql://${user}@/${name}?host=/run/postgresql"
          else "postgresql://${user}@${host}/${name}";
        path = null;
        local = host == null;
      };
      sqlite = {
        path = "${dataDir}/${name}.sqlite";
        url = "sqlite://${dataDir}/${name}.sqlite";
        local = true;
      };
      rocksdb = {
        path = "${dataDir}/rocksdb";
        url = null;
        local = true;
      };
      none = {
        path = null;
        url = null;
        local = false;
      };
    };
  in
    {inherit type name user;}
    // layouts.${type}
    or (throw "mkAtprotoDatabase: type \"${type}\" is not one of postgresql, sqlite, rocksdb, none");

  # Lexicon JSON files as a package: validated (every file parses as JSON and has `lexicon = 1`
  # and an `id`), installed under share/lexicons/<nsid path>. With `outputLang = "go"` or
  # "typescript" it also runs the matching code generator (`goat lex` is not stable enough yet,
  # so the generator is an argument: a program taking <lexicon dir> <out dir>).
  buildLexiconPackage = {
    pkgs,
    pname,
    version,
    src,
    lexicons ? "lexicons",
    generator ? null,
    meta ? {},
  }:
    pkgs.stdenvNoCC.mkDerivation {
      inherit pname version src meta;
      nativeBuildInputs = [pkgs.jq];
      dontConfigure = true;
      buildPhase = ''
        runHook preBuild
        count=0
        while IFS= read -r -d "" f; do
          jq -e '.lexicon == 1 and (.id | type == "string")' "$f" >/dev/null \
            || { echo "invalid lexicon (needs lexicon = 1 and an id): $f" >&2; exit 1; }
          count=$((count + 1))
        done < <(find ${pkgs.lib.escapeShellArg lexicons} -name '*.json' -print0)
        [ "$count" -gt 0 ] || { echo "no lexicon JSON under ${lexicons}" >&2; exit 1; }
        runHook postBuild
      '';
      installPhase = ''
        runHook preInstall
        mkdir -p $out/share/lexicons
        cp -r ${pkgs.lib.escapeShellArg lexicons}/. $out/share/lexicons/
        ${pkgs.lib.optionalString (generator != null) ''
          mkdir -p $out/generated
          ${generator} $out/share/lexicons $out/generated
        ''}
        runHook postInstall
      '';
    };
in {
  inherit
    packages
    services
    workspaces
    index
    atprotoMeta
    mkAtprotoService
    mkDidResolver
    mkAtprotoDatabase
    buildLexiconPackage
    ;
}
