# The values a service gets in the generated tests (checks.nix's VM tests, and the offline
# evaluation of all services in testing/eval.nix): each option without a default takes its
# `example` from package.toml, and each secret-file option a test file, either made by the
# package's own key tool (`example_generate`) inside the machine before the service starts, or
# 64 hex digits in /etc (valid as a JWT secret, a password or a K-256 private key). Test files
# land in the store or in /var/lib/atproto-test: fine for a VM, never for a real deployment.
let
  util = import ./util.nix;
in rec {
  sampleValue = entry: o:
    if o.hasExample
    then o.example
    else
      util.fail entry.package.file "services.${entry.service.name}.options.${o.name}"
      "has no default and no example, so the VM test cannot give it a value; add `example = ...` (URL-shaped for URLs)";

  secretText = svc: opt: builtins.hashString "sha256" "atwb-test-${svc}-${opt}";
  generatedPath = svc: opt: "/var/lib/atproto-test/${svc}/${opt}";
  etcName = svc: opt: "atproto-test/${svc}/${opt}";
  secretPath = svc: o:
    if o.example_generate != null
    then generatedPath svc o.name
    else "/etc/${etcName svc o.name}";

  # A NixOS module enabling the service with those values; `overrides` replace settings.
  serviceSettings = {
    lib,
    pkgs,
    overrides ? {},
  }: entry: {config, ...}: let
    svc = entry.service;
    unit = "${util.serviceId svc.name}.service";
    required = builtins.filter util.needsValue svc.options;
    secrets = builtins.filter util.isSecret svc.options;
    generated = builtins.filter (o: o.example_generate != null) secrets;
    fromEtc = builtins.filter (o: o.example_generate == null) secrets;
    package = config.services.atproto.${svc.name}.package;
    # `{file}` in an argument is the path; without it the program's output is the file.
    generate = o: let
      path = generatedPath svc.name o.name;
      args = map (builtins.replaceStrings ["{file}"] [path]) (builtins.tail o.example_generate);
      toFile = !(builtins.any (a: lib.hasInfix "{file}" a) o.example_generate);
      command = "${package}/bin/${builtins.head o.example_generate} ${lib.escapeShellArgs args}";
    in ''
      if [ ! -e ${path} ]; then
        ${
        if toFile
        then "${command} > ${path}"
        else command
      }
      fi
    '';
  in {
    services.atproto.${svc.name} = {
      enable = true;
      settings = util.byName (sampleValue entry) required // overrides;
      secrets = util.byName (secretPath svc.name) secrets;
    };
    environment.etc = builtins.listToAttrs (map (o: {
        name = etcName svc.name o.name;
        value.text = secretText svc.name o.name;
      })
      fromEtc);
    systemd.services."atproto-test-secrets-${svc.name}" = lib.mkIf (generated != []) {
      description = "Test key files for ${svc.name}, made by its own tools";
      wantedBy = [unit];
      requiredBy = [unit];
      before = [unit];
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
        UMask = "0077";
      };
      script = "mkdir -p /var/lib/atproto-test/${svc.name}\n" + lib.concatMapStrings generate generated;
    };
  };
}
