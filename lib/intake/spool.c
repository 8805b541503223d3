/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "macro.h"
#include "spool.h"

#define SPOOL_FILE_MAX 4096

/* The spool proper, and the copies of events committed (spool_keep()). */
#define SPOOL_DIR "spool"
#define KEPT_DIR "committed"

static int spool_path(const char *rundir, const char *sub, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s", rundir, sub);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/*
 * The spool directory, refusing one that another user could write into:
 * whatever is in it becomes a udev event to statd.
 */
static int open_dir(const char *rundir, const char *sub, bool create, int *out)
{
	char path[PATH_MAX];
	struct stat st;
	int fd, r = spool_path(rundir, sub, path, sizeof(path));

	if (r < 0)
		return r;
	/* Made once and then there: not two mkdir() per event. */
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdir(rundir, 0700) < 0 && errno != EEXIST)
			return -errno;
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return -errno;
		fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
		log_err("%s: not a directory of this user closed to others: not used", path);
		close(fd);
		return -EPERM;
	}
	*out = fd;
	return 0;
}

int spool_prepare(const char *rundir)
{
	char path[PATH_MAX];
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r = spool_path(rundir, SPOOL_DIR, path, sizeof(path));

	if (r < 0)
		return r;
	if (mkdir(rundir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (stat(rundir, &st) < 0)
		return -errno;
	/*
	 * Made by an older version, or by hand: only root may poke statd or
	 * spool. A sticky directory is a shared one (/tmp given as --run-dir):
	 * not ours to close; the socket and spool in it are private anyway.
	 */
	if (!(st.st_mode & S_ISVTX) && (st.st_mode & 077) && chmod(rundir, 0700) < 0)
		return -errno;
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (chmod(path, 0700) < 0)
		return -errno;
	return open_dir(rundir, SPOOL_DIR, false, &fd);
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= n;
	}
	return 0;
}

void spool_name(uint64_t seqnum, char name[static SPOOL_NAME_MAX])
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(name, SPOOL_NAME_MAX, "%020" PRIu64 "-%020" PRIu64 "-%010d", seqnum,
		 (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec, (int)getpid());
}

static int write_event(const char *rundir, const char *sub, const char *name, const char *action,
		       const char *devpath, uint64_t seqnum, bool durable)
{
	_cleanup_close_ int dfd = -1;
	_cleanup_close_ int fd = -1;
	char tmp[SPOOL_NAME_MAX + 8], body[SPOOL_DEVPATH_MAX + 128];
	int n, r;

	if (strlen(devpath) >= SPOOL_DEVPATH_MAX)
		return -ENAMETOOLONG;
	r = open_dir(rundir, sub, true, &dfd);
	if (r < 0)
		return r;
	snprintf(tmp, sizeof(tmp), ".tmp-%s", name);
	n = snprintf(body, sizeof(body), "ACTION=%s\nDEVPATH=%s\nSEQNUM=%" PRIu64 "\n", action,
		     devpath, seqnum);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	r = write_all(fd, body, n);
	/* The event must survive a power cut once udev is told we are done. */
	if (r == 0 && durable && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && renameat(dfd, tmp, dfd, name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dfd, tmp, 0);
		return r;
	}
	return durable && fsync(dfd) < 0 ? -errno : 0;
}

int spool_write(const char *rundir, const char *action, const char *devpath, uint64_t seqnum)
{
	char name[SPOOL_NAME_MAX];

	spool_name(seqnum, name);
	return write_event(rundir, SPOOL_DIR, name, action, devpath, seqnum, true);
}

/* The database holds the event durably: the copy is only a witness, no fsync. */
int spool_keep(const char *rundir, const char *name, const char *action, const char *devpath,
	       uint64_t seqnum)
{
	return write_event(rundir, KEPT_DIR, name, action, devpath, seqnum, false);
}

static int visible(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

bool spool_pending(const char *rundir)
{
	struct dirent *de;
	bool found = false;
	DIR *d;
	int fd;

	if (open_dir(rundir, SPOOL_DIR, false, &fd) < 0)
		return false;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return false;
	}
	while (!found && (de = readdir(d)))
		found = visible(de);
	closedir(d);
	return found;
}

static int read_event(int dfd, const char *name, struct spool_event *ev)
{
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	char buf[SPOOL_FILE_MAX + 1];
	struct stat st;
	ssize_t len;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return -EBADF;
	len = read(fd, buf, SPOOL_FILE_MAX);
	if (len < 0)
		return -errno;
	buf[len] = '\0';
	*ev = (struct spool_event){};
	snprintf(ev->name, sizeof(ev->name), "%s", name);
	for (char *line = buf, *next; *line; line = next) {
		char *eq, *end;

		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = '\0';
		eq = strchr(line, '=');
		if (!eq)
			return -EBADMSG;
		*eq++ = '\0';
		if (streq(line, "ACTION") && strlen(eq) < sizeof(ev->action)) {
			strcpy(ev->action, eq);
		} else if (streq(line, "DEVPATH") && strlen(eq) < sizeof(ev->devpath)) {
			strcpy(ev->devpath, eq);
		} else if (streq(line, "SEQNUM")) {
			errno = 0;
			ev->seqnum = strtoull(eq, &end, 10);
			if (errno || *end)
				return -EBADMSG;
		}
	}
	if (!(streq(ev->action, "add") || streq(ev->action, "remove")) || !ev->devpath[0])
		return -EBADMSG;
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void set_aside(int dfd, const char *rundir, const char *sub, const char *name, int err)
{
	char bad[NAME_MAX + 8];

	snprintf(bad, sizeof(bad), ".bad-%s", name);
	log_err("%s/%s/%s: cannot be imported (%s): kept as %s", rundir, sub, name, strerror(-err),
		bad);
	if (renameat(dfd, name, dfd, bad) < 0)
		unlinkat(dfd, name, 0);
}

static void remove_all(int dfd, const char *rundir, const char *sub, const struct spool_event *v,
		       int n)
{
	for (int i = 0; i < n; i++)
		if (unlinkat(dfd, v[i].name, 0) < 0)
			log_err("%s/%s/%s: imported, but not removed: %m", rundir, sub, v[i].name);
}

static int import_dir(const char *rundir, const char *sub, spool_fn fn, void *userdata, int max,
		      int *n)
{
	_cleanup_close_ int dfd = -1;
	_cleanup_free_ struct spool_event *v = NULL;
	char path[PATH_MAX];
	struct dirent **names = NULL;
	int count, r = spool_path(rundir, sub, path, sizeof(path));

	*n = 0;
	if (r == 0)
		r = open_dir(rundir, sub, false, &dfd);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	/* Through the checked fd: the path may not be swapped for a link since. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", dfd);
	count = scandir(path, &names, visible, by_name);
	if (count < 0)
		return -errno;
	v = calloc(max > 0 ? max : 1, sizeof(*v));
	for (int i = 0; i < count; i++) {
		if (v && *n < max) {
			int e = read_event(dfd, names[i]->d_name, &v[*n]);

			if (e < 0)
				set_aside(dfd, rundir, sub, names[i]->d_name, e);
			else
				(*n)++;
		}
		free(names[i]);
	}
	free(names);
	if (!v)
		return -ENOMEM;
	r = *n > 0 ? fn(userdata, v, *n) : 0;
	/* Removed only once FN has them all in: a crash before this imports them again. */
	if (r == 0)
		remove_all(dfd, rundir, sub, v, *n);
	else
		*n = 0;
	return r;
}

int spool_import(const char *rundir, spool_fn fn, void *userdata, int max, int *n)
{
	return import_dir(rundir, SPOOL_DIR, fn, userdata, max, n);
}

int spool_import_kept(const char *rundir, spool_fn fn, void *userdata, int max, int *n)
{
	return import_dir(rundir, KEPT_DIR, fn, userdata, max, n);
}
