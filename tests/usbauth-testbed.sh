# Sourced inside umockdev-run: completes the USB part of the testbed for
# usbAuthorization with what umockdev does not create from a recording:
# usbcore's module parameter and bus/usb/drivers_probe (a plain file: it
# keeps the last interface written). USBAUTH_UNAUTHORIZED lists the devices
# ("1-3 1-4") plugged after authorized_default went to 0, which the kernel
# left unauthorized, their interfaces too (no interfaces configured would be
# truer; the files are what vhotplug reads and writes).
usbauth_testbed_complete() {
	local sys=$UMOCKDEV_DIR/sys d i
	mkdir -p "$sys/module/usbcore/parameters"
	echo 1 >"$sys/module/usbcore/parameters/authorized_default"
	mkdir -p "$sys/bus/usb"
	: >"$sys/bus/usb/drivers_probe"
	for d in ${USBAUTH_UNAUTHORIZED:-}; do
		echo 0 >"$sys/devices/pci0000:00/0000:00:14.0/usb1/$d/authorized"
		for i in "$sys/devices/pci0000:00/0000:00:14.0/usb1/$d/$d":*/authorized; do
			[ ! -e "$i" ] || echo 0 >"$i"
		done
	done
}

usbauth_testbed_complete
