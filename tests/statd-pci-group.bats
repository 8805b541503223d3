#!/usr/bin/env bats
# pciIommuAddAll end to end: the helper queues every function of the matched
# one's IOMMU group, statd adds each to a real QEMU (and to the scripted peer
# of tests/qmp-peer.py for what must succeed). The PCI testbed is described
# in tests/kinds.bash.

load common
load qemu
load kinds

setup_file() {
	python_resolve
}

setup() {
	qemu_setup
	VM1=$DIR/vm1.sock
}

teardown() {
	qemu_teardown
}

# add_all_config ALLOW-RULES: one rule set for vm1 with pciIommuAddAll.
add_all_config() {
	cat >"$CONFIG" <<-EOF
	{
	  "pciPassthrough": [ { "targetVm": "vm1", "pciIommuAddAll": true, "tag": "uplink",
	                        "allow": [ $1 ] } ],
	  "vms": [ { "name": "vm1", "type": "qemu", "socket": "$VM1" } ]
	}
	EOF
}

# intents_of ADDR: action|vm|state|tag|rule of each of ADDR's intents.
intents_of() {
	sql "SELECT i.action, i.vm, i.state, i.tag, i.rule FROM intents i JOIN devices d ON d.id = i.device_id
	     WHERE d.sysname = '$1' ORDER BY i.id"
}

# device_adds ADDR: how many device_add statd sent for host ADDR.
device_adds() {
	grep -c "device_add {\"driver\":\"vfio-pci\",\"host\":\"$1\"" "$STATD_LOG"
}

@test "pci: pciIommuAddAll queues every other function of the group, the bridge aside, each with its history" {
	add_all_config '{ "address": "'$NIC'", "description": "the NIC" }'
	pci_event add "$NIC"

	run intents_of "$NIC"
	assert_output "attach|vm1|pending|uplink|pciPassthrough[0].allow[0] (the NIC)"
	for a in "$SOUND" "$SERIAL"; do
		run intents_of "$a"
		assert_output "attach|vm1|pending|uplink|pciIommuAddAll: in the IOMMU group of $NIC, which pciPassthrough[0].allow[0] (the NIC) takes"
		run sql "SELECT h.event, h.vm, h.detail FROM history h JOIN devices d ON d.id = h.device_id
			 WHERE d.sysname = '$a'"
		assert_output "queued|vm1|pciIommuAddAll: in the IOMMU group of $NIC, which pciPassthrough[0].allow[0] (the NIC) takes"
	done
	run sql "SELECT sysname, kind FROM devices ORDER BY sysname"
	assert_output "$NIC|pci
$SOUND|pci
$SERIAL|pci"
	# One transaction: the intents follow each other.
	run sql "SELECT group_concat(d.sysname, ' ') FROM intents i JOIN devices d ON d.id = i.device_id ORDER BY i.id"
	assert_output "$NIC $SOUND $SERIAL"
}

@test "pci: pciIommuAddAll leaves a function the rule set takes by itself to its own event" {
	add_all_config '{ "address": "'$NIC'" }, { "vendorId": "1274" }'
	pci_event add "$NIC"
	run sql "SELECT d.sysname FROM intents i JOIN devices d ON d.id = i.device_id ORDER BY i.id"
	assert_output "$NIC
$SERIAL"
	pci_event add "$SOUND"
	run intents_of "$SOUND"
	assert_output "attach|vm1|pending|uplink|pciPassthrough[0].allow[1] ()"
}

@test "pci: pciIommuAddAll without an IOMMU group to read queues the function alone" {
	add_all_config '{ "address": "'$NIC'" }'
	PCI_TB_EXTRA="rm \"\$UMOCKDEV_DIR/sys$PCI_DEVS/$NIC/iommu_group\"" pci_event add "$NIC"
	run sql "SELECT count(*) FROM intents"
	assert_output 1
}

@test "pci: pciIommuAddAll: device_add vfio-pci for every function, QEMU's error for each is attach_failed" {
	add_all_config '{ "address": "'$NIC'" }'
	qemu_ports_start vm1
	pci_statd_start
	pci_event add "$NIC"
	bind_group
	for a in "$NIC" "$SOUND" "$SERIAL"; do
		wait_until ev_has "$a" attach_failed
		run ev_detail "$a" attach_failed
		assert_output --partial "no such host device"
		[ "$(device_adds "$a")" -eq 1 ]
	done
	statd_log_has '{"driver":"vfio-pci","host":"0000:06:01.0","id":"vhp-pci-0000-06-01.0","bus":"rp1","addr":"0"}'
	statd_log_has '{"driver":"vfio-pci","host":"0000:06:02.0","id":"vhp-pci-0000-06-02.0","bus":"rp1","addr":"0"}'
	run sql "SELECT state FROM intents WHERE action = 'attach'"
	assert_output "failed
failed
failed"
	run peripherals "$VM1"
	refute_line --partial vhp-pci
}

@test "pci: pciIommuAddAll: a repeated event adds no function twice; each leaves on its own remove event" {
	# The group as NIC and sound card only: the peer has two free ports.
	PCI_TB_EXTRA="rm \"\$UMOCKDEV_DIR/sys/kernel/iommu_groups/15/devices/$SERIAL\""
	add_all_config '{ "address": "'$NIC'" }'
	peer_start "$VM1" ports
	pci_statd_start
	pci_event add "$NIC"
	wait_until overridden "$SOUND"
	for a in "$NIC" "$SOUND" "$SERIAL"; do kernel_gives_vfio "$a"; done
	mkdir -p "$TB/dev/vfio"
	: >"$TB/dev/vfio/15"
	wait_until ev_has "$NIC" attached
	wait_until ev_has "$SOUND" attached
	[ "$(tb "bus/pci/devices/$SERIAL/driver_override")" != vfio-pci ]
	nic_adds=$(device_adds "$NIC")
	sound_adds=$(device_adds "$SOUND")

	# udevadm trigger, say: the same add again.
	pci_event add "$NIC"
	wait_until ev_has "$SOUND" attached 2
	wait_until ev_has "$NIC" attached 2
	[ "$(device_adds "$NIC")" -eq "$nic_adds" ]
	[ "$(device_adds "$SOUND")" -eq "$sound_adds" ]
	run ev_detail "$SOUND" attached
	assert_output "already attached"
	run sql "SELECT count(*) FROM attachments"
	assert_output 2

	pci_event remove "$NIC"
	wait_until ev_has "$NIC" detached
	# The sound card is still in the VM: the group stays with vfio-pci.
	run sql "SELECT count(*) FROM host_drivers"
	assert_output 2
	[ "$(tb bus/pci/drivers/snd_ens1371/bind)" = "" ]
	pci_event remove "$SOUND"
	wait_until ev_has "$SOUND" detached
	run sql "SELECT count(*) FROM attachments"
	assert_output 0
	wait_until drivers_restored
}

@test "pci: pciIommuAddAll: a reconcile keeps the functions brought along in the VM" {
	PCI_TB_EXTRA="rm \"\$UMOCKDEV_DIR/sys/kernel/iommu_groups/15/devices/$SERIAL\""
	add_all_config '{ "address": "'$NIC'" }'
	peer_start "$VM1" ports
	pci_statd_start
	pci_event add "$NIC"
	wait_until overridden "$SOUND"
	for a in "$NIC" "$SOUND" "$SERIAL"; do kernel_gives_vfio "$a"; done
	mkdir -p "$TB/dev/vfio"
	: >"$TB/dev/vfio/15"
	wait_until ev_has "$NIC" attached
	wait_until ev_has "$SOUND" attached

	run "$CTL" -c "$CONFIG" --db "$DB" --run-dir "$RUN" reconcile vm1
	assert_success
	assert_line --partial "0 to attach, 0 to detach, 2 kept"
	run ev_has "$SOUND" detached
	assert_failure
	run sql "SELECT count(*) FROM attachments WHERE state = 'attached'"
	assert_output 2
}
