/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <libgen.h>
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

int sockcheck_path(const char *path, uid_t vm_uid, char *reason, size_t size)
{
	char dir[4096];
	struct stat st;

	if (lstat(path, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode)) {
		snprintf(reason, size, "socket %s is a symlink", path);
		return 1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(reason, size, "%s is not a socket", path);
		return 1;
	}
	if (!trusted(st.st_uid, vm_uid))
		return refuse_owner(reason, size, "socket", st.st_uid);

	/* Whoever may write the directory may replace the socket. */
	snprintf(dir, sizeof(dir), "%s", path);
	if (stat(dirname(dir), &st) < 0)
		return -errno;
	if (!trusted(st.st_uid, vm_uid)) {
		char what[4200];

		snprintf(what, sizeof(what), "its directory %s", dir);
		return refuse_owner(reason, size, what, st.st_uid);
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(reason, size, "its directory %s is writable by %s", dir,
			 st.st_mode & S_IWOTH ? "others" : "its group");
		return 1;
	}
	return 0;
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
