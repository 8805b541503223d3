/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "macro.h"
#include "watch.h"

#define DIR_EVENTS \
	(IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF | \
	 IN_ONLYDIR)

struct dirwatch {
	int wd;
	char *path;
};

struct vmwatch {
	struct source src;
	struct loop *loop;
	int fd;
	const struct config *cfg;
	struct dirwatch *dirs;
	size_t n_dirs;
	vmwatch_fn appeared;
	void *userdata;
};

/* The directory part of PATH, into a new string ("/" for "/x", "." for "x"). */
static char *parent_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, slash - path);
}

static const char *file_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static const struct dirwatch *find_wd(const struct dirwatch *dirs, size_t n, int wd)
{
	for (size_t i = 0; i < n; i++)
		if (dirs[i].wd == wd)
			return &dirs[i];
	return NULL;
}

static bool watched_path(const struct dirwatch *dirs, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (streq(dirs[i].path, path))
			return true;
	return false;
}

static void free_dirs(struct dirwatch *dirs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(dirs[i].path);
	free(dirs);
}

int watch_add_nearest(int fd, const char *dir, uint32_t mask, char **at)
{
	char *p = strdup(dir);
	int wd;

	while (p && (wd = inotify_add_watch(fd, p, mask)) < 0) {
		int err = errno;
		char *up = err == ENOENT || err == ENOTDIR ? parent_of(p) : NULL;

		if (!up || streq(up, p)) {
			log_debug("cannot watch %s: %s", p, strerror(err));
			free(up);
			free(p);
			return -err;
		}
		free(p);
		p = up;
	}
	if (!p)
		return -ENOMEM;
	*at = p;
	return wd;
}

/* Does the part of DIR right below its ancestor AT exist now? */
static bool next_part_exists(const char *at, const char *dir)
{
	size_t len = strlen(at);
	const char *end;
	struct stat st;
	char *next;
	bool r;

	if (strncmp(at, dir, len) != 0 || (dir[len] != '/' && !streq(at, "/")))
		return false;
	end = strchr(dir + len + 1, '/');
	next = strndup(dir, end ? (size_t)(end - dir) : strlen(dir));
	r = next && stat(next, &st) == 0 && S_ISDIR(st.st_mode);
	free(next);
	return r;
}

/* Watch DIR, or its nearest existing parent. Adds to *DIRS; returns the path watched or NULL. */
static const char *watch_nearest(struct vmwatch *vw, const char *dir, struct dirwatch **dirs,
				 size_t *n)
{
	char *p = NULL;
	struct dirwatch *v;
	int wd;

	for (int tries = 0;; tries++) {
		wd = watch_add_nearest(vw->fd, dir, DIR_EVENTS, &p);
		/*
		 * A parent is watched: the next part of the path may have been
		 * made after it was found missing and before the watch (mkdir -p),
		 * and no event will say so. Go deeper while it is there.
		 */
		if (wd < 0 || streq(p, dir) || tries == 8 || !next_part_exists(p, dir))
			break;
		if (!find_wd(*dirs, *n, wd) && !find_wd(vw->dirs, vw->n_dirs, wd))
			inotify_rm_watch(vw->fd, wd);
		free(p);
		p = NULL;
	}
	if (wd < 0)
		return NULL;
	if (find_wd(*dirs, *n, wd)) {
		free(p);
		return find_wd(*dirs, *n, wd)->path;
	}
	v = realloc(*dirs, (*n + 1) * sizeof(*v));
	if (!v) {
		free(p);
		return NULL;
	}
	*dirs = v;
	v[*n] = (struct dirwatch){ .wd = wd, .path = p };
	return v[(*n)++].path;
}

static bool is_socket(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/*
 * Watch every VM's socket directory (or what exists of its path) again and
 * drop watches no longer needed. REPORT: a socket found in a directory that
 * was not watched before counts as appeared (it may have come with it).
 */
static void rescan(struct vmwatch *vw, bool report)
{
	struct dirwatch *dirs = NULL;
	size_t n = 0;

	for (size_t i = 0; vw->cfg && i < vw->cfg->n_vms; i++) {
		const struct vm *vm = &vw->cfg->vms[i];
		_cleanup_free_ char *dir = parent_of(vm->socket);
		const char *at = dir ? watch_nearest(vw, dir, &dirs, &n) : NULL;

		if (report && at && streq(at, dir) && !watched_path(vw->dirs, vw->n_dirs, dir) &&
		    is_socket(vm->socket)) {
			log_info("QMP socket of %s appeared", vm->name);
			vw->appeared(vw->userdata, vm->name, true);
		}
	}
	for (size_t i = 0; i < vw->n_dirs; i++)
		if (!find_wd(dirs, n, vw->dirs[i].wd))
			inotify_rm_watch(vw->fd, vw->dirs[i].wd);	/* its IN_IGNORED is skipped */
	free_dirs(vw->dirs, vw->n_dirs);
	vw->dirs = dirs;
	vw->n_dirs = n;
}

/* An event in D: a VM's socket, or (D a parent of a missing directory) maybe its next part. */
static bool handle(struct vmwatch *vw, const struct dirwatch *d, const struct inotify_event *ev)
{
	bool again = false;

	if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_Q_OVERFLOW))
		return true;
	for (size_t i = 0; ev->len && i < vw->cfg->n_vms; i++) {
		const struct vm *vm = &vw->cfg->vms[i];
		_cleanup_free_ char *dir = parent_of(vm->socket);

		if (!dir || !streq(dir, d->path))
			again = again || (dir && !watched_path(vw->dirs, vw->n_dirs, dir));
		else if (streq(file_name(vm->socket), ev->name)) {
			bool gone = ev->mask & (IN_DELETE | IN_MOVED_FROM);

			log_info("QMP socket of %s %s", vm->name, gone ? "removed" : "appeared");
			vw->appeared(vw->userdata, vm->name, !gone);
		}
	}
	return again && (ev->mask & IN_ISDIR) && !(ev->mask & (IN_DELETE | IN_MOVED_FROM));
}

static void on_inotify(struct source *src, uint32_t events)
{
	struct vmwatch *vw = container_of(src, struct vmwatch, src);
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool again = false;
	ssize_t n;

	while ((n = read(vw->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			const struct dirwatch *d = find_wd(vw->dirs, vw->n_dirs, ev->wd);

			if (ev->mask & IN_Q_OVERFLOW)
				again = true;
			else if (d && handle(vw, d, ev))
				again = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	if (again)
		rescan(vw, true);
}

int vmwatch_new(struct loop *loop, vmwatch_fn appeared, void *userdata, struct vmwatch **out)
{
	struct vmwatch *vw = calloc(1, sizeof(*vw));
	int r;

	if (!vw)
		return -ENOMEM;
	vw->src.dispatch = on_inotify;
	vw->loop = loop;
	vw->appeared = appeared;
	vw->userdata = userdata;
	vw->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	r = vw->fd < 0 ? -errno : loop_add(loop, vw->fd, EPOLLIN, &vw->src);
	if (r < 0) {
		vmwatch_free(vw);
		return r;
	}
	*out = vw;
	return 0;
}

void vmwatch_set_config(struct vmwatch *vw, const struct config *cfg)
{
	vw->cfg = cfg;
	rescan(vw, false);
}

void vmwatch_free(struct vmwatch *vw)
{
	if (!vw)
		return;
	if (vw->fd >= 0) {
		loop_del(vw->loop, vw->fd);
		close(vw->fd);
	}
	free_dirs(vw->dirs, vw->n_dirs);
	free(vw);
}
