#!/usr/bin/env bats
# vhotplug-statd's JSON API server (statd/api/): its sockets, the line
# framing, the bounds on each client, as a client meets them through
# tests/api-client. The expected texts are the original's (apiserver.py, its
# replies written by json.dumps), not our own output.

load common
load qemu

API_CLIENT=$top_srcdir/tests/api-client

setup_file() {
	python_resolve
}

setup() {
	qemu_setup
	SOCK=$DIR/api.sock
}

teardown() {
	qemu_teardown
	[ -z "${OPEN_DIR:-}" ] || rm -rf "$OPEN_DIR"
}

# api_config [API-MEMBERS]: one VM, and general.api with the unix socket
# $SOCK and these members (JSON, after a comma).
api_config() {
	cat >"$CONFIG" <<-EOF
	{
	  "vms": [ { "name": "vm1", "type": "qemu", "socket": "$DIR/vm1.sock" } ],
	  "general": { "api": { "transports": ["unix"], "unixSocket": "$SOCK"${1:+, $1} } }
	}
	EOF
}

api() {
	"$PYTHON" -S "$API_CLIENT" -u "$SOCK" "$@"
}

# A tcp port nobody listens on now.
free_port() {
	"$PYTHON" -S -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- requests and replies ------------------------------------------------------

@test "unix: a request without an action gets the original's error, byte for byte" {
	api_config
	statd_start
	run api '{}'
	assert_success
	assert_output '{"result": "failed", "error": "No action specified"}'
}

@test "unix: an unknown action gets the original's error, byte for byte" {
	api_config
	statd_start
	run api '{"action": "foo"}'
	assert_success
	assert_output '{"result": "failed", "error": "Unknown message: foo"}'
}

@test "a reply escapes non-ASCII as json.dumps does, and leaves / alone" {
	api_config
	statd_start
	run api '{"action": "caf\u00e9/\ud83d\ude00"}'
	assert_success
	assert_output '{"result": "failed", "error": "Unknown message: caf\u00e9/\ud83d\ude00"}'
}

@test "two requests in one write are answered in order" {
	api_config
	statd_start
	run api '{"action": "first"}' '{"action": "second"}'
	assert_success
	assert_equal "${lines[0]}" '{"result": "failed", "error": "Unknown message: first"}'
	assert_equal "${lines[1]}" '{"result": "failed", "error": "Unknown message: second"}'
	assert_equal "${#lines[@]}" 2
}

@test "a line may end in \\r\\n, and empty lines are ignored" {
	api_config
	statd_start
	run api --raw --replies 2 $'{"action": "a"}\r\n\n\r\n{"action": "b"}\r\n'
	assert_success
	assert_equal "${lines[0]}" '{"result": "failed", "error": "Unknown message: a"}'
	assert_equal "${lines[1]}" '{"result": "failed", "error": "Unknown message: b"}'
	assert_equal "${#lines[@]}" 2
}

@test "a line that is not JSON gets no reply, is logged, and the connection goes on" {
	api_config
	statd_start
	# Replies come in request order: a reply to the bad line would come first.
	run api 'not json {' '{"action": "after"}' --replies 1
	assert_success
	assert_output '{"result": "failed", "error": "Unknown message: after"}'
	statd_log_has 'a line of 10 bytes that is not JSON: ignored'
}

@test "enable_notifications is answered ok" {
	api_config
	statd_start
	run api '{"action": "enable_notifications"}'
	assert_success
	assert_output '{"result": "ok"}'
}

@test "a client that shuts its sending side down still gets its replies" {
	api_config
	statd_start
	run "$PYTHON" -S -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
s.sendall(b"{\"action\": \"x\"}\n"); s.shutdown(socket.SHUT_WR)
data = b""
while True:
    d = s.recv(4096)
    if not d: break
    data += d
sys.stdout.write(data.decode())' "$SOCK"
	assert_success
	assert_output '{"result": "failed", "error": "Unknown message: x"}'
}

# ---- transports ------------------------------------------------------------------

@test "tcp on loopback: a request is answered, without a warning" {
	local port
	port=$(free_port)
	api_config "\"transports\": [\"tcp\"], \"port\": $port"
	statd_start
	run "$PYTHON" -S "$API_CLIENT" -t "127.0.0.1:$port" '{"action": "foo"}'
	assert_success
	assert_output '{"result": "failed", "error": "Unknown message: foo"}'
	statd_log_has "api: listening on tcp 127.0.0.1:$port"
	run ! statd_log_has 'is not a loopback address'
	[ ! -e "$SOCK" ]
}

@test "tcp on another address is warned about" {
	local port
	port=$(free_port)
	api_config "\"transports\": [\"tcp\"], \"host\": \"0.0.0.0\", \"port\": $port"
	statd_start
	statd_log_has "api: tcp 0.0.0.0:$port is not a loopback address: whoever reaches it may use the API"
	run "$PYTHON" -S "$API_CLIENT" -t "127.0.0.1:$port" '{}'
	assert_output '{"result": "failed", "error": "No action specified"}'
}

@test "the unix socket's owner, group and mode come from the config" {
	local group
	group=$(id -gn nobody) || skip "no user nobody"
	api_config "\"unixSocketUser\": \"nobody\", \"unixSocketGroup\": \"$group\", \"unixSocketMode\": \"0660\""
	statd_start
	run stat -c '%U %G %a' "$SOCK"
	assert_output "nobody $group 660"
}

@test "without unixSocketMode the unix socket is root's alone" {
	api_config
	statd_start
	run stat -c '%U %a' "$SOCK"
	assert_output "root 700"
}

@test "the unix socket goes when statd exits, and an old one is replaced at start" {
	api_config
	"$PYTHON" -S -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$SOCK"
	statd_start
	run api '{}'
	assert_success
	statd_stop
	[ ! -e "$SOCK" ]
}

@test "a file that is not a socket at unixSocket is left alone, and statd runs without it" {
	api_config
	echo keep >"$SOCK"
	statd_start
	statd_log_has "api: $SOCK exists and is not a socket; the API goes without it"
	run cat "$SOCK"
	assert_output keep
}

@test "general.api with enable false opens no socket" {
	api_config '"enable": false'
	statd_start
	[ ! -e "$SOCK" ]
	run ! statd_log_has 'api: listening'
}

# ---- bounds ------------------------------------------------------------------------

@test "a 10 MiB line without a newline: that client is dropped, statd's memory stays bounded, another is answered" {
	api_config
	small_quarantine
	statd_start
	local before after
	before=$(rss_kb)
	api --big $((10 * 1024 * 1024)) >"$DIR/big.out" 2>&1 &
	local big=$!
	run api '{"action": "meanwhile"}'
	assert_output '{"result": "failed", "error": "Unknown message: meanwhile"}'
	wait "$big"
	run cat "$DIR/big.out"
	assert_output --regexp '^closed after [0-9]+ bytes$'
	wait_until statd_log_has 'sent a line longer than 64 KiB: dropped'
	after=$(rss_kb)
	# Holding the line would take 10 MiB (and ASan's shadow of it) more.
	[ $((after - before)) -lt 8192 ] || fail "statd grew from $before to $after kB"
}

@test "a client that sends 100,000 requests and never reads is dropped at the output bound; another is served" {
	api_config
	small_quarantine
	statd_start
	local before after
	before=$(rss_kb)
	api --timeout 60 --flood 100000 '{"action": "flood"}' >"$DIR/flood.out" 2>&1 &
	local flood=$!
	run api '{"action": "meanwhile"}'
	assert_output '{"result": "failed", "error": "Unknown message: meanwhile"}'
	wait "$flood"
	run cat "$DIR/flood.out"
	assert_output --regexp '^closed after [0-9]+ bytes$'
	statd_log_has 'does not read what it is sent (over 1024 KiB waiting): dropped'
	after=$(rss_kb)
	[ $((after - before)) -lt 8192 ] || fail "statd grew from $before to $after kB"
}

# python3 and the client where another user can run them; sets OPEN_DIR, SOCK and NOBODY_PY.
as_nobody_setup() {
	NOBODY_PY=/usr/bin/python3
	[ -x "$NOBODY_PY" ] || skip "no $NOBODY_PY for another user to run"
	OPEN_DIR=$(mktemp -d /tmp/vhotplug-api.XXXXXX)
	chmod 755 "$OPEN_DIR"
	cp "$API_CLIENT" "$OPEN_DIR/api-client"
	SOCK=$OPEN_DIR/api.sock
}

@test "200 clients of one user at once: the excess are refused with a log line, another user is served" {
	as_nobody_setup
	api_config '"unixSocketMode": "0666"'
	small_quarantine
	statd_start
	local before after
	before=$(rss_kb)
	# 32 a user (API_CLIENTS_PER_PEER): 168 of the 200 are closed, the rest held open.
	setpriv --reuid=65534 --regid=65534 --clear-groups "$NOBODY_PY" -S "$OPEN_DIR/api-client" \
		-u "$SOCK" --open 200 --closed 168 --hold --timeout 20 >"$DIR/open.out" 2>&1 &
	echo $! >"$DIR/open.pid"
	wait_until grep -q '^open=200 closed=' "$DIR/open.out"
	run cat "$DIR/open.out"
	assert_output 'open=200 closed=168'
	# Logged, at most once a second: a client that connects without end does not flood the log.
	local logged
	logged=$(grep -c 'api unix uid=65534 pid=[0-9]*: refused, 32 clients from it already' "$STATD_LOG")
	[ "$logged" -ge 1 ] && [ "$logged" -lt 168 ] || fail "$logged refusals logged"
	run api '{"action": "meanwhile"}'
	assert_output '{"result": "failed", "error": "Unknown message: meanwhile"}'
	after=$(rss_kb)
	[ $((after - before)) -lt 8192 ] || fail "statd grew from $before to $after kB"
}

@test "more than 128 clients in all: the excess are refused with a log line" {
	as_nobody_setup
	api_config '"unixSocketMode": "0666"'
	statd_start
	local uid
	# Five users, 32 each (under the per-user bound): 160, 32 over API_CLIENTS_MAX.
	for uid in 60001 60002 60003 60004 60005; do
		setpriv --reuid=$uid --regid=$uid --clear-groups "$NOBODY_PY" -S "$OPEN_DIR/api-client" \
			-u "$SOCK" --open 32 --hold --timeout 20 >"$DIR/open-$uid.out" 2>&1 &
		echo $! >"$DIR/open-$uid.pid"
	done
	wait_until log_count_ge 128 ': connected'
	wait_until statd_log_has 'refused, 128 clients already'
	# The last ones refused, as they came: nobody accepted was dropped for them.
	[ "$(grep -c ': connected' "$STATD_LOG")" -eq 128 ]
	run ! statd_log_has 'clients from it already'
	# Closed unanswered: the bound holds for everyone.
	run --separate-stderr api '{}'
	assert_failure
	assert_output ''
}

# log_count_ge N TEXT: statd logged at least N lines containing TEXT.
log_count_ge() {
	[ "$(grep -cF -- "$2" "$STATD_LOG")" -ge "$1" ]
}

# ---- vsock ---------------------------------------------------------------------------

# Loopback vsock (CID 1) needs the vsock_loopback module; tested by a connect.
vsock_loopback() {
	"$PYTHON" -S -c '
import socket, sys
l = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
l.bind((socket.VMADDR_CID_ANY, socket.VMADDR_PORT_ANY)); l.listen()
c = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM); c.settimeout(2)
c.connect((1, l.getsockname()[1]))' 2>/dev/null
}

@test "vsock: a request from an allowed CID is answered" {
	vsock_loopback || skip "no loopback vsock in this kernel (module vsock_loopback)"
	local port
	port=$(free_port)
	api_config "\"transports\": [\"vsock\"], \"port\": $port, \"allowedCids\": [1]"
	statd_start
	run "$PYTHON" -S "$API_CLIENT" -v "1:$port" '{"action": "foo"}'
	assert_success
	assert_output '{"result": "failed", "error": "Unknown message: foo"}'
}

@test "vsock: a CID outside allowedCids is closed without a reply, with a log line" {
	vsock_loopback || skip "no loopback vsock in this kernel (module vsock_loopback)"
	local port
	port=$(free_port)
	api_config "\"transports\": [\"vsock\"], \"port\": $port, \"allowedCids\": [3]"
	statd_start
	run --separate-stderr "$PYTHON" -S "$API_CLIENT" -v "1:$port" '{"action": "foo"}'
	assert_failure
	assert_output ''
	statd_log_has 'api vsock cid=1: refused, not in general.api.allowedCids'
}
