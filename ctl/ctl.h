/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "paths.h"

/* Each subcommand: argv[0] is its name; returns the process exit status. */
int ctl_explain(const struct paths *paths, int argc, char **argv);
/* Queue a reconcile of a VM, poke statd, wait for the outcome: 0 all done, 1 not, 75 timed out. */
int ctl_reconcile(const struct paths *paths, int argc, char **argv);

/* Exit statuses of every verb. */
#define CTL_EXIT_OK 0
#define CTL_EXIT_FAILED 1
#define CTL_EXIT_USAGE 2
#define CTL_EXIT_TIMEOUT 75	/* statd did not answer in time; the intent stays (EX_TEMPFAIL) */

/* Operations (lib/ops): ctl/ops.c, ctl/suspend.c. */
int ctl_attach(const struct paths *paths, int argc, char **argv);
int ctl_detach(const struct paths *paths, int argc, char **argv);
int ctl_select(const struct paths *paths, int argc, char **argv);
int ctl_suspend(const struct paths *paths, int argc, char **argv);
int ctl_resume(const struct paths *paths, int argc, char **argv);
