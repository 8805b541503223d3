/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/* What makes statd a well-behaved system daemon: systemd notification, one instance. */
#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

/* Send MSG ("READY=1", "STATUS=...") to systemd's NOTIFY_SOCKET, if there is one. */
void daemon_notify(const char *msg);
/* daemon_notify() of "STATUS=" and the formatted text; also logged as an error. */
void daemon_fail_status(const char *fmt, ...) _printf_(1, 2);

/*
 * Take the lock file WHAT SUFFIX (flock, exclusive) for as long as *FD
 * stays open; it then holds our pid. -EALREADY, with an error naming WHAT
 * (the run directory, the database) logged, when another statd has it.
 */
int daemon_lock(const char *what, const char *suffix, int *fd);

/*
 * Size the heap to statd's job, before anything uses SQLite: a small
 * lookaside and page cache (the kernel caches the file anyway; statd's
 * queries are few and indexed), and freed memory given back.
 */
void daemon_memory_setup(void);
/*
 * After a batch at NOW_MS (IDLE: nothing due): the free pages of the heap,
 * what a burst used, go back if they are many; only when idle, once a
 * second at most.
 */
void daemon_memory_idle(int64_t now_ms, bool idle);
