# cadet's Prometheus exporter: upstream calls `PrometheusBuilder::new().install()`, which binds
# metrics-exporter-prometheus's default 0.0.0.0:9000, the port rsky-relay hard-codes too (both
# could not run on one host). Patch it to take the address from CADET_METRICS_LISTEN, keeping
# 0.0.0.0:9000 when the variable is unset or does not parse, so the module can move it.
#
# The patch changes the source of the whole teal workspace, so cadet gets its own build of it
# (teal-aqua keeps the shared, unpatched one); this package exposes only `cadet` from it.
{
  generated,
  runCommand,
}: let
  patched = generated.passthru.workspace.overrideAttrs (old: {
    pname = "teal-cadet-workspace";
    postPatch =
      (old.postPatch or "")
      + ''
        substituteInPlace services/cadet/src/main.rs --replace-fail \
          'PrometheusBuilder::new().install()' \
          'PrometheusBuilder::new().with_http_listener(std::env::var("CADET_METRICS_LISTEN").ok().and_then(|a| a.parse::<std::net::SocketAddr>().ok()).unwrap_or_else(|| std::net::SocketAddr::from(([0, 0, 0, 0], 9000)))).install()'
      '';
  });
in
  runCommand generated.name {
    inherit (generated) pname version meta;
    passthru = generated.passthru // {workspace = patched;};
  } ''
    mkdir -p $out/bin
    ln -s ${patched}/bin/cadet $out/bin/cadet
  ''
