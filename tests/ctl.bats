#!/usr/bin/env bats
# vhotplugctl's viewing verbs (list, status, history), --json, --help, exit
# codes and error lines, against a real QEMU, statd under umockdev and the
# helper's events, as in reconcile.bats. Every --json output is parsed by
# python3's json module.

bats_require_minimum_version 1.5.0

load common
load qemu

setup_file() {
	python_resolve
}

setup() {
	qemu_setup
	VM1=$DIR/vm1.sock
	VM2=$DIR/vm2.sock
	# mouse to vm1 (tag input), webcam offered to vm1 and vm2 (tag cam), audio to vm2.
	cat >"$CONFIG" <<-EOF
	{
	  "usbPassthrough": [
	    { "targetVm": "vm1", "tag": "input", "allow": [ { "vendorId": "046d", "productId": "c077" } ] },
	    { "allowedVms": [ "vm1", "vm2" ], "tag": "cam", "allow": [ { "vendorId": "04f2" } ] },
	    { "targetVm": "vm2", "allow": [ { "vendorId": "0d8c" } ] }
	  ],
	  "vms": [
	    { "name": "vm1", "type": "qemu", "socket": "$VM1", "usbAttachBy": "vidpid" },
	    { "name": "vm2", "type": "qemu", "socket": "$VM2", "usbAttachBy": "vidpid" }
	  ]
	}
	EOF
}

teardown() {
	qemu_teardown
}

ctl() {
	"$CTL" -c "$CONFIG" --db "$DB" --run-dir "$RUN" "$@"
}

# json EXPR: EXPR (python, over the document d) of the last run's output, printed.
json() {
	"$PYTHON" -c 'import json, sys; d = json.loads(sys.stdin.read()); print(eval(sys.argv[1]))' \
		"$1" <<<"$output"
}

# assert_json EXPR EXPECTED
assert_json() {
	local got
	got=$(json "$1") || fail "not JSON, or $1 fails: $output"
	[ "$got" = "$2" ] || fail "$1: expected '$2', got '$got' in $output"
}

# One line on stderr, prefixed vhotplugctl:, and nothing on stdout (run --separate-stderr).
assert_one_error_line() {
	[ "${#stderr_lines[@]}" -eq 1 ] || fail "expected one stderr line: $stderr"
	[[ ${stderr_lines[0]} == "vhotplugctl: "* ]] || fail "not prefixed: $stderr"
	[ -z "$output" ] || fail "stdout: $output"
}

# mouse attached to vm1, webcam held for a choice, audio queued for vm2 (not running).
three_devices() {
	qemu_start vm1
	statd_start
	plug mouse
	plug webcam
	plug audio
	wait_until attached_to_is mouse vm1
	wait_until intent_is webcam state held
}

# ---- list -------------------------------------------------------------------

@test "list: each device with its number, identity, rule, tag and where it is" {
	three_devices
	run ctl list
	assert_success
	assert_line --regexp '^#1 usb 046d:c077 .* at 1-3$'
	assert_line '    identity usb:046d:c077@1-3, connected'
	assert_line '    rule usbPassthrough[0].allow[0] (), tag input: to vm1'
	assert_line --regexp '^    in vm1 \((attached|attaching)\)$'
	assert_line '    rule usbPassthrough[1].allow[0] (), tag cam: one of ["vm1","vm2"]'
	assert_line '    in no VM'
}

@test "list --json: one document with the documented fields" {
	three_devices
	wait_until sql_is attached "SELECT state FROM attachments"
	run ctl list --json
	assert_success
	assert_json 'len(d["devices"])' 3
	assert_json 'sorted(d["devices"][0].keys())' \
		"['allowedVms', 'attachments', 'authorized', 'connected', 'decision', 'devnode', 'identity', 'kind', 'label', 'lastSeen', 'marks', 'number', 'rule', 'sysname', 'tag', 'targetVm']"
	assert_json '[(x["number"], x["sysname"], x["tag"], x["targetVm"], x["allowedVms"]) for x in d["devices"]]' \
		"[(1, '1-3', 'input', 'vm1', None), (2, '1-6', 'cam', None, ['vm1', 'vm2']), (3, '1-2', None, 'vm2', None)]"
	assert_json '[(a["vm"], a["state"], a["qdevId"]) for a in d["devices"][0]["attachments"]]' \
		"[('vm1', 'attached', '${DEV_QDEV[mouse]}')]"
	assert_json 'd["devices"][0]["marks"]' '[]'
}

@test "list filters: --vm, --tag, --connected, --disconnected" {
	three_devices
	unplug audio
	wait_until has_event audio unplugged
	run ctl list --json --vm vm1
	assert_json '[x["sysname"] for x in d["devices"]]' "['1-3']"
	run ctl list --json --tag cam
	assert_json '[x["sysname"] for x in d["devices"]]' "['1-6']"
	run ctl list --json --connected
	assert_json '[x["sysname"] for x in d["devices"]]' "['1-3', '1-6']"
	run ctl list --json --disconnected
	assert_json '[x["sysname"] for x in d["devices"]]' "['1-2']"
	run ctl list --tag nosuchtag
	assert_success
	assert_output 'no devices'
}

@test "list: an unknown VM is one line on stderr and exit 1" {
	run --separate-stderr ctl list --vm vm9
	assert_failure 1
	assert_one_error_line
	assert_equal "$stderr" 'vhotplugctl: no VM named "vm9" in '"$CONFIG"
}

@test "list: --connected with --disconnected is a usage error" {
	run --separate-stderr ctl list --connected --disconnected
	assert_failure 2
	assert_one_error_line
}

# ---- history ----------------------------------------------------------------

@test "history DEVICE: by number, #number, identity and label, oldest first" {
	three_devices
	local label
	label=$(sql "SELECT label FROM devices WHERE id = 1")
	for name in 1 '#1' usb:046d:c077@1-3 "$label"; do
		run ctl history "$name"
		assert_success
		assert_line --index 0 --partial " plugged: $label"
		assert_line --partial " queued vm1: $label: usbPassthrough[0].allow[0]"
		refute_output --partial 'at 1-6'
	done
}

@test "history --json: one document; -n keeps the newest rows" {
	three_devices
	run ctl history --json
	assert_success
	assert_json 'sorted(d["history"][0].keys())' "['detail', 'device', 'event', 'id', 'number', 'time', 'vm']"
	assert_json '(d["history"][0]["event"], d["history"][0]["number"])' "('reconciled', None)"
	assert_json '(d["history"][1]["event"], d["history"][1]["number"])' "('plugged', 1)"
	local n
	n=$(json 'len(d["history"])')
	[ "$n" -ge 6 ] || fail "only $n rows"
	local last
	last=$(json 'd["history"][-1]["id"]')
	run ctl history --json -n 2
	assert_json 'len(d["history"])' 2
	assert_json 'd["history"][-1]["id"]' "$last"
	run ctl history --json 3
	assert_json 'sorted(set(x["number"] for x in d["history"]))' '[3]'
}

@test "history --since: an age or a UTC time; a future time shows nothing" {
	three_devices
	run ctl history --since 1h
	assert_success
	assert_line --partial 'plugged'
	run ctl history --since "$(date -u -d tomorrow +%Y-%m-%d)"
	assert_success
	assert_output ''
	run ctl history --since "$(date -u +'%Y-%m-%d %H:%M' -d '-1 hour')"
	assert_line --partial 'plugged'
	run --separate-stderr ctl history --since yesterdayish
	assert_failure 2
	assert_one_error_line
}

@test "history: an unknown device is one line on stderr and exit 1" {
	run --separate-stderr ctl history usb:dead:beef:nope
	assert_failure 1
	assert_one_error_line
	assert_equal "$stderr" 'vhotplugctl: no device "usb:dead:beef:nope" (see vhotplugctl list)'
}

# ---- status -----------------------------------------------------------------

@test "status: statd down and no VM running" {
	run ctl status
	assert_success
	assert_line 'statd: not running: intents wait for it'
	assert_line "vm1: not running ($VM1: no socket), 0 open intents"
	run ctl status --json
	assert_success
	assert_json 'd["statd"]' "{'running': False, 'pid': None}"
	assert_json '[(v["name"], v["reachable"], v["unreachableBecause"], v["lastReconcile"]) for v in d["vms"]]' \
		"[('vm1', False, 'no socket', None), ('vm2', False, 'no socket', None)]"
}

@test "status: statd running, vm1 running and reconciled, vm2 not running with an open intent" {
	three_devices
	wait_until has_reconciled vm1
	run ctl status --json
	assert_success
	assert_json 'd["statd"]' "{'running': True, 'pid': $STATD_PID}"
	assert_json '[(v["name"], v["reachable"], v["openIntents"]) for v in d["vms"]]' \
		"[('vm1', True, 1), ('vm2', False, 2)]"
	assert_json 'd["vms"][0]["lastReconcile"]["event"]' reconciled
	assert_json 'sorted(d["intents"][0].keys())' "['action', 'attempts', 'created', 'device', 'id', 'rule', 'state', 'vm']"
	assert_json 'sorted((i["action"], i["state"]) for i in d["intents"])' \
		"[('attach', 'pending'), ('select', 'held')]"
	run ctl status
	assert_success
	assert_line "statd: running (pid $STATD_PID)"
	assert_line 'vm1: running, 1 open intents'
	assert_line --regexp '^    last reconcile [0-9T:.Z-]+: reconciled: '
}

@test "status: a VM's stale socket (QEMU killed) is not running" {
	qemu_start vm1
	local pid
	pid=$(cat "$DIR/qemu-vm1.pid")
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	rm -f "$DIR/qemu-vm1.pid"
	[ -S "$VM1" ]
	run ctl status --json
	assert_json '(d["vms"][0]["reachable"], d["vms"][0]["unreachableBecause"])' \
		"(False, 'Connection refused')"
}

has_reconciled() {
	[ "$(sql "SELECT count(*) FROM history WHERE vm = '$1' AND event = 'reconciled'")" -ge 1 ]
}

# ---- reconcile ----------------------------------------------------------------

@test "reconcile --json: the outcome as one document" {
	qemu_start vm1
	statd_start
	plug mouse
	wait_until attached_to_is mouse vm1
	run ctl reconcile --json vm1
	assert_success
	assert_json '(d["vm"], d["state"], d["finished"], d["changes"])' "('vm1', 'done', True, [])"
	assert_json 'd["result"].startswith("0 to attach")' True
}

@test "reconcile: a VM not running is named, not statd; exit 75 and the intent stays" {
	statd_start
	run --separate-stderr ctl reconcile --timeout 1 vm2
	assert_failure 75
	assert_one_error_line
	assert_equal "$stderr" "vhotplugctl: vm2 is not running ($VM2: no socket): the reconcile waits for it"
	assert_equal "$(sql "SELECT state FROM intents WHERE action = 'reconcile' AND vm = 'vm2'")" pending
}

@test "reconcile: statd down is said so; --json says not finished" {
	run --separate-stderr ctl reconcile --json --timeout 0 vm1
	assert_failure 75
	assert_equal "$stderr" 'vhotplugctl: statd is not running: the reconcile of vm1 stays queued until it starts'
	assert_json '(d["vm"], d["state"], d["finished"])' "('vm1', 'pending', False)"
}

# ---- every verb -----------------------------------------------------------------

@test "--help on every verb exits 0 with its usage" {
	local verb
	for verb in explain reconcile list status history; do
		run ctl "$verb" --help
		assert_success
		assert_line --index 0 --partial "Usage: vhotplugctl $verb"
	done
	run ctl --help
	assert_success
}

@test "a bad option or command: one line on stderr, exit 2" {
	local verb
	for verb in explain reconcile list status history; do
		run --separate-stderr ctl "$verb" --no-such-option
		assert_failure 2
		assert_one_error_line
	done
	run --separate-stderr ctl frobnicate
	assert_failure 2
	assert_one_error_line
	run --separate-stderr ctl --no-such-option list
	assert_failure 2
	assert_one_error_line
}

@test "status: a crosvm VM is reached on its SEQPACKET control socket" {
	local sock=$DIR/cvm.sock
	sed -i "s|{ \"name\": \"vm2\", \"type\": \"qemu\", \"socket\": \"$VM2\"|{ \"name\": \"vm2\", \"type\": \"crosvm\", \"socket\": \"$sock\"|" "$CONFIG"
	"$PYTHON" -S "$top_srcdir/tests/seqpacket-listen.py" "$sock" </dev/null >/dev/null 2>&1 3>&- &
	echo $! >"$DIR/listen.pid"
	wait_until test -e "$sock.ready"
	run ctl status --json
	assert_success
	assert_json '[(v["name"], v["type"], v["reachable"]) for v in d["vms"]]' \
		"[('vm1', 'qemu', False), ('vm2', 'crosvm', True)]"
}
