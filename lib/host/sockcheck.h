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
 * The checks return 0 when trusted, 1 when refused (the reason in REASON), or
 * -errno; sockcheck_open gives -ENOENT while there is no socket yet.
 */

#define SOCKCHECK_NO_USER ((uid_t)-1)

/*
 * Before connecting (or handing the socket to crosvm): every component of
 * PATH (absolute) from "/" down is no symlink and owned by a trusted user;
 * every directory is writable by nobody else (a sticky one, as /tmp, may be
 * when what it holds is a trusted user's); the last is a socket with one
 * name (no hard link). sockcheck_open gives an O_PATH descriptor of the
 * socket checked in *FD: connect through sockcheck_via(), never through
 * PATH again, so nothing renamed after the check can redirect statd.
 */
int sockcheck_open(const char *path, uid_t vm_uid, int *fd, char *reason, size_t size);
int sockcheck_path(const char *path, uid_t vm_uid, char *reason, size_t size);
/* "/proc/self/fd/FD": a path to connect to that leads to FD's socket and nowhere else. */
void sockcheck_via(int fd, char *buf, size_t size);

/* After connecting FD: the peer (SO_PEERCRED) runs as a trusted user. */
int sockcheck_peer(int fd, uid_t vm_uid, char *reason, size_t size);
