# The smoke check of rsky-pds (package.toml: `[check] smoke = false`): it has no --version or
# --help and starts serving at once, so start it on loopback with throw-away keys and a data
# directory in the build's temporary directory, wait for /xrpc/_health, and stop it.
{
  pkgs,
  lib,
  package,
}: let
  hex = seed: builtins.hashString "sha256" "rsky-pds-smoke-${seed}";
  env = {
    ROCKET_ADDRESS = "127.0.0.1";
    ROCKET_PORT = "38584";
    PDS_PORT = "38584";
    PDS_HOSTNAME = "localhost";
    PDS_SERVICE_DID = "did:web:localhost";
    PDS_ADMIN_PASS = hex "admin";
    PDS_JWT_KEY_K256_PRIVATE_KEY_HEX = hex "jwt";
    PDS_REPO_SIGNING_KEY_K256_PRIVATE_KEY_HEX = hex "repo";
    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX = hex "plc";
    PDS_DPOP_SECRET = hex "dpop";
    PDS_INVITE_REQUIRED = "true";
  };
in
  pkgs.runCommand "rsky-pds-smoke" {nativeBuildInputs = [pkgs.curl];} ''
    export HOME=$TMPDIR
    ${lib.concatStrings (lib.mapAttrsToList (k: v: "export ${k}=${lib.escapeShellArg v}\n") env)}
    export PDS_DATA_DIRECTORY=$TMPDIR/pds PDS_BLOBSTORE_DISK_LOCATION=$TMPDIR/pds/blobs
    mkdir -p $PDS_BLOBSTORE_DISK_LOCATION
    ${package}/bin/rsky-pds > $TMPDIR/log 2>&1 &
    pid=$!
    for _ in $(seq 60); do
      if curl --fail --silent --max-time 2 http://127.0.0.1:38584/xrpc/_health > $out; then break; fi
      kill -0 $pid 2>/dev/null || { echo "rsky-pds exited:" >&2; cat $TMPDIR/log >&2; exit 1; }
      sleep 1
    done
    kill $pid
    test -s $out || { echo "rsky-pds did not answer /xrpc/_health in 60 s:" >&2; cat $TMPDIR/log >&2; exit 1; }
  ''
