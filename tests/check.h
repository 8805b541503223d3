/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdio.h>

/* Count a failed condition and go on, so one run shows every failure. */
static int check_failures;

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
			check_failures++;                                                \
		}                                                                        \
	} while (0)

static inline int check_result(void)
{
	if (check_failures)
		fprintf(stderr, "%d check(s) failed\n", check_failures);
	return check_failures ? 1 : 0;
}
