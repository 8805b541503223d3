/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * inotify on the directories of the VMs' QMP sockets: a socket appearing
 * means its VM (re)started, one removed that it stopped. Watches survive their directory being removed
 * and created again (systemd's RuntimeDirectory= does that at every VM
 * restart): while a directory is missing, its nearest existing parent is
 * watched instead.
 */
#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct loop;
struct vmwatch;

/* APPEARED: the socket showed up; false: it was removed (the VM stopped). */
typedef void (*vmwatch_fn)(void *userdata, const char *vm_name, bool appeared);

/* APPEARED is called with the VM's name when its socket shows up or goes. */
int vmwatch_new(struct loop *loop, vmwatch_fn appeared, void *userdata, struct vmwatch **out);
void vmwatch_free(struct vmwatch *vw);
/* Watch CFG's VMs (borrowed until the next call or vmwatch_free()). */
void vmwatch_set_config(struct vmwatch *vw, const struct config *cfg);

/*
 * inotify_add_watch() on DIR or, while it is missing, its nearest existing
 * parent, whose path goes to *AT (to be freed). The wd, or -errno.
 */
int watch_add_nearest(int fd, const char *dir, uint32_t mask, char **at);
