# pds-dash compiles its settings in: upstream ships only config.ts.example, and the build
# imports config.ts. Write config.ts from the example with the values given here, e.g.
#   pds-dash.override { pdsUrl = "https://pds.example.com"; }
{
  lib,
  generated,
  pdsUrl ? "",
  theme ? "default",
  frontendUrl ? "https://deer.social",
}: let
  # Replace one `static readonly NAME: string = "...";` default of config.ts.example.
  setting = name: old: new:
    "--replace-fail ${lib.escapeShellArg "${name}: string = ${builtins.toJSON old};"} "
    + lib.escapeShellArg "${name}: string = ${builtins.toJSON new};";
in
  generated.overrideAttrs (old: {
    postPatch =
      (old.postPatch or "")
      + ''
        cp config.ts.example config.ts
        substituteInPlace config.ts \
          ${setting "PDS_URL" "" pdsUrl} \
          ${setting "THEME" "default" theme} \
          ${setting "FRONTEND_URL" "https://deer.social" frontendUrl}
      '';
  })
