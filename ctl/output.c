/* SPDX-License-Identifier: Apache-2.0 */
/* What the verbs share: usage errors, --help, the JSON document, config and database. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "log.h"

int ctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("vhotplugctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CTL_EXIT_USAGE;
}

int ctl_help(const char *usage, const char *text)
{
	printf("Usage: %s\n%s%s", usage, text ? "\n" : "", text ?: "");
	return CTL_EXIT_OK;
}

struct json_object *ctl_json_str(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

struct json_object *ctl_json_parse(const char *text)
{
	return text ? json_tokener_parse(text) : NULL;
}

void ctl_json_print(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
					       JSON_C_TO_STRING_SPACED |
					       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

int ctl_config_load(const char *file, struct config **cfg)
{
	_cleanup_free_ char *errs = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&errs, &len);
	int r = config_load(file, cfg, f ?: stderr);

	if (f)
		fclose(f);
	if (errs && len)
		log_err("%.*s", (int)(len - (errs[len - 1] == '\n')), errs);
	return r;
}

struct config *ctl_config_quiet(const char *file)
{
	struct config *cfg = NULL;

	if (config_load_flags(file, CONFIG_QUIET, &cfg, NULL) < 0)
		return NULL;
	return cfg;
}

int ctl_db_open(const struct paths *paths, struct db **db)
{
	int r = db_open(paths->db, 1000, 0, db);

	if (r < 0)
		log_err("%s: cannot open the database: %s", paths->db, strerror(-r));
	return r;
}
