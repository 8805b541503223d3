/* SPDX-License-Identifier: Apache-2.0 */
/*
 * statd/loop.c: a source removed by an earlier handler of the same epoll
 * batch is not dispatched, and is released only after the batch.
 */
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "check.h"
#include "loop.h"

struct pair;

struct side {
	struct source src;
	struct pair *p;
	int fd;
	int dispatched;
	int released;
};

struct pair {
	struct loop *l;
	struct side s[2];
};

static void on_ready(struct source *src, uint32_t events)
{
	struct side *me = container_of(src, struct side, src);
	struct side *other = &me->p->s[me == &me->p->s[0] ? 1 : 0];

	me->dispatched++;
	/* Like a timer handler that disconnects the VM whose reply is in the same batch. */
	if (!other->src.dead) {
		loop_remove(me->p->l, other->fd, &other->src);
		/* Not released yet: the batch may still hold its event. */
		CHECK(other->released == 0);
	}
}

static void on_release(struct source *src)
{
	container_of(src, struct side, src)->released++;
}

static void removed_in_batch_is_not_dispatched(void)
{
	struct pair p = {};

	CHECK(loop_new(&p.l) == 0);
	for (int i = 0; i < 2; i++) {
		p.s[i] = (struct side){ .src = { .dispatch = on_ready, .release = on_release }, .p = &p };
		p.s[i].fd = eventfd(1, EFD_CLOEXEC);	/* readable now: both in one batch */
		CHECK(loop_add(p.l, p.s[i].fd, EPOLLIN, &p.s[i].src) == 0);
	}
	CHECK(loop_dispatch(p.l, 1000) == 0);
	CHECK(p.s[0].dispatched + p.s[1].dispatched == 1);
	CHECK(p.s[0].released + p.s[1].released == 1);	/* after the batch */
	loop_free(p.l);
	close(p.s[0].fd);
	close(p.s[1].fd);
}

int main(void)
{
	removed_in_batch_is_not_dispatched();
	return check_result();
}
