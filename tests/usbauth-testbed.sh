# Sourced inside umockdev-run: completes the USB part of the testbed for
# usbAuthorization with what umockdev does not create from a recording:
# usbcore's module parameter. USBAUTH_UNAUTHORIZED lists the devices
# ("1-3 1-4") plugged after authorized_default went to 0, which the kernel
# left unauthorized (no interfaces configured would be truer; the files are
# what vhotplug reads and writes).
usbauth_testbed_complete() {
	local sys=$UMOCKDEV_DIR/sys d
	mkdir -p "$sys/module/usbcore/parameters"
	echo 1 >"$sys/module/usbcore/parameters/authorized_default"
	for d in ${USBAUTH_UNAUTHORIZED:-}; do
		echo 0 >"$sys/devices/pci0000:00/0000:00:14.0/usb1/$d/authorized"
	done
}

usbauth_testbed_complete
