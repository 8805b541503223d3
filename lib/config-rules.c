/* SPDX-License-Identifier: Apache-2.0 */
/* Rule sets and their rules: usbPassthrough, pciPassthrough, evdevPassthrough. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "config-private.h"

#define LEGACY_EVDEV_NOTE "(legacy evdevPassthrough form)"

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

static const char *const section_names[DEV_KIND_MAX] = {
	[DEV_USB] = "usbPassthrough",
	[DEV_PCI] = "pciPassthrough",
	[DEV_EVDEV] = "evdevPassthrough",
};

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
		return config_report(p, rule->path, NULL, "expected an object");
	r = config_parse_members(p, obj, rule->path, rule_keys[kind], rule, &rule->fields);
	if (r < 0)
		return r;
	if (!has_match_key(obj, rule_keys[kind]))
		config_report(p, rule->path, NULL, "rule has no field to match");
	if (kind == DEV_EVDEV && has_key(obj, "value") && !has_key(obj, "property"))
		config_report(p, rule->path, "value", "needs \"property\"");
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
		return config_report(p, set->path, key, "expected an array");
	n = json_object_array_length(arr);
	if (n == 0)
		return 0;
	*rules = calloc(n, sizeof(**rules));
	if (!*rules)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct rule *rule = &(*rules)[i];
		int r;

		rule->path = config_strdup_printf("%s.%s[%zu]", set->path, key, i);
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
int config_check_vm_ref(struct parser *p, struct json_object *val, const char *path,
			const char *key)
{
	if (config_find_vm(p->cfg, json_object_get_string(val)))
		return 0;
	return config_report(p, path, key, "no VM named %s in vms", config_quoted(val));
}

static int parse_allowed_vm(struct parser *p, struct json_object *val,
			    struct ruleset *set, size_t i)
{
	char key[KEY_MAX_LEN];
	char **name = &set->allowed_vms[set->n_allowed_vms];

	snprintf(key, sizeof(key), "allowedVms[%zu]", i);
	if (!is_type(val, json_type_string))
		return config_report(p, set->path, key, "expected a string");
	*name = strdup(json_object_get_string(val));
	if (!*name)
		return -ENOMEM;
	set->n_allowed_vms++;
	return config_check_vm_ref(p, val, set->path, key);
}

static int parse_allowed_vms(struct parser *p, struct json_object *obj,
			     struct ruleset *set)
{
	struct json_object *arr;
	size_t n;

	if (!json_object_object_get_ex(obj, "allowedVms", &arr))
		return 0;
	if (!is_type(arr, json_type_array))
		return config_report(p, set->path, "allowedVms", "expected an array of strings");
	n = json_object_array_length(arr);
	if (n == 0)
		return config_report(p, set->path, "allowedVms", "expected at least one VM name");
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
		config_report(p, set->path, NULL, "\"targetVm\" and \"allowedVms\" are mutually exclusive");
	else if (!has_target && !has_allowed)
		config_report(p, set->path, NULL, "needs \"targetVm\" or \"allowedVms\"");
	if (set->target_vm)
		config_check_vm_ref(p, target, set->path, "targetVm");
}

static int parse_ruleset(struct parser *p, struct json_object *obj, struct ruleset *set)
{
	int r;

	if (!is_type(obj, json_type_object))
		return config_report(p, set->path, NULL, "expected an object");
	r = config_parse_members(p, obj, set->path, ruleset_keys, set, NULL);
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
		rule->path = config_strdup_printf("%s.allow[%zu]", set->path, i);
		rule->description = config_strdup_printf("%s=1 " LEGACY_EVDEV_NOTE,
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
	r = config_parse_members(p, obj, set->path, legacy_evdev_keys, set, NULL);
	if (r < 0)
		return r;
	if (!json_object_object_get_ex(obj, "targetVm", &target))
		config_report(p, set->path, "targetVm", "missing (required)");
	else if (set->target_vm)
		config_check_vm_ref(p, target, set->path, "targetVm");
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
		return config_report(p, "", name, kind == DEV_EVDEV ?
			      "expected an array or an object" : "expected an array");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct ruleset *set;
		int r;

		set = ruleset_add(p->cfg, kind, config_strdup_printf("%s[%zu]", name, i));
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

void config_ruleset_free(struct ruleset *set)
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

int config_parse_sections(struct parser *p, struct json_object *root)
{
	size_t n_sets = count_sets(root);

	if (n_sets) {
		p->cfg->sets = calloc(n_sets, sizeof(*p->cfg->sets));
		if (!p->cfg->sets)
			return -ENOMEM;
	}
	for (int kind = 0; kind < DEV_KIND_MAX; kind++) {
		int r = parse_section(p, root, kind);

		if (r < 0 && r != -EINVAL)
			return r;
	}
	return 0;
}
