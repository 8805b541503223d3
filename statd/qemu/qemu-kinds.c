/* SPDX-License-Identifier: Apache-2.0 */
#include <json-c/json.h>
#include <string.h>

#include "qemu-args.h"
#include "qemu-kinds.h"

static struct json_object *usb_host_args(const struct vm *vm, const struct vmm_job *j, const char *bus)
{
	struct json_object *a = json_object_new_object();
	const char *ports = strchr(j->sysname, '-');

	if (!a)
		return NULL;
	switch (vm->usb_attach_by) {
	case USB_ATTACH_VIDPID:
		json_object_object_add(a, "vendorid", json_object_new_int(j->vendor_id));
		json_object_object_add(a, "productid", json_object_new_int(j->product_id));
		break;
	case USB_ATTACH_PORT:
		json_object_object_add(a, "hostbus", json_object_new_int(j->busnum));
		json_object_object_add(a, "hostport", json_object_new_string(ports ? ports + 1 : ""));
		break;
	default:
		json_object_object_add(a, "hostbus", json_object_new_int(j->busnum));
		json_object_object_add(a, "hostaddr", json_object_new_int(j->devnum));
		break;
	}
	return a;
}

/* The host function by its address: the sysname of a PCI device. */
static struct json_object *vfio_args(const struct vm *vm, const struct vmm_job *j, const char *bus)
{
	return qemu_args_vfio_pci(j->sysname, j->qdev_id, bus);
}

static struct json_object *evdev_args(const struct vm *vm, const struct vmm_job *j, const char *bus)
{
	return qemu_args_evdev(j->devnode ?: "", j->qdev_id, bus);
}

static const struct qemu_kind kinds[DEV_KIND_MAX] = {
	[DEV_USB] = {
		.driver = "usb-host",
		.args = usb_host_args,
		/*
		 * usb-host looks the device up in libusb's list, which learns
		 * of a new device only after udev has finished with it (RUN
		 * programs included), so the first device_add may come too
		 * early.
		 */
		.not_yet = "failed to find host usb device",
	},
	/* Host side: statd/prep.c binds the whole IOMMU group to vfio-pci first. */
	[DEV_PCI] = {
		.driver = "vfio-pci",
		.args = vfio_args,
		.needs_port = true,
		.waits_deleted = true,
	},
	/* A grabbed node ("Device or resource busy") is refused for good: not retried. */
	[DEV_EVDEV] = {
		.driver = "virtio-input-host-pci",
		.args = evdev_args,
		.needs_port = true,
		.waits_deleted = true,
	},
};

const struct qemu_kind *qemu_kind_get(enum dev_kind kind)
{
	return &kinds[kind];
}
