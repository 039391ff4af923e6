# VM test module for allegedly. `mirror` needs a did-method-plc server and its PostgreSQL with
# operations in it, and nobody packages did-method-plc yet; so the test runs `wrap` (read-only)
# in front of the PLC stand-in (catalog/lib/testing/plc-stand-in.py, on the example's port
# 2582). /_health then proves allegedly reaches the server it wraps.
{
  lib,
  plcStandIn,
  ...
}: {
  nodes.machine = {
    imports = [plcStandIn];
    services.atproto.allegedly = {
      settings.mode = "wrap";
      # A URL with credentials in mirror mode; wrap does not read it, and a test file (hex)
      # would not parse as a URL.
      secrets.wrap_pg = lib.mkForce null;
    };
  };
}
