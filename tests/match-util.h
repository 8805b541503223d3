/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers of the matcher's unit tests: configs from inline JSON, a sample USB mouse. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "device.h"
#include "macro.h"
#include "match.h"

static struct config *load(const char *json)
{
	char path[] = "/tmp/test-match-XXXXXX";
	struct config *cfg = NULL;
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, json, strlen(json)) != (ssize_t)strlen(json))
		abort();
	close(fd);
	if (config_load(path, &cfg, stderr) < 0) {
		fprintf(stderr, "config did not load: %s\n", json);
		abort();
	}
	unlink(path);
	return cfg;
}

#define VMS "\"vms\":[{\"name\":\"vm1\",\"type\":\"qemu\",\"socket\":\"/s1\"}," \
	    "{\"name\":\"vm2\",\"type\":\"qemu\",\"socket\":\"/s2\"}]"

/* One USB rule set for vm1 allowing RULE. */
static struct config *usb_rule(const char *rule)
{
	char json[2048];

	snprintf(json, sizeof(json),
		 "{\"usbPassthrough\":[{\"targetVm\":\"vm1\",\"allow\":[%s]}]," VMS "}", rule);
	return load(json);
}

static void usb_init(struct device *d)
{
	memset(d, 0, sizeof(*d));
	d->kind = DEV_USB;
	d->vendor_id = 0x046d;
	d->product_id = 0xc077;
	d->vendor_name = "Logitech, Inc.";
	d->product_name = "M105 Optical Mouse";
	d->busnum = 3;
	d->devnum = 7;
	d->ports[0] = 2;
	d->ports[1] = 1;
	d->n_ports = 2;
	d->dev_class = d->dev_subclass = d->dev_protocol = 0;
	d->ifaces[0] = (struct usb_iface){ 3, 1, 2 };
	d->n_ifaces = 1;
	d->removable = "removable";
	d->iommu_group = -1;
}

static bool takes(const char *rule, const struct device *d)
{
	struct config *cfg = usb_rule(rule);
	struct match_result res;
	bool ok = match_device(cfg, d, &res, NULL);

	config_free(cfg);
	return ok;
}

static const char *decide(const struct config *cfg, const struct device *d)
{
	struct match_result res;

	if (!match_device(cfg, d, &res, NULL))
		return "none";
	return res.set->target_vm ? res.set->target_vm : "allowed";
}
