/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * JSON text byte for byte as Python's json.dumps() writes it with its
 * defaults, which the original vhotplug's clients meet: ", " and ": "
 * between items, no other spaces, every character outside printable ASCII
 * as \uXXXX (surrogate pairs past U+FFFF), floats as Python's repr().
 * json-c's own printers space braces ("{ }") and escape "/".
 */
#include <stddef.h>
#include <json-c/json.h>

/* OBJ (NULL: null) as a new NUL-terminated string, its length in *LEN; NULL when out of memory. */
char *pyjson_dumps(json_object *obj, size_t *len);

/* Python's repr() of a finite float D: the shortest digits that read back, fixed from 1e-4 to 1e16. */
#define PYJSON_FLOAT_MAX 40	/* at most 17 digits, "-0.000", "e+308" */
void pyjson_float_repr(double d, char *buf, size_t size);
