/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

/* Where config, database and run directory live; every one overridable for tests. */
struct paths {
	const char *config;	/* -c, VHOTPLUG_CONFIG */
	const char *db;		/* --db, VHOTPLUG_DB */
	const char *rundir;	/* --run-dir, VHOTPLUG_RUNDIR */
	const char *schema;	/* VHOTPLUG_SCHEMA */
};

/* Fill from the environment, falling back to the build-time defaults. */
void paths_init(struct paths *p);

/* Path of statd's wake socket in RUNDIR, into BUF. Returns 0 or -ENAMETOOLONG. */
int paths_wake_socket(const struct paths *p, char *buf, size_t size);
