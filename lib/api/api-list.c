/* SPDX-License-Identifier: Apache-2.0 */
/*
 * usb_list and pci_list: the devices plugged in now that a rule set takes,
 * as the original lists them (get_usb_device_list, get_pci_device_list in
 * its vhotplug/device.py): udev's order; USB hubs and devices the host
 * needs left out; each object with "allowed_vms" (the targetVm alone, or
 * allowedVms) and "vm" (where it is, null when kept out by a user).
 * "disconnected": true lists only the devices a user detached (the marks of
 * lib/ops), false only the others; "tag" only those of that rule set tag.
 */
#include <errno.h>
#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api-private.h"
#include "ident.h"
#include "log.h"
#include "macro.h"
#include "match.h"
#include "pcigroup.h"
#include "safety.h"

struct entry {
	json_object *obj;
	char *address;		/* pci: to list each function once, and sort */
	const char *tag;	/* its rule set's */
	size_t order;		/* pci: the rule's place in the config */
};

struct listing {
	struct api_ctx *ctx;
	struct udev *udev;
	int disconnected;	/* -1: both; 0: only those not detached by a user; 1: only those */
	const char *tag;	/* NULL: any */
	bool tag_nothing;	/* a "tag" that is no string: the original matches no set */
	struct entry *v;
	size_t n;
};

/* Where the device stands: the VM it is in, and whether a user keeps it out. */
struct standing {
	char *vm;
	bool kept_out;
};

static int standing_get(struct listing *l, const struct device *dev, const struct ruleset *set,
			struct standing *s)
{
	_cleanup_free_ char *ident = NULL;
	bool tag_out = false;
	int mark = -1;
	int r = db_api_device_at(l->ctx->db, dev->devpath, &ident, &s->vm);

	if (r == 0 && !ident)
		ident = ident_make(dev);	/* not recorded yet: its marks may be */
	if (r == 0 && !ident)
		r = -ENOMEM;
	if (r == 0)
		r = db_marks_get(l->ctx->db, ident, set->tag, &mark, &tag_out);
	s->kept_out = mark == 1 || (mark != 0 && tag_out);
	if (r < 0 || s->kept_out)
		s->vm = (free(s->vm), NULL);
	return r;
}

/* Python's truth of a JSON value. */
static bool truthy(json_object *v)
{
	if (json_object_is_type(v, json_type_array))
		return json_object_array_length(v) > 0;
	if (json_object_is_type(v, json_type_object))
		return json_object_object_length(v) > 0;
	return v && json_object_get_boolean(v);
}

/* The original's filter: only a JSON true or false filters, "tag" as Python's truth. */
static void filters_read(struct listing *l, json_object *req)
{
	json_object *d = json_object_object_get(req, "disconnected");
	json_object *t = json_object_object_get(req, "tag");

	l->disconnected = json_object_is_type(d, json_type_boolean) ? json_object_get_boolean(d) : -1;
	if (json_object_is_type(t, json_type_string))
		l->tag = json_object_get_string(t)[0] ? json_object_get_string(t) : NULL;
	else if (truthy(t))
		l->tag_nothing = true;
}

static bool shown(const struct listing *l, const struct standing *s)
{
	return l->disconnected < 0 || l->disconnected == s->kept_out;
}

static bool tag_fits(const struct listing *l, const char *tag)
{
	return !l->tag_nothing && (!l->tag || streq(l->tag, tag));
}

static json_object *allowed_vms(const struct ruleset *set)
{
	json_object *a = json_object_new_array();

	if (set->target_vm)
		json_object_array_add(a, json_object_new_string(set->target_vm));
	for (size_t i = 0; !set->target_vm && i < set->n_allowed_vms; i++)
		json_object_array_add(a, json_object_new_string(set->allowed_vms[i]));
	return a;
}

/* OBJ gets the list's own fields; it then belongs to the listing. */
static int add(struct listing *l, json_object *obj, const struct ruleset *set, const char *vm,
	       const char *address, size_t order, bool member)
{
	struct entry *v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (v)
		l->v = v;
	if (!obj || !v) {
		json_object_put(obj);
		return -ENOMEM;
	}
	if (member)
		json_object_object_add(obj, "iommu_member", json_object_new_boolean(true));
	json_object_object_add(obj, "allowed_vms", allowed_vms(set));
	json_object_object_add(obj, "vm", vm ? json_object_new_string(vm) : NULL);
	v[l->n] = (struct entry){ .obj = obj, .tag = set->tag, .order = order };
	if (address && !(v[l->n].address = strdup(address))) {
		json_object_put(obj);
		return -ENOMEM;
	}
	l->n++;
	return 0;
}

static int usb_one(struct listing *l, struct udev_device *ud, const struct device *dev)
{
	struct standing s = { 0 };
	struct match_result m;
	json_object *obj;
	char why[256];
	int r;

	if (!match_device(l->ctx->cfg, dev, &m, NULL) || !tag_fits(l, m.set->tag))
		return 0;
	/* The original leaves out the /boot disk; safety.c any device the host needs. */
	if (safety_check_usb(dev->syspath, why, sizeof(why)) == 1)
		return 0;
	obj = api_device_udev(ud, DEV_USB);
	if (obj && api_device_usb_hub(obj)) {
		json_object_put(obj);
		return 0;
	}
	r = standing_get(l, dev, m.set, &s);
	if (r == 0 && shown(l, &s))
		r = add(l, obj, m.set, s.vm, NULL, 0, false);
	else
		json_object_put(obj);
	free(s.vm);
	return r;
}

/*
 * The original sorts functions by the place of the allow rule that took
 * them, counting every allow rule of the enabled PCI rule sets before it.
 */
static size_t rule_order(const struct config *cfg, const struct match_result *m)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->n_sets && &cfg->sets[i] != m->set; i++)
		if (cfg->sets[i].kind == DEV_PCI && !cfg->sets[i].disabled)
			n += cfg->sets[i].n_allow;
	return n + (size_t)(m->rule - m->set->allow) + 1;
}

static bool listed(const struct listing *l, const char *address)
{
	for (size_t i = 0; i < l->n; i++)
		if (streq(l->v[i].address, address))
			return true;
	return false;
}

struct group_member {
	struct listing *l;
	const struct match_result *m;
	const char *vm;
	size_t order;
};

/* pciIommuAddAll: the other functions of the group, listed with the one that took them. */
static int member_one(void *userdata, const char *addr, const struct device *member)
{
	struct group_member *g = userdata;
	struct udev_device *ud;
	json_object *obj;

	if (!member || listed(g->l, addr))
		return 0;
	ud = udev_device_new_from_syspath(g->l->udev, member->syspath);
	if (!ud)
		return 0;
	obj = api_device_udev(ud, DEV_PCI);
	udev_device_unref(ud);
	return add(g->l, obj, g->m->set, g->vm, addr, g->order, true);
}

static int pci_one(struct listing *l, struct udev_device *ud, const struct device *dev)
{
	const struct config *cfg = l->ctx->cfg;
	struct standing s = { 0 };
	struct match_result m;
	struct group_member g;
	char others[256];
	int r;

	/* A PCI function is not handed around: a set without targetVm takes none. */
	if (!match_device(cfg, dev, &m, NULL) || !m.set->target_vm || listed(l, dev->sysname))
		return 0;
	r = standing_get(l, dev, m.set, &s);
	if (r < 0 || !shown(l, &s))
		goto out;
	/* The original skips any shared group; the plug (lib/intake) only one shared with others. */
	if (m.set->pci.iommu_skip_if_shared &&
	    pcigroup_unmatched(cfg, m.set, dev, others, sizeof(others)) > 0)
		goto out;
	g = (struct group_member){ .l = l, .m = &m, .vm = s.vm, .order = rule_order(cfg, &m) };
	/* No group to read (no IOMMU): the function alone, as for the plug. */
	if (m.set->pci.iommu_add_all && pcigroup_foreach_other(cfg, m.set, dev, member_one, &g) == -ENOMEM)
		r = -ENOMEM;
	if (r == 0)
		r = add(l, api_device_udev(ud, DEV_PCI), m.set, s.vm, dev->sysname, g.order, false);
out:
	free(s.vm);
	return r;
}

static int by_order(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return strcmp(x->address ?: "", y->address ?: "");
}

static int scan(struct listing *l, enum dev_kind kind)
{
	struct udev_enumerate *e = udev_enumerate_new(l->udev);
	struct udev_list_entry *entry;
	int r = 0;

	if (!e || udev_enumerate_add_match_subsystem(e, kind == DEV_USB ? "usb" : "pci") < 0 ||
	    udev_enumerate_scan_devices(e) < 0)
		r = -EIO;
	udev_list_entry_foreach(entry, r == 0 ? udev_enumerate_get_list_entry(e) : NULL) {
		struct udev_device *ud = udev_device_new_from_syspath(l->udev,
								      udev_list_entry_get_name(entry));
		struct device *dev = NULL;

		/* Interfaces and the like are not devices of the kind: device_from_udev() says so. */
		if (ud && device_from_udev(ud, &dev) == 0 && dev->kind == kind)
			r = kind == DEV_USB ? usb_one(l, ud, dev) : pci_one(l, ud, dev);
		device_free(dev);
		udev_device_unref(ud);
		if (r < 0)
			break;
	}
	udev_enumerate_unref(e);
	return r;
}

/* {"result": "ok"}, or "failed" with ERROR: made here, as api.c calls this file and not back. */
static json_object *result(const char *error)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "result", json_object_new_string(error ? "failed" : "ok"));
	if (error)
		json_object_object_add(o, "error", json_object_new_string(error));
	return o;
}

static json_object *reply(struct listing *l, enum dev_kind kind)
{
	json_object *o = result(NULL), *a = json_object_new_array();

	if (kind == DEV_PCI)
		qsort(l->v, l->n, sizeof(*l->v), by_order);
	for (size_t i = 0; a && i < l->n; i++) {
		if (!tag_fits(l, l->v[i].tag))
			continue;
		json_object_array_add(a, l->v[i].obj);
		l->v[i].obj = NULL;
	}
	if (!o || !a) {
		json_object_put(o);
		json_object_put(a);
		return NULL;
	}
	json_object_object_add(o, kind == DEV_USB ? "usb_devices" : "pci_devices", a);
	return o;
}

int api_list(struct api_ctx *ctx, enum dev_kind kind, json_object *req, struct api_answer *ans)
{
	struct listing l = { .ctx = ctx, .udev = udev_new() };
	char buf[128];
	int r;

	filters_read(&l, req);
	/* No config (none loaded yet): no rule set takes anything. */
	r = !ctx->cfg ? 0 : l.udev ? scan(&l, kind) : -ENOMEM;
	if (r == 0) {
		ans->reply = reply(&l, kind);
	} else if (r != -ENOMEM) {
		log_err("%s_list: %s", kind == DEV_USB ? "usb" : "pci", strerror(-r));
		snprintf(buf, sizeof(buf), "Failed to list devices: %s", strerror(-r));
		ans->reply = result(buf);
	}
	for (size_t i = 0; i < l.n; i++) {
		json_object_put(l.v[i].obj);
		free(l.v[i].address);
	}
	free(l.v);
	udev_unref(l.udev);
	return ans->reply ? 0 : -ENOMEM;
}
