/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading and strict validation of the vhotplug JSON config.
 *
 * Every problem is reported, not just the first, so that one
 * --check-config run shows the user all of them. A parser returns -EINVAL
 * for a problem it has reported, and its caller goes on; any other -errno
 * (out of memory) is fatal. config_load() fails with -EINVAL at the end if
 * anything was reported.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "config.h"
#include "log.h"
#include "macro.h"
#include "regex-cost.h"

/* Far above any real config; also keeps json_tokener's int length safe. */
#define CONFIG_MAX_SIZE (16 << 20)
#define HINT_MAX_DISTANCE 2
#define KEY_MAX_LEN 64
#define REGEX_FLAGS (REG_EXTENDED | REG_ICASE | REG_NOSUB)
#define HEX_DIGITS "0123456789abcdefABCDEF"
#define LEGACY_EVDEV_NOTE "(legacy evdevPassthrough form)"

struct parser {
	const char *file;
	FILE *errs;
	unsigned n_errors;
	struct config *cfg;
};

enum key_type {
	KT_IGNORED,		/* upstream key this project does not implement */
	KT_CUSTOM,		/* parsed by the caller */
	KT_STRING,
	KT_BOOL,
	KT_DISABLE,		/* "disable": true */
	KT_ENABLE,		/* "enable": false means the same */
	KT_INT,
	KT_ENUM,
	KT_HEX16,
	KT_REGEX,
	KT_REMOVABLE,
	KT_PCI_ADDRESS,
};

/* One key an object may have, and where its value goes. */
struct key {
	const char *name;
	enum key_type type;
	size_t offset;			/* of the member in the struct filled in */
	unsigned field;			/* enum rule_field bit; 0 if none */
	int min, max;			/* KT_INT */
	const char *const *choices;	/* KT_ENUM: NULL-terminated, stored as index */
};

#define K(n, t, s, m) { .name = (n), .type = (t), .offset = offsetof(s, m) }
#define K_INT(n, s, m, lo, hi) \
	{ .name = (n), .type = KT_INT, .offset = offsetof(s, m), .min = (lo), .max = (hi) }
#define K_ENUM(n, s, m, c) \
	{ .name = (n), .type = KT_ENUM, .offset = offsetof(s, m), .choices = (c) }
#define K_IGNORED(n) { .name = (n), .type = KT_IGNORED }
#define K_CUSTOM(n) { .name = (n), .type = KT_CUSTOM }
#define K_END { .name = NULL }
#define K_RULE(n, t, m, f) \
	{ .name = (n), .type = (t), .offset = offsetof(struct rule, m), .field = (f) }
#define K_RULE_INT(n, m, f, hi) \
	{ .name = (n), .type = KT_INT, .offset = offsetof(struct rule, m), .field = (f), \
	  .min = 0, .max = (hi) }
#define K_RULE_COMMON \
	K("description", KT_STRING, struct rule, description), \
	K("disable", KT_DISABLE, struct rule, disabled), \
	K("enable", KT_ENABLE, struct rule, disabled)

static const struct key usb_rule_keys[] = {
	K_RULE_COMMON,
	K_RULE("vendorId", KT_HEX16, vendor_id, RF_VENDOR_ID),
	K_RULE("productId", KT_HEX16, product_id, RF_PRODUCT_ID),
	K_RULE("vendorName", KT_REGEX, vendor_name, RF_VENDOR_NAME),
	K_RULE("productName", KT_REGEX, product_name, RF_PRODUCT_NAME),
	K_RULE_INT("bus", bus, RF_BUS, INT_MAX),
	K_RULE_INT("port", port, RF_PORT, INT_MAX),
	K_RULE_INT("interfaceClass", if_class, RF_IF_CLASS, 255),
	K_RULE_INT("interfaceSubclass", if_subclass, RF_IF_SUBCLASS, 255),
	K_RULE_INT("interfaceProtocol", if_protocol, RF_IF_PROTOCOL, 255),
	K_RULE_INT("deviceClass", dev_class, RF_DEV_CLASS, 255),
	K_RULE_INT("deviceSubclass", dev_subclass, RF_DEV_SUBCLASS, 255),
	K_RULE_INT("deviceProtocol", dev_protocol, RF_DEV_PROTOCOL, 255),
	K_RULE("removable", KT_REMOVABLE, removable, RF_REMOVABLE),
	K_IGNORED("driverPath"),
	K_END
};

static const struct key pci_rule_keys[] = {
	K_RULE_COMMON,
	K_RULE("address", KT_PCI_ADDRESS, address, RF_ADDRESS),
	K_RULE("vendorId", KT_HEX16, vendor_id, RF_VENDOR_ID),
	K_RULE("deviceId", KT_HEX16, product_id, RF_DEVICE_ID),
	K_RULE_INT("deviceClass", dev_class, RF_DEV_CLASS, 255),
	K_RULE_INT("deviceSubclass", dev_subclass, RF_DEV_SUBCLASS, 255),
	K_RULE_INT("deviceProgIf", dev_protocol, RF_DEV_PROTOCOL, 255),
	K_END
};

static const struct key evdev_rule_keys[] = {
	K_RULE_COMMON,
	K_RULE("name", KT_REGEX, name, RF_NAME),
	K_RULE("pathTag", KT_REGEX, path_tag, RF_PATH_TAG),
	K_RULE("property", KT_STRING, property, RF_PROPERTY),
	K_RULE("value", KT_STRING, value, 0),	/* refines "property" */
	K_END
};

static const struct key *const rule_keys[DEV_KIND_MAX] = {
	[DEV_USB] = usb_rule_keys,
	[DEV_PCI] = pci_rule_keys,
	[DEV_EVDEV] = evdev_rule_keys,
};

static const struct key ruleset_keys[] = {
	K("description", KT_STRING, struct ruleset, description),
	K("targetVm", KT_STRING, struct ruleset, target_vm),
	K_CUSTOM("allowedVms"),
	K_CUSTOM("allow"),
	K_CUSTOM("deny"),
	K("disable", KT_DISABLE, struct ruleset, disabled),
	K("enable", KT_ENABLE, struct ruleset, disabled),
	K("tag", KT_STRING, struct ruleset, tag),
	K("skipOnSuspend", KT_BOOL, struct ruleset, skip_on_suspend),
	K_IGNORED("pciIommuAddAll"),
	K_IGNORED("pciIommuSkipIfShared"),
	K_END
};

/* The older "evdevPassthrough": { ... } form. */
static const struct key legacy_evdev_keys[] = {
	K("description", KT_STRING, struct ruleset, description),
	K("targetVm", KT_STRING, struct ruleset, target_vm),
	K("disable", KT_DISABLE, struct ruleset, disabled),
	K("enable", KT_ENABLE, struct ruleset, disabled),
	K_END
};

/* What the older form passed through: upstream's is_input_device(). */
static const char *const legacy_evdev_properties[] = {
	"ID_INPUT_MOUSE",
	"ID_INPUT_KEYBOARD",
	"ID_INPUT_TOUCHPAD",
	"ID_INPUT_TOUCHSCREEN",
	"ID_INPUT_TABLET",
};

static const char *const vm_type_names[] = { "qemu", "crosvm", NULL };
static const char *const usb_attach_by_names[] = { "busaddr", "vidpid", "port", NULL };

static const struct key vm_keys[] = {
	K("name", KT_STRING, struct vm, name),
	K_ENUM("type", struct vm, type, vm_type_names),
	K("socket", KT_STRING, struct vm, socket),
	K_ENUM("usbAttachBy", struct vm, usb_attach_by, usb_attach_by_names),
	K_IGNORED("autoOvmf"),
	K_END
};

static const char *const vm_required_keys[] = { "name", "type", "socket", NULL };

static const struct key general_keys[] = {
	K("crosvm", KT_STRING, struct config, crosvm),
	K("statePath", KT_STRING, struct config, state_path),
	K_INT("qmpTimeoutMs", struct config, qmp_timeout_ms, 1, 600000),
	K_INT("historyDays", struct config, history_days, 1, 36500),
	K_IGNORED("api"),
	K_IGNORED("ovmfCode"),
	K_IGNORED("ovmfVars"),
	K_IGNORED("persistency"),
	K_IGNORED("modprobe"),
	K_IGNORED("modinfo"),
	K_END
};

static const char *const section_names[DEV_KIND_MAX] = {
	[DEV_USB] = "usbPassthrough",
	[DEV_PCI] = "pciPassthrough",
	[DEV_EVDEV] = "evdevPassthrough",
};

static const struct key root_keys[] = {
	K_CUSTOM("usbPassthrough"),
	K_CUSTOM("pciPassthrough"),
	K_CUSTOM("evdevPassthrough"),
	K_CUSTOM("vms"),
	K_CUSTOM("general"),
	K_IGNORED("acpiPassthrough"),
	K_IGNORED("usbAuthorization"),
	K_END
};

static void json_putp(struct json_object **obj)
{
	json_object_put(*obj);
}

static void json_tokener_freep(struct json_tokener **tok)
{
	if (*tok)
		json_tokener_free(*tok);
}

static void config_freep(struct config **cfg)
{
	config_free(*cfg);
}

/* Like asprintf(), which is not in plain C11, but NULL on failure. */
_printf_(1, 2)
static char *strdup_printf(const char *fmt, ...)
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

static const char *path_sep(const char *path)
{
	return *path ? "." : "";
}

/* VAL as JSON, quoted and escaped, so user text cannot break the line. */
static const char *quoted(struct json_object *val)
{
	const char *s = json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);

	return s ? s : "(out of memory)";
}

/* Report "FILE: PATH.KEY: message"; KEY may be NULL. Returns -EINVAL. */
_printf_(4, 5)
static int report(struct parser *p, const char *path, const char *key,
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
		return report(p, path, name, "unknown key (did you mean \"%s\"?)", best->name);
	return report(p, path, name, "unknown key");
}

static const struct key *key_find(const struct key *keys, const char *name)
{
	for (const struct key *k = keys; k->name; k++)
		if (streq(k->name, name))
			return k;
	return NULL;
}

static bool has_key(struct json_object *obj, const char *name)
{
	return json_object_object_get_ex(obj, name, NULL);
}

static bool is_type(struct json_object *val, enum json_type type)
{
	return json_object_is_type(val, type);
}

static int parse_string(struct parser *p, struct json_object *val, const char *path,
			const char *key, char **out)
{
	if (!is_type(val, json_type_string))
		return report(p, path, key, "expected a string");
	*out = strdup(json_object_get_string(val));
	return *out ? 0 : -ENOMEM;
}

static int parse_bool(struct parser *p, struct json_object *val, const char *path,
		      const char *key, bool *out)
{
	if (!is_type(val, json_type_boolean))
		return report(p, path, key, "expected true or false");
	*out = json_object_get_boolean(val);
	return 0;
}

static int parse_int(struct parser *p, struct json_object *val, const char *path,
		     const struct key *k, int *out)
{
	int64_t v;

	if (!is_type(val, json_type_int))
		return report(p, path, k->name, "expected an integer");
	v = json_object_get_int64(val);
	if (v >= k->min && v <= k->max) {
		*out = v;
		return 0;
	}
	if (k->max == INT_MAX)
		return report(p, path, k->name, "expected an integer >= %d, got %" PRId64,
			      k->min, v);
	return report(p, path, k->name, "expected an integer from %d to %d, got %" PRId64,
		      k->min, k->max, v);
}

static int parse_enum(struct parser *p, struct json_object *val, const char *path,
		      const struct key *k, unsigned *out)
{
	char expected[128] = "";
	size_t len = 0;
	const char *s;

	if (!is_type(val, json_type_string))
		return report(p, path, k->name, "expected a string");
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
	return report(p, path, k->name, "unknown value %s (expected %s)", quoted(val),
		      expected);
}

/* USB and PCI ids: exactly 4 hex digits, as in sysfs. */
static int parse_hex16(struct parser *p, struct json_object *val, const char *path,
		       const char *key, unsigned *out)
{
	const char *s;

	if (!is_type(val, json_type_string))
		return report(p, path, key, "expected a string of 4 hex digits");
	s = json_object_get_string(val);
	if (strlen(s) != 4 || strspn(s, HEX_DIGITS) != 4)
		return report(p, path, key, "expected 4 hex digits, got %s", quoted(val));
	*out = strtoul(s, NULL, 16);
	return 0;
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

	if (regex_cost(pattern) > REGEX_MAX_COST)
		return report(p, path, key, "bad regular expression %s: it repeats too much", quoted(val));
	r = regcomp(re, pattern, REGEX_FLAGS);
	if (r == 0)
		return 0;
	if (r == REG_ESPACE)
		return -ENOMEM;
	regerror(r, re, msg, sizeof(msg));
	return report(p, path, key, "bad regular expression %s: %s", quoted(val), msg);
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
		return report(p, path, k->name, "expected a string");
	pattern = json_object_get_string(val);
	/* Alone first, so that regerror() speaks about the user's pattern. */
	r = regex_compile(p, val, path, k->name, pattern, &re);
	if (r < 0)
		return r;
	regfree(&re);
	if (regex_has_stray_paren(pattern))
		return report(p, path, k->name, "bad regular expression %s: unmatched ) "
			      "(write \\\\) for a literal one)", quoted(val));
	anchored = strdup_printf("^(%s)", pattern);
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
		return report(p, path, key, "expected a string");
	s = json_object_get_string(val);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (streq(s, names[i])) {
			*bits |= 1u << i;
			return 0;
		}
	}
	return report(p, path, key, "unknown value %s (expected \"removable\", "
		      "\"fixed\" or \"unknown\")", quoted(val));
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
		return report(p, path, key, "expected a string or an array of strings");
	n = json_object_array_length(val);
	if (n == 0)
		return report(p, path, key, "expected at least one value");
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
		return report(p, path, key, "expected a string");
	if (!pci_address_valid(json_object_get_string(val)))
		return report(p, path, key, "expected a PCI address like \"0000:00:14.3\", "
			      "got %s", quoted(val));
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
static int parse_members(struct parser *p, struct json_object *obj, const char *path,
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

/* Checked on the JSON, so a field with a bad value does not count as absent. */
static bool has_match_key(struct json_object *obj, const struct key *keys)
{
	for (const struct key *k = keys; k->name; k++)
		if (k->field && has_key(obj, k->name))
			return true;
	return false;
}

static int parse_rule(struct parser *p, struct json_object *obj, enum dev_kind kind,
		      struct rule *rule)
{
	int r;

	if (!is_type(obj, json_type_object))
		return report(p, rule->path, NULL, "expected an object");
	r = parse_members(p, obj, rule->path, rule_keys[kind], rule, &rule->fields);
	if (r < 0)
		return r;
	if (!has_match_key(obj, rule_keys[kind]))
		report(p, rule->path, NULL, "rule has no field to match");
	if (kind == DEV_EVDEV && has_key(obj, "value") && !has_key(obj, "property"))
		report(p, rule->path, "value", "needs \"property\"");
	return 0;
}

static int parse_rules(struct parser *p, struct json_object *obj, struct ruleset *set,
		       const char *key, struct rule **rules, size_t *n_rules)
{
	struct json_object *arr;
	size_t n;

	if (!json_object_object_get_ex(obj, key, &arr))
		return 0;
	if (!is_type(arr, json_type_array))
		return report(p, set->path, key, "expected an array");
	n = json_object_array_length(arr);
	if (n == 0)
		return 0;
	*rules = calloc(n, sizeof(**rules));
	if (!*rules)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct rule *rule = &(*rules)[i];
		int r;

		rule->path = strdup_printf("%s.%s[%zu]", set->path, key, i);
		if (!rule->path)
			return -ENOMEM;
		++*n_rules;
		r = parse_rule(p, json_object_array_get_idx(arr, i), set->kind, rule);
		if (r < 0 && r != -EINVAL)
			return r;
	}
	return 0;
}

/* VAL names a VM; only strings get here. */
static int check_vm_ref(struct parser *p, struct json_object *val, const char *path,
			const char *key)
{
	if (config_find_vm(p->cfg, json_object_get_string(val)))
		return 0;
	return report(p, path, key, "no VM named %s in vms", quoted(val));
}

static int parse_allowed_vm(struct parser *p, struct json_object *val,
			    struct ruleset *set, size_t i)
{
	char key[KEY_MAX_LEN];
	char **name = &set->allowed_vms[set->n_allowed_vms];

	snprintf(key, sizeof(key), "allowedVms[%zu]", i);
	if (!is_type(val, json_type_string))
		return report(p, set->path, key, "expected a string");
	*name = strdup(json_object_get_string(val));
	if (!*name)
		return -ENOMEM;
	set->n_allowed_vms++;
	return check_vm_ref(p, val, set->path, key);
}

static int parse_allowed_vms(struct parser *p, struct json_object *obj,
			     struct ruleset *set)
{
	struct json_object *arr;
	size_t n;

	if (!json_object_object_get_ex(obj, "allowedVms", &arr))
		return 0;
	if (!is_type(arr, json_type_array))
		return report(p, set->path, "allowedVms", "expected an array of strings");
	n = json_object_array_length(arr);
	if (n == 0)
		return report(p, set->path, "allowedVms", "expected at least one VM name");
	set->allowed_vms = calloc(n, sizeof(*set->allowed_vms));
	if (!set->allowed_vms)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int r = parse_allowed_vm(p, json_object_array_get_idx(arr, i), set, i);

		if (r < 0 && r != -EINVAL)
			return r;
	}
	return 0;
}

static void check_target(struct parser *p, struct json_object *obj,
			 const struct ruleset *set)
{
	struct json_object *target = NULL;
	bool has_target = json_object_object_get_ex(obj, "targetVm", &target);
	bool has_allowed = has_key(obj, "allowedVms");

	if (has_target && has_allowed)
		report(p, set->path, NULL, "\"targetVm\" and \"allowedVms\" are mutually exclusive");
	else if (!has_target && !has_allowed)
		report(p, set->path, NULL, "needs \"targetVm\" or \"allowedVms\"");
	if (set->target_vm)
		check_vm_ref(p, target, set->path, "targetVm");
}

static int parse_ruleset(struct parser *p, struct json_object *obj, struct ruleset *set)
{
	int r;

	if (!is_type(obj, json_type_object))
		return report(p, set->path, NULL, "expected an object");
	r = parse_members(p, obj, set->path, ruleset_keys, set, NULL);
	if (r < 0)
		return r;
	r = parse_allowed_vms(p, obj, set);
	if (r < 0 && r != -EINVAL)
		return r;
	check_target(p, obj, set);
	r = parse_rules(p, obj, set, "allow", &set->allow, &set->n_allow);
	if (r < 0 && r != -EINVAL)
		return r;
	r = parse_rules(p, obj, set, "deny", &set->deny, &set->n_deny);
	return r == -EINVAL ? 0 : r;
}

/* Claim the next slot of cfg->sets; config_free() owns it from here. */
static struct ruleset *ruleset_add(struct config *cfg, enum dev_kind kind, char *path)
{
	struct ruleset *set;

	if (!path)
		return NULL;
	set = &cfg->sets[cfg->n_sets++];
	set->kind = kind;
	set->path = path;
	return set;
}

static int legacy_evdev_rules(struct ruleset *set)
{
	size_t n = ARRAY_SIZE(legacy_evdev_properties);

	set->allow = calloc(n, sizeof(*set->allow));
	if (!set->allow)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct rule *rule = &set->allow[set->n_allow++];

		rule->fields = RF_PROPERTY;
		rule->path = strdup_printf("%s.allow[%zu]", set->path, i);
		rule->description = strdup_printf("%s=1 " LEGACY_EVDEV_NOTE,
						  legacy_evdev_properties[i]);
		rule->property = strdup(legacy_evdev_properties[i]);
		rule->value = strdup("1");
		if (!rule->path || !rule->description || !rule->property || !rule->value)
			return -ENOMEM;
	}
	return 0;
}

static int parse_legacy_evdev(struct parser *p, struct json_object *obj)
{
	struct json_object *target;
	struct ruleset *set;
	int r;

	set = ruleset_add(p->cfg, DEV_EVDEV, strdup(section_names[DEV_EVDEV]));
	if (!set)
		return -ENOMEM;
	r = parse_members(p, obj, set->path, legacy_evdev_keys, set, NULL);
	if (r < 0)
		return r;
	if (!json_object_object_get_ex(obj, "targetVm", &target))
		report(p, set->path, "targetVm", "missing (required)");
	else if (set->target_vm)
		check_vm_ref(p, target, set->path, "targetVm");
	if (!set->description) {
		set->description = strdup("input devices " LEGACY_EVDEV_NOTE);
		if (!set->description)
			return -ENOMEM;
	}
	return legacy_evdev_rules(set);
}

static int parse_section(struct parser *p, struct json_object *root, enum dev_kind kind)
{
	const char *name = section_names[kind];
	struct json_object *arr;

	if (!json_object_object_get_ex(root, name, &arr))
		return 0;
	if (kind == DEV_EVDEV && is_type(arr, json_type_object))
		return parse_legacy_evdev(p, arr);
	if (!is_type(arr, json_type_array))
		return report(p, "", name, kind == DEV_EVDEV ?
			      "expected an array or an object" : "expected an array");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct ruleset *set;
		int r;

		set = ruleset_add(p->cfg, kind, strdup_printf("%s[%zu]", name, i));
		if (!set)
			return -ENOMEM;
		r = parse_ruleset(p, json_object_array_get_idx(arr, i), set);
		if (r < 0 && r != -EINVAL)
			return r;
	}
	return 0;
}

/* Upper bound of the rule sets, to allocate cfg->sets once. */
static size_t count_sets(struct json_object *root)
{
	size_t n = 0;

	for (int kind = 0; kind < DEV_KIND_MAX; kind++) {
		struct json_object *v;

		if (!json_object_object_get_ex(root, section_names[kind], &v))
			continue;
		if (is_type(v, json_type_array))
			n += json_object_array_length(v);
		else if (is_type(v, json_type_object))
			n++;
	}
	return n;
}

static void check_vm_unique(struct parser *p, const char *path, size_t i)
{
	const struct vm *vms = p->cfg->vms;

	for (size_t j = 0; j < i && vms[i].name; j++)
		if (streq(vms[j].name, vms[i].name))
			report(p, path, "name", "duplicate VM name \"%s\" (also vms[%zu])",
			       vms[i].name, j);
}

static int parse_vm(struct parser *p, struct json_object *obj, size_t i)
{
	_cleanup_free_ char *path = strdup_printf("vms[%zu]", i);
	struct vm *vm = &p->cfg->vms[i];
	int r;

	if (!path)
		return -ENOMEM;
	if (!is_type(obj, json_type_object))
		return report(p, path, NULL, "expected an object");
	r = parse_members(p, obj, path, vm_keys, vm, NULL);
	if (r < 0)
		return r;
	for (const char *const *k = vm_required_keys; *k; k++)
		if (!has_key(obj, *k))
			report(p, path, *k, "missing (required)");
	check_vm_unique(p, path, i);
	return 0;
}

static int parse_vms(struct parser *p, struct json_object *root)
{
	struct config *cfg = p->cfg;
	struct json_object *arr;
	size_t n;

	if (!json_object_object_get_ex(root, "vms", &arr))
		return 0;
	if (!is_type(arr, json_type_array))
		return report(p, "", "vms", "expected an array");
	n = json_object_array_length(arr);
	if (n == 0)
		return 0;
	cfg->vms = calloc(n, sizeof(*cfg->vms));
	if (!cfg->vms)
		return -ENOMEM;
	/* Keep VMs with errors too: rule sets naming them get no extra error. */
	for (size_t i = 0; i < n; i++) {
		int r;

		cfg->n_vms++;	/* config_free() owns the slot from here */
		r = parse_vm(p, json_object_array_get_idx(arr, i), i);
		if (r < 0 && r != -EINVAL)
			return r;
	}
	return 0;
}

static int parse_general(struct parser *p, struct json_object *root)
{
	struct json_object *obj;

	if (!json_object_object_get_ex(root, "general", &obj))
		return 0;
	if (!is_type(obj, json_type_object))
		return report(p, "", "general", "expected an object");
	return parse_members(p, obj, "general", general_keys, p->cfg, NULL);
}

static int parse_root(struct parser *p, struct json_object *root)
{
	size_t n_sets;
	int r;

	if (!is_type(root, json_type_object))
		return report(p, "", NULL, "expected a JSON object at the top level");
	r = parse_members(p, root, "", root_keys, NULL, NULL);
	if (r < 0)
		return r;
	/* VMs first: rule sets refer to them. */
	r = parse_vms(p, root);
	if (r < 0 && r != -EINVAL)
		return r;
	n_sets = count_sets(root);
	if (n_sets) {
		p->cfg->sets = calloc(n_sets, sizeof(*p->cfg->sets));
		if (!p->cfg->sets)
			return -ENOMEM;
	}
	for (int kind = 0; kind < DEV_KIND_MAX; kind++) {
		r = parse_section(p, root, kind);
		if (r < 0 && r != -EINVAL)
			return r;
	}
	r = parse_general(p, root);
	return r == -EINVAL ? 0 : r;
}

static int report_syntax(struct parser *p, const char *buf, size_t len, size_t offset,
			 const char *reason)
{
	unsigned line = 1;
	size_t line_start = 0;

	if (offset > len)
		offset = len;	/* the tokener may have eaten the final NUL */
	for (size_t i = 0; i < offset; i++) {
		if (buf[i] == '\n') {
			line++;
			line_start = i + 1;
		}
	}
	p->n_errors++;
	if (p->errs)
		fprintf(p->errs, "%s:%u:%zu: JSON syntax error: %s\n", p->file, line,
			offset - line_start + 1, reason);
	return -EINVAL;
}

/* BUF is NUL-terminated at LEN: the tokener needs the NUL to end a bare number. */
static int parse_json(struct parser *p, const char *buf, size_t len,
		      struct json_object **out)
{
	_cleanup_(json_tokener_freep) struct json_tokener *tok = json_tokener_new();
	_cleanup_(json_putp) struct json_object *root = NULL;
	enum json_tokener_error err;
	size_t end;

	if (!tok)
		return -ENOMEM;
	if (strspn(buf, " \t\r\n") == len)
		return report(p, "", NULL, "empty file (expected a JSON object)");
	root = json_tokener_parse_ex(tok, buf, len + 1);
	err = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (!root && err == json_tokener_continue)
		return report_syntax(p, buf, len, len, "unexpected end of file");
	if (!root)
		return report_syntax(p, buf, len, end, json_tokener_error_desc(err));
	/* The tokener stops after the first value; anything but blanks is junk. */
	end += strspn(buf + end, " \t\r\n");
	if (end < len)
		return report_syntax(p, buf, len, end, "unexpected data after the top-level object");
	*out = root;
	root = NULL;
	return 0;
}

static int read_file(const char *file, char **out, size_t *out_len)
{
	_cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, size = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		if (len == size) {
			char *bigger;

			if (size >= CONFIG_MAX_SIZE)
				return -EFBIG;
			size = size ? size * 2 : 4096;
			bigger = realloc(buf, size + 1);
			if (!bigger)
				return -ENOMEM;
			buf = bigger;
		}
		n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	buf = NULL;
	return 0;
}

static int config_new(const char *file, struct config **out)
{
	struct config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return -ENOMEM;
	cfg->qmp_timeout_ms = 5000;
	cfg->file = strdup(file);
	if (!cfg->file) {
		free(cfg);
		return -ENOMEM;
	}
	*out = cfg;
	return 0;
}

static int config_parse(struct parser *p, const char *buf, size_t len)
{
	_cleanup_(json_putp) struct json_object *root = NULL;
	int r;

	r = parse_json(p, buf, len, &root);
	if (r < 0)
		return r;
	r = parse_root(p, root);
	if (r < 0 && r != -EINVAL)
		return r;
	if (!p->cfg->crosvm) {
		p->cfg->crosvm = strdup("crosvm");
		if (!p->cfg->crosvm)
			return -ENOMEM;
	}
	return p->n_errors ? -EINVAL : 0;
}

int config_load(const char *file, struct config **out, FILE *errs)
{
	_cleanup_(config_freep) struct config *cfg = NULL;
	_cleanup_free_ char *buf = NULL;
	struct parser p = { .file = file, .errs = errs };
	size_t len = 0;
	int r;

	*out = NULL;
	r = read_file(file, &buf, &len);
	if (r < 0) {
		if (errs)
			fprintf(errs, "%s: cannot read: %s\n", file, strerror(-r));
		return r;
	}
	r = config_new(file, &cfg);
	if (r == 0) {
		p.cfg = cfg;
		r = config_parse(&p, buf, len);
	}
	if (r < 0 && r != -EINVAL && errs)
		fprintf(errs, "%s: %s\n", file, strerror(-r));
	if (r < 0)
		return r;
	*out = cfg;
	cfg = NULL;
	return 0;
}

static void rule_free(struct rule *rule)
{
	/* Only compiled regexes have their bit set. */
	if (rule->fields & RF_VENDOR_NAME)
		regfree(&rule->vendor_name);
	if (rule->fields & RF_PRODUCT_NAME)
		regfree(&rule->product_name);
	if (rule->fields & RF_NAME)
		regfree(&rule->name);
	if (rule->fields & RF_PATH_TAG)
		regfree(&rule->path_tag);
	free(rule->path);
	free(rule->description);
	free(rule->address);
	free(rule->property);
	free(rule->value);
}

static void rules_free(struct rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rule_free(&rules[i]);
	free(rules);
}

static void ruleset_free(struct ruleset *set)
{
	free(set->path);
	free(set->description);
	free(set->target_vm);
	for (size_t i = 0; i < set->n_allowed_vms; i++)
		free(set->allowed_vms[i]);
	free(set->allowed_vms);
	free(set->tag);
	rules_free(set->allow, set->n_allow);
	rules_free(set->deny, set->n_deny);
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_sets; i++)
		ruleset_free(&cfg->sets[i]);
	free(cfg->sets);
	for (size_t i = 0; i < cfg->n_vms; i++) {
		free(cfg->vms[i].name);
		free(cfg->vms[i].socket);
	}
	free(cfg->vms);
	free(cfg->file);
	free(cfg->crosvm);
	free(cfg->state_path);
	free(cfg);
}

const struct vm *config_find_vm(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_vms; i++)
		if (streq(cfg->vms[i].name, name))
			return &cfg->vms[i];
	return NULL;
}

const char *dev_kind_name(enum dev_kind kind)
{
	static const char *const names[DEV_KIND_MAX] = {
		[DEV_USB] = "usb",
		[DEV_PCI] = "pci",
		[DEV_EVDEV] = "evdev",
	};

	return kind < DEV_KIND_MAX ? names[kind] : "unknown";
}

const char *vm_type_name(enum vm_type type)
{
	return type == VM_CROSVM ? "crosvm" : "qemu";
}
