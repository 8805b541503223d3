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
