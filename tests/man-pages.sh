#!/bin/sh
# The built man pages render without a single warning: groff -ww, man -l
# (man-db) and lexgrog, which mandb uses to index the NAME section.
set -u
: "${top_builddir:=.}"
command -v groff >/dev/null 2>&1 || { echo "SKIP: no groff"; exit 77; }
pages="man/vhotplug-statd.8 man/vhotplug-helper.8 man/vhotplugctl.8 man/vhotplug.json.5"
pages="$pages man/vhotplugcli.1"
rc=0
for p in $pages; do
	f=$top_builddir/$p
	[ -f "$f" ] || { echo "FAIL: $f not built"; rc=1; continue; }
	out=$(groff -ww -z -man "$f" 2>&1)
	[ -z "$out" ] || { echo "FAIL: groff -ww on $p:"; echo "$out"; rc=1; }
	if command -v man >/dev/null 2>&1; then
		# 80 columns, unless this build's paths (make distcheck's are
		# long) cannot fit in a line: a path is never broken.
		width=$(awk '{ for (i = 1; i <= NF; i++) if (length($i) > m) m = length($i) } END { print m + 30 }' "$f")
		[ "$width" -ge 80 ] || width=80
		out=$(MANWIDTH=$width man --warnings -l "$f" 2>&1 >/dev/null)
		[ -z "$out" ] || { echo "FAIL: man -l on $p:"; echo "$out"; rc=1; }
	fi
	if command -v lexgrog >/dev/null 2>&1; then
		lexgrog "$f" >/dev/null || { echo "FAIL: lexgrog cannot parse $p"; rc=1; }
	fi
	[ "$rc" -ne 0 ] || echo "ok: $p"
done
exit "$rc"
