{
  description = "vhotplug: hot-plug host USB, PCI and input devices into QEMU and crosvm VMs";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: rec {
        vhotplug = pkgs.callPackage ./nix/package.nix { src = self; };
        default = vhotplug;
      });

      # services.vhotplug, with this flake's package as its default.
      nixosModules.vhotplug =
        { lib, pkgs, ... }:
        {
          imports = [ ./nix/module.nix ];
          services.vhotplug.package = lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.default;
        };
      nixosModules.default = self.nixosModules.vhotplug;

      overlays.default = final: prev: {
        vhotplug = final.callPackage ./nix/package.nix { src = self; };
      };
    };
}
