/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vhotplugctl suspend, resume: before sleep, the USB devices (or one VM's
 * PCI ones) leave their VMs except rule sets marked skipOnSuspend; after,
 * exactly those go back, and the output says which failed.
 */
#include <getopt.h>
#include <stdio.h>

#include "ctl.h"
#include "ops-print.h"

static int run(const struct paths *paths, int argc, char **argv, bool out)
{
	struct ctl_op op = { .verb = out ? "suspend" : "resume" };
	int r;

	op.usage = out ? "suspend [--json] [--timeout SECONDS] [--no-wait] [usb | pci] [--vm VM]" :
			 "resume [--json] [--timeout SECONDS] [--no-wait] [usb | pci] [--vm VM]";
	r = ctl_op_options(&op, argc, argv, "v");
	if (r >= 0)
		return r;
	if (argc - optind > 1)
		return ctl_op_usage(&op, false);
	r = ctl_op_open(&op, paths);
	if (r >= 0)
		return r;
	return ctl_op_finish(&op, ops_suspend(&op.ops, argc > optind ? argv[optind] : "usb", op.vm,
					      out, &op.res));
}

int ctl_suspend(const struct paths *paths, int argc, char **argv)
{
	return run(paths, argc, argv, true);
}

int ctl_resume(const struct paths *paths, int argc, char **argv)
{
	return run(paths, argc, argv, false);
}
