/* SPDX-License-Identifier: Apache-2.0 */
/* Naming a device the way a person does: see devname.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devname.h"
#include "macro.h"

struct search {
	const char *name;
	struct devname_hit *hits;
	size_t n;
	int err;
};

/* "#3" or "3": a row number. */
static bool parse_id(const char *s, int64_t *id)
{
	char *end;

	if (*s == '#')
		s++;
	if (*s < '0' || *s > '9')
		return false;
	*id = strtoll(s, &end, 10);
	return !*end;
}

static bool parse_vidpid(const char *s, int *vid, int *pid)
{
	unsigned v, p;
	int len = 0;

	if (sscanf(s, "%4x:%4x%n", &v, &p, &len) != 2 || len != 9 || s[len])
		return false;
	*vid = (int)v;
	*pid = (int)p;
	return true;
}

static bool fits(const char *name, const struct db_device_name_row *d)
{
	int64_t id;
	int vid, pid;
	size_t n = strlen(name);

	if (parse_id(name, &id))
		return id == d->id;
	if (streq(name, d->ident) || streq(name, d->label))
		return true;
	if (parse_vidpid(name, &vid, &pid) && streq(d->kind, "usb"))
		return vid == d->vendor_id && pid == d->product_id;
	if (name[0] == '/')
		return d->devnode && streq(name, d->devnode);
	if (streq(d->kind, "pci")) {
		size_t k = strlen(d->sysname);

		/* "06:00.0": the address without its domain. */
		return streq(name, d->sysname) ||
		       (k > n && d->sysname[k - n - 1] == ':' && streq(d->sysname + k - n, name));
	}
	return streq(d->kind, "usb") && streq(name, d->sysname);
}

static int one(void *userdata, const struct db_device_name_row *d)
{
	struct search *s = userdata;
	struct devname_hit *v, *h;

	if (!fits(s->name, d))
		return 0;
	/* Plugged in ones come first: once one fits, an unplugged one is history. */
	if (!d->present && s->n > 0 && s->hits[0].present)
		return 1;
	v = realloc(s->hits, (s->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->hits = v;
	h = &v[s->n++];
	*h = (struct devname_hit){ .id = d->id, .present = d->present, .ident = strdup(d->ident),
				   .label = strdup(d->label), .kind = strdup(d->kind),
				   .sysname = strdup(d->sysname), .devpath = strdup(d->devpath) };
	return h->ident && h->label && h->kind && h->sysname && h->devpath ? 0 : -ENOMEM;
}

int devname_resolve(struct db *db, const char *name, struct devname_hit **hits, size_t *n)
{
	struct search s = { .name = name };
	int r = db_devices_each_named(db, one, &s);

	if (r < 0) {
		devname_free(s.hits, s.n);
		return r;
	}
	*hits = s.hits;
	*n = s.n;
	return 0;
}

void devname_free(struct devname_hit *hits, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(hits[i].ident);
		free(hits[i].label);
		free(hits[i].kind);
		free(hits[i].sysname);
		free(hits[i].devpath);
	}
	free(hits);
}
