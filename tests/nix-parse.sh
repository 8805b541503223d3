#!/bin/sh
# The flake and the NixOS module are valid Nix (parsed only: building them
# needs nixpkgs, which is not here without a network).
set -u
: "${top_srcdir:=.}"
command -v nix-instantiate >/dev/null 2>&1 || { echo "SKIP: no nix-instantiate (apt-get install nix-bin)"; exit 77; }
# A private state directory: Debian's nix-bin wants to write /nix/var even to parse.
state=$(mktemp -d) || exit 99
trap 'rm -rf "$state"' EXIT
export NIX_STATE_DIR=$state NIX_CONFIG='build-users-group ='
rc=0
for f in flake.nix nix/module.nix nix/package.nix; do
	if nix-instantiate --readonly-mode --parse "$top_srcdir/$f" >/dev/null; then
		echo "ok: $f"
	else
		echo "FAIL: $f"
		rc=1
	fi
done
exit "$rc"
