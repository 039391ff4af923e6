# A relay, Jetstream and Constellation on one NixOS host: the relay (indigo) aggregates the
# firehoses of the PDSes it crawls, Jetstream turns its stream into JSON, and Constellation
# indexes the backlinks in it. Add it to a configuration that imports the catalog's module (see
# docs/deploy.md):
#
#   imports = [ atproto.nixosModules.default ./relay-stack.nix ];
#
# Every service listens on 127.0.0.1 (its catalog port); Caddy publishes the three under their
# own names with TLS. Replace the example.com names.
{pkgs, ...}: let
  secrets = "/var/lib/atproto-secrets/indigo-relay";
  relayUnit = "atproto-indigo-relay.service";
in {
  services.atproto.indigo-relay = {
    enable = true;
    settings = {
      # Also subscribe to PDSes that ask for it (com.atproto.sync.requestCrawl).
      disable_request_crawl = false;
    };
    secrets.admin_password = "${secrets}/admin_password";
  };

  services.atproto.jetstream = {
    enable = true;
    # Follow the relay on this host instead of bsky.network.
    settings.relay_url = "http://127.0.0.1:2470";
  };

  services.atproto.constellation = {
    enable = true;
    settings.jetstream = "ws://127.0.0.1:8080/subscribe";
  };

  # The relay's admin password, made once on the host (never in the Nix store).
  systemd.services.atproto-indigo-relay-secrets = {
    description = "Admin password of the relay (made once)";
    wantedBy = [relayUnit];
    requiredBy = [relayUnit];
    before = [relayUnit];
    path = [pkgs.openssl pkgs.coreutils];
    serviceConfig = {
      Type = "oneshot";
      RemainAfterExit = true;
      UMask = "0077";
    };
    script = ''
      mkdir -p ${secrets}
      [ -s ${secrets}/admin_password ] || openssl rand -hex 16 > ${secrets}/admin_password
    '';
  };

  services.caddy = {
    enable = true;
    virtualHosts = {
      "relay.example.com".extraConfig = "reverse_proxy 127.0.0.1:2470";
      "jetstream.example.com".extraConfig = "reverse_proxy 127.0.0.1:8080";
      "constellation.example.com".extraConfig = "reverse_proxy 127.0.0.1:6789";
    };
  };
  networking.firewall.allowedTCPPorts = [80 443];
}
