#!/bin/bash
# The Debian package, end to end, on Debian 12 as root: build it with
# dpkg-buildpackage from a clean clone of HEAD (uncommitted changes are not
# in it), lint it, install it on this machine, check that every file is
# where Debian wants it and works (units verify, man pages render, the
# shipped configs pass --check-config), remove it, purge it, and check what
# is left. Installs its own build dependencies with apt-get. Exit 0 when
# all of that holds. The package is purged at the end whatever happens.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
pkg=vhotplug
work=$(mktemp -d /tmp/vhotplug-package.XXXXXX)
installed=0

cleanup() {
	if [ "$installed" = 1 ]; then
		dpkg --purge "$pkg" >/dev/null 2>&1 || echo "package.sh: could not purge $pkg" >&2
	fi
	rm -rf "$work"
}
trap cleanup EXIT

step() { echo "+ $*"; }
fail() {
	echo "package.sh: FAIL: $*" >&2
	exit 1
}
# must_exist PATH...: each is a file (or symlink) on this machine.
must_exist() {
	for f; do [ -f "$f" ] || fail "$f is not installed"; done
}

[ "$(id -u)" = 0 ] || fail "run as root: it installs packages"
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8

# --- a clean clone, and what building it needs ---
git -C "$top" diff --quiet HEAD -- 2>/dev/null ||
	echo "package.sh: note: uncommitted changes in $top are not in the package"
head=$(git -C "$top" rev-parse HEAD)
step "git clone $top ($head)"
git clone -q "$top" "$work/src"
git -C "$work/src" checkout -q "$head"

apt_install() {
	apt-get install -y --no-install-recommends "$@" >>"$work/apt.log" 2>&1 ||
		{ apt-get update >>"$work/apt.log" 2>&1 && apt-get install -y --no-install-recommends "$@" >>"$work/apt.log" 2>&1; } ||
		{ tail -n 30 "$work/apt.log"; fail "apt-get install $*"; }
}
step "apt-get install the tools and build-dep ./"
apt_install build-essential dpkg-dev debhelper fakeroot lintian man-db groff-base systemd
apt-get build-dep -y "$work/src" >>"$work/apt.log" 2>&1 || { tail -n 30 "$work/apt.log"; fail "apt-get build-dep"; }

# --- build and lint ---
step "dpkg-buildpackage -us -uc -b"
(cd "$work/src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 ||
	{ tail -n 60 "$work/build.log"; fail "dpkg-buildpackage"; }
grep -E '^(PASS|FAIL|SKIP|ERROR|# )' "$work/build.log" | tail -n 12 || true
deb=$(ls "$work"/${pkg}_*.deb)
changes=$(ls "$work"/${pkg}_*.changes)

step "lintian --fail-on error"
lintian --fail-on error --info "$changes" || fail "lintian reports errors"

# --- install ---
step "apt-get install $deb"
installed=1
# Slim images exclude man pages and docs from every package: not from this one.
apt-get install -y -o Dpkg::Options::=--path-include='/usr/share/man/*' \
	-o Dpkg::Options::="--path-include=/usr/share/doc/$pkg/*" "$deb" >>"$work/apt.log" 2>&1 ||
	{ tail -n 30 "$work/apt.log"; fail "installing $deb"; }

step "files are where Debian 12 wants them"
must_exist /usr/sbin/vhotplug-statd /usr/bin/vhotplugctl /usr/libexec/vhotplug/vhotplug-helper \
	/usr/lib/udev/rules.d/90-vhotplug.rules \
	/lib/systemd/system/vhotplug-statd.service /lib/systemd/system/vhotplug-reconcile@.service \
	/usr/share/man/man8/vhotplug-statd.8.gz /usr/share/man/man8/vhotplug-helper.8.gz \
	/usr/share/man/man8/vhotplugctl.8.gz /usr/share/man/man5/vhotplug.json.5.gz \
	/etc/vhotplug/vhotplug.json /usr/share/doc/$pkg/examples/vhotplug.json \
	/usr/bin/vhotplugcli /usr/share/man/man1/vhotplugcli.1.gz \
	/usr/share/vhotplug/schema.sql /usr/share/doc/$pkg/copyright
grep -q 'RUN+="/usr/libexec/vhotplug/vhotplug-helper"' /usr/lib/udev/rules.d/90-vhotplug.rules ||
	fail "the udev rules do not run /usr/libexec/vhotplug/vhotplug-helper"
dpkg-query -W -f='${Conffiles}\n' "$pkg" | grep -q '^ /etc/vhotplug/vhotplug.json ' ||
	fail "/etc/vhotplug/vhotplug.json is not a conffile"
dpkg-query -W -f='${Depends}\n' "$pkg" | grep -q 'libkmod2' ||
	fail "no Depends on libkmod2 (it is dlopen()ed, so shlibs cannot see it)"

step "systemd-analyze verify (as installed)"
# A template is verified through an instance of it.
cp /lib/systemd/system/vhotplug-reconcile@.service "$work/vhotplug-reconcile@vm1.service"
for u in /lib/systemd/system/vhotplug-statd.service "$work/vhotplug-reconcile@vm1.service"; do
	out=$(systemd-analyze verify "$u" 2>&1) || { echo "$out"; fail "systemd-analyze verify $u"; }
	out=$(echo "$out" | grep -F "${u##*/}" || true)
	[ -z "$out" ] || { echo "$out"; fail "systemd-analyze verify warns about ${u##*/}"; }
done
grep -q '^ExecStart=/usr/sbin/vhotplug-statd ' /lib/systemd/system/vhotplug-statd.service ||
	fail "vhotplug-statd.service does not run /usr/sbin/vhotplug-statd"

step "vhotplugctl --help, man vhotplugctl, man -l on every page"
vhotplugctl --help | grep -q '^  reconcile ' || fail "vhotplugctl --help does not list reconcile"
man -P cat vhotplugctl 2>/dev/null | grep -q '^NAME' || fail "man vhotplugctl shows nothing"
for page in /usr/share/man/man8/vhotplug-statd.8.gz /usr/share/man/man8/vhotplug-helper.8.gz \
	/usr/share/man/man8/vhotplugctl.8.gz /usr/share/man/man5/vhotplug.json.5.gz; do
	out=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
	[ -z "$out" ] || { echo "$out"; fail "man -l warns on $page"; }
	lexgrog "$page" >/dev/null || fail "lexgrog cannot parse $page"
done

step "the shipped configs pass --check-config"
vhotplug-statd --check-config || fail "the shipped /etc/vhotplug/vhotplug.json"
vhotplug-statd --check-config -c /usr/share/doc/$pkg/examples/vhotplug.json || fail "the example config"

# --- remove and purge ---
# The package's own data, as statd would leave it.
mkdir -p /var/lib/vhotplug /run/vhotplug/spool
: >/var/lib/vhotplug/vhotplug.db
files=$(dpkg-query -L "$pkg")
step "dpkg -r $pkg"
dpkg -r "$pkg" >/dev/null
[ ! -e /usr/sbin/vhotplug-statd ] || fail "dpkg -r left /usr/sbin/vhotplug-statd"
[ -f /etc/vhotplug/vhotplug.json ] || fail "dpkg -r removed the conffile (only purge may)"
[ -f /var/lib/vhotplug/vhotplug.db ] || fail "dpkg -r removed the database (only purge may)"

step "dpkg --purge $pkg"
dpkg --purge "$pkg" >/dev/null
installed=0
status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
case $status in
"" | *" not-installed") ;;
*) fail "dpkg still has $pkg: $status" ;;
esac
left=
while read -r f; do
	if [ -d "$f" ]; then
		continue	# shared directories (/usr/bin, ...) stay
	elif [ -e "$f" ] || [ -L "$f" ]; then
		left="$left $f"
	fi
done <<<"$files"
for d in /etc/vhotplug /var/lib/vhotplug /run/vhotplug /usr/libexec/vhotplug /usr/share/vhotplug \
	/usr/share/doc/$pkg; do
	if [ -e "$d" ]; then
		left="$left $d"
	fi
done
[ -z "$left" ] || fail "left behind after purge:$left"
echo "package.sh: ok: built, lintian-clean of errors, installed, verified, removed and purged"
