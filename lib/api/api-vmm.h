/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * vmm_args' two halves: api-vmm-devs.c finds the devices a VM should have at
 * its start, api-vmm-args.c binds them and prints them as VMM arguments.
 */
#include <stdbool.h>
#include <stddef.h>

#include "api.h"
#include "vfio.h"

/* A PCI function for the VM, in the original's order (its rule's allow entry, then address). */
struct vmm_pci {
	char addr[VFIO_ADDR_MAX];
	int order;		/* the original's count of allow entries up to the matching one */
	bool nvidia_gpu;	/* vendor 0x10de, class 0x03: autoOvmf's case */
	const struct ruleset *set;
};

struct vmm_devs {
	struct vmm_pci *pci;
	size_t n_pci;
	char **evdev;		/* device nodes, in udev's order */
	size_t n_evdev;
};

/* The devices udev has now that VM should have: rules, choices and marks (lib/ops/decisions.c). */
int vmm_devs_find(struct api_ctx *ctx, const char *vm, struct vmm_devs *out);
void vmm_devs_free(struct vmm_devs *d);
