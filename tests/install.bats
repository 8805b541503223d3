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

@test "install: man pages carry this build's paths; the example goes to docdir, not over a config" {
	local man5 man8
	man5=$INST$(make_var mandir)/man5
	man8=$INST$(make_var mandir)/man8
	[ -f "$man5/vhotplug.json.5" ] || fail "no $man5/vhotplug.json.5"
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
