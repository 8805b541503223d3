/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A reply's values shown as the original's Python shows them: str() and
 * repr() of what json.loads() made of it, which is what its print() and
 * logging write. Requests go out through lib/basics/pyjson.c's json.dumps().
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pyjson.h"

/*
 * The next code point of S[*I..LEN) as Python's UTF-8 decoder with
 * surrogateescape sees it (argv is decoded that way): a byte that does not
 * start a valid sequence becomes U+DC80 + byte.
 */
static uint32_t utf8_next(const unsigned char *s, size_t len, size_t *i)
{
	unsigned char b = s[*i];
	uint32_t cp, min;
	size_t n, k;

	if (b < 0x80) {
		(*i)++;
		return b;
	}
	if (b >= 0xc2 && b <= 0xdf)
		n = 1, cp = b & 0x1f, min = 0x80;
	else if (b >= 0xe0 && b <= 0xef)
		n = 2, cp = b & 0x0f, min = 0x800;
	else if (b >= 0xf0 && b <= 0xf4)
		n = 3, cp = b & 0x07, min = 0x10000;
	else
		goto bad;
	if (*i + n >= len)
		goto bad;
	for (k = 1; k <= n; k++) {
		if ((s[*i + k] & 0xc0) != 0x80)
			goto bad;
		cp = cp << 6 | (s[*i + k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		goto bad;
	*i += n + 1;
	return cp;
bad:
	(*i)++;
	return 0xdc00 + b;
}

size_t py_codepoints(const char *s)
{
	size_t i = 0, n = 0, len = strlen(s);

	while (i < len) {
		utf8_next((const unsigned char *)s, len, &i);
		n++;
	}
	return n;
}

bool py_utf8_valid(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		/* A decoded text never holds surrogates: these are bad bytes. */
		uint32_t cp = utf8_next((const unsigned char *)s, len, &i);

		if (cp >= 0xdc80 && cp <= 0xdcff)
			return false;
	}
	return true;
}

/* Python's float repr: the shortest digits that read back the same. */
static void put_float(FILE *f, double d)
{
	char buf[PYJSON_FLOAT_MAX];

	if (isnan(d)) {
		fputs("nan", f);
		return;
	}
	if (isinf(d)) {
		fputs(d < 0 ? "-inf" : "inf", f);
		return;
	}
	pyjson_float_repr(d, buf, sizeof(buf));
	fputs(buf, f);
}

static void put_scalar(FILE *f, json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_boolean:
		fputs(json_object_get_boolean(o) ? "True" : "False", f);
		break;
	case json_type_int:
		if (json_object_get_int64(o) == INT64_MAX)
			fprintf(f, "%ju", (uintmax_t)json_object_get_uint64(o));
		else
			fprintf(f, "%lld", (long long)json_object_get_int64(o));
		break;
	case json_type_double:
		put_float(f, json_object_get_double(o));
		break;
	default:
		fputs("None", f);
	}
}

/*
 * str.isprintable() for code points past ASCII: Python escapes the
 * controls, format characters, separators other than the space, private
 * use and surrogates. The ranges below are those; unassigned code points,
 * which Python also escapes, are printed as they are.
 */
static bool printable(uint32_t cp)
{
	static const uint32_t unprintable[][2] = {
		{ 0x80, 0xa0 }, { 0xad, 0xad }, { 0x600, 0x605 }, { 0x61c, 0x61c },
		{ 0x6dd, 0x6dd }, { 0x70f, 0x70f }, { 0x1680, 0x1680 }, { 0x180e, 0x180e },
		{ 0x2000, 0x200f }, { 0x2028, 0x202f }, { 0x205f, 0x2064 },
		{ 0x2066, 0x206f }, { 0x3000, 0x3000 }, { 0xd800, 0xf8ff },
		{ 0xfeff, 0xfeff }, { 0xfff9, 0xfffb }, { 0xfffe, 0xffff },
		{ 0x110bd, 0x110bd }, { 0x1d173, 0x1d17a }, { 0xe0001, 0xe007f },
		{ 0xf0000, 0x10ffff },
	};

	if (cp < 0x7f)
		return cp >= 0x20;
	if (cp == 0x7f)
		return false;
	for (size_t k = 0; k < ARRAY_SIZE(unprintable); k++)
		if (cp >= unprintable[k][0] && cp <= unprintable[k][1])
			return false;
	return true;
}

void py_repr_bytes(FILE *f, const char *s, size_t len)
{
	char quote = memchr(s, '\'', len) && !memchr(s, '"', len) ? '"' : '\'';
	size_t i = 0;

	fputc(quote, f);
	while (i < len) {
		size_t start = i;
		uint32_t cp = utf8_next((const unsigned char *)s, len, &i);

		if (cp == (uint32_t)quote || cp == '\\')
			fprintf(f, "\\%c", (char)cp);
		else if (cp == '\t')
			fputs("\\t", f);
		else if (cp == '\n')
			fputs("\\n", f);
		else if (cp == '\r')
			fputs("\\r", f);
		else if (printable(cp))
			fwrite(s + start, 1, i - start, f);
		else if (cp < 0x100)
			fprintf(f, "\\x%02x", cp);
		else if (cp < 0x10000)
			fprintf(f, "\\u%04x", cp);
		else
			fprintf(f, "\\U%08x", cp);
	}
	fputc(quote, f);
}

void py_repr(FILE *f, json_object *o)
{
	bool first = true;

	switch (json_object_get_type(o)) {
	case json_type_string:
		py_repr_bytes(f, json_object_get_string(o), json_object_get_string_len(o));
		return;
	case json_type_array:
		fputc('[', f);
		for (size_t k = 0; k < json_object_array_length(o); k++) {
			fputs(k ? ", " : "", f);
			py_repr(f, json_object_array_get_idx(o, k));
		}
		fputc(']', f);
		return;
	case json_type_object:
		fputc('{', f);
		json_object_object_foreach(o, key, val) {
			fputs(first ? "" : ", ", f);
			first = false;
			py_repr_bytes(f, key, strlen(key));
			fputs(": ", f);
			py_repr(f, val);
		}
		fputc('}', f);
		return;
	default:
		put_scalar(f, o);
	}
}

void py_str(FILE *f, json_object *o)
{
	if (json_object_get_type(o) == json_type_string)
		fwrite(json_object_get_string(o), 1, json_object_get_string_len(o), f);
	else
		py_repr(f, o);
}

char *py_to_str(json_object *o)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	if (!f)
		return NULL;
	py_str(f, o);
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

char *py_member_str(json_object *obj, const char *key)
{
	json_object *v;

	if (!json_object_is_type(obj, json_type_object) || !json_object_object_get_ex(obj, key, &v))
		return NULL;
	return py_to_str(v);
}
