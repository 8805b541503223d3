/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * statd's one epoll loop. Every fd it watches has a struct source, which
 * epoll hands back in data.ptr.
 */
#include <stddef.h>
#include <stdint.h>

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

struct source {
	void (*dispatch)(struct source *s, uint32_t events);
};

struct loop;

int loop_new(struct loop **out);
void loop_free(struct loop *l);

int loop_add(struct loop *l, int fd, uint32_t events, struct source *s);
int loop_mod(struct loop *l, int fd, uint32_t events, struct source *s);
void loop_del(struct loop *l, int fd);

/* Wait up to TIMEOUT_MS (-1: for ever) and dispatch one batch of events. */
int loop_dispatch(struct loop *l, int timeout_ms);
