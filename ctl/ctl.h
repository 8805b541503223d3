/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "paths.h"

/* Each subcommand: argv[0] is its name; returns the process exit status. */
int ctl_explain(const struct paths *paths, int argc, char **argv);
