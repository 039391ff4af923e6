# overlays.default: the catalog's packages as `pkgs.atproto.<name>`.
final: _prev: {
  atproto = removeAttrs (import ../default.nix {pkgs = final;}) [
    "lib"
    "overlays"
    "nixosModules"
  ];
}
