/* SPDX-License-Identifier: Apache-2.0 */
/* Parts of a loaded config as JSON: vhotplugctl prints them, intake stores them. */
#include <json-c/json.h>

#include "config-json.h"

struct json_object *config_allowed_vms_json(const struct ruleset *set)
{
	struct json_object *a;

	if (!set || !set->n_allowed_vms)
		return NULL;
	a = json_object_new_array();
	for (size_t i = 0; a && i < set->n_allowed_vms; i++)
		json_object_array_add(a, json_object_new_string(set->allowed_vms[i]));
	return a;
}
