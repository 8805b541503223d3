/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>
#include <sys/timerfd.h>

#include "log.h"
#include "timer.h"

int timer_arm(int fd, int64_t ms, bool abs)
{
	struct itimerspec its = {};

	if (ms >= 0) {
		/* tv_nsec must stay under one second: split, never ms * 1000000. */
		its.it_value.tv_sec = ms / 1000;
		its.it_value.tv_nsec = (ms % 1000) * 1000000L;
		/* All zero would disarm it: a time already due fires in 1 ns. */
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(fd, abs ? TFD_TIMER_ABSTIME : 0, &its, NULL) < 0) {
		int r = -errno;

		log_err("cannot arm a timer for %lld ms: %s", (long long)ms, strerror(-r));
		return r;
	}
	return 0;
}
