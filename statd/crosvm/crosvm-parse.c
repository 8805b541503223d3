/* SPDX-License-Identifier: Apache-2.0 */
/* What a crosvm run printed, read: its UsbControlResult line, or why it failed. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "crosvm-run.h"
#include "device.h"
#include "macro.h"

static const char *const status_names[] = {
	[CROSVM_OK] = "ok",
	[CROSVM_DEVICES] = "devices",
	[CROSVM_NO_AVAILABLE_PORT] = "no_available_port",
	[CROSVM_NO_SUCH_DEVICE] = "no_such_device",
	[CROSVM_NO_SUCH_PORT] = "no_such_port",
	[CROSVM_FAILED_TO_OPEN_DEVICE] = "failed_to_open_device",
	[CROSVM_FAILED_TO_INIT_HOST_DEVICE] = "failed_to_init_host_device",
	[CROSVM_ERROR] = "error",
};

const char *crosvm_status_name(enum crosvm_status s)
{
	return (unsigned int)s < ARRAY_SIZE(status_names) ? status_names[s] : "error";
}

/*
 * The first line of SRC into DST, trailing blanks cut, escaped as device
 * strings are: crosvm's words reach the log and device_history, and a
 * control byte (ESC, OSC), bidi override or ill-formed UTF-8 must not.
 */
static void first_line(char *dst, size_t size, const char *src)
{
	_cleanup_free_ char *line = NULL, *esc = NULL;
	size_t n;

	while (*src == '\n')
		src++;
	n = strcspn(src, "\n");
	while (n > 0 && (src[n - 1] == ' ' || src[n - 1] == '\r' || src[n - 1] == '\t'))
		n--;
	line = strndup(src, n);
	esc = line ? device_escape(line) : NULL;
	n = esc ? strlen(esc) : 0;
	/* Cut at a character's first byte: what is left stays valid UTF-8. */
	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)esc[n] & 0xc0) == 0x80)
			n--;
	}
	if (n)
		memcpy(dst, esc, n);
	dst[n] = '\0';
}

/* A decimal port crosvm prints (a u8), ending at a space or the end. */
static const char *parse_port(const char *s, unsigned int *port)
{
	unsigned int v = 0;
	const char *p = s;

	while (isdigit((unsigned char)*p) && p - s < 3)
		v = v * 10 + (unsigned int)(*p++ - '0');
	if (p == s || v > 255 || (*p && *p != ' '))
		return NULL;
	*port = v;
	return p;
}

static const char *parse_hex4(const char *s, uint16_t *v)
{
	unsigned int x = 0;

	for (int i = 0; i < 4; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return NULL;
		x = x << 4 | (unsigned int)(isdigit((unsigned char)s[i]) ? s[i] - '0' :
					     tolower((unsigned char)s[i]) - 'a' + 10);
	}
	if (s[4] && s[4] != ' ')
		return NULL;
	*v = (uint16_t)x;
	return s + 4;
}

static int parse_devices(const char *p, struct crosvm_result *r)
{
	while (*p == ' ') {
		struct crosvm_usb_device *d;

		if (r->n_devices == CROSVM_MAX_PORTS)
			return -EBADMSG;
		d = &r->devices[r->n_devices];
		p = parse_port(p + 1, &d->port);
		if (!p || *p != ' ' || !(p = parse_hex4(p + 1, &d->vendor_id)) || *p != ' ' ||
		    !(p = parse_hex4(p + 1, &d->product_id)))
			return -EBADMSG;
		r->n_devices++;
	}
	return *p ? -EBADMSG : 0;
}

int crosvm_parse(const char *out, struct crosvm_result *r)
{
	const char *line = r->text;

	memset(r, 0, sizeof(*r));
	first_line(r->text, sizeof(r->text), out ? out : "");
	for (size_t i = CROSVM_NO_AVAILABLE_PORT; i < CROSVM_ERROR; i++) {
		if (streq(line, status_names[i])) {
			r->status = (enum crosvm_status)i;
			return 0;
		}
	}
	if (strncmp(line, "ok ", 3) == 0) {
		const char *end = parse_port(line + 3, &r->port);

		if (end && !*end) {
			r->status = CROSVM_OK;
			return 0;
		}
	} else if (strncmp(line, "devices", 7) == 0 && (!line[7] || line[7] == ' ')) {
		if (parse_devices(line + 7, r) == 0) {
			r->status = CROSVM_DEVICES;
			return 0;
		}
		r->n_devices = 0;
	}
	r->status = CROSVM_ERROR;
	if (!line[0])
		snprintf(r->text, sizeof(r->text), "no output");
	return -EBADMSG;
}

int crosvm_find_port(const struct crosvm_result *r, uint16_t vid, uint16_t pid)
{
	if (r->status != CROSVM_DEVICES)
		return -ENOENT;
	for (size_t i = 0; i < r->n_devices; i++)
		if (r->devices[i].vendor_id == vid && r->devices[i].product_id == pid)
			return (int)r->devices[i].port;
	return -ENOENT;
}

/* The last non-empty line of stderr: where a program puts its reason. */
static void last_line(char *dst, size_t size, const char *s)
{
	const char *end = s + strlen(s), *start;

	while (end > s && end[-1] == '\n')
		end--;
	start = end;
	while (start > s && start[-1] != '\n')
		start--;
	first_line(dst, size, start);
}

void crosvm_child_result(const struct crosvm_child *c, struct crosvm_result *r)
{
	char why[200] = "";
	const char *o = c->out;

	if (c->exited && !c->killed && WIFEXITED(c->wstatus) && WEXITSTATUS(c->wstatus) == 0) {
		crosvm_parse(c->out, r);
		return;
	}
	memset(r, 0, sizeof(*r));
	r->status = CROSVM_ERROR;
	while (*o == '\n')
		o++;
	if (strncmp(o, "error ", 6) == 0)
		first_line(why, sizeof(why), o + 6);
	else
		last_line(why, sizeof(why), c->err);
	if (c->killed)
		snprintf(r->text, sizeof(r->text), "killed at the deadline");
	else if (!c->exited)
		snprintf(r->text, sizeof(r->text), "still running");
	else if (WIFSIGNALED(c->wstatus))
		snprintf(r->text, sizeof(r->text), "killed by signal %d%s%s", WTERMSIG(c->wstatus),
			 why[0] ? ": " : "", why);
	else
		snprintf(r->text, sizeof(r->text), "exit status %d%s%s", WEXITSTATUS(c->wstatus),
			 why[0] ? ": " : "", why);
}
