/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PCI: every function of the IOMMU group to vfio-pci, each one's driver
 * recorded first, and given back once no function of the group is attached
 * any more.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "macro.h"
#include "prep.h"
#include "prep-private.h"
#include "vfio.h"

static int pci_plan(const char *addr, struct vfio_group *g, char *reason, size_t size)
{
	int r = vfio_group_plan(addr, g);

	if (r == -ENODEV)
		snprintf(reason, size, "%s has no IOMMU group: is the IOMMU on (intel_iommu=on)?", addr);
	else if (r < 0)
		snprintf(reason, size, "cannot read the IOMMU group of %s: %s", addr, strerror(-r));
	return r;
}

int prep_pci_prepare(struct db *db, const struct config *cfg,
		     const struct vmm_job *j, char *reason, size_t size)
{
	struct vfio_group g;
	char node[256];
	int r = pci_plan(j->sysname, &g, reason, size);

	if (r < 0)
		return r;
	r = db_host_drivers_save_group(db, &g, j->vm);
	if (r < 0) {
		snprintf(reason, size, "cannot record the host drivers of group %d: %s", g.group,
			 strerror(-r));
		return r;
	}
	/* The kernel keeps bridges: vfio only needs their downstream functions. */
	for (size_t i = 0; i < g.n; i++) {
		const struct vfio_member *m = &g.members[i];

		if (m->bridge || streq(m->driver, "vfio-pci"))
			continue;
		log_info("%s: giving %s (group %d, driver %s) to vfio-pci", j->label, m->addr, g.group,
			 m->driver[0] ? m->driver : "none");
		r = vfio_bind_member(m->addr);
		if (r < 0) {
			snprintf(reason, size, "cannot give %s to vfio-pci: %s", m->addr, strerror(-r));
			return r;
		}
	}
	if (!vfio_dev_ready(g.group)) {
		vfio_dev_path(g.group, node, sizeof(node));
		snprintf(reason, size, "%s did not appear", node);
		return PREP_NOT_YET;
	}
	return PREP_READY;
}

int prep_pci_restore(struct db *db, const struct config *cfg,
		     const struct vmm_job *j, char *detail, size_t size)
{
	const char *addrs[VFIO_GROUP_MAX];
	struct vfio_group g;
	size_t n = 0;
	int others = 0, r = pci_plan(j->sysname, &g, detail, size);

	if (r == -ENOENT)
		return db_host_driver_del(db, j->sysname);	/* unplugged: nothing to give back */
	if (r < 0)
		return r;
	for (size_t i = 0; i < g.n; i++)
		if (!g.members[i].bridge)
			addrs[n++] = g.members[i].addr;
	r = db_pci_attached_count(db, addrs, n, j->device_id, &others);
	if (r < 0 || others > 0)
		return r;	/* the group is still in a VM */
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *driver = NULL;

		if (db_host_driver_get(db, addrs[i], &driver) < 0)
			continue;	/* not ours */
		log_info("%s: giving %s back to %s", j->label, addrs[i], driver[0] ? driver : "the PCI core");
		r = vfio_restore_member(addrs[i], driver);
		if (r < 0) {
			snprintf(detail, size, "cannot give %s back to %s: %s", addrs[i],
				 driver[0] ? driver : "its driver", strerror(-r));
			return r;
		}
		db_host_driver_del(db, addrs[i]);
	}
	return 0;
}
