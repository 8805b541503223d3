/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/* statd's one clock: CLOCK_MONOTONIC in ms, for deadlines, backoff and retries. */
#include <stdint.h>
#include <time.h>

static inline int64_t clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
