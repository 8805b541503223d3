#!/bin/sh
# Rejects a bare `! cmd` in the bats files and their helpers. bash's set -e,
# and so bats, ignores the status of a command negated with `!`: such a line
# never fails a test. Use `run ! cmd`, `refute cmd` or `wait_until ...`.
# A `! cmd || other` stays allowed: `other` fails the test.
#
# lint-bats.sh [FILE...]: lint FILE..., or (no FILE) check the lint itself
# on the samples below, then lint tests/*.bats and tests/*.bash.

: "${top_srcdir:=$(dirname "$0")/..}"

# Prints FILE:LINE: TEXT for each bare `!` and exits 1 when there is one.
# Comments and here-documents (the Python and SQL in the tests) are skipped.
lint() {
	awk '
	FNR == 1 { doc = "" }
	doc != "" {
		line = $0
		if (strip) sub(/^\t+/, "", line)
		if (line == doc) doc = ""
		next
	}
	/^[ \t]*#/ { next }
	{
		# A here-document, not a here-string (<<<word).
		if (match($0, /(^|[^<])<<-?[ \t]*["\047]?[A-Za-z_]+["\047]?/)) {
			doc = substr($0, RSTART, RLENGTH)
			sub(/^[^<]/, "", doc)
			strip = doc ~ /^<<-/
			sub(/^<<-?[ \t]*/, "", doc)
			gsub(/["\047]/, "", doc)
		}
		# A command starts at the line start, or after ; && || { ( then do else.
		if ($0 ~ /(^|;|&&|\|\||[{(]|[ \t](then|do|else))[ \t]*![ \t]/) {
			rest = $0
			sub(/.*![ \t]/, "", rest)
			if (rest !~ /\|\|/) {
				print FILENAME ":" FNR ": " $0
				bad = 1
			}
		}
	}
	END { exit bad }
	' "$@"
}

if [ $# -gt 0 ]; then
	lint "$@"
	exit
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# The lint itself: each line of bad.bats must be found, none of good.bats.
cat >"$tmp/bad.bats" <<'EOF'
	grep -q x <<<word && ! in_vm "$VM1" mouse
	! in_vm "$VM1" mouse
	wait_until has_event mouse attached; ! statd_log_has 'killing it'
	plug mouse && ! in_vm "$VM1" mouse
	if true; then ! alive "$pid"; fi
EOF
cat >"$tmp/good.bats" <<'EOF'
	run ! in_vm "$VM1" mouse
	refute in_vm "$VM1" mouse
	if ! alive "$pid"; then fail "gone"; fi
	while ! test -e "$DIR/locked"; do sleep 0.02; done
	[ ! -e "$DIR/failed" ] || fail "helpers failed"
	! grep -q 'NOT recorded' "$DIR/helper.log" || fail "events lost"
	# ! a comment
	"$PYTHON" - <<-'PY'
		! not shell
	PY
	[[ ! -s "$LOG" ]]
	run test "$a" != "$b"
	grep -c x <<<"$out"
EOF
n=$(lint "$tmp/bad.bats" | wc -l)
if [ "$n" -ne "$(wc -l <"$tmp/bad.bats")" ]; then
	echo "lint-bats: found $n of the $(wc -l <"$tmp/bad.bats") bare \`!\` in its own sample:" >&2
	lint "$tmp/bad.bats" >&2
	exit 1
fi
if ! lint "$tmp/good.bats" >&2; then
	echo "lint-bats: the lines above of its own sample are fine" >&2
	exit 1
fi

if ! lint "$top_srcdir"/tests/*.bats "$top_srcdir"/tests/*.bash; then
	echo "lint-bats: a bare \`! cmd\` never fails a test; use \`run ! cmd\` or \`refute cmd\`" >&2
	exit 1
fi
