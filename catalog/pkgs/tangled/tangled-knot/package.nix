# The knot runs git (upstream's own package wraps the binary with git on PATH): same here. The
# wrapper execs the shared build's binary, so `knot keys` (which prints its own executable's
# path into authorized_keys lines) names the unwrapped program; module.nix therefore also puts
# git into the system profile for the ssh sessions that run `knot guard`.
{
  lib,
  generated,
  git,
  makeWrapper,
  runCommand,
}:
runCommand generated.name {
  inherit (generated) pname version meta passthru;
  nativeBuildInputs = [makeWrapper];
} ''
  mkdir -p $out/bin
  makeWrapper ${generated}/bin/knot $out/bin/knot --prefix PATH : ${lib.makeBinPath [git]}
''
