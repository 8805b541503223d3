/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "daemon.h"
#include "datagram.h"
#include "log.h"

/* SQLite's heap, beyond which it drops cached pages: it stays a few statements' worth. */
#define STATD_SQLITE_HEAP (384 * 1024)

void daemon_memory_setup(void)
{
	/* The default lookaside is 1200 slots of 100 bytes per connection; statd has one. */
	if (sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 64, 32) != SQLITE_OK)
		log_debug("SQLite is initialized already: default lookaside");
	sqlite3_soft_heap_limit64(STATD_SQLITE_HEAP);
	/*
	 * One thread: one arena. glibc's own mmap and trim thresholds stay:
	 * lowered to 64 KiB they spared 2 MB after a burst but doubled the time
	 * of a 1,000-intent backlog (bench/e2e.sh: a munmap, a brk and fresh
	 * page faults per large block, at 40-60 us a fault on a VM).
	 */
	mallopt(M_ARENA_MAX, 1);
}

void daemon_memory_idle(int64_t now_ms, bool idle)
{
	static int64_t last_ms = -1000;

	/* Only when idle: trimming during a burst gave back pages it took again at once. */
	if (!idle || now_ms - last_ms < 1000)
		return;
	last_ms = now_ms;
	/* Freed chunks amid the heap stay resident until trimmed; a few are not worth a walk. */
	if (mallinfo2().fordblks > 128 * 1024)
		malloc_trim(0);
}

/* systemd's readiness protocol is one datagram: no need for libsystemd. */
void daemon_notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");

	if (path && (path[0] == '/' || path[0] == '@'))
		datagram_send(path, msg);
}

void daemon_fail_status(const char *fmt, ...)
{
	char msg[512] = "STATUS=";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg + 7, sizeof(msg) - 7, fmt, ap);
	va_end(ap);
	log_err("%s", msg + 7);
	daemon_notify(msg);
}

int daemon_lock(const char *what, const char *suffix, int *fd)
{
	_cleanup_free_ char *path = NULL;
	char pid[32];
	int r;

	if (asprintf(&path, "%s%s", what, suffix) < 0)
		return -ENOMEM;

	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0) {
		r = -errno;
		daemon_fail_status("%s: cannot take the lock of %s (%s), refusing to run", path, what,
				   strerror(-r));
		return r;
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? -EALREADY : -errno;
		if (r == -EALREADY)
			daemon_fail_status("another vhotplug-statd is running for %s (it holds %s)",
					   what, path);
		else
			daemon_fail_status("%s: %s", path, strerror(-r));
		return r;
	}
	/* Ours now: say who holds it, for people and for tools like fuser. */
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(*fd, 0) < 0 || pwrite(*fd, pid, strlen(pid), 0) < 0)
		log_debug("%s: %m", path);
	return 0;
}
