# Leaflet's package.json has no `build` script, which buildNpmPackage runs by default, and
# `npm pack` (its default install) would follow .gitignore, which lists appview/dist and
# feeds/dist. Build what upstream's Dockerfiles build, the two Node side services bundled by
# esbuild (`npm run build-appview`, `npm run build-feed-service`), and install each bundle with
# a node wrapper: `leaflet-appview` (firehose consumer) and `leaflet-feeds` (feed service,
# fixed port 3030). The Next.js app needs its NEXT_PUBLIC_* settings at build time and is not
# built here.
{
  generated,
  makeWrapper,
}:
generated.overrideAttrs (old: {
  nativeBuildInputs = old.nativeBuildInputs ++ [makeWrapper];
  dontNpmBuild = true;
  buildPhase = ''
    runHook preBuild
    npm run build-appview
    npm run build-feed-service
    runHook postBuild
  '';
  installPhase = ''
    runHook preInstall
    mkdir -p $out/lib/leaflet $out/bin
    cp -a appview feeds node_modules package.json $out/lib/leaflet/
    makeWrapper ${old.passthru.nodejs}/bin/node $out/bin/leaflet-appview \
      --add-flags $out/lib/leaflet/appview/dist/index.js
    makeWrapper ${old.passthru.nodejs}/bin/node $out/bin/leaflet-feeds \
      --add-flags $out/lib/leaflet/feeds/dist/index.js
    runHook postInstall
  '';
})
