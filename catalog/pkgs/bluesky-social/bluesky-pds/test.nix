# The smoke check of the PDS (package.toml: `[check] smoke = false`): `pds` takes no arguments
# and starts serving, so instead load what it runs, with the node it runs with: @atproto/pds and
# better-sqlite3's native addon (which package.nix compiles), and open an in-memory database.
{
  pkgs,
  lib,
  package,
}:
pkgs.runCommand "bluesky-pds-smoke" {} ''
  cd ${package}/lib/bluesky-pds
  ${package.passthru.nodejs}/bin/node -e '
    require("@atproto/pds");
    // better-sqlite3 is a dependency of @atproto/pds, found from there (pnpm does not hoist it).
    const pds = require.resolve("@atproto/pds");
    const Database = require(require.resolve("better-sqlite3", {paths: [pds]}));
    const row = new Database(":memory:").prepare("select 41 + 1 as answer").get();
    if (row.answer !== 42) throw new Error("better-sqlite3 answered " + JSON.stringify(row));
    console.log("@atproto/pds and better-sqlite3 load; sqlite answers", row.answer);
  ' > $out
  grep -q "sqlite answers 42" $out
''
