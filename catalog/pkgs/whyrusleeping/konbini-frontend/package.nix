# `npm run build` writes the bundle to build/, but buildNpmPackage's default install packs the
# project with `npm pack`, whose file list follows frontend/.gitignore, and that lists /build:
# the bundle would be left out. Install build/ itself (a static site, served by any web server;
# its API address http://localhost:4444/api is compiled in).
{generated}:
generated.overrideAttrs (_: {
  installPhase = ''
    runHook preInstall
    test -f build/index.html || { echo "npm run build wrote no build/index.html" >&2; exit 1; }
    mkdir -p $out/share/konbini-frontend
    cp -a build/. $out/share/konbini-frontend/
    runHook postInstall
  '';
})
