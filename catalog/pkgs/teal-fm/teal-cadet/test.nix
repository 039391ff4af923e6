# The smoke check of cadet (package.toml: `[check] smoke = false`): it has no --version or
# --help and cannot start without PostgreSQL. Run it against a port where nothing listens and
# expect it to stop at its database pool, which shows the binary starts, loads its libraries,
# installs the (patched) metrics listener and reads its configuration.
{
  pkgs,
  lib,
  package,
}:
pkgs.runCommand "teal-cadet-smoke" {} ''
  export HOME=$TMPDIR
  cd $TMPDIR
  export DATABASE_URL=postgres://cadet@127.0.0.1:1/none CADET_METRICS_LISTEN=127.0.0.1:39464
  if timeout 60 ${package}/bin/cadet > $out 2>&1; then
    echo "cadet exited 0 without a database:" >&2; cat $out >&2; exit 1
  fi
  grep -qi postgres $out || { echo "cadet did not stop at its PostgreSQL pool:" >&2; cat $out >&2; exit 1; }
''
