/* SPDX-License-Identifier: Apache-2.0 */
/*
 * statd/loop.c: a source removed by an earlier handler of the same epoll
 * batch is not dispatched, and is released only after the batch; the post
 * hook runs once after each batch.
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

/* The post hook: once per batch, after every handler of the batch, before its releases. */
struct post_seen {
	struct pair *p;
	int runs;
	int dispatched_then;
	int released_then;
};

static void on_post(void *userdata)
{
	struct post_seen *ps = userdata;

	ps->runs++;
	ps->dispatched_then = ps->p->s[0].dispatched + ps->p->s[1].dispatched;
	ps->released_then = ps->p->s[0].released + ps->p->s[1].released;
}

static void count_only(struct source *src, uint32_t events)
{
	container_of(src, struct side, src)->dispatched++;
}

static void post_hook_runs_after_the_batch(void)
{
	struct pair p = {};
	struct post_seen ps = { .p = &p };

	CHECK(loop_new(&p.l) == 0);
	loop_set_post(p.l, on_post, &ps);
	for (int i = 0; i < 2; i++) {
		p.s[i] = (struct side){ .src = { .dispatch = count_only, .release = on_release }, .p = &p };
		p.s[i].fd = eventfd(1, EFD_CLOEXEC);
		CHECK(loop_add(p.l, p.s[i].fd, EPOLLIN, &p.s[i].src) == 0);
	}
	CHECK(loop_dispatch(p.l, 1000) == 0);
	CHECK(ps.runs == 1);			/* one batch, one run */
	CHECK(ps.dispatched_then == 2);		/* after both handlers */
	/* Nothing ready: no batch, no run. */
	for (int i = 0; i < 2; i++)
		loop_del(p.l, p.s[i].fd);
	CHECK(loop_dispatch(p.l, 0) == 0);
	CHECK(ps.runs == 1);
	loop_free(p.l);
	close(p.s[0].fd);
	close(p.s[1].fd);
}

/* A source removed by the post hook is released with the batch, not left for the next. */
static void remove_in_post(void *userdata)
{
	struct pair *p = userdata;

	if (!p->s[0].src.dead)
		loop_remove(p->l, p->s[0].fd, &p->s[0].src);
}

static void post_hook_removal_is_released(void)
{
	struct pair p = {};

	CHECK(loop_new(&p.l) == 0);
	loop_set_post(p.l, remove_in_post, &p);
	p.s[0] = (struct side){ .src = { .dispatch = count_only, .release = on_release }, .p = &p };
	p.s[0].fd = eventfd(1, EFD_CLOEXEC);
	CHECK(loop_add(p.l, p.s[0].fd, EPOLLIN, &p.s[0].src) == 0);
	CHECK(loop_dispatch(p.l, 1000) == 0);
	CHECK(p.s[0].dispatched == 1);
	CHECK(p.s[0].released == 1);
	loop_free(p.l);
	close(p.s[0].fd);
}

int main(void)
{
	removed_in_batch_is_not_dispatched();
	post_hook_runs_after_the_batch();
	post_hook_removal_is_released();
	return check_result();
}
