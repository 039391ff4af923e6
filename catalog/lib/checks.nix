# Flake checks generated from catalog data:
#   <package>-smoke            the `[check] smoke` command (default: main_program --version, else
#                              --help) exits 0 and prints something; `smoke = false`: the
#                              package's test.nix builds the check; no program: the output is
#                              not empty
#   <package>-<service>-vm     a NixOS VM: unit active, main port open, health path answers, and
#                              `systemd-analyze security` of the real unit at most 2.0; options
#                              without a default take their `example`, secrets are test files
#                              (made by the package's own key tool where data names one)
#   ecosystem                  a PDS, a relay, Jetstream and Constellation on one VM with a PLC
#                              stand-in: an account is created, a post and a like are written,
#                              the relay has the commit and Constellation counts the like
# A test.nix beside package.toml (when `[check] smoke` is not false) is a test module imported
# into each of that package's VM tests: it may add nodes, options, or replace `testScript` (the
# generated script is the module argument `atprotoGeneratedScript`).
{
  pkgs,
  catalogDir ? ../.,
}: let
  inherit (pkgs) lib;
  core = import ./atproto-core.nix {inherit catalogDir;};
  catalog = import (catalogDir + "/default.nix") {inherit pkgs;};
  modules = import ./nixos-modules.nix {inherit catalogDir;};
  util = import ./util.nix;
  samples = import ./test-samples.nix;
  plcPort = 2582;

  # ---------------------------------------------------------------- smoke
  smokeCommand = name: r: drv: let
    smoke = r.check.smoke;
    argv = prog: args: lib.escapeShellArgs (["${drv}/bin/${prog}"] ++ args);
    exports = lib.concatStrings (lib.mapAttrsToList (k: v: "export ${k}=${lib.escapeShellArg v}\n") r.check.smoke_env);
    expect = lib.optionalString (r.check.smoke_expect != null) ''
      grep -qF -- ${lib.escapeShellArg r.check.smoke_expect} $out || {
        echo "${name}: the smoke output lacks ${lib.escapeShellArg r.check.smoke_expect}:" >&2; cat $out >&2; exit 1; }
    '';
    # A daemon that ignores its arguments would start serving: the timeout turns that into a
    # failure instead of a hang.
    run =
      if smoke != null
      then ''
        timeout 30 ${argv (builtins.head smoke) (builtins.tail smoke)} >$out 2>&1 || {
          echo "${name}: '${toString smoke}' failed:" >&2; cat $out >&2; exit 1; }
      ''
      else ''
        if timeout 30 ${argv r.main_program ["--version"]} >$out 2>&1; then :
        elif timeout 30 ${argv r.main_program ["--help"]} >$out 2>&1; then :
        else
          echo "${name}: neither '${r.main_program} --version' nor '--help' succeeded (set [check] smoke in package.toml):" >&2
          cat $out >&2; exit 1
        fi
      '';
  in ''
    export HOME=$TMPDIR
    ${exports}${run}
    test -s $out || { echo "${name}: the smoke command printed nothing" >&2; exit 1; }
    ${expect}
  '';

  smoke = name: r: let
    drv = catalog.${name};
  in
    if r.check.smoke == false
    then
      import (r.dir + "/test.nix") {
        inherit pkgs lib;
        package = drv;
      }
    else
      pkgs.runCommand "${name}-smoke" {} (
        if r.check.smoke != null || r.main_program != null
        then smokeCommand name r drv
        else ''
          test -n "$(ls -A ${drv})" || { echo "${name}: empty output ${drv}" >&2; exit 1; }
          find ${drv} -maxdepth 3 > $out
        ''
      );

  # ---------------------------------------------------------------- VM tests
  serviceTestConfig = entry: overrides: samples.serviceSettings {inherit lib pkgs overrides;} entry;

  # The port to probe: `http`, else `api`, else the first.
  mainPort = svc:
    svc.ports.http
    or svc.ports.api
    or (
      if svc.ports != {}
      then builtins.head (builtins.attrValues svc.ports)
      else null
    );

  probeScript = entry: let
    svc = entry.service;
    unit = "${util.serviceId svc.name}.service";
    port = mainPort svc;
  in
    ''
      machine.wait_for_unit("${unit}")
    ''
    + lib.optionalString (port != null) ''
      machine.wait_for_open_port(${toString port})
    ''
    + lib.optionalString (port != null && svc.health_path != null) ''
      machine.wait_until_succeeds("curl --fail --silent --show-error --max-time 10 http://127.0.0.1:${toString port}${svc.health_path}", timeout=60)
    ''
    # The bound the offline check enforces, on the real unit NixOS wrote (exceptions, each with
    # its reason in package.toml, lift it).
    + ''
      print(machine.succeed("systemd-analyze security ${unit}"))
    ''
    + lib.optionalString (svc.hardening_exceptions == {}) ''
      machine.succeed("systemd-analyze security --threshold=20 ${unit}")
    '';

  # A VM-test module from the package (test.nix), unless test.nix is the package's smoke check.
  testModuleOf = r: lib.optional (r.extra_files.test_nix && r.check.smoke != false) (r.dir + "/test.nix");

  vmTest = entry: let
    r = entry.package;
    svc = entry.service;
    script = probeScript entry;
  in
    pkgs.testers.runNixOSTest {
      imports =
        [
          {
            name = "${r.name}-${svc.name}-vm";
            _module.args.atprotoGeneratedScript = script;
            _module.args.plcStandIn = plcStandIn;
            nodes.machine = {
              imports = [modules.${svc.name} (serviceTestConfig entry {})] ++ lib.optional (needsRedis r) localRedis;
              environment.systemPackages = [pkgs.curl];
              virtualisation.memorySize = 2048;
            };
            testScript = lib.mkDefault script;
          }
        ]
        ++ testModuleOf r;
    };

  # A package that names Redis among its `[atproto] dependencies` gets NixOS's default Redis
  # server (127.0.0.1:6379, the catalog's default `redis_url`s) in its VM test.
  needsRedis = r: builtins.elem "redis" r.atproto.dependencies;
  localRedis = {services.redis.servers."".enable = true;};

  # A PLC directory for tests (testing/plc-stand-in.py): nobody packages did-method-plc, and
  # accounts cannot be created without one.
  plcStandIn = {
    systemd.services.plc-stand-in = {
      description = "PLC directory stand-in for tests";
      wantedBy = ["multi-user.target"];
      before = ["atproto-bluesky-pds.service"];
      serviceConfig = {
        ExecStart = "${pkgs.python3}/bin/python3 ${./testing/plc-stand-in.py} --port ${toString plcPort}";
        DynamicUser = true;
      };
    };
  };

  # ---------------------------------------------------------------- ecosystem
  # PDS -> relay -> Jetstream -> Constellation on one VM, wired through the options the data
  # declares (found by environment variable or option name, so the test follows the data).
  entries = builtins.filter (e: availableHere e.package) (builtins.attrValues core.services);
  named = n: let
    found = builtins.filter (e: e.service.name == n) entries;
  in
    if found == []
    then null
    else builtins.head found;
  pds = named "bluesky-pds";
  relay = named "indigo-relay";
  jetstream = named "jetstream";
  constellation = named "constellation";

  wire = entry: {
    env ? {},
    options ? {},
  }: let
    byName = util.byName (o: o) entry.service.options;
    asType = name: v:
      if byName.${name}.type == "list" && !(builtins.isList v)
      then [v]
      else v;
  in
    builtins.listToAttrs (builtins.concatMap (
        o:
          if o.env != null && env ? ${o.env}
          then [(lib.nameValuePair o.name (asType o.name env.${o.env}))]
          else if options ? ${o.name}
          then [(lib.nameValuePair o.name (asType o.name options.${o.name}))]
          else []
      )
      entry.service.options);

  ecosystem = let
    port = e: toString (mainPort e.service);
    plc = "http://127.0.0.1:${toString plcPort}";
    relayUrl = "http://127.0.0.1:${port relay}";
    relayPassword = samples.secretPath relay.service.name (util.byName (o: o) relay.service.options).admin_password;
    chain = [pds relay jetstream constellation];
  in
    pkgs.testers.runNixOSTest {
      name = "atproto-ecosystem";
      nodes.machine = {
        imports = [
          plcStandIn
          modules.default
          (serviceTestConfig pds (wire pds {
            env = {
              PDS_HOSTNAME = "localhost";
              PDS_DID_PLC_URL = plc;
              PDS_INVITE_REQUIRED = false;
              PDS_CRAWLERS = [];
            };
          }))
          (serviceTestConfig relay (wire relay {env.RELAY_PLC_HOST = plc;}))
          (serviceTestConfig jetstream (wire jetstream {
            env = {
              JETSTREAM_RELAY_URL = relayUrl;
              JETSTREAM_PLC_URL = plc;
            };
          }))
          (serviceTestConfig constellation (wire constellation {
            options.jetstream = "ws://127.0.0.1:${port jetstream}/subscribe";
          }))
        ];
        environment.systemPackages = [pkgs.curl pkgs.iproute2];
        virtualisation.memorySize = 4096;
      };
      testScript =
        ''
          import json
          from urllib.parse import quote

          machine.start()
          machine.wait_for_unit("plc-stand-in.service")
          machine.wait_for_open_port(${toString plcPort})
        ''
        + lib.concatMapStrings probeScript chain
        + ''
          pds = "http://127.0.0.1:${port pds}"
          def xrpc(method, body, token=None):
              auth = f"-H 'Authorization: Bearer {token}' " if token else ""
              out = machine.succeed(
                  f"curl --fail-with-body --silent --show-error -X POST -H 'Content-Type: application/json' {auth}"
                  f"{pds}/xrpc/{method} --data @- <<'EOF'\n{json.dumps(body)}\nEOF"
              )
              return json.loads(out)

          # An account: the PDS sends its genesis operation to the PLC stand-in.
          session = xrpc("com.atproto.server.createAccount", {
              "handle": "alice.test", "email": "alice@example.com", "password": "alice-test-password"})
          did, token = session["did"], session["accessJwt"]
          machine.succeed(f"curl --fail --silent ${plc}/{did}")

          # The relay takes localhost hosts only through its admin endpoint.
          machine.succeed(
              "curl --fail-with-body --silent --show-error -X POST -H 'Content-Type: application/json' "
              "-u admin:$(cat ${relayPassword}) ${relayUrl}/admin/pds/requestCrawl "
              "--data '{\"hostname\": \"localhost:${port pds}\"}'"
          )
          machine.wait_until_succeeds("ss -Htn state established '( dport = :${port pds} )' | grep -q .", timeout=120)
          machine.wait_until_succeeds("ss -Htn state established '( dport = :${port relay} )' | grep -q .", timeout=120)
          machine.wait_until_succeeds("ss -Htn state established '( dport = :${port jetstream} )' | grep -q .", timeout=120)

          # A post, and a like of it: Constellation indexes the like as a backlink of the post.
          now = machine.succeed("date -u +%Y-%m-%dT%H:%M:%S.000Z").strip()
          post = xrpc("com.atproto.repo.createRecord", {"repo": did, "collection": "app.bsky.feed.post",
              "record": {"$type": "app.bsky.feed.post", "text": "hello from the ecosystem test", "createdAt": now}}, token)
          xrpc("com.atproto.repo.createRecord", {"repo": did, "collection": "app.bsky.feed.like",
              "record": {"$type": "app.bsky.feed.like", "subject": {"uri": post["uri"], "cid": post["cid"]}, "createdAt": now}}, token)

          # Downstream: the relay holds the account's commit, Constellation counts the like.
          machine.wait_until_succeeds(f"curl --fail --silent '${relayUrl}/xrpc/com.atproto.sync.getLatestCommit?did={did}'", timeout=120)
          count = f"http://127.0.0.1:${port constellation}/links/count?target={quote(post['uri'], safe=''')}&collection=app.bsky.feed.like&path=.subject.uri"
          machine.wait_until_succeeds(
              f"curl --fail --silent -H 'Accept: application/json' '{count}' | grep -q '\"total\":1'", timeout=180)
        '';
    };

  # Only what this system can build (package.toml `platforms`).
  availableHere = r: r.platforms == [] || builtins.elem pkgs.stdenv.hostPlatform.system r.platforms;
  smokeChecks = lib.mapAttrs' (name: r: lib.nameValuePair "${name}-smoke" (smoke name r)) (
    lib.filterAttrs (_: availableHere) core.packages
  );
  vmChecks = lib.mapAttrs' (
    _: entry: lib.nameValuePair "${entry.package.name}-${entry.service.name}-vm" (vmTest entry)
  ) (lib.filterAttrs (_: e: availableHere e.package) core.services);
in
  smokeChecks
  // vmChecks
  // lib.optionalAttrs (builtins.all (e: e != null) [pds relay jetstream constellation]) {inherit ecosystem;}
