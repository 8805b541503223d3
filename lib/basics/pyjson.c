/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "pyjson.h"

/* json-c nests at most 32 deep when parsing; this bounds our recursion whatever was built. */
#define PYJSON_MAX_DEPTH 64

/* A growing string; not open_memstream(), which ASan's interceptor trips on when reused fast. */
struct out {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put_mem(struct out *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 256;
		char *p;

		while (cap < o->len + n + 1)
			cap *= 2;
		p = realloc(o->p, cap);
		if (!p) {
			o->oom = true;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void put_str(const char *s, struct out *o)
{
	put_mem(o, s, strlen(s));
}

static void put_char(int c, struct out *o)
{
	char ch = (char)c;

	put_mem(o, &ch, 1);
}

static void put_fmt(struct out *o, const char *fmt, ...) _printf_(2, 3);
static void put_fmt(struct out *o, const char *fmt, ...)
{
	char buf[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	put_mem(o, buf, n < 0 ? 0 : (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

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

static void put_string(struct out *f, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;

	put_char('"', f);
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t used;
		long cp;

		if (c >= 0x20 && c < 0x7f) {
			if (c == '"' || c == '\\')
				put_char('\\', f);
			put_char(c, f);
			i++;
			continue;
		}
		switch (c) {
		case '\n': put_str("\\n", f); i++; continue;
		case '\r': put_str("\\r", f); i++; continue;
		case '\t': put_str("\\t", f); i++; continue;
		case '\b': put_str("\\b", f); i++; continue;
		case '\f': put_str("\\f", f); i++; continue;
		}
		cp = c < 0x80 ? c : utf8_decode(s + i, n - i, &used);
		if (c < 0x80)
			used = 1;
		if (cp < 0)
			cp = 0xfffd;	/* not UTF-8: the replacement character, one per bad byte */
		if (cp >= 0x10000) {
			cp -= 0x10000;
			put_fmt(f, "\\u%04lx\\u%04lx", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
		} else {
			put_fmt(f, "\\u%04lx", cp);
		}
		i += used;
	}
	put_char('"', f);
}

void pyjson_float_repr(double d, char *buf, size_t size)
{
	char e[40];
	int prec, exp;

	for (prec = 1; prec < 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec - 1, d);
		if (strtod(e, NULL) == d)
			break;
	}
	snprintf(e, sizeof(e), "%.*e", prec - 1, d);
	exp = atoi(strchr(e, 'e') + 1);
	if (exp < -4 || exp >= 16)
		snprintf(buf, size, "%s", e);	/* "1e+16", "1.5e-07": C's exponent is Python's */
	else if (prec - 1 - exp > 0)
		snprintf(buf, size, "%.*f", prec - 1 - exp, d);
	else
		snprintf(buf, size, "%.0f.0", d);
}

static void put_double(struct out *f, double d)
{
	char buf[PYJSON_FLOAT_MAX];

	if (isnan(d)) {
		put_str("NaN", f);
		return;
	}
	if (isinf(d)) {
		put_str(d < 0 ? "-Infinity" : "Infinity", f);
		return;
	}
	pyjson_float_repr(d, buf, sizeof(buf));
	put_str(buf, f);
}

static void put_value(struct out *f, json_object *o, int depth)
{
	bool first = true;

	if (depth > PYJSON_MAX_DEPTH) {
		put_str("null", f);
		return;
	}
	switch (json_object_get_type(o)) {
	case json_type_null:
		put_str("null", f);
		break;
	case json_type_boolean:
		put_str(json_object_get_boolean(o) ? "true" : "false", f);
		break;
	case json_type_int:
		if (json_object_get_int64(o) == INT64_MAX)	/* perhaps a uint64 above it */
			put_fmt(f, "%" PRIu64, json_object_get_uint64(o));
		else
			put_fmt(f, "%" PRId64, json_object_get_int64(o));
		break;
	case json_type_double:
		put_double(f, json_object_get_double(o));
		break;
	case json_type_string:
		put_string(f, json_object_get_string(o), (size_t)json_object_get_string_len(o));
		break;
	case json_type_array:
		put_char('[', f);
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			put_str(i ? ", " : "", f);
			put_value(f, json_object_array_get_idx(o, i), depth + 1);
		}
		put_char(']', f);
		break;
	case json_type_object:
		put_char('{', f);
		json_object_object_foreach(o, key, val) {
			put_str(first ? "" : ", ", f);
			first = false;
			put_string(f, key, strlen(key));
			put_str(": ", f);
			put_value(f, val, depth + 1);
		}
		put_char('}', f);
		break;
	}
}

char *pyjson_dumps(json_object *obj, size_t *len)
{
	struct out o = { 0 };

	put_value(&o, obj, 0);
	if (o.oom) {
		free(o.p);
		return NULL;
	}
	*len = o.len;
	return o.p;
}
