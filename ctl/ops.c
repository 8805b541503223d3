/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vhotplugctl attach, detach, select: lib/ops writes the intents and what
 * they decide for later, statd carries them out; these wait (bounded) and
 * say how it went.
 */
#include <getopt.h>
#include <stdio.h>

#include "ctl.h"
#include "ops-print.h"

int ctl_attach(const struct paths *paths, int argc, char **argv)
{
	struct ctl_op op = { .verb = "attach", .usage = "attach [--json] [--timeout SECONDS]"
			     " [--no-wait] {DEVICE | --tag TAG} [VM]" };
	int64_t id = 0;
	int r = ctl_op_options(&op, argc, argv, "t");
	int left = argc - optind;

	if (r >= 0)
		return r;
	if (left > (op.tag ? 1 : 2) || (!op.tag && left < 1))
		return ctl_op_usage(&op, false);
	r = ctl_op_open(&op, paths);
	if (r >= 0)
		return r;
	if (op.tag)
		return ctl_op_finish(&op, ops_attach_tag(&op.ops, op.tag,
							 left ? argv[optind] : NULL, &op.res));
	r = ctl_op_device(&op, argv[optind], &id);
	if (r >= 0)
		return r;
	return ctl_op_finish(&op, ops_attach(&op.ops, id, left > 1 ? argv[optind + 1] : NULL,
					     false, &op.res));
}

int ctl_detach(const struct paths *paths, int argc, char **argv)
{
	struct ctl_op op = { .verb = "detach", .usage = "detach [--json] [--timeout SECONDS]"
			     " [--no-wait] {DEVICE | --tag TAG}" };
	int64_t id = 0;
	int r = ctl_op_options(&op, argc, argv, "t");
	int left = argc - optind;

	if (r >= 0)
		return r;
	if (left != (op.tag ? 0 : 1))
		return ctl_op_usage(&op, false);
	r = ctl_op_open(&op, paths);
	if (r >= 0)
		return r;
	if (op.tag)
		return ctl_op_finish(&op, ops_detach_tag(&op.ops, op.tag, &op.res));
	r = ctl_op_device(&op, argv[optind], &id);
	if (r >= 0)
		return r;
	return ctl_op_finish(&op, ops_detach(&op.ops, id, &op.res));
}

int ctl_select(const struct paths *paths, int argc, char **argv)
{
	struct ctl_op op = { .verb = "select", .usage = "select [--json] [--timeout SECONDS]"
			     " [--no-wait] DEVICE VM" };
	int64_t id = 0;
	int r = ctl_op_options(&op, argc, argv, "");

	if (r >= 0)
		return r;
	if (argc - optind != 2)
		return ctl_op_usage(&op, false);
	r = ctl_op_open(&op, paths);
	if (r >= 0)
		return r;
	r = ctl_op_device(&op, argv[optind], &id);
	if (r >= 0)
		return r;
	return ctl_op_finish(&op, ops_attach(&op.ops, id, argv[optind + 1], true, &op.res));
}
