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
	K_RULE("driverPath", KT_REGEX, driver_path, RF_DRIVER_PATH),
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

/* "" is no VM, as upstream's falsy test has it. */
#define K_TARGET_VM \
	{ .name = "targetVm", .type = KT_STRING, .offset = offsetof(struct ruleset, target_vm), \
	  .empty_absent = true }

static const struct key ruleset_keys[] = {
	K("description", KT_STRING, struct ruleset, description),
	K_TARGET_VM,
	K_CUSTOM("allowedVms"),
	K_CUSTOM("allow"),
	K_CUSTOM("deny"),
	K("disable", KT_DISABLE, struct ruleset, disabled),
	K("enable", KT_ENABLE, struct ruleset, disabled),
	K("tag", KT_STRING, struct ruleset, tag),
	K("skipOnSuspend", KT_BOOL, struct ruleset, skip_on_suspend),	/* vhotplugctl suspend */
	/* Upstream reads these on PCI rule sets only; harmless elsewhere. */
	K("pciIommuAddAll", KT_BOOL, struct ruleset, pci.iommu_add_all),
	K("pciIommuSkipIfShared", KT_BOOL, struct ruleset, pci.iommu_skip_if_shared),
	K("autoOvmf", KT_BOOL, struct ruleset, pci.auto_ovmf),
	K("qemuUseRootBus", KT_BOOL, struct ruleset, pci.qemu_use_root_bus),
	K_LATER("crosvmUseRootBus", KT_BOOL, struct ruleset, pci.crosvm_use_root_bus),
	K_END
};

/* The older "evdevPassthrough": { ... } form. */
static const struct key legacy_evdev_keys[] = {
	K("description", KT_STRING, struct ruleset, description),
	K_TARGET_VM,
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

/*
 * Checked on the JSON, so that a field with a bad value (reported) does
 * not count as absent; null and "" do, as upstream tests them for truth.
 */
static bool has_match_value(struct json_object *obj, const struct key *keys)
{
	for (const struct key *k = keys; k->name; k++) {
		struct json_object *v;

		if (!k->field || !get_member(obj, k->name, &v))
			continue;
		if (!(is_type(v, json_type_string) && !*json_object_get_string(v)))
			return true;
	}
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
	if (kind == DEV_EVDEV && rule->value && !rule->property)
		config_warn(p, rule->path, "value", "ignored: there is no \"property\" to compare "
			    "it with");
	if (!has_match_value(obj, rule_keys[kind]) && !rule->disabled)
		config_warn(p, rule->path, NULL, "matches nothing: no field to match is set "
			    "(absent, null or \"\")");
	return 0;
}

int config_parse_rules(struct parser *p, struct json_object *obj, enum dev_kind kind,
		       const char *path, const char *key, struct rule **rules, size_t *n_rules)
{
	struct json_object *arr;
	size_t n;

	if (!get_member(obj, key, &arr))
		return 0;
	if (!is_type(arr, json_type_array))
		return config_report(p, path, key, "expected an array");
	n = json_object_array_length(arr);
	if (n == 0)
		return 0;
	p->n_rules += n;
	if (p->n_rules > CONFIG_MAX_RULES) {
		config_report(p, path, key, "more than %d rules in the config, the most it may have",
			      CONFIG_MAX_RULES);
		return -E2BIG;
	}
	*rules = calloc(n, sizeof(**rules));
	if (!*rules)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct rule *rule = &(*rules)[i];
		int r;

		rule->path = config_strdup_printf("%s%s%s[%zu]", path, path_sep(path), key, i);
		if (!rule->path)
			return -ENOMEM;
		++*n_rules;
		r = parse_rule(p, json_object_array_get_idx(arr, i), kind, rule);
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

	if (!get_member(obj, "allowedVms", &arr))
		return 0;
	if (!is_type(arr, json_type_array))
		return config_report(p, set->path, "allowedVms", "expected an array of strings");
	n = json_object_array_length(arr);
	if (n == 0)
		return 0;	/* as if absent, as upstream has it */
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

static void allowed_vms_free(struct ruleset *set)
{
	for (size_t i = 0; i < set->n_allowed_vms; i++)
		free(set->allowed_vms[i]);
	free(set->allowed_vms);
	set->allowed_vms = NULL;
	set->n_allowed_vms = 0;
}

/* Upstream's order: targetVm, else allowedVms, else log and skip the set. */
static void check_target(struct parser *p, struct json_object *obj, struct ruleset *set)
{
	struct json_object *target;

	if (set->target_vm && get_member(obj, "targetVm", &target))
		config_check_vm_ref(p, target, set->path, "targetVm");
	if (set->target_vm && set->allowed_vms) {
		config_warn(p, set->path, NULL, "has both \"targetVm\" and \"allowedVms\": "
			    "\"targetVm\" is used, as the original vhotplug does");
		allowed_vms_free(set);
	} else if (!set->target_vm && !set->allowed_vms) {
		set->no_target = true;
		if (!set->disabled)
			config_warn(p, set->path, NULL, "has neither \"targetVm\" nor "
				    "\"allowedVms\": skipped, as the original vhotplug does");
	}
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
	r = config_parse_rules(p, obj, set->kind, set->path, "allow", &set->allow, &set->n_allow);
	if (r < 0 && r != -EINVAL)
		return r;
	r = config_parse_rules(p, obj, set->kind, set->path, "deny", &set->deny, &set->n_deny);
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
	if (set->target_vm && get_member(obj, "targetVm", &target)) {
		config_check_vm_ref(p, target, set->path, "targetVm");
	} else {
		set->no_target = true;
		if (!set->disabled)
			config_warn(p, set->path, NULL, "has no \"targetVm\": skipped, as the "
				    "original vhotplug does");
	}
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

	if (!get_member(root, name, &arr))
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

		if (!get_member(root, section_names[kind], &v))
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
	if (rule->fields & RF_DRIVER_PATH)
		regfree(&rule->driver_path);
	free(rule->path);
	free(rule->description);
	free(rule->address);
	free(rule->property);
	free(rule->value);
}

void config_rules_free(struct rule *rules, size_t n)
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
	allowed_vms_free(set);
	free(set->tag);
	config_rules_free(set->allow, set->n_allow);
	config_rules_free(set->deny, set->n_deny);
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
