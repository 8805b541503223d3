/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>

/*
 * Past this, a pattern is refused: glibc's regcomp() copies a repeated part
 * once per repetition, so "a++++..." or "((a{9}){9}){9}" grows exponentially
 * and can take gigabytes before it fails (found by fuzzing the config).
 */
#define REGEX_MAX_COST 2000

/* Skip a bracket expression; S is just past "[". Returns its "]" or the end. */
const char *regex_skip_bracket(const char *s);

/* Roughly how many nodes regcomp() makes of the extended PATTERN; at most REGEX_MAX_COST + 1. */
uint64_t regex_cost(const char *pattern);
