/* SPDX-License-Identifier: Apache-2.0 */
/* statd/timer.c: milliseconds into a timerfd, a second and more included. */
#include <poll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "check.h"
#include "timer.h"

static int new_timer(void)
{
	return timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
}

/* 1500 ms is 1 s and 500,000,000 ns: never 1,500,000,000 ns, which the kernel refuses. */
static void a_second_and_more_is_armed(void)
{
	struct itimerspec its = {};
	int fd = new_timer();

	CHECK(timer_arm(fd, 1500, false) == 0);
	CHECK(timerfd_gettime(fd, &its) == 0);
	CHECK(its.it_value.tv_sec == 1);
	CHECK(its.it_value.tv_nsec > 0 && its.it_value.tv_nsec <= 500000000);
	close(fd);
}

static void minus_one_disarms(void)
{
	struct itimerspec its = {};
	int fd = new_timer();

	CHECK(timer_arm(fd, 60000, false) == 0);
	CHECK(timer_arm(fd, -1, false) == 0);
	CHECK(timerfd_gettime(fd, &its) == 0);
	CHECK(its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0);
	close(fd);
}

/* An absolute time already past (0) fires, rather than disarming the timer. */
static void a_time_past_fires(void)
{
	struct pollfd p = { .fd = new_timer(), .events = POLLIN };

	CHECK(timer_arm(p.fd, 0, true) == 0);
	CHECK(poll(&p, 1, 5000) == 1);
	close(p.fd);
}

/* A failure is returned, not dropped. */
static void a_failure_is_returned(void)
{
	CHECK(timer_arm(-1, 10, false) < 0);
}

int main(void)
{
	a_second_and_more_is_armed();
	minus_one_disarms();
	a_time_past_fires();
	a_failure_is_returned();
	return check_result();
}
