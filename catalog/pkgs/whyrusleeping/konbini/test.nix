# VM test module for konbini. At start konbini resolves BSKY_HANDLE and logs in at that
# account's PDS, which a VM without network cannot reach, so the unit cannot stay up here. The
# test shows what can be shown offline: the local PostgreSQL database and role the module asks
# for exist, and systemd started konbini's main process with the generated unit.
{...}: {
  testScript = ''
    machine.wait_for_unit("postgresql.service")
    machine.wait_until_succeeds("runuser -u postgres -- psql -Atc 'select 1 from pg_database where datname = $$atproto-konbini$$' | grep -qx 1", timeout=60)
    machine.succeed("runuser -u postgres -- psql -Atc 'select 1 from pg_roles where rolname = $$atproto-konbini$$' | grep -qx 1")
    machine.wait_until_succeeds("systemctl show -p ExecMainStartTimestampMonotonic atproto-konbini.service | grep -vqx 'ExecMainStartTimestampMonotonic=0'", timeout=120)
    print(machine.succeed("systemd-analyze security atproto-konbini.service"))
  '';
}
