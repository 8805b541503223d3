# Plumbing shared by tests/statd-kinds.bats and tests/statd-pci-group.bats
# (statd with evdev and PCI devices); sourced with `load kinds` after
# `load common` and `load qemu`. Tests set VM1 (the VM's QMP socket).

# qemu_ports_start NAME: a paused q35 with three free pcie-root-ports rp1..rp3,
# and the arguments of the array QEMU_EXTRA if set.
qemu_ports_start() {
	local sock=$DIR/$1.sock
	qemu-system-x86_64 -M q35 -nodefaults -display none -S -device qemu-xhci,id=xhci \
		-device pcie-root-port,id=rp1,chassis=1 -device pcie-root-port,id=rp2,chassis=2 \
		-device pcie-root-port,id=rp3,chassis=3 ${QEMU_EXTRA[@]+"${QEMU_EXTRA[@]}"} \
		-qmp "unix:$sock,server=on,wait=off" </dev/null >"$DIR/$1.qemu.log" 2>&1 3>&- &
	echo $! >"$DIR/qemu-$1.pid"
	wait_until test -S "$sock"
}

# ev_events SYSNAME EVENT: how many EVENT rows history has for the node SYSNAME.
ev_events() {
	sql "SELECT count(*) FROM history h JOIN devices d ON d.id = h.device_id
	     WHERE d.sysname = '$1' AND h.event = '$2'"
}

ev_has() {
	[ "$(ev_events "$1" "$2")" -ge "${3:-1}" ]
}

ev_detail() {
	sql "SELECT h.detail FROM history h JOIN devices d ON d.id = h.device_id
	     WHERE d.sysname = '$1' AND h.event = '$2' ORDER BY h.id DESC LIMIT 1"
}

# ---- PCI ----------------------------------------------------------------------
# tests/data/pci-group.umockdev: a NIC (e1000), a sound card (snd_ens1371) and a
# driverless serial controller behind a PCIe-to-PCI bridge, all in IOMMU group
# 15; tests/pci-testbed.sh adds the group links and the drivers' files. statd
# runs in that testbed and $TB is its root, so the test reads what statd wrote
# and plays the kernel's part (driver links, /dev/vfio/15).

PCI_DEVS=/devices/pci0000:00/0000:00:1c.4/0000:05:00.0
# Run in each testbed after pci-testbed.sh: a test's changes to the group.
PCI_TB_EXTRA=:
NIC=0000:06:00.0
SOUND=0000:06:01.0
SERIAL=0000:06:02.0

pci_statd_start() {
	STATD_PREFIX=(umockdev-run --device "$DATA/pci-group.umockdev" -- bash -c \
		". '$top_srcdir/tests/pci-testbed.sh'; $PCI_TB_EXTRA; echo \"\$UMOCKDEV_DIR\" >'$DIR/testbed'; exec \"\$@\"" bash)
	statd_start
	TB=$(cat "$DIR/testbed")
}

pci_event() {
	SEQ=$((SEQ + 1))
	if [ "$1" = add ]; then
		# With the group links, as the kernel has them (pciIommuSkipIfShared reads them).
		umockdev-run --device "$DATA/pci-group.umockdev" -- bash -c \
			". '$top_srcdir/tests/pci-testbed.sh'; $PCI_TB_EXTRA; exec \"\$@\"" bash env ACTION=add \
			DEVPATH="$PCI_DEVS/$2" SUBSYSTEM=pci SEQNUM=$SEQ \
			"$HELPER" -c "$CONFIG" --db "$DB" --run-dir "$RUN"
	else
		env ACTION=remove DEVPATH="$PCI_DEVS/$2" SUBSYSTEM=pci SEQNUM=$SEQ \
			"$HELPER" -c "$CONFIG" --db "$DB" --run-dir "$RUN"
	fi
}

# tb FILE: the content of FILE under the testbed's sysfs.
tb() {
	cat "$TB/sys/$1"
}

overridden() {
	[ "$(tb "bus/pci/devices/$1/driver_override")" = vfio-pci ]
}

# The kernel's part once vfio-pci has probed ADDR.
kernel_gives_vfio() {
	ln -sfn "$TB/sys/bus/pci/drivers/vfio-pci" "$TB/sys/bus/pci/devices/$1/driver"
}

# unbound DRIVER ADDR: statd unbound ADDR from DRIVER.
unbound() {
	[ "$(tb "bus/pci/drivers/$1/unbind")" = "$2" ]
}

# Every non-bridge member given to vfio-pci, statd waiting for /dev/vfio/15.
bind_group() {
	wait_until overridden "$NIC"
	wait_until overridden "$SOUND"
	wait_until overridden "$SERIAL"
	# statd writes again at each look until /dev/vfio/15 is there: a read may
	# meet the file between truncation and write.
	wait_until unbound e1000 "$NIC"
	wait_until unbound snd_ens1371 "$SOUND"
	# The bridge stays with the kernel.
	[ "$(tb bus/pci/devices/0000:05:00.0/driver_override)" != vfio-pci ]
	# The drivers were recorded before the first write.
	run sql "SELECT address, driver, vm FROM host_drivers ORDER BY address"
	assert_output "$NIC|e1000|vm1
$SOUND|snd_ens1371|vm1
$SERIAL||vm1"
	refute statd_log_has '"driver":"vfio-pci"'
	for a in "$NIC" "$SOUND" "$SERIAL"; do kernel_gives_vfio "$a"; done
	mkdir -p "$TB/dev/vfio"
	: >"$TB/dev/vfio/15"
}

# The host drivers are given back, the records gone.
drivers_restored() {
	[ "$(tb bus/pci/drivers/e1000/bind)" = "$NIC" ] &&
		[ "$(tb bus/pci/drivers/snd_ens1371/bind)" = "$SOUND" ] &&
		[ "$(sql 'SELECT count(*) FROM host_drivers')" -eq 0 ]
}
