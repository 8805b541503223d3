# vhotplug built with nixpkgs: pkgs.callPackage ./nix/package.nix { src = ./.; }
{
  lib,
  stdenv,
  autoreconfHook,
  pkg-config,
  systemdLibs,
  sqlite,
  json-c,
  kmod,
  src ? ./..,
}:

stdenv.mkDerivation {
  pname = "vhotplug";
  version = "0.1.0";
  inherit src;

  nativeBuildInputs = [
    autoreconfHook
    pkg-config
  ];
  buildInputs = [
    systemdLibs
    sqlite
    json-c
    kmod
  ];

  # The programs keep /etc/vhotplug and /var/lib/vhotplug as their defaults;
  # the store gets only what is read-only.
  configureFlags = [
    "--sysconfdir=/etc"
    "--localstatedir=/var"
    "--with-udevdir=${placeholder "out"}/lib/udev"
    "--with-systemdsystemunitdir=${placeholder "out"}/lib/systemd/system"
  ];
  installFlags = [
    "sysconfdir=${placeholder "out"}/etc"
    "localstatedir=${placeholder "out"}/var"
  ];

  # libkmod is opened with dlopen() for driverPath rules: give it a store path.
  postFixup = ''
    patchelf --add-rpath ${lib.getLib kmod}/lib \
      $out/bin/vhotplugctl $out/sbin/vhotplug-statd $out/libexec/vhotplug/vhotplug-helper
  '';

  # The test-suite needs root, umockdev and QEMU, none of which a build sandbox has.
  doCheck = false;

  meta = {
    description = "Hot-plug host USB, PCI and input devices into QEMU and crosvm VMs";
    license = lib.licenses.asl20;
    platforms = lib.platforms.linux;
    mainProgram = "vhotplugctl";
  };
}
