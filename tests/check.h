/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

/* Failed checks of the whole test program; check_result() turns them into the exit status. */
static int check_failures;

static inline bool check_report(bool ok, const char *file, int line, const char *cond)
{
	if (!ok) {
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", file, line, cond);
		check_failures++;
	}
	return ok;
}

/* Count a failed condition and go on, so one run shows every failure. */
#define CHECK(cond) ((void)check_report(!!(cond), __FILE__, __LINE__, #cond))

/* For steps that later ones need: count the failure and jump to the function's "out:" label. */
#define REQUIRE(cond)                                                \
	do {                                                         \
		if (!check_report(!!(cond), __FILE__, __LINE__, #cond)) \
			goto out;                                    \
	} while (0)

static inline int check_result(void)
{
	if (check_failures)
		fprintf(stderr, "%d check(s) failed\n", check_failures);
	return check_failures ? 1 : 0;
}
