# One NixOS module per catalog service, generated from `[services.*]` data; builtins only (the
# modules themselves receive lib and pkgs from NixOS).
#
# Each module is an attrset with a `key`, so importing the same service twice (directly and via
# `default`) declares its options once. A package's own module.nix (beside package.toml) is
# imported by each of its services' modules and merges with the generated options.
{catalogDir ? ../.}: let
  core = import ./atproto-core.nix {inherit catalogDir;};
  common = import ./service-common.nix;
  util = import ./util.nix;

  # The default package of a service: the `atproto` set if the overlay is applied, else the
  # catalog evaluated with the module's own pkgs.
  packageFor = name: pkgs: pkgs.atproto.${name} or (import (catalogDir + "/default.nix") {inherit pkgs;}).${name};

  moduleFor = serviceName: entry: {
    key = "atproto-nur/services/${serviceName}";
    _file = entry.package.file;
    imports =
      [
        (common.mkAtprotoServiceModule {
          inherit (entry) package service;
          packageFor = packageFor entry.package.name;
        })
      ]
      ++ util.optional entry.package.extra_files.module_nix (entry.package.dir + "/module.nix");
  };

  perService = builtins.mapAttrs moduleFor core.services;
in
  perService
  // {
    default = {
      key = "atproto-nur/services";
      imports = builtins.attrValues perService;
    };
  }
