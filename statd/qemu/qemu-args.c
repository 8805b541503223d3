/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "qemu-args.h"
#include "vfio.h"

/* QEMU's own PCIe root port: PCI_VENDOR_ID_REDHAT, PCI_DEVICE_ID_REDHAT_PCIE_RP. */
#define ROOT_PORT_VENDOR 0x1b36
#define ROOT_PORT_DEVICE 0x000c

bool qemu_args_id_valid(const char *id)
{
	size_t n;

	if (!id || !isalpha((unsigned char)id[0]))
		return false;
	for (n = 1; id[n]; n++)
		if (!isalnum((unsigned char)id[n]) && !strchr("-._", id[n]))
			return false;
	return n < QEMU_ARGS_ID_MAX;
}

bool qemu_args_evdev_node_valid(const char *path)
{
	static const char prefix[] = "/dev/input/event";
	const char *p;

	if (!path || strncmp(path, prefix, sizeof(prefix) - 1) != 0)
		return false;
	p = path + sizeof(prefix) - 1;
	if (!*p || strlen(p) > 9)
		return false;
	for (; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return true;
}

static struct json_object *device_args(const char *driver, const char *key, const char *value,
				       const char *id, const char *bus)
{
	struct json_object *a = json_object_new_object();

	if (!a)
		return NULL;
	json_object_object_add(a, "driver", json_object_new_string(driver));
	json_object_object_add(a, key, json_object_new_string(value));
	json_object_object_add(a, "id", json_object_new_string(id));
	json_object_object_add(a, "bus", json_object_new_string(bus));
	/* A root port has one slot. Without addr, QEMU 7.2 puts a second device
	 * on an occupied port at a slot the guest never sees; with it, QEMU
	 * refuses, and the caller tries the next port. */
	json_object_object_add(a, "addr", json_object_new_string("0"));
	return a;
}

struct json_object *qemu_args_vfio_pci(const char *host, const char *id, const char *bus)
{
	if (!vfio_addr_valid(host) || !qemu_args_id_valid(id) || !qemu_args_id_valid(bus))
		return NULL;
	return device_args("vfio-pci", "host", host, id, bus);
}

struct json_object *qemu_args_evdev(const char *evdev, const char *id, const char *bus)
{
	if (!qemu_args_evdev_node_valid(evdev) || !qemu_args_id_valid(id) || !qemu_args_id_valid(bus))
		return NULL;
	return device_args("virtio-input-host-pci", "evdev", evdev, id, bus);
}

static int64_t get_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int) ?
		       json_object_get_int64(v) : -1;
}

static bool dev_is(struct json_object *dev, uint16_t vendor, uint16_t device)
{
	struct json_object *id;

	return json_object_object_get_ex(dev, "id", &id) && get_int(id, "vendor") == vendor &&
	       get_int(id, "device") == device;
}

/* The "devices" array of a bridge, NULL when none or not listed. */
static struct json_object *bridge_devices(struct json_object *dev)
{
	struct json_object *br, *devs;

	if (!json_object_object_get_ex(dev, "pci_bridge", &br) ||
	    !json_object_object_get_ex(br, "devices", &devs) ||
	    !json_object_is_type(devs, json_type_array))
		return NULL;
	return devs;
}

static bool in_list(const char *id, const char *const *list)
{
	for (; list && *list; list++)
		if (streq(id, *list))
			return true;
	return false;
}

static void scan_ports(struct json_object *devs, const char *const *busy,
		       char ports[][QEMU_ARGS_ID_MAX], size_t max, size_t *n)
{
	for (size_t i = 0; i < json_object_array_length(devs); i++) {
		struct json_object *dev = json_object_array_get_idx(devs, i), *qid, *behind;
		const char *id;

		behind = bridge_devices(dev);
		if (behind)
			scan_ports(behind, busy, ports, max, n);
		if (!dev_is(dev, ROOT_PORT_VENDOR, ROOT_PORT_DEVICE) ||
		    !json_object_object_get_ex(dev, "qdev_id", &qid))
			continue;
		id = json_object_get_string(qid);
		if (!qemu_args_id_valid(id) || in_list(id, busy))
			continue;
		if (behind && json_object_array_length(behind) > 0)
			continue;
		if (*n < max)
			snprintf(ports[*n], QEMU_ARGS_ID_MAX, "%s", id);
		(*n)++;
	}
}

int qemu_args_free_ports(struct json_object *query_pci, const char *const *busy,
			 char ports[][QEMU_ARGS_ID_MAX], size_t max)
{
	size_t n = 0;

	if (!json_object_is_type(query_pci, json_type_array))
		return -EINVAL;
	for (size_t i = 0; i < json_object_array_length(query_pci); i++) {
		struct json_object *bus = json_object_array_get_idx(query_pci, i), *devs;

		if (json_object_object_get_ex(bus, "devices", &devs) &&
		    json_object_is_type(devs, json_type_array))
			scan_ports(devs, busy, ports, max, &n);
	}
	return (int)(n < max ? n : max);
}

/*
 * statd's own qdev ids (statd/sched/job.c): those devices it knows by id, and a
 * function it added must not hide another function with the same ids (the
 * second port of a dual-port NIC, with pciIommuAddAll).
 */
static bool is_ours(struct json_object *dev)
{
	struct json_object *qid;

	return json_object_object_get_ex(dev, "qdev_id", &qid) &&
	       strncmp(json_object_get_string(qid) ?: "", "vhp-", 4) == 0;
}

/* The devices VENDOR:DEVICE in DEVS, behind bridges too, not statd's own: named into IDS, or *ANON. */
static void same_device(struct json_object *devs, uint16_t vendor, uint16_t device,
			char ids[][QEMU_ARGS_ID_MAX], size_t max, size_t *n, bool *anon)
{
	for (size_t i = 0; i < json_object_array_length(devs); i++) {
		struct json_object *dev = json_object_array_get_idx(devs, i), *behind, *qid;
		const char *id;

		if (dev_is(dev, vendor, device) && !is_ours(dev)) {
			id = json_object_object_get_ex(dev, "qdev_id", &qid) ?
			     json_object_get_string(qid) : NULL;
			if (id && *id && strlen(id) < QEMU_ARGS_ID_MAX && *n < max)
				snprintf(ids[(*n)++], QEMU_ARGS_ID_MAX, "%s", id);
			else
				*anon = true;
		}
		behind = bridge_devices(dev);
		if (behind)
			same_device(behind, vendor, device, ids, max, n, anon);
	}
}

static size_t same_devices(struct json_object *query_pci, uint16_t vendor, uint16_t device,
			   char ids[][QEMU_ARGS_ID_MAX], size_t max, bool *anon)
{
	size_t n = 0;

	*anon = false;
	if (!json_object_is_type(query_pci, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(query_pci); i++) {
		struct json_object *devs;

		if (json_object_object_get_ex(json_object_array_get_idx(query_pci, i), "devices", &devs) &&
		    json_object_is_type(devs, json_type_array))
			same_device(devs, vendor, device, ids, max, &n, anon);
	}
	return n;
}

bool qemu_args_has_device(struct json_object *query_pci, uint16_t vendor, uint16_t device)
{
	char ids[1][QEMU_ARGS_ID_MAX];
	bool anon;

	return same_devices(query_pci, vendor, device, ids, 1, &anon) > 0 || anon;
}

size_t qemu_args_named_like(struct json_object *query_pci, uint16_t vendor, uint16_t device,
			    char ids[][QEMU_ARGS_ID_MAX], size_t max)
{
	bool anon;

	return same_devices(query_pci, vendor, device, ids, max, &anon);
}

bool qemu_args_port_occupied(const char *desc)
{
	return desc && strstr(desc, "not available for") && strstr(desc, "in use by");
}

bool qemu_args_evdev_busy(const char *desc)
{
	return desc && strstr(desc, "Device or resource busy");
}
