/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/* What the operation verbs share: options, opening, waiting, printing, exit status. */
#include <stdbool.h>

#include "config.h"
#include "db.h"
#include "ops.h"
#include "paths.h"

#define CTL_OPS_TIMEOUT_S 10

struct ctl_op {
	const char *verb;	/* "attach", ... */
	const char *usage;	/* its usage line */
	bool json, no_wait;
	int timeout_s;
	const char *tag, *vm;	/* --tag, --vm */
	char who[32];
	struct config *cfg;
	struct db *db;
	struct ops ops;
	struct ops_result res;
};

/*
 * Parse the options every verb has (--json, --timeout, --no-wait, --help,
 * and --tag or --vm when WITH says so: "t", "v"); the operands are left at
 * argv[optind]. Returns -1 to go on, or the exit status.
 */
int ctl_op_options(struct ctl_op *op, int argc, char **argv, const char *with);
/* Load the config and open the database: -1 to go on, or the exit status (an error said). */
int ctl_op_open(struct ctl_op *op, const struct paths *paths);
/* The devices table id NAME names, or the exit status (< 0 not; an error and candidates said). */
int ctl_op_device(struct ctl_op *op, const char *name, int64_t *id);
/* R (the lib/ops call's return): wait, print, free; the exit status. */
int ctl_op_finish(struct ctl_op *op, int r);
/* Print the usage line (to stderr when not asked for) and return the exit status. */
int ctl_op_usage(const struct ctl_op *op, bool asked);
