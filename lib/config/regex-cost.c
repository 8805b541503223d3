/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "regex-cost.h"

#define MAX_DEPTH 64

const char *regex_skip_bracket(const char *s)
{
	if (*s == '^')
		s++;
	if (*s == ']')
		s++;
	while (*s && *s != ']') {
		if (*s == '[' && s[1] && strchr(":.=", s[1])) {
			const char end[] = { s[1], ']', '\0' };
			const char *e = strstr(s + 2, end);

			if (!e)
				return s + strlen(s);
			s = e + 2;
		} else {
			s++;
		}
	}
	return s;
}

/* "{m}", "{m,}" or "{m,n}" at S: how many copies regcomp() makes, or 0 when S is no interval. */
static uint64_t interval_copies(const char *s, const char **end)
{
	char *p;
	unsigned long m, n;

	m = strtoul(s + 1, &p, 10);
	if (p == s + 1)
		return 0;
	n = m;
	if (*p == ',') {
		const char *q = p + 1;

		n = strtoul(q, &p, 10);
		if (p == q)
			n = m + 1;	/* "{m,}": m copies and a starred one */
	}
	if (*p != '}')
		return 0;
	*end = p;
	return n > m ? n : m ?: 1;
}

static uint64_t cap(uint64_t v)
{
	return v > REGEX_MAX_COST ? REGEX_MAX_COST + 1 : v;
}

/*
 * Each level keeps the cost so far and that of its last atom. Every token
 * counts, operators too: glibc computes an epsilon closure per node, so its
 * time and memory grow with the square of the nodes, and "()" or "a?" repeated
 * are as costly as a repeated literal. A quantifier multiplies the last atom:
 * "*" and "?" make no copy, "+" makes one, "{m,n}" makes max(m, n).
 */
uint64_t regex_cost(const char *s)
{
	uint64_t sum[MAX_DEPTH], last[MAX_DEPTH];
	int depth = 0;

	sum[0] = last[0] = 0;
	for (; *s; s++) {
		uint64_t copies = 0, atom = 1;
		const char *end;

		switch (*s) {
		case '\\':
			if (s[1])
				s++;
			break;
		case '[':
			s = regex_skip_bracket(s + 1);
			if (!*s)
				s--;
			break;
		case '(':
			if (depth + 1 >= MAX_DEPTH)
				return REGEX_MAX_COST + 1;
			depth++;
			sum[depth] = last[depth] = 0;
			continue;
		case ')':
			if (depth == 0)
				break;	/* a literal ")" */
			atom = sum[depth--] + 2;
			break;
		case '|':
			sum[depth] = cap(sum[depth] + 1);
			last[depth] = 0;
			continue;
		case '*':
		case '?':
			copies = 1;
			break;
		case '+':
			copies = 2;
			break;
		case '{':
			copies = interval_copies(s, &end);
			if (copies)
				s = end;
			break;
		default:
			break;
		}
		if (copies) {
			uint64_t grown = cap(last[depth] * copies + 1);

			sum[depth] = cap(sum[depth] - last[depth] + grown);
			last[depth] = grown;
		} else {
			sum[depth] = cap(sum[depth] + atom);
			last[depth] = atom;
		}
		if (sum[depth] > REGEX_MAX_COST)
			return REGEX_MAX_COST + 1;
	}
	while (depth > 0)
		sum[depth - 1] = cap(sum[depth - 1] + sum[depth] + 2), depth--;
	return sum[0];
}
