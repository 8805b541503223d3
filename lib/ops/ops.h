/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Operations people ask for (vhotplugctl now, the API next): each is written
 * as intents with who asked, plus what it decides for later (a chosen VM, a
 * detached-by-user mark) in the same transaction; statd carries the intents
 * out in order with the VM's other work; ops_wait() pokes statd and waits,
 * bounded, for the outcome. Nothing here prints: results are structured.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "db.h"
#include "paths.h"

struct ops {
	const struct paths *paths;
	const struct config *cfg;
	struct db *db;
	const char *who;		/* "ctl uid=0", "api ...": in the intents and history */
};

enum ops_state {
	OPS_NOTHING,		/* it was so already: nothing queued */
	OPS_QUEUED,		/* queued, not waited for */
	OPS_DONE,
	OPS_FAILED,		/* statd tried and failed, or it was cancelled */
	OPS_REFUSED,		/* not queued: RESULT says why */
	OPS_WAITING,		/* not finished within the wait: it stays queued */
	OPS_STATE_MAX,
};
const char *ops_state_to_string(enum ops_state s);

/* One device an operation touched. */
struct ops_item {
	int64_t device_id;
	char *ident, *label;
	char *vm;		/* attach: where to; detach: where from (NULL: in no VM) */
	char *from;		/* a move: the VM it leaves first, or NULL */
	int64_t intent_id;	/* 0: nothing queued */
	int64_t detach_id;	/* a move's detach, or 0 */
	enum ops_state state;
	char *result;		/* statd's result, or why nothing was queued */
	bool vm_down;		/* still waiting, and VM's socket is not there */
};

struct ops_result {
	struct ops_item *items;
	size_t n;
	char error[512];	/* the operation was refused as a whole (return < 0): why */
};
void ops_result_clear(struct ops_result *res);

/*
 * Attach device DEVICE_ID to VM (NULL: its remembered choice, else its
 * rule's targetVm), moving it out of another VM first. A VM given is
 * remembered for the device; the user's detach mark is cleared. SELECT:
 * the device must be waiting for a choice (its rule has allowedVms).
 * < 0 with RES->error when refused (unknown VM, one the rules do not allow,
 * a device not plugged in or no rule takes).
 */
int ops_attach(struct ops *o, int64_t device_id, const char *vm, bool select,
	       struct ops_result *res);
/* Detach DEVICE_ID from wherever it is, and keep it out until attached again. */
int ops_detach(struct ops *o, int64_t device_id, struct ops_result *res);
/* The same for every plugged device of TAG, and (detach) every device of TAG plugged later. */
int ops_attach_tag(struct ops *o, const char *tag, const char *vm, struct ops_result *res);
int ops_detach_tag(struct ops *o, const char *tag, struct ops_result *res);
/*
 * Suspend (OUT) or resume: USB ("usb") devices of every VM, or PCI ("pci")
 * of VM only, except rule sets with skipOnSuspend; resume puts back exactly
 * what suspend took (VM NULL: from every VM).
 */
int ops_suspend(struct ops *o, const char *bus, const char *vm, bool out, struct ops_result *res);

/*
 * Poke statd and wait up to TIMEOUT_MS (0: do not wait: queued items stay
 * OPS_QUEUED) for every queued item. 1 when something is still open then,
 * 0 when all ended, -errno when the database cannot be read.
 */
int ops_wait(struct ops *o, struct ops_result *res, int timeout_ms);
/*
 * One look at every queued item, without poking statd or waiting (statd's
 * API polls its pending requests so, after each loop batch). 1 when
 * something is still open, 0 when all ended, -errno as ops_wait().
 */
int ops_poll(struct ops *o, struct ops_result *res);
