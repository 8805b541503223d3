/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <string.h>

/*
 * One string table per enum: NAME_table[] maps each value to the text that
 * the database, the log and the config use, and the two functions below are
 * the only way between the two. Callers name values by enum, so a typo does
 * not compile. Each enum ends with X_MAX and X_INVALID = -EINVAL.
 */
#define DECLARE_STRING_TABLE_LOOKUP(name, type)			\
	const char *name##_to_string(type v);			\
	type name##_from_string(const char *s)

/*
 * Define NAME_to_string() (NULL for a value outside the table) and
 * NAME_from_string() (-EINVAL for NULL or an unknown text) over
 * NAME_table[MAX], which may be longer (a NULL end for a list reader).
 */
#define DEFINE_STRING_TABLE_LOOKUP(name, type, max)			\
	const char *name##_to_string(type v)				\
	{								\
		return (int)v >= 0 && (int)v < (int)(max) ? name##_table[v] : NULL; \
	}								\
	type name##_from_string(const char *s)				\
	{								\
		for (int i = 0; s && i < (int)(max); i++)		\
			if (name##_table[i] && strcmp(name##_table[i], s) == 0) \
				return (type)i;				\
		return (type)-EINVAL;					\
	}
