/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit test of pyjson_dumps(): the expected texts are what Python's
 * json.dumps() printed for the same values (python3 -c 'import json; ...').
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "macro.h"
#include "pyjson.h"

struct sample {
	const char *in;		/* parsed by json-c */
	const char *python;	/* json.dumps() of the same value */
};

static const struct sample samples[] = {
	{ "{\"result\":\"failed\",\"error\":\"No action specified\"}",
	  "{\"result\": \"failed\", \"error\": \"No action specified\"}" },
	{ "{ }", "{}" },
	{ "[ ]", "[]" },
	{ "{\"a\":[1,2,{\"b\":null}],\"t\":true,\"f\":false,\"e\":[],\"o\":{}}",
	  "{\"a\": [1, 2, {\"b\": null}], \"t\": true, \"f\": false, \"e\": [], \"o\": {}}" },
	{ "{\"s\":\"q\\\"b\\\\s\\/\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f\"}",
	  "{\"s\": \"q\\\"b\\\\s/\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f\"}" },
	{ "{\"u\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}",
	  "{\"u\": \"caf\\u00e9 \\u20ac \\ud83d\\ude00\"}" },
	{ "{\"n\":-42,\"big\":9223372036854775807}", "{\"n\": -42, \"big\": 9223372036854775807}" },
	{ "[1.5,100.0,0.001,0.0001,0.00001,1e16,1e15,123.456,-0.0,1.5e-7,0.1,2.5e300]",
	  "[1.5, 100.0, 0.001, 0.0001, 1e-05, 1e+16, 1000000000000000.0, 123.456, -0.0, "
	  "1.5e-07, 0.1, 2.5e+300]" },
};

static void check_sample(const struct sample *s)
{
	json_object *o = json_tokener_parse(s->in);
	_cleanup_free_ char *out = NULL;
	size_t len = 0;

	CHECK(o);
	out = pyjson_dumps(o, &len);
	CHECK(out && len == strlen(s->python) && streq(out, s->python));
	if (out && !streq(out, s->python))
		fprintf(stderr, "got:  %s\nwant: %s\n", out, s->python);
	json_object_put(o);
}

/* Not UTF-8 (a device's descriptor, say): one U+FFFD per bad byte, the text stays valid. */
static void check_not_utf8(void)
{
	json_object *o = json_object_new_string_len("a\xff\xc3(\xe2\x82", 6);
	_cleanup_free_ char *out = NULL;
	size_t len;

	out = pyjson_dumps(o, &len);
	CHECK(out && streq(out, "\"a\\ufffd\\ufffd(\\ufffd\\ufffd\""));
	json_object_put(o);
}

int main(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(samples); i++)
		check_sample(&samples[i]);
	check_not_utf8();
	return check_result();
}
