#!/usr/bin/env bats
# vhotplugcli against a real statd, real QEMUs and umockdev devices: the
# commands ghaf's scripts run (the kill switch, the power manager, a VM's
# start). Every expected text is what the original's vhotplugcli/vhotplugcli.py
# prints for the same state (logging "%(levelname)s %(message)s" on stderr;
# usb_list(): f"{vid}:{pid} {vendor_name} {product_name}", then
# f"  {key:<16}: {value}" with str() of each value and a blank line; vmm_args():
# " ".join(args) with no newline), its values the udev ones of the recording
# tests/data/usb-webcam.umockdev as its usb.py get_usb_info() reads them:
# never our own output.

bats_require_minimum_version 1.5.0

load common
load qemu
load kinds

WEBCAM_NODE=/dev/bus/usb/001/007

# usb.py to_dict() of tests/data/usb-webcam.umockdev, then device.py
# get_usb_device_list()'s allowed_vms and vm: names from udev's database
# (ID_VENDOR_FROM_DATABASE, ID_MODEL_FROM_DATABASE), class, subclass and
# protocol int(attr, 16) of bDeviceClass=ef, bDeviceSubClass=02,
# bDeviceProtocol=01, BUSNUM=001 and DEVNUM=007 as int(), portnum the first
# port of sys_name 1-6, serial ID_SERIAL_SHORT.
webcam_block() {
	cat <<-EOF
	04f2:b604 Chicony Electronics Co., Ltd Integrated Camera (1280x720@30)
	  device_node     : $WEBCAM_NODE
	  vid             : 04f2
	  pid             : b604
	  vendor_name     : Chicony Electronics Co., Ltd
	  product_name    : Integrated Camera (1280x720@30)
	  interfaces      : :0e0100:0e0200:
	  device_class    : 239
	  device_subclass : 2
	  device_protocol : 1
	  busnum          : 1
	  devnum          : 7
	  portnum         : 6
	  serial          : 0001
	  sys_name        : 1-6
	  allowed_vms     : ['vm1']
	  vm              : $1
	EOF
	echo
}

setup_file() {
	python_resolve
}

setup() {
	qemu_setup
	CLI=$top_builddir/cli/vhotplugcli
	VM1=$DIR/vm1.sock
	SOCK=$DIR/api.sock
}

# usb_start: vm1 running, the webcam's rule set tagged cam, statd serving the API.
usb_start() {
	cat >"$CONFIG" <<-EOF
	{
	  "usbPassthrough": [
	    { "targetVm": "vm1", "tag": "cam", "allow": [ { "vendorId": "04f2" } ] }
	  ],
	  "vms": [
	    { "name": "vm1", "type": "qemu", "socket": "$VM1", "usbAttachBy": "vidpid" }
	  ],
	  "general": { "api": { "transports": ["unix"], "unixSocket": "$SOCK" } }
	}
	EOF
	qemu_start vm1
	statd_start
}

# pci_start: statd in the PCI testbed (tests/kinds.bash) with the NIC for
# vm1, which is not started: vmm args is what a VM's start asks first.
pci_start() {
	cat >"$CONFIG" <<-EOF
	{
	  "pciPassthrough": [ { "targetVm": "vm1", "allow": [ { "address": "$NIC" } ] } ],
	  "vms": [ { "name": "vm1", "type": "qemu", "socket": "$VM1" } ],
	  "general": { "api": { "transports": ["unix"], "unixSocket": "$SOCK" } }
	}
	EOF
	pci_statd_start
}

teardown() {
	qemu_teardown
}

# Always -t unix: this machine's /dev/vsock may give a guest's CID, and then
# vhotplugcli (as the original) would default to vsock.
cli() {
	"$CLI" -t unix -u "$SOCK" --timeout 60 "$@"
}

# list_is EXPECTED ARGS...: `cli usb list ARGS` prints exactly EXPECTED (a
# file: `run` would strip the trailing blank line), nothing on stderr.
list_is() {
	local want=$1
	shift
	cli usb list "$@" >"$DIR/list.out" 2>"$DIR/list.err"
	run diff -u "$want" "$DIR/list.out"
	assert_success
	run cat "$DIR/list.err"
	assert_output ""
}

webcam_in_vm1() {
	in_vm "$VM1" "${DEV_QDEV[webcam]}"
}

webcam_not_in_vm1() {
	if in_vm "$VM1" "${DEV_QDEV[webcam]}"; then return 1; fi
}

@test "cli-statd: usb list --tag cam --connected prints the attached webcam's full block" {
	usb_start
	plug webcam
	wait_until webcam_in_vm1
	webcam_block vm1 >"$DIR/want"
	list_is "$DIR/want" --tag cam --connected
}

@test "cli-statd: usb detach --tag cam takes the webcam out of the VM and says so on stderr" {
	usb_start
	plug webcam
	wait_until webcam_in_vm1
	run --separate-stderr cli usb detach --tag cam
	assert_success
	assert_output ""
	assert_equal "$stderr" "INFO Successfully detached"
	run webcam_not_in_vm1
	assert_success
}

@test "cli-statd: after usb detach --tag cam, --connected lists nothing and --disconnected the webcam with vm None" {
	usb_start
	plug webcam
	wait_until webcam_in_vm1
	run cli usb detach --tag cam
	assert_success
	list_is /dev/null --tag cam --connected
	webcam_block None >"$DIR/want"
	list_is "$DIR/want" --tag cam --disconnected
}

@test "cli-statd: usb suspend takes the webcam out and usb resume puts it back" {
	usb_start
	plug webcam
	wait_until webcam_in_vm1
	run --separate-stderr cli usb suspend
	assert_success
	assert_equal "$stderr" "INFO Successfully suspended"
	run webcam_not_in_vm1
	assert_success
	run --separate-stderr cli usb resume
	assert_success
	assert_equal "$stderr" "INFO Successfully resumed"
	wait_until webcam_in_vm1
}

@test "cli-statd: a refused request exits 1 with the original's ERROR line" {
	usb_start
	run --separate-stderr cli usb attach --devnode /dev/bus/usb/009/099 --vm vm1
	assert_failure 1
	assert_output ""
	# usb_attach()'s RuntimeError around device.py's text, logged by main().
	assert_equal "$stderr" "ERROR Failed to attach USB: USB device /dev/bus/usb/009/099 not found in the system"
}

@test "cli-statd: vmm args for a VM with no PCI device prints nothing and exits 0" {
	usb_start
	run --separate-stderr cli vmm args --vm vm1 --qemu-bus-prefix pci_hotplug_ --qemu-bus-start-index 1
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
}

# Also statd/api's timer: the answer waits for /dev/vfio/15 (at most 5 s,
# then answers all the same), whose appearance wakes nothing up, on an
# otherwise idle statd: without the timer it never comes.
@test "cli-statd: vmm args prints the VM's PCI function as the original's get_vmm_args, once its VFIO node is there" {
	local rc=0 pid i
	pci_start
	"$CLI" -t unix -u "$SOCK" --timeout 60 vmm args --vm vm1 --qemu-bus-prefix pci_hotplug_ \
		--qemu-bus-start-index 1 >"$DIR/args.out" 2>"$DIR/args.err" 3>&- &
	pid=$!
	wait_until statd_log_has 'vmm_args vm1:'
	wait_until overridden "$NIC"
	kernel_gives_vfio "$NIC"
	mkdir -p "$TB/dev/vfio"
	: >"$TB/dev/vfio/15"
	for ((i = 0; i < 3000; i++)); do
		alive "$pid" || break
		sleep 0.02
	done
	wait "$pid" || rc=$?
	assert_equal "$rc" 0
	# vmm.py vmm_args_pci() for n = 1: f"vfio-pci,host={sys_name},multifunction=on,id=vhp-pci-{n},bus={prefix}{n}",
	# joined by " " and printed with end="".
	printf '%s' "-device vfio-pci,host=$NIC,multifunction=on,id=vhp-pci-1,bus=pci_hotplug_1" >"$DIR/want"
	run cmp "$DIR/want" "$DIR/args.out"
	assert_success
	run cat "$DIR/args.err"
	assert_output ""
}
