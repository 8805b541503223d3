/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/* lib/ops's insides: ops.c (one device), ops-tag.c (by tag, suspend), ops-wait.c. */
#include "device.h"
#include "match.h"
#include "ops.h"

/* A device as an operation sees it: its row, as udev has it now, and the rule set that takes it. */
struct ops_dev {
	int64_t id;
	char *ident, *label, *devpath;
	bool present;
	struct device *dev;		/* NULL: not plugged in, or unreadable */
	struct match_result m;		/* m.set NULL: no rule set takes it */
	const struct config *cfg;	/* what M was matched with */
};
void ops_dev_clear(struct ops_dev *d);
/* Read device row ROW, and from udev when it is plugged in. */
int ops_dev_load(const struct db_device_name_row *row, struct ops_dev *d);

/* Device ID, loaded and matched (-ENOENT, RES->error, when there is none). */
int ops_dev_load_id(struct ops *o, int64_t id, struct ops_dev *d, struct ops_result *res);
/* Match D->dev (if read) with D->cfg. */
void ops_dev_match(struct ops_dev *d);
/*
 * The VM D goes to: VM (checked against the config and D's rule set), else
 * its remembered choice, else its targetVm; refused (RES->error) when none.
 */
int ops_pick_vm(struct ops *o, const struct ops_dev *d, const char *vm, const char **out,
		struct ops_result *res);
/* Clear D's kept-out mark (attach): "let in" when its tag stays kept out. */
int ops_unmark(struct ops *o, const struct ops_dev *d);

/* Append an item for D; NULL when out of memory. */
struct ops_item *ops_item_add(struct ops_result *res, const struct ops_dev *d);
/*
 * Queue D's attach to VM (a move: the detach from where it is first), in
 * the caller's transaction, with history. ITEM gets what was queued.
 */
int ops_queue_attach(struct ops *o, const struct ops_dev *d, const char *vm,
		     struct ops_item *item);
/* Queue D's detach from wherever it is (VM NULL) or from VM, in the caller's transaction. */
int ops_queue_detach(struct ops *o, const struct ops_dev *d, const char *vm, const char *what,
		     struct ops_item *item);
/* Run FN on every device recorded plugged in, loaded (ops_dev_load()). */
int ops_each_present(struct ops *o, int (*fn)(void *userdata, struct ops_dev *d), void *userdata);
