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
#include "regex-cost.h"

#define REGEX_FLAGS (REG_EXTENDED | REG_ICASE)

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

/* USB and PCI ids: 4 hex digits, as in sysfs; upstream also takes "0x8086". */
static int parse_hex16(struct parser *p, struct json_object *val, const char *path,
		       const char *key, unsigned *out)
{
	const char *s;

	if (!is_type(val, json_type_string))
		return config_report(p, path, key, "expected a string of 4 hex digits");
	s = json_object_get_string(val);
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (strlen(s) != 4 || strspn(s, HEX_DIGITS) != 4)
		return config_report(p, path, key, "expected 4 hex digits, got %s", config_quoted(val));
	*out = strtoul(s, NULL, 16);
	return 0;
}

/*
 * Whether PATTERN has a back-reference (\1 to \9). glibc's matcher can take
 * exponential time on them: "(a*)*(a*)*\2\2b" kept the helper busy for
 * seconds on a 126-byte product name. A "\1" inside a bracket expression is
 * not one, but no real rule writes that, so it is refused too.
 */
static bool regex_has_backref(const char *s)
{
	for (; *s; s++) {
		if (*s != '\\' || !s[1])
			continue;
		s++;
		if (*s >= '1' && *s <= '9')
			return true;
	}
	return false;
}

static int regex_compile(struct parser *p, struct json_object *val, const char *path,
			 const char *key, const char *pattern, regex_t *re)
{
	uint64_t cost = regex_cost(pattern);
	char msg[256];
	int r;

	if (cost > REGEX_MAX_COST)
		return config_report(p, path, key, "bad regular expression %s: it repeats too much",
				     config_quoted(val));
	p->regex_total += cost;
	if (p->regex_total > CONFIG_MAX_REGEX_TOTAL) {
		config_report(p, path, key, "the config's regular expressions together exceed %d "
			      "nodes, the most it may have", CONFIG_MAX_REGEX_TOTAL);
		return -E2BIG;
	}
	r = regcomp(re, pattern, REGEX_FLAGS);
	if (r == 0)
		return 0;
	if (r == REG_ESPACE)
		return -ENOMEM;
	regerror(r, re, msg, sizeof(msg));
	return config_report(p, path, key, "bad regular expression %s: %s", config_quoted(val), msg);
}

/*
 * Compiled as written; the matcher requires the match to start at offset 0,
 * which is Python's re.match() that upstream uses (POSIX finds the leftmost
 * match, so a match at 0 is found when there is one).
 */
static int parse_regex(struct parser *p, struct json_object *val, const char *path,
		       const struct key *k, regex_t *out)
{
	const char *pattern;

	if (!is_type(val, json_type_string))
		return config_report(p, path, k->name, "expected a string");
	pattern = json_object_get_string(val);
	if (regex_has_backref(pattern))
		return config_report(p, path, k->name, "bad regular expression %s: back-references "
				     "(\\1 to \\9) are not supported, as matching them can take "
				     "seconds per device", config_quoted(val));
	return regex_compile(p, val, path, k->name, pattern, out);
}

static int parse_removable_bit(struct parser *p, struct json_object *val, const char *path,
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
		return parse_removable_bit(p, val, path, key, bits);
	if (!is_type(val, json_type_array))
		return config_report(p, path, key, "expected a string or an array of strings");
	n = json_object_array_length(val);
	if (n == 0)
		config_warn(p, path, key, "empty: the rule matches no device, as in the original "
			    "vhotplug");
	for (size_t i = 0; i < n; i++) {
		char indexed[KEY_MAX_LEN];

		snprintf(indexed, sizeof(indexed), "%s[%zu]", key, i);
		if (parse_removable_bit(p, json_object_array_get_idx(val, i), path, indexed, bits) < 0)
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

static bool type_ok(const struct key *k, struct json_object *val)
{
	switch (k->type) {
	case KT_INT:
		return is_type(val, json_type_int);
	case KT_REMOVABLE:
		return is_type(val, json_type_string) || is_type(val, json_type_array);
	default:
		return is_type(val, json_type_string);
	}
}

static const char *type_wanted(const struct key *k)
{
	switch (k->type) {
	case KT_INT:
		return "an integer";
	case KT_HEX16:
		return "a string of 4 hex digits";
	case KT_REMOVABLE:
		return "a string or an array of strings";
	default:
		return "a string";
	}
}

/*
 * A match field of the wrong JSON type is an error here; say what upstream
 * does with it, as the user may be moving a config that "worked".
 */
static int check_field_type(struct parser *p, struct json_object *val, const char *path,
			    const struct key *k)
{
	if (type_ok(k, val))
		return 0;
	return config_report(p, path, k->name, "expected %s, got %s (%s)", type_wanted(k),
			     json_type_to_name(json_object_get_type(val)),
			     k->type == KT_REGEX ? "the original vhotplug fails the whole "
			     "lookup of every device that reaches this rule" :
			     "the original vhotplug silently never matches it");
}

static int parse_value(struct parser *p, struct json_object *val, const char *path,
		       const struct key *k, void *dest)
{
	if (k->field) {
		int r = check_field_type(p, val, path, k);

		if (r < 0)
			return r;
	}
	switch (k->type) {
	case KT_IGNORED:
		return config_note_later(p, path, k);
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
			config_report_unknown_key(p, path, name, keys);
			continue;
		}
		if (!val)
			continue;	/* null: absent */
		if (k->empty_absent && is_type(val, json_type_string) &&
		    !*json_object_get_string(val))
			continue;
		r = parse_value(p, val, path, k, dest);
		if (r == -EINVAL)
			continue;
		if (r < 0)
			return r;
		if (k->later) {
			r = config_note_later(p, path, k);
			if (r < 0)
				return r;
		}
		/* Only now: config_free() regfree()s the regexes with their bit set. */
		if (fields)
			*fields |= k->field;
	}
	return 0;
}

