/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "sockcheck.h"

static bool trusted(uid_t uid, uid_t vm_uid)
{
	return uid == 0 || uid == geteuid() || (vm_uid != SOCKCHECK_NO_USER && uid == vm_uid);
}

/* "uid 1000 (alice)": the number is what matters, the name helps the reader. */
static void who(uid_t uid, char *buf, size_t size)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(buf, size, "uid %u (%s)", (unsigned int)uid, res->pw_name);
	else
		snprintf(buf, size, "uid %u", (unsigned int)uid);
}

static int refuse_owner(char *reason, size_t size, const char *what, uid_t uid)
{
	char w[128];

	who(uid, w, sizeof(w));
	snprintf(reason, size, "%s is owned by %s, not by root or the VM's user", what, w);
	return 1;
}

/*
 * Directory DIR (stat ST; NAME says which for the reader) holds CHILD:
 * whoever may write DIR may replace CHILD. LAST: DIR holds the socket.
 */
static int check_dir(const struct stat *st, const char *name, const struct stat *child, bool last,
		     uid_t vm_uid, char *reason, size_t size)
{
	if (!trusted(st->st_uid, vm_uid))
		return refuse_owner(reason, size, name, st->st_uid);
	if (!(st->st_mode & (S_IWGRP | S_IWOTH)))
		return 0;
	/* In a sticky directory (/tmp) only the entry's owner, the directory's or root may move it. */
	if (!last && (st->st_mode & S_ISVTX) && trusted(child->st_uid, vm_uid))
		return 0;
	snprintf(reason, size, "%s is writable by %s", name,
		 st->st_mode & S_IWOTH ? "others" : "its group");
	return 1;
}

static int check_socket(const struct stat *st, const char *path, uid_t vm_uid, char *reason,
			size_t size)
{
	if (!S_ISSOCK(st->st_mode)) {
		snprintf(reason, size, "%s is not a socket", path);
		return 1;
	}
	if (!trusted(st->st_uid, vm_uid))
		return refuse_owner(reason, size, "socket", st->st_uid);
	/* A hard link made where the VM's user may write would lead to another VM's socket. */
	if (st->st_nlink > 1) {
		snprintf(reason, size, "socket %s has %lu names (hard links)", path,
			 (unsigned long)st->st_nlink);
		return 1;
	}
	return 0;
}

/*
 * One step of the walk: open COMP (PATH's component ending at END) in DFD,
 * whose stat is DST and which is PATH's first DLEN bytes. 0 with the O_PATH
 * descriptor in *FD and its stat in ST, 1 refused, or -errno.
 */
static int step(int dfd, const struct stat *dst, const char *path, size_t dlen, const char *comp,
		const char *end, bool last, uid_t vm_uid, int *fd, struct stat *st, char *reason,
		size_t size)
{
	_cleanup_close_ int f = openat(dfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	char name[4200];
	int r;

	if (f < 0 || fstat(f, st) < 0)
		return -errno;
	if (S_ISLNK(st->st_mode)) {
		if (last)
			snprintf(reason, size, "socket %s is a symlink", path);
		else
			snprintf(reason, size, "%.*s in the socket's path is a symlink",
				 (int)(end - path), path);
		return 1;
	}
	snprintf(name, sizeof(name), "%s %.*s", last ? "its directory" : "directory",
		 dlen ? (int)dlen : 1, dlen ? path : "/");
	r = check_dir(dst, name, st, last, vm_uid, reason, size);
	if (r == 0 && last)
		r = check_socket(st, path, vm_uid, reason, size);
	if (r == 0 && !last && !S_ISDIR(st->st_mode))
		r = -ENOTDIR;
	if (r == 0) {
		*fd = f;
		f = -1;
	}
	return r;
}

/*
 * From "/" one component at a time, never following a symlink, each
 * directory checked before what it holds: the descriptor at the end is the
 * socket that was checked, whatever is renamed meanwhile.
 */
int sockcheck_open(const char *path, uid_t vm_uid, int *out, char *reason, size_t size)
{
	_cleanup_close_ int dfd = -1;
	struct stat dst, st;
	const char *p = path;
	size_t dlen = 0;

	*out = -1;
	if (path[0] != '/')
		return -EINVAL;
	dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fstat(dfd, &dst) < 0)
		return -errno;
	for (;;) {
		char comp[NAME_MAX + 1];
		size_t n;
		bool last;
		int fd = -1, r;

		p += strspn(p, "/");
		n = strcspn(p, "/");
		if (n == 0) {
			snprintf(reason, size, "%s is not a socket", path);
			return 1;
		}
		if (n > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(comp, p, n);
		comp[n] = '\0';
		last = p[n + strspn(p + n, "/")] == '\0';
		r = step(dfd, &dst, path, dlen, comp, p + n, last, vm_uid, &fd, &st, reason, size);
		if (r != 0)
			return r;
		close(dfd);
		dfd = fd;
		if (last) {
			*out = dfd;
			dfd = -1;
			return 0;
		}
		dst = st;
		p += n;
		dlen = (size_t)(p - path);
	}
}

int sockcheck_path(const char *path, uid_t vm_uid, char *reason, size_t size)
{
	_cleanup_close_ int fd = -1;

	return sockcheck_open(path, vm_uid, &fd, reason, size);
}

void sockcheck_via(int fd, char *buf, size_t size)
{
	snprintf(buf, size, "/proc/self/fd/%d", fd);
}

int sockcheck_peer(int fd, uid_t vm_uid, char *reason, size_t size)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char w[128];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	if (trusted(cred.uid, vm_uid))
		return 0;
	who(cred.uid, w, sizeof(w));
	snprintf(reason, size, "the peer (pid %d) runs as %s, not as root or the VM's user",
		 (int)cred.pid, w);
	return 1;
}
