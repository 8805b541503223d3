/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "paths.h"

/* Each subcommand: argv[0] is its name; returns the process exit status. */
int ctl_explain(const struct paths *paths, int argc, char **argv);
/* Queue a reconcile of a VM, poke statd, wait for the outcome: 0 all done, 1 not, 75 timed out. */
int ctl_reconcile(const struct paths *paths, int argc, char **argv);
