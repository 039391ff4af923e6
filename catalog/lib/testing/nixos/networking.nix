# Stand-in for `networking.firewall` (nixos/modules/services/networking/firewall.nix), the
# part of `services.openssh` (nixos/modules/services/networking/ssh/sshd.nix) a git host needs,
# and the part of `services.caddy` (nixos/modules/services/web-servers/caddy) the examples use.
# Ports are `types.port` (0-65535, integers only) and read back sorted and de-duplicated, as
# NixOS's `apply` does.
{
  lib,
  config,
  ...
}: let
  inherit (lib) mkOption mkEnableOption types;

  option = type: default: what:
    mkOption {
      inherit type default;
      description = what;
    };
  portList = what:
    mkOption {
      type = types.listOf types.port;
      default = [];
      apply = ports: lib.unique (builtins.sort builtins.lessThan ports);
      description = what;
    };
  rangeList = what: option (types.listOf (types.attrsOf types.port)) [] what;
  openings = {
    allowedTCPPorts = portList "TCP ports open for incoming connections.";
    allowedUDPPorts = portList "UDP ports open for incoming packets.";
    allowedTCPPortRanges = rangeList "TCP port ranges ({ from; to; }).";
    allowedUDPPortRanges = rangeList "UDP port ranges ({ from; to; }).";
  };
  virtualHost = {name, ...}: {
    options = {
      hostName = option types.str name "Site address (the attribute name by default).";
      serverAliases = option (types.listOf types.str) [] "More addresses of the site.";
      extraConfig = option types.lines "" "Caddyfile directives of the site.";
      logFormat = option types.lines "" "Caddyfile log directive.";
    };
  };
  fw = config.networking.firewall;
  ssh = config.services.openssh;

  sshSettings = types.submodule {
    freeformType = types.attrsOf (types.nullOr (types.oneOf [types.bool types.int types.str (types.listOf types.str)]));
    options = {
      PasswordAuthentication = option types.bool true "Allow password logins.";
      PermitRootLogin = option (types.enum ["yes" "without-password" "prohibit-password" "forced-commands-only" "no"]) "prohibit-password" "Root logins.";
    };
  };
in {
  options.networking.firewall =
    openings
    // {
      enable = option types.bool true "Whether the firewall is on.";
      backend = option (types.enum ["iptables" "nftables" "firewalld"]) "iptables" "Firewall implementation.";
      trustedInterfaces = option (types.listOf types.str) [] "Interfaces whose traffic is always accepted.";
      allowPing = option types.bool true "Answer ICMP echo requests.";
      logRefusedConnections = option types.bool true "Log refused connections.";
      interfaces = option (types.attrsOf (types.submodule {options = openings;})) {} "Openings on one interface only.";
    };

  options.services.openssh = {
    enable = mkEnableOption "the OpenSSH daemon";
    ports = option (types.listOf types.port) [22] "Ports sshd listens on.";
    openFirewall = option types.bool true "Open `ports` in the firewall.";
    authorizedKeysCommand = option types.str "none" "AuthorizedKeysCommand (for every user).";
    authorizedKeysCommandUser = option types.str "nobody" "AuthorizedKeysCommandUser.";
    authorizedKeysFiles = option (types.listOf types.str) [] "Extra AuthorizedKeysFile locations.";
    extraConfig = option types.lines "" "sshd_config lines appended verbatim (e.g. Match blocks).";
    settings = option sshSettings {} "sshd_config(5) settings.";
  };

  options.services.caddy = {
    enable = mkEnableOption "the Caddy web server";
    email = option (types.nullOr types.str) null "ACME account e-mail.";
    globalConfig = option types.lines "" "Caddyfile global options.";
    extraConfig = option types.lines "" "Caddyfile lines after the sites.";
    virtualHosts = option (types.attrsOf (types.submodule virtualHost)) {} "Sites.";
  };

  config.testing.forced = [
    (removeAttrs config.services.caddy ["virtualHosts"])
    (lib.mapAttrs (_: v: removeAttrs v ["_module"]) config.services.caddy.virtualHosts)
    (removeAttrs fw ["interfaces"])
    (lib.mapAttrs (_: i: removeAttrs i ["_module"]) fw.interfaces)
    (removeAttrs ssh ["settings"])
    (removeAttrs ssh.settings ["_module"])
  ];
}
