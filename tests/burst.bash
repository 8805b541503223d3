# The devices and workers of burst.bats and crash.bats; sourced with
# `load burst` after `load common` and `load qemu`.
#
# The devices come from a recording made here: N USB devices 1-1 ... 1-N on
# the xHCI of tests/data/usb-mouse.umockdev, odd ones vendor aaaa (vm1), even
# ones bbbb (vm2), product id = index, attached by vendor and product id, so
# QEMU takes them without the host devices. Helpers of one burst share one
# umockdev session, as they share sysfs under udev.

# After qemu_setup: two VMs with ports for 50 usb-host devices each.
burst_setup() {
	# Ports for 50 usb-host devices per VM and some to spare.
	QEMU_EXTRA=()
	local c
	for c in 1 2 3; do
		QEMU_EXTRA+=(-device "qemu-xhci,id=xhci$c,p2=15,p3=15")
	done
	REC=$DIR/burst.umockdev
	cat >"$CONFIG" <<-EOF
	{
	  "usbPassthrough": [
	    { "targetVm": "vm1", "allow": [ { "vendorId": "aaaa" } ] },
	    { "targetVm": "vm2", "allow": [ { "vendorId": "bbbb" } ] }
	  ],
	  "vms": [
	    { "name": "vm1", "type": "qemu", "socket": "$DIR/vm1.sock", "usbAttachBy": "vidpid" },
	    { "name": "vm2", "type": "qemu", "socket": "$DIR/vm2.sock", "usbAttachBy": "vidpid" }
	  ],
	  "general": { "qmpTimeoutMs": 30000 }
	}
	EOF
	export ASAN_OPTIONS=${ASAN_OPTIONS:-verify_asan_link_order=0}
	LOCKER_PID=
	# The QMP deadline is generous: this is about events, not about a loaded machine.
}

burst_teardown() {
	if [ -n "$LOCKER_PID" ]; then
		touch "$DIR/release"
		wait "$LOCKER_PID" || true
	fi
	echo "---- helper log (last lines)"
	tail -n 20 "$DIR/helper.log" 2>/dev/null
}

# burst_recording N: $REC with devices 1-1 ... 1-N and their controller.
burst_recording() {
	local n=$1 i vid pid
	{
		for ((i = 1; i <= n; i++)); do
			vid=aaaa
			((i % 2)) || vid=bbbb
			pid=$(printf %04x "$i")
			cat <<-EOF
			P: /devices/pci0000:00/0000:00:14.0/usb1/1-$i
			E: BUSNUM=001
			E: DEVNAME=/dev/bus/usb/001/$(printf %03d $((i + 1)))
			E: DEVNUM=$(printf %03d $((i + 1)))
			E: DEVTYPE=usb_device
			E: DRIVER=usb
			E: ID_BUS=usb
			E: ID_USB_INTERFACES=:030102:
			E: PRODUCT=$vid/$pid/100
			E: SUBSYSTEM=usb
			E: TYPE=0/0/0
			A: bDeviceClass=00\n
			A: busnum=1\n
			A: devnum=$((i + 1))\n
			A: idProduct=$pid\n
			A: idVendor=$vid\n
			A: product=Burst device $i\n
			A: removable=removable\n

			EOF
		done
		sed -n '/^P: \/devices\/pci0000:00\/0000:00:14.0\/usb1$/,$p' "$DATA/usb-mouse.umockdev"
	} >"$REC"
}

# The worker udev would be for one device: its events in order, one helper each.
# Arguments: INDEX ACTION...; SEQNUM is step * 1000 + INDEX, so it rises per device.
# Each run's wall time in ms goes to $DIR/times, a failing exit to $DIR/failed.
write_worker() {
	cat >"$DIR/worker" <<-'EOF'
	#!/bin/bash
	i=$1 step=0
	shift
	for action; do
		t0=$(date +%s%N)
		ACTION=$action DEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/1-$i SUBSYSTEM=usb \
			DEVTYPE=usb_device SEQNUM=$((step * 1000 + i)) \
			"$HELPER" -c "$CONFIG" --db "$DB" --run-dir "$RUN" 2>>"$DIR/helper.log" ||
			echo "$action 1-$i: exit $?" >>"$DIR/failed"
		echo $((($(date +%s%N) - t0) / 1000000)) >>"$DIR/times"
		step=$((step + 1))
	done
	EOF
	chmod +x "$DIR/worker"
	export HELPER CONFIG DB RUN DIR
}

# in_sysfs CMD...: CMD with the recording's sysfs, as udev's workers see it.
in_sysfs() {
	umockdev-run --device "$REC" -- "$@"
}

statd_start_burst() {
	STATD_PREFIX=(umockdev-run --device "$REC" --)
	statd_start
}

settled() {
	[ "$(sql "SELECT count(*) FROM intents WHERE state IN ('pending', 'claimed')")" -eq 0 ] &&
		[ -z "$(ls "$RUN/spool" 2>/dev/null)" ]
}

# all_in_qemu N: every device once in its QEMU, and the views agree.
all_in_qemu() {
	local n=$1 expect1 expect2
	expect1=$(for ((i = 1; i <= n; i += 2)); do printf 'vhp-usb-aaaa-%04x.1-%d\n' $i $i; done | sort)
	expect2=$(for ((i = 2; i <= n; i += 2)); do printf 'vhp-usb-bbbb-%04x.1-%d\n' $i $i; done | sort)
	assert_equal "$(peripherals "$DIR/vm1.sock" | grep '^vhp-' | sort)" "$expect1"
	assert_equal "$(peripherals "$DIR/vm2.sock" | grep '^vhp-' | sort)" "$expect2"
	assert_equal "$(usb_hosts "$DIR/vm1.sock")" $(((n + 1) / 2))
	assert_equal "$(usb_hosts "$DIR/vm2.sock")" $((n / 2))
	assert_equal "$(sql 'SELECT count(*) FROM current_attachments')" "$n"
}

# recorded_once N PLUGS UNPLUGS: each device has exactly that many rows of each.
recorded_once() {
	assert_equal "$(sql "SELECT count(*) FROM (SELECT device_id,
		sum(event = 'plugged') AS p, sum(event = 'unplugged') AS u FROM history
		GROUP BY device_id) WHERE p = $2 AND u = $3")" "$1"
	assert_equal "$(sql 'SELECT count(*) FROM devices')" "$1"
}

no_failures() {
	[ ! -e "$DIR/failed" ] || fail "helpers failed: $(cat "$DIR/failed")"
	! grep -q 'NOT recorded' "$DIR/helper.log" 2>/dev/null || fail "events lost"
}
