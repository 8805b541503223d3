/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "config.h"
#include "db.h"
#include "paths.h"

/*
 * What the helper could not finish, brought into the queue before statd
 * drains it: events it spooled (database locked or unwritable), imported in
 * event order through the same intake as the helper's; and plugs it recorded
 * undecided (action 'decide': no valid config then), decided with the last
 * good config statd holds; and the hostAllow rules that take only some
 * interfaces of a device (statd/hostauth.c).
 */
struct backlog;

/* LOOP, DB and PATHS are borrowed. Prepares the run directory and spool (0700). */
struct loop;
int backlog_new(struct loop *loop, struct db *db, const struct paths *paths, struct backlog **out);
void backlog_free(struct backlog *b);

/*
 * Import the spool, then decide the undecided intents recorded since the
 * last run (all of them on the first run) with CFG, then authorize the
 * interfaces of the pending hostAllow intents. When the database is
 * busy, what is left is retried on a timer of its own, which then pokes
 * statd's wake socket as the helper does.
 */
void backlog_run(struct backlog *b, const struct config *cfg);

/* After a reload: decide every undecided intent with the new CFG. */
void backlog_reload(struct backlog *b, const struct config *cfg);
