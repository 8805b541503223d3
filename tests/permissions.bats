#!/usr/bin/env bats
# Only root touches the database, the spool and the wake socket: files are
# made private by the programs themselves (umask 077), whatever umask they
# inherit, and an unprivileged user can neither read the database, hold its
# locks, nor poke statd.

load common
load qemu

setup() {
	qemu_setup
	make_config "$CONFIG"
	# A world-traversable place, as /var/lib and /run are (bats' own is 0700).
	TOP=$(mktemp -d /tmp/vhotplug-perm.XXXXXX)
	chmod 755 "$TOP"
	DB=$TOP/lib/vhotplug.db
	RUN=$TOP/run
}

teardown() {
	qemu_teardown
	rm -rf "$TOP"
	[ -z "${TEST_USER:-}" ] || userdel "$TEST_USER" 2>/dev/null || true
}

# as_user CMD...: CMD as an unprivileged user made for this test.
as_user() {
	setpriv --reuid="$TEST_USER" --regid="$TEST_USER" --clear-groups -- "$@"
}

make_user() {
	[ "$(id -u)" = 0 ] || skip "needs root to create a user"
	command -v useradd >/dev/null && command -v setpriv >/dev/null || skip "no useradd or setpriv"
	TEST_USER=vhp$$
	useradd --no-create-home --shell /bin/false "$TEST_USER" 2>/dev/null || skip "useradd failed"
}

@test "statd and the helper make their files private under an open umask" {
	umask 000
	statd_start
	plug mouse
	umask 022
	assert_equal "$(stat -c %a "$TOP/lib" "$RUN" "$RUN/spool" "$RUN/statd.sock")" $'700\n700\n700\n600'
	local f
	for f in "$DB" "$DB-wal" "$DB-shm"; do
		[ -e "$f" ] || continue
		assert_equal "$(stat -c %a "$f")" 600
	done
	assert_equal "$(stat -c %a "$DB.lock")" 600

	# A database made by an older version, or by hand, is made private by statd.
	statd_stop
	chmod 644 "$DB" "$DB-wal" "$DB-shm" 2>/dev/null || chmod 644 "$DB"
	chmod 755 "$RUN"
	statd_start
	for f in "$DB" "$DB-wal" "$DB-shm"; do
		[ -e "$f" ] || continue
		assert_equal "$(stat -c %a "$f")" 600
	done
	assert_equal "$(stat -c %a "$RUN")" 700
}

@test "an unprivileged user can neither read the database, hold its locks, nor poke statd" {
	make_user
	statd_start
	plug mouse
	# Suppose the directories were opened up by hand: the files still refuse.
	chmod 755 "$TOP/lib" "$RUN"

	run as_user sqlite3 "$DB" 'SELECT count(*) FROM history'
	assert_failure
	# The WAL write lock is a byte-range lock on -shm: it needs -shm open.
	run as_user python3 -c 'import sys; open(sys.argv[1], "rb")' "$DB-shm"
	assert_failure
	assert_output --partial 'Permission denied'
	run as_user python3 -c 'import socket, sys
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"intent", sys.argv[1])' "$RUN/statd.sock"
	assert_failure
	assert_output --partial 'Permission denied'
	# Nor hold statd's own lock, which would keep the next statd from starting.
	run as_user flock -n "$DB.lock" true
	assert_failure
	# Nor write to the spool.
	run as_user touch "$RUN/spool/00000000000000000001-0-0"
	assert_failure
	alive "$STATD_PID"
}
