# Small helpers the library files share, builtins only (importing this never needs nixpkgs), so
# each is defined once.
#   util = import ./util.nix;
rec {
  # ---------------------------------------------------------------- strings, lists, sets
  hasPrefix = p: s: builtins.substring 0 (builtins.stringLength p) s == p;
  removePrefix = p: s:
    if hasPrefix p s
    then builtins.substring (builtins.stringLength p) (builtins.stringLength s) s
    else s;
  hasSuffix = x: s: let
    ls = builtins.stringLength s;
    lx = builtins.stringLength x;
  in
    ls >= lx && builtins.substring (ls - lx) lx s == x;
  # `[ x ]` when `cond` holds, else `[ ]`.
  optional = cond: x:
    if cond
    then [x]
    else [];
  mapAttrsToList = f: set: map (k: f k set.${k}) (builtins.attrNames set);
  # A set keyed by each element's `name`: `byName f [ { name = "a"; ... } ]` -> `{ a = f ...; }`.
  byName = f: xs:
    builtins.listToAttrs (map (x: {
        inherit (x) name;
        value = f x;
      })
      xs);

  # ---------------------------------------------------------------- errors
  # Every data error names the file and the field, and says how to fix it. `atwb check` reports
  # the same problems with line numbers; these messages are for someone who only has nix.
  fail = file: field: msg: throw "${file}: field `${field}`: ${msg}";

  # How a value from package.toml is named in an error message.
  describe = v: let
    byType = {
      string = "the string \"${v}\"";
      set = "a table";
      list = "a list";
    };
  in
    byType.${builtins.typeOf v} or "${builtins.typeOf v} ${builtins.toJSON v}";

  # ---------------------------------------------------------------- catalog data
  isSri = h: builtins.match "sha256-[A-Za-z0-9+/]{43}=" h != null;
  isSecret = o: o.type == "secret-file";
  # An option the user must set: no default, and not a secret (secrets are files, set apart).
  needsValue = o: !o.hasDefault && !isSecret o;
  # The name a service's systemd unit, user and group share, and its default data directory.
  serviceId = service: "atproto-${service}";
  dataDirOf = service: "/var/lib/atproto/${service}";
  # A store path known only after a build, for views evaluated without building.
  placeholderPath = n: "/nix/store/00000000000000000000000000000000-${n}";
  # The arguments of atproto-core.nix for a catalog given as a string (`--argstr catalogDir`),
  # or none for the repository's own catalog.
  catalogArgs = catalogDir:
    if catalogDir == null
    then {}
    else {catalogDir = /. + catalogDir;};
  # Attributes of catalog/default.nix that are not packages (NUR's reserved names).
  reservedNames = [
    "lib"
    "overlays"
    "nixosModules"
  ];
}
