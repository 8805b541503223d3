/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

/* Where config, database and run directory live; every one overridable for tests. */
struct paths {
	const char *config;	/* -c, VHOTPLUG_CONFIG */
	const char *db;		/* --db, VHOTPLUG_DB */
	const char *rundir;	/* --run-dir, VHOTPLUG_RUNDIR */
};

/* getopt_long entries for the options every program shares; end a table with them. */
#define PATHS_OPTIONS                                             \
	{ "config", required_argument, NULL, 'c' },               \
	{ "db", required_argument, NULL, PATHS_OPT_DB },          \
	{ "run-dir", required_argument, NULL, PATHS_OPT_RUNDIR }, \
	{ "debug", no_argument, NULL, 'd' },                      \
	{ "version", no_argument, NULL, PATHS_OPT_VERSION }

enum {
	PATHS_OPT_DB = 0x100,
	PATHS_OPT_RUNDIR,
	PATHS_OPT_VERSION,
};

/*
 * Handle option C of PATHS_OPTIONS. Returns 1 when handled, 0 when C is not
 * one of them, -1 for --version (printed; the caller exits 0).
 */
int paths_option(struct paths *p, int c, const char *arg);

/* Fill from the environment, falling back to the build-time defaults. */
void paths_init(struct paths *p);

/* Path of statd's wake socket in RUNDIR, into BUF. Returns 0 or -ENAMETOOLONG. */
int paths_wake_socket(const struct paths *p, char *buf, size_t size);


/*
 * Take group and other access off the database DB and its -wal and -shm,
 * made by an older version or under another umask: whoever can open -shm
 * can hold the database's locks.
 */
void paths_db_private(const char *db);
