/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* What an epoll entry's data.ptr points at: every fd statd watches has one. */
struct source {
	void (*dispatch)(struct source *s, uint32_t events);
};
