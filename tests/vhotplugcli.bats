#!/usr/bin/env bats
# vhotplugcli against a scripted API peer (tests/fake-api-server): the
# request line each command sends, and what it prints for canned replies.
# Every expected line comes from the original vhotplug's code, never from
# our own output: requests are python3's json.dumps() of the dict that the
# named function of the original's vhotplugcli/apiclient.py sends, and
# output is the f-string of the named print() or logging call of its
# vhotplugcli/vhotplugcli.py applied to the same reply (its logging format
# is "%(levelname)s %(message)s", on stderr).
#
# VHOTPLUGCLI_SOCKET names another server's socket: then the tests that
# need the scripted server's canned replies skip, the others run against it
# (its socket is never removed).

bats_require_minimum_version 1.5.0

load common

setup_file() {
	python_resolve
}

setup() {
	CLI=$top_builddir/cli/vhotplugcli
	SOCK=${VHOTPLUGCLI_SOCKET:-$BATS_TEST_TMPDIR/api.sock}
	NOSOCK=$BATS_TEST_TMPDIR/none.sock
	REC=$BATS_TEST_TMPDIR/requests
	FAKE_PID=
	[ -n "${VHOTPLUGCLI_SOCKET:-}" ] || rm -f "$SOCK"
	rm -f "$REC"
}

teardown() {
	if [ -n "$FAKE_PID" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
	fi
	if [ -n "${CLI_PID:-}" ]; then
		kill "$CLI_PID" 2>/dev/null || true
	fi
}

# fake_api REPLY...: serve $SOCK, answering REPLY... in order; wait until it accepts.
fake_api() {
	local deadline=$((SECONDS + 60))
	need_fake
	"$PYTHON" "$top_srcdir/tests/fake-api-server" "$SOCK" "$REC" "$@" 3>&- &
	FAKE_PID=$!
	until [ -S "$SOCK" ]; do
		[ "$SECONDS" -lt "$deadline" ] || fail "the fake API server did not start"
		sleep 0.1
	done
}

need_fake() {
	[ -z "${VHOTPLUGCLI_SOCKET:-}" ] || skip "needs the scripted server's replies, not $VHOTPLUGCLI_SOCKET"
}

# Always -t unix: inside a VM the original (and so vhotplugcli) defaults to vsock.
cli() {
	"$CLI" -t unix -u "$SOCK" "$@"
}

# cli_bg OUT LOG ARGS...: vhotplugcli in the background (CLI_PID is its own
# pid, not a subshell's), stdout to OUT, stderr to LOG.
cli_bg() {
	local out=$1 log=$2
	shift 2
	"$CLI" -t unix -u "$SOCK" "$@" >"$out" 2>"$log" 3>&- &
	CLI_PID=$!
}

# wait_exit: wait (bounded) for CLI_PID to end; its status in RC.
wait_exit() {
	local deadline=$((SECONDS + 120))
	while kill -0 "$CLI_PID" 2>/dev/null; do
		[ "$SECONDS" -lt "$deadline" ] || fail "vhotplugcli $CLI_PID did not exit"
		sleep 0.1
	done
	RC=0
	wait "$CLI_PID" || RC=$?
	CLI_PID=
}

# pyjson EXPR: json.dumps() of a Python expression (the original's request dicts).
pyjson() {
	"$PYTHON" -c 'import json, sys; print(json.dumps(eval(sys.argv[1])))' "$1"
}

# pyeval EXPR REPLY: EXPR with r = json.loads(REPLY) printed without a newline.
pyeval() {
	"$PYTHON" -c 'import json, sys; r = json.loads(sys.argv[2]); sys.stdout.write(eval(sys.argv[1]))' "$1" "$2"
}

# the original's usb_list(): for each device, its heading, then every key, then a blank line
usb_list_py='"".join(f"{dev['"'"'vid'"'"']}:{dev['"'"'pid'"'"']} {dev['"'"'vendor_name'"'"']} {dev['"'"'product_name'"'"']}\n" + "".join(f"  {key:<16}: {value}\n" for key, value in dev.items()) + "\n" for dev in r.get("usb_devices", []))'

USB_LIST='{"result": "ok", "usb_devices": [{"device_node": "/dev/bus/usb/001/004", "vid": "04f2", "pid": "b751", "vendor_name": "Chicony Electronics Co., Ltd", "product_name": "Caméra \"HD\"", "interfaces": [{"class": 14, "subclass": 1}], "busnum": 1, "devnum": 4, "portnum": 3, "serial": null, "sys_name": "1-3", "allowed_vms": ["vm1", "it'"'"'s"], "vm": null, "disconnected": false}, {"device_node": "/dev/bus/usb/001/005", "vid": "046d", "pid": "c077", "vendor_name": "Logitech, Inc.", "product_name": "M105", "busnum": 1, "devnum": 5, "portnum": 4, "serial": "X\tY\u00a0", "allowed_vms": [], "vm": "vm1", "disconnected": true, "ratio": 0.1}]}'

@test "usb detach --tag: the original's usb_detach_by_tag request" {
	fake_api '{"result": "ok"}'
	run cli usb detach --tag cam
	assert_success
	# apiclient.py usb_detach_by_tag(tag)
	assert_equal "$(cat "$REC")" "$(pyjson '{"action": "usb_detach", "tag": "cam"}')"
}

@test "usb detach: an ok reply logs the original's INFO line on stderr, nothing on stdout" {
	fake_api '{"result": "ok"}'
	run --separate-stderr cli usb detach --tag cam
	assert_success
	assert_output ""
	# vhotplugcli.py usb_detach(): logger.info("Successfully detached")
	assert_equal "$stderr" "INFO Successfully detached"
}

@test "a failed reply: the original's ERROR line with the server's text, status 1" {
	fake_api '{"result": "failed", "error": "Device cam is not attached to any VM"}'
	run -1 --separate-stderr cli usb detach --tag cam
	assert_output ""
	# vhotplugcli.py usb_detach(): RuntimeError(f"Failed to detach USB: {res.get('error')}"), logged by main()
	assert_equal "$stderr" "ERROR Failed to detach USB: Device cam is not attached to any VM"
}

@test "usb list --tag cam --connected: the original's usb_list request, disconnected false" {
	fake_api '{"result": "ok", "usb_devices": []}'
	run cli usb list --tag cam --connected
	assert_success
	# vhotplugcli.py usb_list(): --connected is disconnected_state = False; apiclient.py usb_list()
	assert_equal "$(cat "$REC")" "$(pyjson '{"action": "usb_list", "disconnected": False, "tag": "cam"}')"
}

@test "usb list: every device printed as the original's print() calls print it" {
	fake_api "$USB_LIST"
	run --separate-stderr cli usb list --tag cam --connected
	assert_success
	# bats drops the final newline of both sides alike
	assert_equal "$output" "$(pyeval "$usb_list_py" "$USB_LIST")"
	assert_equal "$stderr" ""
}

@test "usb list --short: the heading line of each device only" {
	fake_api "$USB_LIST"
	run --separate-stderr cli usb list --short
	assert_success
	assert_equal "$output" "$(pyeval '"".join(f"{dev['"'"'vid'"'"']}:{dev['"'"'pid'"'"']} {dev['"'"'vendor_name'"'"']} {dev['"'"'product_name'"'"']}\n" for dev in r["usb_devices"])' "$USB_LIST")"
	# apiclient.py usb_list(None, None)
	assert_equal "$(cat "$REC")" "$(pyjson '{"action": "usb_list", "disconnected": None, "tag": None}')"
}

@test "pci list: heading address vid:did vendor device, then every key" {
	local reply='{"result": "ok", "pci_devices": [{"address": "0000:00:14.3", "vid": "8086", "did": "a0f0", "vendor_name": "Intel Corporation", "device_name": "Wi-Fi 6 AX201", "vm": "net-vm", "allowed_vms": null, "iommu_group": 12, "disconnected": false}]}'
	fake_api "$reply"
	run --separate-stderr cli pci list --disconnected
	assert_success
	# vhotplugcli.py pci_list()
	assert_equal "$output" "$(pyeval '"".join(f"{dev['"'"'address'"'"']} {dev['"'"'vid'"'"']}:{dev['"'"'did'"'"']} {dev['"'"'vendor_name'"'"']} {dev['"'"'device_name'"'"']}\n" + "".join(f"  {key:<16}: {value}\n" for key, value in dev.items()) + "\n" for dev in r["pci_devices"])' "$reply")"
	assert_equal "$(cat "$REC")" "$(pyjson '{"action": "pci_list", "disconnected": True, "tag": None}')"
}

@test "usb suspend: the original's usb_suspend request, vm null" {
	fake_api '{"result": "ok"}'
	run --separate-stderr cli usb suspend
	assert_success
	# apiclient.py usb_suspend(vm) with no --vm
	assert_equal "$(cat "$REC")" "$(pyjson '{"action": "usb_suspend", "vm": None}')"
	# vhotplugcli.py usb_suspend()
	assert_equal "$stderr" "INFO Successfully suspended"
}

@test "usb resume: the original's usb_resume request, vm null" {
	fake_api '{"result": "ok"}'
	run --separate-stderr cli usb resume
	assert_success
	# apiclient.py usb_resume(vm)
	assert_equal "$(cat "$REC")" "$(pyjson '{"action": "usb_resume", "vm": None}')"
	# vhotplugcli.py usb_resume()
	assert_equal "$stderr" "INFO Successfully resumed"
}

@test "pci suspend --vm: the original's pci_suspend request with the VM" {
	fake_api '{"result": "ok"}'
	run --separate-stderr cli pci suspend --vm net-vm
	assert_success
	# apiclient.py pci_suspend(vm)
	assert_equal "$(cat "$REC")" "$(pyjson '{"action": "pci_suspend", "vm": "net-vm"}')"
	assert_equal "$stderr" "INFO Successfully suspended"
}

@test "vmm args: the original's vmm_args request, the start index an integer" {
	fake_api '{"result": "ok", "vmm_args": []}'
	run cli vmm args --vm V --qemu-bus-prefix pci_hotplug_ --qemu-bus-start-index 1
	assert_success
	# apiclient.py vmm_args(vm, qemu_bus_prefix, qemu_bus_start_index)
	assert_equal "$(cat "$REC")" "$(pyjson '{"action": "vmm_args", "vm": "V", "qemu_bus_prefix": "pci_hotplug_", "qemu_bus_start_index": 1}')"
}

@test "vmm args: the arguments joined by spaces, without a newline" {
	local reply='{"result": "ok", "vmm_args": ["-device", "vfio-pci,host=0000:01:00.0,bus=pci_hotplug_1", "-acpitable", "file=/sys/firmware/acpi/tables/SSDT1"]}'
	fake_api "$reply"
	cli vmm args --vm V --qemu-bus-prefix pci_hotplug_ --qemu-bus-start-index 1 >"$BATS_TEST_TMPDIR/out"
	# vhotplugcli.py vmm_args(): print(" ".join(args), end="")
	pyeval '" ".join(r["vmm_args"])' "$reply" >"$BATS_TEST_TMPDIR/expected"
	cmp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/expected"
}

@test "listen: subscribes, then logs each notification as the original's logger.info(dict)" {
	local n1='{"event": "usb_connected", "usb_device": {"device_node": "/dev/bus/usb/001/004", "vid": "04f2", "serial": null, "interfaces": [1, 2]}}'
	local n2='{"event": "usb_select_vm", "usb_device": {"vid": "04f2"}, "allowed_vms": ["vm1", "vm2"]}'
	local deadline=$((SECONDS + 60)) log=$BATS_TEST_TMPDIR/listen.log
	fake_api "{\"result\": \"ok\"}"$'\n'"$n1"$'\n'"$n2"
	cli_bg /dev/null "$log" listen
	until [ "$(grep -c '^INFO {' "$log")" -ge 2 ]; do
		[ "$SECONDS" -lt "$deadline" ] || { cat "$log"; fail "no notifications logged"; }
		sleep 0.1
	done
	# apiclient.py enable_notifications()
	assert_equal "$(cat "$REC")" "$(pyjson '{"action": "enable_notifications"}')"
	# vhotplugcli.py listen_for_notifications(): logger.info("Listening for notifications"),
	# then callback=logger.info on each parsed line
	assert_equal "$(cat "$log")" "INFO Listening for notifications
INFO $(pyeval 'str(r)' "$n1")
INFO $(pyeval 'str(r)' "$n2")"
}

@test "listen: a connection the server closes is opened again" {
	local deadline=$((SECONDS + 60)) log=$BATS_TEST_TMPDIR/listen.log
	fake_api $'{"result": "ok"}\n@close' '{"result": "ok"}'
	cli_bg /dev/null "$log" listen
	until [ -e "$REC" ] && [ "$(grep -c enable_notifications "$REC")" -ge 2 ]; do
		[ "$SECONDS" -lt "$deadline" ] || { cat "$log"; fail "listen did not reconnect"; }
		sleep 0.1
	done
	# apiclient.py recv_notifications(): a closed connection is an OSError there,
	# logged as two warnings, then a reconnect
	run grep -c '^WARNING Reconnecting in 3 sec...$' "$log"
	assert_output 1
}

@test "SIGINT: INFO Exiting and status 0, as the original's KeyboardInterrupt" {
	local deadline=$((SECONDS + 60)) log=$BATS_TEST_TMPDIR/listen.log
	fake_api '{"result": "ok"}'
	cli_bg /dev/null "$log" listen
	until [ -s "$REC" ]; do
		[ "$SECONDS" -lt "$deadline" ] || fail "listen did not subscribe"
		sleep 0.1
	done
	kill -INT "$CLI_PID"
	wait_exit
	assert_equal "$RC" 0
	# vhotplugcli.py main(): except KeyboardInterrupt: logger.info("Exiting")
	run tail -n 1 "$log"
	assert_output "INFO Exiting"
}

@test "a dead socket: the original's connect error, status 1" {
	fake_api
	kill "$FAKE_PID"
	wait "$FAKE_PID" || true
	FAKE_PID=
	[ -S "$SOCK" ]
	run -1 --separate-stderr cli usb list
	# apiclient.py connect(): RuntimeError(f"Failed to connect: {e!s}")
	assert_equal "$stderr" "ERROR Failed to connect: $("$PYTHON" -c 'import errno, os; print(str(OSError(errno.ECONNREFUSED, os.strerror(errno.ECONNREFUSED))))')"
}

@test "no socket: the original's connect error, status 1" {
	run -1 --separate-stderr "$CLI" -t unix -u "$NOSOCK" usb suspend
	assert_equal "$stderr" "ERROR Failed to connect: $("$PYTHON" -c 'import errno, os; print(str(OSError(errno.ENOENT, os.strerror(errno.ENOENT))))')"
}

@test "a server that never answers: an error after --timeout, status 1" {
	fake_api '@silent'
	# timeout(1)'s 124 would mean vhotplugcli waited past its own bound.
	run -1 --separate-stderr timeout 300 "$CLI" --timeout 2 -t unix -u "$SOCK" usb resume
	assert_equal "$stderr" "ERROR No API response within 2 s"
}

@test "a reply line past 8 MiB is an error, not a buffer" {
	fake_api '@flood'
	run -1 --separate-stderr timeout 300 "$CLI" --timeout 200 -t unix -u "$SOCK" usb list
	assert_equal "$stderr" "ERROR API response longer than 8388608 bytes"
}

@test "vmm args: waits for the API to appear, as the original retries" {
	local deadline=$((SECONDS + 60)) log=$BATS_TEST_TMPDIR/vmm.log
	need_fake
	cli_bg "$BATS_TEST_TMPDIR/out" "$log" vmm args --vm V
	until grep -q '^WARNING Failed to connect: ' "$log"; do
		[ "$SECONDS" -lt "$deadline" ] || fail "vmm args did not retry"
		sleep 0.1
	done
	fake_api '{"result": "ok", "vmm_args": ["-device", "x"]}'
	wait_exit
	assert_equal "$RC" 0
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" "-device x"
}

@test "vmm args: gives up after --timeout when the API never appears" {
	run -1 --separate-stderr timeout 300 "$CLI" --timeout 1 -t unix -u "$NOSOCK" vmm args --vm V
	[[ "${stderr_lines[0]}" == "WARNING Failed to connect: "* ]] || fail "no warning first: $stderr"
	assert_equal "${stderr_lines[-1]}" "ERROR Gave up after 1 s: Failed to connect: $("$PYTHON" -c 'import errno, os; print(str(OSError(errno.ENOENT, os.strerror(errno.ENOENT))))')"
}

@test "usb attach --tag: the original's usb_attach_by_tag request, without a VM" {
	fake_api '{"result": "ok"}'
	run --separate-stderr cli usb attach --tag cam --vm vm1
	assert_success
	# vhotplugcli.py usb_attach(): devnode, then bus and port, then tag; apiclient.py usb_attach_by_tag(tag)
	assert_equal "$(cat "$REC")" "$(pyjson '{"action": "usb_attach", "tag": "cam"}')"
	assert_equal "$stderr" "INFO Successfully attached"
}

@test "usb attach --bus --port: integers, and the VM" {
	fake_api '{"result": "ok"}'
	run cli usb attach --bus 3 --port 2 --vm vm1 --vid 04f2 --pid b751
	assert_success
	# apiclient.py usb_attach_by_bus_port(bus, port, vm)
	assert_equal "$(cat "$REC")" "$(pyjson '{"action": "usb_attach", "bus": 3, "port": 2, "vm": "vm1"}')"
}

@test "pci attach --vid --did: the original's pci_attach_by_vid_did request" {
	fake_api '{"result": "ok"}'
	run cli pci attach --vid 8086 --did a0f0 --vm net-vm
	assert_success
	# apiclient.py pci_attach_by_vid_did(vid, did, vm)
	assert_equal "$(cat "$REC")" "$(pyjson '{"action": "pci_attach", "vid": "8086", "did": "a0f0", "vm": "net-vm"}')"
}

@test "a request's text is escaped as json.dumps does (ASCII only)" {
	fake_api '{"result": "ok"}'
	run cli usb detach --tag $'k\xc3\xa4m "x"\\\t\xf0\x9f\x93\xb7'
	assert_success
	assert_equal "$(cat "$REC")" "$(pyjson '{"action": "usb_detach", "tag": "k\u00e4m \"x\"\\\t\U0001f4f7"}')"
}

@test "usb attach without a selector: the original's error, status 1, nothing sent" {
	fake_api '{"result": "ok"}'
	run -1 --separate-stderr cli usb attach --vm vm1 --bus 0 --port 1
	# vhotplugcli.py usb_attach(): bus 0 is false in Python
	assert_equal "$stderr" "ERROR You must specify either --devnode or --bus and --port or --vid and --pid or --tag"
	[ ! -e "$REC" ]
}

@test "an argument error: status 2, argparse's usage and error on stderr" {
	run -2 --separate-stderr "$CLI" usb attach --bus x
	assert_output ""
	assert_equal "${stderr_lines[0]}" "usage: vhotplugcli usb attach [-h] [--devnode DEVNODE] [--bus BUS]"
	assert_equal "${stderr_lines[-1]}" "vhotplugcli usb attach: error: argument --bus: invalid int value: 'x'"
}

@test "default transport: vsock inside a VM, unix elsewhere, as the original decides" {
	# The original's running_in_vm(): /dev/vsock's local CID, not ANY, HOST or LOCAL.
	local in_vm
	in_vm=$("$PYTHON" -c '
import fcntl, socket, struct
try:
    with open("/dev/vsock", "rb") as fd:
        buf = bytearray(4)
        fcntl.ioctl(fd, socket.IOCTL_VM_SOCKETS_GET_LOCAL_CID, buf)
        print(struct.unpack("I", buf)[0] not in (socket.VMADDR_CID_ANY, socket.VMADDR_CID_HOST, 1))
except OSError:
    print(False)')
	run timeout 300 "$CLI" -d --timeout 5 -u "$SOCK" usb list
	if [ "$in_vm" = True ]; then
		assert_line --partial "DEBUG Connecting to vsock cid 2 on port 2000"
	else
		assert_line "DEBUG Connecting to unix socket $SOCK"
	fi
}

@test "-t tcp -s -p: the same request over tcp" {
	local deadline=$((SECONDS + 60)) portfile=$BATS_TEST_TMPDIR/port
	"$PYTHON" "$top_srcdir/tests/fake-api-server" "tcp:$portfile" "$REC" '{"result": "ok"}' 3>&- &
	FAKE_PID=$!
	until [ -s "$portfile" ]; do
		[ "$SECONDS" -lt "$deadline" ] || fail "the fake API server did not start"
		sleep 0.1
	done
	run --separate-stderr "$CLI" -t tcp -s 127.0.0.1 -p "$(cat "$portfile")" pci resume --vm net-vm
	assert_success
	# apiclient.py pci_resume(vm); vhotplugcli.py pci_resume()
	assert_equal "$(cat "$REC")" "$(pyjson '{"action": "pci_resume", "vm": "net-vm"}')"
	assert_equal "$stderr" "INFO Successfully resumed"
}

@test "a reply that is not UTF-8: an error and status 1, as the original's decode() fails" {
	fake_api "$(printf '{"result": "ok", "vmm_args": ["\xe0\x80\x80"]}')"
	run -1 --separate-stderr timeout 300 "$CLI" --timeout 200 -t unix -u "$SOCK" vmm args --vm V
	assert_output ""
	assert_equal "$stderr" "ERROR API response is not UTF-8"
}

@test "usb list: a value nested 40 deep is read and printed as Python does" {
	local reply
	reply='{"result": "ok", "usb_devices": [{"vid": "04f2", "pid": "b751", "vendor_name": "v", "product_name": "p", "nested": '$("$PYTHON" -c 'print("[" * 40 + "1" + "]" * 40)')'}]}'
	fake_api "$reply"
	run --separate-stderr timeout 300 "$CLI" --timeout 30 -t unix -u "$SOCK" usb list
	assert_success
	assert_equal "$output" "$(pyeval "$usb_list_py" "$reply")"
}
