# Sourced inside umockdev-run: completes the PCI part of the testbed with what
# umockdev does not create from a recording: the IOMMU group directories with
# their member links, and the driver directories (bind/unbind) and
# drivers_probe the kernel provides. Every file starts empty, so a test reads
# exactly what was written to it.
pci_testbed_complete() {
	local sys=$UMOCKDEV_DIR/sys dev link group drv
	mkdir -p "$sys/bus/pci/drivers/vfio-pci" "$sys/kernel/iommu_groups"
	: >"$sys/bus/pci/drivers_probe"
	: >"$sys/bus/pci/drivers/vfio-pci/bind"
	: >"$sys/bus/pci/drivers/vfio-pci/unbind"
	for dev in "$sys"/bus/pci/devices/*; do
		link=$(readlink "$dev")
		if [ -L "$dev/iommu_group" ]; then
			group=$(basename "$(readlink "$dev/iommu_group")")
			mkdir -p "$sys/kernel/iommu_groups/$group/devices"
			ln -s "../../../../${link#../../../}" \
				"$sys/kernel/iommu_groups/$group/devices/$(basename "$dev")"
		fi
		if [ -L "$dev/driver" ]; then
			drv=$(basename "$(readlink "$dev/driver")")
			mkdir -p "$sys/bus/pci/drivers/$drv"
			: >"$sys/bus/pci/drivers/$drv/bind"
			: >"$sys/bus/pci/drivers/$drv/unbind"
		fi
	done
}

# What the kernel does once a driver has probed ADDR: its driver link moves.
# DRIVER "-" leaves the device without one.
pci_testbed_driver() {
	local dir=$UMOCKDEV_DIR/sys/bus/pci/devices/$1
	rm -f "$dir/driver"
	[ "$2" = - ] || ln -s "$UMOCKDEV_DIR/sys/bus/pci/drivers/$2" "$dir/driver"
}

# show FILE...: "FILE=CONTENT" for each, relative to the testbed's sysfs.
show() {
	local f
	for f; do
		printf '%s=%s\n' "$f" "$(cat "$UMOCKDEV_DIR/sys/$f")"
	done
}

pci_testbed_complete
