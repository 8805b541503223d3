/* SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ident.h"

/* Longer qdev ids are cut and hashed: QMP logs and qom-list stay readable. */
#define QDEV_ID_MAX 64

char *ident_make(const struct device *dev)
{
	int vid = dev->vendor_id < 0 ? 0 : dev->vendor_id;
	int pid = dev->product_id < 0 ? 0 : dev->product_id;
	char *s = NULL;
	int r;

	switch (dev->kind) {
	case DEV_USB:
		if (dev->serial && *dev->serial)
			r = asprintf(&s, "usb:%04x:%04x:%s", vid, pid, dev->serial);
		else
			r = asprintf(&s, "usb:%04x:%04x@%s", vid, pid, dev->sysname ?: "");
		break;
	case DEV_PCI:
		r = asprintf(&s, "pci:%s", dev->sysname ?: "");
		break;
	default:
		r = asprintf(&s, "evdev:%s", dev->devpath ?: "");
		break;
	}
	return r < 0 ? NULL : s;
}

char *ident_with_port(const char *ident, const char *sysname)
{
	char *s = NULL;

	return asprintf(&s, "%s@%s", ident, sysname ?: "") < 0 ? NULL : s;
}

static bool qdev_char(char c)
{
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

/* FNV-1a, 32 bits: enough to keep apart the few identities that are cut or mapped. */
static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

char *ident_qdev_id(const char *kind, const char *ident)
{
	const char *body = strchr(ident, ':') ? strchr(ident, ':') + 1 : ident;
	char *id = malloc(QDEV_ID_MAX + 1);
	/*
	 * A path (evdev): its last part reads well ("event5"); the hash tells
	 * paths apart. Only a path: a USB serial may hold a '/' too.
	 */
	const char *slash = body[0] == '/' ? strrchr(body, '/') : NULL;
	const char *p = slash ? slash + 1 : body;
	int colons = 0, ats = 0;
	bool changed = slash != NULL;
	size_t n;

	if (!id)
		return NULL;
	n = (size_t)snprintf(id, QDEV_ID_MAX + 1, "vhp-%s-", kind);
	for (; *p && n < QDEV_ID_MAX - 9; p++) {
		/*
		 * The separators of the identity's parts read as '-' (':') and
		 * '.' ('@'), so "usb:v:p:SERIAL" and "usb:v:p@PORT" never meet;
		 * one more of them, like any other character QEMU refuses, is
		 * mapped to '_' and the hash keeps the identities apart.
		 */
		if (*p == ':' && ++colons <= 2)
			id[n++] = '-';
		else if (*p == '@' && ++ats == 1 && colons == 1)
			id[n++] = '.';
		else if (qdev_char(*p))
			id[n++] = *p;
		else {
			id[n++] = '_';
			changed = true;
		}
	}
	if (changed || *p)
		n += (size_t)snprintf(id + n, QDEV_ID_MAX + 1 - n, "-%08x", hash(ident));
	id[n] = '\0';
	return id;
}
