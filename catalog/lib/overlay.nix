# overlays.default: the catalog's packages as `pkgs.atproto.<name>`.
final: _prev: {
  atproto = removeAttrs (import ../default.nix {pkgs = final;}) (import ./util.nix).reservedNames;
}
