/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * The spool: udev events the helper could not commit (database locked,
 * unwritable), one file each in RUNDIR/spool, for statd to import in order.
 * A file appears whole or not at all (written under a dot name, fsync'd,
 * renamed), and its name sorts in event order: the kernel's SEQNUM, then
 * CLOCK_MONOTONIC, then the pid.
 */

#define SPOOL_DEVPATH_MAX 1024	/* longer DEVPATHs are refused before they get here */

struct spool_event {
	char action[16];		/* "add" or "remove" */
	char devpath[SPOOL_DEVPATH_MAX];
	uint64_t seqnum;
	char name[NAME_MAX + 1];	/* file name in the spool, for logs */
};

/* Write one event. Creates RUNDIR and the spool (0700) if needed. Returns 0 or -errno. */
int spool_write(const char *rundir, const char *action, const char *devpath, uint64_t seqnum);

/*
 * The copies of events the helper committed, in RUNDIR/committed, kept
 * until statd has seen each in the database (the helper records NAME in the
 * same transaction as the event): a copy whose name the database does not
 * have is an event the database lost after its commit (SQLite ends a WAL at
 * a damaged frame, and every later commit with it).
 */
#define SPOOL_NAME_MAX 64
/* A new event's file name: sorts in event order (SEQNUM, clock, pid). */
void spool_name(uint64_t seqnum, char name[static SPOOL_NAME_MAX]);
/* Write the copy NAME of a committed event (no fsync: /run, a witness only). */
int spool_keep(const char *rundir, const char *name, const char *action, const char *devpath,
	       uint64_t seqnum);

/*
 * True when events wait in the spool: the helper then spools too, so that a
 * later event for a device is never committed before an earlier spooled one.
 */
bool spool_pending(const char *rundir);

/* Create RUNDIR and its spool, 0700, and close them to others if they exist (RUNDIR unless sticky). */
int spool_prepare(const char *rundir);

/*
 * Hand the oldest spooled events, at most MAX, to FN in one call, oldest
 * first (V[0]), and delete their files once FN returned 0: FN imports them
 * all or none (one transaction). On FN's error the files stay and it is
 * returned. A file that cannot be parsed is renamed to ".bad-NAME" and
 * logged. At most MAX a call, so that a caller's event loop is not held up
 * by a large spool: *N gets the number imported, and when it is MAX there
 * may be more.
 */
typedef int (*spool_fn)(void *userdata, const struct spool_event *v, int n);
int spool_import(const char *rundir, spool_fn fn, void *userdata, int max, int *n);
/* The same for the copies of committed events (spool_keep()). */
int spool_import_kept(const char *rundir, spool_fn fn, void *userdata, int max, int *n);
