/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sections beside the rule sets: acpiPassthrough (vmm_args acts on it),
 * general.api (statd/api/ serves it) and usbAuthorization (lib/host/usbauth.h
 * acts on it), each validated and kept in the config.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config-private.h"

struct acpi_set {
	char *description;
	char *target_vm;
	bool disabled;
};

static const struct key acpi_set_keys[] = {
	K("description", KT_STRING, struct acpi_set, description),
	K("targetVm", KT_STRING, struct acpi_set, target_vm),
	K("disable", KT_DISABLE, struct acpi_set, disabled),
	K("enable", KT_ENABLE, struct acpi_set, disabled),
	K_CUSTOM("allow"),
	K_END
};

static const struct key acpi_table_keys[] = {
	K("description", KT_STRING, struct acpi_table, description),
	K("disable", KT_DISABLE, struct acpi_table, disabled),
	K("enable", KT_ENABLE, struct acpi_table, disabled),
	K("acpiTable", KT_STRING, struct acpi_table, file),
	K("setUser", KT_STRING, struct acpi_table, set_user),
	K("setGroup", KT_STRING, struct acpi_table, set_group),
	K_END
};

static const struct key usb_auth_keys[] = {
	K("enable", KT_BOOL, struct usb_authorization, enabled),
	K_CUSTOM("disable"),
	K("deauthorizeUnmatched", KT_BOOL, struct usb_authorization, deauthorize_unmatched),
	K_CUSTOM("hostAllow"),
	K_END
};

static const struct key api_keys[] = {
	K("enable", KT_ENABLE, struct api_config, disabled),
	K("disable", KT_DISABLE, struct api_config, disabled),
	K("host", KT_STRING, struct api_config, host),
	K_INT("port", struct api_config, port, 0, 65535),
	K_CUSTOM("transports"),
	K_CUSTOM("allowedCids"),
	K("unixSocket", KT_STRING, struct api_config, unix_socket),
	K("unixSocketUser", KT_STRING, struct api_config, unix_socket_user),
	K("unixSocketGroup", KT_STRING, struct api_config, unix_socket_group),
	K_CUSTOM("unixSocketMode"),
	K_CUSTOM("cidActions"),
	K_END
};

/* The original's API actions: what general.api.cidActions may grant. */
static const char *const api_actions[] = {
	"enable_notifications", "usb_list", "usb_attach", "usb_detach", "usb_suspend",
	"usb_resume", "pci_list", "pci_attach", "pci_detach", "pci_suspend", "pci_resume",
	"vmm_args",
};

/* The one warning each section gets. */

static size_t count_acpi_tables(struct json_object *arr)
{
	size_t n = 0;

	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *allow;

		if (get_member(json_object_array_get_idx(arr, i), "allow", &allow) &&
		    is_type(allow, json_type_array))
			n += json_object_array_length(allow);
	}
	return n;
}

static int parse_acpi_table(struct parser *p, struct json_object *obj, const char *path,
			    const struct acpi_set *set)
{
	struct acpi_table *t = &p->cfg->acpi[p->cfg->n_acpi];
	int r;

	t->path = strdup(path);
	if (!t->path)
		return -ENOMEM;
	p->cfg->n_acpi++;	/* config_free() owns it from here */
	if (!is_type(obj, json_type_object))
		return config_report(p, path, NULL, "expected an object");
	r = config_parse_members(p, obj, path, acpi_table_keys, t, NULL);
	if (r < 0)
		return r;
	t->disabled |= set->disabled;
	if (set->target_vm) {
		t->target_vm = strdup(set->target_vm);
		if (!t->target_vm)
			return -ENOMEM;
	}
	return 0;
}

static int parse_acpi_set(struct parser *p, struct json_object *obj, const char *path)
{
	struct acpi_set set = { 0 };
	struct json_object *allow, *target;
	int r;

	if (!is_type(obj, json_type_object))
		return config_report(p, path, NULL, "expected an object");
	r = config_parse_members(p, obj, path, acpi_set_keys, &set, NULL);
	if (r == 0 && set.target_vm && get_member(obj, "targetVm", &target))
		config_check_vm_ref(p, target, path, "targetVm");
	if (r == 0 && get_member(obj, "allow", &allow) && !is_type(allow, json_type_array))
		r = config_report(p, path, "allow", "expected an array");
	else if (r == 0 && get_member(obj, "allow", &allow)) {
		for (size_t i = 0; i < json_object_array_length(allow); i++) {
			_cleanup_free_ char *tpath = config_strdup_printf("%s.allow[%zu]", path, i);

			r = tpath ? parse_acpi_table(p, json_object_array_get_idx(allow, i), tpath,
						     &set) : -ENOMEM;
			if (r < 0 && r != -EINVAL)
				break;
		}
	}
	free(set.description);
	free(set.target_vm);
	return r;
}

int config_parse_acpi(struct parser *p, struct json_object *root)
{
	struct json_object *arr;
	size_t n;
	int r;

	if (!get_member(root, "acpiPassthrough", &arr))
		return 0;
	if (!is_type(arr, json_type_array))
		return config_report(p, "", "acpiPassthrough", "expected an array");
	n = count_acpi_tables(arr);
	if (n) {
		p->cfg->acpi = calloc(n, sizeof(*p->cfg->acpi));
		if (!p->cfg->acpi)
			return -ENOMEM;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		_cleanup_free_ char *path = config_strdup_printf("acpiPassthrough[%zu]", i);

		r = path ? parse_acpi_set(p, json_object_array_get_idx(arr, i), path) : -ENOMEM;
		if (r < 0 && r != -EINVAL)
			return r;
	}
	return 0;
}

int config_parse_usb_auth(struct parser *p, struct json_object *root)
{
	struct usb_authorization *a = &p->cfg->usb_auth;
	struct json_object *obj, *v;
	bool disable;
	int r;

	if (!get_member(root, "usbAuthorization", &obj))
		return 0;
	if (!is_type(obj, json_type_object))
		return config_report(p, "", "usbAuthorization", "expected an object");
	r = config_parse_members(p, obj, "usbAuthorization", usb_auth_keys, a, NULL);
	if (r < 0)
		return r;
	/* Upstream: "enable" wins; else "disable"; else off. */
	if (get_member(obj, "disable", &v) && !has_key(obj, "enable")) {
		if (!is_type(v, json_type_boolean))
			config_report(p, "usbAuthorization", "disable", "expected true or false");
		disable = json_object_get_boolean(v);
		a->enabled = !disable;
	}
	return config_parse_rules(p, obj, DEV_USB, "usbAuthorization", "hostAllow",
				  &a->host_allow, &a->n_host_allow);
}

static int parse_transports(struct parser *p, struct json_object *arr, struct api_config *api)
{
	static const char *const names[] = { "tcp", "vsock", "unix" };

	if (!is_type(arr, json_type_array))
		return config_report(p, "general.api", "transports", "expected an array of strings");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		char key[KEY_MAX_LEN];
		size_t j;

		for (j = 0; j < ARRAY_SIZE(names); j++)
			if (is_type(v, json_type_string) && streq(json_object_get_string(v), names[j]))
				break;
		snprintf(key, sizeof(key), "transports[%zu]", i);
		if (j == ARRAY_SIZE(names))
			config_report(p, "general.api", key, "unknown transport %s (expected \"tcp\", "
				      "\"vsock\" or \"unix\")", config_quoted(v));
		else
			api->transports |= 1u << j;
	}
	return 0;
}

static int parse_cids(struct parser *p, struct json_object *arr, struct api_config *api)
{
	size_t n;

	if (!is_type(arr, json_type_array))
		return config_report(p, "general.api", "allowedCids", "expected an array of integers");
	n = json_object_array_length(arr);
	if (n == 0)
		return 0;
	api->allowed_cids = calloc(n, sizeof(*api->allowed_cids));
	if (!api->allowed_cids)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		char key[KEY_MAX_LEN];

		snprintf(key, sizeof(key), "allowedCids[%zu]", i);
		if (!is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
		    json_object_get_int64(v) > UINT32_MAX)
			config_report(p, "general.api", key, "expected a vsock CID (an integer from "
				      "0 to 4294967295), got %s", config_quoted(v));
		else
			api->allowed_cids[api->n_allowed_cids++] = json_object_get_int64(v);
	}
	return 0;
}

/* Upstream passes it to int(mode, 8): "0660", "660" or "0o660". */
static int parse_mode(struct parser *p, struct json_object *v, struct api_config *api)
{
	const char *s = is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
	char *end;
	long mode;

	if (s && s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
		s += 2;
	if (!s || !*s || strspn(s, "01234567") != strlen(s) ||
	    (mode = strtol(s, &end, 8)) > 07777)
		return config_report(p, "general.api", "unixSocketMode", "expected a string of "
				     "octal digits such as \"0660\", got %s", config_quoted(v));
	api->unix_socket_mode = (int)mode;
	return 0;
}

/* One "CID": ["action", ...] member of general.api.cidActions. */
static int parse_grant(struct parser *p, const char *key, struct json_object *arr,
		       struct api_cid_grant *g)
{
	_cleanup_free_ char *path = config_strdup_printf("general.api.cidActions.%s", key);
	size_t n;
	char *end;
	unsigned long long cid;

	if (!path)
		return -ENOMEM;
	errno = 0;
	cid = strtoull(key, &end, 10);
	if (!*key || strspn(key, "0123456789") != strlen(key) || errno || cid > UINT32_MAX)
		return config_report(p, "general.api.cidActions", NULL, "key \"%.32s\" is not a "
				     "vsock CID (decimal digits, at most 4294967295)", key);
	if (!is_type(arr, json_type_array))
		return config_report(p, path, NULL, "expected an array of action names");
	g->cid = (unsigned)cid;
	n = json_object_array_length(arr);
	g->actions = calloc(n + 1, sizeof(*g->actions));
	if (!g->actions)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		const char *name = is_type(v, json_type_string) ? json_object_get_string(v) : "";
		char ipath[KEY_MAX_LEN + 48];
		size_t j;

		for (j = 0; j < ARRAY_SIZE(api_actions); j++)
			if (streq(name, api_actions[j]))
				break;
		if (j == ARRAY_SIZE(api_actions)) {
			snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
			config_report(p, ipath, NULL, "unknown action %s (expected an action of the "
				      "API: usb_list, usb_attach, pci_list, vmm_args, ...)",
				      config_quoted(v));
			continue;
		}
		g->actions[g->n_actions] = strdup(name);
		if (!g->actions[g->n_actions])
			return -ENOMEM;
		g->n_actions++;
	}
	return 0;
}

static int parse_grants(struct parser *p, struct json_object *obj, struct api_config *api)
{
	size_t n = 0;
	int r = 0;

	if (!is_type(obj, json_type_object))
		return config_report(p, "general.api", "cidActions", "expected an object "
				     "mapping vsock CIDs to arrays of action names");
	api->grants = calloc(json_object_object_length(obj) + 1, sizeof(*api->grants));
	if (!api->grants)
		return -ENOMEM;
	json_object_object_foreach(obj, key, val) {
		api->n_grants = ++n;	/* config_free() owns it from here */
		r = parse_grant(p, key, val, &api->grants[n - 1]);
		if (r < 0 && r != -EINVAL)
			return r;
	}
	return r;
}

int config_parse_api(struct parser *p, struct json_object *general)
{
	struct api_config *api = &p->cfg->api;
	struct json_object *obj, *v;
	int r;

	if (!get_member(general, "api", &obj))
		return 0;
	if (!is_type(obj, json_type_object))
		return config_report(p, "general", "api", "expected an object");
	api->present = true;
	r = config_parse_members(p, obj, "general.api", api_keys, api, NULL);
	if (r == 0 && get_member(obj, "transports", &v))
		r = parse_transports(p, v, api);
	if ((r == 0 || r == -EINVAL) && get_member(obj, "allowedCids", &v))
		r = parse_cids(p, v, api);
	if ((r == 0 || r == -EINVAL) && get_member(obj, "unixSocketMode", &v))
		r = parse_mode(p, v, api);
	if ((r == 0 || r == -EINVAL) && get_member(obj, "cidActions", &v))
		r = parse_grants(p, v, api);
	return r;
}

bool config_api_cid_allowed(const struct api_config *api, unsigned cid)
{
	/* As the original: no list, or an empty one, lets every CID in. */
	if (api->n_allowed_cids == 0)
		return true;
	for (size_t i = 0; i < api->n_allowed_cids; i++)
		if (api->allowed_cids[i] == cid)
			return true;
	return false;
}

void config_extras_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_acpi; i++) {
		struct acpi_table *t = &cfg->acpi[i];

		free(t->path);
		free(t->description);
		free(t->target_vm);
		free(t->file);
		free(t->set_user);
		free(t->set_group);
	}
	free(cfg->acpi);
	config_rules_free(cfg->usb_auth.host_allow, cfg->usb_auth.n_host_allow);
	free(cfg->api.host);
	free(cfg->api.allowed_cids);
	free(cfg->api.unix_socket);
	free(cfg->api.unix_socket_user);
	free(cfg->api.unix_socket_group);
	for (size_t i = 0; i < cfg->api.n_grants; i++) {
		for (size_t j = 0; j < cfg->api.grants[i].n_actions; j++)
			free(cfg->api.grants[i].actions[j]);
		free(cfg->api.grants[i].actions);
	}
	free(cfg->api.grants);
}
