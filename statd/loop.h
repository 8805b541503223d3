/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * statd's one epoll loop. Every fd it watches has a struct source, which
 * epoll hands back in data.ptr.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/*
 * A source removed with loop_remove() is never dispatched again, not even
 * for an event already fetched in the batch being dispatched (sd-event's
 * rule): its memory is released only after that batch.
 */
struct source {
	void (*dispatch)(struct source *s, uint32_t events);
	void (*release)(struct source *s);	/* loop_remove(): frees it; may be NULL */
	bool dead;
	struct source *next_dead;
};

struct loop;

int loop_new(struct loop **out);
void loop_free(struct loop *l);

int loop_add(struct loop *l, int fd, uint32_t events, struct source *s);
int loop_mod(struct loop *l, int fd, uint32_t events, struct source *s);
/* Stop watching FD (a source that stays valid). */
void loop_del(struct loop *l, int fd);
/* Stop watching FD for good: S is not dispatched again, and released after the batch. */
void loop_remove(struct loop *l, int fd, struct source *s);

/*
 * FN runs after each batch of events is dispatched (sd-event's post
 * sources): a handler only notes work, the hook does it, so nothing a
 * handler starts can re-enter another handler's caller on the same stack.
 */
typedef void (*loop_post_fn)(void *userdata);
void loop_set_post(struct loop *l, loop_post_fn fn, void *userdata);

/* Wait up to TIMEOUT_MS (-1: for ever), dispatch one batch of events, then run the post hook. */
int loop_dispatch(struct loop *l, int timeout_ms);
