/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A device's strings as they leave vhotplug (logs, history labels, explain):
 * what the device reports is hostile until escaped, and bounded in length.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "macro.h"

/* Length of the well-formed UTF-8 sequence at S (RFC 3629), or 0. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n = *s < 0x80 ? 1 : *s < 0xc2 ? 0 : *s < 0xe0 ? 2 : *s < 0xf0 ? 3 : *s < 0xf5 ? 4 : 0;

	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlong forms, surrogates, and code points above U+10FFFF */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

/*
 * Invisible format characters that reorder or hide text: bidi marks,
 * embeddings, overrides and isolates (U+202E shows "gpj.exe" as "exe.jpg"),
 * line and paragraph separators (a second line), zero-width characters and
 * the BOM. Unicode's Cf and Zl/Zp categories as far as they matter in a label.
 */
static bool is_format(uint32_t cp)
{
	return cp == 0x00ad || cp == 0x061c || cp == 0x180e || (cp >= 0x200b && cp <= 0x200f) ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) ||
	       cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb);
}

/* C0 and C1 controls, DEL, the backslash our escapes start with, and format characters. */
static bool needs_escape(const unsigned char *s, size_t n)
{
	if (n == 1)
		return *s < 0x20 || *s == 0x7f || *s == '\\';
	if (n == 2)
		return is_format((uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f)) ||
		       (s[0] == 0xc2 && s[1] < 0xa0);
	return n == 3 && is_format((uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 |
				   (s[2] & 0x3f));
}

static void put_byte_escaped(FILE *f, unsigned char c)
{
	if (c == '\n')
		fputs("\\n", f);
	else if (c == '\t')
		fputs("\\t", f);
	else if (c == '\\')
		fputs("\\\\", f);
	else
		fprintf(f, "\\x%02x", c);
}

/*
 * Device strings come from the device itself: keep labels on one line, valid
 * UTF-8 and short, so device_history stays readable whatever a device claims.
 */
void device_put_escaped(FILE *f, const char *str, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t out = 0;

	while (*s) {
		size_t n = utf8_len(s);

		if (out >= max) {
			fputs("...", f);
			return;
		}
		if (n == 0 || needs_escape(s, n)) {
			put_byte_escaped(f, *s++);	/* a C1 control shows as \xc2\x9b */
		} else {
			fwrite(s, 1, n, f);
			s += n;
		}
		out++;
	}
}

#define LABEL_FIELD_MAX 96

/*
 * Into a buffer of SIZE, not open_memstream(): statd writes labels under
 * umockdev in the tests, where ASan loses track of memstreams and aborts.
 */
static char *print_bounded(size_t size, void (*fn)(FILE *f, const void *arg), const void *arg)
{
	char *buf = calloc(1, size);
	FILE *f = buf ? fmemopen(buf, size, "w") : NULL;

	if (!f) {
		free(buf);
		return NULL;
	}
	setbuf(f, NULL);
	fn(f, arg);
	if (ferror(f) || ftell(f) >= (long)size - 1) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

static void escape_to(FILE *f, const void *arg)
{
	device_put_escaped(f, arg, DEVICE_DEVPATH_MAX);
}

char *device_escape(const char *s)
{
	/* At most 4 bytes out per byte in, and "..." */
	return print_bounded(4 * (strnlen(s ?: "", DEVICE_DEVPATH_MAX) + 1) + 8, escape_to, s ?: "");
}

bool device_devpath_valid(const char *devpath)
{
	size_t len;

	if (!devpath)
		return false;
	len = strlen(devpath);
	if (len >= DEVICE_DEVPATH_MAX || strncmp(devpath, "/devices/", 9) != 0 ||
	    devpath[len - 1] == '/')
		return false;
	for (const char *p = devpath; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	/* Every component a plain name: no "", ".", "..". */
	for (const char *c = devpath + 1; c; c = strchr(c, '/') ? strchr(c, '/') + 1 : NULL) {
		size_t n = strcspn(c, "/");

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
	}
	return true;
}

static void describe_usb(FILE *f, const struct device *dev)
{
	fputs("usb ", f);
	if (dev->vendor_id >= 0 && dev->product_id >= 0)
		fprintf(f, "%04x:%04x", dev->vendor_id, dev->product_id);
	else
		fputs("????:????", f);
	if (dev->vendor_name) {
		fputc(' ', f);
		device_put_escaped(f, dev->vendor_name, LABEL_FIELD_MAX);
	}
	if (dev->product_name) {
		fputc(' ', f);
		device_put_escaped(f, dev->product_name, LABEL_FIELD_MAX);
	}
	if (dev->serial) {
		fputs(" serial ", f);
		device_put_escaped(f, dev->serial, LABEL_FIELD_MAX);
	}
	fprintf(f, " at %s", dev->sysname ?: "?");
}

static void describe_pci(FILE *f, const struct device *dev)
{
	fprintf(f, "pci %s", dev->sysname ?: "?");
	if (dev->vendor_id >= 0 && dev->product_id >= 0)
		fprintf(f, " %04x:%04x", dev->vendor_id, dev->product_id);
	if (dev->product_name) {
		fputc(' ', f);
		device_put_escaped(f, dev->product_name, LABEL_FIELD_MAX);
	}
	if (dev->driver)
		fprintf(f, " (%s)", dev->driver);
}

static void describe_evdev(FILE *f, const struct device *dev)
{
	fprintf(f, "evdev %s \"", dev->devnode ?: dev->sysname ?: "?");
	device_put_escaped(f, dev->name ?: "?", LABEL_FIELD_MAX);
	fputc('"', f);
}

static void describe_to(FILE *f, const void *arg)
{
	const struct device *dev = arg;

	if (dev->kind == DEV_USB)
		describe_usb(f, dev);
	else if (dev->kind == DEV_PCI)
		describe_pci(f, dev);
	else
		describe_evdev(f, dev);
}

char *device_describe(const struct device *dev)
{
	/* Device strings are cut to LABEL_FIELD_MAX; sysname, devnode and driver come from the kernel. */
	size_t size = 3 * (4 * LABEL_FIELD_MAX + 16) + 64;

	size += strlen(dev->sysname ?: "") + strlen(dev->devnode ?: "") + strlen(dev->driver ?: "");
	return print_bounded(size, describe_to, dev);
}
