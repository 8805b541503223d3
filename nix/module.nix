# NixOS module: services.vhotplug, with the option names of the original
# vhotplug's module (enable, package, config, attachConnected, debug) and
# the API options ghaf sets, written into general.api of the config.
{
  config,
  lib,
  pkgs,
  ...
}:

let
  cfg = config.services.vhotplug;
  inherit (lib) mkEnableOption mkIf mkOption optional types;

  # The API is the original's; general.api is checked and kept, not served yet.
  apiConfig = lib.optionalAttrs cfg.api.enable {
    general.api = {
      enable = true;
      inherit (cfg.api) port transports;
    }
    // lib.optionalAttrs (cfg.api.allowedCids != [ ]) { inherit (cfg.api) allowedCids; }
    // lib.optionalAttrs (cfg.api.unixSocketUser != null) { inherit (cfg.api) unixSocketUser; };
  };

  configFile =
    if cfg.configFile != null then
      cfg.configFile
    else
      pkgs.writeText "vhotplug.json" (builtins.toJSON (lib.recursiveUpdate cfg.config apiConfig));

  statd = "${cfg.package}/sbin/vhotplug-statd";
in
{
  options.services.vhotplug = {
    enable = mkEnableOption "vhotplug, which hot-plugs host devices into QEMU and crosvm VMs";

    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ./package.nix { };
      defaultText = lib.literalExpression "pkgs.callPackage ./nix/package.nix { }";
      description = "The vhotplug package.";
    };

    config = mkOption {
      type = types.attrs;
      default = {
        usbPassthrough = [ ];
        pciPassthrough = [ ];
        vms = [ ];
      };
      description = ''
        The configuration (see vhotplug.json(5)) as a Nix attribute set,
        written to /etc/vhotplug/vhotplug.json, where vhotplug-helper (run by
        udev), vhotplug-statd and vhotplugctl all read it.
      '';
      example = lib.literalExpression ''
        {
          usbPassthrough = [
            {
              description = "Mice to vm1";
              targetVm = "vm1";
              allow = [ { interfaceClass = 3; interfaceProtocol = 2; } ];
            }
          ];
          vms = [ { name = "vm1"; type = "qemu"; socket = "/run/vms/vm1.qmp"; } ];
        }
      '';
    };

    configFile = mkOption {
      type = types.nullOr types.path;
      default = null;
      description = "A JSON file to use instead of `config` (then the api options are not merged in).";
    };

    attachConnected = mkOption {
      type = types.bool;
      default = true;
      description = ''
        At start, queue the devices already plugged in that a rule takes
        (vhotplug-statd --attach-connected, the original's -a, which ghaf
        always passes).
      '';
    };

    debug = mkOption {
      type = types.bool;
      default = false;
      description = "Log debug messages (vhotplug-statd --debug).";
    };

    api = {
      enable = mkEnableOption "the API server of general.api (checked and kept; not served yet)";
      port = mkOption {
        type = types.port;
        default = 2000;
        description = "TCP or vsock port of the API.";
      };
      transports = mkOption {
        type = types.listOf (types.enum [ "tcp" "vsock" "unix" ]);
        default = [ "vsock" ];
        description = "Transports the API listens on.";
      };
      allowedCids = mkOption {
        type = types.listOf types.ints.unsigned;
        default = [ ];
        description = "vsock peers allowed to use the API; empty: any.";
      };
      unixSocketUser = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "Owner of the API's unix socket.";
      };
    };
  };

  config = mkIf cfg.enable {
    environment.systemPackages = [ cfg.package ];
    environment.etc."vhotplug/vhotplug.json".source = configFile;

    # 90-vhotplug.rules, which runs the helper from the store.
    services.udev.packages = [ cfg.package ];

    # vhotplug-statd.service and vhotplug-reconcile@.service as installed;
    # NixOS ignores [Install], and the command line carries the options.
    systemd.packages = [ cfg.package ];
    systemd.services.vhotplug-statd = {
      wantedBy = [ "multi-user.target" ];
      # A new config is reloaded (SIGHUP), not restarted: work in flight goes on.
      reloadTriggers = [ configFile ];
      serviceConfig.ExecStart = [
        ""
        (lib.concatStringsSep " " (
          [ statd ] ++ optional cfg.attachConnected "--attach-connected" ++ optional cfg.debug "--debug"
        ))
      ];
    };
  };
}
