# Builders: one catalog record (or one workspace of records) -> a derivation, using only
# nixpkgs' own builders, so evaluation needs no import-from-derivation and no network:
#   rust-workspace / rust-package  rustPlatform.buildRustPackage, cargoHash (fetchCargoVendor)
#   go-module                      buildGoModule, vendorHash, subPackages
#   pnpm-workspace                 stdenv + fetchPnpmDeps (fetcherVersion = 3) + pnpmConfigHook
#   npm-package                    buildNpmPackage, npmDepsHash
#   deno-app                       buildDenoPackage, denoDepsHash
#   static-site                    stdenvNoCC, files copied as they are
# A `deps_hash` of "unknown" becomes lib.fakeHash: the first build fails with the real hash in
# its "got:" line, which the workbench writes back into package.toml.
{
  pkgs,
  core,
}: let
  inherit (pkgs) lib;
  licenses = import ./licenses.nix {inherit lib;};
  util = import ./util.nix;

  # package.toml `platforms`, where empty means every Linux platform.
  platformsOf = r:
    if r.platforms == []
    then lib.platforms.linux
    else r.platforms;

  hashOf = h:
    if h == "unknown"
    then lib.fakeHash
    else h;

  # ---------------------------------------------------------------- sources
  # The catalog's `hash` is the NAR hash of `git archive <rev>` unpacked; every fetcher below
  # produces exactly that tree (sources.md: Tangled's /archive/<rev> tarball hashes the same).
  fetchers = r: let
    s = r.source;
  in {
    github = pkgs.fetchFromGitHub {
      inherit (s) owner repo rev hash;
      fetchSubmodules = s.submodules;
    };
    tangled =
      if s.submodules
      then util.fail r.file "source.submodules" "Tangled archives carry no submodules; use host = \"git\" with the repository URL"
      else
        pkgs.fetchzip {
          name = "source";
          url = "https://tangled.org/${s.owner}/${s.repo}/archive/${s.rev}";
          extension = "tar.gz";
          inherit (s) hash;
        };
    git = pkgs.fetchgit {
      inherit (s) url rev hash;
      fetchSubmodules = s.submodules;
    };
  };
  fetchSource = r: (fetchers r).${r.source.host} or (util.fail r.file "source.host" "\"${r.source.host}\" is not one of: github, tangled, git");

  sourceRootOf = r: src:
    if r.build.source_root == null
    then null
    else "${src.name}/${r.build.source_root}";

  # nixpkgs attribute names ("openssl", "llvmPackages.libclang") -> packages.
  inputsOf = r: field: names:
    map (
      n:
        lib.attrByPath (lib.splitString "." n) (util.fail r.file "build.${field}" "\"${n}\" is not a nixpkgs attribute") pkgs
    )
    names;

  # ---------------------------------------------------------------- meta
  metaOf = r:
    {
      inherit (r) description homepage;
      longDescription = r.long_description;
      license = licenses.fromSpdx r;
      # Handles of this repository's maintainers, written inline as NUR repositories do (a
      # lookup in lib.maintainers could pick a different person with the same handle).
      maintainers =
        map (h: {
          name = h;
          github = h;
        })
        r.maintainers;
      platforms = platformsOf r;
      sourceProvenance = [lib.sourceTypes.fromSource];
      atproto = core.atprotoMeta r;
    }
    // lib.optionalAttrs (r.main_program != null) {mainProgram = r.main_program;};

  # ---------------------------------------------------------------- builders (one record or a group)
  # `rs` is the list of records built together (one, unless they share a `workspace`); `first`
  # provides the source, version and hash they all agree on (atproto-core.nix checks that).
  common = pname: rs: let
    first = builtins.head rs;
    src = fetchSource first;
    sourceRoot = sourceRootOf first src;
  in
    {
      inherit pname src;
      inherit (first) version;
      buildInputs = lib.unique (builtins.concatMap (r: inputsOf r "build_inputs" r.build.build_inputs) rs);
      nativeBuildInputs = lib.unique (
        builtins.concatMap (r: inputsOf r "native_build_inputs" r.build.native_build_inputs) rs
      );
      env = builtins.foldl' (acc: r: acc // r.build.env) {} rs;
    }
    // lib.optionalAttrs (sourceRoot != null) {inherit sourceRoot;};

  rust = pname: rs: let
    first = builtins.head rs;
    members = lib.unique (builtins.concatMap (r: r.build.members) rs);
  in
    pkgs.rustPlatform.buildRustPackage (
      common pname rs
      // {
        cargoHash = hashOf first.build.deps_hash;
        cargoBuildFlags =
          builtins.concatMap (m: [
            "--package"
            m
          ])
          members;
        # Workspace tests often need a database or the network; the smoke and VM checks test
        # the binaries instead.
        doCheck = false;
      }
    );

  go = pname: rs: let
    first = builtins.head rs;
    c = common pname rs;
  in
    pkgs.buildGoModule (
      removeAttrs c ["sourceRoot"]
      // {
        # Go finds its module with modRoot, not sourceRoot.
        modRoot =
          if first.build.source_root == null
          then "."
          else first.build.source_root;
        vendorHash = hashOf first.build.deps_hash;
        subPackages = lib.unique (builtins.concatMap (r: r.build.sub_packages) rs);
        ldflags = [
          "-s"
          "-w"
        ];
        doCheck = false;
      }
    );

  # Expose each package.json "bin" entry of DIR (relative to the build root) as a node wrapper;
  # a package with no "bin" but an index.js and a main_program gets `node index.js`.
  linkNodeBins = pname: mainProgram: ''
    atwbLinkBins() {
      local dir="$1"
      jq -r --arg fallback "${toString mainProgram}" '
        if (.bin|type) == "string" then [(.name|split("/")|last), .bin] | @tsv
        elif (.bin|type) == "object" then .bin | to_entries[] | [.key, .value] | @tsv
        elif $fallback != "" then [$fallback, "index.js"] | @tsv
        else empty end' "$dir/package.json" |
      while IFS=$'\t' read -r name path; do
        if [ -e "$dir/$path" ]; then
          makeWrapper ${pkgs.nodejs}/bin/node "$out/bin/$name" \
            --add-flags "$out/lib/${pname}/$dir/$path"
        fi
      done
    }
  '';

  pnpm = pname: rs: let
    first = builtins.head rs;
    pnpmPkg = pkgs.pnpm_10 or pkgs.pnpm;
    workspaces = lib.unique (builtins.concatMap (r: r.build.workspaces) rs);
    c = common pname rs;
  in
    pkgs.stdenv.mkDerivation (
      finalAttrs:
        c
        // {
          pnpmWorkspaces = workspaces;
          pnpmDeps = pkgs.fetchPnpmDeps (
            {
              inherit (finalAttrs) pname version src;
              pnpm = pnpmPkg;
              pnpmWorkspaces = workspaces;
              fetcherVersion = 3;
              hash = hashOf first.build.deps_hash;
            }
            // lib.optionalAttrs (c ? sourceRoot) {inherit (c) sourceRoot;}
          );
          nativeBuildInputs =
            c.nativeBuildInputs
            ++ [
              pkgs.nodejs
              pnpmPkg
              pkgs.pnpmConfigHook
              pkgs.makeWrapper
              pkgs.jq
            ];
          buildPhase = ''
            runHook preBuild
            ${
              if workspaces == []
              then "pnpm run --if-present build"
              else lib.concatMapStringsSep "\n" (w: "pnpm --filter ${lib.escapeShellArg w} run --if-present build") workspaces
            }
            runHook postBuild
          '';
          installPhase = ''
            runHook preInstall
            mkdir -p $out/lib/${pname} $out/bin
            cp -a . $out/lib/${pname}/
            ${linkNodeBins pname first.main_program}
            ${
              if workspaces == []
              then "atwbLinkBins ."
              else
                lib.concatMapStringsSep "\n" (
                  w: "atwbLinkBins \"$(realpath --relative-to=. \"$(pnpm --filter ${lib.escapeShellArg w} exec pwd)\")\""
                )
                workspaces
            }
            runHook postInstall
          '';
        }
    );

  npm = pname: rs: let
    first = builtins.head rs;
    workspaces = lib.unique (builtins.concatMap (r: r.build.workspaces) rs);
  in
    if builtins.length workspaces > 1
    then util.fail first.file "build.workspaces" "buildNpmPackage builds one npm workspace; list one, or give each its own package"
    else
      pkgs.buildNpmPackage (
        common pname rs
        // {
          npmDepsHash = hashOf first.build.deps_hash;
        }
        // lib.optionalAttrs (workspaces != []) {npmWorkspace = builtins.head workspaces;}
      );

  # Deno projects in the catalog are front ends whose `deno task build` writes static files; the
  # result is installed under share/<pname> (with a program, package.nix can add
  # `binaryEntrypointPath`).
  deno = pname: rs: let
    first = builtins.head rs;
  in
    pkgs.buildDenoPackage (
      common pname rs
      // {
        denoDepsHash = hashOf first.build.deps_hash;
        denoTaskScript = "build";
        installPhase = ''
          runHook preInstall
          mkdir -p $out/share/${pname}
          if [ -d dist ]; then cp -a dist/. $out/share/${pname}/; else cp -a . $out/share/${pname}/; fi
          runHook postInstall
        '';
      }
    );

  staticSite = pname: rs:
    pkgs.stdenvNoCC.mkDerivation (
      common pname rs
      // {
        dontConfigure = true;
        dontBuild = true;
        installPhase = ''
          runHook preInstall
          mkdir -p $out/share/www/${pname}
          cp -a . $out/share/www/${pname}/
          runHook postInstall
        '';
      }
    );

  builderFor = {
    "rust-workspace" = rust;
    "rust-package" = rust;
    "go-module" = go;
    "pnpm-workspace" = pnpm;
    "npm-package" = npm;
    "deno-app" = deno;
    "static-site" = staticSite;
  };

  # ---------------------------------------------------------------- packages
  # One derivation per workspace: members share a dependency build (the design's requirement).
  workspaceDrvs =
    builtins.mapAttrs (
      name: ws: let
        first = builtins.head ws.records;
      in
        (builderFor.${first.build.builder} name ws.records).overrideAttrs (old: {
          meta =
            (old.meta or {})
            // {
              description = "Shared build of the ${name} workspace (${builtins.concatStringsSep ", " ws.memberNames})";
              inherit (first) homepage;
              license = lib.unique (lib.flatten (map (r: licenses.fromSpdx r) ws.records));
              platforms = platformsOf first;
            };
        })
    )
    core.workspaces;

  # The programs a workspace member exposes from the shared build.
  binsOf = r:
    lib.unique (
      r.build.members
      ++ map baseNameOf r.build.sub_packages
      ++ lib.optional (r.main_program != null) r.main_program
      ++ map (s: builtins.head s.exec) (builtins.attrValues r.services)
    );

  # A member of a shared workspace: its own name, version and meta, exposing its programs from
  # the one shared derivation.
  memberView = r: shared:
    pkgs.runCommand "${r.name}-${r.version}"
    {
      pname = r.name;
      inherit (r) version;
      meta = metaOf r;
      passthru = {
        workspace = shared;
        inherit (shared) src;
      };
    }
    ''
      mkdir -p $out/bin
      for b in ${lib.escapeShellArgs (binsOf r)}; do
        if [ -e ${shared}/bin/$b ]; then ln -s ${shared}/bin/$b $out/bin/$b; fi
      done
      ${lib.optionalString (r.main_program != null) ''
        if [ ! -e $out/bin/${r.main_program} ]; then
          echo "main_program ${r.main_program} is not built by workspace ${r.build.workspace}; it has: $(ls ${shared}/bin)" >&2
          exit 1
        fi
      ''}
      if [ -z "$(ls $out/bin)" ]; then
        echo "${r.name} exposes none of ${toString (binsOf r)} from ${shared}/bin" >&2
        exit 1
      fi
    '';

  generated = r:
    if r.build.workspace != null
    then memberView r workspaceDrvs.${r.build.workspace}
    else
      (builderFor.${r.build.builder} r.name [r]).overrideAttrs (old: {
        meta = (old.meta or {}) // metaOf r;
      });

  # A package.nix beside package.toml wins; it may take `generated` (the data-built derivation,
  # to override) and `catalogRecord`, plus anything from pkgs.
  packageOf = r:
    if r.extra_files.package_nix
    then let
      f = import (r.dir + "/package.nix");
      extra = builtins.intersectAttrs (builtins.functionArgs f) {
        generated = generated r;
        catalogRecord = r;
      };
    in
      pkgs.callPackage f extra
    else generated r;
in {
  inherit
    fetchSource
    metaOf
    workspaceDrvs
    hashOf
    ;
  builders = builderFor;
  packages = builtins.mapAttrs (_: packageOf) core.packages;
}
