# Flake checks generated from catalog data:
#   <package>-smoke            main_program --version (or --help); no program: the output is non-empty
#   <package>-<service>-vm     a NixOS VM: unit active, main port open, health path answers, and
#                              `systemd-analyze security` of the real unit at most 2.0
#   ecosystem                  a PDS, a relay, Jetstream and Constellation on one VM, wired
#                              PDS -> relay -> Jetstream -> Constellation through their options
# A test.nix beside package.toml is imported into each of that package's VM tests (a test module:
# it may add nodes, options, or replace `testScript`; the generated script is available to it as
# the module argument `atprotoGeneratedScript`).
{
  pkgs,
  catalogDir ? ../.,
}: let
  inherit (pkgs) lib;
  core = import ./atproto-core.nix {inherit catalogDir;};
  catalog = import (catalogDir + "/default.nix") {inherit pkgs;};
  modules = import ./nixos-modules.nix {inherit catalogDir;};
  util = import ./util.nix;

  # ---------------------------------------------------------------- smoke
  smoke = name: r: let
    drv = catalog.${name};
  in
    pkgs.runCommand "${name}-smoke" {} (
      if r.main_program != null
      then ''
        export HOME=$TMPDIR
        prog=${drv}/bin/${r.main_program}
        # A daemon that ignores --version would start serving: the timeout turns that into a
        # failure instead of a hang.
        if timeout 30 "$prog" --version >$out 2>&1; then
          :
        elif timeout 30 "$prog" --help >$out 2>&1; then
          :
        else
          echo "${name}: neither '${r.main_program} --version' nor '--help' succeeded:" >&2
          cat $out >&2
          exit 1
        fi
        test -s $out || { echo "${name}: ${r.main_program} printed nothing" >&2; exit 1; }
      ''
      else ''
        test -n "$(ls -A ${drv})" || { echo "${name}: empty output ${drv}" >&2; exit 1; }
        find ${drv} -maxdepth 3 > $out
      ''
    );

  # ---------------------------------------------------------------- VM tests
  # A value for an option without a default, so the unit can start in a test VM.
  sampleValue = o: let
    samples = {
      str = "localhost";
      int = 1;
      port = 10000;
      bool = false;
      enum = builtins.head o.values;
      path = "/var/lib/atproto-test/${o.name}";
      list = [];
    };
  in
    samples.${o.type} or null;

  # Secrets for tests only: 64 hex digits (valid as a k256 private key or a JWT secret), in /etc.
  # Real deployments use sops/agenix paths; these land in the store, which is fine for a VM.
  secretText = svc: opt: builtins.hashString "sha256" "atwb-test-${svc}-${opt}";

  serviceTestConfig = entry: overrides: let
    svc = entry.service;
    required = builtins.filter util.needsValue svc.options;
    secrets = builtins.filter util.isSecret svc.options;
  in {
    imports = [modules.${svc.name}];
    services.atproto.${svc.name} = {
      enable = true;
      settings = util.byName sampleValue required // overrides;
      secrets = util.byName (o: "/etc/atproto-test/${svc.name}/${o.name}") secrets;
    };
    environment.etc = builtins.listToAttrs (
      map (o: {
        name = "atproto-test/${svc.name}/${o.name}";
        value.text = secretText svc.name o.name;
      })
      secrets
    );
  };

  # The port to probe: `http`, else `api`, else the first.
  mainPort = svc:
    if svc.ports ? http
    then svc.ports.http
    else if svc.ports ? api
    then svc.ports.api
    else if svc.ports != {}
    then builtins.head (builtins.attrValues svc.ports)
    else null;

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
    + (
      if svc.hardening_exceptions == {}
      then ''
        print(machine.succeed("systemd-analyze security ${unit}"))
        machine.succeed("systemd-analyze security --threshold=20 ${unit}")
      ''
      else ''
        print(machine.succeed("systemd-analyze security ${unit}"))
      ''
    );

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
            nodes.machine = {
              imports = [(serviceTestConfig entry {})];
              environment.systemPackages = [pkgs.curl];
              virtualisation.memorySize = 2048;
            };
            testScript = lib.mkDefault script;
          }
        ]
        ++ lib.optional r.extra_files.test_nix (r.dir + "/test.nix");
    };

  # ---------------------------------------------------------------- ecosystem
  # PDS -> relay -> Jetstream (-> Constellation when the catalog has it), on one VM, wired
  # through the options the data declares (found by environment variable or option name, so the
  # test follows the data; a missing option is simply not set).
  entries = builtins.filter (e: availableHere e.package) (builtins.attrValues core.services);
  pick = preferred: pred: let
    found = builtins.filter pred entries;
    named = builtins.filter (e: e.service.name == preferred) found;
  in
    if named != []
    then builtins.head named
    else if found != []
    then builtins.head found
    else null;
  hasRole = role: e: builtins.elem role e.package.atproto.services && e.service.ports != {};
  pds = pick "bluesky-pds" (hasRole "pds");
  relay = pick "indigo-relay" (hasRole "relay");
  jetstream = pick "jetstream" (e: e.service.name == "jetstream");
  constellation = pick "constellation" (e: e.service.name == "constellation");

  wire = entry: {
    env ? {},
    options ? {},
  }:
    builtins.mapAttrs (
      name: v: let
        o = (util.byName (o: o) entry.service.options).${name};
      in
        if o.type == "list" && !(builtins.isList v)
        then [v]
        else v
    ) (builtins.listToAttrs (
      builtins.concatMap (
        o:
          if o.env != null && env ? ${o.env}
          then [
            {
              name = o.name;
              value = env.${o.env};
            }
          ]
          else if options ? ${o.name}
          then [
            {
              name = o.name;
              value = options.${o.name};
            }
          ]
          else []
      )
      entry.service.options
    ));

  ecosystem = let
    port = e: toString (mainPort e.service);
    relayUrl = "http://127.0.0.1:${port relay}";
    chain =
      [
        pds
        relay
        jetstream
      ]
      ++ lib.optional (constellation != null) constellation;
  in
    pkgs.testers.runNixOSTest {
      name = "atproto-ecosystem";
      nodes.machine = {
        imports =
          [
            (serviceTestConfig pds (
              wire pds {
                env = {
                  PDS_CRAWLERS = relayUrl;
                  PDS_INVITE_REQUIRED = false;
                };
              }
            ))
            (serviceTestConfig relay (
              wire relay {
                env.RELAY_TRUSTED_DOMAINS = "localhost,127.0.0.1";
              }
            ))
            (serviceTestConfig jetstream (
              wire jetstream {
                env.JETSTREAM_RELAY_URL = relayUrl;
                env.JETSTREAM_WS_URL = "ws://127.0.0.1:${port relay}/xrpc/com.atproto.sync.subscribeRepos";
              }
            ))
          ]
          ++ lib.optional (constellation != null) (
            serviceTestConfig constellation (
              wire constellation {
                options.jetstream = "ws://127.0.0.1:${port jetstream}/subscribe";
              }
            )
          );
        environment.systemPackages = [
          pkgs.curl
          pkgs.iproute2
        ];
        virtualisation.memorySize = 4096;
      };
      testScript =
        ''
          machine.start()
        ''
        + lib.concatMapStrings probeScript chain
        + ''
          # Each consumer holds a connection to the service before it in the chain.
          machine.wait_until_succeeds("ss -Htn state established '( dport = :${port relay} )' | grep -q .", timeout=120)
        ''
        + lib.optionalString (constellation != null) ''
          machine.wait_until_succeeds("ss -Htn state established '( dport = :${port jetstream} )' | grep -q .", timeout=120)
        ''
        + ''
          machine.succeed("curl --fail --silent http://127.0.0.1:${port pds}/xrpc/com.atproto.server.describeServer")
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
  // lib.optionalAttrs (pds != null && relay != null && jetstream != null) {inherit ecosystem;}
