/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/* Arming a timerfd in milliseconds, the one place that turns them into a struct timespec. */
#include <stdbool.h>
#include <stdint.h>

/*
 * Arm timerfd FD for MS: a CLOCK_MONOTONIC time in ms (ABS) or ms from now;
 * MS < 0 disarms. A time already past fires at once. 0, or -errno (logged).
 */
int timer_arm(int fd, int64_t ms, bool abs);
