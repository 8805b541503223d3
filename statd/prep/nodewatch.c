/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "macro.h"
#include "nodewatch.h"
#include "watch.h"

#define NODE_EVENTS \
	(IN_CREATE | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

struct nodewatch {
	struct source src;
	struct loop *loop;
	int fd;
	int wd;
	char *dir;
	char *watched;		/* DIR, or the parent watched while DIR is missing */
	nodewatch_fn changed;
	void *userdata;
};

/* Watch DIR, or its nearest existing parent; the old watch goes. */
static int rewatch(struct nodewatch *nw)
{
	char *at = NULL;
	int wd = watch_add_nearest(nw->fd, nw->dir, NODE_EVENTS, &at);

	if (wd < 0)
		return wd;
	if (nw->wd >= 0 && nw->wd != wd)
		inotify_rm_watch(nw->fd, nw->wd);
	nw->wd = wd;
	free(nw->watched);
	nw->watched = at;
	return 0;
}

static void on_inotify(struct source *src, uint32_t events _unused_)
{
	struct nodewatch *nw = container_of(src, struct nodewatch, src);
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool moved = false, any = false;
	ssize_t n;

	while ((n = read(nw->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			any = true;
			/* DIR came (under its parent) or went: watch what there is now. */
			moved = moved || !streq(nw->watched, nw->dir) ||
				(ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_Q_OVERFLOW));
			p += sizeof(*ev) + ev->len;
		}
	}
	if (moved && rewatch(nw) < 0)
		log_warn("cannot watch %s: %m", nw->dir);
	if (any)
		nw->changed(nw->userdata);
}

int nodewatch_new(struct loop *loop, const char *dir, nodewatch_fn changed, void *userdata,
		  struct nodewatch **out)
{
	struct nodewatch *nw = calloc(1, sizeof(*nw));
	int r;

	if (!nw)
		return -ENOMEM;
	nw->src.dispatch = on_inotify;
	nw->loop = loop;
	nw->wd = -1;
	nw->changed = changed;
	nw->userdata = userdata;
	nw->dir = strdup(dir);
	nw->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	r = !nw->dir ? -ENOMEM : nw->fd < 0 ? -errno : rewatch(nw);
	if (r == 0)
		r = loop_add(loop, nw->fd, EPOLLIN, &nw->src);
	if (r < 0) {
		nodewatch_free(nw);
		return r;
	}
	*out = nw;
	return 0;
}

void nodewatch_free(struct nodewatch *nw)
{
	if (!nw)
		return;
	if (nw->fd >= 0) {
		loop_del(nw->loop, nw->fd);
		close(nw->fd);
	}
	free(nw->watched);
	free(nw->dir);
	free(nw);
}
