/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/*
 * Talk only to the VM you mean. A VM socket in a directory someone else can
 * write to can be swapped for a symlink to another VM's socket, and statd
 * (root) would then attach one VM's device into another while the database
 * names the first. Trusted owners are root, the VM's configured user
 * (VM_UID, or SOCKCHECK_NO_USER) and the user statd runs as.
 *
 * Both return 0 when trusted, 1 when refused (the reason in REASON), or
 * -errno; sockcheck_path gives -ENOENT while there is no socket yet.
 */

#define SOCKCHECK_NO_USER ((uid_t)-1)

/*
 * Before connecting (or handing PATH to crosvm): PATH itself is a socket, not
 * a symlink, owned by a trusted user, in a directory owned by a trusted user
 * and writable by nobody else (no group or other write bit).
 */
int sockcheck_path(const char *path, uid_t vm_uid, char *reason, size_t size);

/* After connecting FD: the peer (SO_PEERCRED) runs as a trusted user. */
int sockcheck_peer(int fd, uid_t vm_uid, char *reason, size_t size);
