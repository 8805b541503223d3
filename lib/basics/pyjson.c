/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyjson.h"

/* json-c nests at most 32 deep when parsing; this bounds our recursion whatever was built. */
#define PYJSON_MAX_DEPTH 64

/* The code point at S (N bytes left), its length in *USED; -1 for a byte that is not UTF-8. */
static long utf8_decode(const unsigned char *s, size_t n, size_t *used)
{
	static const long min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len = s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	long cp;

	*used = 1;
	if (s[0] >= 0xf5 || len == 0 || len > n)
		return -1;
	cp = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms and UTF-16 surrogates are not UTF-8 (Python would not have decoded them). */
	if (cp < min[len] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return -1;
	*used = len;
	return cp;
}

static void put_string(FILE *f, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', f);
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t used;
		long cp;

		if (c >= 0x20 && c < 0x7f) {
			if (c == '"' || c == '\\')
				fputc('\\', f);
			fputc(c, f);
			i++;
			continue;
		}
		switch (c) {
		case '\n': fputs("\\n", f); i++; continue;
		case '\r': fputs("\\r", f); i++; continue;
		case '\t': fputs("\\t", f); i++; continue;
		case '\b': fputs("\\b", f); i++; continue;
		case '\f': fputs("\\f", f); i++; continue;
		}
		cp = c < 0x80 ? c : utf8_decode(s + i, n - i, &used);
		if (c < 0x80)
			used = 1;
		if (cp < 0)
			cp = 0xfffd;	/* not UTF-8: the replacement character, one per bad byte */
		if (cp >= 0x10000) {
			cp -= 0x10000;
			fprintf(f, "\\u%04lx\\u%04lx", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
		} else {
			fprintf(f, "\\u%04lx", cp);
		}
		i += used;
	}
	fputc('"', f);
}

/* Python's float repr(): the shortest digits that read back, fixed from 1e-4 to 1e16. */
static void put_double(FILE *f, double d)
{
	char buf[40];
	int prec, exp;

	if (isnan(d)) {
		fputs("NaN", f);
		return;
	}
	if (isinf(d)) {
		fputs(d < 0 ? "-Infinity" : "Infinity", f);
		return;
	}
	for (prec = 1; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	snprintf(buf, sizeof(buf), "%.*e", prec - 1, d);
	exp = atoi(strchr(buf, 'e') + 1);
	if (exp < -4 || exp >= 16) {
		fputs(buf, f);	/* "1e+16", "1.5e-07": C's exponent is Python's */
		return;
	}
	fprintf(f, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, d);
	if (prec - 1 - exp <= 0)
		fputs(".0", f);
}

static void put_value(FILE *f, json_object *o, int depth)
{
	bool first = true;

	if (depth > PYJSON_MAX_DEPTH) {
		fputs("null", f);
		return;
	}
	switch (json_object_get_type(o)) {
	case json_type_null:
		fputs("null", f);
		break;
	case json_type_boolean:
		fputs(json_object_get_boolean(o) ? "true" : "false", f);
		break;
	case json_type_int:
		if (json_object_get_int64(o) == INT64_MAX)	/* perhaps a uint64 above it */
			fprintf(f, "%" PRIu64, json_object_get_uint64(o));
		else
			fprintf(f, "%" PRId64, json_object_get_int64(o));
		break;
	case json_type_double:
		put_double(f, json_object_get_double(o));
		break;
	case json_type_string:
		put_string(f, json_object_get_string(o), (size_t)json_object_get_string_len(o));
		break;
	case json_type_array:
		fputc('[', f);
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			fputs(i ? ", " : "", f);
			put_value(f, json_object_array_get_idx(o, i), depth + 1);
		}
		fputc(']', f);
		break;
	case json_type_object:
		fputc('{', f);
		json_object_object_foreach(o, key, val) {
			fputs(first ? "" : ", ", f);
			first = false;
			put_string(f, key, strlen(key));
			fputs(": ", f);
			put_value(f, val, depth + 1);
		}
		fputc('}', f);
		break;
	}
}

char *pyjson_dumps(json_object *obj, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	put_value(f, obj, 0);
	if (ferror(f) | fclose(f)) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}
