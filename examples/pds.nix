# A personal data server (Bluesky's PDS distribution) on a NixOS host, with its secret files
# and Caddy in front for TLS. Add it to a configuration that imports the catalog's module (see
# docs/deploy.md):
#
#   imports = [ atproto.nixosModules.default ./pds.nix ];
#
# Replace pds.example.com with the host's name; its DNS A/AAAA records, and a wildcard
# *.pds.example.com for handles, must point at the host.
{pkgs, ...}: let
  hostname = "pds.example.com";
  # Secrets live on the host, never in the Nix store: made once by the unit below (or put files
  # from sops-nix / agenix here instead and drop that unit).
  secrets = "/var/lib/atproto-secrets/bluesky-pds";
  unit = "atproto-bluesky-pds.service";
in {
  services.atproto.bluesky-pds = {
    enable = true;
    settings = {
      inherit hostname;
      # Ask the Bluesky relay to crawl this PDS; accounts need an invite code (create them with
      # the admin password and com.atproto.server.createInviteCode).
      crawlers = ["https://bsky.network"];
      invite_required = true;
    };
    secrets = {
      jwt_secret = "${secrets}/jwt_secret";
      admin_password = "${secrets}/admin_password";
      plc_rotation_key = "${secrets}/plc_rotation_key";
    };
  };

  # The secret files, made on first boot as upstream's installer makes them: 16 random bytes
  # (hex) for the JWT secret and the admin password, and a secp256k1 private key (32 bytes,
  # hex) for the PLC rotation key. Only root can read them; systemd hands them to the PDS.
  systemd.services.atproto-bluesky-pds-secrets = {
    description = "Secret files of the PDS (made once)";
    wantedBy = [unit];
    requiredBy = [unit];
    before = [unit];
    path = [pkgs.openssl pkgs.coreutils];
    serviceConfig = {
      Type = "oneshot";
      RemainAfterExit = true;
      UMask = "0077";
    };
    script = ''
      mkdir -p ${secrets}
      cd ${secrets}
      [ -s jwt_secret ] || openssl rand -hex 16 > jwt_secret
      [ -s admin_password ] || openssl rand -hex 16 > admin_password
      if [ ! -s plc_rotation_key ]; then
        openssl ecparam -name secp256k1 -genkey -noout -outform DER \
          | tail -c +8 | head -c 32 | od -An -tx1 | tr -d ' \n' > plc_rotation_key
      fi
    '';
  };

  # TLS in front of the PDS, which listens on 127.0.0.1:2583. Handles (alice.pds.example.com)
  # get certificates on demand; the PDS's /tls-check says which names are its own.
  services.caddy = {
    enable = true;
    globalConfig = ''
      on_demand_tls {
        ask http://127.0.0.1:2583/tls-check
      }
    '';
    virtualHosts."${hostname}" = {
      serverAliases = ["*.${hostname}"];
      extraConfig = ''
        tls {
          on_demand
        }
        reverse_proxy 127.0.0.1:2583
      '';
    };
  };
  networking.firewall.allowedTCPPorts = [80 443];
}
