# What package.toml cannot say about the PDS distribution:
# - pnpm installs with --ignore-scripts, so better-sqlite3's native addon is never compiled:
#   build it against the headers of the node the package runs with (as nixpkgs' bluesky-pds does)
#   and drop the build's references to the node sources.
# - Run `pds` as upstream's Dockerfile runs it: `node --enable-source-maps index.js` with
#   NODE_ENV=production and UV_USE_IO_URING=0 (upstream: io_uring performance problems), both
#   only defaults, so the service can still override them.
# - listen-host.cjs, preloaded, makes the PDS listen on ATWB_LISTEN_HOST (the module sets it to
#   listenAddress); @atproto/pds itself binds every interface.
{
  lib,
  generated,
  makeWrapper,
  python3,
  removeReferencesTo,
  srcOnly,
}: let
  inherit (generated.passthru) nodejs;
  nodeSources = srcOnly nodejs;
in
  generated.overrideAttrs (old: {
    nativeBuildInputs =
      old.nativeBuildInputs
      ++ [
        makeWrapper
        removeReferencesTo
        # node-gyp imports setuptools on Python >= 3.12.
        (python3.withPackages (ps: [ps.setuptools]))
      ];
    postBuild =
      (old.postBuild or "")
      + ''
        for addon in node_modules/.pnpm/better-sqlite3@*/node_modules/better-sqlite3; do
          pushd "$addon"
          npm run build-release --offline --nodedir=${nodeSources}
          rm -rf build/Release/{.deps,obj,obj.target,test_extension.node}
          find build -type f -exec remove-references-to -t ${nodeSources} {} +
          popd
        done
      '';
    postInstall =
      (old.postInstall or "")
      + ''
        rm $out/bin/pds
        makeWrapper ${nodejs}/bin/node $out/bin/pds \
          --add-flags "--enable-source-maps --require ${./listen-host.cjs} $out/lib/${old.pname}/index.js" \
          --set-default NODE_ENV production \
          --set-default UV_USE_IO_URING 0
      '';
    meta = old.meta // {mainProgram = "pds";};
  })
