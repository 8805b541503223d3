#!/usr/bin/env bats
# statd's "<N>" priority prefixes: only when stderr is the journal's stream
# ($JOURNAL_STREAM names its device and inode, systemd's rule), on every line
# of a multi-line message; plain "vhotplug-statd: " lines anywhere else.

load common

setup() {
	LOG=$BATS_TEST_TMPDIR/stderr
	: >"$LOG"
}

# statd_bad_config [JOURNAL_STREAM]: statd with a config of several errors, stderr to $LOG.
statd_bad_config() {
	local rc=0
	# Not `run`: it would send stderr to its output, not to $LOG.
	env ${1:+JOURNAL_STREAM=$1} "$STATD" -c "$CONFIGS/bad-many.json" \
		--db "$BATS_TEST_TMPDIR/db" --run-dir "$BATS_TEST_TMPDIR/run" 2>"$LOG" || rc=$?
	[ "$rc" -eq 1 ] || fail "statd exited $rc"
	mapfile -t lines <"$LOG"
	[ "${#lines[@]}" -ge 3 ] || fail "expected several lines: $(cat "$LOG")"
}

@test "messages: a config error's every line carries priority <3> when stderr is the journal" {
	statd_bad_config "$(stat -c '%d:%i' "$LOG")"
	local line
	for line in "${lines[@]}"; do
		[[ $line == "<3>"* ]] || fail "line without <3>: $line"
	done
	grep -q '^<3>.*bad-many.json: usbPassthrough\[0\].targetVm: no VM named "vm9"' "$LOG"
}

@test "messages: plain lines when JOURNAL_STREAM names another file" {
	statd_bad_config "$(stat -c '%d:%i' "$CONFIGS/bad-many.json")"
	local line
	for line in "${lines[@]}"; do
		[[ $line == "vhotplug-statd: "* ]] || fail "not a plain line: $line"
	done
}

@test "messages: plain lines without JOURNAL_STREAM" {
	statd_bad_config ""
	local line
	for line in "${lines[@]}"; do
		[[ $line == "vhotplug-statd: "* ]] || fail "not a plain line: $line"
	done
}
