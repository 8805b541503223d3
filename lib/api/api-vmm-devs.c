/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vmm_args' devices: the PCI functions and evdev nodes udev has now that a
 * VM should have at its start. Where a device goes is decided as at a plug
 * or a reconcile (lib/ops/decisions.c): a user's detach, a detached tag or a
 * suspend keeps it out, as they would keep it out of the running VM.
 */
#include <errno.h>
#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api-vmm.h"
#include "decisions.h"
#include "ident.h"
#include "log.h"
#include "macro.h"
#include "match.h"
#include "pcigroup.h"

struct walk {
	struct api_ctx *ctx;
	const char *vm;
	struct vmm_devs *out;
};

/* Where DEV, taken by SET, should be: NULL when nowhere or -errno in *R. */
static const char *desired(struct walk *w, const struct device *dev, const struct ruleset *set,
			   int *r)
{
	_cleanup_free_ char *ident = ident_make(dev);
	_cleanup_free_ char *label = NULL;
	struct decision d;
	int64_t id = 0;

	*r = ident ? db_device_find(w->ctx->db, ident, &id, &label) : -ENOMEM;
	if (*r == 0)
		*r = decisions_desired(w->ctx->db, set, ident, id, label, &d);
	if (*r < 0)
		return NULL;
	if (d.kept_out)
		log_info("vmm_args %s: %s left out: %s", w->vm, dev->sysname, d.why);
	return d.vm;
}

/*
 * The original sorts PCI functions by how many allow entries of enabled
 * pciPassthrough rule sets it tried before the one that matched, so a
 * function listed first in the config gets the first bus; then by address.
 */
static int pci_order(const struct config *cfg, const struct device *dev, const struct match_result *m)
{
	int order = 0;

	for (size_t i = 0; i < cfg->n_sets; i++) {
		const struct ruleset *s = &cfg->sets[i];

		if (s->kind != DEV_PCI || s->disabled)
			continue;
		for (size_t k = 0; k < s->n_allow; k++) {
			const struct rule *a = &s->allow[k];

			order++;
			if (s == m->set ? a == m->rule :
			    !a->disabled && match_rule(cfg, a, dev, NULL))
				break;
		}
		if (s == m->set)
			break;
	}
	return order;
}

static bool nvidia_gpu(const struct device *dev)
{
	return dev && dev->vendor_id == 0x10de && dev->dev_class == 0x03;
}

static int pci_add(struct vmm_devs *out, const char *addr, int order, const struct ruleset *set,
		   bool nvidia)
{
	struct vmm_pci *v;

	if (!vfio_addr_valid(addr))
		return 0;
	/* Once: a function both matched and brought along with its group. */
	for (size_t i = 0; i < out->n_pci; i++)
		if (streq(out->pci[i].addr, addr))
			return 0;
	v = realloc(out->pci, (out->n_pci + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	out->pci = v;
	v = &out->pci[out->n_pci++];
	*v = (struct vmm_pci){ .order = order, .set = set, .nvidia_gpu = nvidia };
	snprintf(v->addr, sizeof(v->addr), "%s", addr);
	return 0;
}

struct member {
	struct vmm_devs *out;
	int order;
	const struct ruleset *set;
};

static int member_add(void *userdata, const char *addr, const struct device *dev)
{
	struct member *mb = userdata;

	return pci_add(mb->out, addr, mb->order, mb->set, nvidia_gpu(dev));
}

static int pci_one(struct walk *w, const struct device *dev, const struct match_result *m)
{
	const struct config *cfg = w->ctx->cfg;
	const struct ruleset *set = m->set;
	struct member mb = { .out = w->out, .set = set };
	const char *vm;
	char others[256];
	int r;

	if (set->pci.iommu_skip_if_shared &&
	    pcigroup_unmatched(cfg, set, dev, others, sizeof(others)) > 0) {
		log_info("vmm_args %s: %s left out: its IOMMU group is shared with %s"
			 " (pciIommuSkipIfShared)", w->vm, dev->sysname, others);
		return 0;
	}
	vm = desired(w, dev, set, &r);
	if (!vm || !streq(vm, w->vm))
		return r;
	mb.order = pci_order(cfg, dev, m);
	r = pci_add(w->out, dev->sysname, mb.order, set, nvidia_gpu(dev));
	if (r < 0 || !set->pci.iommu_add_all)
		return r;
	r = pcigroup_foreach_other(cfg, set, dev, member_add, &mb);
	/* No group to read: binding says so; the function itself still goes. */
	return r == -ENOMEM ? r : 0;
}

static int evdev_one(struct walk *w, const struct device *dev, const struct match_result *m)
{
	struct vmm_devs *out = w->out;
	const char *vm;
	char **v;
	int r;

	vm = desired(w, dev, m->set, &r);
	if (!vm || !streq(vm, w->vm) || !dev->devnode)
		return r;
	v = realloc(out->evdev, (out->n_evdev + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	out->evdev = v;
	v[out->n_evdev] = strdup(dev->devnode);
	return v[out->n_evdev++] ? 0 : -ENOMEM;
}

static int one(struct walk *w, struct udev *udev, const char *syspath)
{
	struct udev_device *ud = udev_device_new_from_syspath(udev, syspath);
	struct match_result m = { 0 };
	struct device *dev = NULL;
	int r = 0;

	/* Not a device vhotplug passes (an input0, a mouse node): skipped. */
	if (ud && device_from_udev(ud, &dev) == 0 && match_device(w->ctx->cfg, dev, &m, NULL))
		r = dev->kind == DEV_PCI ? pci_one(w, dev, &m) : evdev_one(w, dev, &m);
	device_free(dev);
	udev_device_unref(ud);
	return r;
}

static int pci_cmp(const void *a, const void *b)
{
	const struct vmm_pci *x = a, *y = b;

	return x->order != y->order ? (x->order > y->order) - (x->order < y->order) :
				      strcmp(x->addr, y->addr);
}

int vmm_devs_find(struct api_ctx *ctx, const char *vm, struct vmm_devs *out)
{
	static const char *const subsystems[] = { "pci", "input" };
	struct walk w = { .ctx = ctx, .vm = vm, .out = out };
	struct udev *udev = udev_new();
	int r = udev ? 0 : -ENOMEM;

	*out = (struct vmm_devs){ 0 };
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(subsystems); i++) {
		struct udev_enumerate *e = udev_enumerate_new(udev);
		struct udev_list_entry *entry;

		if (!e || udev_enumerate_add_match_subsystem(e, subsystems[i]) < 0 ||
		    udev_enumerate_scan_devices(e) < 0) {
			log_err("vmm_args: cannot list %s devices", subsystems[i]);
			r = -EIO;
		}
		udev_list_entry_foreach(entry, r == 0 ? udev_enumerate_get_list_entry(e) : NULL) {
			r = one(&w, udev, udev_list_entry_get_name(entry));
			if (r < 0)
				break;
		}
		udev_enumerate_unref(e);
	}
	udev_unref(udev);
	if (r < 0)
		vmm_devs_free(out);
	else if (out->n_pci)
		qsort(out->pci, out->n_pci, sizeof(out->pci[0]), pci_cmp);
	return r;
}

void vmm_devs_free(struct vmm_devs *d)
{
	for (size_t i = 0; i < d->n_evdev; i++)
		free(d->evdev[i]);
	free(d->evdev);
	free(d->pci);
	*d = (struct vmm_devs){ 0 };
}
