# Stand-in for NixOS's `users.users` and `users.groups` (nixos/modules/config/users-groups.nix),
# with its types and the assertions a service module can trip: a primary group that is unset or
# not declared, neither or both of isSystemUser/isNormalUser, invalid or over-long names,
# duplicate ids. A name of 32 characters or more aborts evaluation, as in NixOS (an abort cannot
# be caught by tryEval).
{
  lib,
  config,
  ...
}: let
  inherit (lib) mkOption mkDefault mkIf mkMerge types;
  inherit (import ../../util.nix) placeholderPackage;

  shortName = kind: n:
    if builtins.stringLength n < 32
    then n
    else builtins.abort "${kind} name '${n}' is longer than 31 characters which is not allowed!";

  option = type: default: what:
    mkOption {
      inherit type default;
      description = what;
    };

  userModule = {
    name,
    config,
    ...
  }: {
    options = {
      enable = option types.bool true "Whether the account exists.";
      name = mkOption {
        type = types.passwdEntry types.str;
        apply = shortName "User";
        description = "Account name (the attribute name by default).";
      };
      description = option (types.passwdEntry types.str) "" "GECOS field.";
      uid = option (types.nullOr types.int) null "UID; null picks a free one.";
      isSystemUser = option types.bool false "A system account (exactly one of this and isNormalUser).";
      isNormalUser = option types.bool false "An account for a person (exactly one of this and isSystemUser).";
      group = mkOption {
        type = types.str;
        default = "";
        apply = shortName "Group";
        description = "Primary group; must be set and declared in users.groups.";
      };
      extraGroups = option (types.listOf types.str) [] "Supplementary groups.";
      home = option (types.passwdEntry types.path) "/var/empty" "Home directory.";
      homeMode = option (types.strMatching "[0-7]{1,5}") "700" "Mode of a created home.";
      createHome = option types.bool false "Create the home directory.";
      useDefaultShell = option types.bool false "Use users.defaultUserShell.";
      # NixOS: pkgs.shadow's nologin.
      shell =
        option (types.nullOr (types.either types.shellPackage (types.passwdEntry types.path)))
        (placeholderPackage "shadow") "Login shell.";
      packages = option (types.listOf types.package) [] "Packages of the user's profile.";
      linger = option (types.nullOr types.bool) null "Lingering of the user's manager (null: untouched).";
      hashedPassword = option (types.nullOr (types.passwdEntry types.str)) null "Hashed password.";
      hashedPasswordFile = option (types.nullOr types.str) null "File with the hashed password.";
      # From nixos/modules/services/networking/ssh/sshd.nix.
      openssh.authorizedKeys = {
        keys = option (types.listOf types.singleLineStr) [] "Authorized public keys.";
        keyFiles = option (types.listOf types.path) [] "Files of authorized public keys.";
      };
    };
    config = mkMerge [
      {name = mkDefault name;}
      (mkIf config.isNormalUser {
        group = mkDefault "users";
        createHome = mkDefault true;
        home = mkDefault "/home/${config.name}";
        useDefaultShell = mkDefault true;
      })
    ];
  };

  groupModule = {name, ...}: {
    options = {
      name = mkOption {
        type = types.passwdEntry types.str;
        apply = shortName "Group";
        description = "Group name (the attribute name by default).";
      };
      gid = option (types.nullOr types.int) null "GID; null picks a free one.";
      members = option (types.listOf (types.passwdEntry types.str)) [] "Members listed in /etc/group.";
    };
    config.name = mkDefault name;
  };

  cfg = config.users;
  enabledUsers = lib.filterAttrs (_: u: u.enable) cfg.users;
  groupNames = lib.mapAttrsToList (_: g: g.name) cfg.groups;
  withUndeclaredGroup = lib.filterAttrs (_: u: u.group != "" && !(builtins.elem u.group groupNames)) enabledUsers;
  unique = set: key: let
    ids = map (v: toString v.${key}) (builtins.filter (v: v.${key} != null) (builtins.attrValues set));
  in
    builtins.length ids == builtins.length (lib.unique ids);

  perUser = u: let
    system = u.isSystemUser || (u.uid != null && u.uid < 1000 && !u.isNormalUser);
  in [
    {
      assertion = builtins.match "[a-zA-Z0-9_.][a-zA-Z0-9_.-]*" u.name != null;
      message = "The username \"${u.name}\" is not valid.";
    }
    {
      assertion = u.isNormalUser -> (u.uid == null || u.uid >= 1000);
      message = "users.users.${u.name}: a normal user cannot have a uid below 1000.";
    }
    {
      assertion = lib.xor system u.isNormalUser;
      message = "Exactly one of users.users.${u.name}.isSystemUser and users.users.${u.name}.isNormalUser must be set.";
    }
    {
      assertion = u.group != "";
      message = "users.users.${u.name}.group is unset. This used to default to nogroup, but this is unsafe; set it and declare users.groups.<group>.";
    }
  ];
in {
  options.users = {
    mutableUsers = option types.bool true "Whether accounts may be changed imperatively.";
    enforceIdUniqueness = option types.bool true "Refuse two accounts (groups) with one uid (gid).";
    users = option (types.attrsOf (types.submodule userModule)) {} "User accounts.";
    groups = option (types.attrsOf (types.submodule groupModule)) {} "Groups.";
  };

  config = {
    # What NixOS itself declares, so a module may name them.
    users.users = {
      root = {
        uid = 0;
        group = "root";
        home = "/root";
      };
      nobody = {
        uid = 65534;
        isSystemUser = true;
        group = "nogroup";
      };
    };
    users.groups = lib.genAttrs ["root" "wheel" "users" "nogroup" "keys" "systemd-journal"] (_: {});

    assertions =
      [
        {
          assertion = !cfg.enforceIdUniqueness || (unique cfg.users "uid" && unique cfg.groups "gid");
          message = "UIDs and GIDs must be unique!";
        }
        {
          assertion = withUndeclaredGroup == {};
          message = "The following users have a primary group that is undefined: ${toString (builtins.attrNames withUndeclaredGroup)}. Hint: declare users.groups.<group> = {}.";
        }
      ]
      ++ lib.concatMap perUser (builtins.attrValues enabledUsers);

    testing.forced = [
      (lib.mapAttrs (_: u:
        removeAttrs u ["_module" "shell" "packages"]
        // {
          packages = map (p: p.outPath) u.packages;
          shell =
            if lib.isDerivation u.shell
            then u.shell.outPath
            else u.shell;
        })
      cfg.users)
      (lib.mapAttrs (_: g: removeAttrs g ["_module"]) cfg.groups)
    ];
  };
}
