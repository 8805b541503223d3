/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by the config loader's files, not by its users: the parser state,
 * the key tables' types, and the error reporting every parser uses.
 *
 * Every problem is reported, not just the first, so that one
 * --check-config run shows the user all of them. A parser returns -EINVAL
 * for a problem it has reported, and its caller goes on; any other -errno
 * (out of memory) is fatal. config_load() fails with -EINVAL at the end if
 * anything was reported.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <json-c/json.h>

#include "config.h"
#include "macro.h"

#define KEY_MAX_LEN 64
#define HEX_DIGITS "0123456789abcdefABCDEF"

#define PARSER_MAX_LATER 32

/*
 * Bounds on the whole config, so a helper run's time and memory stay bounded
 * whatever the file says: 100,000 regex rules cost 3.2 s and 759 MB per run.
 * Each is far above a real config (tens of rules, a few kilobytes). Past one,
 * the parse stops with -E2BIG, reported as an error of the config.
 */
#define CONFIG_MAX_RULES 4096
#define CONFIG_MAX_REGEX_TOTAL 200000	/* the sum of regex_cost() over every pattern */

/* A key the original knows and this project does not act on yet. */
struct later_key {
	const char *name;
	char *first_path;	/* where it was seen first */
	unsigned count;
	const char *why;	/* NULL: "not acted on yet" */
};

struct parser {
	const char *file;
	FILE *errs;
	unsigned flags;		/* enum config_flag */
	unsigned n_errors;
	struct config *cfg;
	size_t n_rules;		/* across all rule sets, against CONFIG_MAX_RULES */
	uint64_t regex_total;	/* against CONFIG_MAX_REGEX_TOTAL */
	/* Warned about once each, at the end, however often they occur. */
	struct later_key later[PARSER_MAX_LATER];
	size_t n_later;
	char **warnings;	/* logged at the end, if the config has no error */
	size_t n_warnings;
};

/* What a value parser returns for null, or "" in a match field: absent. */
#define VALUE_ABSENT 1

enum key_type {
	KT_IGNORED,		/* upstream key this project does not read at all */
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
	bool later;			/* parsed, but not acted on yet: warn */
	bool empty_absent;		/* "" means absent, as for upstream (a falsy value) */
	const char *why;		/* KT_IGNORED, later: why (NULL: "not acted on yet") */
};

#define K(n, t, s, m) { .name = (n), .type = (t), .offset = offsetof(s, m) }
#define K_INT(n, s, m, lo, hi) \
	{ .name = (n), .type = KT_INT, .offset = offsetof(s, m), .min = (lo), .max = (hi) }
#define K_ENUM(n, s, m, c) \
	{ .name = (n), .type = KT_ENUM, .offset = offsetof(s, m), .choices = (c) }
#define K_IGNORED(n) { .name = (n), .type = KT_IGNORED }
#define K_IGNORED_WHY(n, w) { .name = (n), .type = KT_IGNORED, .why = (w) }
/* Parsed into the config now; a later issue acts on it. */
#define K_LATER(n, t, s, m) { .name = (n), .type = (t), .offset = offsetof(s, m), .later = true }
#define K_CUSTOM(n) { .name = (n), .type = KT_CUSTOM }
#define K_END { .name = NULL }
#define K_RULE(n, t, m, f) \
	{ .name = (n), .type = (t), .offset = offsetof(struct rule, m), .field = (f), \
	  .empty_absent = true }
#define K_RULE_INT(n, m, f, hi) \
	{ .name = (n), .type = KT_INT, .offset = offsetof(struct rule, m), .field = (f), \
	  .min = 0, .max = (hi) }
#define K_RULE_COMMON \
	K("description", KT_STRING, struct rule, description), \
	K("disable", KT_DISABLE, struct rule, disabled), \
	K("enable", KT_ENABLE, struct rule, disabled)

static inline const char *path_sep(const char *path)
{
	return *path ? "." : "";
}

/* A member that is there and not null: null means absent, as in upstream's .get(). */
static inline bool get_member(struct json_object *obj, const char *name, struct json_object **val)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(obj, name, &v) || !v)
		return false;
	if (val)
		*val = v;
	return true;
}

static inline bool has_key(struct json_object *obj, const char *name)
{
	return get_member(obj, name, NULL);
}

static inline bool is_type(struct json_object *val, enum json_type type)
{
	return json_object_is_type(val, type);
}

/* Like asprintf(), which is not in plain C11, but NULL on failure. */
char *config_strdup_printf(const char *fmt, ...) _printf_(1, 2);
/* VAL as JSON, quoted and escaped, so user text cannot break the line. */
const char *config_quoted(struct json_object *val);
/* Report "FILE: PATH.KEY: message"; KEY may be NULL. Returns -EINVAL. */
int config_report(struct parser *p, const char *path, const char *key, const char *fmt, ...)
	_printf_(4, 5);
/* Warn "FILE: PATH.KEY: message" unless CONFIG_QUIET; KEY may be NULL. Logged by config_warn_flush(). */
void config_warn(struct parser *p, const char *path, const char *key, const char *fmt, ...)
	_printf_(4, 5);
/* Report NAME as unknown among KEYS, with the closest key as a hint. */
int config_report_unknown_key(struct parser *p, const char *path, const char *name,
			      const struct key *keys);
/* Note key K at PATH for the one warning about it at the end. Returns 0 or -ENOMEM. */
int config_note_later(struct parser *p, const char *path, const struct key *k);
/* Log the warnings, each noted key once, unless there were errors; free them. */
void config_warn_flush(struct parser *p);

/*
 * Check every member of OBJ against KEYS and store the plain ones into
 * DEST; KT_CUSTOM members are left to the caller. FIELDS (may be NULL)
 * collects the rule_field bits of members that parsed.
 */
int config_parse_members(struct parser *p, struct json_object *obj, const char *path,
			 const struct key *keys, void *dest, unsigned *fields);

/* VAL (a string) names a VM of the config. */
int config_check_vm_ref(struct parser *p, struct json_object *val, const char *path,
			const char *key);
/* Parse the rules of array KEY of OBJ (under PATH) into *RULES. */
int config_parse_rules(struct parser *p, struct json_object *obj, enum dev_kind kind,
		       const char *path, const char *key, struct rule **rules, size_t *n_rules);
void config_rules_free(struct rule *rules, size_t n);
/* Parse acpiPassthrough, usbAuthorization and general.api. */
int config_parse_acpi(struct parser *p, struct json_object *root);
int config_parse_usb_auth(struct parser *p, struct json_object *root);
int config_parse_api(struct parser *p, struct json_object *general);
void config_extras_free(struct config *cfg);
/* Parse usbPassthrough, pciPassthrough and evdevPassthrough of ROOT into p->cfg->sets. */
int config_parse_sections(struct parser *p, struct json_object *root);
/* config-vms.c: the "vms" list (before the rule sets, which name VMs). */
int config_parse_vms(struct parser *p, struct json_object *root);
void config_ruleset_free(struct ruleset *set);
