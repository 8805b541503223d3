# End-to-end plumbing for the bats files that run real QEMUs and statd;
# sourced with `load qemu` after `load common`.
#
# Every process started here leaves its pid in $DIR/*.pid, and qemu_teardown
# ends each of them by that pid, so a failing test leaves nothing behind.
# Nothing here sleeps for a fixed time to let something happen: wait_until
# polls for the outcome, with a bound.

# python3 may be a slow wrapper (pyenv's shim): statd.bats's setup_file resolves it once.
PYTHON=${PYTHON:-python3}
QMP_QUERY=$top_srcdir/tests/qmp-query.py
QMP_PEER=$top_srcdir/tests/qmp-peer.py

# The recordings the tests plug, by short name: recording, DEVPATH, qdev id.
declare -gA DEV_RECORDING=([mouse]=usb-mouse [audio]=usb-audio [webcam]=usb-webcam)
declare -gA DEV_PATH=(
	[mouse]=/devices/pci0000:00/0000:00:14.0/usb1/1-3
	[audio]=/devices/pci0000:00/0000:00:14.0/usb1/1-2
	[webcam]=/devices/pci0000:00/0000:00:14.0/usb1/1-6
)
declare -gA DEV_QDEV=([mouse]=vhp-usb-046d-c077.1-3 [audio]=vhp-usb-0d8c-0014.1-2 [webcam]=vhp-usb-04f2-b604-0001)

# qemu_setup_two_vms: qemu_setup, with VM1 and VM2 the two VMs' sockets and
# the default config written.
qemu_setup_two_vms() {
	qemu_setup
	VM1=$DIR/vm1.sock
	VM2=$DIR/vm2.sock
	make_config "$CONFIG"
}

qemu_setup() {
	DIR=$BATS_TEST_TMPDIR
	DB=$DIR/vhotplug.db
	RUN=$DIR/run
	CONFIG=$DIR/config.json
	HELPER_CONFIG=$CONFIG	# the helper may read another file than statd
	STATD_LOG=$DIR/statd.log
	# statd sees the recordings' devices plugged in (its reconcile asks udev
	# what is present); the helper's events say when each was plugged.
	merge_recordings "$DIR/plugged.umockdev" usb-mouse usb-audio usb-webcam
	STATD_PREFIX=(umockdev-run --device "$DIR/plugged.umockdev" --)
	SEQ=0
	: >"$STATD_LOG"
}

qemu_teardown() {
	local f
	for f in "$DIR"/*.pid; do
		[ -e "$f" ] && stop_pid "$(cat "$f")"
		rm -f "$f"
	done
	# Shown by bats only when the test failed.
	echo "---- statd log"
	cat "$STATD_LOG" 2>/dev/null
	echo "---- device_history"
	[ -e "$DB" ] && sql "SELECT * FROM device_history" 2>&1
	echo "---- intents"
	[ -e "$DB" ] && sql "SELECT id, device_id, action, vm, state, attempts, result FROM intents" 2>&1
	true
}

# wait_until CMD...: run CMD every 20 ms until it succeeds; fail after ${WAIT_S:-10} s.
wait_until() {
	local i
	for ((i = 0; i < ${WAIT_S:-10} * 50; i++)); do
		"$@" && return 0
		sleep 0.02
	done
	echo "timed out waiting for: $*" >&2
	return 1
}

# True while PID runs; a zombie does not count.
alive() {
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# dead PID: PID has exited (for wait_until; a bare `! alive` never fails a test).
dead() {
	if alive "$1"; then return 1; fi
}

# stop_pid PID [SIGNAL]: signal PID and wait up to 10 s, then SIGKILL it.
stop_pid() {
	local pid=$1 i
	kill -"${2:-TERM}" "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 500; i++)); do
		alive "$pid" || break
		sleep 0.02
	done
	alive "$pid" && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	true
}

sql() {
	sqlite3 -cmd '.timeout 2000' "$DB" "$@"
}

# ---- config -----------------------------------------------------------------

# make_config FILE [VM1_BY [VM2_BY [QMP_TIMEOUT_MS]]]
# mouse and webcam go to vm1, audio to vm2; sockets $VM1_SOCK, $VM2_SOCK.
make_config() {
	cat >"$1" <<-EOF
	{
	  "usbPassthrough": [
	    { "targetVm": "vm1", "allow": [ { "vendorId": "046d", "productId": "c077" }, { "vendorId": "04f2" } ] },
	    { "targetVm": "vm2", "allow": [ { "vendorId": "0d8c" } ] }
	  ],
	  "vms": [
	    { "name": "vm1", "type": "qemu", "socket": "${VM1_SOCK:-$DIR/vm1.sock}", "usbAttachBy": "${2:-vidpid}" },
	    { "name": "vm2", "type": "qemu", "socket": "${VM2_SOCK:-$DIR/vm2.sock}", "usbAttachBy": "${3:-vidpid}" }
	  ],
	  "general": { "qmpTimeoutMs": ${4:-5000} }
	}
	EOF
}

# ---- QEMU -------------------------------------------------------------------

# qemu_start NAME [SOCKET]: a paused, diskless q35 with an xHCI controller,
# and the arguments of the array QEMU_EXTRA if set (more controllers).
qemu_start() {
	local name=$1 sock=${2:-$DIR/$1.sock}
	qemu-system-x86_64 -M q35 -nodefaults -display none -S -device qemu-xhci,id=xhci \
		${QEMU_EXTRA[@]+"${QEMU_EXTRA[@]}"} \
		-qmp "unix:$sock,server=on,wait=off" </dev/null >"$DIR/$name.qemu.log" 2>&1 3>&- &
	echo $! >"$DIR/qemu-$name.pid"
	wait_until test -S "$sock"
}

qemu_stop() {
	stop_pid "$(cat "$DIR/qemu-$1.pid")"
	rm -f "$DIR/qemu-$1.pid"
}

# qmp SOCKET COMMAND [ARGS-JSON]: the command's return value, as JSON.
qmp() {
	"$PYTHON" -S "$QMP_QUERY" "$@"
}

# peripherals SOCKET: the qdev ids under /machine/peripheral, one a line.
peripherals() {
	"$PYTHON" -S "$QMP_QUERY" "$1" peripherals
}

# in_vm SOCKET QDEV_ID: the VM has that device.
in_vm() {
	peripherals "$1" | grep -qx -- "$2"
}

# usb_hosts SOCKET: how many usb-host devices the VM has.
usb_hosts() {
	qmp "$1" qom-list '{"path":"/machine/peripheral"}' | grep -o 'child<usb-host>' | wc -l
}

# peer_start SOCKET MODE [MS]: a scripted QMP peer (tests/qmp-peer.py) that stays
# silent, talks garbage, listens late, ...; waits until it listens.
peer_start() {
	"$PYTHON" -S "$QMP_PEER" "$@" </dev/null >"$DIR/peer.log" 2>&1 3>&- &
	echo $! >"$DIR/peer-$(basename "$1").pid"
	wait_until test -e "$1.listening"
}

# ---- statd ------------------------------------------------------------------

# statd_start [ARGS...]: start statd on $CONFIG and wait until it is ready.
# STATD_PREFIX (an array) may wrap it, e.g. in umockdev-run: STATD_PID is
# statd's own pid all the same (signals go to statd), STATD_WRAPPER the
# process to wait for.
statd_start() {
	local ready
	ready=$(grep -c 'ready:' "$STATD_LOG") || true
	"${STATD_PREFIX[@]}" "$STATD" -c "$CONFIG" --db "$DB" --run-dir "$RUN" -d "$@" </dev/null >>"$STATD_LOG" 2>&1 3>&- &
	STATD_WRAPPER=$!
	STATD_PID=$!
	[ ${#STATD_PREFIX[@]} -eq 0 ] || wait_until statd_child
	echo "$STATD_PID" >"$DIR/statd.pid"
	wait_until statd_ready_since "$ready"
}

# The statd the wrapper started, into STATD_PID.
statd_child() {
	local pid
	pid=$(pgrep -P "$STATD_WRAPPER" -x vhotplug-statd) || return 1
	STATD_PID=$pid
}

statd_ready_since() {
	alive "$STATD_PID" || { echo "statd died" >&2; return 2; }
	[ "$(grep -c 'ready:' "$STATD_LOG")" -gt "$1" ] 2>/dev/null
}

# statd_stop [SIGNAL]: stop statd; its exit status is left in $STATD_STATUS.
statd_stop() {
	local i
	kill -"${1:-TERM}" "$STATD_PID"
	for ((i = 0; i < 500; i++)); do
		alive "$STATD_PID" || break
		sleep 0.02
	done
	alive "$STATD_PID" && kill -KILL "$STATD_PID"
	STATD_STATUS=0
	wait "$STATD_WRAPPER" || STATD_STATUS=$?
	rm -f "$DIR/statd.pid"
}

# rss_kb: statd's resident memory now.
rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$STATD_PID/status"
}

# For the memory bounds: ASan keeps freed memory in quarantine (256 MiB by
# default), which would hide what statd holds; with a small one RSS shows it.
small_quarantine() {
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1:thread_local_quarantine_size_kb=64"
}

# Wake statd up the way the helper does.
poke() {
	"$PYTHON" -S -c 'import socket, sys; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"test", sys.argv[1])' \
		"$RUN/statd.sock"
}

# statd_log_has TEXT: statd logged a line containing TEXT.
statd_log_has() {
	grep -qF -- "$1" "$STATD_LOG"
}

# ---- udev events --------------------------------------------------------------

# plug NAME: the helper's add event for one of the recordings, as udev would run it.
plug() {
	local name=$1
	SEQ=$((SEQ + 1))
	with_devices "${DEV_RECORDING[$name]}" -- env ACTION=add DEVPATH="${DEV_PATH[$name]}" \
		SUBSYSTEM=usb DEVTYPE=usb_device SEQNUM=$SEQ \
		"$HELPER" -c "$HELPER_CONFIG" --db "$DB" --run-dir "$RUN"
}

# unplug NAME: the remove event; sysfs is gone by then, so no umockdev.
unplug() {
	local name=$1
	SEQ=$((SEQ + 1))
	env ACTION=remove DEVPATH="${DEV_PATH[$name]}" SUBSYSTEM=usb DEVTYPE=usb_device SEQNUM=$SEQ \
		"$HELPER" -c "$HELPER_CONFIG" --db "$DB" --run-dir "$RUN"
}

# ---- the database -------------------------------------------------------------

# The device label ends with " at SYSNAME": match on that in the views.
sysname_of() {
	basename "${DEV_PATH[$1]}"
}

# events NAME EVENT: how many EVENT rows device_history has for NAME.
events() {
	sql "SELECT count(*) FROM device_history WHERE device LIKE '% at $(sysname_of "$1")' AND event = '$2'"
}

# has_event NAME EVENT [N]: device_history has at least N (1) EVENT rows for NAME.
has_event() {
	[ "$(events "$1" "$2")" -ge "${3:-1}" ]
}

# event_detail NAME EVENT: the detail of NAME's last EVENT row.
event_detail() {
	sql "SELECT detail FROM device_history WHERE device LIKE '% at $(sysname_of "$1")' AND event = '$2'" | tail -n 1
}

# intent NAME COLUMNS: COLUMNS of NAME's last intent (intents table: finished ones too).
intent() {
	sql "SELECT $2 FROM intents i JOIN devices d ON d.id = i.device_id
	     WHERE d.sysname = '$(sysname_of "$1")' ORDER BY i.id DESC LIMIT 1"
}

# retried NAME: NAME's last intent has had more than one attempt.
retried() {
	[ "$(intent "$1" attempts)" -ge 2 ]
}

# sql_is VALUE QUERY, sql_ge N QUERY: for wait_until, which runs them again each time.
sql_is() {
	[ "$(sql "$2")" = "$1" ]
}

sql_ge() {
	[ "$(sql "$2")" -ge "$1" ]
}

# intent_is NAME COLUMN VALUE: NAME's last intent has VALUE in COLUMN.
intent_is() {
	[ "$(intent "$1" "$2")" = "$3" ]
}

# attached_to_is NAME VM: current_attachments has NAME in VM.
attached_to_is() {
	[ "$(attached_to "$1")" = "$2" ]
}

# attached_to NAME: the VM current_attachments has NAME in, or nothing.
attached_to() {
	sql "SELECT vm FROM current_attachments WHERE device LIKE '% at $(sysname_of "$1")'"
}
