/* SPDX-License-Identifier: Apache-2.0 */
/* Values of the config: one parser per key type, and the error reports. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config-private.h"
#include "log.h"

#define HINT_MAX_DISTANCE 2
#define REGEX_FLAGS (REG_EXTENDED | REG_ICASE | REG_NOSUB)

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

static int report_unknown_key(struct parser *p, const char *path, const char *name,
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

static const struct key *key_find(const struct key *keys, const char *name)
{
	for (const struct key *k = keys; k->name; k++)
		if (streq(k->name, name))
			return k;
	return NULL;
}

static int parse_string(struct parser *p, struct json_object *val, const char *path,
			const char *key, char **out)
{
	if (!is_type(val, json_type_string))
		return config_report(p, path, key, "expected a string");
	*out = strdup(json_object_get_string(val));
	return *out ? 0 : -ENOMEM;
}

static int parse_bool(struct parser *p, struct json_object *val, const char *path,
		      const char *key, bool *out)
{
	if (!is_type(val, json_type_boolean))
		return config_report(p, path, key, "expected true or false");
	*out = json_object_get_boolean(val);
	return 0;
}

static int parse_int(struct parser *p, struct json_object *val, const char *path,
		     const struct key *k, int *out)
{
	int64_t v;

	if (!is_type(val, json_type_int))
		return config_report(p, path, k->name, "expected an integer");
	v = json_object_get_int64(val);
	if (v >= k->min && v <= k->max) {
		*out = v;
		return 0;
	}
	if (k->max == INT_MAX)
		return config_report(p, path, k->name, "expected an integer >= %d, got %" PRId64,
			      k->min, v);
	return config_report(p, path, k->name, "expected an integer from %d to %d, got %" PRId64,
		      k->min, k->max, v);
}

static int parse_enum(struct parser *p, struct json_object *val, const char *path,
		      const struct key *k, unsigned *out)
{
	char expected[128] = "";
	size_t len = 0;
	const char *s;

	if (!is_type(val, json_type_string))
		return config_report(p, path, k->name, "expected a string");
	s = json_object_get_string(val);
	for (unsigned i = 0; k->choices[i]; i++) {
		if (streq(s, k->choices[i])) {
			*out = i;
			return 0;
		}
		len += snprintf(expected + len, sizeof(expected) - len, "%s\"%s\"",
				i == 0 ? "" : k->choices[i + 1] ? ", " : " or ",
				k->choices[i]);
	}
	return config_report(p, path, k->name, "unknown value %s (expected %s)", config_quoted(val),
		      expected);
}

/* USB and PCI ids: exactly 4 hex digits, as in sysfs. */
static int parse_hex16(struct parser *p, struct json_object *val, const char *path,
		       const char *key, unsigned *out)
{
	const char *s;

	if (!is_type(val, json_type_string))
		return config_report(p, path, key, "expected a string of 4 hex digits");
	s = json_object_get_string(val);
	if (strlen(s) != 4 || strspn(s, HEX_DIGITS) != 4)
		return config_report(p, path, key, "expected 4 hex digits, got %s", config_quoted(val));
	*out = strtoul(s, NULL, 16);
	return 0;
}

/* Skip a bracket expression; S is just past "[". Returns its "]" or the end. */
static const char *regex_skip_bracket(const char *s)
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

/*
 * Whether PATTERN has a ")" closing a group it never opened: glibc takes
 * it literally, but inside our "^(...)" it would close the anchoring group.
 */
static bool regex_has_stray_paren(const char *s)
{
	int depth = 0;

	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
		} else if (*s == '[') {
			s = regex_skip_bracket(s + 1);
			if (!*s)
				break;
		} else if (*s == '(') {
			depth++;
		} else if (*s == ')' && --depth < 0) {
			return true;
		}
	}
	return false;
}

static int regex_compile(struct parser *p, struct json_object *val, const char *path,
			 const char *key, const char *pattern, regex_t *re)
{
	char msg[256];
	int r;

	r = regcomp(re, pattern, REGEX_FLAGS);
	if (r == 0)
		return 0;
	if (r == REG_ESPACE)
		return -ENOMEM;
	regerror(r, re, msg, sizeof(msg));
	return config_report(p, path, key, "bad regular expression %s: %s", config_quoted(val), msg);
}

/* Upstream uses Python's re.match(): anchored at the start only. */
static int parse_regex(struct parser *p, struct json_object *val, const char *path,
		       const struct key *k, regex_t *out)
{
	_cleanup_free_ char *anchored = NULL;
	const char *pattern;
	regex_t re;
	int r;

	if (!is_type(val, json_type_string))
		return config_report(p, path, k->name, "expected a string");
	pattern = json_object_get_string(val);
	/* Alone first, so that regerror() speaks about the user's pattern. */
	r = regex_compile(p, val, path, k->name, pattern, &re);
	if (r < 0)
		return r;
	regfree(&re);
	if (regex_has_stray_paren(pattern))
		return config_report(p, path, k->name, "bad regular expression %s: unmatched ) "
			      "(write \\\\) for a literal one)", config_quoted(val));
	anchored = config_strdup_printf("^(%s)", pattern);
	if (!anchored)
		return -ENOMEM;
	return regex_compile(p, val, path, k->name, anchored, out);
}

static int removable_bit(struct parser *p, struct json_object *val, const char *path,
			 const char *key, unsigned *bits)
{
	static const char *const names[] = { "removable", "fixed", "unknown" };
	const char *s;

	if (!is_type(val, json_type_string))
		return config_report(p, path, key, "expected a string");
	s = json_object_get_string(val);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (streq(s, names[i])) {
			*bits |= 1u << i;
			return 0;
		}
	}
	return config_report(p, path, key, "unknown value %s (expected \"removable\", "
		      "\"fixed\" or \"unknown\")", config_quoted(val));
}

/* A string or a non-empty array of strings. */
static int parse_removable(struct parser *p, struct json_object *val, const char *path,
			   const char *key, unsigned *bits)
{
	size_t n;
	int r = 0;

	if (is_type(val, json_type_string))
		return removable_bit(p, val, path, key, bits);
	if (!is_type(val, json_type_array))
		return config_report(p, path, key, "expected a string or an array of strings");
	n = json_object_array_length(val);
	if (n == 0)
		return config_report(p, path, key, "expected at least one value");
	for (size_t i = 0; i < n; i++) {
		char indexed[KEY_MAX_LEN];

		snprintf(indexed, sizeof(indexed), "%s[%zu]", key, i);
		if (removable_bit(p, json_object_array_get_idx(val, i), path, indexed, bits) < 0)
			r = -EINVAL;
	}
	return r;
}

/* "dddd:bb:dd.f", hex, as in /sys/bus/pci/devices. */
static bool pci_address_valid(const char *s)
{
	static const char shape[] = "xxxx:xx:xx.x";

	if (strlen(s) != strlen(shape))
		return false;
	for (size_t i = 0; shape[i]; i++) {
		bool ok = shape[i] == 'x' ? strchr(HEX_DIGITS, s[i]) != NULL : s[i] == shape[i];

		if (!ok)
			return false;
	}
	return true;
}

static int parse_pci_address(struct parser *p, struct json_object *val, const char *path,
			     const char *key, char **out)
{
	if (!is_type(val, json_type_string))
		return config_report(p, path, key, "expected a string");
	if (!pci_address_valid(json_object_get_string(val)))
		return config_report(p, path, key, "expected a PCI address like \"0000:00:14.3\", "
			      "got %s", config_quoted(val));
	*out = strdup(json_object_get_string(val));
	if (!*out)
		return -ENOMEM;
	for (char *c = *out; *c; c++)
		*c = tolower((unsigned char)*c);
	return 0;
}

static int parse_flag(struct parser *p, struct json_object *val, const char *path,
		      const struct key *k, bool *disabled)
{
	bool b = false;
	int r;

	r = parse_bool(p, val, path, k->name, &b);
	if (r < 0)
		return r;
	/* Either key can only disable: "enable": true keeps the default. */
	*disabled |= k->type == KT_DISABLE ? b : !b;
	return 0;
}

static void *member(void *dest, const struct key *k)
{
	return (char *)dest + k->offset;
}

static int parse_value(struct parser *p, struct json_object *val, const char *path,
		       const struct key *k, void *dest)
{
	switch (k->type) {
	case KT_IGNORED:
		log_warn("%s: %s%s%s: ignored (vhotplug does not implement it)",
			 p->file, path, path_sep(path), k->name);
		return 0;
	case KT_CUSTOM:
		return 0;
	case KT_STRING:
		return parse_string(p, val, path, k->name, member(dest, k));
	case KT_BOOL:
		return parse_bool(p, val, path, k->name, member(dest, k));
	case KT_DISABLE:
	case KT_ENABLE:
		return parse_flag(p, val, path, k, member(dest, k));
	case KT_INT:
		return parse_int(p, val, path, k, member(dest, k));
	case KT_ENUM:
		return parse_enum(p, val, path, k, member(dest, k));
	case KT_HEX16:
		return parse_hex16(p, val, path, k->name, member(dest, k));
	case KT_REGEX:
		return parse_regex(p, val, path, k, member(dest, k));
	case KT_REMOVABLE:
		return parse_removable(p, val, path, k->name, member(dest, k));
	case KT_PCI_ADDRESS:
		return parse_pci_address(p, val, path, k->name, member(dest, k));
	}
	return 0;
}

/*
 * Check every member of OBJ against KEYS and store the plain ones into
 * DEST; KT_CUSTOM members are left to the caller. FIELDS (may be NULL)
 * collects the rule_field bits of members that parsed.
 */
int config_parse_members(struct parser *p, struct json_object *obj, const char *path,
			 const struct key *keys, void *dest, unsigned *fields)
{
	json_object_object_foreach(obj, name, val) {
		const struct key *k = key_find(keys, name);
		int r;

		if (!k) {
			report_unknown_key(p, path, name, keys);
			continue;
		}
		r = parse_value(p, val, path, k, dest);
		if (r == -EINVAL)
			continue;
		if (r < 0)
			return r;
		/* Only now: config_free() regfree()s the regexes with their bit set. */
		if (fields)
			*fields |= k->field;
	}
	return 0;
}

