/* SPDX-License-Identifier: Apache-2.0 */
/* What the config loader tells the user: errors, and warnings once each. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config-private.h"
#include "log.h"

#define HINT_MAX_DISTANCE 2

/* Like asprintf(), which is not in plain C11, but NULL on failure. */
char *config_strdup_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	s = malloc(n + 1);
	if (!s)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* VAL as JSON, quoted and escaped, so user text cannot break the line. */
const char *config_quoted(struct json_object *val)
{
	const char *s = json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);

	return s ? s : "(out of memory)";
}

/* Report "FILE: PATH.KEY: message"; KEY may be NULL. Returns -EINVAL. */
int config_report(struct parser *p, const char *path, const char *key,
		  const char *fmt, ...)
{
	va_list ap;

	p->n_errors++;
	if (!p->errs)
		return -EINVAL;
	fprintf(p->errs, "%s: %s", p->file, path);
	if (key)
		fprintf(p->errs, "%s%s", path_sep(path), key);
	fputs(*path || key ? ": " : "", p->errs);
	va_start(ap, fmt);
	vfprintf(p->errs, fmt, ap);
	va_end(ap);
	fputc('\n', p->errs);
	return -EINVAL;
}

static unsigned min3(unsigned a, unsigned b, unsigned c)
{
	unsigned m = a < b ? a : b;

	return m < c ? m : c;
}

/* Case-insensitive Levenshtein distance, so "vendorID" is 0 from "vendorId". */
static unsigned edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[KEY_MAX_LEN + 1];

	if (la > KEY_MAX_LEN || lb > KEY_MAX_LEN)
		return UINT_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned cost = tolower((unsigned char)a[i - 1]) !=
					tolower((unsigned char)b[j - 1]);

			row[j] = min3(up + 1, row[j - 1] + 1, diag + cost);
			diag = up;
		}
	}
	return row[lb];
}

int config_report_unknown_key(struct parser *p, const char *path, const char *name,
			      const struct key *keys)
{
	const struct key *best = NULL;
	unsigned best_distance = HINT_MAX_DISTANCE + 1;

	for (const struct key *k = keys; k->name; k++) {
		unsigned d = edit_distance(name, k->name);

		if (d < best_distance) {
			best = k;
			best_distance = d;
		}
	}
	if (best)
		return config_report(p, path, name, "unknown key (did you mean \"%s\"?)", best->name);
	return config_report(p, path, name, "unknown key");
}

void config_warn(struct parser *p, const char *path, const char *key, const char *fmt, ...)
{
	char msg[512];
	char **bigger;
	va_list ap;

	if (p->flags & CONFIG_QUIET)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bigger = realloc(p->warnings, (p->n_warnings + 1) * sizeof(*p->warnings));
	if (!bigger)
		return;	/* a lost warning is not worth failing the load */
	p->warnings = bigger;
	p->warnings[p->n_warnings] = config_strdup_printf("%s: %s%s%s: %s", p->file, path,
							  key && *path ? "." : "", key ? key : "",
							  msg);
	if (p->warnings[p->n_warnings])
		p->n_warnings++;
}

int config_note_later(struct parser *p, const char *path, const struct key *k)
{
	struct later_key *l = NULL;

	for (size_t i = 0; i < p->n_later; i++)
		if (streq(p->later[i].name, k->name))
			l = &p->later[i];
	if (l) {
		l->count++;
		return 0;
	}
	if (p->n_later == PARSER_MAX_LATER)
		return 0;	/* more distinct keys than upstream has: cannot happen */
	l = &p->later[p->n_later];
	l->first_path = config_strdup_printf("%s%s%s", path, path_sep(path), k->name);
	if (!l->first_path)
		return -ENOMEM;
	l->name = k->name;
	l->why = k->why;
	l->count = 1;
	p->n_later++;
	return 0;
}

/* Errors first: the warnings are for a config that loads, they would bury the errors. */
void config_warn_flush(struct parser *p)
{
	for (size_t i = 0; i < p->n_later; i++) {
		struct later_key *l = &p->later[i];
		const char *why = l->why ? l->why : "vhotplug does not implement it yet";

		if (l->count > 1)
			config_warn(p, l->first_path, NULL, "ignored (%s; %u places)", why, l->count);
		else
			config_warn(p, l->first_path, NULL, "ignored (%s)", why);
		free(l->first_path);
	}
	p->n_later = 0;
	for (size_t i = 0; i < p->n_warnings; i++) {
		if (!p->n_errors)
			log_warn("%s", p->warnings[i]);
		free(p->warnings[i]);
	}
	free(p->warnings);
	p->warnings = NULL;
	p->n_warnings = 0;
}
