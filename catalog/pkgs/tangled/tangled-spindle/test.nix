# The smoke check of spindle (package.toml: `[check] smoke = false`): it takes no arguments and
# has no --version or --help. Run it with no configuration and expect it to stop, naming its
# required hostname: the binary starts, loads its libraries and reads its configuration.
{
  pkgs,
  lib,
  package,
}:
pkgs.runCommand "tangled-spindle-smoke" {} ''
  export HOME=$TMPDIR
  cd $TMPDIR
  if timeout 30 ${package}/bin/spindle > $out 2>&1; then
    echo "spindle exited 0 without configuration:" >&2; cat $out >&2; exit 1
  fi
  grep -qi hostname $out || { echo "spindle did not name its missing hostname:" >&2; cat $out >&2; exit 1; }
''
