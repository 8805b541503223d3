/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop.h"
#include "macro.h"

struct loop {
	int epfd;
	struct source *dead;	/* removed, to release after the batch */
	loop_post_fn post;
	void *post_data;
};

static void release_dead(struct loop *l)
{
	struct source *s;

	while ((s = l->dead)) {
		l->dead = s->next_dead;
		if (s->release)
			s->release(s);
	}
}

int loop_new(struct loop **out)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return -errno;
	}
	*out = l;
	return 0;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	release_dead(l);
	close(l->epfd);
	free(l);
}

static int ctl(struct loop *l, int op, int fd, uint32_t events, struct source *s)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };

	return epoll_ctl(l->epfd, op, fd, &ev) < 0 ? -errno : 0;
}

int loop_add(struct loop *l, int fd, uint32_t events, struct source *s)
{
	return ctl(l, EPOLL_CTL_ADD, fd, events, s);
}

int loop_mod(struct loop *l, int fd, uint32_t events, struct source *s)
{
	return ctl(l, EPOLL_CTL_MOD, fd, events, s);
}

void loop_set_post(struct loop *l, loop_post_fn fn, void *userdata)
{
	l->post = fn;
	l->post_data = userdata;
}

void loop_del(struct loop *l, int fd)
{
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
}

void loop_remove(struct loop *l, int fd, struct source *s)
{
	loop_del(l, fd);
	s->dead = true;
	s->next_dead = l->dead;
	l->dead = s;
}

int loop_dispatch(struct loop *l, int timeout_ms)
{
	struct epoll_event events[16];
	int n = epoll_wait(l->epfd, events, ARRAY_SIZE(events), timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct source *src = events[i].data.ptr;

		/* An earlier handler in this batch may have removed it. */
		if (!src->dead)
			src->dispatch(src, events[i].events);
	}
	/* Handlers only note what is to be done; the hook does it, on a stack of its own. */
	if (n > 0 && l->post)
		l->post(l->post_data);
	release_dead(l);
	return 0;
}
