#!/usr/bin/env bats
# Talk only to the VM you mean: statd checks a VM's QMP socket before it
# connects (not a symlink, owned by root or the VM's "user", in a directory
# nobody else may write) and the peer after (SO_PEERCRED), against real QEMUs.
# Users are plain numbers without passwd entries: root may chown to any.

bats_require_minimum_version 1.5.0

load common
load qemu

OTHER=4242	# some other user
VMUSER=4243	# the VM's "user"

setup_file() {
	python_resolve
}

setup() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (chown)"
	qemu_setup
	VM1=$DIR/vm1.sock
	VM2=$DIR/vm2.sock
	make_config "$CONFIG"
	sed -i "s|\"name\": \"vm1\", \"type\": \"qemu\"|&, \"user\": \"$VMUSER\"|" "$CONFIG"
}

teardown() {
	qemu_teardown
	[ -z "${Q:-}" ] || rm -rf "$Q"
}

@test "vm socket: a symlink to another VM's socket is refused and recorded; that VM gets nothing" {
	qemu_start vm2
	ln -s "$VM2" "$VM1"
	statd_start
	plug mouse
	wait_until has_event mouse attach_failed
	run event_detail mouse attach_failed
	assert_output "refused to talk to vm1: socket $VM1 is a symlink"
	run intent mouse state
	assert_output failed
	[ "$(usb_hosts "$VM2")" -eq 0 ]
	[ "$(events mouse waiting)" -eq 0 ]
}

@test "vm socket: its directory swapped for a symlink to another VM's is refused and recorded; that VM gets nothing" {
	# vm1's user may write $DIR/home, so may replace vm1's directory in it.
	mkdir -m 755 "$DIR/home" "$DIR/vm2"
	chown "$VMUSER" "$DIR/home"
	VM1_SOCK=$DIR/home/vm1/qmp.sock VM2_SOCK=$DIR/vm2/qmp.sock make_config "$CONFIG"
	sed -i "s|\"name\": \"vm1\", \"type\": \"qemu\"|&, \"user\": \"$VMUSER\"|" "$CONFIG"
	qemu_start vm2 "$DIR/vm2/qmp.sock"
	ln -s "$DIR/vm2" "$DIR/home/vm1"
	chown -h "$VMUSER" "$DIR/home/vm1"
	statd_start
	plug mouse
	wait_until has_event mouse attach_failed
	run event_detail mouse attach_failed
	assert_output "refused to talk to vm1: $DIR/home/vm1 in the socket's path is a symlink"
	run intent mouse state
	assert_output failed
	run usb_hosts "$DIR/vm2/qmp.sock"
	assert_output 0
}

@test "vm socket: a hard link to another VM's socket is refused" {
	qemu_start vm2
	ln "$VM2" "$VM1"
	statd_start
	plug mouse
	wait_until has_event mouse attach_failed
	run event_detail mouse attach_failed
	assert_output "refused to talk to vm1: socket $VM1 has 2 names (hard links)"
	run usb_hosts "$VM2"
	assert_output 0
}

@test "vm socket: owned by another non-root user than the VM's user: refused" {
	qemu_start vm1
	chown "$OTHER" "$VM1"
	statd_start
	plug mouse
	wait_until has_event mouse attach_failed
	run event_detail mouse attach_failed
	assert_output "refused to talk to vm1: socket is owned by uid $OTHER, not by root or the VM's user"
	[ "$(usb_hosts "$VM1")" -eq 0 ]
}

@test "vm socket: owned by the VM's user: attached" {
	qemu_start vm1
	chown "$VMUSER" "$VM1"
	statd_start
	plug mouse
	wait_until has_event mouse attached
	in_vm "$VM1" vhp-usb-046d-c077.1-3
}

@test "vm socket: in a directory others may write: refused" {
	mkdir -m 1777 "$DIR/shared"
	VM1_SOCK=$DIR/shared/vm1.sock make_config "$CONFIG"
	qemu_start vm1 "$DIR/shared/vm1.sock"
	statd_start
	plug mouse
	wait_until has_event mouse attach_failed
	run event_detail mouse attach_failed
	assert_output "refused to talk to vm1: its directory $DIR/shared is writable by others"
}

@test "vm socket: the peer runs as another user than root or the VM's user: refused after connecting" {
	# QEMU runs as OTHER; the socket and its directory are then handed to root,
	# so only the peer check can tell.
	# Outside the test's directory, which only root may enter.
	Q=$(mktemp -d /tmp/vhp-peer.XXXXXX)
	chown "$OTHER" "$Q"
	VM1_SOCK=$Q/vm1.sock make_config "$CONFIG"
	setpriv --reuid="$OTHER" --regid="$OTHER" --clear-groups \
		qemu-system-x86_64 -M q35 -nodefaults -display none -S -device qemu-xhci,id=xhci \
		-qmp "unix:$Q/vm1.sock,server=on,wait=off" </dev/null >"$DIR/vm1.qemu.log" 2>&1 3>&- &
	echo $! >"$DIR/qemu-vm1.pid"
	wait_until test -S "$Q/vm1.sock"
	chown 0:0 "$Q" "$Q/vm1.sock"
	statd_start
	plug mouse
	wait_until has_event mouse attach_failed
	run event_detail mouse attach_failed
	assert_output --regexp "^refused to talk to vm1: the peer \(pid [0-9]+\) runs as uid $OTHER, not as root or the VM's user$"
	[ "$(usb_hosts "$Q/vm1.sock")" -eq 0 ]
}

@test "vm user: an unknown user name is a config error naming its JSON path" {
	sed -i "s|\"user\": \"$VMUSER\"|\"user\": \"no-such-user-vhp\"|" "$CONFIG"
	run -1 "$STATD" --check-config -c "$CONFIG"
	assert_output --partial "$CONFIG: vms[0].user"
	assert_output --partial 'no such user "no-such-user-vhp"'
}
