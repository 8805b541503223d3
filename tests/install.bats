#!/usr/bin/env bats
# `make install DESTDIR=...` puts every file where the others expect it: above all,
# the rules file's RUN path is where the helper is installed.

load common

# make_var NAME: the value of a make variable of the build tree, expanded.
make_var() {
	make -s --no-print-directory -C "$top_builddir" --eval='print-var-%: ; @echo $($*)' \
		"print-var-$1"
}

setup_file() {
	export INST=$BATS_FILE_TMPDIR/inst
	make -s --no-print-directory -C "$top_builddir" install DESTDIR="$INST" >"$BATS_FILE_TMPDIR/make.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/make.log" >&3; return 1; }
}

@test "install: the rules file goes to udevdir/rules.d and runs the installed helper" {
	local rules helper
	rules=$INST$(make_var udevdir)/rules.d/90-vhotplug.rules
	helper=$(make_var pkglibexecdir)/vhotplug-helper
	[ -f "$rules" ] || fail "no $rules"
	[ -x "$INST$helper" ] || fail "no helper at $INST$helper"
	run grep -o 'RUN+="[^"]*"' "$rules"
	assert_equal "${#lines[@]}" 3
	local l
	for l in "${lines[@]}"; do
		assert_equal "$l" "RUN+=\"$helper\""
	done
	run grep -c "$INST" "$rules"
	assert_output 0
}

@test "install: statd in sbindir, vhotplugctl in bindir, schema.sql in pkgdatadir" {
	[ -x "$INST$(make_var sbindir)/vhotplug-statd" ]
	[ -x "$INST$(make_var bindir)/vhotplugctl" ]
	[ -x "$INST$(make_var bindir)/vhotplugcli" ]
	cmp "$INST$(make_var pkgdatadir)/schema.sql" "$top_srcdir/sql/schema.sql"
}

@test "install: the helper lives in pkglibexecdir, not on PATH" {
	local helper
	helper=$(make_var pkglibexecdir)/vhotplug-helper
	[ ! -e "$INST$(make_var bindir)/vhotplug-helper" ]
	[ ! -e "$INST$(make_var sbindir)/vhotplug-helper" ]
	run "$INST$helper" --help
	assert_success
	assert_output --partial 'Run by udev'
}

# unit_root: a root for `systemd-analyze verify --root`: the installed tree,
# plus the host's units every service is ordered against (sysinit.target...)
# and the host's programs the units name outside vhotplug (/bin/kill). So
# verify looks for statd and vhotplugctl where the units say, inside INST.
unit_root() {
	local root=$BATS_FILE_TMPDIR/root
	if [ ! -d "$root" ]; then
		cp -a "$INST" "$root"
		mkdir -p "$root/usr/lib/systemd" "$root/bin"
		cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
		cp /bin/kill "$root/bin/"
	fi
	echo "$root"
}

@test "install: the units run the installed statd and vhotplugctl" {
	local unitdir
	unitdir=$INST$(make_var systemdsystemunitdir)
	run grep -h '^ExecStart' "$unitdir/vhotplug-statd.service" "$unitdir/vhotplug-reconcile@.service"
	assert_equal "${#lines[@]}" 3
	assert_line --index 0 "ExecStartPre=$(make_var sbindir)/vhotplug-statd --check-config"
	assert_line --index 1 "ExecStart=$(make_var sbindir)/vhotplug-statd --attach-connected"
	assert_line --index 2 "ExecStart=$(make_var bindir)/vhotplugctl reconcile --timeout 120 %i"
	run grep -h '@[a-z]*@' "$unitdir/vhotplug-statd.service" "$unitdir/vhotplug-reconcile@.service"
	assert_failure 1
	refute_output
}

@test "install: systemd-analyze verify accepts the installed units" {
	local root unitdir u
	[ -x /usr/bin/systemd-analyze ] || fail "systemd-analyze is needed (apt-get install systemd)"
	root=$(unit_root)
	unitdir=$(make_var systemdsystemunitdir)
	# The unit directory is not one systemd searches when it is below a
	# prefix (distcheck's); the trailing : keeps the usual ones. The man
	# pages are looked up where this install put them (man -M).
	for u in vhotplug-statd.service vhotplug-reconcile@.service; do
		MANPATH="$INST$(make_var mandir):" SYSTEMD_UNIT_PATH="$unitdir:" \
			run /usr/bin/systemd-analyze verify --root="$root" "$unitdir/$u"
		assert_success
		refute_output
	done
}

@test "install: the config's and the database's directories are made" {
	local confdir statedir
	confdir=$(make_var sysconfdir)/vhotplug
	statedir=$(make_var localstatedir)/lib/vhotplug
	[ -d "$INST$confdir" ] || fail "no $INST$confdir"
	[ -d "$INST$statedir" ] || fail "no $INST$statedir"
	# ... and they are where the installed statd looks by default.
	run "$INST$(make_var sbindir)/vhotplug-statd" --help
	assert_line --partial "(default $confdir/vhotplug.json)"
	assert_line --partial "(default $statedir/vhotplug.db)"
}

# For the reconfigure tests: a copy of the source (make distdir), configured
# with ARGS..., and lib/basics/paths.o made.
reconfigure_make() {
	local src=$BATS_FILE_TMPDIR/src
	if [ ! -d "$src" ]; then
		make -s --no-print-directory -C "$top_builddir" distdir distdir="$src" >/dev/null 2>&1 ||
			fail "make distdir failed"
	fi
	(cd "$src" && ./configure "$@" CFLAGS=-O0 >configure.log 2>&1) || fail "configure $* failed"
	make -s --no-print-directory -C "$src" lib/basics/paths.o >"$src/make.log" 2>&1 || fail "make lib/basics/paths.o failed"
	echo "$src/lib/basics/paths.o"
}

@test "reconfigure: another prefix rebuilds the objects that carry the default paths" {
	local obj
	obj=$(reconfigure_make --prefix=/opt/vhp-a)
	run grep -a -o -e '/opt/vhp-a/[a-z/]*/vhotplug\.[a-z]*' "$obj"
	assert_line /opt/vhp-a/etc/vhotplug/vhotplug.json
	assert_line /opt/vhp-a/var/lib/vhotplug/vhotplug.db
	obj=$(reconfigure_make --prefix=/usr --sysconfdir=/etc --localstatedir=/var)
	run grep -a -c /opt/vhp-a "$obj"
	assert_output 0
	run grep -a -o -e '/[a-z/]*/vhotplug\.[a-z]*' "$obj"
	assert_line /etc/vhotplug/vhotplug.json
	assert_line /var/lib/vhotplug/vhotplug.db
}

@test "reconfigure: --enable-sanitizers rebuilds the objects with the sanitizers" {
	local obj
	obj=$(reconfigure_make --prefix=/opt/vhp-a)
	run grep -a -c __asan "$obj"
	assert_output 0
	obj=$(reconfigure_make --prefix=/opt/vhp-a --enable-sanitizers)
	run grep -a -c __asan "$obj"
	refute_output 0
}

@test "install: man pages carry this build's paths; the example goes to docdir, not over a config" {
	local man5 man8
	man5=$INST$(make_var mandir)/man5
	man8=$INST$(make_var mandir)/man8
	[ -f "$man5/vhotplug.json.5" ] || fail "no $man5/vhotplug.json.5"
	[ -f "$INST$(make_var mandir)/man1/vhotplugcli.1" ] || fail "no man1/vhotplugcli.1"
	for p in vhotplug-statd vhotplug-helper vhotplugctl; do
		[ -f "$man8/$p.8" ] || fail "no $man8/$p.8"
	done
	run grep -h '%[A-Z]*%' "$man5"/*.5 "$man8"/*.8
	assert_output ""
	run grep -c "$(make_var sysconfdir)/vhotplug/vhotplug.json" "$man8/vhotplug-statd.8"
	refute_output 0
	cmp "$INST$(make_var docdir)/examples/vhotplug.json" "$top_srcdir/examples/vhotplug.json"
	[ -d "$INST$(make_var sysconfdir)/vhotplug" ]
	[ ! -e "$INST$(make_var sysconfdir)/vhotplug/vhotplug.json" ]
}
