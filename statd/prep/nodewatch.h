/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * inotify on one directory of device nodes that may not exist yet
 * (/dev/vfio appears with the vfio module): while it is missing, its
 * nearest existing parent is watched. Whatever happens there, CHANGED is
 * called, after the watch was moved, so a look that follows misses nothing.
 */
struct loop;
struct nodewatch;

typedef void (*nodewatch_fn)(void *userdata);

int nodewatch_new(struct loop *loop, const char *dir, nodewatch_fn changed, void *userdata,
		  struct nodewatch **out);
void nodewatch_free(struct nodewatch *nw);
