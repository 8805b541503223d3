/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>

#include "ctl.h"
#include "log.h"
#include "macro.h"

static const struct {
	const char *name;
	int (*run)(const struct paths *paths, int argc, char **argv);
	const char *help;
} commands[] = {
	{ "explain", ctl_explain, "explain [-c CONFIG] [--json] SYSPATH...  which rule takes a device, and why" },
	{ "reconcile", ctl_reconcile, "reconcile [--no-wait] [--timeout SECONDS] [--json] VM  give VM the devices it should have, and wait" },
	{ "list", ctl_list, "list [--vm VM] [--tag TAG] [--connected|--disconnected] [--json]  devices, their rules, where they are" },
	{ "status", ctl_status, "status [--json]  statd, each VM, the open intents" },
	{ "history", ctl_history, "history [DEVICE] [--since TIME] [-n N] [--json]  what happened" },
	{ "attach", ctl_attach, "attach {DEVICE | --tag TAG} [VM]  attach (moving it from another VM), and remember the VM" },
	{ "detach", ctl_detach, "detach {DEVICE | --tag TAG}  detach, and keep out until attached again" },
	{ "select", ctl_select, "select DEVICE VM  choose the VM for a device of an allowedVms rule, remembered" },
	{ "suspend", ctl_suspend, "suspend [usb | pci] [--vm VM]  before sleep: detach all but skipOnSuspend rule sets" },
	{ "resume", ctl_resume, "resume [usb | pci] [--vm VM]  after sleep: put back what suspend detached" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: vhotplugctl [-c CONFIG] [--db FILE] [--run-dir DIR] [-d] COMMAND [ARGS]\n\n"
		   "Commands (each takes --help):\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %s\n", commands[i].help);
	fprintf(f, "\nExit status: 0 done, 1 failed, 2 usage, 75 statd did not answer in time.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		PATHS_OPTIONS,
		{}
	};
	struct paths paths;
	int c, r;

	umask(077);	/* a database this creates is root's alone, as statd's */
	log_open("vhotplugctl", LOG_TARGET_PLAIN);
	paths_init(&paths);
	opterr = 0;	/* the errors are ours, one line each */
	/* "+": stop at the command name; the rest belongs to the subcommand. */
	while ((c = getopt_long(argc, argv, "+c:dh", opts, NULL)) != -1) {
		r = paths_option(&paths, c, optarg);
		if (r > 0)
			continue;
		if (r < 0)
			return 0;
		if (c != 'h')
			return ctl_usage_error("unknown option \"%s\" (vhotplugctl --help)",
					       argv[optind - 1]);
		usage(stdout);
		return CTL_EXIT_OK;
	}
	if (optind >= argc) {
		log_err("which command?");
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (streq(argv[optind], commands[i].name)) {
			int first = optind;

			optind = 0;	/* glibc: reinitialise getopt for the subcommand */
			opterr = 0;	/* each verb says what was wrong, in one line */
			return commands[i].run(&paths, argc - first, argv + first);
		}
	}
	return ctl_usage_error("unknown command \"%s\" (vhotplugctl --help lists them)",
			       argv[optind]);
}
