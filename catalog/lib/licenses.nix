# SPDX identifiers from package.toml -> lib.licenses entries, looked up by their spdxId.
#   licenses = import ./licenses.nix { inherit lib; };
#   licenses.fromSpdx record   # -> one license, or a list for mixed licensing
{lib}: let
  inherit (import ./util.nix) fail;
  bySpdxId = lib.listToAttrs (
    map (l: {
      name = l.spdxId;
      value = l;
    }) (builtins.filter (l: builtins.isAttrs l && l ? spdxId) (builtins.attrValues lib.licenses))
  );

  # Upstream states no license: treat it as unfree, so nothing redistributes or caches it by
  # accident, and say why in the name.
  noAssertion =
    lib.licenses.unfree
    // {
      shortName = "noassertion";
      fullName = "No license stated upstream (SPDX NOASSERTION); treated as unfree";
    };

  one = file: id:
    if id == "NOASSERTION"
    then noAssertion
    else bySpdxId.${id} or (fail file "license" "\"${id}\" is not an SPDX id known to nixpkgs' lib.licenses; use an id from https://spdx.org/licenses/ or \"NOASSERTION\"");

  # "MIT OR Apache-2.0" written as one entry is split: nixpkgs writes mixed licensing as a list.
  split = id: builtins.filter (x: builtins.isString x && x != "" && x != "OR" && x != "AND") (builtins.split " " id);
in {
  inherit noAssertion;
  fromSpdx = record: let
    ids = builtins.concatLists (map split record.license);
    licenses = map (one record.file) ids;
  in
    if ids == []
    then fail record.file "license" "empty; give SPDX ids or [\"NOASSERTION\"]"
    else if builtins.length licenses == 1
    then builtins.head licenses
    else licenses;
}
