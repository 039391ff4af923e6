# What a knot needs besides `knot server` (as upstream's nix/modules/knot.nix sets it up), merged
# into the generated services.atproto.tangled-knot module:
# - the service runs as the git user `git` (the default of `user`/`group` here), whose home is
#   the data directory: people push to git@<host>, and the repositories belong to that user;
# - sshd asks `knot keys` for that user's authorized keys, each key forced to `knot guard`
#   (`ssh.enable`, on by default), and git is in the system profile for those sessions;
# - git's settings for pushes and partial clones, in the git user's ~/.gitconfig.
{
  config,
  lib,
  pkgs,
  ...
}: let
  cfg = config.services.atproto.tangled-knot;
  gitUser = "git";
  # The scan path option may use {data_dir}, like every string option of the module.
  scanPath = builtins.replaceStrings ["{data_dir}"] [cfg.dataDir] cfg.settings.scan_path;
  keysCommand = "ssh/atproto-tangled-knot-keys";
  gitconfig = pkgs.writeText "tangled-knot-gitconfig" ''
    [user]
    	name = ${cfg.settings.git_user_name}
    	email = ${cfg.settings.git_user_email}
    [receive]
    	advertisePushOptions = true
    [uploadpack]
    	allowFilter = true
  '';
in {
  options.services.atproto.tangled-knot.ssh.enable = lib.mkOption {
    type = lib.types.bool;
    default = true;
    description = "Let people push over SSH as the service's user: enables sshd and has it ask `knot keys` for that user's keys.";
  };

  config = lib.mkIf cfg.enable (lib.mkMerge [
    {
      services.atproto.tangled-knot = {
        user = lib.mkDefault gitUser;
        group = lib.mkDefault gitUser;
      };
      environment.systemPackages = [pkgs.git cfg.package];
      # sshd and git read ~/.gitconfig of the git user; the unit's HOME is the same directory.
      systemd.tmpfiles.rules = ["L+ ${cfg.dataDir}/.gitconfig - - - - ${gitconfig}"];
    }
    (lib.mkIf (cfg.user == gitUser) {
      users.users.${gitUser} = {
        isSystemUser = true;
        group = cfg.group;
        home = cfg.dataDir;
        # sshd runs the forced command through the login shell.
        useDefaultShell = true;
      };
    })
    (lib.mkIf (cfg.group == gitUser) {users.groups.${gitUser} = {};})
    (lib.mkIf cfg.ssh.enable {
      services.openssh = {
        enable = true;
        extraConfig = ''
          Match User ${cfg.user}
            AuthorizedKeysCommand /etc/${keysCommand}
            AuthorizedKeysCommandUser nobody
        '';
      };
      environment.etc.${keysCommand} = {
        mode = "0555";
        text = ''
          #!${pkgs.runtimeShell}
          exec ${cfg.package}/bin/knot keys -output authorized-keys \
            -internal-api http://127.0.0.1:${toString cfg.ports.internal} \
            -git-dir ${lib.escapeShellArg scanPath} \
            -log-path ${lib.escapeShellArg "${cfg.dataDir}/guard.log"}
        '';
      };
    })
  ]);
}
